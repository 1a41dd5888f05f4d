"""PostgreSQL writes the file of a prepare-and-export run (full sync, CSV or JSON Lines, one file) by the
statements that insert its prepared rows (``sqlcsv.write_while_inserting``): the file, the prepared
rows and the counts are exactly what they are when the export writes the file afterwards (byte for byte,
with the values that format differently, invalid rows, several chunks, the ledger's mutations). A row
the database cannot write exactly makes it give up in the middle of the run: the export then writes the
file as before. SQLite never writes it while preparing (no gain there: measured, benchmarks/README)."""
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.exporting import engine, services, sqlcsv
from portal.extensions import db
from portal.models import Department, Payment, PreparedRow, Run

from tests import factories
from tests.factories import files_of, start_and_run

AWKWARD_TEXT = ['=SUM(A1:A2)', '+31 6 1234', '-minus', '@at', '\tTab first', 'Jansen "Ø" & Zn, ünïcode 😀',
                "it's; a|b", '', ' ', 'back\\slash \u2028 \x7f', '"quoted"', 'true', 'null', '12.50', '{json',
                '[list', None]


def _payments(zorg, line_break_at=None):
    department = Department(company_id=zorg.id, code="=D-01", name="Shop")
    db.session.add(department)
    db.session.flush()
    for i, text in enumerate(AWKWARD_TEXT):
        name = text if i != line_break_at else "two\nlines"
        db.session.add(Payment(
            company_id=zorg.id, department_id=department.id if i % 2 else None, receipt_number=f"R{i:02d}",
            # Two rows without a customer number: invalid, prepared, reported, never in the file.
            customer_number="" if i in (3, 12) else (text or "C"), customer_name=name,
            payment_type="CARD" if i % 3 else "-CASH",
            amount=[Decimal("12.50"), Decimal("-7.05"), Decimal("0.00"), Decimal("123456789012.34")][i % 4],
            paid_at=datetime(2026, 11, 12, 9, 0, i)))
    db.session.commit()


def _watch(monkeypatch):
    """Which writers wrote: while preparing (and whether it gave up), or the export's."""
    seen = []
    while_inserting, after = sqlcsv.write_while_inserting, sqlcsv.write

    def spy_while(*args, **kwargs):
        try:
            result = while_inserting(*args, **kwargs)
        except sqlcsv.OddRow:
            seen.append("gave up")
            raise
        seen.append("while preparing")
        return result

    def spy_after(*args, **kwargs):
        seen.append("export")
        return after(*args, **kwargs)
    monkeypatch.setattr(sqlcsv, "write_while_inserting", spy_while)
    monkeypatch.setattr(sqlcsv, "write", spy_after)
    return seen


def _row_by_row(ctx, profile, mode="test"):
    ctx.config["EXPORT_FILES_BY_DATABASE"] = False
    try:
        return start_and_run(profile, mode)
    finally:
        ctx.config["EXPORT_FILES_BY_DATABASE"] = True


def _prepared(run):
    return [tuple(row) for row in db.session.execute(
        select(PreparedRow.seq, PreparedRow.record_key, PreparedRow.fingerprint, PreparedRow.mutation,
               PreparedRow.window_value, PreparedRow.group_key, PreparedRow.company_id, PreparedRow.payload,
               PreparedRow.active, PreparedRow.processed, PreparedRow.invalid, PreparedRow.error,
               PreparedRow.export_pass).where(PreparedRow.run_id == run.id).order_by(PreparedRow.seq)).all()]


def _same_as_row_by_row(ctx, run, profile, mode="test"):
    slow = _row_by_row(ctx, profile, mode)
    assert run.status == slow.status == "exported", (run.error_reason, slow.error_reason)
    fast_file, slow_file = files_of(run)[0], files_of(slow)[0]
    assert Path(fast_file.path).read_bytes() == Path(slow_file.path).read_bytes()
    assert (fast_file.rows, fast_file.sha256, fast_file.size) == (slow_file.rows, slow_file.sha256, slow_file.size)
    assert _prepared(run) == _prepared(slow)
    assert run.counts == slow.counts
    assert [p.name for p in Path(fast_file.path).parent.iterdir() if p.name.startswith(".")] == []
    return Path(fast_file.path).read_bytes()


def _pg(ctx):
    return ctx.extensions["sqlalchemy"].engine.dialect.name == "postgresql"


