"""The ERP API stand-in over real HTTP: reference data, documents, Visma.net's rules and error shape."""
import json
import requests

from portal.sandbox import spec

from .conftest import (COMPANY, REDIRECT_URI, Api, inventory_item, invoice, journal, kit, payment,
                       purchase_order)

ERROR_FIELDS = {"ExceptionType", "ExceptionMessage", "ExceptionFaultCode", "ExceptionMessageID",
                "ExceptionDetails"}


def assert_visma_error(answer, status, *fragments):
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == ERROR_FIELDS
    assert body["ExceptionMessageID"].startswith(body["ExceptionFaultCode"] + "_")
    for fragment in fragments:
        assert fragment in body["ExceptionMessage"], body
    return body


def assert_matches_spec(answer, path, **query):
    """The sandbox's answer has the shape the OpenAPI description gives Visma.net's."""
    problems = spec.validate_response("GET", path, query.items(), answer.status_code, answer.content)
    assert problems == [], problems


def test_rate_limit_headers_on_every_answer(api):
    answer = api.get("/v1/branch")
    assert answer.status_code == 200
    assert int(answer.headers["X-RateLimit-Limit"]) == 5000
    assert int(answer.headers["X-RateLimit-Remaining"]) == 4999
    assert int(answer.headers["X-RateLimit-Reset"]) >= 1
    assert answer.headers["X-RateLimit-Policy"] == "4-fixed-window"
    assert int(api.get("/v1/branch").headers["X-RateLimit-Remaining"]) == 4998


def test_the_real_rate_limit_answers_429_with_retry_after(api, app):
    app.config["SANDBOX_RATE_LIMIT"] = 2
    assert api.get("/v1/branch").status_code == 200
    assert api.get("/v1/branch").status_code == 200
    answer = api.get("/v1/branch")
    assert_visma_error(answer, 429, "Rate limit")
    assert int(answer.headers["Retry-After"]) >= 1
    assert answer.headers["X-RateLimit-Remaining"] == "0"


def test_missing_wrong_and_expired_tokens_are_401(live_server, api):
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        answer = requests.get(api.base + "/v1/branch", headers=headers, timeout=10)
        assert_visma_error(answer, 401, "Authorization has been denied")
        assert answer.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_a_token_without_the_create_scope_cannot_post(connect, live_server):
    code, _s, _r, verifier = connect.authorize(scope="offline_access vismanet_erp_interactive_api:read")
    token = connect.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                          code_verifier=verifier).json()["access_token"]
    api = Api(live_server.url, token)
    assert api.get("/v1/branch").status_code == 200
    assert_visma_error(api.post("/v2/journaltransaction", journal()), 403, "vismanet_erp_interactive_api:create")


def test_dimensions_with_cost_centres_and_cost_units(api):
    answer = api.get("/v1/dimension")
    assert answer.status_code == 200 and "SUBACCOUNT" in answer.json()
    assert_matches_spec(answer, "/v1/dimension")
    answer = api.get("/v1/dimension/SUBACCOUNT")
    assert_matches_spec(answer, "/v1/dimension/SUBACCOUNT")
    segments = {s["segmentId"]: s for s in answer.json()["segments"]}
    assert segments[1]["description"] == "Cost centre"
    assert segments[2]["description"] == "Cost unit"
    assert {v["valueId"]: v["description"] for v in segments[1]["segmentValues"]}["110"] == "Home care North"
    assert {v["valueId"] for v in segments[2]["segmentValues"]} == {"P01", "P02", "P03", "P04", "P05"}
    bare = api.get("/v1/dimension/SUBACCOUNT", expandSegmentsValues="false").json()
    assert all(s["segmentValues"] == [] for s in bare["segments"])
    one = api.get("/v1/dimension/SUBACCOUNT/2")
    assert one.json()["description"] == "Cost unit"
    assert_visma_error(api.get("/v1/dimension/NOPE"), 404, "NOPE")


