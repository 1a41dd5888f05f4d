"""Journals in SIE 4: names from the source in #KONTO and #OBJEKT, and a journal changed after delivery
reversed and booked again in the period it belongs to (issue 9, points 3 and 9)."""
from datetime import date
from decimal import Decimal

import pytest

from portal.exporting import services
from portal.exporting.formats.sie4 import read_sie4
from portal.extensions import db
from portal.models import CostCentre, CostUnit, JournalLine

from tests import factories
from tests.factories import files_of, read_csv, read_jsonl, start_and_run

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


def test_a_partly_changed_journal_in_an_incremental_sie4_run_is_reversed_and_booked_again(ctx):
    """Point 3: the changed lines' delivered amounts are reversed and the new ones booked, in the period
    they belong to; the voucher balances (before, an incremental run of a partly changed journal was
    refused as unbalanced)."""
    zorg, _thuis, _test = factories.companies()
    factories.journal(zorg, "PR-2026-11", NOVEMBER, [("4000", "1500.00", "0.00", "Gross wages"),
                                                   ("4100", "300.00", "0.00", "Employer costs"),
                                                   ("1600", "0.00", "1800.00", "Net wages")])
    factories.journal(zorg, "PR-2026-11B", NOVEMBER, [("4000", "100.00", "0.00", "Correction October"),
                                                    ("1600", "0.00", "100.00", "Correction October")],
                    about=date(2026, 10, 1))
    db.session.commit()
    profile = _sie_profile()
    first = start_and_run(profile, "production")
    assert first.status == "exported"
    lines = {(l.payroll_run_ref, l.line_no): l for l in db.session.execute(db.select(JournalLine)).scalars()}
    lines[("PR-2026-11", 1)].debit = Decimal("1600.00")
    lines[("PR-2026-11", 3)].credit = Decimal("1900.00")
    lines[("PR-2026-11B", 1)].debit = Decimal("120.00")
    lines[("PR-2026-11B", 2)].credit = Decimal("120.00")
    db.session.commit()
    second = start_and_run(profile, "production")
    assert second.status == "exported", second.error_reason
    [sie] = files_of(second)
    vouchers = read_sie4(sie.path).vouchers
    by_date = {v.date.strftime("%Y%m"): sorted((t.account, t.amount) for t in v.transactions) for v in vouchers}
    assert by_date["202611"] == sorted([("4000", Decimal("-1500.00")), ("4000", Decimal("1600.00")),
                                        ("1600", Decimal("1800.00")), ("1600", Decimal("-1900.00"))])
    assert by_date["202610"] == sorted([("4000", Decimal("-100.00")), ("4000", Decimal("120.00")),
                                        ("1600", Decimal("100.00")), ("1600", Decimal("-120.00"))])


def test_correction_lines_moved_to_another_period_are_reversed_in_theirs_and_booked_in_the_new_one(ctx):
    """Seed 002 in SIE 4: the October voucher reverses what was delivered for October, the September
    voucher books the new version; each balances (the file is not refused)."""
    zorg, _thuis, _test = factories.companies()
    factories.journal(zorg, "PR-2026-11", NOVEMBER, [("4000", "1500.00", "0.00", "Gross wages"),
                                                   ("1600", "0.00", "1500.00", "Net wages")])
    factories.journal(zorg, "PR-2026-11B", NOVEMBER, [("4000", "100.00", "0.00", "Correction"),
                                                    ("1600", "0.00", "100.00", "Correction")],
                      about=date(2026, 10, 1))
    db.session.commit()
    profile = _sie_profile()
    assert start_and_run(profile, "production").status == "exported"
    db.session.execute(db.update(JournalLine).where(JournalLine.payroll_run_ref == "PR-2026-11B")
                       .values(about_period=date(2026, 9, 1)))
    db.session.commit()
    second = start_and_run(profile, "production")
    assert second.status == "exported", second.error_reason
    [sie] = files_of(second)
    by_period = {v.date.strftime("%Y%m"): sorted((t.account, t.amount) for t in v.transactions)
                 for v in read_sie4(sie.path).vouchers}
    assert by_period == {"202610": [("1600", Decimal("100.00")), ("4000", Decimal("-100.00"))],
                         "202609": [("1600", Decimal("-100.00")), ("4000", Decimal("100.00"))]}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_changed_journal_line_in_csv_and_jsonl_is_the_reversal_and_the_new_version(ctx, fmt):
    """The README's table: files get the reversal of what was delivered (mutation ``reversal``) and the
    new version (``changed``), so the file's lines of the period still balance."""
    zorg, _thuis, _test = factories.companies()
    factories.journal(zorg, "PR-2026-11", NOVEMBER, [("4000", "1500.00", "0.00", "Gross wages"),
                                                   ("1600", "0.00", "1500.00", "Net wages")])
    db.session.commit()
    profile = services.create_profile(name=f"Journals {fmt}", export_type="journal_entries", provider="file",
                                      options={"format": fmt}, sync_type="incremental_all")
    assert start_and_run(profile, "production").status == "exported"
    for line in db.session.execute(db.select(JournalLine)).scalars():
        line.debit, line.credit = line.debit and Decimal("1600.00"), line.credit and Decimal("1600.00")
    db.session.commit()
    second = start_and_run(profile, "production")
    assert second.status == "exported", second.error_reason
    [out] = files_of(second)
    names = ("mutation", "account", "debit", "credit") if fmt == "jsonl" else ("Mutation", "Account", "Debit",
                                                                               "Credit")    # CSV: the headers
    read = read_jsonl if fmt == "jsonl" else read_csv
    found = sorted((r[names[0]], r[names[1]], Decimal(str(r[names[2]])), Decimal(str(r[names[3]])))
                   for r in read(out.path))
    assert found == sorted([("reversal", "4000", Decimal("0.00"), Decimal("1500.00")),
                            ("reversal", "1600", Decimal("1500.00"), Decimal("0.00")),
                            ("changed", "4000", Decimal("1600.00"), Decimal("0.00")),
                            ("changed", "1600", Decimal("0.00"), Decimal("1600.00"))])
