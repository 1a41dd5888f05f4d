"""Changes and removals at Visma.net (issue 9, points 2-4): a record is never marked processed without a
successful request; references are per company; per type a change becomes an update (PUT), a credit
note, a void or a reversal, and where Visma.net allows nothing a report item naming the document. Against
the sandbox over real HTTP; every document validated against the OpenAPI description (the fixture)."""
from datetime import datetime
from decimal import Decimal

from portal.exporting import sync
from portal.exporting.report import report
from portal.extensions import db
from portal.models import InvoiceLine, JournalLine, Payment, Product, PurchaseOrderLine

from .conftest import (
    NOVEMBER, WINDOW, companies, department, documents, invoices, payments, payroll, products, purchase_orders,
    received, records, rows, run_now,
)


def _body(kind, number):
    return next(body for k, n, body in records(kind) if n == number)


def _codes(run):
    return [i["code"] for i in report(run.id, locale="en")["items"]]


def test_a_changed_product_is_updated_and_the_second_companys_item_gets_its_own_request(sctx):
    zorg, thuis, _test = companies()
    sctx.authorise()
    sctx.map(zorg, thuis)
    products(zorg)
    db.session.commit()
    profile = sctx.profile("products", sync_type="incremental_all", item_class_stock="STOCK",
                           item_class_non_stock="NONSTOCK")
    first = run_now(profile, **WINDOW)
    assert first.status == "exported", first.error_reason
    assert received("PUT") == []
    soap = db.session.execute(db.select(Product).filter_by(company_id=zorg.id, item_code="SOAP")).scalar()
    soap.description, soap.sales_price, soap.updated_at = "Soap, lavender", Decimal("4.25"), datetime(2026, 11, 20)
    db.session.commit()
    second = run_now(profile, **WINDOW)
    assert second.status == "exported", second.error_reason
    assert [(m, p, s) for m, p, s in received("PUT")] == [("PUT", "/v1/inventory/SOAP", 204)]
    held = _body("inventory", "SOAP")
    assert held["description"]["value"] == "Soap, lavender" and held["defaultPrice"]["value"] == 4.25
    [document] = documents(second)
    assert (document.method, document.operation, document.state) == ("PUT", "update", "sent")
    assert sync.current_ledger(profile.id)  # the change is in the ledger only because it was sent

    # The second company's item with the same code: its own request (Visma.net refuses a duplicate).
    db.session.add(Product(company_id=thuis.id, item_code="SOAP", description="Soap", sales_price=Decimal("3.95"),
                           cost_price=Decimal("1.10"), updated_at=datetime(2026, 11, 21)))
    db.session.commit()
    posts = len(received("POST", "/v1/inventory"))
    third = run_now(profile, **WINDOW)
    assert len(received("POST", "/v1/inventory")) == posts + 1
    [row] = [r for r in rows(third) if r.record_key == "THUIS/SOAP"]
    assert not row.processed and "already exists" in row.error
    assert third.status == "partially_processed"


def test_a_removed_product_is_set_inactive(sctx):
    zorg, _thuis, _test = companies()
    sctx.authorise()
    sctx.map(zorg)
    products(zorg)
    db.session.commit()
    profile = sctx.profile("products", sync_type="incremental_all", item_class_stock="STOCK",
                           item_class_non_stock="NONSTOCK")
    assert run_now(profile, **WINDOW).status == "exported"
    db.session.execute(db.delete(Product).where(Product.item_code == "SOAP"))
    db.session.commit()
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    assert _body("inventory", "SOAP")["status"]["value"] == "Inactive"
    assert [d.operation for d in documents(run)] == ["deactivate"]


