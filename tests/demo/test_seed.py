"""``flask demo seed``: idempotent, deterministic, scalable, and realistic — on SQLite and PostgreSQL."""
import hashlib
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.demo.constants import DEBTOR_COUNT, DEBTOR_NUMBER_FIRST, DEMO_USERS
from portal.demo.seed import LARGE_TABLES, month_start, periods_for, seed
from portal.exporting.services import create_profile
from portal.extensions import db
from portal.models import (
    AdministrationMapping, Company, Debtor, Department, Employee, ExportProfile, IntegrationAccount, InvoiceLine,
    JournalLine, KitComponent, Payment, Product, PurchaseOrder, PurchaseOrderLine, TimeRegistration, User,
)


def seeded_tables():
    """The tables the seed fills: the source data and the users."""
    from portal.models import source
    return {model.__tablename__ for model in vars(source).values()
            if isinstance(model, type) and hasattr(model, "__tablename__")} | {"users"}


def snapshot(with_ids=True):
    """{table: (row count, checksum of every row's contents)} of every table (with ids), or of the
    seeded tables' contents without ids (to compare two seeds)."""
    result = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            if not with_ids and table.name not in seeded_tables():
                continue
            # (``row_version``: the change marker, a transaction id on PostgreSQL: not content.)
            columns = [c for c in table.columns
                       if with_ids or not (c.name in ("id", "row_version") or c.name.endswith("_id"))]
            digest = hashlib.sha256()
            count = 0
            order = list(table.primary_key.columns) if with_ids else columns
            for row in connection.execute(select(*columns).order_by(*order)):
                digest.update(repr(tuple(_normal(v) for v in row)).encode())
                count += 1
            result[table.name] = (count, digest.hexdigest())
    return result


def _normal(value):
    return format(value, ".4f") if isinstance(value, (Decimal, float)) else value


def test_seeding_twice_changes_nothing(any_app):
    runner = any_app.test_cli_runner()
    with any_app.app_context():
        first = runner.invoke(args=["demo", "seed"])
        assert first.exit_code == 0, first.output
        before = snapshot()
        second = runner.invoke(args=["demo", "seed"])
        assert second.exit_code == 0, second.output
        assert "nothing was added" in second.output
        assert snapshot() == before
        # every table of source data (and the users) has rows: the seed fills them all
        seeded = seeded_tables()
        assert seeded <= set(before)
        assert all(before[name][0] > 0 for name in seeded), before


def test_seeding_is_deterministic(any_app):
    with any_app.app_context():
        seed(size=300, today=date(2026, 3, 15))
        first = snapshot(with_ids=False)
        from portal.demo.seed import reset
        reset()
        seed(size=300, today=date(2026, 3, 15))
        assert snapshot(with_ids=False) == first


def test_size_scales_every_large_table(any_app):
    with any_app.app_context():
        inserted = seed(size=1234)
        for table in LARGE_TABLES:
            assert inserted[table] == 1234, table
        with db.engine.connect() as connection:
            def count(model):
                return connection.execute(select(func.count()).select_from(model.__table__)).scalar()
            for model in (JournalLine, InvoiceLine, TimeRegistration, Payment, PurchaseOrderLine, Product):
                assert count(model) == 1234, model.__tablename__
            assert 1234 // 5 <= count(PurchaseOrder) < 1234
            assert count(KitComponent) > 0
            assert count(Debtor) == DEBTOR_COUNT and count(Employee) == 50
        _assert_balanced()


def test_size_below_the_minimum_is_refused(app):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--size", "5"])
    assert result.exit_code != 0
    assert "5 is not in the range x>=100" in result.output


def _journals():
    with db.engine.connect() as connection:
        return connection.execute(select(JournalLine.company_id, JournalLine.payroll_run_ref,
                                         JournalLine.run_period, JournalLine.about_period,
                                         JournalLine.debit, JournalLine.credit)).all()


