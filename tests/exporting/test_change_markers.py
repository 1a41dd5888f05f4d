"""Change markers (issue 10): the source rows' ``row_version`` moves with every write — import, demo seed,
ORM edit, plain SQL — and an incremental run reads only the records that may have changed since the
ledger's entries were prepared, with exactly the semantics it had when it read everything: the same
new/changed/unchanged/removed rows and counts, roll back, Partially processed, a killed run. On SQLite
and PostgreSQL (each test runs on both)."""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update

from portal.demo.seed import seed
from portal.exporting import changes, services, sync
from portal.exporting.types import get_type
from portal.extensions import db
from portal.models import (
    Company, CostCentre, Debtor, Department, Employee, InvoiceLine, JournalLine, KitComponent, Payment, Product,
    PurchaseOrder, PurchaseOrderLine, Supplier, TimeRegistration,
)
from portal.models.exporting import ChangedSource, PreparedRow, Run
from portal.models import source
from portal.models.source import ChangeMarked

from tests import factories
from tests.factories import execute, rows_of, start_and_run

MARKED = [model for model in vars(source).values()
          if isinstance(model, type) and issubclass(model, ChangeMarked) and model is not ChangeMarked]


def _watermark():
    """A watermark as a run's prepare takes it (committed: on SQLite it advances the clock)."""
    value = changes.watermark()
    db.session.commit()
    return value


def _markers(model):
    return dict(db.session.execute(select(model.id, model.row_version)).all())


# ---- the marker moves with every write --------------------------------------------------------------

def test_every_source_table_an_export_reads_is_marked():
    marked = {model for model in vars(source).values() if isinstance(model, type) and issubclass(model, ChangeMarked)}
    tables = {model for model in vars(source).values() if isinstance(model, type) and hasattr(model, "__tablename__")}
    # Kit components have none of their own: a change of a kit moves its product's marker (a trigger).
    assert tables - marked == {KitComponent}


def test_the_marker_after_import(ctx, tmp_path):
    from tests.importing.test_import import GOOD_FILES, run_import, write
    before = _watermark()
    for table, content in GOOD_FILES:
        result = run_import(ctx, table, write(tmp_path, f"{table}.csv", content))
        assert result.exit_code == 0, (table, result.output, result.stderr)
    for model in MARKED:
        markers = _markers(model)
        assert markers and all(marker >= before for marker in markers.values()), (model, markers, before)
    # An import that refuses its file (a receipt number that exists) moves nothing.
    mark = _watermark()
    existing = _markers(Payment)
    result = run_import(ctx, "payments", write(tmp_path, "again.csv", dict(GOOD_FILES)["payments"]))
    assert result.exit_code != 0
    assert _markers(Payment) == existing and all(m < mark for m in existing.values())


def test_the_marker_after_the_demo_seed(ctx):
    before = _watermark()
    seed(size=100, today=date(2026, 3, 15))
    for model in MARKED:
        markers = _markers(model)
        assert markers and all(marker >= before for marker in markers.values()), model
    after = _watermark()
    seed(size=100, today=date(2026, 3, 15))        # idempotent: writes nothing, moves nothing
    assert all(marker < after for marker in _markers(Payment).values())


def test_the_marker_after_an_edit_by_the_orm_and_by_plain_sql(ctx):
    zorg, _, _ = factories.companies()
    made = factories.payments(zorg, 3)
    products = factories.products(zorg, 3)           # ITEM0000 is a kit of ITEM0001
    db.session.commit()
    mark = _watermark()
    assert all(m < mark for m in _markers(Payment).values())

    made[0].amount = Decimal("1.00")                  # the ORM
    db.session.commit()
    db.session.execute(text("UPDATE payments SET customer_name = 'X' WHERE receipt_number = 'R000001'"))
    db.session.commit()
    markers = {p.receipt_number: p.row_version for p in db.session.execute(select(Payment)).scalars()}
    assert markers["R000000"] >= mark and markers["R000001"] >= mark and markers["R000002"] < mark
    db.session.add(Payment(company_id=zorg.id, receipt_number="R9", customer_number="C", payment_type="CASH",
                           amount=Decimal("1"), paid_at=datetime(2026, 11, 20)))
    db.session.commit()
    assert db.session.execute(select(Payment.row_version).filter_by(receipt_number="R9")).scalar() >= mark

    # A kit component's change (here: its removal) moves its product's marker, not the others'.
    db.session.execute(KitComponent.__table__.delete())
    db.session.commit()
    by_code = {p.item_code: p.row_version for p in db.session.execute(select(Product)).scalars()}
    assert by_code["ITEM0000"] >= mark and by_code["ITEM0002"] < mark, by_code
    assert len(products) == 3


