"""The set-based prepare of every export type: what the database builds (payload, record key, group,
subject, validations, mutations, report items, files) is what the row-by-row code builds, value for
value, on each database — with the values that format differently: NULLs, negative and out-of-scale
amounts, quantities with trailing zeros, times across summer time in the organisation's time zone,
unicode, quotes and formula characters."""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.exporting import services, sync
from portal.exporting.engine import context_for
from portal.exporting.types import get_type
from portal.extensions import db
from portal.models import (
    CostCentre, CostUnit, Debtor, Department, InvoiceLine, JournalLine, KitComponent, Product, PreparedRow,
    PurchaseOrder, PurchaseOrderLine, ReportItem, Supplier, TimeRegistration,
)

from tests import factories
from tests.factories import files_of, read_jsonl, start_and_run

ODD = 'Jansen "Ø" & Zn; ünïcode, \'quoted\''
FORMULA = "=cmd|' /C calc'!A0"
NOV = ("2026-11-01", "2026-11-30")
OCT = ("2026-10-01", "2026-10-31")       # summer time ends on 25 October (Europe/Amsterdam)


# ---- awkward source rows per type, and a change after the first production run ----------------------

def _products(zorg, thuis, test):
    rows = [("ITEM-1", "Gloves", Decimal("9.95"), Decimal("4.10"), datetime(2026, 11, 3, 8, 0)),
            ("ITEM-2", ODD, Decimal("-0.01"), Decimal("0"), datetime(2026, 11, 12, 9, 0, 59, 999999)),
            # 1 November, 00:00 local: in the window; a second earlier (31 October local): out
            ("ITEM-3", FORMULA, Decimal("123456789012.34"), Decimal("2.675"), datetime(2026, 10, 31, 23, 0)),
            ("ITEM-4", "Too early", Decimal("1"), Decimal("1"), datetime(2026, 10, 31, 22, 59, 59, 999999)),
            ("+ITEM-5", "", Decimal("1.005"), Decimal("-7.05"), datetime(2026, 11, 30, 22, 59, 59)),
            ("ITEM-6", "Kit", Decimal("0.10"), Decimal("0.20"), datetime(2026, 11, 20, 10, 0))]
    made = []
    for code, text, sales, cost, at in rows:
        made.append(Product(company_id=zorg.id, item_code=code, description=text, sales_price=sales,
                            cost_price=cost, updated_at=at, unit="PCS" if code != "ITEM-2" else ""))
    made.append(Product(company_id=thuis.id, item_code="ITEM-1", description="Same code, other company",
                        is_raw_material=True, has_calculation=True, updated_at=datetime(2026, 11, 4, 8, 0)))
    made[0].has_calculation = True
    made[1].is_raw_material = True
    db.session.add_all(made)
    db.session.flush()
    db.session.add_all([KitComponent(product_id=made[0].id, component_id=made[1].id, quantity=Decimal("2")),
                        KitComponent(product_id=made[0].id, component_id=made[5].id, quantity=Decimal("0.5"))])
    return made


def _change_products(made):
    made[0].sales_price = Decimal("10.00")
    db.session.execute(KitComponent.__table__.delete().where(KitComponent.component_id == made[5].id))  # ITEM-1
    db.session.delete(made[2])
    db.session.add(Product(company_id=made[0].company_id, item_code="ITEM-7", description="New",
                           updated_at=datetime(2026, 11, 21, 10, 0)))


