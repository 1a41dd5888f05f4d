"""Source data: what the six export types read. Filled by ``demo seed`` or the CSV import.

Each export type filters on one time column; those columns are indexed together with the company.
"""
from sqlalchemy import FetchedValue

from ..extensions import db
from .base import utcnow



class ChangeMarked:
    """``row_version``: the row's change marker, which grows with every write. The database keeps it
    (migration i10a_0001: a column default and triggers; on SQLite the bulk loader sets it itself), so
    that whoever writes — the import, the demo seed, the ORM, plain SQL — moves it. An incremental run
    reads only the records whose rows (or the rows their payload looks up) moved since the ledger's
    entry was prepared (``exporting.changes``). Never set it by hand."""
    row_version = db.Column(db.BigInteger, nullable=False, server_default=FetchedValue(),
                            server_onupdate=FetchedValue())


Money = db.Numeric(14, 2)
Quantity = db.Numeric(14, 4)


class Company(ChangeMarked, db.Model):
    __tablename__ = "companies"
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(20), nullable=False, unique=True)
    name = db.Column(db.String(200), nullable=False)
    is_test_company = db.Column(db.Boolean, nullable=False, default=False)
    currency = db.Column(db.String(3), nullable=False, default="EUR")


class Department(ChangeMarked, db.Model):
    __tablename__ = "departments"
    id = db.Column(db.Integer, primary_key=True)
    company_id = db.Column(db.ForeignKey("companies.id"), nullable=False, index=True)
    code = db.Column(db.String(20), nullable=False)
    name = db.Column(db.String(200), nullable=False)
    # Seed 004: per department, the finance system that receives its data ("visma_net" or None).
    finance_system = db.Column(db.String(30), nullable=True)
    __table_args__ = (db.UniqueConstraint("company_id", "code"),)


class Debtor(ChangeMarked, db.Model):
    __tablename__ = "debtors"
    id = db.Column(db.Integer, primary_key=True)
    company_id = db.Column(db.ForeignKey("companies.id"), nullable=False)
    number = db.Column(db.String(30), nullable=False)
    name = db.Column(db.String(200), nullable=False)
    email = db.Column(db.String(254), nullable=True)
    blocked = db.Column(db.Boolean, nullable=False, default=False)
    # A debtor is its company and its number (numbers are unique per company only): the pages name both.
    company = db.relationship(Company, viewonly=True)
    __table_args__ = (db.UniqueConstraint("company_id", "number"), db.Index("ix_debtors_name", "name"))


class Employee(ChangeMarked, db.Model):
    __tablename__ = "employees"
    id = db.Column(db.Integer, primary_key=True)
    company_id = db.Column(db.ForeignKey("companies.id"), nullable=False)
    department_id = db.Column(db.ForeignKey("departments.id"), nullable=True)
    number = db.Column(db.String(30), nullable=False)
    name = db.Column(db.String(200), nullable=False)
    __table_args__ = (db.UniqueConstraint("company_id", "number"),)


class CostCentre(ChangeMarked, db.Model):
    __tablename__ = "cost_centres"
    id = db.Column(db.Integer, primary_key=True)
    company_id = db.Column(db.ForeignKey("companies.id"), nullable=False)
    code = db.Column(db.String(30), nullable=False)
    name = db.Column(db.String(200), nullable=False)
    __table_args__ = (db.UniqueConstraint("company_id", "code"),)


class CostUnit(ChangeMarked, db.Model):
    __tablename__ = "cost_units"
    id = db.Column(db.Integer, primary_key=True)
    company_id = db.Column(db.ForeignKey("companies.id"), nullable=False)
    code = db.Column(db.String(30), nullable=False)
    name = db.Column(db.String(200), nullable=False)
    __table_args__ = (db.UniqueConstraint("company_id", "code"),)


