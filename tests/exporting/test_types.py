"""Export types: journals (one per company and period, corrections in the period they correct), the
test-company rule, unbalanced journals, overlapping hours, missing values, purchase orders, products."""
from datetime import date, datetime
from decimal import Decimal

import pytest

from portal.exporting import services
from portal.exporting.errors import ExportError
from portal.exporting.formats.sie4 import read_sie4
from portal.exporting.report import report
from portal.extensions import db
from portal.models import Run

from tests import factories
from tests.factories import files_of, rows_of, start_and_run

NOV, OCT = date(2026, 11, 1), date(2026, 10, 1)


def _journals(zorg, thuis=None):
    factories.journal(zorg, "PR-2026-11", NOV, [("4000", "1000.00", "0", "Salaries"), ("2910", "0", "1000.00", "Net pay")])
    # Corrections about October, came with November's payroll run.
    factories.journal(zorg, "PR-2026-11C", NOV, [("4000", "50.00", "0", "Overtime October"),
                                               ("2910", "0", "50.00", "Net pay October")], about=OCT)
    if thuis is not None:
        factories.journal(thuis, "PR-T-2026-11", NOV, [("4000", "200.00", "0", "Salaries"),
                                                     ("2910", "0", "200.00", "Net pay")])


def test_journal_corrections_are_booked_in_the_period_they_correct(ctx):
    zorg, thuis, _ = factories.companies()
    _journals(zorg, thuis)
    db.session.commit()
    profile = services.create_profile(name="Journals", export_type="journal_entries",
                                      options={"format": "jsonl"})
    run = start_and_run(profile, "test")
    assert run.status == "exported", run.error_reason
    rows = rows_of(run)
    journals = {(r["company_code"], r["journal_period"]) for r in rows}
    assert journals == {("ZORG", "2026-11-01"), ("ZORG", "2026-10-01"), ("THUIS", "2026-11-01")}
    corrections = [r for r in rows if r["is_correction"]]
    assert {r["journal_period"] for r in corrections} == {"2026-10-01"}
    assert {r["payroll_run_ref"] for r in corrections} == {"PR-2026-11C"}
    assert all(r["run_period"] == "2026-11-01" for r in corrections)
    # Rows come grouped per journal (company and period).
    order = [(r["company_code"], r["journal_period"]) for r in rows]
    assert order == sorted(order, key=order.index) and len(set(order)) == 3
    seen = []
    for key in order:
        if not seen or seen[-1] != key:
            assert key not in seen
            seen.append(key)


def test_journals_as_sie4_one_voucher_per_period_read_back(ctx):
    zorg, thuis, _ = factories.companies()
    _journals(zorg, thuis)
    db.session.commit()
    profile = services.create_profile(name="Journals SIE", export_type="journal_entries",
                                      options={"format": "sie4"})
    run = start_and_run(profile, "production")
    assert run.status == "exported", run.error_reason
    files = files_of(run)
    assert len(files) == 2                 # one SIE file per company
    zorg_file = [f for f in files if "zorg" in f.name][0]
    document = read_sie4(zorg_file.path)
    assert document.first("#SIETYP") == ["4"]
    assert document.first("#FORMAT") == ["PC8"]
    assert [v.date for v in document.vouchers] == [OCT, NOV]
    october = document.vouchers[0]
    assert "PR-2026-11C" in october.text
    assert sorted(t.amount for t in october.transactions) == [Decimal("-50.00"), Decimal("50.00")]
    assert all("PR-2026-11C" in t.text for t in october.transactions)
    assert all(v.balance == 0 for v in document.vouchers)
    november = document.vouchers[1]
    assert {t.account: t.amount for t in november.transactions} == {"4000": Decimal("1000.00"),
                                                                     "2910": Decimal("-1000.00")}


def test_journals_refused_for_a_test_company(ctx):
    zorg, _, test = factories.companies()
    _journals(zorg)
    factories.journal(test, "PR-TEST-11", NOV, [("4000", "10.00", "0", "x"), ("2910", "0", "10.00", "y")])
    db.session.commit()
    scoped = services.create_profile(name="Test company", export_type="journal_entries",
                                     options={"format": "jsonl"}, company_id=test.id)
    with pytest.raises(ExportError) as refused:
        services.start_run(scoped.id, mode="production")
    assert refused.value.code == "test_company_refused"
    assert test.name in str(refused.value)
    assert db.session.query(Run).count() == 0
    # A profile for every company leaves the test company out and says so.
    every = services.create_profile(name="All", export_type="journal_entries", options={"format": "jsonl"})
    run = start_and_run(every, "test")
    assert {r["company_code"] for r in rows_of(run)} == {"ZORG"}
    items = report(run.id)["items"]
    assert [(i["code"], i["severity"]) for i in items] == [("test_company_left_out", "info")]
    assert test.name in items[0]["message"]
    # Expected, so information: nobody must act, no error counted, no red triangle.
    assert run.counts["errors"] == 0 and run.status == "exported"