@pytest.mark.parametrize("options", [
    {"format": "csv"},
    {"format": "csv", "delimiter": ";", "encoding": "utf-8-sig", "line_terminator": "\n"},
    {"format": "csv", "delimiter": "|", "quotechar": "'", "skip_headers": True},
    {"format": "csv", "columns": ["amount", "customer_name", "paid_at", "receipt_number"]},
    {"format": "jsonl"},
    {"format": "jsonl", "columns": ["amount", "customer_name", "paid_at", "receipt_number"]},
])
def test_written_while_preparing_byte_for_byte(ctx, monkeypatch, options):
    zorg, _, _ = factories.companies()
    _payments(zorg, line_break_at=None if options["format"] == "csv" else 5)
    profile = services.create_profile(name="Payments", export_type="payments", options=options, sync_type="full")
    seen = _watch(monkeypatch)
    ctx.config["EXPORT_BATCH_SIZE"] = 1                  # chunks of 10 source rows: two statements
    try:
        run = start_and_run(profile, "test")
    finally:
        ctx.config["EXPORT_BATCH_SIZE"] = 2000
    assert seen == (["while preparing", "while preparing"] if _pg(ctx) else ["export"])
    written = _same_as_row_by_row(ctx, run, profile)
    assert run.counts["processed"] == len(AWKWARD_TEXT) - 2 and run.counts["errors"] == 2
    assert b"R03" not in written and b"R12" not in written
    if options["format"] == "jsonl":
        assert b'"customer_name":"=SUM(A1:A2)"' in written
        assert b'"two\\nlines"' in written


def test_a_row_it_cannot_write_in_a_later_chunk_makes_it_give_up(ctx, monkeypatch):
    """PostgreSQL's COPY cannot write a line break inside a CSV value exactly: at that row's chunk the
    statement fails as a whole (nothing of the chunk inserted), the half file is dropped, the rest is
    inserted as before and the export writes the file (here row by row)."""
    zorg, _, _ = factories.companies()
    _payments(zorg, line_break_at=14)
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "csv"},
                                      sync_type="full")
    seen = _watch(monkeypatch)
    ctx.config["EXPORT_BATCH_SIZE"] = 1
    try:
        run = start_and_run(profile, "test")
    finally:
        ctx.config["EXPORT_BATCH_SIZE"] = 2000
    assert seen == (["while preparing", "gave up", "export"] if _pg(ctx) else ["export"])
    written = _same_as_row_by_row(ctx, run, profile)
    assert b'"two\r\nlines"' in written or b'"two\nlines"' in written
    assert len(_prepared(run)) == len(AWKWARD_TEXT)


def test_the_ledger_s_mutations_are_in_the_file(ctx, monkeypatch):
    """A full sync after a production run: new, changed and unchanged rows, as the export writes them."""
    zorg, _, _ = factories.companies()
    made = factories.payments(zorg, 12)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "csv"},
                                      sync_type="full")
    first = start_and_run(profile, "production")
    assert first.status == "exported", first.error_reason
    made[4].amount = Decimal("99.99")
    db.session.add(Payment(company_id=zorg.id, receipt_number="NEW-1", customer_number="C1", customer_name="New",
                           payment_type="CARD", amount=Decimal("1.00"), paid_at=datetime(2026, 11, 20, 9, 0)))
    db.session.commit()
    seen = _watch(monkeypatch)
    run = start_and_run(profile, "production")
    assert seen == (["while preparing"] if _pg(ctx) else ["export"])
    mutations = db.session.execute(select(PreparedRow.mutation).where(PreparedRow.run_id == run.id)
                                   .order_by(PreparedRow.seq)).scalars().all()
    assert mutations.count("changed") == 1 and mutations.count("new") == 1 and mutations.count("unchanged") == 11
    text = Path(files_of(run)[0].path).read_text(encoding="utf-8")
    assert text.count("\nchanged,") == 1 and text.count("\nunchanged,") == 11
    services.roll_back(run.id)
    db.session.commit()
    again = start_and_run(profile, "test")
    _same_as_row_by_row(ctx, again, profile)


def test_a_run_that_fails_after_preparing_leaves_no_file(ctx, monkeypatch):
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 5)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "csv"},
                                      sync_type="full")
    seen = _watch(monkeypatch)

    def broken(run, progress):
        raise RuntimeError("the export broke")
    monkeypatch.setattr(engine, "export", broken)
    with pytest.raises(RuntimeError):
        start_and_run(profile, "test")
    run = db.session.execute(select(Run).order_by(Run.id.desc())).scalars().first()
    assert run.status == "failed" and files_of(run) == []
    assert seen == (["while preparing"] if _pg(ctx) else [])
    directory = Path(ctx.config["PORTAL_STORAGE_DIR"]) / str(run.id)
    assert not directory.exists() or list(directory.iterdir()) == []
