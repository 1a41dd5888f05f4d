"""Loading source tables from CSV files (``flask --app app import TABLE FILE...``).

A file has a header row naming its columns (any order; see :data:`TABLES` or ``import --columns``).
Every row is validated: types, required values, lengths, references by business key (company code,
debtor number, employee number…, never database ids) and uniqueness. Every problem is reported as
(file, line, column, reason); a file with any problem loads nothing (one transaction). Files stream:
rows are validated and inserted in chunks, so memory stays flat however large the file is.
"""
import csv
import errno
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Callable

from flask_babel import format_decimal, lazy_gettext as _l
from sqlalchemy import select, tuple_
from sqlalchemy.exc import DBAPIError

from .bulk import bulk_insert, chunks
from .extensions import db
from .models import (
    Company, CostCentre, CostUnit, Debtor, Department, Employee, InvoiceLine, JournalLine, KitComponent,
    Payment, Product, PurchaseOrder, PurchaseOrderLine, Supplier, TimeRegistration,
)
from .validation import MAX_YEAR, MIN_YEAR, has_control_characters, year_in_range

CHUNK_SIZE = 5000
FINANCE_SYSTEMS = ("visma_net",)
TRUE_WORDS = {"true", "1", "yes", "y"}
FALSE_WORDS = {"false", "0", "no", "n"}


@dataclass
class Problem:
    """One reason why a file was refused. ``reason`` is a lazy string: it renders in any language."""
    file: str
    line: int | None
    column: str
    reason: object

    def as_row(self):
        return [self.file, "" if self.line is None else str(self.line), self.column, str(self.reason)]


class Invalid(ValueError):
    """A value that cannot be loaded; ``reason`` is a lazy, translatable string."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


# ---------------------------------------------------------------------------------------------------
# Value parsers: text of a CSV cell -> Python value, or Invalid
# ---------------------------------------------------------------------------------------------------

def text(max_length):
    def parse(value):
        if len(value) > max_length:
            raise Invalid(_l("is longer than %(n)d characters", n=max_length))
        return value
    parse.kind = f"text (at most {max_length} characters)"
    return parse


MAX_WHOLE_NUMBER = 2_000_000_000
_WHOLE = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PERIOD = re.compile(r"[0-9]{4}-[0-9]{2}(?:-01)?")


def _out_of_years():
    return _l("must lie in the years %(first)d to %(last)d", first=MIN_YEAR, last=MAX_YEAR)


def integer(value):
    """A whole number in ASCII digits (as the portal's forms take them: no ``١٠٠``, ``１２``, ``1_000``)."""
    if not _WHOLE.fullmatch(value):
        raise Invalid(_l("is not a whole number"))
    if len(value.lstrip("+-")) > 12 or not 1 <= int(value) <= MAX_WHOLE_NUMBER:
        raise Invalid(_l("must be a whole number from 1 to %(last)s", last=format_decimal(MAX_WHOLE_NUMBER)))
    return int(value)


integer.kind = f"whole number, 1 to {MAX_WHOLE_NUMBER:,}"


def decimal(scale, non_negative=False):
    """A number in ASCII digits with a point for decimals (no exponent such as ``1e2``, no other digits)."""
    limit = Decimal(10) ** (14 - scale)

    def parse(value):
        if not _NUMBER.fullmatch(value) or len(value) > 40:
            raise Invalid(_l("is not a number (use a point for decimals, e.g. 1234.56)"))
        number = Decimal(value)
        if number.as_tuple().exponent < -scale:
            raise Invalid(_l("has more than %(n)d decimals", n=scale))
        if abs(number) >= limit:
            raise Invalid(_l("is too large"))
        if non_negative and number < 0:
            raise Invalid(_l("must not be negative"))
        return number
    parse.kind = f"number with at most {scale} decimals (point as separator)" + (", 0 or more" if non_negative else "")
    return parse


def iso_date(value):
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid(_l("is not a date in the form YYYY-MM-DD")) from None
    if not year_in_range(day):
        raise Invalid(_out_of_years())
    return day


iso_date.kind = f"date, YYYY-MM-DD (years {MIN_YEAR}–{MAX_YEAR})"


def period(value):
    """A month: YYYY-MM, or YYYY-MM-01. Stored as the first day of the month."""
    try:
        if not _PERIOD.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value + "-01" if len(value) == 7 else value)
    except ValueError:
        raise Invalid(_l("is not a period in the form YYYY-MM")) from None
    if not year_in_range(day):
        raise Invalid(_out_of_years())
    return day


period.kind = f"period, YYYY-MM (or the first day of the month, YYYY-MM-01; years {MIN_YEAR}–{MAX_YEAR})"


