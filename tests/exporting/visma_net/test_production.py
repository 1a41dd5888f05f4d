"""Production runs against the sandbox over real HTTP, for every export type with a home at Visma.net;
every document validated against Visma.net's OpenAPI description; test runs send nothing."""
from datetime import date

import pytest

from sqlalchemy import select

from portal.exporting import services, sync
from portal.exporting.errors import ExportError
from portal.exporting.providers.visma_net import VismaNetProvider
from portal.extensions import db
from portal.models import PreparedRow

from tests.exporting.test_delivery_order import PAYMENTS, twin_seqs

from .conftest import (  # noqa: F401
    NOVEMBER, assert_valid, companies, documents, execute, invoices, payments, payroll, products, purchase_orders,
    received, records, rows, run_now,
)

WINDOW = {"window_start": "2026-11-01", "window_end": "2026-11-30"}


def test_journals_one_per_company_and_period_with_segments_and_corrections(vctx, openapi):
    zorg, thuis, test = companies()
    vctx.authorise()
    vctx.map(zorg, thuis, test)
    payroll(zorg, centre="110", unit="P01")
    # A correction about October, in November's run: booked in October with November's reference.
    payroll(zorg, ref="PR-2026-11", about=date(2026, 10, 1), lines=[
        ("4000", "100.00", "0.00", "Correction gross wages"), ("1600", "0.00", "100.00", "Correction net wages")])
    from tests import factories
    factories.journal(thuis, "PR-T-2026-11", NOVEMBER, [("4000", "10.00", "0.00", "Wages"),
                                                      ("1600", "0.00", "10.00", "Net")])
    factories.journal(test, "PR-X-2026-11", NOVEMBER, [("4000", "10.00", "0.00", "Wages"),
                                                     ("1600", "0.00", "10.00", "Net")])
    db.session.commit()
    profile = vctx.profile("journal_entries")
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    built = assert_valid(openapi, run)
    assert len(built) == 3 and {d.state for d in built} == {"sent"}
    held = records("journaltransaction")
    assert len(held) == 3                    # ZORG November, ZORG October (correction), THUIS November
    by_period = {(body["financialPeriod"]["value"], body["description"]["value"].split()[1]): body
                 for _kind, _number, body in held}
    assert set(by_period) == {("202611", "ZORG"), ("202610", "ZORG"), ("202611", "THUIS")}
    october = by_period[("202610", "ZORG")]
    assert [l["referenceNumber"]["value"] for l in october["journalTransactionLines"]] == ["PR-2026-11"] * 2
    assert october["transactionDate"]["value"] == "2026-10-31T00:00:00Z"
    november = by_period[("202611", "ZORG")]["journalTransactionLines"]
    assert november[0]["subaccount"] == [{"segmentId": 1, "segmentValue": "110"},
                                         {"segmentId": 2, "segmentValue": "P01"}]
    assert "subaccount" not in november[2]
    assert [l["operation"] for l in november] == ["Insert"] * 4
    # Every row processed, and the number Visma.net gave is kept with its document.
    assert all(r.processed for r in rows(run))
    assert sorted(d.visma_number for d in built) == sorted(number for _k, number, _b in held)
    # The test company's journal is refused (in the report), never sent.
    from portal.exporting.report import report
    assert "test_company_left_out" in [i["code"] for i in report(run.id)["items"]]
    assert len(sync.current_ledger(profile.id)) == 8


def test_journals_are_refused_for_a_test_company(vctx):
    _zorg, _thuis, test = companies()
    vctx.authorise()
    vctx.map(test)
    from tests import factories
    factories.journal(test, "PR-X-2026-11", NOVEMBER, [("4000", "10.00", "0.00", "Wages"),
                                                     ("1600", "0.00", "10.00", "Net")])
    db.session.commit()
    profile = vctx.profile("journal_entries", company=test)
    with pytest.raises(ExportError) as refused:
        services.start_run(profile.id, mode="production", **WINDOW)
    assert refused.value.code == "test_company_refused"
    assert received("POST") == []