def test_branches_periods_item_classes_payment_methods(api):
    answer = api.get("/v1/branch")
    assert_matches_spec(answer, "/v1/branch")
    assert [b["number"] for b in answer.json()] == ["MAIN", "NORTH", "SOUTH"]
    main = answer.json()[0]
    assert main["isMainBranch"] and main["name"] == "Zorggroep Rivierenland (Visma.net)"
    assert_visma_error(api.get("/v1/branch/WEST"), 404, "WEST")
    assert api.get("/v1/branch/NORTH").json()["number"] == "NORTH"
    periods = api.get("/v1/financialPeriod")
    assert_matches_spec(periods, "/v1/financialPeriod")
    by_period = {p["period"]: p for p in periods.json()}
    assert by_period["202412"]["closedInGeneralLedger"] is True
    assert by_period["202501"]["closedInGeneralLedger"] is False
    later = api.get("/v1/financialPeriod", greaterThanValue="2026").json()
    assert later[0]["period"] == "202601"
    classes = api.get("/v1/inventory/itemClass")
    assert_matches_spec(classes, "/v1/inventory/itemClass")
    assert {c["id"]: c["type"] for c in classes.json()} == {"STOCK": "FinishedGoodItem",
                                                            "NONSTOCK": "NonStockItem"}
    methods = api.get("/v1/paymentmethod")
    assert_matches_spec(methods, "/v1/paymentmethod")
    assert {m["paymentMethodID"] for m in methods.json()} == {"CASH", "CARD", "MOBILEPAY", "GIFTCARD"}
    assert api.get("/v1/financialPeriod/202503").json()["closedInGeneralLedger"] is False
    assert_visma_error(api.get("/v1/financialPeriod/203001"), 404)
    assert api.get("/v1/inventory/itemclass/STOCK").json()["type"] == "FinishedGoodItem"
    assert_visma_error(api.get("/v1/inventory/itemclass/FOOD"), 404, "FOOD")
    assert api.get("/v1/paymentmethod/CARD").json()["paymentMethodID"] == "CARD"
    assert_visma_error(api.get("/v1/paymentmethod/BITCOIN"), 404, "BITCOIN")


def test_customers_paged_and_one_by_number(api):
    first = api.get("/v1/customer", pageNumber=1, pageSize=500)
    assert_matches_spec(first, "/v1/customer", pageNumber="1", pageSize="500")
    body = first.json()
    assert len(body) == 500 and body[0]["number"] == "10001"
    assert body[0]["metadata"] == {"totalCount": 2000, "maxPageSize": 1000}
    last = api.get("/v1/customer", pageNumber=4, pageSize=500).json()
    assert last[-1]["number"] == "12000"
    assert len(api.get("/v1/customer", pageSize=5000).json()) == 1000
    assert api.get("/v1/customer/10042").json()["name"] == "Customer 10042"
    assert_visma_error(api.get("/v1/customer/99999"), 404, "99999")
    assert api.get("/v1/supplier/70001").status_code == 200
    assert_visma_error(api.get("/v1/supplier/79999"), 404)


def test_journal_transaction_created_and_found_by_period_and_reference(api):
    answer = api.post("/v2/journaltransaction", journal("RUN-2025-03"))
    assert answer.status_code == 201, answer.text
    location = answer.headers["Location"]
    assert location.startswith(api.base + "/v2/journaltransaction/")
    number = location.rsplit("/", 1)[1]
    fetched = requests.get(location, headers=api.headers(), timeout=10)
    assert fetched.status_code == 200
    assert_matches_spec(fetched, f"/v2/journaltransaction/{number}")
    assert fetched.json()["batchNumber"] == number
    # A correction for February with the normal run's reference, booked in February.
    assert api.post("/v2/journaltransaction", journal("RUN-2025-03", date="2025-02-28T00:00:00Z")).status_code == 201
    march = api.get("/v2/journaltransaction", periodId="202503")
    assert_matches_spec(march, "/v2/journaltransaction", periodId="202503")
    assert [t["batchNumber"] for t in march.json()] == [number]
    lines = march.json()[0]["journalTransactionLines"]
    assert lines[0]["referenceNumber"] == "RUN-2025-03"
    assert lines[0]["subaccount"]["segments"] == [{"segmentId": 1, "segmentValue": "110"},
                                                  {"segmentId": 2, "segmentValue": "P01"}]
    assert len(api.get("/v2/journaltransaction", periodId="202502").json()) == 1
    assert_visma_error(api.get("/v2/journaltransaction"), 400, "PeriodId")


