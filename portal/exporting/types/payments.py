"""Point-of-sale customer payments (refunds are negative)."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...models import Company, Department, Payment
from ..formats import Column
from . import register
from . import sql
from .base import ExportType, iso, money, negate


@register
class Payments(ExportType):
    key = "payments"
    label = _l("Payments")
    model = Payment
    stop_on_error = True
    window_kind = "datetime"
    required = ("customer_number", "payment_type", "amount")
    supports_cancellation = True

    def columns(self):
        return [
            Column("company_code", _l("Company"), "text"),
            Column("department", _l("Department"), "text"),
            Column("receipt_number", _l("Receipt number"), "text"),
            Column("paid_at", _l("Paid at"), "datetime"),
            Column("customer_number", _l("Customer number"), "text"),
            Column("customer_name", _l("Customer name"), "text"),
            Column("payment_type", _l("Payment type"), "text"),
            Column("amount", _l("Amount"), "decimal"),
        ]

    def select(self, ctx):
        stmt = (select(Payment.id.label("source_id"), Payment.paid_at.label("window_value"), Payment.company_id,
                       Payment.receipt_number, Payment.customer_number, Payment.customer_name,
                       Payment.payment_type, Payment.amount, Payment.paid_at,
                       Company.code.label("company_code"), Department.code.label("department"))
                .join(Company, Company.id == Payment.company_id)
                .outerjoin(Department, Department.id == Payment.department_id)
                .where(self.window_filter(Payment.paid_at, ctx)))
        if ctx.company_id is not None:
            stmt = stmt.where(Payment.company_id == ctx.company_id)
        return stmt

    def route(self, stmt, finance_system):
        # Seed 004: only departments whose finance system is ``finance_system`` go there.
        return stmt.where(Department.finance_system == finance_system)

    def sql_source(self, ctx, dialect):
        stmt = (select(Payment.id).select_from(Payment)
                .join(Company, Company.id == Payment.company_id)
                .outerjoin(Department, Department.id == Payment.department_id)
                .where(self.window_filter(Payment.paid_at, ctx)))
        if ctx.company_id is not None:
            stmt = stmt.where(Payment.company_id == ctx.company_id)
        paid_at = sql.iso_datetime(Payment.paid_at, dialect)
        return sql.SqlSource(
            select=stmt, source_id=Payment.id, record_key=Payment.receipt_number, window_value=paid_at,
            company_id=Payment.company_id, required=self.required,
            headers={column.key: column.header for column in self.columns()},
            payload=[("company_code", Company.code), ("department", sql.text_or_empty(Department.code)),
                     ("receipt_number", Payment.receipt_number), ("paid_at", paid_at),
                     ("customer_number", Payment.customer_number), ("customer_name", Payment.customer_name),
                     ("payment_type", Payment.payment_type), ("amount", sql.money(Payment.amount, dialect)),
                     ("company_id", Payment.company_id)])

    def payload(self, row, ctx):
        p = row
        return {
            "company_code": row.company_code, "department": row.department or "",
            "receipt_number": p.receipt_number, "paid_at": iso(p.paid_at),
            "customer_number": p.customer_number, "customer_name": p.customer_name,
            "payment_type": p.payment_type, "amount": money(p.amount), "company_id": p.company_id,
        }

    def record_key(self, payload):
        return payload["receipt_number"]

    def cancellation(self, payload):
        cancelled = dict(payload)
        cancelled["amount"] = negate(payload["amount"])
        return cancelled

    def changed_since(self, stmt, changes):
        # Incremental runs read only what changed (``exporting.changes``): the payment, its company and
        # its department (both joined by ``select`` and ``sql_source``).
        return changes.only(stmt, key=Payment.receipt_number,
                            markers=(Payment.row_version, Company.row_version, Department.row_version))