def test_a_journal_with_an_invalid_line_is_not_sent_in_part(vctx, openapi):
    """A journal goes to Visma.net whole or not at all: one invalid line (no account) holds its journal
    back — no journal transaction of the other lines — while the other company's journal is sent.
    Once the line has its account, the next run sends the whole journal."""
    from tests import factories
    from portal.models import JournalLine
    zorg, thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg, thuis)
    lines = factories.whole_journals(zorg, thuis, NOVEMBER, invalid_line=True)
    db.session.commit()
    line_id = lines[1].id
    profile = vctx.profile("journal_entries", sync_type="incremental_all")
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    sent = records("journaltransaction")
    assert [body["description"]["value"].split()[1] for _kind, _number, body in sent] == ["THUIS"]
    assert sorted(r.record_key for r in rows(run) if r.invalid) == ["PR-2026-11/1", "PR-2026-11/2", "PR-2026-11/3"]
    db.session.get(JournalLine, line_id).account = "4100"
    db.session.commit()
    again = run_now(profile, **WINDOW)
    assert again.status == "exported", again.error_reason
    built = assert_valid(openapi, again)
    (body,) = [d.body for d in built]
    assert [line["accountNumber"]["value"] for line in body["journalTransactionLines"]] == ["4000", "4100", "1600"]
    assert len(records("journaltransaction")) == 2


def test_an_unticked_journal_line_keeps_its_journal_from_visma_net_until_it_is_ticked(vctx, openapi):
    """Prepare / Export: with one line of ZORG's journal unticked, nothing of that journal is sent (the run
    is Partially processed); ticked again and exported, the whole journal goes as one transaction."""
    from tests import factories
    from .conftest import execute
    zorg, thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg, thuis)
    factories.whole_journals(zorg, thuis, NOVEMBER)
    db.session.commit()
    profile = vctx.profile("journal_entries", sync_type="incremental_all")
    run = services.start_run(profile.id, mode="production", operation="prepare", **WINDOW)
    execute(run.id)
    [second] = [r for r in rows(run) if r.record_key == "PR-2026-11/2"]
    services.set_row_active(run.id, second.id, False)
    services.request_export(run.id)
    run = execute(run.id)
    assert run.status == "partially_processed", run.error_reason
    assert [body["description"]["value"].split()[1] for _k, _n, body in records("journaltransaction")] == ["THUIS"]
    assert len(received("POST", "/v2/journaltransaction")) == 1       # no half journal tried (and refused)
    services.set_row_active(run.id, second.id, True)
    services.request_export(run.id)
    run = execute(run.id)
    assert run.status == "exported", run.error_reason
    sent = records("journaltransaction")
    assert len(sent) == 2 and len(received("POST", "/v2/journaltransaction")) == 2
    assert [line["accountNumber"]["value"] for line in sent[1][2]["journalTransactionLines"]] == [
        "4000", "4100", "1600"]
    assert_valid(openapi, run)


def test_invoices_with_booking_date_and_description_blocked_debtors_are_row_errors(vctx, openapi):
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    invoices(zorg, 4, blocked=(1,))
    db.session.commit()
    profile = vctx.profile("invoices", sales_account="8000")
    run = run_now(profile, booking_date="2026-12-02", description="Care November", **WINDOW)
    assert run.status == "exported", run.error_reason        # blocked debtors' lines: errors, not "left"
    built = assert_valid(openapi, run)
    held = records("customerinvoice")
    assert len(held) == 3 == len(built)
    body = held[0][2]
    assert body["documentDate"]["value"] == "2026-12-02T00:00:00Z" and body["financialPeriod"]["value"] == "202612"
    assert body["invoiceText"]["value"] == "Care November"
    assert body["customerRefNumber"]["value"] == "INV000001"
    assert body["invoiceLines"][0]["operation"] == "Insert"
    blocked = [r for r in rows(run) if r.invalid]
    assert [r.record_key for r in blocked] == ["INV000002/1"] and not blocked[0].processed
    assert "10002" in blocked[0].error


def test_payments_need_payment_types_that_exist_at_visma_net(vctx, openapi):
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    payments(zorg, 3)
    db.session.commit()
    profile = vctx.profile("payments")
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    assert_valid(openapi, run)
    held = records("customerPayment")
    assert [b["paymentMethod"]["value"] for _k, _n, b in held] == ["CASH", "CARD", "CASH"]
    assert held[0][2]["applicationDate"]["value"] == "2026-11-12T00:00:00Z"
    assert held[0][2]["customer"]["value"] == "10001" and held[0][2]["paymentAmount"]["value"] == 12.5


