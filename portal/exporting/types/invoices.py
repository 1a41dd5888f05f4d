"""Invoices and declarations, per invoice line. The only type with run parameters: booking date,
description and debtor selection. A blocked debtor's lines are row errors and are not exported."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import literal, select

from ...models import Company, Debtor, InvoiceLine
from ...models.exporting import Severity
from .. import debtor_selection
from ..formats import Column
from . import register
from . import sql
from .base import ExportType, Issue, marker_of, money, negate, quantity


@register
class Invoices(ExportType):
    key = "invoices"
    label = _l("Invoices")
    model = InvoiceLine
    window_kind = "date"
    accepted_params = frozenset({"booking_date", "description", "debtors"})
    run_param_keys = frozenset({"booking_date", "booking_description"})
    required = ("debtor_number", "product_code", "amount")
    supports_cancellation = True

    def columns(self):
        return [
            Column("company_code", _l("Company"), "text"),
            Column("invoice_number", _l("Invoice number"), "text"),
            Column("line_no", _l("Line"), "int"),
            Column("invoice_date", _l("Invoice date"), "date"),
            Column("booking_date", _l("Booking date"), "date"),
            Column("booking_description", _l("Booking description"), "text"),
            Column("due_date", _l("Due date"), "date"),
            Column("debtor_number", _l("Debtor number"), "text"),
            Column("debtor_name", _l("Debtor name"), "text"),
            Column("product_code", _l("Product code"), "text"),
            Column("description", _l("Description"), "text"),
            Column("quantity", _l("Quantity"), "decimal"),
            Column("unit_price", _l("Unit price"), "decimal"),
            Column("amount", _l("Amount"), "decimal"),
            Column("vat_code", _l("VAT code"), "text"),
            Column("vat_amount", _l("VAT amount"), "decimal"),
            Column("currency", _l("Currency"), "text"),
        ]

    def select(self, ctx):
        stmt = (select(InvoiceLine.id.label("source_id"), InvoiceLine.invoice_date.label("window_value"),
                       *[c for c in InvoiceLine.__table__.c if c.name != "id"], Company.code.label("company_code"), Company.currency.label("currency"),
                       Debtor.number.label("debtor_number"), Debtor.name.label("debtor_name"),
                       Debtor.blocked.label("debtor_blocked"))
                .join(Company, Company.id == InvoiceLine.company_id)
                .join(Debtor, Debtor.id == InvoiceLine.debtor_id))
        return self._scoped(stmt, ctx)

    def _scoped(self, stmt, ctx):
        """The run's window, company scope and debtor selection (both engines' source)."""
        stmt = stmt.where(self.window_filter(InvoiceLine.invoice_date, ctx))
        if ctx.company_id is not None:
            stmt = stmt.where(InvoiceLine.company_id == ctx.company_id)
        # Each chosen debtor by its company and number (numbers are unique per company only).
        chosen = debtor_selection.subjects(ctx.params)
        if chosen:
            stmt = stmt.where(debtor_selection.condition(Debtor.company_id, Debtor.number, chosen))
        return stmt

    def sql_source(self, ctx, dialect):
        stmt = self._scoped(select(InvoiceLine.id).select_from(InvoiceLine)
                            .join(Company, Company.id == InvoiceLine.company_id)
                            .join(Debtor, Debtor.id == InvoiceLine.debtor_id), ctx)
        invoice_date = sql.iso_date(InvoiceLine.invoice_date, dialect)
        record_key = sql.concat(InvoiceLine.invoice_number, "/", InvoiceLine.line_no)
        # The run's parameters: the same for every row (and left out of the fingerprint: ``run_param_keys``).
        booking_date = ctx.params.get("booking_date")
        return sql.SqlSource(
            select=stmt, source_id=InvoiceLine.id, record_key=record_key, window_value=invoice_date,
            company_id=InvoiceLine.company_id, group_key=sql.concat(Company.code, "|", InvoiceLine.invoice_number),
            subject_key=Debtor.number, required=self.required,
            headers={column.key: column.header for column in self.columns()},
            checks=[sql.Check("debtor_blocked", Debtor.blocked.is_(True),
                              [("debtor", Debtor.number), ("record", record_key)])],
            payload=[("company_code", Company.code), ("invoice_number", InvoiceLine.invoice_number),
                     ("line_no", InvoiceLine.line_no), ("invoice_date", invoice_date),
                     ("booking_date", literal(booking_date) if booking_date else invoice_date),
                     ("booking_description", literal(ctx.params.get("description") or "")),
                     ("due_date", sql.iso_date(InvoiceLine.due_date, dialect)), ("debtor_number", Debtor.number),
                     ("debtor_name", Debtor.name), ("product_code", InvoiceLine.product_code),
                     ("description", InvoiceLine.description),
                     ("quantity", sql.quantity(InvoiceLine.quantity, dialect)),
                     ("unit_price", sql.money(InvoiceLine.unit_price, dialect)),
                     ("amount", sql.money(InvoiceLine.amount, dialect)), ("vat_code", InvoiceLine.vat_code),
                     ("vat_amount", sql.money(InvoiceLine.vat_amount, dialect)), ("currency", Company.currency),
                     ("debtor_blocked", sql.json_bool(Debtor.blocked, dialect)),
                     ("company_id", InvoiceLine.company_id)])

    def payload(self, row, ctx):
        line = row
        return {
            "company_code": row.company_code, "invoice_number": line.invoice_number, "line_no": line.line_no,
            "invoice_date": line.invoice_date.isoformat(),
            "booking_date": ctx.params.get("booking_date") or line.invoice_date.isoformat(),
            "booking_description": ctx.params.get("description") or "",
            "due_date": line.due_date.isoformat(), "debtor_number": row.debtor_number,
            "debtor_name": row.debtor_name, "product_code": line.product_code, "description": line.description,
            "quantity": quantity(line.quantity), "unit_price": money(line.unit_price),
            "amount": money(line.amount), "vat_code": line.vat_code, "vat_amount": money(line.vat_amount),
            "currency": row.currency, "debtor_blocked": bool(row.debtor_blocked),
            "company_id": line.company_id,
        }

    def record_key(self, payload):
        return f"{payload['invoice_number']}/{payload['line_no']}"

    def group_key(self, payload):
        # The lines of one invoice are delivered together (Visma.net: one customer invoice with lines).
        return f"{payload['company_code']}|{payload['invoice_number']}"

    def subject_key(self, payload):
        # The debtor number; with the row's company (``company_id``) it names the debtor (a debtor selection's
        # removals: ``debtor_selection.condition`` over the ledger's company and subject).
        return payload["debtor_number"]

    def row_issues(self, payload, ctx):
        issues = super().row_issues(payload, ctx)
        if payload.get("debtor_blocked"):
            key = self.record_key(payload)
            issues.append(Issue(Severity.ERROR, "debtor_blocked", {"debtor": payload["debtor_number"], "record": key},
                                record_key=key, invalid=True))
        return issues

    def cancellation(self, payload):
        cancelled = dict(payload)
        for name in ("quantity", "amount", "vat_amount"):
            cancelled[name] = negate(payload.get(name))
        return cancelled

    def changed_since(self, stmt, changes):
        # Incremental runs read only what changed (``exporting.changes``): the line, its company and its
        # debtor (looked up by id, whatever the statement joins).
        return changes.only(stmt, key=sql.concat(InvoiceLine.invoice_number, "/", InvoiceLine.line_no),
                            markers=(InvoiceLine.row_version, marker_of(Company, InvoiceLine.company_id),
                                     marker_of(Debtor, InvoiceLine.debtor_id)))