def test_a_changed_invoice_is_credited_and_sent_again_a_removed_one_credited(vctx):
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    lines = invoices(zorg, 2)
    db.session.add(InvoiceLine(company_id=zorg.id, debtor_id=lines[0].debtor_id, invoice_number=lines[0].invoice_number,
                               line_no=2, invoice_date=lines[0].invoice_date, due_date=lines[0].due_date,
                               product_code="P9", description="Travel", quantity=Decimal("1"),
                               unit_price=Decimal("10.00"), amount=Decimal("10.00"), vat_code="H",
                               vat_amount=Decimal("2.10")))
    db.session.commit()
    profile = vctx.profile("invoices", sync_type="incremental_all")
    assert run_now(profile, **WINDOW).status == "exported"
    [(_k, first_number, _b), _other] = records("customerinvoice")
    travel = db.session.execute(db.select(InvoiceLine).filter_by(line_no=2)).scalar()
    travel.amount, travel.quantity = Decimal("20.00"), Decimal("2")
    db.session.execute(db.delete(InvoiceLine).where(InvoiceLine.invoice_number == lines[1].invoice_number))
    db.session.commit()
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    notes = records("customerCreditNote")
    assert len(notes) == 2                        # the changed invoice and the removed one
    assert {b["invoiceText"]["value"] for _k, _n, b in notes} == {
        f"Credit note for invoice {n}" for _k, n, _b in records("customerinvoice")[:2]}
    changed_note = next(b for _k, _n, b in notes if b["invoiceText"]["value"].endswith(first_number))
    assert [l["manualAmountInCurrency"]["value"] for l in changed_note["lines"]] == [91.0, 10.0]
    invoices_now = records("customerinvoice")
    assert len(invoices_now) == 3                 # the new version of the changed invoice
    new_version = invoices_now[-1][2]
    assert [(l["lineNumber"]["value"], l["manualAmountInCurrency"]["value"]) for l in new_version["invoiceLines"]] \
        == [(1, 91.0), (2, 20.0)]
    assert sorted(d.operation for d in documents(run)) == ["credit_note", "credit_note", "new_version"]


def test_a_changed_payment_is_voided_and_sent_again_a_removed_one_voided(sctx):
    zorg, _thuis, _test = companies()
    sctx.authorise()
    sctx.map(zorg)
    payments(zorg, 2)
    db.session.commit()
    profile = sctx.profile("payments", sync_type="incremental_all")
    assert run_now(profile, **WINDOW).status == "exported"
    first, second = db.session.execute(db.select(Payment).order_by(Payment.receipt_number)).scalars().all()
    first.amount = Decimal("99.00")
    db.session.delete(second)
    db.session.commit()
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    voids = received("POST")
    assert [p for _m, p, s in voids if p.endswith("/action/void") and s == 204] == [
        "/v1/customerPayment/000001/action/void", "/v1/customerPayment/000002/action/void"] or \
        len([p for _m, p, s in voids if p.endswith("/action/void") and s == 204]) == 2
    held = records("customerPayment")
    assert [b.get("voided", False) for _k, _n, b in held] == [True, True, False]
    assert held[-1][2]["paymentAmount"]["value"] == 99.0
    assert sorted(d.operation for d in documents(run)) == ["new", "void", "void"]


def test_a_changed_order_is_updated_by_line_and_a_removed_order_is_reported_by_its_number(sctx):
    zorg, _thuis, _test = companies()
    sctx.authorise()
    sctx.map(zorg)
    purchase_orders(zorg, 2)
    db.session.commit()
    profile = sctx.profile("purchase_orders", sync_type="incremental_all")
    assert run_now(profile, **WINDOW).status == "exported"
    numbers = [n for _k, n, _b in records("purchaseorder")]
    gloves, masks = db.session.execute(db.select(PurchaseOrderLine).where(
        PurchaseOrderLine.purchase_order_id == 1).order_by(PurchaseOrderLine.line_no)).scalars().all()
    gloves.quantity = Decimal("12")
    db.session.delete(masks)
    db.session.execute(db.delete(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == 2))
    db.session.commit()
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    assert [p for _m, p, s in received("PUT")] == [f"/v1/purchaseorder/{numbers[0]}"]
    lines = _body("purchaseorder", numbers[0])["lines"]
    assert [(l["lineNumber"]["value"], l["orderQty"]["value"]) for l in lines] == [(1, 12.0)]
    items = [i for i in report(run.id, locale="en")["items"] if i["code"] == "visma_by_hand"]
    assert {i["record_key"] for i in items} == {"PO00001/1", "PO00001/2"}
    assert f"Visma.net document {numbers[1]}" in items[0]["message"]


def test_a_changed_journal_line_is_reversed_and_booked_again_in_its_period(vctx):
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    payroll(zorg)
    db.session.commit()
    profile = vctx.profile("journal_entries", sync_type="incremental_all")
    assert run_now(profile, **WINDOW).status == "exported"
    gross, _employer, net, _tax = db.session.execute(db.select(JournalLine).order_by(JournalLine.line_no)).scalars()
    gross.debit, net.credit = Decimal("1600.00"), Decimal("1450.00")
    db.session.commit()
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    [_first, (_k, _n, correction)] = records("journaltransaction")
    assert correction["financialPeriod"]["value"] == "202611"
    amounts = [(l["accountNumber"]["value"], l["debitAmountInCurrency"]["value"], l["creditAmountInCurrency"]["value"])
               for l in correction["journalTransactionLines"]]
    assert sorted(amounts) == sorted([("4000", 0.0, 1500.0), ("4000", 1600.0, 0.0),
                                      ("1600", 1350.0, 0.0), ("1600", 0.0, 1450.0)])
    assert [d.operation for d in documents(run)] == ["correction"]


