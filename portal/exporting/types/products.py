"""Products: items, raw materials and kits (an item with a calculation lists its components)."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from ...models import Company, KitComponent, Product
from ..formats import Column
from . import register
from . import sql
from .base import ExportType, iso, marker_of, money


@register
class Products(ExportType):
    key = "products"
    label = _l("Products")
    model = Product
    stop_on_error = True
    window_kind = "datetime"
    # The window is over ``updated_at``: a product edited after its delivery leaves the window it was
    # delivered in; it is removed only when it is gone from the source (``ExportType``).
    window_is_change_time = True
    required = ("item_code", "description")

    def columns(self):
        return [
            Column("company_code", _l("Company"), "text"),
            Column("item_code", _l("Item code"), "text"),
            Column("description", _l("Description"), "text"),
            Column("kind", _l("Kind"), "text"),
            Column("unit", _l("Unit"), "text"),
            Column("sales_price", _l("Sales price"), "decimal"),
            Column("cost_price", _l("Cost price"), "decimal"),
            Column("components", _l("Components"), "int"),
            Column("updated_at", _l("Changed at"), "datetime"),
        ]

    def select(self, ctx):
        kit = aliased(KitComponent)
        components = (select(func.count(kit.id)).where(kit.product_id == Product.id)
                      .correlate(Product).scalar_subquery())
        stmt = (select(Product.id.label("source_id"), Product.updated_at.label("window_value"),
                       *[c for c in Product.__table__.c if c.name != "id"],
                       Company.code.label("company_code"), components.label("components"))
                .join(Company, Company.id == Product.company_id))
        return self._scoped(stmt, ctx)

    def _scoped(self, stmt, ctx):
        """The run's window and company scope (both engines' source)."""
        stmt = stmt.where(self.window_filter(Product.updated_at, ctx))
        if ctx.company_id is not None:
            stmt = stmt.where(Product.company_id == ctx.company_id)
        return stmt

    def sql_source(self, ctx, dialect):
        kit = aliased(KitComponent)
        components = (select(func.count(kit.id)).where(kit.product_id == Product.id)
                      .correlate(Product).scalar_subquery())
        stmt = (select(Product.id).select_from(Product)
                .join(Company, Company.id == Product.company_id))
        stmt = self._scoped(stmt, ctx)
        updated_at = sql.iso_datetime(Product.updated_at, dialect)
        kind = case((Product.is_raw_material, "raw_material"), (Product.has_calculation, "kit"), else_="item")
        return sql.SqlSource(
            select=stmt, source_id=Product.id, record_key=sql.concat(Company.code, "/", Product.item_code),
            window_value=updated_at, company_id=Product.company_id, required=self.required,
            headers={column.key: column.header for column in self.columns()},
            payload=[("company_code", Company.code), ("item_code", Product.item_code),
                     ("description", Product.description), ("kind", kind), ("unit", Product.unit),
                     ("sales_price", sql.money(Product.sales_price, dialect)),
                     ("cost_price", sql.money(Product.cost_price, dialect)),
                     ("components", func.coalesce(components, 0)), ("updated_at", updated_at),
                     ("company_id", Product.company_id)])

    def payload(self, row, ctx):
        p = row
        kind = "raw_material" if p.is_raw_material else ("kit" if p.has_calculation else "item")
        return {
            "company_code": row.company_code, "item_code": p.item_code, "description": p.description,
            "kind": kind, "unit": p.unit, "sales_price": money(p.sales_price), "cost_price": money(p.cost_price),
            "components": int(row.components or 0), "updated_at": iso(p.updated_at),
            "company_id": p.company_id,
        }

    def record_key(self, payload):
        return f"{payload['company_code']}/{payload['item_code']}"

    def record_key_sql(self):
        # The company's code looked up by id: right whatever the statement joins or aliases.
        code = select(Company.code).where(Company.id == Product.company_id).correlate_except(Company.__table__) \
            .scalar_subquery()
        return sql.concat(code, "/", Product.item_code)

    def changed_since(self, stmt, changes):
        # Incremental runs read only what changed (``exporting.changes``): the product (a change of its kit
        # components moves its marker too: a trigger) and its company (by id).
        return changes.only(stmt, key=self.record_key_sql(),
                            markers=(Product.row_version, marker_of(Company, Product.company_id)))
