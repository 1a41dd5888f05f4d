"""Demo data: a realistic care organisation, deterministic and idempotent.

- Reference data (companies, departments, cost centres and units, debtors, employees, suppliers, the
  demo users) is inserted by business key: what exists is kept, what is missing is added.
- The large tables (journal lines, invoice lines, time registrations, payments, purchase orders with
  their lines, products with their kit components) are filled only when empty, in bulk (COPY on
  PostgreSQL, chunked executemany elsewhere), each in its own transaction.
- Every table has its own seeded random generator, and dates are relative to ``today``: the demo
  always shows the last twelve closed months and the current one. Running it twice changes nothing.
"""
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from ..admin.services import create_user
from ..bulk import bulk_insert
from ..exporting.services import create_profile  # the engine's validation, as a consultant's would
from ..extensions import db
from ..models import (
    Company, CostCentre, CostUnit, Debtor, Department, Employee, ExportProfile, InvoiceLine, JournalLine,
    KitComponent, Payment, Product, PurchaseOrder, PurchaseOrderLine, Supplier, TimeRegistration, User,
)
from ..models.base import utcnow
from ..validation import name_key
from .constants import (
    COMPANIES, COST_CENTRES, COST_UNITS, DEBTOR_COUNT, DEBTOR_NUMBER_FIRST, DEMO_PASSWORD, DEMO_USERS,
    PAYMENT_TYPES, PAYROLL_ACCOUNTS, SUPPLIER_COUNT, SUPPLIER_NUMBER_FIRST,
)

# The large tables and their size when ``--size`` is not given. ``None``: what the organisation
# naturally has (journals: one run per company and month, seven lines per employee, plus corrections).
DEFAULT_SIZES = {
    "journal_lines": None,
    "invoice_lines": 10_000,
    "time_registrations": 14_000,
    "payments": 6_000,
    "purchase_order_lines": 2_400,
    "products": 360,
}
LARGE_TABLES = tuple(DEFAULT_SIZES)
MIN_SIZE = 100
MONTHS = 13  # the last twelve closed months and the current one

# Share of each company (by code) in the large tables; the test company is small.
COMPANY_WEIGHTS = {"ZORG": 0.55, "THUIS": 0.35, "TEST": 0.10}
EMPLOYEES_PER_COMPANY = {"ZORG": 30, "THUIS": 15, "TEST": 5}
EMPLOYEE_NUMBER_FIRST = 1001
# Debtor numbers (shared with the sandbox) are divided over the companies in this order.
DEBTORS_PER_COMPANY = {"ZORG": 1200, "THUIS": 600, "TEST": DEBTOR_COUNT - 1800}
BLOCKED_SHARE = 0.03
CORRECTION_SHARE = 0.06
OVERLAP_SHARE = 0.01
REFUND_SHARE = 0.03

# Departments (seed 004: the finance system is chosen per department; "visma_net" or none).
DEPARTMENTS = {
    "ZORG": [("ADM", "Administration", None), ("HCN", "Home care North", None),
             ("LINDE", "Nursing home De Linde", None), ("REST", "Restaurant De Linde", "visma_net"),
             ("SHOP", "Care shop Tiel", "visma_net")],
    "THUIS": [("ADM", "Administration", None), ("HC", "Home care", None),
              ("SHOP", "Care shop Assen", "visma_net")],
    "TEST": [("TEST", "Test department", "visma_net")],
}

FIRST_NAMES = ["Anna", "Bram", "Carla", "Daan", "Eva", "Femke", "Gijs", "Hanna", "Ingrid", "Jeroen", "Karin",
               "Lars", "Maria", "Niels", "Olga", "Pieter", "Ruth", "Sven", "Tessa", "Ulla", "Vera", "Willem",
               "Yara", "Astrid", "Bo", "Freja", "Mette", "Søren", "Linnea", "Erik", "Johan", "Sanne", "Sofie"]
LAST_NAMES = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot",
              "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra",
              "Andersson", "Johansson", "Karlsson", "Nielsen", "Hansen", "Pedersen", "Jensen", "Larsen"]
ORGANISATIONS = ["Gemeente Tiel", "Gemeente Assen", "Zorgkantoor Midden", "CZ Zorgverzekeringen",
                 "VGZ Zorgverzekeraar", "Menzis", "Stichting Welzijn Oost", "Huisartsenpraktijk Centrum",
                 "Apotheek De Linde", "Woningstichting Rivierenland"]