def test_unbalanced_journal_is_reported_and_not_exported(ctx):
    zorg, thuis, _ = factories.companies()
    _journals(zorg)
    factories.journal(thuis, "PR-T-11", NOV, [("4000", "200.00", "0", "Salaries"), ("2910", "0", "150.00", "Net")])
    db.session.commit()
    profile = services.create_profile(name="J", export_type="journal_entries", options={"format": "jsonl"})
    run = start_and_run(profile, "test")
    assert run.status == "exported"            # the unbalanced journal is an error, not a row left
    assert "THUIS" not in {r["company_code"] for r in rows_of(run)}
    item = [i for i in report(run.id)["items"] if i["code"] == "journal_unbalanced"][0]
    assert item["params"] == {"company": "THUIS", "period": "2026-11-01", "debit": "200.00", "credit": "150.00"}


def test_journal_balanced_to_the_cent_is_not_called_unbalanced(ctx):
    # Amounts whose binary floating-point sums differ (0.10 + 0.20 != 0.30 in a float) still balance.
    zorg, _, _ = factories.companies()
    factories.journal(zorg, "PR-F-11", NOV, [("4000", "0.10", "0", "a"), ("4000", "0.20", "0", "b"),
                                           ("2910", "0", "0.30", "c")])
    db.session.commit()
    profile = services.create_profile(name="J", export_type="journal_entries", options={"format": "jsonl"})
    run = start_and_run(profile, "test")
    assert run.status == "exported", report(run.id)["items"]
    assert len(rows_of(run)) == 3


def test_overlapping_hours_name_both_rows(ctx):
    zorg, _, _ = factories.companies()
    anna = factories.employee(zorg)
    regs = factories.hours(zorg, anna, [(datetime(2026, 11, 2, 7, 0), datetime(2026, 11, 2, 11, 0)),
                                      (datetime(2026, 11, 2, 10, 0), datetime(2026, 11, 2, 14, 0)),
                                      (datetime(2026, 11, 2, 14, 0), datetime(2026, 11, 2, 16, 0))])
    other = factories.employee(zorg, "E002", "Bo")
    factories.hours(zorg, other, [(datetime(2026, 11, 2, 7, 0), datetime(2026, 11, 2, 11, 0))])
    db.session.commit()
    profile = services.create_profile(name="Hours", export_type="hours", options={"format": "jsonl"})
    run = start_and_run(profile, "test")
    assert run.status == "exported"
    assert len(rows_of(run)) == 4          # a warning, not an error: the hours are still exported
    items = report(run.id)["items"]
    assert [i["code"] for i in items] == ["hours_overlap"]
    message = items[0]["message"]
    assert f"H{regs[0].id}" in message and f"H{regs[1].id}" in message and "E001" in message
    assert items[0]["severity"] == "warning"
    # Local time (Amsterdam, UTC+1 in November) in the message.
    assert "08:00" in message
    # In the reader's locale, not ISO: "02/11/2026, 08:00–12:00" (British English), Danish "02.11.2026 08.00–12.00".
    assert f"H{regs[0].id} (02/11/2026, 08:00–12:00)" in message, message
    danish = report(run.id, locale="da")["items"][0]["message"]
    assert f"H{regs[0].id} (02.11.2026 08.00–12.00)" in danish and f"H{regs[1].id} (02.11.2026 11.00–15.00)" in danish, danish
    assert "2026-11-02" in report(run.id, locale="sv")["items"][0]["message"]


def test_missing_values_are_row_errors(ctx):
    zorg, _, _ = factories.companies()
    made = factories.products(zorg, 3)
    made[2].description = ""
    db.session.commit()
    profile = services.create_profile(name="Products", export_type="products", options={"format": "jsonl"})
    run = start_and_run(profile, "test")
    assert run.status == "exported"            # a missing value is an error, not a row left
    rows = rows_of(run)
    assert [r["item_code"] for r in rows] == ["ITEM0000", "ITEM0001"]
    assert rows[0]["kind"] == "kit" and rows[0]["components"] == 1
    items = report(run.id)["items"]
    assert [i["code"] for i in items] == ["missing_value"]
    assert "ITEM0002" in items[0]["message"]


