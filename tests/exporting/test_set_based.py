"""The set-based prepare: the database builds each row's payload and fingerprint. What it builds must be
what the row-by-row code builds, value for value; validations, removals and ledgers made by the
row-by-row engine (its sha256 fingerprints) must keep their meaning."""
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.exporting import services, sync
from portal.exporting.engine import context_for
from portal.exporting.types import get_type
from portal.extensions import db
from portal.models import Department, LedgerCurrent, LedgerEntry, Payment, PreparedRow, ReportItem, Run

from tests import factories
from tests.factories import files_of, read_csv, rows_of, start_and_run


def _odd_payments(zorg):
    """Payments with the values that format differently: no department, refunds, zero, big amounts, odd
    text, a time with microseconds, the window's edges in the organisation's time zone."""
    department = Department(company_id=zorg.id, code="D-01", name="Shop")
    db.session.add(department)
    db.session.flush()
    values = [("R1", None, Decimal("12.50"), datetime(2026, 11, 12, 9, 0)),
              ("R2", department.id, Decimal("-7.05"), datetime(2026, 11, 12, 9, 0, 59, 999999)),
              ("R3", department.id, Decimal("0.00"), datetime(2026, 10, 31, 23, 0, 0)),   # 1 Nov, 00:00 local
              ("R4", None, Decimal("123456789012.34"), datetime(2026, 11, 30, 22, 59, 59)),
              ("R5", None, Decimal("0.10"), datetime(2026, 11, 20, 10, 0))]
    for number, department_id, amount, paid_at in values:
        db.session.add(Payment(company_id=zorg.id, department_id=department_id, receipt_number=number,
                               customer_number="=cmd|' /C calc'!A0" if number == "R5" else f"C-{number}",
                               customer_name='Jansen "Ø" & Zn, ünïcode', payment_type="CARD", amount=amount,
                               paid_at=paid_at))
    db.session.commit()


def _python_payloads(run):
    export_type = get_type("payments")
    ctx = context_for(run)
    source = export_type.select(ctx)
    return {export_type.record_key(p): p
            for p in (export_type.payload(row, ctx) for row in db.session.execute(source))}


def test_the_sql_payload_and_fingerprint_equal_the_row_by_row_ones(ctx):
    zorg, _, _ = factories.companies()
    _odd_payments(zorg)
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "jsonl"},
                                      sync_type="full")
    run = services.start_run(profile.id, mode="test", operation="prepare", window_start="2026-11-01",
                             window_end="2026-11-30")
    from tests.factories import execute
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "prepared", run.error_reason
    prepared = {row.record_key: row for row in db.session.execute(
        select(PreparedRow).where(PreparedRow.run_id == run.id)).scalars()}
    expected = _python_payloads(run)
    assert set(prepared) == set(expected) == {"R1", "R2", "R3", "R4", "R5"}
    export_type = get_type("payments")
    for key, payload in expected.items():
        assert prepared[key].payload == payload, key
        # The row-by-row fingerprint of the SQL payload is the row-by-row fingerprint (legacy ledgers).
        assert export_type.fingerprint(prepared[key].payload) == export_type.fingerprint(payload)
        assert len(prepared[key].fingerprint) == 32
    assert [prepared[k].seq for k in ("R3", "R1", "R2", "R4", "R5")] != []
    assert sorted(row.seq for row in prepared.values()) == [1, 2, 3, 4, 5]


