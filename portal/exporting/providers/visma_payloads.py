"""Payload builders for the Visma.net ERP API, one per document kind.

Each builder takes the decoded prepared payloads of one document (a journal's lines, an invoice's lines,
one payment, an order's lines, one product) and returns the request body exactly as
``shared/contracts/visma-net-erp-api.openapi.json`` describes it: fields wrapped as ``{"value": …}``,
``operation`` on lines, ``subaccount`` as a list of segments, date-times in strict RFC 3339 (with ``Z``).

The document's *reference* — what makes a retry find it instead of posting it again — is the record's
own number and a digest of the body, so the same content always has the same reference (also in a later
run) and changed content gets a new one. ``with_reference`` puts it in a field Visma.net keeps.
"""
import calendar
import hashlib
import json
from datetime import date, datetime, timezone
from decimal import Decimal

# kind → (path, the field that carries our reference)
KINDS = {
    "journaltransaction": "/v2/journaltransaction",
    "customerinvoice": "/v2/customerinvoice",
    "customerPayment": "/v1/customerPayment",
    "purchaseorder": "/v1/purchaseorder",
    "inventory": "/v1/inventory",
    "KitSpecifications": "/v1/KitSpecifications",
    "customerCreditNote": "/v1/customerCreditNote",
}
REFERENCE_LENGTH = 40   # Visma.net keeps 40 characters of its external reference fields


def val(value):
    return {"value": value}


def amount(value):
    """A JSON number (the description says ``number``/``double``)."""
    if value in (None, ""):
        return 0.0
    return float(Decimal(value))


def rfc3339(value):
    """A date or naive UTC date-time as strict RFC 3339 (``2026-11-30T00:00:00Z``)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat() + "Z"
    return f"{value.isoformat()}T00:00:00Z"


def as_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def period_of(value):
    """Visma.net's financial period, YYYYMM."""
    day = as_date(value)
    return f"{day.year}{day.month:02d}"


def period_end(value):
    day = as_date(value)
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def digest(body):
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:8]


def reference(natural, body, version=None):
    """``<our number>~<digest>``: stable for the same content, new for changed content; ≤ 40 chars.
    ``version`` (journals, whose documents add up): how many were sent before, so that a correction
    equal to an earlier one still gets its own reference."""
    content = body if version is None else {"version": version, "body": body}
    return f"{str(natural)[:REFERENCE_LENGTH - 9]}~{digest(content)}"


def segments(payload, dimension_segments):
    """``subaccount`` from the account's dimension mapping: cost centre / cost unit → segment ids."""
    found = []
    for kind in ("cost_centre", "cost_unit"):
        segment_id = dimension_segments.get(kind)
        code = payload.get(kind)
        if segment_id is not None and code:
            found.append({"segmentId": int(segment_id), "segmentValue": str(code)})
    return found


# ----------------------------------------------------------------------------------------- journals

def journal_transaction(lines, branch, dimension_segments, version=0):
    """One journal per company and period. A correction line is booked in the period it corrects
    (``journal_period``), with the reference of the payroll run it came with (``referenceNumber``).
    A changed or removed line arrives here as a reversal of what was delivered (debit and credit
    swapped), next to the new version of a changed line: the journal stays balanced."""
    first = lines[0]
    period = as_date(first["journal_period"])
    refs = sorted({line["payroll_run_ref"] for line in lines})
    body_lines = []
    for number, line in enumerate(lines, start=1):
        item = {"operation": "Insert", "lineNumber": val(number), "accountNumber": val(str(line["account"])),
                "referenceNumber": val(line["payroll_run_ref"]),
                "transactionDescription": val(line.get("description") or ""),
                "debitAmountInCurrency": val(amount(line.get("debit"))),
                "creditAmountInCurrency": val(amount(line.get("credit")))}
        subaccount = segments(line, dimension_segments)
        if subaccount:
            item["subaccount"] = subaccount
        body_lines.append(item)
    body = {"transactionDate": val(rfc3339(period_end(period))), "financialPeriod": val(period_of(period)),
            "description": val(f"{' '.join(refs)} {first['company_code']} {period:%Y-%m}"),
            "hold": val(False), "journalTransactionLines": body_lines}
    if branch:
        body["branch"] = val(branch)
    ref = reference(f"{refs[0]}-{first['company_code']}-{period:%Y%m}", body, version)
    body["description"] = val(f"{body['description']['value']} [{ref}]"[:255])
    return ref, body


# ----------------------------------------------------------------------------------------- invoices

