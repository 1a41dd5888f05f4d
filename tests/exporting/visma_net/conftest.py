"""The Visma.net provider against the sandbox over real HTTP, on SQLite and PostgreSQL.

``vctx``: the app (on each database) served over real HTTP, the VISMA_NET_* URLs at its sandbox, an app
context, and an integration account authorised through the wizard's services and the real OAuth dance
(Visma Connect's sign-in page: choose the company, allow). ``openapi``: Visma.net's real OpenAPI
description, loaded once per test session, to validate every document the provider builds.
"""
import re
import threading
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from portal.extensions import db
from tests.factories import csrf_from

COMPANY = "1000001"


@pytest.fixture(scope="session")
def openapi():
    """Validate a POST body against the real ``shared/contracts`` description (parsed once)."""
    from portal.sandbox import spec
    spec.validators()

    def validate(path, body, method="POST"):
        import json
        return spec.validate(method, path, [], json.dumps(body).encode("utf-8"), "application/json")
    return validate


def _serve(app):
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    return server, thread


def configure(app, base):
    sandbox = base + "/sandbox"
    app.config.update(PORTAL_BASE_URL=base, VISMA_NET_AUTHORIZE_URL=sandbox + "/connect/authorize",
                      VISMA_NET_TOKEN_URL=sandbox + "/connect/token",
                      VISMA_NET_REVOKE_URL=sandbox + "/connect/revocation",
                      VISMA_NET_API_URL=sandbox + "/api", VISMA_NET_BACKOFF_SECONDS=0.05,
                      VISMA_NET_HTTP_TIMEOUT=10)


@pytest.fixture
def served(any_app):
    server, thread = _serve(any_app)
    configure(any_app, server.url)
    yield any_app, server
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def served_sqlite(app):
    server, thread = _serve(app)
    configure(app, server.url)
    yield app, server
    server.shutdown()
    thread.join(timeout=5)


class Setup:
    """The source data and the authorised account of one test."""

    def __init__(self, app, url):
        self.app, self.url = app, url

    def authorise(self, name="Visma.net Zorggroep", company=COMPANY):
        from portal.integrations import services
        account = services.create_account(name, None)
        pending, connect_url = services.start_authorisation(account, None, self.url + "/integrations/callback")
        http = requests.Session()
        page = http.get(connect_url, timeout=30)
        assert page.status_code == 200, page.text
        csrf = csrf_from(page.text)
        request_id = re.search(r'name="request_id" value="([^"]+)"', page.text).group(1)
        answer = http.post(self.url + "/sandbox/connect/authorize", allow_redirects=False, timeout=30,
                           data={"csrf_token": csrf, "request_id": request_id, "company": company,
                                 "decision": "allow"})
        assert answer.status_code == 302, answer.text
        query = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
        account = services.finish_authorisation(pending, None, query["state"], code=query["code"])
        assert account.is_authorised and account.company_id == company
        self.account = account
        return account

    def map(self, *companies, branch="MAIN", dimensions=True):
        from portal.integrations import services
        known = services.branches(self.account)
        for company in companies:
            services.add_mapping(self.account, company.id, branch, known)
        if dimensions:
            services.save_dimensions(self.account, {"cost_centre": (True, "Cost centre"),
                                                    "cost_unit": (True, "Cost unit")})

    def profile(self, export_type, name=None, sync_type="incremental_new", company=None, **options):
        from portal.exporting import services
        return services.create_profile(name=name or export_type, export_type=export_type, provider="visma_net",
                                       options={"account_id": self.account.id, **options}, sync_type=sync_type,
                                       company_id=company.id if company else None)


def _every_document_valid(openapi):
    """After each test: EVERY document the provider built (test or production, sent or not) matches
    Visma.net's OpenAPI description."""
    from portal.models import VismaDocument
    db.session.rollback()
    for document in db.session.execute(db.select(VismaDocument)).scalars():
        assert openapi(document.path, document.body, document.method) == [], (document.kind, document.body)