def test_missing_values_are_invalid_rows_with_report_items(ctx):
    zorg, _, _ = factories.companies()
    made = factories.payments(zorg, 3)
    made[1].customer_number = ""
    made[2].payment_type = ""
    made[2].customer_number = ""
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "jsonl"})
    run = start_and_run(profile, "test")
    rows = {row.record_key: row for row in db.session.execute(
        select(PreparedRow).where(PreparedRow.run_id == run.id)).scalars()}
    assert [rows[k].invalid for k in ("R000000", "R000001", "R000002")] == [False, True, True]
    assert rows["R000001"].error == "Record R000001 has no value for Customer number; it is not exported."
    assert rows["R000002"].error == "Record R000002 has no value for Customer number; it is not exported."
    items = db.session.execute(select(ReportItem.record_key, ReportItem.code, ReportItem.params)
                               .where(ReportItem.run_id == run.id).order_by(ReportItem.id)).all()
    assert [(i.record_key, i.params["field"]) for i in items] == [
        ("R000001", "Customer number"), ("R000002", "Customer number"), ("R000002", "Payment type")]
    assert all(i.code == "missing_value" for i in items)
    assert [r["receipt_number"] for r in rows_of(run)] == ["R000000"]
    assert run.counts["invalid"] == 2 and run.counts["errors"] == 3


def test_a_ledger_from_the_row_by_row_engine_keeps_its_meaning(ctx):
    """Entries recorded with sha256 fingerprints: unchanged records stay unchanged (compared once in Python)."""
    zorg, _, _ = factories.companies()
    made = factories.payments(zorg, 4)
    db.session.commit()
    export_type = get_type("payments")
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    first = start_and_run(profile, "production")
    # As the row-by-row engine recorded it: the fingerprint of the payload's JSON.
    for model in (LedgerEntry, LedgerCurrent):
        for entry in db.session.execute(select(model).where(model.profile_id == profile.id)).scalars():
            entry.fingerprint = export_type.fingerprint(entry.payload)
    db.session.commit()
    made[0].amount = Decimal("99.99")
    db.session.commit()
    second = start_and_run(profile, "production")
    assert {r["receipt_number"]: r["mutation"] for r in rows_of(second)} == {"R000000": "changed"}
    full = services.create_profile(name="Full", export_type="payments", options={"format": "jsonl"})
    assert first.status == second.status == "exported"
    assert sync.current_table(profile.id) == sync.current_from_history(profile.id)
    assert full.sync_type == "full"


@pytest.mark.parametrize("supports", [True, False])
def test_removals_by_a_key_only_anti_join(ctx, monkeypatch, supports):
    zorg, _, _ = factories.companies()
    made = factories.payments(zorg, 4)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    start_and_run(profile, "production")
    # One deleted, one moved out of the window: both gone from the run's source; one unchanged.
    db.session.delete(made[0])
    made[1].paid_at = datetime(2026, 12, 15, 10, 0)
    db.session.commit()
    if not supports:
        from portal.exporting.providers.file import FileProvider
        monkeypatch.setattr(FileProvider, "supports_removals", False)
    run = start_and_run(profile, "test")
    if supports:
        assert sorted((r["receipt_number"], r["mutation"]) for r in rows_of(run)) == [
            ("R000000", "removed"), ("R000001", "removed")]
    else:
        assert rows_of(run) == []
        assert db.session.execute(select(ReportItem.params).where(
            ReportItem.run_id == run.id, ReportItem.code == "removals_left_out")).scalar()["count"] == 2


@pytest.mark.parametrize("options", [
    {},
    {"delimiter": ";", "encoding": "utf-8-sig", "line_terminator": "\n", "columns": ["amount", "receipt_number",
                                                                                     "customer_number", "paid_at"]},
    {"delimiter": "\t", "quotechar": "'", "skip_headers": True},
])
def test_csv_written_by_the_database_is_byte_for_byte_the_row_by_row_file(ctx, monkeypatch, options):
    from portal.exporting.providers.file import FileProvider
    zorg, _, _ = factories.companies()
    _odd_payments(zorg)
    profile = services.create_profile(name="Payments", export_type="payments",
                                      options=dict(options, format="csv"), sync_type="full")
    calls = []
    real = FileProvider.write_from_database

    def spy(self, *args, **kwargs):
        calls.append(real(self, *args, **kwargs))
        return calls[-1]

    monkeypatch.setitem(ctx.config, "EXPORT_FILE_WHILE_PREPARING", False)     # (the export's writer here)
    monkeypatch.setattr(FileProvider, "write_from_database", spy)
    fast = start_and_run(profile, "test")
    assert calls == [True]                       # the database wrote it
    monkeypatch.setattr(FileProvider, "write_from_database", lambda self, *a, **k: False)
    slow = start_and_run(profile, "test")
    fast_file, slow_file = files_of(fast)[0], files_of(slow)[0]
    with open(fast_file.path, "rb") as one, open(slow_file.path, "rb") as other:
        assert one.read() == other.read()
    assert fast_file.rows == slow_file.rows == 5
    assert fast.counts["processed"] == 5


