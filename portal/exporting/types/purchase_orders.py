"""Purchase orders, per order line."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...models import Company, Department, PurchaseOrder, PurchaseOrderLine, Supplier
from ..formats import Column
from . import register
from . import sql
from .base import ExportType, marker_of, money, quantity


@register
class PurchaseOrders(ExportType):
    key = "purchase_orders"
    label = _l("Purchase orders")
    model = PurchaseOrderLine
    stop_on_error = True
    window_kind = "date"
    required = ("supplier_number", "item_code")

    def columns(self):
        return [
            Column("company_code", _l("Company"), "text"),
            Column("department", _l("Department"), "text"),
            Column("order_number", _l("Order number"), "text"),
            Column("order_date", _l("Order date"), "date"),
            Column("supplier_number", _l("Supplier number"), "text"),
            Column("supplier_name", _l("Supplier"), "text"),
            Column("order_description", _l("Order description"), "text"),
            Column("line_no", _l("Line"), "int"),
            Column("item_code", _l("Item code"), "text"),
            Column("description", _l("Description"), "text"),
            Column("quantity", _l("Quantity"), "decimal", scale=4),
            Column("unit_cost", _l("Unit cost"), "decimal"),
        ]

    def select(self, ctx):
        stmt = (select(PurchaseOrderLine.id.label("source_id"), PurchaseOrder.order_date.label("window_value"),
                       PurchaseOrderLine.line_no, PurchaseOrderLine.item_code, PurchaseOrderLine.description,
                       PurchaseOrderLine.quantity, PurchaseOrderLine.unit_cost, PurchaseOrder.order_number,
                       PurchaseOrder.order_date, PurchaseOrder.description.label("order_description"),
                       PurchaseOrder.company_id, Company.code.label("company_code"),
                       Department.code.label("department"), Supplier.number.label("supplier_number"),
                       Supplier.name.label("supplier_name"))
                .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
                .join(Company, Company.id == PurchaseOrder.company_id)
                .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
                .outerjoin(Department, Department.id == PurchaseOrder.department_id))
        return self._scoped(stmt, ctx)

    def _scoped(self, stmt, ctx):
        """The run's window and company scope (both engines' source)."""
        stmt = stmt.where(self.window_filter(PurchaseOrder.order_date, ctx))
        if ctx.company_id is not None:
            stmt = stmt.where(PurchaseOrder.company_id == ctx.company_id)
        return stmt

    def route(self, stmt, finance_system):
        # Seed 004: only departments whose finance system is ``finance_system`` go there.
        return stmt.where(Department.finance_system == finance_system)

    def sql_source(self, ctx, dialect):
        stmt = (select(PurchaseOrderLine.id).select_from(PurchaseOrderLine)
                .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
                .join(Company, Company.id == PurchaseOrder.company_id)
                .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
                .outerjoin(Department, Department.id == PurchaseOrder.department_id))
        stmt = self._scoped(stmt, ctx)
        order_date = sql.iso_date(PurchaseOrder.order_date, dialect)
        return sql.SqlSource(
            select=stmt, source_id=PurchaseOrderLine.id,
            record_key=sql.concat(PurchaseOrder.order_number, "/", PurchaseOrderLine.line_no),
            window_value=order_date, company_id=PurchaseOrder.company_id,
            group_key=sql.concat(Company.code, "|", PurchaseOrder.order_number), required=self.required,
            headers={column.key: column.header for column in self.columns()},
            payload=[("company_code", Company.code), ("department", sql.text_or_empty(Department.code)),
                     ("order_number", PurchaseOrder.order_number), ("order_date", order_date),
                     ("supplier_number", Supplier.number), ("supplier_name", Supplier.name),
                     ("order_description", PurchaseOrder.description), ("line_no", PurchaseOrderLine.line_no),
                     ("item_code", PurchaseOrderLine.item_code), ("description", PurchaseOrderLine.description),
                     ("quantity", sql.quantity(PurchaseOrderLine.quantity, dialect)),
                     ("unit_cost", sql.money(PurchaseOrderLine.unit_cost, dialect)),
                     ("company_id", PurchaseOrder.company_id)])

    def payload(self, row, ctx):
        line = order = row
        return {
            "company_code": row.company_code, "department": row.department or "",
            "order_number": order.order_number, "order_date": order.order_date.isoformat(),
            "supplier_number": row.supplier_number, "supplier_name": row.supplier_name,
            "order_description": order.order_description, "line_no": line.line_no, "item_code": line.item_code,
            "description": line.description, "quantity": quantity(line.quantity),
            "unit_cost": money(line.unit_cost), "company_id": order.company_id,
        }

    def group_key(self, payload):
        # The lines of one order are delivered together (Visma.net: one purchase order with lines).
        return f"{payload['company_code']}|{payload['order_number']}"

    def record_key(self, payload):
        return f"{payload['order_number']}/{payload['line_no']}"

    def changed_since(self, stmt, changes):
        # Incremental runs read only what changed (``exporting.changes``): the line, its order (joined:
        # the window is the order's date), the order's company, supplier and department (by id).
        return changes.only(stmt, key=sql.concat(PurchaseOrder.order_number, "/", PurchaseOrderLine.line_no),
                            markers=(PurchaseOrderLine.row_version, PurchaseOrder.row_version,
                                     marker_of(Company, PurchaseOrder.company_id),
                                     marker_of(Supplier, PurchaseOrder.supplier_id),
                                     marker_of(Department, PurchaseOrder.department_id)))