def invoice_line(line, branch, sales_account=None):
    """One invoice (or credit note) line; its number is the source's line number."""
    item = {"operation": "Insert", "lineNumber": val(int(line.get("line_no") or 1)),
            "description": val(line.get("description") or line.get("product_code") or ""),
            "quantity": val(amount(line.get("quantity"))),
            "unitPriceInCurrency": val(amount(line.get("unit_price"))),
            "manualAmountInCurrency": val(amount(line.get("amount")))}
    if line.get("vat_code"):
        item["vatCodeId"] = val(str(line["vat_code"]))
    if sales_account:
        item["accountNumber"] = val(str(sales_account))
    if branch:
        item["branchNumber"] = val(branch)
    return item


def customer_invoice(lines, branch, sales_account=None, kept=()):
    """One customer invoice with its lines; the booking date gives the document date and period.
    ``kept``: lines (bodies) of the delivered version that did not change, for a new version."""
    first = lines[0]
    booking = as_date(first.get("booking_date") or first["invoice_date"])
    text = first.get("booking_description") or f"{first['invoice_number']}"
    body_lines = sorted([*kept, *(invoice_line(line, branch, sales_account) for line in lines)],
                        key=lambda item: item["lineNumber"]["value"])
    body = {"customerNumber": val(str(first["debtor_number"])), "documentDate": val(rfc3339(booking)),
            "financialPeriod": val(period_of(booking)), "invoiceText": val(text[:255]),
            "customerRefNumber": val(str(first["invoice_number"])), "hold": val(False),
            "invoiceLines": body_lines}
    if first.get("due_date"):
        body["documentDueDate"] = val(rfc3339(first["due_date"]))
    if first.get("currency"):
        body["currencyId"] = val(first["currency"])
    if branch:
        body["branchNumber"] = val(branch)
    ref = reference(f"{first['company_code']}/{first['invoice_number']}", body)
    body["externalReference"] = val(ref)
    return ref, body


def new_invoice_version(previous, kept):
    """The delivered invoice with only ``kept`` lines (its other lines were removed from the source)."""
    body = {key: value for key, value in previous.items() if key != "externalReference"}
    body["invoiceLines"] = kept
    ref = reference(f"{previous['customerRefNumber']['value']}", body)
    body["externalReference"] = val(ref)
    return ref, body


CREDIT_NOTE_FIELDS = ("customerNumber", "documentDate", "financialPeriod", "currencyId", "branchNumber",
                      "customerRefNumber", "hold")


def credit_note(invoice_body, invoice_number, natural, on=None):
    """The credit note that takes back a delivered invoice as a whole (Visma.net: a customer credit
    note with the invoice's lines). ``on``: the date it is booked on (default: the invoice's)."""
    body = {name: invoice_body[name] for name in CREDIT_NOTE_FIELDS if name in invoice_body}
    if on is not None:
        body["documentDate"], body["financialPeriod"] = val(rfc3339(on)), val(period_of(on))
    body["invoiceText"] = val(f"Credit note for invoice {invoice_number}"[:255])
    body["lines"] = [{key: value for key, value in line.items()} for line in invoice_body.get("invoiceLines", [])]
    ref = reference(f"CN {natural}", body)
    body["externalReference"] = val(ref)
    return ref, body


# ----------------------------------------------------------------------------------------- payments

def customer_payment(payment, branch, local_date):
    """A point-of-sale payment (a refund when negative). The payment type is Visma.net's payment method,
    which must exist there."""
    value = Decimal(payment["amount"])
    body = {"type": val("Refund" if value < 0 else "Payment"), "hold": val(False),
            "applicationDate": val(rfc3339(local_date)), "applicationPeriod": val(period_of(local_date)),
            "customer": val(str(payment["customer_number"])), "paymentMethod": val(str(payment["payment_type"])),
            "paymentAmount": val(float(abs(value))),
            "invoiceText": val(f"{payment['receipt_number']} {payment.get('department') or ''}".strip())}
    if branch:
        body["branch"] = val(branch)
    ref = reference(f"{payment['company_code']}/{payment['receipt_number']}", body)
    body["paymentRef"] = val(ref)
    return ref, body


def void_payment(payment_body):
    """Visma.net's void of a delivered payment (a refund is voided as a refund)."""
    kind = (payment_body.get("type") or {}).get("value") or "Payment"
    return {"type": kind, "returnVoidPayment": False}


# ---------------------------------------------------------------------------------- purchase orders