def test_rows_the_database_cannot_write_exactly_go_row_by_row(ctx, monkeypatch):
    """A cancellation line (a removal) is made in Python: such a delivery takes the row-by-row path."""
    from portal.exporting.providers.file import FileProvider
    zorg, _, _ = factories.companies()
    made = factories.payments(zorg, 3)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "csv"},
                                      sync_type="incremental_all")
    start_and_run(profile, "production")
    db.session.delete(made[0])
    db.session.commit()
    calls = []
    real = FileProvider.write_from_database
    monkeypatch.setattr(FileProvider, "write_from_database",
                        lambda self, *a, **k: calls.append(real(self, *a, **k)) or calls[-1])
    run = start_and_run(profile, "test")
    assert calls == [False]
    rows = read_csv(files_of(run)[0].path)
    assert [(r["Mutation"], r["Receipt number"], r["Amount"]) for r in rows] == [("removed", "R000000", "-12.50")]


@pytest.mark.parametrize("count", [0, 1, 9, 10, 11, 20, 21, 30])
def test_chunks_take_every_row_once_whatever_the_count(ctx, count):
    """The chunks' bounds (a source id every 10 rows here, found by one statement): a window that ends
    exactly at a bound, just after one, inside the first chunk or empty gives every row once, in source
    order, and the count the run reports."""
    zorg, _, _ = factories.companies()
    factories.payments(zorg, count)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "csv"},
                                      sync_type="full")
    ctx.config["EXPORT_BATCH_SIZE"] = 1                  # chunks of 10 source rows
    try:
        run = start_and_run(profile, "test")
    finally:
        ctx.config["EXPORT_BATCH_SIZE"] = 2000
    rows = db.session.execute(select(PreparedRow.seq, PreparedRow.record_key)
                              .where(PreparedRow.run_id == run.id).order_by(PreparedRow.seq)).all()
    assert [(r.seq, r.record_key) for r in rows] == [(i + 1, f"R{i:06d}") for i in range(count)]
    assert run.counts["records"] == count and run.status == "exported"
    assert [line["Receipt number"] for line in read_csv(files_of(run)[0].path)] == [
        f"R{i:06d}" for i in range(count)]


def test_prepared_in_chunks_the_rows_are_the_same(ctx):
    """Chunks of source ids (progress and heartbeat between them) give the rows one statement gives."""
    zorg, _, _ = factories.companies()
    made = factories.payments(zorg, 25)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    start_and_run(profile, "production")
    for payment in made[1:25:2]:       # 12 changed: an incremental run reads only these (issue 10) …
        payment.amount = Decimal("1.00")
    db.session.commit()
    ctx.config["EXPORT_BATCH_SIZE"] = 1                  # … in chunks of 10 source rows
    try:
        run = start_and_run(profile, "test")
    finally:
        ctx.config["EXPORT_BATCH_SIZE"] = 2000
    rows = db.session.execute(select(PreparedRow.seq, PreparedRow.record_key, PreparedRow.mutation)
                              .where(PreparedRow.run_id == run.id).order_by(PreparedRow.seq)).all()
    assert [(r.record_key, r.mutation) for r in rows] == [(f"R{i:06d}", "changed") for i in range(1, 25, 2)]
    assert [r.seq for r in rows] == sorted({r.seq for r in rows})      # in source order
    assert run.counts["records"] == 25 and run.counts["unchanged"] == 13
