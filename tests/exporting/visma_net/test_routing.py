"""Seed 004: only departments whose finance system is Visma.net go to Visma.net; the others are left out
and counted in the report (issue 9, point 1). Against the sandbox over real HTTP."""
from portal.extensions import db

from .conftest import WINDOW, assert_valid, companies, payments, purchase_orders, records, rows, run_now


def _left_out(run):
    from portal.exporting.report import report
    return [i for i in report(run.id, locale="en")["items"] if i["code"] == "department_elsewhere"]


def test_orders_and_payments_of_departments_without_visma_net_are_left_out_and_counted(vctx, openapi):
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    purchase_orders(zorg, 2, dept="SHOP")
    purchase_orders(zorg, 3, dept="ADM", finance_system=None, first=10)
    purchase_orders(zorg, 1, dept="LINDE", finance_system=None, first=20)
    payments(zorg, 2, dept="SHOP")
    payments(zorg, 1, dept="ADM", finance_system=None, first=50)
    db.session.commit()

    orders = run_now(vctx.profile("purchase_orders"), **WINDOW)
    assert orders.status == "exported", orders.error_reason
    assert_valid(openapi, orders)
    sent = sorted(body["description"]["value"].split()[0] for _k, _n, body in records("purchaseorder"))
    assert sent == ["PO00000", "PO00001"]
    assert {r.payload["department"] for r in rows(orders)} == {"SHOP"}
    [item] = _left_out(orders)
    assert item["message"] == ("8 records of departments whose finance system is not Visma.net are left "
                               "out: ADM, LINDE.")

    paid = run_now(vctx.profile("payments"), **WINDOW)
    assert paid.status == "exported", paid.error_reason
    assert sorted(body["invoiceText"]["value"] for _k, _n, body in records("customerPayment")) \
        == ["R000000 SHOP", "R000001 SHOP"]
    [item] = _left_out(paid)
    assert item["message"] == ("1 record of a department whose finance system is not Visma.net is left out: "
                               "ADM.")  # the singular form


def test_a_file_export_of_the_same_orders_keeps_every_department(sctx):
    from portal.exporting import services
    from tests.factories import start_and_run
    zorg, _thuis, _test = companies()
    purchase_orders(zorg, 1, dept="SHOP")
    purchase_orders(zorg, 1, dept="ADM", finance_system=None, first=10)
    db.session.commit()
    profile = services.create_profile(name="Orders file", export_type="purchase_orders", provider="file",
                                      options={"format": "csv"}, sync_type="full")
    run = start_and_run(profile, "production", **WINDOW)
    assert run.status == "exported"
    assert {r.payload["department"] for r in rows(run)} == {"SHOP", "ADM"}
    assert _left_out(run) == []