class JournalLine(ChangeMarked, db.Model):
    """A payroll journal line. ``about_period`` differing from ``run_period`` makes it a correction."""
    __tablename__ = "journal_lines"
    id = db.Column(db.Integer, primary_key=True)
    company_id = db.Column(db.ForeignKey("companies.id"), nullable=False)
    payroll_run_ref = db.Column(db.String(40), nullable=False)
    run_period = db.Column(db.Date, nullable=False)      # first day of the period the run is for
    about_period = db.Column(db.Date, nullable=False)    # first day of the period the line is about
    line_no = db.Column(db.Integer, nullable=False)
    account = db.Column(db.String(20), nullable=False)
    account_name = db.Column(db.String(200), nullable=True)   # the ledger account's name in the source
    cost_centre_id = db.Column(db.ForeignKey("cost_centres.id"), nullable=True)
    cost_unit_id = db.Column(db.ForeignKey("cost_units.id"), nullable=True)
    employee_id = db.Column(db.ForeignKey("employees.id"), nullable=True)
    debit = db.Column(Money, nullable=False, default=0)
    credit = db.Column(Money, nullable=False, default=0)
    description = db.Column(db.String(200), nullable=False, default="")
    __table_args__ = (
        db.UniqueConstraint("payroll_run_ref", "line_no"),
        db.Index("ix_journal_lines_window", "company_id", "run_period"),
        db.Index("ix_journal_lines_run_period", "run_period"),
    )


class InvoiceLine(ChangeMarked, db.Model):
    __tablename__ = "invoice_lines"
    id = db.Column(db.Integer, primary_key=True)
    company_id = db.Column(db.ForeignKey("companies.id"), nullable=False)
    debtor_id = db.Column(db.ForeignKey("debtors.id"), nullable=False, index=True)
    invoice_number = db.Column(db.String(30), nullable=False)
    line_no = db.Column(db.Integer, nullable=False)
    invoice_date = db.Column(db.Date, nullable=False)
    due_date = db.Column(db.Date, nullable=False)
    product_code = db.Column(db.String(40), nullable=False)
    description = db.Column(db.String(200), nullable=False, default="")
    quantity = db.Column(Quantity, nullable=False, default=1)
    unit_price = db.Column(Money, nullable=False, default=0)
    amount = db.Column(Money, nullable=False, default=0)
    vat_code = db.Column(db.String(10), nullable=False, default="")
    vat_amount = db.Column(Money, nullable=False, default=0)
    __table_args__ = (
        db.UniqueConstraint("invoice_number", "line_no"),
        db.Index("ix_invoice_lines_window", "company_id", "invoice_date"),
        db.Index("ix_invoice_lines_invoice_date", "invoice_date"),
    )


class TimeRegistration(ChangeMarked, db.Model):
    __tablename__ = "time_registrations"
    id = db.Column(db.Integer, primary_key=True)
    company_id = db.Column(db.ForeignKey("companies.id"), nullable=False)
    employee_id = db.Column(db.ForeignKey("employees.id"), nullable=False)
    starts_at = db.Column(db.DateTime, nullable=False)   # UTC
    ends_at = db.Column(db.DateTime, nullable=False)     # UTC
    activity = db.Column(db.String(60), nullable=False)
    cost_centre_id = db.Column(db.ForeignKey("cost_centres.id"), nullable=True)
    __table_args__ = (
        db.Index("ix_time_registrations_window", "company_id", "starts_at"),
        db.Index("ix_time_registrations_starts_at", "starts_at"),
        db.Index("ix_time_registrations_employee", "employee_id", "starts_at"),
    )