@pytest.fixture
def vctx(served, openapi):
    """App context on each database, the sandbox served over HTTP, an authorised account."""
    app, server = served
    with app.app_context():
        setup = Setup(app, server.url)
        yield setup
        _every_document_valid(openapi)
        db.session.remove()


@pytest.fixture
def sctx(served_sqlite, openapi):
    """The same on SQLite only: for behaviour that does not depend on the database."""
    app, server = served_sqlite
    with app.app_context():
        setup = Setup(app, server.url)
        yield setup
        _every_document_valid(openapi)
        db.session.remove()


# ------------------------------------------------------------------------------------------- helpers

def faults(**switches):
    from portal.sandbox import faults as sandbox_faults
    sandbox_faults.set_switches(COMPANY, switches)
    db.session.commit()


def received(method=None, path=None):
    """What the sandbox's API received: [(method, path, status)], oldest first."""
    from portal.models.sandbox import SandboxRequest
    db.session.rollback()
    rows = db.session.execute(db.select(SandboxRequest).where(SandboxRequest.path.like("/sandbox/api/%"))
                              .order_by(SandboxRequest.id)).scalars().all()
    found = [(r.method, r.path.split("?")[0].removeprefix("/sandbox/api"), r.status) for r in rows]
    return [f for f in found if (method is None or f[0] == method) and (path is None or f[1] == path)]


def records(kind=None):
    """The documents the sandbox holds (what Visma.net created)."""
    import json
    from portal.models.sandbox import SandboxRecord
    db.session.rollback()
    stmt = db.select(SandboxRecord).where(SandboxRecord.company_id == COMPANY).order_by(SandboxRecord.id)
    if kind:
        stmt = stmt.where(SandboxRecord.kind == kind)
    return [(r.kind, r.number, json.loads(r.body)) for r in db.session.execute(stmt).scalars()]


def documents(run):
    from portal.models import VismaDocument
    db.session.rollback()
    return db.session.execute(db.select(VismaDocument).where(VismaDocument.run_id == run.id)
                              .order_by(VismaDocument.id)).scalars().all()


def assert_valid(openapi, run):
    """Every document the provider built for ``run`` matches Visma.net's OpenAPI description."""
    built = documents(run)
    assert built, "the run built no documents"
    for document in built:
        assert openapi(document.path, document.body, document.method) == [], (document.kind, document.body)
    return built


def rows(run):
    from portal.models import PreparedRow
    db.session.rollback()
    return db.session.execute(db.select(PreparedRow).where(PreparedRow.run_id == run.id)
                              .order_by(PreparedRow.group_key, PreparedRow.seq)).scalars().all()


def run_now(profile, mode="production", **kwargs):
    from tests.factories import start_and_run
    return start_and_run(profile, mode, **kwargs)


def execute(run_id):
    from portal.models import Run
    from tests.factories import execute as execute_job
    execute_job(run_id)
    db.session.rollback()
    return db.session.get(Run, run_id)


# ----------------------------------------------------------------------------------------- source data

NOVEMBER = date(2026, 11, 1)
WINDOW = {"window_start": "2026-11-01", "window_end": "2026-11-30"}


def companies():
    from tests import factories
    return factories.companies()


def payroll(company, ref="PR-2026-11", period=NOVEMBER, about=None, centre=None, unit=None, lines=None):
    """A balanced payroll journal (lines: account, debit, credit, description)."""
    from portal.models import CostCentre, CostUnit, JournalLine
    lines = lines or [
        ("4000", "1500.00", "0.00", "Gross wages"), ("4100", "300.00", "0.00", "Employer social security"),
        ("1600", "0.00", "1350.00", "Net wages payable"), ("1610", "0.00", "450.00", "Payroll tax payable")]
    first = (db.session.query(db.func.max(JournalLine.line_no)).filter_by(payroll_run_ref=ref).scalar() or 0) + 1
    made = [JournalLine(company_id=company.id, payroll_run_ref=ref, run_period=period, about_period=about or period,
                        line_no=first + i, account=account, debit=Decimal(debit), credit=Decimal(credit),
                        description=text) for i, (account, debit, credit, text) in enumerate(lines)]
    db.session.add_all(made)
    db.session.flush()
    if centre or unit:
        c = CostCentre(company_id=company.id, code=centre, name=centre) if centre else None
        u = CostUnit(company_id=company.id, code=unit, name=unit) if unit else None
        db.session.add_all([x for x in (c, u) if x])
        db.session.flush()
        for line in made:
            if line.account.startswith("4"):
                line.cost_centre_id = c.id if c else None
                line.cost_unit_id = u.id if u else None
    db.session.flush()
    return made