def test_a_kits_raw_materials_outside_the_window_are_looked_up_and_sent_before_the_kit(sctx):
    zorg, _thuis, _test = companies()
    sctx.authorise()
    sctx.map(zorg)
    products(zorg)
    # The raw materials changed long before the window: only the kit (and SOAP) are in the run.
    db.session.execute(db.update(Product).where(Product.is_raw_material.is_(True))
                       .values(updated_at=datetime(2026, 1, 5)))
    db.session.commit()
    profile = sctx.profile("products", item_class_stock="STOCK", item_class_non_stock="NONSTOCK")
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    assert not run.counts["stopped_on_error"]
    assert sorted(n for _k, n, _b in records("inventory")) == ["BREAD", "FLOUR", "SOAP", "YEAST"]
    assert [n for _k, n, _b in records("KitSpecifications")] == ["BREAD/1"]
    lookups = [p for m, p, s in received("GET") if p in ("/v1/inventory/FLOUR", "/v1/inventory/YEAST")]
    assert sorted(lookups) == ["/v1/inventory/FLOUR", "/v1/inventory/YEAST"]
    components = [d for d in documents(run) if d.operation == "component"]
    assert sorted(d.body["inventoryNumber"]["value"] for d in components) == ["FLOUR", "YEAST"]
    assert {d.body["type"]["value"] for d in components} == {"ComponentPartItem"}


def test_a_changed_kit_updates_its_item_and_its_kit_specification(sctx):
    from portal.models import KitComponent
    zorg, _thuis, _test = companies()
    sctx.authorise()
    sctx.map(zorg)
    products(zorg)
    db.session.commit()
    profile = sctx.profile("products", sync_type="incremental_all", item_class_stock="STOCK",
                           item_class_non_stock="NONSTOCK")
    assert run_now(profile, **WINDOW).status == "exported"
    bread = db.session.execute(db.select(Product).filter_by(item_code="BREAD")).scalar()
    yeast = db.session.execute(db.select(Product).filter_by(item_code="YEAST")).scalar()
    db.session.execute(db.delete(KitComponent).where(KitComponent.component_id == yeast.id))
    bread.description, bread.updated_at = "Bread without yeast", datetime(2026, 11, 20)
    db.session.commit()
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    assert [p for _m, p, s in received("PUT") if s == 204] == ["/v1/inventory/BREAD", "/v1/KitSpecifications/BREAD/1"]
    kit = _body("KitSpecifications", "BREAD/1")
    assert [l["compInventoryID"]["value"] for l in kit["stockComponentLines"]] == ["FLOUR"]
    assert _body("inventory", "BREAD")["description"]["value"] == "Bread without yeast"