SUPPLIER_NAMES = ["Medline", "Hartmann", "Sligro", "Hanos", "Bidfood", "Essity", "Lyreco", "Vegro",
                  "Welzorg", "Staples", "Coolblue Zakelijk", "Makro", "Bunzl", "Mediq", "Beter Bed",
                  "Van der Valk Catering", "Douwe Egberts Professional", "FrieslandCampina", "Unilever FS",
                  "Vileda Professional"]
ACTIVITIES = ["Personal care", "Nursing", "Domestic help", "Guidance", "Travel", "Team meeting", "Training"]
RAW_MATERIALS = [("Coffee beans", "KG", 1400), ("Milk", "L", 95), ("Flour", "KG", 80), ("Sugar", "KG", 120),
                 ("Butter", "KG", 780), ("Cheese", "KG", 950), ("Bread roll", "PCS", 25), ("Tomato", "KG", 260),
                 ("Chicken breast", "KG", 990), ("Tea bags (100)", "BOX", 450), ("Orange juice", "L", 180),
                 ("Eggs (10)", "BOX", 290), ("Nitrile gloves (100)", "BOX", 690), ("Gauze bandage", "PCS", 85),
                 ("Disinfectant", "L", 520), ("Soap", "L", 310), ("Napkins (500)", "PCS", 640),
                 ("Paper cups (50)", "PCS", 330), ("Soup base", "KG", 720), ("Apple", "KG", 210)]
ITEMS = [("Cappuccino", 290), ("Tea", 180), ("Cheese sandwich", 395), ("Tomato soup", 450),
         ("Apple pie", 350), ("Chicken salad", 825), ("Breakfast", 950), ("Lunch menu", 1250),
         ("Orange juice glass", 250), ("First aid kit", 1995), ("Hygiene package", 1450),
         ("Walking stick", 2495), ("Compression stockings", 3995), ("Reading glasses", 1295),
         ("Bath chair", 8995), ("Pill box", 695), ("Birthday cake", 2250), ("Fruit basket", 1950)]
VAT_RATE = {"21": Decimal("0.21"), "9": Decimal("0.09"), "0": Decimal("0")}


@dataclass
class Context:
    """What the generators of the large tables need: today, the periods and the reference data's ids."""
    today: date
    periods: list
    companies: dict                       # code -> (id, is_test)
    departments: dict = field(default_factory=dict)   # company code -> [(id, code, finance_system)]
    cost_centres: dict = field(default_factory=dict)  # company code -> [id]
    cost_units: dict = field(default_factory=dict)    # company code -> [id]
    debtors: dict = field(default_factory=dict)       # company code -> [(id, number, name)]
    employees: dict = field(default_factory=dict)     # company code -> [(id, number, name)]
    suppliers: dict = field(default_factory=dict)     # company code -> [(id, number, name)]

    @property
    def window_start(self):
        return self.periods[0]


def month_start(day, months_back=0):
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def periods_for(today):
    """First days of the last twelve closed months and the current month, oldest first."""
    return [month_start(today, back) for back in range(MONTHS - 1, -1, -1)]


def money(cents):
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return Decimal(f"{sign}{cents // 100}.{cents % 100:02d}")


def split(total, weights):
    """Divide ``total`` over the keys of ``weights`` exactly (largest shares first)."""
    keys = list(weights)
    shares = {key: int(total * weights[key]) for key in keys}
    for key in keys[: total - sum(shares.values())]:
        shares[key] += 1
    return shares


def person_name(rng):
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


# ---------------------------------------------------------------------------------------------------
# Reference data: inserted by business key
# ---------------------------------------------------------------------------------------------------

def seed_users():
    for email, role, name, locale in DEMO_USERS:
        if not db.session.execute(db.select(User.id).filter_by(email=email)).first():
            create_user(email, DEMO_PASSWORD, role=role, name=name, locale=locale, allow_short_password=True)


def _ensure(connection, model, key_columns, rows):
    """Insert the ``rows`` (dicts) whose business key is not in the table yet."""
    table = model.__table__
    existing = set(connection.execute(select(*[table.c[name] for name in key_columns])).tuples())
    missing = [row for row in rows if tuple(row[name] for name in key_columns) not in existing]
    if missing:
        connection.execute(table.insert(), missing)