def _purchase_orders(zorg, thuis, test):
    supplier = Supplier(company_id=zorg.id, number="70001", name=ODD)
    nameless = Supplier(company_id=zorg.id, number="", name="No number")
    shop = Department(company_id=zorg.id, code="D-01", name="Shop", finance_system="visma_net")
    db.session.add_all([supplier, nameless, shop])
    db.session.flush()
    orders = [PurchaseOrder(company_id=zorg.id, supplier_id=supplier.id, order_number="PO1",
                            order_date=date(2026, 11, 1), description=FORMULA),
              PurchaseOrder(company_id=zorg.id, supplier_id=nameless.id, order_number="PO2",
                            order_date=date(2026, 11, 30), description="", department_id=shop.id),
              PurchaseOrder(company_id=thuis.id, supplier_id=supplier.id, order_number="PO3",
                            order_date=date(2026, 12, 1), description="Out of the window")]
    db.session.add_all(orders)
    db.session.flush()
    lines = [(orders[0], 1, "GLOVES", "Gloves", Decimal("10"), Decimal("3.20")),
             (orders[0], 2, "MASKS", ODD, Decimal("2.5000"), Decimal("-0.05")),
             (orders[0], 3, "", "No item code", Decimal("0.1250"), Decimal("0")),
             (orders[1], 1, "=SUM(A1)", "-minus", Decimal("-3.0001"), Decimal("999999999999.99")),
             (orders[1], 2, "X", "Zero", Decimal("0"), Decimal("0.125")),
             (orders[1], 3, "Y", "Big", Decimal("1234567890.1234"), Decimal("1.10")),
             (orders[2], 1, "Z", "Later", Decimal("1"), Decimal("1"))]
    made = [PurchaseOrderLine(purchase_order_id=o.id, line_no=n, item_code=code, description=text, quantity=q,
                              unit_cost=cost) for o, n, code, text, q, cost in lines]
    db.session.add_all(made)
    return made


def _change_purchase_orders(made):
    made[0].quantity = Decimal("11.0000")
    db.session.delete(made[4])


def _hours(zorg, thuis, test):
    anna = factories.employee(zorg, "E001", ODD)
    nameless = factories.employee(zorg, "", "No number")
    centre = CostCentre(company_id=zorg.id, code="CC-1", name="Ward")
    db.session.add(centre)
    db.session.flush()
    spans = [  # (employee, start UTC, end UTC, activity, cost centre)
        (anna, datetime(2026, 9, 30, 22, 0), datetime(2026, 9, 30, 23, 0, 18), "Care", centre),   # 1 Oct local
        (anna, datetime(2026, 9, 30, 21, 59, 59), datetime(2026, 9, 30, 23, 0), "Out", None),     # 30 Sep local
        (anna, datetime(2026, 10, 24, 21, 59), datetime(2026, 10, 24, 21, 59, 54), "Night", None),  # 24 Oct local
        (anna, datetime(2026, 10, 24, 22, 30), datetime(2026, 10, 25, 1, 30), "DST", None),       # 25 Oct, 00:30 CEST
        (anna, datetime(2026, 10, 25, 0, 59, 59, 500000), datetime(2026, 10, 25, 1, 0, 1, 499999), "Edge", None),
        (anna, datetime(2026, 10, 25, 1, 0), datetime(2026, 10, 25, 1, 1, 30), "After", None),   # 02:00 CET
        (anna, datetime(2026, 10, 25, 23, 30), datetime(2026, 10, 26, 0, 29, 59, 999999), FORMULA, None),
        (nameless, datetime(2026, 10, 5, 8, 0), datetime(2026, 10, 5, 7, 59, 42), "Backwards", None),
        (nameless, datetime(2026, 10, 6, 8, 0), datetime(2026, 10, 6, 8, 0, 0, 1), "", centre),
        (anna, datetime(2026, 10, 31, 22, 59, 59), datetime(2026, 11, 1, 0, 0), "Last second", None),
    ]
    made = [TimeRegistration(company_id=person.company_id, employee_id=person.id, starts_at=s, ends_at=e,
                             activity=activity, cost_centre_id=c.id if c else None)
            for person, s, e, activity, c in spans]
    db.session.add_all(made)
    return made


def _change_hours(made):
    made[0].ends_at = made[0].ends_at + timedelta(minutes=15)
    db.session.delete(made[2])