def _assert_balanced():
    sums = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for _company, ref, _run, about, debit, credit in _journals():
        sums[(ref, about)][0] += debit
        sums[(ref, about)][1] += credit
    unbalanced = {key: value for key, value in sums.items() if value[0] != value[1]}
    assert not unbalanced
    return sums


def test_the_demo_organisation_is_realistic(any_app):
    today = date(2026, 11, 21)
    with any_app.app_context():
        seed(today=today)
        session = db.session
        companies = session.execute(select(Company)).scalars().all()
        assert len(companies) == 3
        assert [c.code for c in companies if c.is_test_company] == ["TEST"]
        assert {u.email for u in session.execute(select(User)).scalars()} == {u[0] for u in DEMO_USERS}
        # Journal lines carry the ledger account's real name, not its number again.
        names = dict(session.execute(select(JournalLine.account, JournalLine.account_name).distinct()).all())
        assert names.get("4000") == "Gross wages" and all(name and name != number for number, name in names.items())

        debtors = session.execute(select(Debtor.number, Debtor.blocked)).all()
        assert len(debtors) == DEBTOR_COUNT
        assert {int(n) for n, _b in debtors} == set(range(DEBTOR_NUMBER_FIRST, DEBTOR_NUMBER_FIRST + DEBTOR_COUNT))
        blocked = sum(1 for _n, b in debtors if b)
        assert 0.01 * DEBTOR_COUNT < blocked < 0.1 * DEBTOR_COUNT
        # some invoices are for blocked debtors (the export must refuse them)
        assert session.execute(select(func.count()).select_from(InvoiceLine).join(Debtor)
                               .where(Debtor.blocked.is_(True))).scalar() > 0

        assert session.execute(select(func.count()).select_from(Employee)).scalar() == 50
        systems = {d.finance_system for d in session.execute(select(Department)).scalars()}
        assert systems == {None, "visma_net"}

        # journals: one run per company and month, the last twelve closed months and the current one
        rows = _journals()
        periods = sorted({run for _c, _r, run, _a, _d, _cr in rows})
        assert periods == periods_for(today)
        assert periods[0] == date(2025, 11, 1) and periods[-1] == date(2026, 11, 1)
        refs = {(company, run): ref for company, ref, run, _a, _d, _c in rows}
        assert len(refs) == 3 * 13 and len(set(refs.values())) == 3 * 13
        sums = _assert_balanced()
        corrections = [(ref, about) for ref, about in sums
                       if about != next(run for _c, r, run, _a, _d, _cr in rows if r == ref)]
        assert corrections, "some lines correct earlier periods"
        for company, ref, run, about, _d, _c in rows:
            assert about <= run
            assert about >= month_start(run, 3)

        # registered hours: some overlap the previous registration of the same employee
        registrations = defaultdict(list)
        for employee, starts, ends in session.execute(
                select(TimeRegistration.employee_id, TimeRegistration.starts_at, TimeRegistration.ends_at)):
            assert ends > starts
            assert starts.date() < today
            registrations[employee].append((starts, ends))
        overlaps = 0
        for spans in registrations.values():
            spans.sort()
            overlaps += sum(1 for a, b in zip(spans, spans[1:]) if b[0] < a[1])
        assert 0 < overlaps < 0.05 * sum(len(s) for s in registrations.values())

        # payments: a few refunds; only from departments
        amounts = session.execute(select(Payment.amount)).scalars().all()
        assert any(a < 0 for a in amounts) and sum(1 for a in amounts if a > 0) > 0.9 * len(amounts)

        # products: raw materials, items with a calculation (a kit of raw materials), items without
        products = {p.id: p for p in session.execute(select(Product)).scalars()}
        kits = defaultdict(list)
        for component in session.execute(select(KitComponent)).scalars():
            kits[component.product_id].append(products[component.component_id])
        with_calculation = [p for p in products.values() if p.has_calculation]
        assert with_calculation and all(2 <= len(kits[p.id]) <= 5 for p in with_calculation)
        assert set(kits) == {p.id for p in with_calculation}
        assert all(c.is_raw_material for parts in kits.values() for c in parts)
        assert any(p.is_raw_material for p in products.values())
        assert any(not p.is_raw_material and not p.has_calculation for p in products.values())

        orders = session.execute(select(PurchaseOrder)).scalars().all()
        assert orders and session.execute(select(func.count()).select_from(PurchaseOrderLine)).scalar() > len(orders)