def seed_companies():
    with db.engine.begin() as connection:
        _ensure(connection, Company, ["code"],
                [{"code": code, "name": name, "is_test_company": is_test, "currency": "EUR"}
                 for code, name, is_test in COMPANIES])


def _reference_rows(companies):
    """The reference rows of every company, generated deterministically."""
    rng = random.Random("reference")
    rows = {Department: [], CostCentre: [], CostUnit: [], Debtor: [], Employee: [], Supplier: []}
    debtor_number = DEBTOR_NUMBER_FIRST
    employee_number = EMPLOYEE_NUMBER_FIRST
    for code, _name, _is_test in COMPANIES:
        company_id = companies[code][0]
        for dep_code, dep_name, system in DEPARTMENTS[code]:
            rows[Department].append({"company_id": company_id, "code": dep_code, "name": dep_name,
                                     "finance_system": system})
        rows[CostCentre] += [{"company_id": company_id, "code": c, "name": n} for c, n in COST_CENTRES]
        rows[CostUnit] += [{"company_id": company_id, "code": c, "name": n} for c, n in COST_UNITS]
        for _ in range(DEBTORS_PER_COMPANY[code]):
            if rng.random() < 0.08:
                name = f"{rng.choice(ORGANISATIONS)}"
                email = f"administratie{debtor_number}@example.org"
            else:
                name = person_name(rng)
                email = f"{name.split()[0].lower()}.{debtor_number}@example.com" if rng.random() < 0.6 else None
            rows[Debtor].append({"company_id": company_id, "number": str(debtor_number),
                                 "name": name, "email": email, "blocked": rng.random() < BLOCKED_SHARE})
            debtor_number += 1
        for _ in range(EMPLOYEES_PER_COMPANY[code]):
            rows[Employee].append({"company_id": company_id, "number": str(employee_number),
                                   "name": person_name(rng), "department_code": rng.choice(DEPARTMENTS[code])[0]})
            employee_number += 1
        for index in range(SUPPLIER_COUNT):
            base = SUPPLIER_NAMES[index % len(SUPPLIER_NAMES)]
            name = base if index < len(SUPPLIER_NAMES) else f"{base} Regio {index // len(SUPPLIER_NAMES) + 1}"
            rows[Supplier].append({"company_id": company_id, "number": str(SUPPLIER_NUMBER_FIRST + index),
                                   "name": name})
    return rows


def seed_reference(today):
    """Companies and everything that hangs on them; returns the :class:`Context` of their ids."""
    seed_companies()
    with db.engine.begin() as connection:
        companies = {code: (id_, is_test) for id_, code, is_test in connection.execute(
            select(Company.id, Company.code, Company.is_test_company))}
        rows = _reference_rows(companies)
        for model in (Department, CostCentre, CostUnit, Supplier, Debtor):
            key = ["company_id", "code"] if "code" in model.__table__.c else ["company_id", "number"]
            _ensure(connection, model, key, rows[model])
        departments = {(c, code): id_ for id_, c, code in connection.execute(
            select(Department.id, Department.company_id, Department.code))}
        employees = []
        for row in rows[Employee]:
            row = dict(row)
            row["department_id"] = departments.get((row["company_id"], row.pop("department_code")))
            employees.append(row)
        _ensure(connection, Employee, ["company_id", "number"], employees)
        return _context(connection, today, companies)


def _context(connection, today, companies):
    ours = {id_: code for code, (id_, _t) in companies.items() if code in COMPANY_WEIGHTS}
    context = Context(today=today, periods=periods_for(today),
                      companies={code: companies[code] for code in COMPANY_WEIGHTS})

    def grouped(statement):
        result = {code: [] for code in COMPANY_WEIGHTS}
        for company_id, *rest in connection.execute(statement):
            if company_id in ours:
                result[ours[company_id]].append(rest[0] if len(rest) == 1 else tuple(rest))
        return result

    context.departments = grouped(select(Department.company_id, Department.id, Department.code,
                                         Department.finance_system).order_by(Department.id))
    context.cost_centres = grouped(select(CostCentre.company_id, CostCentre.id).order_by(CostCentre.code))
    context.cost_units = grouped(select(CostUnit.company_id, CostUnit.id).order_by(CostUnit.code))
    context.debtors = grouped(select(Debtor.company_id, Debtor.id, Debtor.number, Debtor.name)
                              .order_by(Debtor.number))
    context.employees = grouped(select(Employee.company_id, Employee.id, Employee.number, Employee.name)
                                .order_by(Employee.number))
    context.suppliers = grouped(select(Supplier.company_id, Supplier.id, Supplier.number, Supplier.name)
                                .order_by(Supplier.number))
    return context