def _journals(zorg, thuis, test):
    centre = CostCentre(company_id=zorg.id, code="CC-1", name=ODD)
    unit = CostUnit(company_id=zorg.id, code="CU-1", name="")
    person = factories.employee(zorg, "E001", "Anna")
    db.session.add_all([centre, unit])
    db.session.flush()
    nov, octo = date(2026, 11, 1), date(2026, 10, 1)
    lines = [  # company, ref, run period, about period, account, name, centre, unit, employee, debit, credit, text
        (zorg, "PR-11", nov, nov, "4000", None, centre, unit, person, "1000.10", "0", "Salaries"),
        (zorg, "PR-11", nov, nov, "2910", "", None, None, None, "0", "1000.10", ODD),
        (zorg, "PR-11C", nov, octo, "4000", "Wages", centre, None, None, "0.10", "0", FORMULA),
        (zorg, "PR-11C", nov, octo, "4001", "Wages 2", None, None, None, "0.20", "0", "two"),
        (zorg, "PR-11C", nov, octo, "2910", "Net", None, None, None, "0", "0.30", "rounding: 0.1 + 0.2"),
        (thuis, "PR-T-11", nov, nov, "4000", "Wages", None, None, None, "200.00", "0", "Unbalanced"),
        (thuis, "PR-T-11", nov, nov, "", "No account", None, None, None, "0", "199.99", "Missing account"),
        (test, "PR-TEST", nov, nov, "4000", None, None, None, None, "5.00", "0", "A test company's"),
        (zorg, "PR-12", date(2026, 12, 1), date(2026, 12, 1), "4000", None, None, None, None, "1", "1", "Later"),
    ]
    made = []
    numbers = {}
    for company, ref, run_period, about, account, name, c, u, e, debit, credit, text in lines:
        numbers[ref] = numbers.get(ref, 0) + 1
        made.append(JournalLine(company_id=company.id, payroll_run_ref=ref, run_period=run_period,
                                about_period=about, line_no=numbers[ref], account=account, account_name=name,
                                cost_centre_id=c.id if c else None, cost_unit_id=u.id if u else None,
                                employee_id=e.id if e else None, debit=Decimal(debit), credit=Decimal(credit),
                                description=text))
    db.session.add_all(made)
    return made


def _change_journals(made):
    made[0].debit, made[1].credit = Decimal("1000.20"), Decimal("1000.20")   # changed: reversed, then new
    made[3].description = "two (changed)"
    db.session.delete(made[2])
    made[4].credit = Decimal("0.20")


def _invoices(zorg, thuis, test):
    debtors = [Debtor(company_id=zorg.id, number="10001", name=ODD),
               Debtor(company_id=zorg.id, number="10002", name="Blocked", blocked=True),
               Debtor(company_id=thuis.id, number="20001", name=FORMULA)]
    db.session.add_all(debtors)
    db.session.flush()
    lines = [  # debtor, number, line, date, product, text, quantity, unit price, amount, vat code, vat
        (debtors[0], "INV1", 1, date(2026, 11, 1), "P1", "Care", "2", "45.50", "91.00", "H", "19.11"),
        (debtors[0], "INV1", 2, date(2026, 11, 1), "P2", ODD, "0.2500", "-4.00", "-1.00", "", "0"),
        (debtors[1], "INV2", 1, date(2026, 11, 15), "", "Blocked and no product", "1.5", "1", "1.50", "L", "0.14"),
        (debtors[1], "INV2", 2, date(2026, 11, 15), "P3", "Blocked", "-1", "2.675", "-2.68", "H", "-0.56"),
        (debtors[2], "INV3", 1, date(2026, 11, 30), "=P4", FORMULA, "1234567890.1234", "0", "0", "H", "0"),
        (debtors[0], "INV4", 1, date(2026, 12, 1), "P1", "Later", "1", "1", "1", "H", "0.21"),
    ]
    made = [InvoiceLine(company_id=d.company_id, debtor_id=d.id, invoice_number=n, line_no=line, invoice_date=day,
                        due_date=day + timedelta(days=30), product_code=product, description=text,
                        quantity=Decimal(q), unit_price=Decimal(price), amount=Decimal(amount), vat_code=vat_code,
                        vat_amount=Decimal(vat))
            for d, n, line, day, product, text, q, price, amount, vat_code, vat in lines]
    db.session.add_all(made)
    return made


def _change_invoices(made):
    made[0].amount = Decimal("91.01")
    db.session.delete(made[4])
    blocked = db.session.get(Debtor, made[2].debtor_id)
    blocked.blocked = False


SCENARIOS = {
    "products": (_products, _change_products, NOV, {}),
    "purchase_orders": (_purchase_orders, _change_purchase_orders, NOV, {}),
    "hours": (_hours, _change_hours, OCT, {}),
    "journal_entries": (_journals, _change_journals, NOV, {}),
    "invoices": (_invoices, _change_invoices, NOV, {"booking_date": "2026-12-05", "description": ODD}),
}


def _setup(type_key):
    zorg, thuis, test = factories.companies()
    made = SCENARIOS[type_key][0](zorg, thuis, test)
    db.session.commit()
    return made