class Payment(ChangeMarked, db.Model):
    """A point-of-sale customer payment (positive) or refund (negative)."""
    __tablename__ = "payments"
    id = db.Column(db.Integer, primary_key=True)
    company_id = db.Column(db.ForeignKey("companies.id"), nullable=False)
    department_id = db.Column(db.ForeignKey("departments.id"), nullable=True)
    receipt_number = db.Column(db.String(30), nullable=False, unique=True)
    customer_number = db.Column(db.String(30), nullable=False)
    customer_name = db.Column(db.String(200), nullable=False, default="")
    payment_type = db.Column(db.String(30), nullable=False)
    amount = db.Column(Money, nullable=False)
    paid_at = db.Column(db.DateTime, nullable=False)     # UTC
    __table_args__ = (
        db.Index("ix_payments_window", "company_id", "paid_at"),
        db.Index("ix_payments_paid_at", "paid_at"),
    )


class Supplier(ChangeMarked, db.Model):
    __tablename__ = "suppliers"
    id = db.Column(db.Integer, primary_key=True)
    company_id = db.Column(db.ForeignKey("companies.id"), nullable=False)
    number = db.Column(db.String(30), nullable=False)
    name = db.Column(db.String(200), nullable=False)
    __table_args__ = (db.UniqueConstraint("company_id", "number"),)


class PurchaseOrder(ChangeMarked, db.Model):
    __tablename__ = "purchase_orders"
    id = db.Column(db.Integer, primary_key=True)
    company_id = db.Column(db.ForeignKey("companies.id"), nullable=False)
    department_id = db.Column(db.ForeignKey("departments.id"), nullable=True)
    supplier_id = db.Column(db.ForeignKey("suppliers.id"), nullable=False, index=True)
    order_number = db.Column(db.String(30), nullable=False, unique=True)
    order_date = db.Column(db.Date, nullable=False)
    description = db.Column(db.String(200), nullable=False, default="")
    __table_args__ = (
        db.Index("ix_purchase_orders_window", "company_id", "order_date"),
        db.Index("ix_purchase_orders_order_date", "order_date"),
    )


class PurchaseOrderLine(ChangeMarked, db.Model):
    __tablename__ = "purchase_order_lines"
    id = db.Column(db.Integer, primary_key=True)
    purchase_order_id = db.Column(db.ForeignKey("purchase_orders.id", ondelete="CASCADE"), nullable=False)
    line_no = db.Column(db.Integer, nullable=False)
    item_code = db.Column(db.String(40), nullable=False)
    description = db.Column(db.String(200), nullable=False, default="")
    quantity = db.Column(Quantity, nullable=False)
    unit_cost = db.Column(Money, nullable=False)
    __table_args__ = (db.UniqueConstraint("purchase_order_id", "line_no"),)


class Product(ChangeMarked, db.Model):
    """An item, or a raw material. An item with kit components has a calculation (seed 004)."""
    __tablename__ = "products"
    id = db.Column(db.Integer, primary_key=True)
    company_id = db.Column(db.ForeignKey("companies.id"), nullable=False)
    item_code = db.Column(db.String(40), nullable=False)
    description = db.Column(db.String(200), nullable=False)
    is_raw_material = db.Column(db.Boolean, nullable=False, default=False)
    has_calculation = db.Column(db.Boolean, nullable=False, default=False)
    unit = db.Column(db.String(10), nullable=False, default="PCS")
    sales_price = db.Column(Money, nullable=False, default=0)
    cost_price = db.Column(Money, nullable=False, default=0)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow)  # UTC; the time window filters on it
    __table_args__ = (
        db.UniqueConstraint("company_id", "item_code"),
        db.Index("ix_products_window", "company_id", "updated_at"),
        db.Index("ix_products_updated_at", "updated_at"),
    )


class KitComponent(db.Model):
    """One raw material in the calculation (bill of materials) of an item."""
    __tablename__ = "kit_components"
    id = db.Column(db.Integer, primary_key=True)
    product_id = db.Column(db.ForeignKey("products.id", ondelete="CASCADE"), nullable=False)
    component_id = db.Column(db.ForeignKey("products.id"), nullable=False)
    quantity = db.Column(Quantity, nullable=False)
    __table_args__ = (db.UniqueConstraint("product_id", "component_id"),)