# ---------------------------------------------------------------------------------------------------
# The large tables: generated as streams of tuples, loaded in bulk
# ---------------------------------------------------------------------------------------------------

JOURNAL_COLUMNS = ("company_id", "payroll_run_ref", "run_period", "about_period", "line_no", "account",
                   "account_name", "cost_centre_id", "cost_unit_id", "employee_id", "debit", "credit", "description")
DEBIT_ACCOUNTS = [a for a in PAYROLL_ACCOUNTS if a[2] == "debit"]
CREDIT_ACCOUNTS = [a for a in PAYROLL_ACCOUNTS if a[2] == "credit"]
ACCOUNT_NAMES = {number: name for number, name, _side in PAYROLL_ACCOUNTS}


def run_reference(company_code, period):
    return f"{company_code}-PAY-{period:%Y-%m}"


def _salary_block(rng, employee, dims, period):
    """The seven balanced lines of one employee's monthly pay: (account, cc, cu, emp, debit, credit, text)."""
    employee_id, number, _name = employee
    cost_centre, cost_unit = dims
    gross = rng.randint(210_000, 520_000)
    holiday = gross * 8 // 100 if period.month == 5 else rng.randint(0, 3) * 1_000
    social = gross * 19 // 100
    pension = gross * 11 // 100
    tax = (gross + holiday) * 31 // 100
    pension_employee = gross * 6 // 100
    net = gross + holiday - tax - pension_employee
    month = f"{period:%Y-%m}"
    return [
        ("4000", cost_centre, cost_unit, employee_id, gross, 0, f"Gross wages {month} employee {number}"),
        ("4010", cost_centre, cost_unit, employee_id, holiday, 0, f"Holiday allowance {month} employee {number}"),
        ("4100", cost_centre, cost_unit, employee_id, social, 0, f"Employer social security {month}"),
        ("4110", cost_centre, cost_unit, employee_id, pension, 0, f"Employer pension contribution {month}"),
        ("1600", None, None, employee_id, 0, net, f"Net wages payable {month} employee {number}"),
        ("1610", None, None, employee_id, 0, tax + social, f"Payroll tax payable {month}"),
        ("1620", None, None, employee_id, 0, pension + pension_employee, f"Pension premiums payable {month}"),
    ]


def _balanced_block(rng, employee, dims, about, size, correction):
    """``size`` (>= 2) balanced lines: one wage cost line against ``size - 1`` liability lines."""
    employee_id, number, _name = employee
    cost_centre, cost_unit = dims
    parts = [rng.randint(2_000, 60_000) for _ in range(size - 1)]
    label = "Correction" if correction else "Supplementary pay"
    month = f"{about:%Y-%m}"
    lines = [("4000", cost_centre, cost_unit, employee_id, sum(parts), 0,
              f"{label} gross wages {month} employee {number}")]
    for index, amount in enumerate(parts):
        account, description, _side = CREDIT_ACCOUNTS[index % len(CREDIT_ACCOUNTS)]
        lines.append((account, None, None, employee_id, 0, amount, f"{label} {description.lower()} {month}"))
    return lines