def test_journal_lines_moved_to_another_period_are_reversed_in_theirs_and_booked_in_the_new_one(vctx):
    """Seed 002: corrections are booked in the period they correct. Correction lines delivered for October
    that now correct September: October gets the reversal of what was delivered (balanced, its own
    journal), September the new version — not a lone, unbalanced reversal between them."""
    from datetime import date
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    payroll(zorg)
    payroll(zorg, ref="PR-2026-11B", about=date(2026, 10, 1),
            lines=[("4000", "100.00", "0.00", "Correction"), ("1600", "0.00", "100.00", "Correction")])
    db.session.commit()
    profile = vctx.profile("journal_entries", sync_type="incremental_all")
    assert run_now(profile, **WINDOW).status == "exported"
    assert sorted(b["financialPeriod"]["value"] for _k, _n, b in records("journaltransaction")) == ["202610",
                                                                                                     "202611"]
    db.session.execute(db.update(JournalLine).where(JournalLine.payroll_run_ref == "PR-2026-11B")
                       .values(about_period=date(2026, 9, 1)))
    db.session.commit()
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    assert all(r.processed and not r.error for r in rows(run))
    sent = records("journaltransaction")[2:]
    lines = {b["financialPeriod"]["value"]: sorted(
        (l["accountNumber"]["value"], l["debitAmountInCurrency"]["value"], l["creditAmountInCurrency"]["value"],
         l["referenceNumber"]["value"]) for l in b["journalTransactionLines"]) for _k, _n, b in sent}
    assert lines == {
        "202610": [("1600", 100.0, 0.0, "PR-2026-11B"), ("4000", 0.0, 100.0, "PR-2026-11B")],   # the reversal
        "202609": [("1600", 0.0, 100.0, "PR-2026-11B"), ("4000", 100.0, 0.0, "PR-2026-11B")]}  # the new version
    assert len(sent) == 2 and [s for _m, _p, s in received("POST", "/v2/journaltransaction")][-2:] == [201, 201]
    assert [(d.operation, d.state, d.body["financialPeriod"]["value"]) for d in documents(run)] == [
        ("correction", "sent", "202609"), ("correction", "sent", "202610")]
    # What Visma.net now holds is what the ledger says was delivered: September.
    assert {k: p["journal_period"] for k, p in sync.delivered_payloads(
        profile.id, ["PR-2026-11B/1", "PR-2026-11B/2"]).items()} == {"PR-2026-11B/1": "2026-09-01",
                                                                     "PR-2026-11B/2": "2026-09-01"}


def test_a_second_attempt_of_a_moved_journal_run_posts_nothing_twice(sctx, monkeypatch):
    """The journals of a run with moved lines were sent, then the attempt ended before it recorded them (a
    temporary error here; a lost worker alike): the next attempt prepares again from a clean state, builds
    the same journals with the same references, finds them sent and posts nothing again."""
    from datetime import date
    from portal.exporting import services
    from portal.exporting.errors import TransientError
    from portal.exporting.providers.visma_net import VismaNetProvider
    from portal.models import Run
    from .conftest import execute
    zorg, _thuis, _test = companies()
    sctx.authorise()
    sctx.map(zorg)
    payroll(zorg, ref="PR-2026-11B", about=date(2026, 10, 1),
            lines=[("4000", "100.00", "0.00", "Correction"), ("1600", "0.00", "100.00", "Correction")])
    db.session.commit()
    profile = sctx.profile("journal_entries", sync_type="incremental_all")
    assert run_now(profile, **WINDOW).status == "exported"
    db.session.execute(db.update(JournalLine).values(about_period=date(2026, 9, 1)))
    db.session.commit()
    finish = VismaNetProvider.finish
    ended = []

    def ends_once(self):
        if not ended:
            ended.append(True)
            raise TransientError("the connection to the database was lost")
        return finish(self)
    monkeypatch.setattr(VismaNetProvider, "finish", ends_once)
    run = services.start_run(profile.id, mode="production", **WINDOW)
    execute(run.id)
    assert db.session.get(Run, run.id).status == "queued"           # to be tried again
    assert len(received("POST", "/v2/journaltransaction")) == 3      # the first run's, and this attempt's two
    run = execute(run.id)
    assert run.status == "exported", run.error_reason
    assert len(received("POST", "/v2/journaltransaction")) == 3      # nothing posted twice
    assert sorted(b["financialPeriod"]["value"] for _k, _n, b in records("journaltransaction")) == [
        "202609", "202610", "202610"]
    assert sync.delivered_payloads(profile.id, ["PR-2026-11B/1"])["PR-2026-11B/1"]["journal_period"] == "2026-09-01"


# -- A record moved to another company: its delivered document is taken back under the company it was
# delivered for (the ledger's payload), then the record is created under its new company ----------------

def test_a_payment_moved_to_another_company_is_voided_there_and_created_under_the_new_one(vctx):
    """Booked on the wrong company (ZORG), corrected to THUIS: the ZORG payment at Visma.net is voided and
    a THUIS payment created — one live payment, not two (found by review)."""
    zorg, thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg, thuis)
    payments(zorg, 1)
    thuis_shop = department(thuis, "SHOP")
    db.session.commit()
    profile = vctx.profile("payments", sync_type="incremental_all")
    assert run_now(profile, **WINDOW).status == "exported"
    payment = db.session.execute(db.select(Payment)).scalar_one()
    payment.company_id, payment.department_id = thuis.id, thuis_shop.id
    db.session.commit()
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    assert [(d.operation, d.natural, d.state) for d in documents(run)] == [
        ("void", "payment:ZORG/R000000", "sent"), ("new", "payment:THUIS/R000000", "sent")]
    held = records("customerPayment")
    assert [b.get("voided", False) for _k, _n, b in held] == [True, False]      # one live payment
    # Nothing more to do: the next run sends nothing.
    assert documents(run_now(profile, **WINDOW)) == []