def _run(profile, mode, type_key, **params):
    window = SCENARIOS[type_key][2]
    return start_and_run(profile, mode, window_start=window[0], window_end=window[1], **params)


def _python_payloads(run, export_type):
    ctx = context_for(run)
    return {export_type.record_key(p): p
            for p in (export_type.payload(row, ctx) for row in db.session.execute(export_type.select(ctx)))}


def _prepared(run):
    return {row.record_key: row for row in db.session.execute(
        select(PreparedRow).where(PreparedRow.run_id == run.id)).scalars()}


@pytest.mark.parametrize("type_key", list(SCENARIOS))
def test_the_sql_payload_equals_the_python_payload(ctx, type_key):
    _setup(type_key)
    export_type = get_type(type_key)
    profile = services.create_profile(name="Set", export_type=type_key, options={"format": "jsonl"})
    run = _run(profile, "test", type_key, operation="prepare", **SCENARIOS[type_key][3])
    assert run.status == "prepared", run.error_reason
    prepared = _prepared(run)
    expected = _python_payloads(run, export_type)
    assert set(prepared) == set(expected) and len(expected) >= 5
    for key, payload in expected.items():
        row = prepared[key]
        assert row.payload == payload, key
        assert list(row.payload) == list(payload), key                    # the same keys, in the same order
        assert len(row.fingerprint) == 32, "prepared by the database"
        assert export_type.fingerprint(row.payload) == export_type.fingerprint(payload)
        assert row.group_key == export_type.group_key(payload)
        assert row.subject_key == export_type.subject_key(payload)
        assert row.company_id == payload["company_id"]


def _row_by_row(monkeypatch, type_key):
    """The row-by-row engine for ``type_key`` (a type without ``sql_source``), reading the whole window as
    before change markers (no ``changed_since``): the reference the set-based run is compared with."""
    monkeypatch.setattr(type(get_type(type_key)), "sql_source", lambda self, ctx, dialect: None)
    monkeypatch.setattr(type(get_type(type_key)), "changed_since", lambda self, stmt, changes: None)


def _outcome(run):
    rows = db.session.execute(
        select(PreparedRow.seq, PreparedRow.record_key, PreparedRow.mutation, PreparedRow.window_value,
               PreparedRow.group_key, PreparedRow.company_id, PreparedRow.subject_key, PreparedRow.payload,
               PreparedRow.active, PreparedRow.processed, PreparedRow.invalid, PreparedRow.error)
        .where(PreparedRow.run_id == run.id).order_by(PreparedRow.seq)).all()
    items = db.session.execute(
        select(ReportItem.record_key, ReportItem.severity, ReportItem.code, ReportItem.params)
        .where(ReportItem.run_id == run.id).order_by(ReportItem.id)).all()
    files = [read_jsonl(f.path) for f in files_of(run)]
    counts = dict(run.counts or {})
    # How many records a run read, and so the gaps in its seq, differ by design: an incremental run with
    # change markers reads only what may have changed (``changes``). Same rows, same order, same counts.
    counts.pop("read", None)
    rows = [(position,) + tuple(r)[1:] for position, r in enumerate(rows)]
    return {"status": run.status, "rows": rows, "items": [tuple(i) for i in items],
            "files": files, "counts": counts}


