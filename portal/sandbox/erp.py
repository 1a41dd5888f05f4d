"""The ERP API stand-in's knowledge: reference data, Visma.net's business rules, created records.

Reference data comes from ``portal.demo.constants`` (the same the demo seed uses). Business rules
reject what Visma.net rejects: unknown customer or supplier, a payment method or item class that
does not exist, a closed financial period, an unbalanced journal transaction, a duplicate number.
"""
import json
import uuid
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.exc import IntegrityError

from ..demo import constants as C
from ..extensions import db
from ..models.base import utcnow
from ..models.sandbox import SandboxRecord
from . import faults
from ..validation import parse_int

MAX_PAGE_SIZE = 1000
STOCK_TYPES = {"FinishedGoodItem", "ComponentPartItem", "SubassemblyItem"}
ITEM_CLASSES = {C.ITEM_CLASS_STOCK: ("FinishedGoodItem", "Stock items"),
                C.ITEM_CLASS_NON_STOCK: ("NonStockItem", "Non-stock items")}
ACCOUNTS = {number: description for number, description, *_rest in C.PAYROLL_ACCOUNTS + C.SALES_ACCOUNTS}
SEGMENTS = {1: (C.DIMENSION_DESCRIPTIONS["cost_centre"], C.COST_CENTRES),
            2: (C.DIMENSION_DESCRIPTIONS["cost_unit"], C.COST_UNITS)}
PAYMENT_METHOD_NAMES = {"CASH": "Cash", "CARD": "Card", "MOBILEPAY": "MobilePay", "GIFTCARD": "Gift card"}


