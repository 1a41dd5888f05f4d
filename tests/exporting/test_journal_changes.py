"""Journals in SIE 4: names from the source in #KONTO and #OBJEKT, and a journal changed after delivery
reversed and booked again in the period it belongs to (issue 9, points 3 and 9)."""
from datetime import date
from decimal import Decimal

from portal.exporting import services
from portal.exporting.formats.sie4 import read_sie4
from portal.extensions import db
from portal.models import CostCentre, CostUnit, JournalLine

from tests import factories
from tests.factories import files_of, start_and_run

NOVEMBER = date(2026, 11, 1)


def _sie_profile(sync_type="incremental_all"):
    return services.create_profile(name="Journals SIE", export_type="journal_entries", provider="file",
                                   options={"format": "sie4"}, sync_type=sync_type)


def test_sie4_konto_and_objekt_carry_the_names_from_the_source(ctx):
    zorg, _thuis, _test = factories.companies()
    centre = CostCentre(company_id=zorg.id, code="110", name="Home care North")
    unit = CostUnit(company_id=zorg.id, code="P01", name="Personal care")
    db.session.add_all([centre, unit])
    db.session.flush()
    lines = factories.journal(zorg, "PR-2026-11", NOVEMBER, [("4000", "1500.00", "0.00", "Gross wages"),
                                                           ("1600", "0.00", "1500.00", "Net wages")])
    lines[0].account_name, lines[0].cost_centre_id, lines[0].cost_unit_id = "Gross wages", centre.id, unit.id
    lines[1].account_name = None              # no name in the source: the code stands in
    db.session.commit()
    run = start_and_run(_sie_profile("full"), "test")
    [sie] = files_of(run)
    document = read_sie4(sie.path)
    assert document.accounts == {"4000": "Gross wages", "1600": "1600"}
    assert document.objects == {(1, "110"): "Home care North", (2, "P01"): "Personal care"}