def invoices(company, count, blocked=(), day=date(2026, 11, 10)):
    from tests import factories
    debtors = factories.debtors(company, count=max(3, len(blocked) + 1), blocked=blocked)
    return factories.invoice_lines(company, debtors, count, day=day)


def department(company, code="SHOP", finance_system="visma_net"):
    """Seed 004: a department; its finance system decides whether its payments and orders go to Visma.net."""
    from portal.models import Department
    found = db.session.execute(db.select(Department).filter_by(company_id=company.id, code=code)).scalar()
    if found is None:
        found = Department(company_id=company.id, code=code, name=code.title(), finance_system=finance_system)
        db.session.add(found)
        db.session.flush()
    return found


def payments(company, count, types=("CASH", "CARD"), at=datetime(2026, 11, 12, 9, 0), dept="SHOP", first=0,
             finance_system="visma_net"):
    from datetime import timedelta
    from portal.models import Payment
    where = department(company, dept, finance_system)
    made = [Payment(company_id=company.id, receipt_number=f"R{i:06d}", customer_number=str(10001 + i % 5),
                    customer_name=f"Customer {i % 5}", payment_type=types[i % len(types)], department_id=where.id,
                    amount=Decimal("12.50") + i, paid_at=at + timedelta(minutes=i)) for i in range(first, first + count)]
    db.session.add_all(made)
    db.session.flush()
    return made


def purchase_orders(company, count, supplier="70001", day=date(2026, 11, 5), dept="SHOP", first=0,
                    finance_system="visma_net"):
    from portal.models import PurchaseOrder, PurchaseOrderLine, Supplier
    where = department(company, dept, finance_system)
    vendor = db.session.execute(db.select(Supplier).filter_by(company_id=company.id, number=supplier)).scalar()
    if vendor is None:
        vendor = Supplier(company_id=company.id, number=supplier, name=f"Supplier {supplier}")
        db.session.add(vendor)
        db.session.flush()
    for i in range(first, first + count):
        order = PurchaseOrder(company_id=company.id, supplier_id=vendor.id, order_number=f"PO{i:05d}",
                              order_date=day, description=f"Order {i}", department_id=where.id)
        db.session.add(order)
        db.session.flush()
        db.session.add_all([
            PurchaseOrderLine(purchase_order_id=order.id, line_no=1, item_code="GLOVES", description="Gloves",
                              quantity=Decimal("10"), unit_cost=Decimal("3.20")),
            PurchaseOrderLine(purchase_order_id=order.id, line_no=2, item_code="MASKS", description="Masks",
                              quantity=Decimal("50"), unit_cost=Decimal("0.45"))])
    db.session.flush()


def products(company, at=datetime(2026, 11, 3, 8, 0)):
    """A kit (an item with a calculation: bread of flour and yeast), its two raw materials, a plain item."""
    from portal.models import KitComponent, Product

    def product(code, description, **kwargs):
        made = Product(company_id=company.id, item_code=code, description=description, sales_price=Decimal("3.95"),
                       cost_price=Decimal("1.10"), updated_at=at, **kwargs)
        db.session.add(made)
        db.session.flush()
        return made
    bread = product("BREAD", "Bread", has_calculation=True)
    flour = product("FLOUR", "Flour", is_raw_material=True, unit="KG")
    yeast = product("YEAST", "Yeast", is_raw_material=True, unit="KG")
    product("SOAP", "Soap")
    db.session.add_all([KitComponent(product_id=bread.id, component_id=flour.id, quantity=Decimal("0.5")),
                        KitComponent(product_id=bread.id, component_id=yeast.id, quantity=Decimal("0.02"))])
    db.session.flush()