# ---- an incremental run reads only what changed ------------------------------------------------------

def _payments_profile(count=6, sync_type="incremental_all", fmt="jsonl"):
    zorg, thuis, _ = factories.companies()
    made = factories.payments(zorg, count)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": fmt},
                                      sync_type=sync_type)
    return profile, made, zorg


def _mutations(run):
    return {row.record_key: row.mutation for row in db.session.execute(
        select(PreparedRow).where(PreparedRow.run_id == run.id)).scalars()}


def _adds_up(run, records):
    counts = run.counts
    assert counts["records"] == records, counts
    assert counts["new"] + counts["changed"] + counts["unchanged"] == records, counts


def test_an_incremental_run_reads_only_the_changed_new_and_undelivered_records(ctx):
    profile, made, zorg = _payments_profile(6)
    first = start_and_run(profile, "production")
    assert first.counts["read"] == 6 and first.source_version is not None

    nothing = start_and_run(profile, "test")
    assert nothing.counts["read"] == 0 and rows_of(nothing) == []
    _adds_up(nothing, 6)
    assert nothing.counts["unchanged"] == 6

    made[2].amount = Decimal("50.00")
    removed = made[3].receipt_number
    db.session.delete(made[3])
    db.session.add(Payment(company_id=zorg.id, receipt_number="R777", customer_number="C7", payment_type="CASH",
                           amount=Decimal("7.00"), paid_at=datetime(2026, 11, 21, 9, 0)))
    db.session.commit()
    second = start_and_run(profile, "production")
    assert _mutations(second) == {"R000002": "changed", "R777": "new", removed: "removed"}
    assert second.counts["read"] == 2          # the changed and the new one; the removal by keys only
    _adds_up(second, 6)
    assert (second.counts["changed"], second.counts["new"], second.counts["removed"]) == (1, 1, 1)
    assert sync.current_table(second.profile_id) == sync.current_from_history(second.profile_id)


def test_one_pass_finds_the_rows_to_read_and_the_removals(ctx):
    """incremental_all finds what it reads and what is gone in one pass over the window (a full outer join
    with the current ledger): a removal is found when nothing else changed, with changes and new records
    beside it, by row and by the count-only path; records delivered by a wider window are not removals of
    a narrower one; and the found removals leave nothing behind."""
    profile, made, zorg = _payments_profile(8)
    december = Payment(company_id=zorg.id, receipt_number="R-DEC", customer_number="C9", payment_type="CASH",
                       amount=Decimal("9.00"), paid_at=datetime(2026, 12, 3, 9, 0))
    db.session.add(december)
    db.session.commit()
    wide = start_and_run(profile, "production", window_end="2026-12-31")
    assert wide.counts["new"] == 9

    # Only a removal: nothing is read, the removal is still found (a run that misses it fails here).
    db.session.delete(made[7])
    db.session.commit()
    only = start_and_run(profile, "test")
    assert _mutations(only) == {"R000007": "removed"} and only.counts["read"] == 0, only.counts
    _adds_up(only, 7)
    assert only.counts["removed"] == 1

    # A change, a new record, a deletion and a record moved out of the window, in one run; R-DEC (in the
    # ledger, outside this window) is not a removal.
    made[2].amount = Decimal("50.00")
    db.session.delete(made[3])
    made[4].paid_at = datetime(2026, 10, 20, 10, 0)
    db.session.add(Payment(company_id=zorg.id, receipt_number="R888", customer_number="C8", payment_type="CASH",
                           amount=Decimal("8.00"), paid_at=datetime(2026, 11, 22, 9, 0)))
    db.session.commit()
    run = start_and_run(profile, "production")
    assert _mutations(run) == {"R000002": "changed", "R888": "new", "R000003": "removed", "R000004": "removed",
                               "R000007": "removed"}, _mutations(run)
    assert run.counts["read"] == 2, run.counts
    _adds_up(run, 6)
    assert (run.counts["changed"], run.counts["new"], run.counts["removed"]) == (1, 1, 3)
    assert [(r["receipt_number"], Decimal(str(r["amount"]))) for r in rows_of(run) if r["mutation"] == "removed"] \
        == [("R000003", Decimal("-15.50")), ("R000004", Decimal("-16.50")), ("R000007", Decimal("-19.50"))]
    current = sync.current_table(profile.id)
    assert current == sync.current_from_history(profile.id)
    assert "R000003" not in current and "R-DEC" in current and current["R888"][4] == run.source_version
    assert db.session.execute(select(func.count()).select_from(ChangedSource)).scalar() == 0

    # Nothing left to find: the next run reads nothing and removes nothing.
    again = start_and_run(profile, "test")
    assert _mutations(again) == {} and again.counts["read"] == 0
    _adds_up(again, 6)