def journal_rows(context, size):
    """Monthly payroll runs per company, balanced per run and per period, with corrections about
    earlier periods (booked under the run's reference, about the period they correct)."""
    rng = random.Random(f"journal_lines:{size}")
    runs = [(code, period) for period in context.periods for code in COMPANY_WEIGHTS]
    if size is None:
        targets = [None] * len(runs)
    else:
        base, extra = divmod(size, len(runs))
        targets = [base + (1 if index < extra else 0) for index in range(len(runs))]
    for (code, period), target in zip(runs, targets):
        company_id = context.companies[code][0]
        employees = context.employees[code]
        centres, units = context.cost_centres[code], context.cost_units[code]
        dims = {e[0]: (centres[i % len(centres)], units[i % len(units)]) for i, e in enumerate(employees)}
        reference = run_reference(code, period)
        blocks = _run_blocks(rng, employees, dims, period, target)
        line_no = 0
        for about, lines in blocks:
            for account, cost_centre, cost_unit, employee_id, debit, credit, text in lines:
                line_no += 1
                yield (company_id, reference, period, about, line_no, account, ACCOUNT_NAMES.get(account),
                       cost_centre, cost_unit,
                       employee_id, money(debit), money(credit), text)


def _run_blocks(rng, employees, dims, period, target):
    """The blocks of one run: (about period, lines). ``target`` lines exactly, or naturally when None."""
    def correction(employee):
        about = month_start(period, rng.randint(1, 3))
        return about, _balanced_block(rng, employee, dims[employee[0]], about, rng.choice((2, 3)), True)

    if target is None:
        for employee in employees:
            yield period, _salary_block(rng, employee, dims[employee[0]], period)
            if rng.random() < CORRECTION_SHARE:
                yield correction(employee)
        return
    left, index = target, 0
    while left > 0:
        employee = employees[index % len(employees)]
        index += 1
        if left < 9:  # the rest in one balanced block (never leaves a single line)
            yield period, _balanced_block(rng, employee, dims[employee[0]], period, max(left, 2), False)
            return
        if rng.random() < CORRECTION_SHARE:
            about, lines = correction(employee)
        else:
            about, lines = period, _salary_block(rng, employee, dims[employee[0]], period)
        left -= len(lines)
        yield about, lines


INVOICE_COLUMNS = ("company_id", "debtor_id", "invoice_number", "line_no", "invoice_date", "due_date",
                   "product_code", "description", "quantity", "unit_price", "amount", "vat_code", "vat_amount")
CARE_SERVICES = [("ZV-PC", "Personal care (hour)", 6250), ("ZV-VP", "Nursing (hour)", 7480),
                 ("ZV-HH", "Domestic help (hour)", 3150), ("ZV-BG", "Guidance (hour)", 6890),
                 ("ZV-DB", "Day care (day part)", 4275)]


