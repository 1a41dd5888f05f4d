"""Stop on error (seed 004) for payments, purchase orders and products: the first rejected record stops the
profile's sync with Visma.net's message as it came; runs are refused until someone resumes; resume goes on
from that record once the problem is solved."""
import pytest

from portal.exporting import services, sync
from portal.exporting.errors import ExportError
from portal.exporting.providers.visma_net import stop_state, stopped_profiles
from portal.exporting.report import report
from portal.extensions import db

from .conftest import (
    WINDOW, assert_valid, companies, documents, execute, faults, payments, products, purchase_orders, received, records,
    rows, run_now,
)


def test_the_first_rejected_payment_stops_the_sync_until_it_is_resumed(vctx, openapi):
    zorg, _thuis, _test = companies()
    vctx.authorise()
    vctx.map(zorg)
    payments(zorg, 5)
    db.session.commit()
    profile = vctx.profile("payments")
    # A test run shows the documents a production run sends (the same references).
    preview = documents(run_now(profile, "test", **WINDOW))
    third = preview[2]
    message = "Payment method 'CASH' is not active for branch MAIN. Activate it under Payment methods."
    faults(reject_reference=third.reference, reject_message=message)

    run = run_now(profile, **WINDOW)
    assert run.status == "partially_processed", run.error_reason
    state = {r.record_key: (r.processed, r.error) for r in rows(run)}
    assert state == {"R000000": (True, None), "R000001": (True, None), "R000002": (False, message),
                     "R000003": (False, None), "R000004": (False, None)}
    assert len(records("customerPayment")) == 2
    assert len(received("POST", "/v1/customerPayment")) == 3        # nothing sent after the rejected one
    stop = stop_state(profile)
    assert stop is not None and stop.message == message and stop.record_key == "R000002"
    assert [(p.id, s.message) for p, s in stopped_profiles()] == [(profile.id, message)]
    assert "sync_stopped" in [i["code"] for i in report(run.id)["items"]]

    # Further production runs and exports are refused, with Visma.net's message as it came.
    for attempt in (lambda: services.start_run(profile.id, mode="production", **WINDOW),
                    lambda: services.request_export(run.id)):
        with pytest.raises(ExportError) as refused:
            attempt()
        assert refused.value.code == "sync_stopped" and message in str(refused.value)
    from flask_babel import force_locale
    with force_locale("nl"):
        with pytest.raises(ExportError) as refused:
            services.start_run(profile.id, mode="production", **WINDOW)
        assert "De synchronisatie is gestopt tot het probleem is opgelost" in str(refused.value)
        assert "Systeembericht van Visma.net: " + message in str(refused.value)

    # The problem is solved at Visma.net (the switch is spent); resume goes on from that record.
    resumed = services.resume_sync(profile.id)
    assert resumed.id == run.id and stop_state(profile) is None
    run = execute(run.id)
    assert run.status == "exported", run.error_reason
    assert_valid(openapi, run)
    assert sorted(b["invoiceText"]["value"].split()[0] for _k, _n, b in records("customerPayment")) == [
        f"R00000{i}" for i in range(5)]
    assert len(received("POST", "/v1/customerPayment")) == 6
    assert len(sync.current_ledger(profile.id)) == 5
    with pytest.raises(ExportError):
        services.resume_sync(profile.id)                                              # nothing to resume any more


def test_an_unknown_supplier_stops_the_purchase_order_sync(sctx):
    zorg, _thuis, _test = companies()
    sctx.authorise()
    sctx.map(zorg)
    purchase_orders(zorg, 2, supplier="80000")
    db.session.commit()
    profile = sctx.profile("purchase_orders")
    run = run_now(profile, **WINDOW)
    assert run.status == "partially_processed"
    assert stop_state(profile).message == "Supplier '80000' was not found."
    assert records("purchaseorder") == [] and len(received("POST", "/v1/purchaseorder")) == 1
    assert [r.error for r in rows(run)] == ["Supplier '80000' was not found.", "Supplier '80000' was not found.",
                                            None, None]


def test_a_wrong_item_class_stops_the_product_sync_and_resume_sends_the_rest(sctx, openapi):
    zorg, _thuis, _test = companies()
    sctx.authorise()
    sctx.map(zorg)
    products(zorg)
    db.session.commit()
    # The non-stock class given for stock items: Visma.net refuses the first raw material.
    profile = sctx.profile("products", item_class_stock="NONSTOCK", item_class_non_stock="NONSTOCK")
    run = run_now(profile, **WINDOW)
    assert run.status == "partially_processed"
    stop = stop_state(profile)
    assert stop.record_key == "ZORG/FLOUR" and "Item class 'NONSTOCK'" in stop.message
    assert records("inventory") == []
    # The consultant sets the right class and resumes: the sync goes on from that record.
    services.update_profile(profile.id, options={**profile.options, "item_class_stock": "STOCK"})
    run = execute(services.resume_sync(profile.id).id)
    # The prepared rows keep the options of their run's provider at export time: the class is read then.
    assert run.status == "exported", run.error_reason
    assert sorted(n for _k, n, _b in records("inventory")) == ["BREAD", "FLOUR", "SOAP", "YEAST"]
    assert [n for _k, n, _b in records("KitSpecifications")] == ["BREAD/1"]
    assert_valid(openapi, run)


@pytest.mark.parametrize("locale, words", [
    ("nl", ("Systeembericht", "De synchronisatie is gestopt tot het probleem is opgelost.", "Hervatten")),
    ("sv", ("Systemmeddelande", "Synkroniseringen har stoppats tills problemet är löst.", "Återuppta")),
    ("da", ("Systembesked", "Synkroniseringen er stoppet, indtil problemet er løst.", "Genoptag")),
])
def test_the_words_of_a_stopped_sync_are_the_glossarys(app, locale, words):
    from flask_babel import force_locale
    from portal.exporting.providers.visma_net import RESUME, SYNC_STOPPED, SYSTEM_MESSAGE
    with app.test_request_context(), force_locale(locale):
        assert (str(SYSTEM_MESSAGE), str(SYNC_STOPPED), str(RESUME)) == words


def test_a_rejected_kit_specification_stops_the_sync_and_says_so_in_the_counts(sctx):
    """Issue 9, point 9: the stop is recorded as a stop on error also when the kit specification (sent
    after every item) is the record Visma.net rejects."""
    zorg, _thuis, _test = companies()
    sctx.authorise()
    sctx.map(zorg)
    products(zorg)
    db.session.commit()
    faults(reject_reference="BREAD/1", reject_message="Kit specification 'BREAD' is locked.")
    profile = sctx.profile("products", item_class_stock="STOCK", item_class_non_stock="NONSTOCK")
    run = run_now(profile, **WINDOW)
    assert run.status == "partially_processed"
    assert run.counts["stopped_on_error"] is True
    stop = stop_state(profile)
    assert stop.record_key == "ZORG/BREAD" and stop.message == "Kit specification 'BREAD' is locked."