def test_journal_transaction_rejections(api):
    assert_visma_error(api.post("/v2/journaltransaction", journal(debit=1000, credit=999.99)), 400,
                       "out of balance")
    assert_visma_error(api.post("/v2/journaltransaction", journal(date="2024-12-31T00:00:00Z")), 400,
                       "12-2024 is closed")
    assert_visma_error(api.post("/v2/journaltransaction", journal(account="9999")), 400, "'9999'")
    assert_visma_error(api.post("/v2/journaltransaction", journal(segments=(("1", "999"),))), 400,
                       "Cost centre")
    assert api.get("/v2/journaltransaction", periodId="202412").json() == []


def test_invalid_bodies_get_visma_errors_naming_the_field(api):
    body = journal()
    body["journalTransactionLines"][0]["debitAmountInCurrency"] = {"value": "a lot"}
    error = assert_visma_error(api.post("/v2/journaltransaction", body), 400, "The request is invalid")
    assert "journalTransactionLines.0.debitAmountInCurrency.value" in error["ExceptionDetails"]
    body = journal()
    body["journalTransactionLines"][0]["operation"] = "Upsert"
    assert_visma_error(api.post("/v2/journaltransaction", body), 400, "operation")
    body = invoice()
    body["customerNumber"] = "10001"  # not wrapped in {"value": …}
    assert_visma_error(api.post("/v2/customerinvoice", body), 400, "customerNumber")
    body = payment()
    body["paymentAmmount"] = {"value": 1}  # misspelt: refused
    assert_visma_error(api.post("/v1/customerPayment", body), 400, "paymentAmmount")
    answer = requests.post(api.base + "/v2/journaltransaction", data="{not json",
                           headers={**api.headers(), "Content-Type": "application/json"}, timeout=10)
    assert_visma_error(answer, 400)
    assert_visma_error(api.get("/v1/customer", status="Bogus"), 400, "status")


def test_customer_invoice(api):
    answer = api.post("/v2/customerinvoice", invoice("INV-1"))
    assert answer.status_code == 201, answer.text
    number = answer.headers["Location"].rsplit("/", 1)[1]
    assert "/v1/customerinvoice/" in answer.headers["Location"]
    found = api.get("/v1/customerinvoice", customerRefNumber="INV-1")
    assert_matches_spec(found, "/v1/customerinvoice", customerRefNumber="INV-1")
    assert [i["referenceNumber"] for i in found.json()] == [number]
    assert api.get("/v1/customerinvoice", customerRefNumber="INV-2").json() == []
    assert_visma_error(api.post("/v2/customerinvoice", invoice("INV-2", customer="99999")), 400,
                       "Customer '99999'")
    assert_visma_error(api.post("/v2/customerinvoice", invoice("INV-3", date="2024-06-01T00:00:00Z")), 400,
                       "closed")


def test_customer_payment(api):
    answer = api.post("/v1/customerPayment", payment("POS-1"))
    assert answer.status_code == 201, answer.text
    number = answer.headers["Location"].rsplit("/", 1)[1]
    found = api.get("/v1/customerPayment", customer="10001", financialPeriod="202503")
    assert_matches_spec(found, "/v1/customerPayment", customer="10001", financialPeriod="202503")
    assert [(p["refNbr"], p["paymentRef"]) for p in found.json()] == [(number, "POS-1")]
    assert api.get(f"/v1/customerPayment/{number}").json()["paymentMethod"]["id"] == "CASH"
    assert_visma_error(api.post("/v1/customerPayment", payment("POS-2", method="BITCOIN")), 400,
                       "Payment method 'BITCOIN' does not exist")
    assert_visma_error(api.post("/v1/customerPayment", payment("POS-3", customer="1")), 400, "Customer '1'")