@pytest.mark.parametrize("sync_type", ["full", "incremental_all", "incremental_new"])
@pytest.mark.parametrize("type_key", list(SCENARIOS))
def test_a_run_by_sql_is_the_run_row_by_row(ctx, monkeypatch, type_key, sync_type):
    """Production, a change in the source, then a test run, a production run, its roll back and a production
    run again: each run of the set-based engine equals the row-by-row engine's run (rows, mutations,
    errors, report items, files)."""
    made = _setup(type_key)
    params = SCENARIOS[type_key][3]
    fast = services.create_profile(name="By SQL", export_type=type_key, options={"format": "jsonl"},
                                   sync_type=sync_type)
    slow = services.create_profile(name="Row by row", export_type=type_key, options={"format": "jsonl"},
                                   sync_type=sync_type)
    outcomes = {"fast": [], "slow": []}

    def both(mode, **extra):
        run = fast_run = _run(fast, mode, type_key, **{**params, **extra})
        outcomes["fast"].append(_outcome(run))
        assert {len(row.fingerprint) for row in _prepared(run).values() if row.fingerprint} <= {32}
        with monkeypatch.context() as patched:
            _row_by_row(patched, type_key)
            run = _run(slow, mode, type_key, **{**params, **extra})
            outcomes["slow"].append(_outcome(run))
            assert {len(row.fingerprint) for row in _prepared(run).values() if row.fingerprint} <= {64}
        return fast_run, run

    both("production")
    SCENARIOS[type_key][1](made)
    db.session.commit()
    both("test")
    for run in both("production"):
        services.roll_back(run.id)
    both("production")
    if params:      # other run parameters: in the payload, not in the fingerprint
        both("production", booking_date="2026-12-24", description="Other words")
    assert len(outcomes["fast"]) == len(outcomes["slow"])
    for fast_outcome, slow_outcome in zip(outcomes["fast"], outcomes["slow"]):
        assert fast_outcome == slow_outcome
    assert set(sync.current_table(fast.id)) == set(sync.current_table(slow.id))
    assert sync.current_table(fast.id) == sync.current_from_history(fast.id)
    assert any(o["rows"] for o in outcomes["fast"][1:])
    assert all(o["status"] != "failed" for o in outcomes["fast"])


def test_run_parameters_are_in_the_payload_but_not_in_the_fingerprint(ctx):
    _setup("invoices")
    profile = services.create_profile(name="Invoices", export_type="invoices", options={"format": "jsonl"},
                                      sync_type="full")
    first = _run(profile, "production", "invoices", booking_date="2026-12-05", description="First")
    second = _run(profile, "test", "invoices", booking_date="2026-12-24", description="Second")
    rows = {f"{r['invoice_number']}/{r['line_no']}": r for r in read_jsonl(files_of(second)[0].path)}
    assert {r["mutation"] for r in rows.values()} == {"unchanged"}
    assert {(r["booking_date"], r["booking_description"]) for r in rows.values()} == {("2026-12-24", "Second")}
    first_rows = _prepared(first)
    assert {row.fingerprint for row in first_rows.values()} == {row.fingerprint for row in _prepared(second).values()}
    without = _run(profile, "test", "invoices")       # no booking date: the invoice date
    assert {r["booking_date"] == r["invoice_date"] and r["booking_description"] == ""
            for r in read_jsonl(files_of(without)[0].path)} == {True}


def test_blocked_debtors_and_missing_values_are_flagged_by_the_database(ctx):
    _setup("invoices")
    profile = services.create_profile(name="Invoices", export_type="invoices", options={"format": "jsonl"})
    run = _run(profile, "test", "invoices", operation="prepare")
    prepared = _prepared(run)
    assert {key for key, row in prepared.items() if row.invalid} == {"INV2/1", "INV2/2"}
    assert prepared["INV2/1"].error == "Record INV2/1 has no value for Product code; it is not exported."
    assert prepared["INV2/2"].error == "Debtor 10002 is blocked: invoice line INV2/2 is not exported."
    items = db.session.execute(select(ReportItem.record_key, ReportItem.code, ReportItem.params)
                               .where(ReportItem.run_id == run.id).order_by(ReportItem.id)).all()
    assert [(i.record_key, i.code) for i in items] == [("INV2/1", "missing_value"), ("INV2/1", "debtor_blocked"),
                                                       ("INV2/2", "debtor_blocked")]
    assert items[1].params == {"debtor": "10002", "record": "INV2/1"}