def test_an_invoice_moved_to_another_company_is_credited_there_and_created_under_the_new_one(vctx):
    """Booked on ZORG, corrected to THUIS (its debtor there): the ZORG invoice is credited and a THUIS
    invoice created (found by review); a line of a two-line invoice moved alone leaves the ZORG invoice
    created again with its other line."""
    from portal.models import InvoiceLine
    from tests import factories
    zorg, thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg, thuis)
    first, second = invoices(zorg, 2)
    db.session.add(InvoiceLine(company_id=zorg.id, debtor_id=second.debtor_id, invoice_number=second.invoice_number,
                               line_no=2, invoice_date=second.invoice_date, due_date=second.due_date,
                               product_code="P9", description="Travel", quantity=Decimal("1"),
                               unit_price=Decimal("10.00"), amount=Decimal("10.00"), vat_code="H",
                               vat_amount=Decimal("2.10")))
    thuis_debtor = factories.debtors(thuis, count=1)[0]
    db.session.commit()
    profile = vctx.profile("invoices", sync_type="incremental_all")
    assert run_now(profile, **WINDOW).status == "exported"
    [(_k, zorg_first, _b), (_k2, zorg_second, _b2)] = records("customerinvoice")
    moved = db.session.execute(db.select(InvoiceLine).filter_by(invoice_number=first.invoice_number)).scalar_one()
    travel = db.session.execute(db.select(InvoiceLine).filter_by(line_no=2)).scalar_one()
    for line in (moved, travel):
        line.company_id, line.debtor_id = thuis.id, thuis_debtor.id
    db.session.commit()
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    sent = [(d.operation, d.natural) for d in documents(run)]
    assert sorted(sent) == sorted([
        ("credit_note", f"invoice:ZORG/{first.invoice_number}"), ("new", f"invoice:THUIS/{first.invoice_number}"),
        ("credit_note", f"invoice:ZORG/{second.invoice_number}"),
        ("new_version", f"invoice:ZORG/{second.invoice_number}"), ("new", f"invoice:THUIS/{second.invoice_number}")])
    notes = {b["invoiceText"]["value"] for _k, _n, b in records("customerCreditNote")}
    assert notes == {f"Credit note for invoice {zorg_first}", f"Credit note for invoice {zorg_second}"}
    created = [b for _k, _n, b in records("customerinvoice")][2:]
    by_customer = sorted((b["customerNumber"]["value"], [l["lineNumber"]["value"] for l in b["invoiceLines"]])
                         for b in created)
    assert by_customer == [("10001", [1]), ("10001", [2]), ("10002", [1])], by_customer
    assert documents(run_now(profile, **WINDOW)) == []


def test_an_order_moved_to_another_company_is_reported_there_and_created_under_the_new_one(vctx):
    """An order cannot be cancelled through Visma.net's API: an order moved from ZORG to THUIS gives a
    report item naming the ZORG order (to cancel it by hand), and the THUIS order is created — not an
    update of nothing, nor a silent second order."""
    from portal.models import PurchaseOrder, Supplier
    zorg, thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg, thuis)
    purchase_orders(zorg, 1)
    shop = department(thuis, "SHOP")
    vendor = Supplier(company_id=thuis.id, number="70001", name="Supplier 70001")
    db.session.add(vendor)
    db.session.commit()
    profile = vctx.profile("purchase_orders", sync_type="incremental_all")
    assert run_now(profile, **WINDOW).status == "exported"
    [(_k, zorg_order, _b)] = records("purchaseorder")
    order = db.session.execute(db.select(PurchaseOrder)).scalar_one()
    order.company_id, order.department_id, order.supplier_id = thuis.id, shop.id, vendor.id
    db.session.commit()
    run = run_now(profile, **WINDOW)
    assert run.status == "exported", run.error_reason
    assert [(d.operation, d.natural) for d in documents(run)] == [("new", "order:THUIS/PO00000")]
    items = [i for i in report(run.id, locale="en")["items"] if i["code"] == "visma_by_hand"]
    assert {i["record_key"] for i in items} == {"PO00000/1", "PO00000/2"}
    assert f"Visma.net document {zorg_order}" in items[0]["message"]
    assert len(records("purchaseorder")) == 2