def test_removals_found_in_one_pass_are_counted_where_the_provider_cannot_deliver_them(ctx, monkeypatch):
    from portal.exporting.providers.file import FileProvider
    from portal.models.exporting import ReportItem
    profile, made, zorg = _payments_profile(4)
    start_and_run(profile, "production")
    db.session.delete(made[0])
    made[1].amount = Decimal("1.00")
    db.session.commit()
    monkeypatch.setattr(FileProvider, "supports_removals", False)
    run = start_and_run(profile, "test")
    assert _mutations(run) == {"R000001": "changed"}
    assert db.session.execute(select(ReportItem.params).where(
        ReportItem.run_id == run.id, ReportItem.code == "removals_left_out")).scalar()["count"] == 1


def test_a_record_changed_outside_a_runs_window_is_still_seen_later(ctx):
    """One watermark per ledger entry, not per profile: a change made while the record was outside a
    production run's window is read by the next run whose window holds it."""
    profile, made, zorg = _payments_profile(3)
    december = Payment(company_id=zorg.id, receipt_number="RDEC", customer_number="C", payment_type="CASH",
                       amount=Decimal("3.00"), paid_at=datetime(2026, 12, 10, 9, 0))
    db.session.add(december)
    db.session.commit()
    start_and_run(profile, "production", window_start="2026-11-01", window_end="2026-12-31")
    made[0].amount = Decimal("99.00")
    db.session.commit()
    only_december = start_and_run(profile, "production", window_start="2026-12-01", window_end="2026-12-31")
    assert _mutations(only_december) == {}
    november = start_and_run(profile, "production")
    assert _mutations(november) == {"R000000": "changed"}


def test_a_lookup_change_is_seen_by_the_records_that_show_it(ctx):
    profile, made, zorg = _payments_profile(4)
    shop = Department(company_id=zorg.id, code="SHOP", name="Shop")
    db.session.add(shop)
    db.session.flush()
    made[1].department_id = shop.id
    db.session.commit()
    start_and_run(profile, "production")
    shop.code = "WINKEL"                     # one department renamed: its payment's payload changes
    db.session.commit()
    run = start_and_run(profile, "production")
    assert _mutations(run) == {"R000001": "changed"} and run.counts["read"] == 1
    assert rows_of(run)[0]["department"] == "WINKEL"
    zorg.code = "ZORGG"                      # the company renamed: every payment of it changes
    db.session.commit()
    run = start_and_run(profile, "production")
    assert set(_mutations(run).values()) == {"changed"} and run.counts["read"] == 4
    zorg.name = "Another name"               # a value no payload shows: read again, but unchanged
    db.session.commit()
    run = start_and_run(profile, "production")
    assert _mutations(run) == {} and run.counts["read"] == 4 and run.counts["unchanged"] == 4


def test_incremental_new_reads_only_keys_not_in_the_ledger(ctx):
    profile, made, zorg = _payments_profile(4, sync_type="incremental_new")
    start_and_run(profile, "production")
    made[0].amount = Decimal("1.00")
    db.session.add(Payment(company_id=zorg.id, receipt_number="R5", customer_number="C", payment_type="CASH",
                           amount=Decimal("1"), paid_at=datetime(2026, 11, 20)))
    db.session.commit()
    run = start_and_run(profile, "production")
    assert _mutations(run) == {"R5": "new"} and run.counts["read"] == 1
    _adds_up(run, 5)