def test_a_debtor_selection_limits_the_rows_and_the_removals(ctx):
    made = _setup("invoices")
    profile = services.create_profile(name="Invoices", export_type="invoices", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    _run(profile, "production", "invoices")
    db.session.delete(made[0])          # debtor 10001's
    db.session.delete(made[4])          # debtor 20001's: not in the selection, not removed
    db.session.commit()
    run = _run(profile, "test", "invoices", debtor_numbers=["10001"])
    assert [(r["mutation"], r["invoice_number"], r["line_no"]) for r in read_jsonl(files_of(run)[0].path)] == [
        ("removed", "INV1", 1)]
    assert run.counts["records"] == 1


def test_hours_and_dates_across_summer_time(ctx):
    _setup("hours")
    profile = services.create_profile(name="Hours", export_type="hours", options={"format": "jsonl"})
    run = _run(profile, "test", "hours", operation="prepare")
    by_activity = {row.payload["activity"]: row.payload for row in _prepared(run).values()}
    assert "Out" not in by_activity                        # 30 September, 23:59:59 local
    assert by_activity["Care"]["date"] == "2026-10-01" and by_activity["Care"]["hours"] == "1.00"
    assert by_activity["Night"]["date"] == "2026-10-24" and by_activity["Night"]["hours"] == "0.02"
    assert by_activity["DST"]["date"] == "2026-10-25" and by_activity["DST"]["hours"] == "3.00"
    assert by_activity["Edge"]["hours"] == "0.00"         # 1.999999 s: 1 whole second
    assert by_activity["After"]["hours"] == "0.02"        # 90 s: 0.025, to the even cent
    assert by_activity[FORMULA]["date"] == "2026-10-26"
    assert by_activity["Backwards"]["hours"] == "-0.00"   # -18 s: -0.005, to the even cent
    assert "Last second" in by_activity


def test_unbalanced_journals_and_test_companies(ctx):
    _setup("journal_entries")
    profile = services.create_profile(name="Journals", export_type="journal_entries", options={"format": "jsonl"})
    run = _run(profile, "test", "journal_entries", operation="prepare")
    prepared = _prepared(run)
    assert {key for key, row in prepared.items() if row.invalid} == {"PR-T-11/1", "PR-T-11/2"}
    assert "PR-TEST/1" not in prepared
    assert prepared["PR-11C/1"].payload["is_correction"] is True
    assert prepared["PR-11/1"].payload["is_correction"] is False
    assert prepared["PR-11/2"].payload["account_name"] == "2910"
    codes = db.session.execute(select(ReportItem.code).where(ReportItem.run_id == run.id)
                               .order_by(ReportItem.id)).scalars().all()
    assert codes == ["missing_value", "test_company_left_out", "journal_unbalanced"]


def test_overlapping_hours_are_every_overlapping_pair(ctx):
    """The overlap check reads index ranges (registrations that start while another runs); it must find
    every pair the plain pairwise rule finds — backwards spans, equal starts, the window's edges — in
    the same order."""
    import random

    from portal.exporting.types.base import SourceContext
    from portal.i18n import org_timezone
    zorg, _thuis, _test = factories.companies()
    people = [factories.employee(zorg, f"E{n}", f"Person {n}") for n in range(3)]
    rng = random.Random(10)
    made = []
    for person in people:
        for _ in range(60):
            starts = datetime(2026, 9, 30, 20, 0) + timedelta(minutes=15 * rng.randint(0, 3100))
            ends = starts + timedelta(minutes=15 * rng.randint(-8, 40), seconds=rng.choice([0, 0, 1, -1]))
            made.append(TimeRegistration(company_id=zorg.id, employee_id=person.id, starts_at=starts,
                                         ends_at=ends, activity="Care"))
    db.session.add_all(made)
    db.session.commit()
    run_ctx = SourceContext(date(2026, 10, 1), date(2026, 10, 31), None, {}, org_timezone())
    low, high = run_ctx.utc_bounds()
    inside = sorted((r for r in made if low <= r.starts_at < high), key=lambda r: r.id)
    numbers = {person.id: person.number for person in people}
    expected = []
    for a in inside:
        for b in inside:
            if a.employee_id == b.employee_id and a.id < b.id and b.starts_at < a.ends_at and a.starts_at < b.ends_at:
                expected.append((a.starts_at, a.id, b.id, numbers[a.employee_id]))
    expected.sort()

    def name(r):   # the record and its stored times: the report writes them in its reader's locale
        return (f"H{r.id}", r.starts_at.isoformat(sep=" ", timespec="seconds"),
                r.ends_at.isoformat(sep=" ", timespec="seconds"))
    by_id = {r.id: r for r in made}
    found = get_type("hours").set_issues(run_ctx)
    assert len(expected) > 20
    assert [(i.params["employee"], (i.params["first"], i.params["first_starts"], i.params["first_ends"]),
             (i.params["second"], i.params["second_starts"], i.params["second_ends"]), i.record_key)
            for i in found] == [(number, name(by_id[a]), name(by_id[b]), f"H{a}") for _s, a, b, number in expected]