def test_purchase_orders(ctx):
    zorg, _, _ = factories.companies()
    factories.purchase_orders(zorg, 3)
    db.session.commit()
    profile = services.create_profile(name="PO", export_type="purchase_orders", options={"format": "jsonl"},
                                      sync_type="incremental_new")
    run = start_and_run(profile, "production")
    rows = rows_of(run)
    assert [r["order_number"] for r in rows] == ["PO00000", "PO00001", "PO00002"]
    assert rows[0]["quantity"] == 10 and rows[0]["supplier_number"] == "70001"
    again = start_and_run(profile, "production")
    assert rows_of(again) == []


def test_only_invoices_take_booking_parameters_and_debtor_selection_limits_the_source(ctx):
    zorg, _, _ = factories.companies()
    debtors = factories.debtors(zorg, 3)
    factories.invoice_lines(zorg, debtors, 6)
    db.session.commit()
    profile = services.create_profile(name="Inv", export_type="invoices", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    run = start_and_run(profile, "production", debtor_numbers=["10001"])
    assert {r["debtor_number"] for r in rows_of(run)} == {"10001"}
    # Another debtor selection does not treat the first debtor's lines as removed.
    second = start_and_run(profile, "production", debtor_numbers="10002")
    assert {(r["debtor_number"], r["mutation"]) for r in rows_of(second)} == {("10002", "new")}
    with pytest.raises(ExportError) as error:
        services.start_run(profile.id, debtor_numbers=["99999"])
    assert error.value.code == "unknown_debtors"


def test_a_debtor_selection_is_the_debtor_of_its_company_not_every_debtor_with_its_number(ctx):
    """Choosing ZORG's debtor 10001 exports Jansen's invoices only, not those of THUIS's debtor 10001; and an
    incremental run over that selection takes back only Jansen's delivered lines that are gone."""
    zorg, thuis, jansen, pietersen, lines = factories.same_debtor_number()
    profile = services.create_profile(name="Invoices", export_type="invoices", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    run = start_and_run(profile, "test", debtors=[jansen.id])
    assert {(r["company_code"], r["debtor_name"]) for r in rows_of(run)} == {("ZORG", "Jansen")}
    assert run.params["debtors"] == [{"company_id": zorg.id, "number": "10001"}]
    assert start_and_run(profile, "production").status == "exported"            # both delivered
    for line in lines:                                                           # both gone since
        db.session.delete(line)
    factories.invoice_lines(zorg, [jansen], 1, start=3)
    factories.invoice_lines(thuis, [pietersen], 1, start=4)
    db.session.commit()
    run = start_and_run(profile, "test", debtors=[{"company_id": thuis.id, "number": "10001"}])
    assert {(r["company_code"], r["debtor_name"], r["invoice_number"], r["mutation"]) for r in rows_of(run)} == {
        ("THUIS", "Pietersen", "INV000004", "new"), ("THUIS", "Pietersen", "INV000002", "removed")}
    # Typed (a schedule, the API): the company's code before the number; the number alone is ambiguous.
    run = start_and_run(profile, "test", debtor_numbers="ZORG/10001")
    assert {(r["company_code"], r["invoice_number"], r["mutation"]) for r in rows_of(run)} == {
        ("ZORG", "INV000003", "new"), ("ZORG", "INV000001", "removed")}
    with pytest.raises(ExportError) as error:
        services.start_run(profile.id, debtor_numbers=["10001"])
    assert error.value.code == "ambiguous_debtors"
    assert "ZORG/10001" in str(error.value) and "THUIS/10001" in str(error.value)


def test_a_run_started_with_debtor_numbers_only_still_shows_and_runs_as_it_was_started(ctx):
    """Runs stored before debtors were stored with their company hold ``debtor_numbers``: they still run
    over those numbers in the profile's companies, and their page lists those debtors, with the company."""
    from portal.demo.seed import seed_users
    from tests.factories import AuthActions
    seed_users()
    from portal.models import Debtor
    zorg, thuis, jansen, pietersen, lines = factories.same_debtor_number()
    bakker = Debtor(company_id=zorg.id, number="10002", name="Bakker")
    db.session.add(bakker)
    db.session.flush()
    factories.invoice_lines(zorg, [bakker], 1, start=5)
    db.session.commit()
    profile = services.create_profile(name="Invoices ZORG", export_type="invoices", options={"format": "jsonl"},
                                      company_id=zorg.id)
    run = services.start_run(profile.id, mode="test", window_start="2026-11-01", window_end="2026-11-30",
                             operation="prepare")
    run.params = {key: value for key, value in run.params.items() if key != "debtors"} | {"debtor_numbers": ["10001"]}
    db.session.commit()
    factories.execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "prepared" and run.counts["records"] == 1
    client = ctx.test_client()
    AuthActions(client).login("staff")
    page = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert "<dd>10001 · Jansen (ZORG)</dd>" in page and "Pietersen" not in page