def iso_datetime(value):
    """ISO 8601 date and time; with an offset it is converted to UTC, without one it is UTC already. The
    years 1900–2999 only (before and after the conversion), as everywhere in the portal."""
    try:
        if not value.isascii():
            raise ValueError(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(_l("is not a date and time in the form YYYY-MM-DDTHH:MM:SS")) from None
    if not year_in_range(moment):
        raise Invalid(_out_of_years())
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        if not year_in_range(moment):
            raise Invalid(_out_of_years())
    return moment


iso_datetime.kind = ("date and time, ISO 8601 (YYYY-MM-DDTHH:MM:SS, UTC unless an offset such as +01:00 is given; "
                     f"years {MIN_YEAR}–{MAX_YEAR})")


def boolean(value):
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise Invalid(_l("is not true or false"))


boolean.kind = "true or false (also 1/0, yes/no)"


def choice(*options):
    def parse(value):
        if value not in options:
            raise Invalid(_l("must be one of: %(options)s", options=", ".join(options)))
        return value
    parse.kind = "one of: " + ", ".join(options)
    return parse


# ---------------------------------------------------------------------------------------------------
# References by business key
# ---------------------------------------------------------------------------------------------------

class References:
    """Looks up ids by business key, loading each kind once (per import) on first use."""

    QUERIES = {
        "company": lambda: select(Company.code, Company.id),
        "department": lambda: select(Department.company_id, Department.code, Department.id),
        "debtor": lambda: select(Debtor.company_id, Debtor.number, Debtor.id),
        "employee": lambda: select(Employee.company_id, Employee.number, Employee.id),
        "cost_centre": lambda: select(CostCentre.company_id, CostCentre.code, CostCentre.id),
        "cost_unit": lambda: select(CostUnit.company_id, CostUnit.code, CostUnit.id),
        "supplier": lambda: select(Supplier.company_id, Supplier.number, Supplier.id),
        "purchase_order": lambda: select(PurchaseOrder.order_number, PurchaseOrder.id),
        "product": lambda: select(Product.company_id, Product.item_code, Product.id, Product.is_raw_material,
                                  Product.has_calculation),
    }
    MESSAGES = {
        "company": _l("no company with this code"),
        "department": _l("no department with this code in the company"),
        "debtor": _l("no debtor with this number in the company"),
        "employee": _l("no employee with this number in the company"),
        "cost_centre": _l("no cost centre with this code in the company"),
        "cost_unit": _l("no cost unit with this code in the company"),
        "supplier": _l("no supplier with this number in the company"),
        "purchase_order": _l("no purchase order with this number"),
        "product": _l("no product with this item code in the company"),
    }

    def __init__(self, connection):
        self.connection = connection
        self.maps = {}

    def find(self, kind, key):
        if kind not in self.maps:
            result = {}
            for row in self.connection.execute(self.QUERIES[kind]()):
                if kind == "product":
                    result[(row[0], row[1])] = (row[2], row[3], row[4])
                elif len(row) == 2:
                    result[row[0]] = row[1]
                else:
                    result[(row[0], row[1])] = row[2]
            self.maps[kind] = result
        found = self.maps[kind].get(key)
        if found is None:
            raise Invalid(self.MESSAGES[kind])
        return found


# ---------------------------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------------------------

@dataclass(eq=False)
class Column:
    """A CSV column. ``target`` is the database column it fills (default: its own name); ``ref`` makes
    it a reference by business key (company-scoped unless the kind is global)."""
    name: str
    parse: Callable = None
    required: bool = True
    default: object = None
    ref: str | None = None
    target: str | None = None
    help: str = ""

    @property
    def db_column(self):
        return self.target or (f"{self.ref}_id" if self.ref else self.name)

    @property
    def kind(self):
        if self.ref:
            return {"company": "company code"}.get(self.ref, self.help or self.ref)
        return getattr(self.parse, "kind", "text")


@dataclass
class Table:
    name: str
    model: type
    columns: list
    key: tuple = ()                       # database columns that identify a row (unique)
    check: Callable | None = None         # row-level rules: values dict -> [(column, reason)]
    scoped: bool = True                   # references are looked up within the row's company
    description: str = ""

    @property
    def column_names(self):
        return [c.name for c in self.columns]


def company():
    return Column("company", ref="company", help="company code")


def _both(values, first, second):
    """The two values, when both were read correctly (a wrong one is reported already)."""
    a, b = values.get(first), values.get(second)
    return (a, b) if a is not None and b is not None else None


def _journal_check(values):
    pair = _both(values, "about_period", "run_period")
    if pair and pair[0] > pair[1]:
        return [("about_period", _l("must not be after the run period"))]
    return []


def _invoice_check(values):
    pair = _both(values, "due_date", "invoice_date")
    if pair and pair[0] < pair[1]:
        return [("due_date", _l("must not be before the invoice date"))]
    return []


def _time_check(values):
    pair = _both(values, "ends_at", "starts_at")
    if pair and pair[0] <= pair[1]:
        return [("ends_at", _l("must be after the start"))]
    return []


TABLES = {t.name: t for t in [
    Table("companies", Company, [
        Column("code", text(20)), Column("name", text(200)),
        Column("is_test_company", boolean, required=False, default=False),
        Column("currency", text(3), required=False, default="EUR"),
    ], key=("code",), scoped=False, description="Companies (administrations); a test company's journals are refused."),
    Table("departments", Department, [
        company(), Column("code", text(20)), Column("name", text(200)),
        Column("finance_system", choice(*FINANCE_SYSTEMS), required=False),
    ], key=("company_id", "code"), description="Departments; finance_system visma_net sends their payments and orders to Visma.net."),
    Table("cost_centres", CostCentre, [company(), Column("code", text(30)), Column("name", text(200))],
          key=("company_id", "code"), description="Cost centres (Visma.net dimension 1)."),
    Table("cost_units", CostUnit, [company(), Column("code", text(30)), Column("name", text(200))],
          key=("company_id", "code"), description="Cost units (Visma.net dimension 2)."),
    Table("debtors", Debtor, [
        company(), Column("number", text(30)), Column("name", text(200)),
        Column("email", text(254), required=False), Column("blocked", boolean, required=False, default=False),
    ], key=("company_id", "number"), description="Debtors (customers); invoices of a blocked debtor are not exported."),
    Table("employees", Employee, [
        company(), Column("number", text(30)), Column("name", text(200)),
        Column("department", ref="department", required=False, help="department code"),
    ], key=("company_id", "number"), description="Employees."),
    Table("suppliers", Supplier, [company(), Column("number", text(30)), Column("name", text(200))],
          key=("company_id", "number"), description="Suppliers (vendors at Visma.net)."),
    Table("journal_lines", JournalLine, [
        company(), Column("payroll_run_ref", text(40)), Column("run_period", period),
        Column("about_period", period), Column("line_no", integer), Column("account", text(20)),
        Column("account_name", text(200), required=False, default=None),
        Column("cost_centre", ref="cost_centre", required=False, help="cost centre code"),
        Column("cost_unit", ref="cost_unit", required=False, help="cost unit code"),
        Column("employee", ref="employee", required=False, help="employee number"),
        Column("debit", decimal(2, non_negative=True), required=False, default=Decimal("0")),
        Column("credit", decimal(2, non_negative=True), required=False, default=Decimal("0")),
        Column("description", text(200), required=False, default=""),
    ], key=("payroll_run_ref", "line_no"), check=_journal_check,
        description="Payroll journal lines; about_period before run_period makes a line a correction."),
    Table("invoice_lines", InvoiceLine, [
        company(), Column("debtor", ref="debtor", help="debtor number"), Column("invoice_number", text(30)),
        Column("line_no", integer), Column("invoice_date", iso_date), Column("due_date", iso_date),
        Column("product_code", text(40)), Column("description", text(200), required=False, default=""),
        Column("quantity", decimal(4)), Column("unit_price", decimal(2)), Column("amount", decimal(2)),
        Column("vat_code", text(10), required=False, default=""),
        Column("vat_amount", decimal(2), required=False, default=Decimal("0")),
    ], key=("invoice_number", "line_no"), check=_invoice_check, description="Invoice lines."),
    Table("time_registrations", TimeRegistration, [
        company(), Column("employee", ref="employee", help="employee number"),
        Column("starts_at", iso_datetime), Column("ends_at", iso_datetime), Column("activity", text(60)),
        Column("cost_centre", ref="cost_centre", required=False, help="cost centre code"),
    ], check=_time_check, description="Registered hours; overlapping registrations are allowed (exports report them)."),
    Table("payments", Payment, [
        company(), Column("department", ref="department", required=False, help="department code"),
        Column("receipt_number", text(30)), Column("customer_number", text(30)),
        Column("customer_name", text(200), required=False, default=""), Column("payment_type", text(30)),
        Column("amount", decimal(2)), Column("paid_at", iso_datetime),
    ], key=("receipt_number",), description="Point-of-sale payments; a refund has a negative amount."),
    Table("purchase_orders", PurchaseOrder, [
        company(), Column("order_number", text(30)), Column("supplier", ref="supplier", help="supplier number"),
        Column("department", ref="department", required=False, help="department code"),
        Column("order_date", iso_date), Column("description", text(200), required=False, default=""),
    ], key=("order_number",), description="Purchase orders (import their lines afterwards)."),
    Table("purchase_order_lines", PurchaseOrderLine, [
        Column("order_number", ref="purchase_order", help="purchase order number"), Column("line_no", integer),
        Column("item_code", text(40)), Column("description", text(200), required=False, default=""),
        Column("quantity", decimal(4)), Column("unit_cost", decimal(2)),
    ], key=("purchase_order_id", "line_no"), scoped=False, description="Purchase order lines."),
    Table("products", Product, [
        company(), Column("item_code", text(40)), Column("description", text(200)),
        Column("is_raw_material", boolean, required=False, default=False),
        Column("has_calculation", boolean, required=False, default=False),
        Column("unit", text(10), required=False, default="PCS"),
        Column("sales_price", decimal(2, non_negative=True), required=False, default=Decimal("0")),
        Column("cost_price", decimal(2, non_negative=True), required=False, default=Decimal("0")),
        Column("updated_at", iso_datetime),
    ], key=("company_id", "item_code"),
        description="Products: items (with or without a calculation) and raw materials."),
    Table("kit_components", KitComponent, [
        company(), Column("item_code", ref="product", target="product_id", help="item code of an item with a calculation"),
        Column("component", ref="product", target="component_id", help="item code of a raw material"),
        Column("quantity", decimal(4, non_negative=True)),
    ], key=("product_id", "component_id"), description="The raw materials in the calculation (kit) of an item."),
]}


# ---------------------------------------------------------------------------------------------------
# Validating and loading a file
# ---------------------------------------------------------------------------------------------------

class RowValidator:
    def __init__(self, table, references):
        self.table = table
        self.references = references

    def validate(self, cells):
        """cells: {column name: text}. Returns (values for the database, [(column, reason)])."""
        table = self.table
        values, problems, raw = {}, [], {}
        company_id = None
        for column in table.columns:
            value = cells.get(column.name, "")
            if has_control_characters(value):   # before strip(), which would drop some of them silently
                problems.append((column.name, _l("contains a control character (such as NUL); remove it")))
                continue
            value = value.strip()
            if value == "":
                if column.required:
                    problems.append((column.name, _l("a value is required")))
                values[column.db_column] = column.default
                continue
            try:
                if column.ref == "company":
                    company_id = self.references.find("company", value)
                    values[column.db_column] = company_id
                elif column.ref:
                    raw[column] = value
                else:
                    values[column.db_column] = column.parse(value)
            except Invalid as exc:
                problems.append((column.name, exc.reason))
        for column, value in raw.items():
            if table.scoped and company_id is None:
                continue  # the company itself is wrong or missing: reported already
            key = (company_id, value) if table.scoped else value
            try:
                found = self.references.find(column.ref, key)
            except Invalid as exc:
                problems.append((column.name, exc.reason))
                continue
            if column.ref == "product":
                found = self._kit_part(column, found, problems)
            values[column.db_column] = found
        if table.name == "kit_components" and not problems \
                and values["product_id"] == values["component_id"]:
            problems.append(("component", _l("an item cannot be a component of itself")))
        if table.check:
            problems.extend(table.check(values))
        return values, problems

    @staticmethod
    def _kit_part(column, found, problems):
        product_id, is_raw_material, has_calculation = found
        if column.name == "item_code" and not has_calculation:
            problems.append((column.name, _l("this item has no calculation")))
        if column.name == "component" and not is_raw_material:
            problems.append((column.name, _l("this product is not a raw material")))
        return product_id


def _file_error(exc):
    """Why a file cannot be opened, in the report's language: the operating system's own text (``No such
    file or directory``) is English whatever the language chosen."""
    if isinstance(exc, FileNotFoundError):
        return _l("the file does not exist")
    if isinstance(exc, IsADirectoryError):
        return _l("this is a folder, not a file")
    if isinstance(exc, PermissionError):
        return _l("there is no permission to read the file")
    # Anything rarer: the error's symbolic name (EIO, ENAMETOOLONG …), the same in every language.
    code = errno.errorcode.get(exc.errno) if exc.errno is not None else None
    return _l("the file cannot be read: %(error)s", error=code or type(exc).__name__)


def import_file(table_name, path, delimiter=",", display_name=None):
    """Validate and load one CSV file into ``table_name``, in one transaction.

    Returns (rows loaded, [Problem]). With any problem, nothing is loaded and the count is 0.
    """
    table = TABLES[table_name]
    name = display_name or str(path)
    problems = []

    def problem(line, column, reason):
        problems.append(Problem(name, line, column, reason))

    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n' \
            or has_control_characters(delimiter):
        problem(None, "", _l("the delimiter %(delimiter)s cannot be used: give one character that is not a quote "
                             "or a line break (e.g. ';')", delimiter=repr(delimiter)))
        return 0, problems

    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        problem(None, "", _file_error(exc))
        return 0, problems
    with handle, db.engine.connect() as connection:
        transaction = connection.begin()
        loaded = 0
        try:
            loaded = _load(connection, table, handle, delimiter, problem)
        except UnicodeDecodeError:
            problem(None, "", _l("the file is not UTF-8 text"))
        except csv.Error as exc:
            problem(None, "", _l("the file is not valid CSV: %(error)s", error=str(exc)))
        except DBAPIError as exc:
            problem(None, "", _l("the database refused the rows: %(error)s", error=str(exc.orig).strip()))
        if problems:
            transaction.rollback()
            problems.sort(key=lambda p: p.line or 0)  # stable: a line's problems keep their column order
            return 0, problems
        transaction.commit()
        return loaded, problems


def _load(connection, table, handle, delimiter, problem):
    reader = csv.reader(handle, delimiter=delimiter)
    header = next(reader, None)
    if not header:
        problem(1, "", _l("the file is empty; the first line must name the columns"))
        return 0
    header = [name.strip() for name in header]
    known = set(table.column_names)
    for name in header:
        if name not in known:
            problem(1, name, _l("unknown column"))
    seen = set()
    for name in header:
        if name in seen:
            problem(1, name, _l("this column appears twice"))
        seen.add(name)
    for column in table.columns:
        if column.required and column.name not in seen:
            problem(1, column.name, _l("this required column is missing"))
    header_ok = all(name in known for name in header) and len(seen) == len(header) \
        and all(c.name in seen or not c.required for c in table.columns)
    if not header_ok:
        return 0  # the rows cannot be read without a sound header

    validator = RowValidator(table, References(connection))
    sql_columns = table.model.__table__.c
    db_columns = [c.db_column for c in table.columns if c.db_column in sql_columns]

    def valid_rows():
        previous_line = reader.line_num
        for cells in reader:
            line = previous_line + 1
            previous_line = reader.line_num
            if not cells or cells == [""]:
                continue
            if len(cells) != len(header):
                problem(line, "", _l("has %(found)d fields where the header has %(expected)d",
                                     found=len(cells), expected=len(header)))
                continue
            values, row_problems = validator.validate(dict(zip(header, cells)))
            for column, reason in row_problems:
                problem(line, column, reason)
            if not row_problems:
                yield line, values

    loaded = 0
    for chunk in chunks(valid_rows(), CHUNK_SIZE):
        chunk = _unique(connection, table, chunk, problem)
        loaded += bulk_insert(connection, table.model.__table__, db_columns,
                              [tuple(values[c] for c in db_columns) for _line, values in chunk])
    return loaded


def _unique(connection, table, chunk, problem):
    """Drop (and report) rows whose key is already in the database (or earlier in the file, whose
    chunks are already inserted in this transaction) or repeats within the chunk."""
    if not table.key:
        return chunk
    sql_table = table.model.__table__
    key_columns = [sql_table.c[name] for name in table.key]
    label = next(c.name for c in table.columns if c.db_column == table.key[-1])
    keys = {tuple(values[name] for name in table.key) for _line, values in chunk}
    if len(key_columns) == 1:
        existing = {(k,) for k in connection.execute(
            select(key_columns[0]).where(key_columns[0].in_([k[0] for k in keys]))).scalars()}
    else:
        existing = set(connection.execute(select(*key_columns).where(tuple_(*key_columns).in_(list(keys)))).tuples())
    kept, first_line = [], {}
    for line, values in chunk:
        key = tuple(values[name] for name in table.key)
        if key in existing:
            problem(line, label, _l("already exists (in the database or earlier in this file)"))
        elif key in first_line:
            problem(line, label, _l("repeats line %(line)d", line=first_line[key]))
        else:
            first_line[key] = line
            kept.append((line, values))
    return kept


def columns_doc(table_name):
    """Plain-text description of a table's columns (for ``import --columns`` and the README)."""
    table = TABLES[table_name]
    lines = [f"{table.name}: {table.description}"]
    for column in table.columns:
        need = "required" if column.required else "optional"
        lines.append(f"  {column.name:<16} {need:<9} {column.kind}")
    return "\n".join(lines)