class VismaError(Exception):
    """An answer in Visma.net's error shape."""

    def __init__(self, status, message, fault_code="12022", details=None, exception_type="IPPException"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.fault_code = fault_code
        self.details = details
        self.exception_type = exception_type

    def body(self):
        return {"ExceptionType": self.exception_type, "ExceptionMessage": self.message,
                "ExceptionFaultCode": self.fault_code,
                "ExceptionMessageID": f"{self.fault_code}_{uuid.uuid4()}",
                "ExceptionDetails": self.details or ""}


def not_found(what):
    return VismaError(404, f"{what} not found.", fault_code="12008", exception_type="NotFoundException")


# ------------------------------------------------------------------------------------ reference data

def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if isinstance(moment, datetime) \
        else f"{moment.isoformat()}T00:00:00Z"


REFERENCE_MODIFIED = "2025-01-01T00:00:00Z"


def customer_numbers():
    return range(C.DEBTOR_NUMBER_FIRST, C.DEBTOR_NUMBER_FIRST + C.DEBTOR_COUNT)


def is_customer(number):
    return parse_int(str(number)) in customer_numbers()


def is_supplier(number):
    number = parse_int(str(number))
    return number is not None and C.SUPPLIER_NUMBER_FIRST <= number < C.SUPPLIER_NUMBER_FIRST + C.SUPPLIER_COUNT


def customer_dto(number, total=None):
    dto = {"internalId": int(number), "number": str(number), "name": f"Customer {number}",
           "status": "Active", "currencyId": "EUR", "lastModifiedDateTime": REFERENCE_MODIFIED,
           "createdDateTime": REFERENCE_MODIFIED}
    if total is not None:
        dto["metadata"] = {"totalCount": total, "maxPageSize": MAX_PAGE_SIZE}
    return dto


def supplier_dto(number, total=None):
    dto = {"internalId": int(number), "number": str(number), "name": f"Supplier {number}",
           "status": "Active", "lastModifiedDateTime": REFERENCE_MODIFIED}
    if total is not None:
        dto["metadata"] = {"totalCount": total, "maxPageSize": MAX_PAGE_SIZE}
    return dto


def page(items, page_number, page_size):
    """Visma.net's pagination: pageNumber from 1, pageSize limited to the maximum."""
    size = min(max(page_size or MAX_PAGE_SIZE, 1), MAX_PAGE_SIZE)
    number = max(page_number or 1, 1)
    return items[(number - 1) * size: number * size]


def branches(company):
    # The main branch carries the company's name (the token only says the company's id).
    return [{"branchId": index + 1, "number": number,
             "name": company.name if index == 0 else f"{company.name} – {number.title()}",
             "organizationId": 1, "isMainBranch": index == 0, "isActive": True,
             "lastModifiedDateTime": REFERENCE_MODIFIED}
            for index, number in enumerate(C.SANDBOX_BRANCHES)]


def financial_periods(company, greater_than=None):
    """Periods of 2024 to 2027; before the first open period (and those closed by a test) closed."""
    periods = []
    for year in range(2024, 2028):
        for month in range(1, 13):
            period = f"{year}{month:02d}"
            if greater_than and period <= _greater_than(greater_than):
                continue
            closed = faults.is_closed(company, period)
            end = date(year + (month == 12), month % 12 + 1, 1)
            periods.append({
                "year": year, "period": period, "startDate": _iso(date(year, month, 1)),
                "endDate": _iso(end), "description": f"{date(year, month, 1):%B %Y}",
                "active": True, "closedInSupplierLedger": closed, "closedInCustomerLedger": closed,
                "closedInInventoryManagement": closed, "closedInGeneralLedger": closed,
                "closedInCashManagement": closed, "closedInFixedAssets": closed})
    return periods


def _greater_than(value):
    value = str(value)
    return value + "00" if len(value) == 4 else value


def item_classes():
    return [{"id": class_id, "type": kind, "description": description, "attributes": []}
            for class_id, (kind, description) in ITEM_CLASSES.items()]


def payment_methods():
    return [{"paymentMethodID": method, "active": True,
             "meansOfPayment": "CreditCard" if method in {"CARD", "MOBILEPAY"} else "CashOrCheck",
             "description": PAYMENT_METHOD_NAMES.get(method, method), "useInAP": False, "details": []}
            for method in C.PAYMENT_TYPES]


DIMENSIONS = ["ACCOUNT", "SUBACCOUNT"]


def dimension(dimension_id, with_values=True):
    if dimension_id == "SUBACCOUNT":
        segments = [_segment(segment_id, description, values, with_values)
                    for segment_id, (description, values) in SEGMENTS.items()]
        return {"id": "SUBACCOUNT", "length": sum(s["length"] for s in segments),
                "description": "Subaccount", "segments": segments}
    if dimension_id == "ACCOUNT":
        segment = _segment(1, "Account", sorted(ACCOUNTS.items()), with_values)
        return {"id": "ACCOUNT", "length": segment["length"], "description": "Account",
                "segments": [segment]}
    raise not_found(f"Dimension '{dimension_id}'")


def _segment(segment_id, description, values, with_values=True):
    segment = {"segmentId": segment_id, "description": description,
               "length": max(len(code) for code, _name in values), "validate": True,
               "isAutoNumber": False, "lastModified": REFERENCE_MODIFIED, "segmentValues": []}
    if with_values:
        segment["segmentValues"] = [
            {"segmentId": segment_id, "valueId": code, "description": name, "active": True,
             "lastModified": REFERENCE_MODIFIED} for code, name in values]
    return segment


def segment(dimension_id, segment_id):
    for item in dimension(dimension_id)["segments"]:
        if str(item["segmentId"]) == str(segment_id):
            return item
    raise not_found(f"Segment '{segment_id}' of dimension '{dimension_id}'")


# ------------------------------------------------------------------------------------------ helpers

def v(body, name, default=None):
    """The value of a ``{"value": …}`` field (or a plain field)."""
    field = (body or {}).get(name)
    if isinstance(field, dict):
        return field.get("value", default)
    return default if field is None else field


def _decimal(value):
    try:
        return Decimal(str(value if value is not None else 0))
    except InvalidOperation:
        raise VismaError(400, f"'{value}' is not a number.") from None


def _period_of(body, period_fields, date_fields):
    """YYYYMM from an explicit period field (YYYYMM), else from a date field, else today."""
    for name in period_fields:
        value = v(body, name)
        if value:
            value = str(value)
            if len(value) == 6 and value.isdigit():
                return value
            raise VismaError(400, f"{name}: '{value}' is not a financial period (YYYYMM).")
    for name in date_fields:
        value = v(body, name)
        if value:
            try:
                moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                raise VismaError(400, f"{name}: '{value}' is not a date.") from None
            return f"{moment.year}{moment.month:02d}"
    today = utcnow()
    return f"{today.year}{today.month:02d}"


def _check_period(company, period):
    if faults.is_closed(company, period):
        raise VismaError(400, f"The financial period {period[4:]}-{period[:4]} is closed in the "
                              "General Ledger.")


def _check_branch(value, where="Branch"):
    if value and value not in C.SANDBOX_BRANCHES:
        raise VismaError(400, f"{where} '{value}' was not found.")


def _check_subaccount(segments, where):
    for item in segments or []:
        segment_id = item.get("segmentId")
        value = item.get("segmentValue")
        if segment_id not in SEGMENTS:
            raise VismaError(400, f"{where}: subaccount segment {segment_id} does not exist.")
        description, values = SEGMENTS[segment_id]
        if value not in {code for code, _name in values}:
            raise VismaError(400, f"{where}: '{value}' is not a value of the subaccount segment "
                                  f"'{description}'.")


def _check_lines(lines, where, allowed=(None, "Insert")):
    for index, line in enumerate(lines or [], start=1):
        operation = line.get("operation")
        if operation not in allowed:
            raise VismaError(400, f"{where} line {index}: operation '{operation}' is not allowed when "
                                  "creating a document.")


# ------------------------------------------------------------------------------------------- rules

def _journal_transaction(company, body):
    lines = body.get("journalTransactionLines") or []
    if not lines:
        raise VismaError(400, "A journal transaction needs at least one line.")
    _check_lines(lines, "Journal transaction")
    _check_branch(v(body, "branch"))
    period = _period_of(body, ("financialPeriod", "postPeriod"), ("transactionDate",))
    _check_period(company, period)
    debit = credit = Decimal(0)
    for index, line in enumerate(lines, start=1):
        account = v(line, "accountNumber")
        if account not in ACCOUNTS:
            raise VismaError(400, f"Line {index}: account '{account}' was not found.")
        _check_subaccount(line.get("subaccount"), f"Line {index}")
        _check_branch(v(line, "branch"), f"Line {index}: branch")
        debit += _decimal(v(line, "debitAmountInCurrency"))
        credit += _decimal(v(line, "creditAmountInCurrency"))
    if debit.quantize(Decimal("0.01")) != credit.quantize(Decimal("0.01")):
        raise VismaError(400, f"The journal transaction is out of balance: debit {debit:.2f}, "
                              f"credit {credit:.2f}.")
    references = [v(line, "referenceNumber") for line in lines]
    reference = next((r for r in references if r), None) or v(body, "description")
    return {"reference": reference, "period": period, "number": v(body, "batchNumber")
            if v(body, "overrideNumberSeries") else None, "rejectable": references + [reference]}


def _customer_document_period(company, body):
    """What an invoice and a credit note are checked for alike (customer, branch, open period): its period."""
    customer = v(body, "customerNumber")
    if not customer:
        raise VismaError(400, "The customer is required.")
    if not is_customer(customer):
        raise VismaError(400, f"Customer '{customer}' was not found.")
    _check_branch(v(body, "branchNumber"))
    period = _period_of(body, ("financialPeriod", "postPeriod"), ("documentDate",))
    _check_period(company, period)
    return period


def _customer_invoice(company, body):
    period = _customer_document_period(company, body)
    lines = body.get("invoiceLines") or []
    _check_lines(lines, "Invoice")
    for index, line in enumerate(lines, start=1):
        account = v(line, "accountNumber")
        if account and account not in ACCOUNTS:
            raise VismaError(400, f"Line {index}: account '{account}' was not found.")
        _check_subaccount(line.get("subaccount"), f"Line {index}")
    reference = v(body, "customerRefNumber") or v(body, "externalReference")
    number = v(body, "referenceNumber") if v(body, "overrideNumberSeries") else None
    return {"reference": reference, "period": period, "number": number,
            "rejectable": [reference, v(body, "externalReference"), v(body, "referenceNumber")]}


def _customer_payment(company, body):
    customer = v(body, "customer")
    if not customer:
        raise VismaError(400, "The customer is required.")
    if not is_customer(customer):
        raise VismaError(400, f"Customer '{customer}' was not found.")
    method = v(body, "paymentMethod")
    if method and method not in C.PAYMENT_TYPES:
        raise VismaError(400, f"Payment method '{method}' does not exist.")
    _check_branch(v(body, "branch"))
    period = _period_of(body, ("applicationPeriod",), ("applicationDate",))
    _check_period(company, period)
    reference = v(body, "paymentRef")
    number = v(body, "referenceNumber") if v(body, "overrideNumberSeries") else None
    return {"reference": reference, "period": period, "number": number,
            "rejectable": [reference, v(body, "referenceNumber")]}


def _purchase_order(company, body):
    supplier = v(body, "supplier")
    if not supplier:
        raise VismaError(400, "The supplier is required.")
    if not is_supplier(supplier):
        raise VismaError(400, f"Supplier '{supplier}' was not found.")
    _check_branch(v(body, "branch"))
    _check_lines(body.get("lines"), "Purchase order")
    reference = v(body, "supplierRef") or v(body, "orderNumber")
    number = v(body, "orderNumber") if v(body, "overrideNumberSeries") else None
    return {"reference": reference, "period": None, "number": number,
            "rejectable": [reference, v(body, "orderNumber")]}


def item(company_id, number):
    return _record(company_id, "inventory", number)


def is_stock_item(record):
    body = json.loads(record.body)
    return ITEM_CLASSES.get(v(body, "itemClass"), ("",))[0] in STOCK_TYPES


def _inventory(company, body):
    number = v(body, "inventoryNumber")
    if not number:
        raise VismaError(400, "The inventory number is required.")
    item_class = v(body, "itemClass")
    if not item_class:
        raise VismaError(400, "The item class is required.")
    if item_class not in ITEM_CLASSES:
        raise VismaError(400, f"Item class '{item_class}' does not exist.")
    class_type = ITEM_CLASSES[item_class][0]
    item_type = v(body, "type")
    if item_type and (item_type in STOCK_TYPES) != (class_type in STOCK_TYPES):
        kind = "a stock item" if class_type in STOCK_TYPES else "a non-stock item"
        raise VismaError(400, f"Item class '{item_class}' is for {kind}; it cannot be used for an item "
                              f"of type '{item_type}'.")
    return {"reference": number, "period": None, "number": number, "rejectable": [number]}


def _kit_specification(company, body):
    kit = v(body, "kitInventoryID")
    if not kit:
        raise VismaError(400, "The kit inventory ID is required.")
    kit_item = item(company.id, kit)
    if kit_item is None:
        raise VismaError(400, f"Inventory item '{kit}' was not found.")
    if v(body, "isNonStock") and is_stock_item(kit_item):
        raise VismaError(400, f"Inventory item '{kit}' is a stock item; a non-stock kit needs a "
                              "non-stock item.")
    for key, want_stock in (("stockComponentLines", True), ("nonStockComponentLines", False)):
        lines = body.get(key) or []
        _check_lines(lines, "Kit specification")
        for index, line in enumerate(lines, start=1):
            component = v(line, "compInventoryID")
            record = item(company.id, component) if component else None
            if record is None:
                raise VismaError(400, f"Component line {index}: inventory item '{component}' was not found.")
            if is_stock_item(record) != want_stock:
                kind = "stock" if want_stock else "non-stock"
                raise VismaError(400, f"Component line {index}: inventory item '{component}' is not a "
                                      f"{kind} item.")
    revision = v(body, "revisionID") or "1"
    return {"reference": kit, "period": None, "number": f"{kit}/{revision}",
            "rejectable": [kit, f"{kit}/{revision}"]}


def _customer_credit_note(company, body):
    period = _customer_document_period(company, body)
    _check_lines(body.get("lines"), "Credit note")
    reference = v(body, "externalReference") or v(body, "customerRefNumber")
    return {"reference": reference, "period": period, "number": None,
            "rejectable": [reference, v(body, "customerRefNumber")]}


KINDS = {
    "customerCreditNote": (_customer_credit_note, "/v1/customerCreditNote", "Credit note"),
    "journaltransaction": (_journal_transaction, "/v2/journaltransaction", "Journal transaction"),
    "customerinvoice": (_customer_invoice, "/v1/customerinvoice", "Invoice"),
    "customerPayment": (_customer_payment, "/v1/customerPayment", "Payment"),
    "purchaseorder": (_purchase_order, "/v1/purchaseorder", "Purchase order"),
    "inventory": (_inventory, "/v1/inventory", "Inventory item"),
    "KitSpecifications": (_kit_specification, "/v1/KitSpecifications", "Kit specification"),
}


def create(company, kind, body):
    """Apply Visma.net's rules and store the document: the stored record (its ``number`` is Visma's)."""
    rule, _path, label = KINDS[kind]
    if not isinstance(body, dict):
        raise VismaError(400, "The request body must be a JSON object.")
    facts = rule(company, body)
    message = faults.take_rejection(company.id, facts["rejectable"])
    if message:
        raise VismaError(400, message, details=f"Rejected by the sandbox's 'reject a record' switch ({label}).")
    number = facts["number"]
    if number and _record(company.id, kind, number) is not None:
        raise VismaError(400, f"{label} '{number}' already exists.")
    record = SandboxRecord(company_id=company.id, kind=kind, number=number or f"pending-{uuid.uuid4().hex}",
                           reference=(str(facts["reference"])[:100] if facts["reference"] else None),
                           period=facts["period"], body=json.dumps(body))
    db.session.add(record)
    try:
        db.session.flush()
        if not number:
            record.number = f"{record.id:06d}"
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise VismaError(400, f"{label} '{number}' already exists.") from None
    return record


# ---------------------------------------------------------------------------- updates and actions

def _merge_lines(lines, changes, number_field, where):
    """Apply line ``changes`` (operation Insert / Update / Delete by line number) to stored ``lines``."""
    by_number = {v(line, number_field): line for line in lines}
    for index, change in enumerate(changes or [], start=1):
        operation, number = change.get("operation") or "Insert", v(change, number_field)
        if operation == "Insert":
            if number in by_number:
                raise VismaError(400, f"{where} line {index}: line {number} already exists.")
            by_number[number] = change
        elif number not in by_number:
            raise VismaError(400, f"{where} line {index}: line {number} was not found.")
        elif operation == "Delete":
            del by_number[number]
        else:
            by_number[number] = {**by_number[number], **change}
    return [dict(line, operation="Insert") for _n, line in sorted(by_number.items(), key=lambda i: (i[0] or 0))]


def update(company, kind, number, changes):
    """``PUT`` of a record Visma.net holds: its fields replaced by those given, its lines changed by
    operation; the result must still pass the rules of its kind. Returns the record."""
    if not isinstance(changes, dict):
        raise VismaError(400, "The request body must be a JSON object.")
    record = record_or_404(company.id, kind, number)
    body = json.loads(record.body)
    lines_key, number_field = {"purchaseorder": ("lines", "lineNumber"),
                               "KitSpecifications": ("stockComponentLines", "lineNbr")}.get(kind, (None, None))
    for name, value in changes.items():
        if name == lines_key:
            body[name] = _merge_lines(body.get(name) or [], value, number_field, KINDS[kind][2])
        elif name not in ("operation", "nonStockComponentLines"):
            body[name] = value
    if kind == "inventory" and v(body, "inventoryNumber") != record.number:
        raise VismaError(400, "The inventory number cannot be changed here.")
    KINDS[kind][0](company, body)
    message = faults.take_rejection(company.id, [record.number, record.reference])
    if message:
        raise VismaError(400, message, details=f"Rejected by the sandbox's 'reject a record' switch ({kind}).")
    record.body = json.dumps(body)
    db.session.commit()
    return record


def void_payment(company, number, action):
    """``action/void`` of a payment: it is Voided (once)."""
    record = record_or_404(company.id, "customerPayment", number)
    body = json.loads(record.body)
    if body.get("voided"):
        raise VismaError(400, f"Payment '{number}' has already been voided.")
    if not isinstance(action, dict) or (action.get("type") or v(body, "type") or "Payment") != \
            (v(body, "type") or "Payment"):
        raise VismaError(400, f"Payment '{number}' is not of type '{(action or {}).get('type')}'.")
    body["voided"] = True
    record.body = json.dumps(body)
    db.session.commit()
    return record


def _record(company_id, kind, number):
    return db.session.execute(db.select(SandboxRecord).where(
        SandboxRecord.company_id == company_id, SandboxRecord.kind == kind,
        SandboxRecord.number == str(number))).scalar_one_or_none()


def records(company_id, kind):
    return db.session.execute(db.select(SandboxRecord).where(
        SandboxRecord.company_id == company_id, SandboxRecord.kind == kind)
        .order_by(SandboxRecord.id)).scalars().all()


def record_or_404(company_id, kind, number):
    record = _record(company_id, kind, number)
    if record is None:
        raise not_found(f"{KINDS[kind][2]} '{number}'")
    return record


# ---------------------------------------------------------------------------------------------- DTOs

def _lines_total(lines, name):
    return float(sum(_decimal(v(line, name)) for line in lines))


def _period_text(period):
    return period or ""


def journal_transaction_dto(record):
    body = json.loads(record.body)
    lines = body.get("journalTransactionLines") or []
    debit = _lines_total(lines, "debitAmountInCurrency")
    credit = _lines_total(lines, "creditAmountInCurrency")
    return {
        "module": "ModuleGL", "batchNumber": record.number, "status": "Balanced", "hold": False,
        "transactionDate": v(body, "transactionDate") or _iso(record.created_at),
        "postPeriod": _period_text(record.period), "financialPeriod": _period_text(record.period),
        "ledger": "ACTUAL", "currencyId": v(body, "currencyId") or "EUR",
        "description": v(body, "description") or "", "debitTotal": debit, "debitTotalInCurrency": debit,
        "creditTotal": credit, "creditTotalInCurrency": credit, "branch": v(body, "branch") or "MAIN",
        "lastModifiedDateTime": _iso(record.created_at),
        "journalTransactionLines": [{
            "lineNumber": v(line, "lineNumber") or index, "accountNumber": v(line, "accountNumber"),
            "description": ACCOUNTS.get(v(line, "accountNumber"), ""),
            "subaccount": {"segments": [
                {"segmentId": s.get("segmentId"), "segmentValue": s.get("segmentValue")}
                for s in line.get("subaccount") or []]},
            "referenceNumber": v(line, "referenceNumber") or "",
            "debitAmount": float(_decimal(v(line, "debitAmountInCurrency"))),
            "debitAmountInCurrency": float(_decimal(v(line, "debitAmountInCurrency"))),
            "creditAmount": float(_decimal(v(line, "creditAmountInCurrency"))),
            "creditAmountInCurrency": float(_decimal(v(line, "creditAmountInCurrency"))),
            "transactionDescription": v(line, "transactionDescription") or "",
            "branch": v(line, "branch") or v(body, "branch") or "MAIN", "module": "ModuleGL"}
            for index, line in enumerate(lines, start=1)]}


def customer_invoice_dto(record):
    body = json.loads(record.body)
    customer = v(body, "customerNumber")
    return {"documentType": "Invoice", "referenceNumber": record.number, "status": "Balanced",
            "customer": {"number": customer, "name": f"Customer {customer}"},
            "customerRefNumber": v(body, "customerRefNumber") or "",
            "externalReference": v(body, "externalReference") or "",
            "documentDate": v(body, "documentDate") or _iso(record.created_at),
            "financialPeriod": _period_text(record.period), "invoiceText": v(body, "invoiceText") or "",
            "lastModifiedDateTime": _iso(record.created_at)}


def customer_payment_dto(record):
    body = json.loads(record.body)
    customer = v(body, "customer")
    return {"type": v(body, "type") or "Payment", "refNbr": record.number,
            "status": "Voided" if body.get("voided") else "Balanced",
            "hold": bool(v(body, "hold", False)),
            "applicationDate": v(body, "applicationDate") or _iso(record.created_at),
            "applicationPeriod": _period_text(record.period), "paymentRef": v(body, "paymentRef") or "",
            "customer": {"number": customer, "name": f"Customer {customer}"},
            "paymentMethod": {"id": v(body, "paymentMethod") or "", "description":
                              PAYMENT_METHOD_NAMES.get(v(body, "paymentMethod"), "")},
            "paymentAmount": float(_decimal(v(body, "paymentAmount"))),
            "lastModifiedDateTime": _iso(record.created_at)}


def purchase_order_dto(record):
    body = json.loads(record.body)
    supplier = v(body, "supplier")
    return {"orderType": v(body, "orderType") or "RegularOrder", "orderNumber": record.number,
            "status": "Open", "hold": bool(v(body, "hold", False)),
            "date": v(body, "date") or _iso(record.created_at),
            "supplier": {"number": supplier, "name": f"Supplier {supplier}"},
            "supplierRef": v(body, "supplierRef") or "", "description": v(body, "description") or "",
            "lastModifiedDateTime": _iso(record.created_at)}


def inventory_dto(record):
    body = json.loads(record.body)
    item_class = v(body, "itemClass")
    class_type, class_description = ITEM_CLASSES[item_class]
    return {"inventoryId": record.id, "inventoryNumber": record.number,
            "status": v(body, "status") or "Active", "type": v(body, "type") or class_type,
            "description": v(body, "description") or "",
            "itemClass": {"id": item_class, "description": class_description, "type": class_type},
            "kitItem": bool(v(body, "kitItem", False)), "lastModifiedDateTime": _iso(record.created_at)}


def kit_specification_dto(record):
    body = json.loads(record.body)
    kit, _sep, revision = record.number.partition("/")

    def lines(key):
        return [{"lineNbr": v(line, "lineNbr") or index, "componentID": v(line, "compInventoryID"),
                 "componentQty": float(_decimal(v(line, "dfltCompQty") or 1)), "uom": v(line, "uom") or ""}
                for index, line in enumerate(body.get(key) or [], start=1)]
    return {"kitInventoryID": kit, "revision": revision, "description": v(body, "descr") or "",
            "isActive": bool(v(body, "isActive", True)), "isNonStock": bool(v(body, "isNonStock", False)),
            "allowComponentAddition": bool(v(body, "allowCompAddition", False)),
            "createdDateTime": _iso(record.created_at), "lastModifiedDateTime": _iso(record.created_at),
            "stockComponentLines": lines("stockComponentLines"),
            "nonStockComponentLines": lines("nonStockComponentLines")}


def customer_credit_note_dto(record):
    """A credit note reads as the invoice it is, with its own document type."""
    return {**customer_invoice_dto(record), "documentType": "CreditNote"}


DTOS = {"customerCreditNote": customer_credit_note_dto, "journaltransaction": journal_transaction_dto, "customerinvoice": customer_invoice_dto,
        "customerPayment": customer_payment_dto, "purchaseorder": purchase_order_dto,
        "inventory": inventory_dto, "KitSpecifications": kit_specification_dto}