def test_purchase_order(api):
    answer = api.post("/v1/purchaseorder", purchase_order("PO-1"))
    assert answer.status_code == 201, answer.text
    found = api.get("/v1/purchaseorder", supplier="70001")
    assert_matches_spec(found, "/v1/purchaseorder", supplier="70001")
    assert found.json()[0]["supplierRef"] == "PO-1"
    assert_visma_error(api.post("/v1/purchaseorder", purchase_order("PO-2", supplier="80000")), 400,
                       "Supplier '80000' was not found")


def test_inventory_items_and_kits(api):
    assert api.post("/v1/inventory", inventory_item("RAW-1")).status_code == 201
    assert api.post("/v1/inventory", inventory_item("RAW-2", kind=None)).status_code == 201
    answer = api.post("/v1/inventory", inventory_item("BREAD", "NONSTOCK", "NonStockItem"))
    assert answer.status_code == 201
    assert answer.headers["Location"].endswith("/v1/inventory/BREAD")
    item = api.get("/v1/inventory/BREAD")
    assert_matches_spec(item, "/v1/inventory/BREAD")
    assert item.json()["type"] == "NonStockItem"
    assert [i["inventoryNumber"] for i in api.get("/v1/inventory", inventoryNumber="RAW-1").json()] == ["RAW-1"]
    # Visma.net is strict about item classes and the item types they are for.
    assert_visma_error(api.post("/v1/inventory", inventory_item("RAW-3", "NONSTOCK", "FinishedGoodItem")), 400,
                       "Item class 'NONSTOCK'")
    assert_visma_error(api.post("/v1/inventory", inventory_item("RAW-4", "FOOD")), 400,
                       "Item class 'FOOD' does not exist")
    assert_visma_error(api.post("/v1/inventory", inventory_item("RAW-1")), 400, "already exists")
    # The kit: a non-stock item with its raw materials (stock items).
    answer = api.post("/v1/KitSpecifications", kit("BREAD", ("RAW-1", "RAW-2")))
    assert answer.status_code == 201, answer.text
    assert answer.headers["Location"].endswith("/v1/KitSpecifications/BREAD/1")
    found = api.get("/v1/KitSpecifications", kitInventoryID="BREAD")
    assert_matches_spec(found, "/v1/KitSpecifications", kitInventoryID="BREAD")
    record = found.json()["records"][0]
    assert [c["componentID"] for c in record["stockComponentLines"]] == ["RAW-1", "RAW-2"]
    assert api.get("/v1/KitSpecifications/BREAD/1").json()["kitInventoryID"] == "BREAD"
    assert_visma_error(api.post("/v1/KitSpecifications", kit("BREAD")), 400, "already exists")
    assert_visma_error(api.post("/v1/KitSpecifications", kit("CAKE")), 400, "'CAKE' was not found")
    assert api.post("/v1/inventory", inventory_item("CAKE", "NONSTOCK", "NonStockItem")).status_code == 201
    assert_visma_error(api.post("/v1/KitSpecifications", kit("CAKE", ("SUGAR",))), 400, "'SUGAR' was not found")
    assert_visma_error(api.post("/v1/KitSpecifications", kit("CAKE", ("BREAD",))), 400, "not a stock item")


def test_the_company_comes_from_the_token(connect, live_server, api):
    assert api.post("/v1/customerPayment", payment("POS-1")).status_code == 201
    other = Api(live_server.url, connect.tokens("1000002")["access_token"])
    assert other.get("/v1/customerPayment", customer="10001").json() == []
    assert len(api.get("/v1/customerPayment", customer="10001").json()) == 1


