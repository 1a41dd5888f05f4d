"""Every helper the tests share, in one place: source data, profiles and runs in any status, running a
run's real job code, reading its files, and the CSRF token of a page. Fixtures stay in the conftests.

Source-data helpers ``flush`` (the caller's transaction goes on); the helpers for page tests commit,
because a request through the test client reads in a session of its own.
"""
import csv
import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from portal.extensions import db
from portal.models import (
    Company, CostCentre, CostUnit, Debtor, Department, Employee, InvoiceLine, JournalLine, KitComponent, Payment,
    Product, PurchaseOrder, PurchaseOrderLine, Supplier, TimeRegistration, User,
)
from portal.models.exporting import ExportProfile, MappingHistoryEntry, PreparedRow, ReportItem, Run, RunFile


# ---- source data -----------------------------------------------------------------------------------

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
OCTOBER = date(2026, 10, 1)


def companies():
    zorg = Company(code="ZORG", name="Zorggroep Rivierenland B.V.", is_test_company=False)
    thuis = Company(code="THUIS", name="Thuiszorg Noord B.V.", is_test_company=False)
    test = Company(code="TEST", name="Oefenbedrijf (test)", is_test_company=True)
    db.session.add_all([zorg, thuis, test])
    db.session.flush()
    return zorg, thuis, test


def journal(company, ref, period, lines, about=None):
    """``lines``: (account, debit, credit, description). Lines are numbered from 1."""
    made = []
    for number, (account, debit, credit, text) in enumerate(lines, start=1):
        line = JournalLine(company_id=company.id, payroll_run_ref=ref, run_period=period,
                           about_period=about or period, line_no=number, account=account,
                           debit=Decimal(debit), credit=Decimal(credit), description=text)
        made.append(line)
    db.session.add_all(made)
    db.session.flush()
    return made


def whole_journals(zorg, thuis, period=NOVEMBER[0], invalid_line=False):
    """The whole-journal case: ZORG's journal PR-2026-11 of three lines (gross wages 1500 and employer costs
    300 against net wages 1800) and THUIS's PR-T-2026-11 of two (10.00), both balanced. With
    ``invalid_line``, ZORG's line 2 lacks its account (invalid by rule), which holds its journal back.
    ZORG's lines."""
    lines = journal(zorg, "PR-2026-11", period, [
        ("4000", "1500.00", "0.00", "Gross wages"), ("4100", "300.00", "0.00", "Employer costs"),
        ("1600", "0.00", "1800.00", "Net wages")])
    if invalid_line:
        lines[1].account = ""
    journal(thuis, "PR-T-2026-11", period, [("4000", "10.00", "0.00", "Wages"), ("1600", "0.00", "10.00", "Net")])
    return lines


def invoice_lines(company, debtor_list, count, day=date(2026, 11, 10), start=1):
    made = []
    for i in range(count):
        debtor = debtor_list[i % len(debtor_list)]
        n = start + i
        made.append(InvoiceLine(company_id=company.id, debtor_id=debtor.id, invoice_number=f"INV{n:06d}", line_no=1,
                                invoice_date=day, due_date=day + timedelta(days=30), product_code=f"P{n % 7}",
                                description=f"Care hours {n}", quantity=Decimal("2"), unit_price=Decimal("45.50"),
                                amount=Decimal("91.00"), vat_code="H", vat_amount=Decimal("19.11")))
    db.session.add_all(made)
    db.session.flush()
    return made


def employee(company, number="E001", name="Anna de Vries"):
    person = Employee(company_id=company.id, number=number, name=name)
    db.session.add(person)
    db.session.flush()
    return person


def hours(company, person, spans, activity="Care"):
    """``spans``: (start, end) naive UTC datetimes."""
    made = [TimeRegistration(company_id=company.id, employee_id=person.id, starts_at=s, ends_at=e,
                             activity=activity) for s, e in spans]
    db.session.add_all(made)
    db.session.flush()
    return made


def payments(company, count, at=datetime(2026, 11, 12, 9, 0)):
    made = [Payment(company_id=company.id, receipt_number=f"R{i:06d}", customer_number=f"C{i % 5}",
                    customer_name=f"Customer {i % 5}", payment_type="CARD", amount=Decimal("12.50") + i,
                    paid_at=at + timedelta(minutes=i)) for i in range(count)]
    db.session.add_all(made)
    db.session.flush()
    return made


def purchase_orders(company, count, day=date(2026, 11, 5)):
    supplier = Supplier(company_id=company.id, number="70001", name="Medisupply")
    db.session.add(supplier)
    db.session.flush()
    made = []
    for i in range(count):
        order = PurchaseOrder(company_id=company.id, supplier_id=supplier.id, order_number=f"PO{i:05d}",
                              order_date=day, description=f"Order {i}")
        db.session.add(order)
        db.session.flush()
        made.append(PurchaseOrderLine(purchase_order_id=order.id, line_no=1, item_code="GLOVES",
                                      description="Gloves", quantity=Decimal("10"), unit_cost=Decimal("3.20")))
    db.session.add_all(made)
    db.session.flush()
    return made


def products(company, count, at=datetime(2026, 11, 3, 8, 0)):
    made = [Product(company_id=company.id, item_code=f"ITEM{i:04d}", description=f"Item {i}",
                    sales_price=Decimal("9.95"), cost_price=Decimal("4.10"), updated_at=at) for i in range(count)]
    db.session.add_all(made)
    db.session.flush()
    if count >= 3:
        made[0].has_calculation = True
        made[1].is_raw_material = True
        db.session.add(KitComponent(product_id=made[0].id, component_id=made[1].id, quantity=Decimal("2")))
    db.session.flush()
    return made