def order_line(line, operation="Insert"):
    """An order line; its number is the source's line number (a later update names it)."""
    if operation == "Delete":
        return {"operation": "Delete", "lineNumber": val(int(line["line_no"]))}
    return {"operation": operation, "lineNumber": val(int(line["line_no"])), "inventory": val(line["item_code"]),
            "lineDescription": val(line.get("description") or ""), "orderQty": val(amount(line.get("quantity"))),
            "unitCost": val(amount(line.get("unit_cost")))}


def purchase_order(lines, branch):
    first = lines[0]
    body_lines = [order_line(line) for line in lines]
    body = {"orderType": val("RegularOrder"), "hold": val(False), "date": val(rfc3339(first["order_date"])),
            "description": val(f"{first['order_number']} {first.get('order_description') or ''}".strip()[:255]),
            "supplier": val(str(first["supplier_number"])), "lines": body_lines}
    if branch:
        body["branch"] = val(branch)
    ref = reference(f"{first['company_code']}/{first['order_number']}", body)
    body["supplierRef"] = val(ref)
    return ref, body


def purchase_order_update(changes, natural):
    """``PUT`` of a delivered order: ``changes`` are (line payload, operation Insert/Update/Delete)."""
    body = {"lines": [order_line(line, operation) for line, operation in changes]}
    live = [line for line, operation in changes if operation != "Delete"]
    if live:
        first = live[0]
        body["description"] = val(f"{first['order_number']} {first.get('order_description') or ''}".strip()[:255])
    ref = reference(f"{natural}", body)
    return ref, body


# ----------------------------------------------------------------------------------------- products

STOCK_TYPE = "FinishedGoodItem"
RAW_MATERIAL_TYPE = "ComponentPartItem"
NON_STOCK_TYPE = "NonStockItem"


def inventory_item(product, item_class_stock, item_class_non_stock):
    """An item without a calculation is a stock item; with one, a non-stock item (and a kit); a raw
    material is always a stock item. The item classes come from the profile's options."""
    kind = product.get("kind")
    if kind == "kit":
        item_type, item_class = NON_STOCK_TYPE, item_class_non_stock
    elif kind == "raw_material":
        item_type, item_class = RAW_MATERIAL_TYPE, item_class_stock
    else:
        item_type, item_class = STOCK_TYPE, item_class_stock
    body = {"inventoryNumber": val(product["item_code"]), "status": val("Active"), "type": val(item_type),
            "description": val(product["description"]), "itemClass": val(item_class),
            "baseUnit": val(product.get("unit") or "PCS"), "defaultPrice": val(amount(product.get("sales_price"))),
            "kitItem": val(kind == "kit")}
    return reference(f"{product['company_code']}/{product['item_code']}", body), body


def inventory_deactivation(product):
    """A product removed from the source: its item at Visma.net is set inactive (not deleted)."""
    body = {"status": val("Inactive")}
    return reference(f"{product['company_code']}/{product['item_code']}", body), body


def kit_specification(product, components):
    """The kit of an item with a calculation: its raw materials (stock items) as stock component lines.
    ``components``: (item code, quantity, unit)."""
    body = {"kitInventoryID": val(product["item_code"]), "revisionID": val("1"),
            "descr": val(product["description"]), "isActive": val(True), "isNonStock": val(True),
            "allowCompAddition": val(False),
            "stockComponentLines": [
                {"operation": "Insert", "lineNbr": val(number), "compInventoryID": val(code),
                 "dfltCompQty": val(amount(quantity)), "uom": val(unit or "PCS")}
                for number, (code, quantity, unit) in enumerate(components, start=1)]}
    return reference(f"{product['company_code']}/{product['item_code']}", body), body


def kit_specification_update(body, previous):
    """``PUT`` of a delivered kit: lines of components it still has are updated, new ones inserted,
    gone ones deleted (by the line numbers Visma.net has)."""
    before = {line["compInventoryID"]["value"]: line["lineNbr"]["value"]
              for line in previous.get("stockComponentLines") or []
              if line.get("operation") != "Delete" and "compInventoryID" in line}
    number = max(before.values(), default=0)
    lines = []
    for line in body["stockComponentLines"]:
        code = line["compInventoryID"]["value"]
        if code in before:
            lines.append(dict(line, operation="Update", lineNbr=val(before[code])))
        else:
            number += 1
            lines.append(dict(line, operation="Insert", lineNbr=val(number)))
    now = {line["compInventoryID"]["value"] for line in body["stockComponentLines"]}
    lines += [{"operation": "Delete", "lineNbr": val(nbr)} for code, nbr in before.items() if code not in now]
    update = {key: value for key, value in body.items() if key not in ("stockComponentLines", "kitInventoryID",
                                                                       "revisionID")}
    update["stockComponentLines"] = lines
    return update