def test_rows_left_undelivered_are_offered_again_partially_processed(ctx):
    """An unticked row was not delivered: not in the ledger, so the next run reads it although its
    marker is older than that run's watermark."""
    profile, made, zorg = _payments_profile(4)
    run = services.start_run(profile.id, mode="production", operation="prepare", window_start="2026-11-01",
                             window_end="2026-11-30")
    execute(run)
    row = db.session.execute(select(PreparedRow).where(PreparedRow.run_id == run.id,
                                                       PreparedRow.record_key == "R000001")).scalar_one()
    services.set_row_active(run.id, row.id, False)
    services.request_export(run.id)
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "partially_processed"
    assert "R000001" not in sync.current_ledger(profile.id)
    services.cancel_run(run.id)

    again = start_and_run(profile, "production")
    assert _mutations(again) == {"R000001": "new"} and again.counts["read"] == 1
    _adds_up(again, 4)


def test_roll_back_restores_what_the_next_run_reads(ctx):
    profile, made, zorg = _payments_profile(4)
    start_and_run(profile, "production")
    before = sync.current_table(profile.id)
    made[0].amount = Decimal("2.00")
    db.session.commit()
    second = start_and_run(profile, "production")
    assert _mutations(second) == {"R000000": "changed"}
    assert sync.current_table(profile.id)["R000000"][4] == second.source_version
    services.roll_back(second.id)
    assert sync.current_table(profile.id) == before          # watermarks included
    third = start_and_run(profile, "production")
    assert _mutations(third) == {"R000000": "changed"} and third.counts["read"] == 1


def test_a_killed_run_changes_nothing_the_next_run_reads(ctx, monkeypatch):
    profile, made, zorg = _payments_profile(4)
    start_and_run(profile, "production")
    before = sync.current_table(profile.id)
    made[1].amount = Decimal("3.00")
    db.session.commit()

    def killed(*args, **kwargs):
        raise RuntimeError("the worker died")
    real = sync.append_ledger
    monkeypatch.setattr(sync, "append_ledger", killed)
    died = services.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
    with pytest.raises(RuntimeError):
        execute(died)
    assert sync.current_table(profile.id) == before
    monkeypatch.setattr(sync, "append_ledger", real)
    again = start_and_run(profile, "production")
    assert _mutations(again) == {"R000001": "changed"} and again.counts["read"] == 1


def test_the_row_by_row_path_reads_the_same(ctx, monkeypatch):
    """A type without ``sql_source`` (row by row) gets the same filter and the same removals."""
    monkeypatch.setattr(type(get_type("payments")), "sql_source", lambda self, ctx, dialect: None)
    profile, made, zorg = _payments_profile(5)
    start_and_run(profile, "production")
    made[0].amount = Decimal("9.00")
    db.session.delete(made[4])
    db.session.commit()
    run = start_and_run(profile, "production")
    assert _mutations(run) == {"R000000": "changed", "R000004": "removed"}
    assert run.counts["read"] == 1
    _adds_up(run, 4)


@pytest.mark.postgres
def test_a_transaction_that_commits_after_the_watermark_is_not_missed(pg_ctx):
    """PostgreSQL: a change made before a run reads but committed after it is read by the next run
    (its marker, the writer's transaction id, is not below the run's watermark). SQLite has one writer
    at a time: the run's prepare waits for it."""
    profile, made, zorg = _payments_profile(3)
    start_and_run(profile, "production")
    made[1].amount = Decimal("5.00")          # committed: the next run delivers it, with its watermark
    db.session.commit()
    with db.engine.connect() as other:
        other.execute(update(Payment).where(Payment.receipt_number == "R000001").values(amount=Decimal("77.00")))
        during = start_and_run(profile, "production")     # sees 5.00, not the uncommitted 77.00
        assert _mutations(during) == {"R000001": "changed"}
        assert Decimal(str(rows_of(during)[0]["amount"])) == Decimal("5.00")
        other.commit()
    # 77.00 was written by a transaction in progress when ``during`` took its watermark: its marker is not
    # below it, although it was written before (a watermark of "the next transaction id" would miss it).
    after = start_and_run(profile, "production")
    assert _mutations(after) == {"R000001": "changed"}
    assert Decimal(str(rows_of(after)[0]["amount"])) == Decimal("77.00")


# ---- every export type declares its key and markers --------------------------------------------------

def _journal(zorg):
    employee = factories.employee(zorg)
    centre = CostCentre(company_id=zorg.id, code="100", name="Care")
    db.session.add(centre)
    db.session.flush()
    lines = factories.journal(zorg, "PAY-2026-11", date(2026, 11, 1), [
        ("4000", "100.00", "0", "Wages"), ("1600", "0", "100.00", "Payable")])
    lines[0].cost_centre_id, lines[0].employee_id = centre.id, employee.id
    return lines, centre