def test_unknown_paths_are_404_in_visma_shape(api):
    assert_visma_error(api.get("/v1/nothing/here"), 404)


def test_api_requests_are_recorded(api, app):
    api.post("/v1/customerPayment", payment("POS-9"))
    api.get("/v1/customer/99999")
    from portal.extensions import db
    from portal.models.sandbox import SandboxRequest
    with app.app_context():
        rows = db.session.execute(db.select(SandboxRequest).where(SandboxRequest.path.like("/sandbox/api/%"))
                                  .order_by(SandboxRequest.id)).scalars().all()
    assert [(r.method, r.path, r.company_id, r.status) for r in rows] == [
        ("POST", "/sandbox/api/v1/customerPayment", COMPANY, 201),
        ("GET", "/sandbox/api/v1/customer/99999", COMPANY, 404)]
    assert '"POS-9"' in rows[0].request_body
    assert "ExceptionMessage" in rows[1].response_body


def test_look_ups_for_idempotent_delivery(api):
    """What a provider asks before sending again after a crash: "did my record arrive?"."""
    # Numbers chosen by the sender (overrideNumberSeries): a direct GET, and a second POST is refused.
    order = dict(purchase_order("PO-7"), orderNumber={"value": "PO-7"}, overrideNumberSeries={"value": True})
    assert_visma_error(api.get("/v1/purchaseorder/PO-7"), 404)
    assert api.post("/v1/purchaseorder", order).headers["Location"].endswith("/v1/purchaseorder/PO-7")
    assert api.get("/v1/purchaseorder/PO-7").json()["supplierRef"] == "PO-7"
    assert_visma_error(api.post("/v1/purchaseorder", order), 400, "'PO-7' already exists")
    pay = dict(payment("POS-7"), referenceNumber={"value": "POS-7"}, overrideNumberSeries={"value": True})
    assert api.post("/v1/customerPayment", pay).status_code == 201
    assert api.get("/v1/customerPayment/POS-7").json()["paymentRef"] == "POS-7"
    assert [p["refNbr"] for p in api.get("/v1/customerPayment", paymentNbr="POS-7").json()] == ["POS-7"]
    # Numbers Visma.net chooses: found by the sender's reference.
    body = dict(invoice("INV-7"), externalReference={"value": "EXT-7"})
    assert api.post("/v2/customerinvoice", body).status_code == 201
    assert len(api.get("/v1/customerinvoice", externalReference="EXT-7").json()) == 1
    assert len(api.get("/v1/customerinvoice", customer="10001", financialPeriod="202503").json()) == 1
    assert api.post("/v2/journaltransaction", journal("RUN-7")).status_code == 201
    found = api.get("/v2/journaltransaction", periodId="202503", module="GL").json()
    assert [t["journalTransactionLines"][0]["referenceNumber"] for t in found] == ["RUN-7"]
    assert api.get("/v2/journaltransaction", periodId="202503", branch="NORTH").json() == []


def test_the_sandbox_keeps_a_large_request_body_whole(api, app):
    """Issue 9: a journal of hundreds of lines (well over 20,000 characters) is kept as it was sent."""
    from portal.models.sandbox import SandboxRequest
    from portal.extensions import db
    body = journal()
    line = body["journalTransactionLines"][0]
    body["journalTransactionLines"] = [dict(line, lineNumber={"value": n}) for n in range(1, 301)] + [
        dict(body["journalTransactionLines"][1], lineNumber={"value": 301},
             creditAmountInCurrency={"value": 300 * line["debitAmountInCurrency"]["value"]})]
    answer = api.post("/v2/journaltransaction", body)
    assert answer.status_code == 201, answer.text
    with app.app_context():
        kept = db.session.execute(db.select(SandboxRequest).where(SandboxRequest.method == "POST")
                                  .order_by(SandboxRequest.id.desc())).scalars().first()
        assert len(kept.request_body) > 20000
        assert json.loads(kept.request_body) == body