def test_purchase_orders_one_per_order_with_its_lines(vctx, openapi):
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    purchase_orders(zorg, 2)
    db.session.commit()
    profile = vctx.profile("purchase_orders")
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    assert_valid(openapi, run)
    held = records("purchaseorder")
    assert len(held) == 2
    assert [l["inventory"]["value"] for l in held[0][2]["lines"]] == ["GLOVES", "MASKS"]
    assert held[0][2]["supplier"]["value"] == "70001"


def test_products_stock_items_non_stock_kits_and_raw_materials(vctx, openapi):
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    products(zorg)
    db.session.commit()
    profile = vctx.profile("products", item_class_stock="STOCK", item_class_non_stock="NONSTOCK")
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    assert_valid(openapi, run)
    items = {b["inventoryNumber"]["value"]: b for _k, _n, b in records("inventory")}
    assert {k: (b["type"]["value"], b["itemClass"]["value"]) for k, b in items.items()} == {
        "BREAD": ("NonStockItem", "NONSTOCK"), "FLOUR": ("ComponentPartItem", "STOCK"),
        "YEAST": ("ComponentPartItem", "STOCK"), "SOAP": ("FinishedGoodItem", "STOCK")}
    kits = records("KitSpecifications")
    assert [n for _k, n, _b in kits] == ["BREAD/1"]
    assert [(l["compInventoryID"]["value"], l["dfltCompQty"]["value"]) for l in kits[0][2]["stockComponentLines"]] \
        == [("FLOUR", 0.5), ("YEAST", 0.02)]
    assert all(r.processed for r in rows(run))
    kit_document = [d for d in documents(run) if d.kind == "KitSpecifications"][0]
    assert kit_document.visma_number == "BREAD/1"


def test_hours_have_no_home_at_visma_net(sctx):
    sctx.authorise()
    with pytest.raises(ExportError) as refused:
        sctx.profile("hours")
    assert refused.value.code == "no_home_at_visma_net"
    from flask_babel import force_locale
    with force_locale("nl"):
        assert str(refused.value).startswith("Uren kunnen niet naar Visma.net worden verzonden")


def test_a_test_run_shows_the_documents_and_sends_nothing(sctx, openapi):
    zorg, _thuis, _test = companies()
    sctx.authorise()
    sctx.map(zorg)
    payroll(zorg)
    payments(zorg, 2)
    products(zorg)
    db.session.commit()
    before = received()
    for export_type, options in (("journal_entries", {}), ("payments", {}),
                                 ("products", {"item_class_stock": "STOCK", "item_class_non_stock": "NONSTOCK"})):
        profile = sctx.profile(export_type, **options)
        run = run_now(profile, "test", **WINDOW)
        assert run.status == "exported", run.error_reason
        built = assert_valid(openapi, run)
        assert {d.state for d in built} == {"test"} and all(d.visma_number is None for d in built)
        assert sync.current_ledger(profile.id) == {}
    assert received() == before          # not one request: nothing written, nothing even read
    assert records() == []


def test_rows_sharing_a_seq_are_each_sent_to_visma_net_once(vctx, monkeypatch):
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    payments(zorg, PAYMENTS)
    db.session.commit()
    run = services.start_run(vctx.profile("payments").id, mode="production", operation="prepare", **WINDOW)
    run = execute(run.id)
    assert run.status == "prepared", run.error_reason
    twin_seqs(run)          # rows that entered the window while the run prepared share a seq (see that test)
    monkeypatch.setattr(VismaNetProvider, "batch_size", 3)     # a page of three rows a request round
    services.request_export(run.id)
    run = execute(run.id)
    assert run.status == "exported", run.error_reason
    sent = sorted(body["paymentRef"]["value"] for _kind, _number, body in records("customerPayment"))
    assert len(sent) == PAYMENTS and len(set(sent)) == PAYMENTS
    assert db.session.execute(select(db.func.count()).where(
        PreparedRow.run_id == run.id, PreparedRow.processed.is_(True))).scalar() == PAYMENTS