def _sources(kind, zorg):
    """(records, a change of one record, a change of a looked-up row, the records that change with it)."""
    if kind == "payments":
        made = factories.payments(zorg, 3)
        return 3, lambda: setattr(made[0], "amount", Decimal("1")), lambda: setattr(zorg, "code", "Z2"), 3
    if kind == "invoices":
        debtors = factories.debtors(zorg, 2)
        made = factories.invoice_lines(zorg, debtors[:1], 3)
        return 3, lambda: setattr(made[0], "amount", Decimal("1")), lambda: setattr(debtors[0], "name", "New"), 3
    if kind == "hours":
        person = factories.employee(zorg)
        start = datetime(2026, 11, 10, 8, 0)
        made = factories.hours(zorg, person, [(start + timedelta(days=i), start + timedelta(days=i, hours=4))
                                              for i in range(3)])
        return 3, lambda: setattr(made[0], "activity", "Other"), lambda: setattr(person, "name", "New name"), 3
    if kind == "journal_entries":
        lines, centre = _journal(zorg)
        return 2, lambda: setattr(lines[1], "description", "Net"), lambda: setattr(zorg, "name", "Renamed"), 2
    if kind == "purchase_orders":
        made = factories.purchase_orders(zorg, 3)
        supplier = db.session.get(Supplier, db.session.get(PurchaseOrder, made[0].purchase_order_id).supplier_id)
        return 3, lambda: setattr(made[0], "quantity", Decimal("2")), lambda: setattr(supplier, "name", "Other"), 3
    made = factories.products(zorg, 3)          # ITEM0000 is a kit of ITEM0001 (a raw material)

    def kit():                                 # a kit component added: the item's payload counts them
        db.session.add(KitComponent(product_id=made[2].id, component_id=made[1].id, quantity=Decimal("1")))
    return 3, lambda: db.session.execute(KitComponent.__table__.delete()), kit, 1


@pytest.mark.parametrize("kind", ["payments", "invoices", "hours", "journal_entries", "purchase_orders",
                                  "products"])
def test_every_type_reads_only_what_changed(ctx, kind):
    zorg, _, _ = factories.companies()
    records, change_one, change_lookup, affected = _sources(kind, zorg)
    db.session.commit()
    profile = services.create_profile(name=kind, export_type=kind, options={"format": "jsonl"},
                                      sync_type="incremental_all")
    first = start_and_run(profile, "production")
    assert first.status == "exported", first.error_reason
    assert first.counts["new"] == records, first.counts

    nothing = start_and_run(profile, "test")
    assert nothing.counts["read"] == 0 and rows_of(nothing) == [], nothing.counts
    _adds_up(nothing, records)

    change_one()
    db.session.commit()
    one = start_and_run(profile, "production")
    assert one.counts["read"] == 1 and one.counts["changed"] == 1, one.counts
    _adds_up(one, records)

    change_lookup()
    db.session.commit()
    every = start_and_run(profile, "production")
    assert every.counts["read"] == affected and every.counts["changed"] == affected, every.counts
    _adds_up(every, records)


@pytest.mark.postgres
def test_statistics_are_taken_when_a_table_changed_by_a_meaningful_share_only(pg_ctx):
    """PostgreSQL: a run analyzes a table it joins when it was never analyzed or more than
    ``ANALYZE_SHARE`` of it was written since (its own rows counted), not after a few rows."""
    from portal.exporting import engine

    def estimated():
        db.session.commit()
        return db.session.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'payments'::regclass")).scalar()

    zorg, _, _ = factories.companies()
    factories.payments(zorg, 1000)
    db.session.commit()
    engine._analyze("payments")                  # never analyzed since it was emptied
    assert estimated() == 1000
    db.session.add_all([
        Payment(company_id=zorg.id, receipt_number=f"X{i}", customer_number="C", payment_type="CASH",
                amount=Decimal("1"), paid_at=datetime(2026, 11, 20, 9, 0)) for i in range(10)])
    db.session.commit()
    engine._analyze("payments", inserted=10)     # 1 %: the statistics stand
    assert estimated() == 1000
    engine._analyze("payments", inserted=200)    # 20 %: taken again
    assert estimated() == 1010