def invoice_rows(context, size, products):
    """Invoices of one to four lines: care services (no VAT) and products (9 or 21 % VAT)."""
    rng = random.Random(f"invoice_lines:{size}")
    days = (context.today - context.window_start).days
    numbers = {code: 0 for code in COMPANY_WEIGHTS}
    codes, weights = list(COMPANY_WEIGHTS), list(COMPANY_WEIGHTS.values())
    produced = 0
    while produced < size:
        code = rng.choices(codes, weights)[0]
        company_id = context.companies[code][0]
        debtor_id, _number, _name = rng.choice(context.debtors[code])
        invoice_date = context.window_start + timedelta(days=min(days - 1, produced * days // size))
        numbers[code] += 1
        number = f"{code}-{invoice_date.year}-{numbers[code]:06d}"
        for line_no in range(1, min(rng.randint(1, 4), size - produced) + 1):
            if rng.random() < 0.7 or not products.get(code):
                product_code, description, price = rng.choice(CARE_SERVICES)
                quantity, vat_code = Decimal(rng.randint(1, 40)) / 2, "0"
            else:
                product_code, description, price = rng.choice(products[code])
                quantity, vat_code = Decimal(rng.randint(1, 6)), rng.choice(("9", "21"))
            unit_price = money(price)
            amount = (quantity * unit_price).quantize(Decimal("0.01"))
            vat = (amount * VAT_RATE[vat_code]).quantize(Decimal("0.01"))
            yield (company_id, debtor_id, number, line_no, invoice_date, invoice_date + timedelta(days=30),
                   product_code, description, quantity, unit_price, amount, vat_code, vat)
            produced += 1


TIME_COLUMNS = ("company_id", "employee_id", "starts_at", "ends_at", "activity", "cost_centre_id")
DAY_START_MINUTE, DAY_MINUTES = 6 * 60, 12 * 60  # registrations between 06:00 and 18:00 UTC


def time_rows(context, size):
    """Registered hours per employee, day after day up to yesterday; a few overlap the one before."""
    rng = random.Random(f"time_registrations:{size}")
    days = (context.today - context.window_start).days
    employees = [(code, e) for code in COMPANY_WEIGHTS for e in context.employees[code]]
    counts = split(size, {index: 1 / len(employees) for index in range(len(employees))})
    for index, (code, (employee_id, _number, _name)) in enumerate(employees):
        company_id = context.companies[code][0]
        centres = context.cost_centres[code]
        count = counts[index]
        per_day = -(-count // days)
        slot = DAY_MINUTES // per_day
        previous_end = None
        for j in range(count):
            day = j * days // count if per_day == 1 else j // per_day
            minute = DAY_START_MINUTE + (0 if per_day == 1 else (j % per_day) * slot)
            starts = datetime.combine(context.window_start + timedelta(days=day), datetime.min.time())
            starts += timedelta(minutes=minute + rng.randrange(0, max(1, slot // 10)))
            length = max(5, (slot * rng.randint(60, 90) // 100) // 5 * 5) if per_day > 1 \
                else rng.choice((240, 300, 360, 420, 480))
            if previous_end is not None and rng.random() < OVERLAP_SHARE:
                starts = previous_end - timedelta(minutes=rng.choice((15, 30, 45)))
            ends = starts + timedelta(minutes=length)
            previous_end = ends
            yield (company_id, employee_id, starts, ends, rng.choice(ACTIVITIES), rng.choice(centres))


PAYMENT_COLUMNS = ("company_id", "department_id", "receipt_number", "customer_number", "customer_name",
                   "payment_type", "amount", "paid_at")


def payment_rows(context, size):
    """Point-of-sale payments in the departments that sell; a few refunds (negative amounts)."""
    rng = random.Random(f"payments:{size}")
    seconds = (context.today - context.window_start).days * 86_400
    codes, weights = list(COMPANY_WEIGHTS), list(COMPANY_WEIGHTS.values())
    start = datetime.combine(context.window_start, datetime.min.time())
    for index in range(size):
        code = rng.choices(codes, weights)[0]
        shops = [d for d in context.departments[code] if d[2] == "visma_net"] or context.departments[code]
        _debtor_id, number, name = rng.choice(context.debtors[code])
        day_offset = index * seconds // size // 86_400
        paid_at = start + timedelta(days=day_offset, seconds=rng.randint(8 * 3600, 19 * 3600))
        amount = rng.randint(250, 25_000)
        if rng.random() < REFUND_SHARE:
            amount = -amount
        yield (context.companies[code][0], rng.choice(shops)[0], f"{code}-R{index + 1:08d}", number, name,
               rng.choices(PAYMENT_TYPES, (30, 55, 10, 5))[0], money(amount), paid_at)


PRODUCT_COLUMNS = ("company_id", "item_code", "description", "is_raw_material", "has_calculation", "unit",
                   "sales_price", "cost_price", "updated_at")


def product_rows(context, size):
    """Per company: raw materials (a quarter), items with a calculation (a quarter) and plain items."""
    rng = random.Random(f"products:{size}")
    seconds = (context.today - context.window_start).days * 86_400
    start = datetime.combine(context.window_start, datetime.min.time())
    for code, count in split(size, COMPANY_WEIGHTS).items():
        company_id = context.companies[code][0]
        raw_count = max(1, count // 4)
        kit_count = count // 4
        for index in range(count):
            updated_at = start + timedelta(seconds=rng.randrange(seconds))
            if index < raw_count:
                name, unit, cost = RAW_MATERIALS[index % len(RAW_MATERIALS)]
                variant = index // len(RAW_MATERIALS)
                yield (company_id, f"RM{index + 1:06d}", name + (f" ({variant + 1})" if variant else ""), True,
                       False, unit, money(0), money(cost + variant), updated_at)
            else:
                number = index - raw_count
                name, price = ITEMS[number % len(ITEMS)]
                variant = number // len(ITEMS)
                yield (company_id, f"IT{number + 1:06d}", name + (f" ({variant + 1})" if variant else ""), False,
                       number < kit_count, "PCS", money(price + variant), money(price * 45 // 100), updated_at)


def kit_rows(connection, context):
    """Two to five raw materials in the calculation of every item that has one."""
    rng = random.Random("kit_components")
    for code in COMPANY_WEIGHTS:
        company_id = context.companies[code][0]
        raw, kits = [], []
        for product_id, is_raw, has_calculation in connection.execute(
                select(Product.id, Product.is_raw_material, Product.has_calculation)
                .where(Product.company_id == company_id).order_by(Product.item_code)):
            if is_raw:
                raw.append(product_id)
            elif has_calculation:
                kits.append(product_id)
        for kit_id in kits:
            for component_id in rng.sample(raw, min(len(raw), rng.randint(2, 5))):
                yield kit_id, component_id, Decimal(rng.randint(1, 40)) / 4


def _sellable(connection, context):
    """Per company code: (item code, description, sales price in cents) of plain items, for invoices."""
    result = {}
    for code in COMPANY_WEIGHTS:
        rows = connection.execute(
            select(Product.item_code, Product.description, Product.sales_price)
            .where(Product.company_id == context.companies[code][0], Product.is_raw_material.is_(False))
            .order_by(Product.item_code).limit(200)).all()
        result[code] = [(c, d, int(p * 100)) for c, d, p in rows]
    return result


ORDER_COLUMNS = ("company_id", "department_id", "supplier_id", "order_number", "order_date", "description")
ORDER_LINE_COLUMNS = ("purchase_order_id", "line_no", "item_code", "description", "quantity", "unit_cost")


def _purchasable(connection, context):
    result = {}
    for code in COMPANY_WEIGHTS:
        rows = connection.execute(
            select(Product.item_code, Product.description, Product.cost_price)
            .where(Product.company_id == context.companies[code][0], Product.has_calculation.is_(False))
            .order_by(Product.item_code).limit(500)).all()
        result[code] = [(c, d, p) for c, d, p in rows]
    return result


def order_plan(context, size, purchasable):
    """Orders of one to five lines, ``size`` lines in all: [(order row, [line rows without order id])]."""
    rng = random.Random(f"purchase_orders:{size}")
    days = (context.today - context.window_start).days
    codes, weights = list(COMPANY_WEIGHTS), list(COMPANY_WEIGHTS.values())
    produced, number = 0, 0
    while produced < size:
        code = rng.choices(codes, weights)[0]
        number += 1
        _supplier_id, _n, supplier_name = supplier = rng.choice(context.suppliers[code])
        order_date = context.window_start + timedelta(days=min(days - 1, produced * days // size))
        order = (context.companies[code][0], rng.choice(context.departments[code])[0], supplier[0],
                 f"PO{number:08d}", order_date, f"Order {supplier_name} {order_date:%Y-%m-%d}")
        lines = []
        for line_no in range(1, min(rng.randint(1, 5), size - produced) + 1):
            item_code, description, cost = rng.choice(purchasable[code]) if purchasable[code] \
                else ("MISC", "Miscellaneous", money(1000))
            lines.append((line_no, item_code, description, Decimal(rng.randint(1, 100)), cost))
        produced += len(lines)
        yield order, lines


# ---------------------------------------------------------------------------------------------------

def _is_empty(connection, model):
    return connection.execute(select(func.count()).select_from(model.__table__)).scalar() == 0


def seed(size=None, today=None, progress=None):
    """Seed everything; returns {table: rows inserted now}. ``size`` scales the large tables."""
    if size is not None and size < MIN_SIZE:
        raise ValueError(f"size must be at least {MIN_SIZE}")
    today = today or utcnow().date()
    sizes = {table: size if size is not None else default for table, default in DEFAULT_SIZES.items()}
    report = progress or (lambda table, count: None)
    seed_users()
    db.session.remove()
    context = seed_reference(today)
    inserted = {}

    def load(model, columns, rows):
        with db.engine.begin() as connection:
            if not _is_empty(connection, model):
                inserted[model.__tablename__] = 0
                return False
            count = bulk_insert(connection, model.__table__, columns, rows)
        inserted[model.__tablename__] = count
        report(model.__tablename__, count)
        return True

    if load(Product, PRODUCT_COLUMNS, product_rows(context, sizes["products"])):
        with db.engine.begin() as connection:
            rows = list(kit_rows(connection, context)) if _is_empty(connection, KitComponent) else []
            inserted["kit_components"] = bulk_insert(connection, KitComponent.__table__,
                                                     ("product_id", "component_id", "quantity"), rows)
        report("kit_components", inserted["kit_components"])
    load(JournalLine, JOURNAL_COLUMNS, journal_rows(context, sizes["journal_lines"]))
    with db.engine.connect() as connection:
        sellable, purchasable = _sellable(connection, context), _purchasable(connection, context)
    load(InvoiceLine, INVOICE_COLUMNS, invoice_rows(context, sizes["invoice_lines"], sellable))
    load(TimeRegistration, TIME_COLUMNS, time_rows(context, sizes["time_registrations"]))
    load(Payment, PAYMENT_COLUMNS, payment_rows(context, sizes["payments"]))
    _seed_orders(context, sizes["purchase_order_lines"], purchasable, inserted, report)
    inserted["export_profiles"] = seed_profiles()
    report("export_profiles", inserted["export_profiles"])
    return inserted


# File export profiles, so that staff find something to run in a fresh demo (a Visma.net profile needs
# an authorised integration account first: the consultant's wizard).
DEMO_PROFILES = [
    ("Payroll journals (CSV)", "journal_entries", {"format": "csv", "delimiter": ";", "encoding": "utf-8-sig"},
     "incremental_all"),
    ("Payroll journals (SIE 4)", "journal_entries", {"format": "sie4"}, "full"),
    ("Invoices (Excel)", "invoices", {"format": "xlsx"}, "incremental_new"),
    ("Registered hours (CSV)", "hours", {"format": "csv"}, "full"),
    ("Point-of-sale payments (JSON Lines)", "payments", {"format": "jsonl"}, "incremental_all"),
    ("Purchase orders (CSV)", "purchase_orders", {"format": "csv"}, "full"),
    ("Products (Excel)", "products", {"format": "xlsx"}, "full"),
]


def seed_profiles():
    """The demo's export profiles, by name: those that exist are left as they are."""
    consultant = db.session.execute(db.select(User).filter_by(email="consultant@example.com")).scalar_one()
    existing = {name_key(name) for name in db.session.execute(db.select(ExportProfile.name)).scalars()}
    added = 0
    for name, export_type, options, sync_type in DEMO_PROFILES:
        if name_key(name) not in existing:
            create_profile(name=name, export_type=export_type, options=options, sync_type=sync_type,
                           user=consultant)
            added += 1
    return added


def _seed_orders(context, size, purchasable, inserted, report):
    with db.engine.begin() as connection:
        if not _is_empty(connection, PurchaseOrder):
            inserted["purchase_orders"] = inserted["purchase_order_lines"] = 0
            return
        # The plan is generated twice (it is deterministic): orders first, then their lines with the
        # orders' ids, so that a million lines stream instead of being held in memory.
        inserted["purchase_orders"] = bulk_insert(connection, PurchaseOrder.__table__, ORDER_COLUMNS,
                                                  (order for order, _lines in order_plan(context, size,
                                                                                        purchasable)))
        report("purchase_orders", inserted["purchase_orders"])
        ids = dict(connection.execute(select(PurchaseOrder.order_number, PurchaseOrder.id)).all())
        inserted["purchase_order_lines"] = bulk_insert(
            connection, PurchaseOrderLine.__table__, ORDER_LINE_COLUMNS,
            ((ids[order[3]], *line) for order, lines in order_plan(context, size, purchasable)
             for line in lines))
        report("purchase_order_lines", inserted["purchase_order_lines"])


def reset():
    """Delete every source row, so that ``seed`` can fill the tables anew — not the users, nor the
    companies: export profiles and the Visma.net integration's administrations point at them (their
    foreign keys would refuse the delete, or delete the administrations with it). The seed adds the
    demo's companies by code where missing and keeps the others."""
    with db.engine.begin() as connection:
        for model in (KitComponent, PurchaseOrderLine, PurchaseOrder, Payment, TimeRegistration, InvoiceLine,
                      JournalLine, Product, Supplier, Employee, Debtor, CostUnit, CostCentre, Department):
            connection.execute(model.__table__.delete())


def table_counts():
    """{table: row count} of every table, for the seed's summary."""
    with db.engine.connect() as connection:
        return {table.name: connection.execute(select(func.count()).select_from(table)).scalar()
                for table in db.metadata.sorted_tables}