@pytest.mark.parametrize("today, first", [(date(2026, 1, 31), date(2025, 1, 1)), (date(2026, 12, 1), date(2025, 12, 1))])
def test_periods_are_relative_to_today(today, first):
    periods = periods_for(today)
    assert len(periods) == 13 and periods[0] == first and periods[-1] == month_start(today)


def test_reset_then_seed_at_another_size(app):
    runner = app.test_cli_runner()
    with app.app_context():
        assert runner.invoke(args=["demo", "seed", "--size", "200"]).exit_code == 0
        result = runner.invoke(args=["demo", "seed", "--size", "300", "--reset"])
        assert result.exit_code == 0, result.output
        assert "journal_lines: 300" in result.output
        assert db.session.execute(select(func.count()).select_from(User)).scalar() == 4


def test_the_demo_has_file_export_profiles_that_staff_can_run(app, client, auth):
    from portal.demo.seed import DEMO_PROFILES
    from portal.models import ExportProfile
    runner = app.test_cli_runner()
    with app.app_context():
        assert runner.invoke(args=["demo", "seed", "--size", "200"]).exit_code == 0
        assert runner.invoke(args=["demo", "seed"]).exit_code == 0   # a second seed adds no profile twice
        names = sorted(db.session.execute(select(ExportProfile.name)).scalars())
        assert names == sorted(name for name, *_ in DEMO_PROFILES)
        assert {p.export_type for p in db.session.execute(select(ExportProfile)).scalars()} == {
            "journal_entries", "invoices", "hours", "payments", "purchase_orders", "products"}
    auth.login("staff")
    page = client.get("/profiles/").get_data(as_text=True)
    assert "Payroll journals (CSV)" in page and "Invoices (Excel)" in page


def test_reset_keeps_the_companies_that_profiles_and_the_integration_point_at(any_app):
    """``--reset`` deletes the source data, not the companies: a profile set to a company and the Visma.net
    integration's administration of it stay (the database's foreign keys refused the reset, on SQLite as on
    PostgreSQL, or deleted the administration with the company)."""
    runner = any_app.test_cli_runner()
    with any_app.app_context():
        assert runner.invoke(args=["demo", "seed", "--size", "100"]).exit_code == 0
        zorg = db.session.execute(select(Company).filter_by(code="ZORG")).scalar_one()
        profile = create_profile(name="ZORG journals", export_type="journal_entries", options={"format": "csv"},
                                 sync_type="full", company_id=zorg.id)
        account = IntegrationAccount(name="Zorggroep Visma")
        account.administration_mappings.append(AdministrationMapping(
            company_id=zorg.id, visma_company_id="1234567", branch_number="1"))
        db.session.add(account)
        db.session.commit()
        profile_id, zorg_id = profile.id, zorg.id

        result = runner.invoke(args=["demo", "seed", "--size", "200", "--reset"])

        assert result.exit_code == 0, result.output
        assert "journal_lines: 200" in result.output
        db.session.expire_all()
        assert db.session.get(ExportProfile, profile_id).company_id == zorg_id
        assert db.session.execute(select(AdministrationMapping.company_id)).scalars().all() == [zorg_id]
        assert db.session.execute(select(func.count()).select_from(JournalLine)
                                  .where(JournalLine.company_id == zorg_id)).scalar() > 0