# ---- profiles, runs and users for the pages --------------------------------------------------------

def user_id(role):
    return db.session.execute(db.select(User.id).filter_by(email=f"{role}@example.com")).scalar_one()


def company(code="ZORG", name="Zorggroep Rivierenland B.V.", is_test=False):
    existing = db.session.execute(db.select(Company).filter_by(code=code)).scalar()
    if existing:
        return existing
    made = Company(code=code, name=name, is_test_company=is_test)
    db.session.add(made)
    db.session.commit()
    return made


def profile(name="Payroll journals", export_type="journal_entries", fmt="csv", sync_type="full", **options):
    from portal.exporting.services import create_profile
    return create_profile(name=name, export_type=export_type, provider="file",
                          options={"format": fmt, **options}, sync_type=sync_type)


def run(profile_obj, status="exported", mode="test", started_by="staff", started_at=None, counts=None, **kw):
    """A run row in any status, straight into the table (for pages that only read)."""
    made = Run(profile_id=profile_obj.id, mode=mode, operation=kw.pop("operation", "prepare_and_export"),
               params={"window_start": NOVEMBER[0].isoformat(), "window_end": NOVEMBER[1].isoformat()},
               window_start=NOVEMBER[0], window_end=NOVEMBER[1], status=status,
               started_by_id=user_id(started_by) if started_by else None,
               started_at=started_at or datetime(2026, 11, 20, 9, 0), counts=counts or {}, **kw)
    db.session.add(made)
    db.session.commit()
    return made


def debtors(company_obj, count=3, blocked=()):
    made = [Debtor(company_id=company_obj.id, number=str(10001 + i), name=f"Debtor {i + 1}", blocked=i in blocked)
            for i in range(count)]
    db.session.add_all(made)
    db.session.commit()
    return made


def same_debtor_number():
    """Debtor numbers are unique per company only: ZORG's debtor 10001 (Jansen) and THUIS's debtor 10001
    (Pietersen), each with an invoice line (INV000001, INV000002). Commits; ``(zorg, thuis, jansen,
    pietersen, lines)``."""
    zorg, thuis, _ = companies()
    jansen = Debtor(company_id=zorg.id, number="10001", name="Jansen")
    pietersen = Debtor(company_id=thuis.id, number="10001", name="Pietersen")
    db.session.add_all([jansen, pietersen])
    db.session.flush()
    lines = invoice_lines(zorg, [jansen], 1, start=1) + invoice_lines(thuis, [pietersen], 1, start=2)
    db.session.commit()
    return zorg, thuis, jansen, pietersen, lines


def prepared_payments(count):
    """A production run of ``count`` payments (profile "Kassa", JSON Lines), prepared by the real job, with
    the demo users seeded to sign in; the run."""
    from portal.demo.seed import seed_users
    from portal.exporting import services
    seed_users()
    payments(company(), count)
    db.session.commit()
    kassa = profile("Kassa", export_type="payments", fmt="jsonl")
    prepared = run_job(services.start_run(kassa.id, mode="production", operation="prepare",
                                          window_start="2026-11-01", window_end="2026-11-30"))
    assert prepared.status == "prepared", prepared.error_reason
    return prepared


def run_job(run_obj):
    """``execute`` and the run as it is afterwards."""
    execute(run_obj)
    return db.session.get(Run, run_obj if isinstance(run_obj, int) else run_obj.id)


# ---- running a run and reading what it wrote -------------------------------------------------------

def execute(run):
    """Run the run's job in this process: the same function an RQ worker calls. Returns its outcome."""
    from portal.exporting.jobs import execute_run
    run_id = run if isinstance(run, int) else run.id
    result = execute_run(run_id)
    db.session.expire_all()
    return result


def start_and_run(profile, mode="test", **kwargs):
    from portal.exporting import services
    kwargs.setdefault("window_start", "2026-11-01")
    kwargs.setdefault("window_end", "2026-11-30")
    run = services.start_run(profile.id, mode=mode, **kwargs)
    execute(run)
    return db.session.get(type(run), run.id)


def files_of(run):
    from portal.exporting.queries import run_files
    return run_files(run.id)


def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_csv(path, **kwargs):
    encoding = kwargs.pop("encoding", "utf-8")
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle, **kwargs))


def rows_of(run):
    """The rows of a run's single JSON Lines file."""
    files = files_of(run)
    assert len(files) == 1, files
    return read_jsonl(files[0].path)


# ---- CSRF ------------------------------------------------------------------------------------------

def csrf_from(html):
    """The CSRF token of a page: its ``<meta name="csrf-token">`` or a form's hidden ``csrf_token``."""
    match = (re.search(r'name="csrf-token" content="([^"]+)"', html)
             or re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
             or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html))
    assert match, "no CSRF token on the page"
    return match.group(1)


def csrf_token(client, path="/"):
    """The CSRF token a test client's session gets on ``path`` (redirects followed)."""
    return csrf_from(client.get(path, follow_redirects=True).get_data(as_text=True))


class AuthActions:
    """Signing in and out through the sign-in form, as a person does."""

    def __init__(self, client):
        self._client = client

    def login(self, who="staff", password="demo"):
        email = who if "@" in who else f"{who}@example.com"
        return self._client.post("/auth/login", data={"email": email, "password": password,
                                                       "csrf_token": self.csrf_token("/auth/login")})

    def logout(self):
        return self._client.post("/auth/logout", data={"csrf_token": self.csrf_token("/")})

    def csrf_token(self, path="/"):
        return csrf_token(self._client, path)


__all__ = ["CostCentre", "CostUnit", "Department", "ExportProfile", "MappingHistoryEntry", "PreparedRow",
           "ReportItem", "RunFile", "timedelta"]
