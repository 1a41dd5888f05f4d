"""The ERP API stand-in, at ``/sandbox/api`` with Visma.net's own paths below it.

Every request: a bearer token (the company comes from it), the company's faults, the X-RateLimit-*
headers, validation against the OpenAPI description, then Visma.net's business rules; every answer
is recorded for the received-requests page.
"""
import json
from functools import wraps

from flask import request

from . import bp, connect, erp, faults, received, spec
from .connect import ERP_SCOPE_PREFIX, OAuthError
from .erp import VismaError
from .views import machine_endpoint
from ..validation import parse_int

API = "/api"
POLICY = "4-fixed-window"


def _json_response(payload, status, headers=None):
    from flask import current_app
    body = "" if payload is None else json.dumps(payload)
    response = current_app.response_class(body, status=status,
                                          mimetype="application/json" if body else None)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _bearer():
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _request_text():
    data = request.get_data(cache=True)
    return data.decode("utf-8", "replace") if data else None


def _finish(response, company_id):
    text = response.get_data(as_text=True) if response.status_code >= 400 or request.method == "GET" else None
    received.record(request.method, request.full_path.rstrip("?"), company_id, response.status_code,
                    _request_text(), text)
    return response


def _unauthorized(error):
    body = erp.VismaError(401, "Authorization has been denied for this request.", fault_code="12009",
                          details=error.description, exception_type="UnauthorizedAccessException").body()
    return _json_response(body, 401, {
        "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{error.description}"'})


def api_route(rule, methods=("GET",)):
    """Register a Visma.net API path; the view gets the company and the path arguments."""
    def decorate(handler):
        @wraps(handler)
        def view(**kwargs):
            try:
                company_id, scopes = connect.access_token_company(_bearer())
            except OAuthError as error:
                return _finish(_unauthorized(error), None)
            limit, used, reset = faults.rate_limit_state(company_id)
            response = _answer(handler, company_id, scopes, kwargs, (limit, used, reset))
            response.headers["X-RateLimit-Limit"] = str(limit)
            response.headers["X-RateLimit-Remaining"] = str(max(limit - used - 1, 0))
            response.headers["X-RateLimit-Reset"] = str(reset)
            response.headers["X-RateLimit-Policy"] = POLICY
            response = _finish(response, company_id)
            faults.after_api_request(company_id)
            return response
        view.__name__ = "api_" + handler.__name__
        view = machine_endpoint(view)
        bp.add_url_rule(API + rule, endpoint=view.__name__, view_func=view, methods=list(methods))
        return handler
    return decorate


def _answer(handler, company_id, scopes, kwargs, rate_limit):
    company = connect.company(company_id)
    fault = faults.before_api_request(company_id)
    limit, used, reset = rate_limit
    if fault and fault[0] == "429" or used >= limit:
        retry_after = fault[1] if fault and fault[0] == "429" else reset
        body = VismaError(429, f"Rate limit is exceeded. Try again in {retry_after} seconds.",
                          fault_code="429", exception_type="RateLimitExceededException").body()
        return _json_response(body, 429, {"Retry-After": str(retry_after)})
    if fault and fault[0] == "500":
        body = VismaError(500, "An error has occurred.", fault_code="500",
                          details="Switched on by the sandbox's '500 errors' fault.",
                          exception_type="Exception").body()
        return _json_response(body, 500)
    needed = ERP_SCOPE_PREFIX + ("read" if request.method == "GET" else "create")
    if needed not in scopes:
        body = VismaError(403, f"The access token does not grant the scope {needed}.", fault_code="12010",
                          exception_type="UnauthorizedAccessException").body()
        return _json_response(body, 403)
    path = request.path[len(bp.url_prefix + API):]
    problems = spec.validate(request.method, path, request.args.items(multi=True),
                             request.get_data(cache=True), request.content_type)
    if problems:
        error = VismaError(400, "The request is invalid: " + problems[0], details="\n".join(problems))
        return _json_response(error.body(), 400)
    try:
        status, payload, headers = handler(company, **kwargs)
    except VismaError as error:
        return _json_response(error.body(), error.status)
    return _json_response(payload, status, headers)


def _ok(payload):
    return 200, payload, None


def _int_arg(name):
    value = request.args.get(name)
    return parse_int(value)


def _listing(items):
    """A page of ``items``, each with Visma.net's ``metadata`` (total count, maximum page size)."""
    total = len(items)
    chosen = erp.page(items, _int_arg("pageNumber"), _int_arg("pageSize"))
    return [dict(item, metadata={"totalCount": total, "maxPageSize": erp.MAX_PAGE_SIZE}) for item in chosen]


# ------------------------------------------------------------------------------- reference data

@api_route("/v1/dimension")
def dimensions(company):
    return _ok(erp.DIMENSIONS)


@api_route("/v1/dimension/<dimension_id>")
def dimension(company, dimension_id):
    with_values = request.args.get("expandSegmentsValues", "true").lower() != "false"
    return _ok(erp.dimension(dimension_id, with_values))


@api_route("/v1/dimension/<dimension_id>/<segment_id>")
def dimension_segment(company, dimension_id, segment_id):
    return _ok(erp.segment(dimension_id, segment_id))


@api_route("/v1/branch")
def branches(company):
    return _ok(erp.branches(company))


@api_route("/v1/branch/<branch_number>")
def branch(company, branch_number):
    for item in erp.branches(company):
        if item["number"] == branch_number:
            return _ok(item)
    raise erp.not_found(f"Branch '{branch_number}'")


@api_route("/v1/financialPeriod")
def financial_periods(company):
    return _ok(erp.financial_periods(company, request.args.get("greaterThanValue")))


@api_route("/v1/financialPeriod/<period_id>")
def financial_period(company, period_id):
    for item in erp.financial_periods(company):
        if item["period"] == period_id:
            return _ok(item)
    raise erp.not_found(f"Financial period '{period_id}'")


@api_route("/v1/customer")
def customers(company):
    items = [erp.customer_dto(n) for n in erp.customer_numbers()]
    name, status = request.args.get("name"), request.args.get("status")
    items = [c for c in items if (not name or c["name"] == name) and (not status or c["status"] == status)]
    return _ok(_listing(items))


@api_route("/v1/customer/<customer_cd>")
def customer(company, customer_cd):
    if not erp.is_customer(customer_cd):
        raise erp.not_found(f"Customer '{customer_cd}'")
    return _ok(erp.customer_dto(customer_cd))


@api_route("/v1/supplier")
def suppliers(company):
    first = erp.C.SUPPLIER_NUMBER_FIRST
    return _ok(_listing([erp.supplier_dto(n) for n in range(first, first + erp.C.SUPPLIER_COUNT)]))


@api_route("/v1/supplier/<supplier_cd>")
def supplier(company, supplier_cd):
    if not erp.is_supplier(supplier_cd):
        raise erp.not_found(f"Supplier '{supplier_cd}'")
    return _ok(erp.supplier_dto(supplier_cd))


@api_route("/v1/inventory/itemClass")
def item_classes(company):
    return _ok(erp.item_classes())


@api_route("/v1/inventory/itemclass/<item_class>")
def item_class(company, item_class):
    for item in erp.item_classes():
        if item["id"] == item_class:
            return _ok(item)
    raise erp.not_found(f"Item class '{item_class}'")


@api_route("/v1/paymentmethod")
def payment_methods(company):
    return _ok(erp.payment_methods())


@api_route("/v1/paymentmethod/<method>")
def payment_method(company, method):
    for item in erp.payment_methods():
        if item["paymentMethodID"] == method:
            return _ok(item)
    raise erp.not_found(f"Payment method '{method}'")


# ------------------------------------------------------------------------------------- documents

def _create(company, kind, location_path):
    record = erp.create(company, kind, request.get_json(silent=True))
    location = request.host_url.rstrip("/") + bp.url_prefix + API + location_path(record)
    return 201, None, {"Location": location}


def _filtered(company, kind, filters):
    """Every record of ``kind`` as DTOs, kept when each given query filter matches."""
    items = [erp.DTOS[kind](record) for record in erp.records(company.id, kind)]
    for name, pick in filters.items():
        wanted = request.args.get(name)
        if wanted:
            items = [item for item in items if str(pick(item)) == wanted]
    return items


@api_route("/v2/journaltransaction", methods=("POST",))
def create_journal_transaction(company):
    return _create(company, "journaltransaction", lambda r: f"/v2/journaltransaction/{r.number}")


@api_route("/v2/journaltransaction")
def journal_transactions(company):
    if not request.args.get("periodId") and not request.args.get("lastModifiedDateTime"):
        raise VismaError(400, "PeriodId is mandatory if LastModifiedDateTime is not provided.")
    items = _filtered(company, "journaltransaction", {
        "periodId": lambda i: i["financialPeriod"], "branch": lambda i: i["branch"],
        "module": lambda i: i["module"].removeprefix("Module"), "status": lambda i: i["status"]})
    return _ok(_listing(items))


@api_route("/v2/journaltransaction/<number>")
def journal_transaction(company, number):
    return _ok(erp.journal_transaction_dto(erp.record_or_404(company.id, "journaltransaction", number)))


@api_route("/v2/customerinvoice", methods=("POST",))
def create_customer_invoice(company):
    return _create(company, "customerinvoice", lambda r: f"/v1/customerinvoice/{r.number}")


@api_route("/v1/customerinvoice")
def customer_invoices(company):
    items = _filtered(company, "customerinvoice", {
        "customerRefNumber": lambda i: i["customerRefNumber"],
        "externalReference": lambda i: i["externalReference"],
        "customer": lambda i: i["customer"]["number"], "financialPeriod": lambda i: i["financialPeriod"],
        "status": lambda i: i["status"]})
    return _ok(_listing(items))


@api_route("/v1/customerinvoice/<number>")
def customer_invoice(company, number):
    return _ok(erp.customer_invoice_dto(erp.record_or_404(company.id, "customerinvoice", number)))


@api_route("/v1/customerPayment", methods=("POST",))
def create_customer_payment(company):
    return _create(company, "customerPayment", lambda r: f"/v1/customerPayment/{r.number}")


@api_route("/v1/customerPayment")
def customer_payments(company):
    items = _filtered(company, "customerPayment", {
        "paymentNbr": lambda i: i["refNbr"], "customer": lambda i: i["customer"]["number"],
        "financialPeriod": lambda i: i["applicationPeriod"], "paymentType": lambda i: i["type"],
        "status": lambda i: i["status"]})
    return _ok(_listing(items))


@api_route("/v1/customerPayment/<number>")
def customer_payment(company, number):
    return _ok(erp.customer_payment_dto(erp.record_or_404(company.id, "customerPayment", number)))


@api_route("/v1/customerCreditNote", methods=("POST",))
def create_customer_credit_note(company):
    return _create(company, "customerCreditNote", lambda r: f"/v1/customerCreditNote/{r.number}")


@api_route("/v1/customerCreditNote")
def customer_credit_notes(company):
    items = _filtered(company, "customerCreditNote", {
        "externalReference": lambda i: i["externalReference"], "customerRefNumber": lambda i: i["customerRefNumber"],
        "financialPeriod": lambda i: i["financialPeriod"]})
    return _ok(_listing(items))


@api_route("/v1/customerCreditNote/<number>")
def customer_credit_note(company, number):
    return _ok(erp.customer_credit_note_dto(erp.record_or_404(company.id, "customerCreditNote", number)))


@api_route("/v1/customerPayment/<number>/action/void", methods=("POST",))
def void_customer_payment(company, number):
    erp.void_payment(company, number, request.get_json(silent=True))
    return 204, None, None


def _update(company, kind, number):
    erp.update(company, kind, number, request.get_json(silent=True))
    return 204, None, None


@api_route("/v1/purchaseorder/<number>", methods=("PUT",))
def update_purchase_order(company, number):
    return _update(company, "purchaseorder", number)


@api_route("/v1/inventory/<number>", methods=("PUT",))
def update_inventory(company, number):
    return _update(company, "inventory", number)


@api_route("/v1/KitSpecifications/<kit>/<revision>", methods=("PUT",))
def update_kit_specification(company, kit, revision):
    return _update(company, "KitSpecifications", f"{kit}/{revision}")


@api_route("/v1/purchaseorder", methods=("POST",))
def create_purchase_order(company):
    return _create(company, "purchaseorder", lambda r: f"/v1/purchaseorder/{r.number}")


@api_route("/v1/purchaseorder")
def purchase_orders(company):
    items = _filtered(company, "purchaseorder", {
        "supplier": lambda i: i["supplier"]["number"], "orderType": lambda i: i["orderType"],
        "orderStatus": lambda i: i["status"]})
    return _ok(_listing(items))


@api_route("/v1/purchaseorder/<number>")
def purchase_order(company, number):
    return _ok(erp.purchase_order_dto(erp.record_or_404(company.id, "purchaseorder", number)))


@api_route("/v1/inventory", methods=("POST",))
def create_inventory(company):
    return _create(company, "inventory", lambda r: f"/v1/inventory/{r.number}")


@api_route("/v1/inventory")
def inventory_items(company):
    items = _filtered(company, "inventory", {
        "inventoryNumber": lambda i: i["inventoryNumber"], "description": lambda i: i["description"],
        "status": lambda i: i["status"]})
    return _ok(_listing(items))


@api_route("/v1/inventory/<number>")
def inventory_item(company, number):
    return _ok(erp.inventory_dto(erp.record_or_404(company.id, "inventory", number)))


@api_route("/v1/KitSpecifications", methods=("POST",))
def create_kit_specification(company):
    return _create(company, "KitSpecifications", lambda r: f"/v1/KitSpecifications/{r.number}")


@api_route("/v1/KitSpecifications")
def kit_specifications(company):
    items = _filtered(company, "KitSpecifications", {
        "kitInventoryID": lambda i: i["kitInventoryID"], "revisionID": lambda i: i["revision"]})
    page_number, page_size = _int_arg("pageNumber") or 1, _int_arg("pageSize") or erp.MAX_PAGE_SIZE
    return _ok({"pageNumber": page_number, "pageSize": min(page_size, erp.MAX_PAGE_SIZE),
                "totalCount": len(items), "records": erp.page(items, page_number, page_size)})


@api_route("/v1/KitSpecifications/<kit>")
def kit_specifications_of(company, kit):
    items = [erp.kit_specification_dto(r) for r in erp.records(company.id, "KitSpecifications")
             if r.number.partition("/")[0] == kit]
    if not items:
        raise erp.not_found(f"Kit specification '{kit}'")
    return _ok(items)


@api_route("/v1/KitSpecifications/<kit>/<revision>")
def kit_specification(company, kit, revision):
    record = erp.record_or_404(company.id, "KitSpecifications", f"{kit}/{revision}")
    return _ok(erp.kit_specification_dto(record))


@bp.route(API + "/<path:anything>", methods=["GET", "POST", "PUT", "DELETE"])
@machine_endpoint
def api_unknown(anything):
    """A path the sandbox does not serve: Visma.net's 404 (after the token check, like Visma.net)."""
    try:
        company_id, _scopes = connect.access_token_company(_bearer())
    except OAuthError as error:
        return _finish(_unauthorized(error), None)
    body = VismaError(404, f"No HTTP resource was found that matches the request URI '/{anything}'.",
                      fault_code="12008", exception_type="NotFoundException").body()
    return _finish(_json_response(body, 404), company_id)
