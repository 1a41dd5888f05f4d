"""Files written by the database (CSV and JSON Lines: ``sqlcsv``) are byte for byte what the row-by-row
writers write, on SQLite and PostgreSQL, with the values that format differently: formula characters,
unicode, quotes, line breaks, tabs, NULLs, booleans, the line-ending and delimiter choices. A row the
database cannot write exactly makes it give up (nothing of its file is kept) and the rows go row by row."""
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.exporting import services, sqlcsv, sync
from portal.exporting.providers.file import FileProvider
from portal.extensions import db
from portal.models import Department, JournalLine, Payment, PreparedRow, Run

from tests import factories
from tests.factories import execute, files_of, start_and_run

from portal.exporting.formats import get_writer
from portal.exporting.types import get_type
from portal.exporting.types.base import MUTATION_COLUMN

AWKWARD_TEXT = ['=SUM(A1:A2)', '+31 6 1234', '-minus', '@at', '\tTab first', '\rCR first',
                'Jansen "Ø" & Zn, ünïcode 😀', 'two\nlines', 'crlf\r\nline', "it's; a|b", '', ' ',
                'back\\slash \u2028 \x7f', '"quoted"', 'true', 'null', '12.50']


def _awkward_payments(zorg):
    department = Department(company_id=zorg.id, code="=D-01", name="Shop")
    db.session.add(department)
    db.session.flush()
    for i, text in enumerate(AWKWARD_TEXT):
        db.session.add(Payment(
            company_id=zorg.id, department_id=department.id if i % 2 else None, receipt_number=f"R{i:02d}",
            customer_number=text or "C", customer_name=text, payment_type="CARD" if i % 3 else "-CASH",
            amount=[Decimal("12.50"), Decimal("-7.05"), Decimal("0.00"), Decimal("123456789012.34")][i % 4],
            paid_at=datetime(2026, 11, 12, 9, 0, i)))
    db.session.commit()


def _awkward_journals(zorg, line_break="\n"):
    """Journal lines: dates, line numbers, decimals, a boolean column (a JSON boolean in the payload)."""
    factories.journal(zorg, "R-11", date(2026, 11, 1), [
        ("7010", "1234.50", "0", f'=Salaries "Nov"{line_break}second line'),
        ("2910", "0", "1234.50", ""),
        ("4000", "0.10", "0", "ünïcode; a|b"),
        ("4000", "0", "0.10", "+tab\there")])
    db.session.commit()


def _spy(monkeypatch):
    """(These tests are of the export's writer: PostgreSQL's file written while preparing is switched off;
    it has tests of its own, test_written_while_preparing.py.)"""
    from flask import current_app
    monkeypatch.setitem(current_app.config, "EXPORT_FILE_WHILE_PREPARING", False)
    calls = []
    real = FileProvider.write_from_database

    def spy(self, *args, **kwargs):
        calls.append(real(self, *args, **kwargs))
        return calls[-1]
    monkeypatch.setattr(FileProvider, "write_from_database", spy)
    return calls


def _both_ways(monkeypatch, profile, mode="test"):
    """The file written by the database, and the file the row-by-row writer writes of the same rows."""
    calls = _spy(monkeypatch)
    monkeypatch.setattr(sqlcsv, "SQLITE_CHUNK", 5)      # SQLite: several chunks by key
    fast = start_and_run(profile, mode)
    assert fast.status == "exported", fast.error_reason
    assert calls == [True]                       # the database wrote it
    monkeypatch.setattr(FileProvider, "write_from_database", lambda self, *a, **k: False)
    slow = start_and_run(profile, mode)
    fast_file, slow_file = files_of(fast)[0], files_of(slow)[0]
    with open(fast_file.path, "rb") as one, open(slow_file.path, "rb") as other:
        written, expected = one.read(), other.read()
    assert written == expected
    assert fast_file.rows == slow_file.rows and fast_file.sha256 == slow_file.sha256
    return written, fast


@pytest.mark.parametrize("options", [
    {"format": "jsonl"},
    {"format": "jsonl", "columns": ["amount", "customer_name", "paid_at", "receipt_number"]},
    {"format": "csv"},
    {"format": "csv", "delimiter": ";", "encoding": "utf-8-sig", "line_terminator": "\n"},
    {"format": "csv", "delimiter": "|", "quotechar": "'", "skip_headers": True},
])
def test_payments_with_awkward_values_byte_for_byte(ctx, monkeypatch, options):
    zorg, _, _ = factories.companies()
    _awkward_payments(zorg)
    if options["format"] == "csv" and ctx.extensions["sqlalchemy"].engine.dialect.name == "postgresql":
        # COPY ends every line with \n: a value with a line break cannot be written by PostgreSQL exactly.
        for payment in db.session.execute(select(Payment)).scalars():
            payment.customer_name = payment.customer_name.replace("\r", "<CR>").replace("\n", "<LF>")
            payment.customer_number = payment.customer_number.replace("\r", "<CR>").replace("\n", "<LF>")
        db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options=options, sync_type="full")
    written, run = _both_ways(monkeypatch, profile)
    assert run.counts["processed"] == len(AWKWARD_TEXT)
    if options["format"] == "jsonl":
        assert b'"customer_name":"=SUM(A1:A2)"' in written          # JSON is for machines: not neutralised
        assert '"Jansen \\"Ø\\" & Zn, ünïcode 😀"'.encode() in written
        assert b'"two\\nlines"' in written


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_journals_with_nulls_dates_and_booleans_byte_for_byte(ctx, monkeypatch, fmt):
    zorg, _, _ = factories.companies()
    pg = ctx.extensions["sqlalchemy"].engine.dialect.name == "postgresql"
    _awkward_journals(zorg, " " if pg and fmt == "csv" else "\n")      # (COPY: see above)
    profile = services.create_profile(name="Journals", export_type="journal_entries", options={"format": fmt},
                                      sync_type="full")
    written, _ = _both_ways(monkeypatch, profile)
    if fmt == "jsonl":
        assert b'"is_correction":false' in written
        assert b'"line_no":2' in written and b'"journal_period":"2026-11-01"' in written


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_changed_journal_line_gets_its_reversal_first(ctx, monkeypatch, fmt):
    """A type that reverses changes writes the reversal of what was delivered before the new version: a
    line the database cannot make, so such a delivery goes row by row."""
    zorg, _, _ = factories.companies()
    _awkward_journals(zorg)
    profile = services.create_profile(name="Journals", export_type="journal_entries", options={"format": fmt},
                                      sync_type="incremental_all")
    first = start_and_run(profile, "production")
    assert first.status == "exported", first.error_reason
    line = db.session.execute(select(JournalLine).where(JournalLine.line_no == 3)).scalar()
    line.debit = Decimal("0.20")
    other = db.session.execute(select(JournalLine).where(JournalLine.line_no == 4)).scalar()
    other.credit = Decimal("0.20")
    db.session.commit()
    calls = _spy(monkeypatch)
    run = start_and_run(profile, "test")
    assert calls == [False]
    with open(files_of(run)[0].path, encoding="utf-8") as handle:
        text = handle.read()
    assert text.count("reversal") == 2 and text.count("changed") == 2
    assert text.index("reversal") < text.index("changed")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_odd_row_makes_the_database_give_up_and_the_rows_go_row_by_row(ctx, monkeypatch, fmt):
    """A prepared value not in final form (here an amount with more decimals than its two, which the
    writer rounds; fewer the database pads itself) in the middle of the run: the database's attempt
    fails on that row, its half file is dropped, the row-by-row writer writes the file (and converts the
    value)."""
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 40)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": fmt},
                                      sync_type="full")
    run = services.start_run(profile.id, mode="test", operation="prepare", window_start="2026-11-01",
                             window_end="2026-11-30")
    execute(run)
    row = db.session.execute(select(PreparedRow).where(PreparedRow.run_id == run.id, PreparedRow.seq == 30)).scalar()
    row.payload = dict(row.payload, amount="41.505")
    db.session.commit()
    failed = []
    real = sqlcsv.write

    def spy(*args, **kwargs):
        try:
            return real(*args, **kwargs)
        except sqlcsv.OddRow:
            failed.append(True)
            raise
    monkeypatch.setattr(sqlcsv, "write", spy)
    monkeypatch.setattr(sqlcsv, "SQLITE_CHUNK", 7)      # SQLite: chunks written before the odd row's
    services.request_export(run.id)
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "exported", run.error_reason
    assert failed == [True]
    files = files_of(run)
    assert len(files) == 1 and files[0].rows == 40
    with open(files[0].path, encoding="utf-8") as handle:
        text = handle.read()
    assert ("41.51" in text) and ("41.505" not in text)
    leftovers = [p.name for p in __import__("pathlib").Path(files[0].path).parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    assert run.counts["processed"] == 40


def _written_row_by_row(run, path, export_pass=1):
    """The file the row-by-row writer writes of the rows an export pass delivered, in delivery order."""
    profile = run.profile
    columns = [MUTATION_COLUMN] + get_type(profile.export_type).output_columns(profile.options.get("columns"))
    rows = db.session.execute(select(PreparedRow.mutation, PreparedRow.payload).where(
        PreparedRow.run_id == run.id, PreparedRow.export_pass == export_pass)
        .order_by(PreparedRow.group_key, PreparedRow.seq)).all()
    writer = get_writer(profile.options["format"])(path, columns, profile.options)
    writer.write_rows([dict(payload, mutation=mutation) for mutation, payload in rows])
    with open(writer.close().path, "rb") as handle:
        return handle.read()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_null_values_in_prepared_rows(ctx, monkeypatch, tmp_path, fmt):
    """JSON nulls (a value a payload builder may leave out) in text, decimal and datetime columns."""
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 6)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": fmt},
                                      sync_type="full")
    run = services.start_run(profile.id, mode="test", operation="prepare", window_start="2026-11-01",
                             window_end="2026-11-30")
    execute(run)
    for row in db.session.execute(select(PreparedRow).where(PreparedRow.run_id == run.id)).scalars():
        if row.seq % 2:
            row.payload = dict(row.payload, customer_name=None, amount=None, paid_at=None, department=None)
    db.session.commit()
    calls = _spy(monkeypatch)
    services.request_export(run.id)
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "exported" and calls == [True]
    with open(files_of(run)[0].path, "rb") as handle:
        written = handle.read()
    assert written == _written_row_by_row(run, tmp_path / f"expected.{fmt}")
    if fmt == "jsonl":
        assert written.count(b'"customer_name":null,"payment_type":"CARD","amount":null') == 3


def _count_streams(monkeypatch):
    from portal.exporting import engine
    opened = []
    real = engine._delivery_stream

    def counted(*args, **kwargs):
        opened.append(True)
        return real(*args, **kwargs)
    monkeypatch.setattr(engine, "_delivery_stream", counted)
    return opened


def _sheet(path):
    import openpyxl
    book = openpyxl.load_workbook(path)
    return [[(cell.value, cell.number_format, cell.data_type) for cell in row]
            for sheet in book.worksheets for row in sheet.iter_rows()]


def test_xlsx_is_written_from_one_streaming_query(ctx, monkeypatch, tmp_path):
    """XLSX keeps its writer; its rows come from one streaming query (in batches): the workbook holds what
    the writer makes of the prepared rows in delivery order, cell for cell (type and number format)."""
    zorg, _, _ = factories.companies()
    _awkward_payments(zorg)
    monkeypatch.setattr(FileProvider, "batch_size", 4)      # several batches of the one query
    streams = _count_streams(monkeypatch)
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "xlsx"},
                                      sync_type="full")
    run = start_and_run(profile, "test")
    assert run.status == "exported", run.error_reason
    written = _sheet(files_of(run)[0].path)
    expected_path = tmp_path / "expected.xlsx"
    _written_row_by_row(run, expected_path)
    assert written == _sheet(expected_path)
    assert streams == [True]
    assert len(written) == len(AWKWARD_TEXT) + 1
    assert ("=SUM(A1:A2)", "General", "s") in [cell for row in written for cell in row]     # a text cell
    assert run.counts["processed"] == len(AWKWARD_TEXT)


def test_sie4_is_written_from_one_streaming_query(ctx, monkeypatch, tmp_path):
    """SIE 4 keeps its writer (one file per company); its rows come from one streaming query: the file is
    byte for byte what the writer makes of the prepared rows in delivery order."""
    zorg, _, _ = factories.companies()
    _awkward_journals(zorg)
    factories.journal(zorg, "R-12", date(2026, 12, 1), [("7010", "10.00", "0", "Later"),
                                                        ("2910", "0", "10.00", "Later")],
                      about=date(2026, 11, 1))
    db.session.commit()
    monkeypatch.setattr(FileProvider, "batch_size", 2)
    streams = _count_streams(monkeypatch)
    options = {"format": "sie4", "sie_generated_on": "2026-11-26"}
    profile = services.create_profile(name="Journals", export_type="journal_entries", options=options,
                                      sync_type="full")
    run = start_and_run(profile, "test", window_start="2026-11-01", window_end="2026-12-31")
    assert run.status == "exported", run.error_reason
    files = files_of(run)
    assert len(files) == 1 and files[0].rows == 6
    with open(files[0].path, "rb") as handle:
        written = handle.read()
    assert written == _written_row_by_row(run, tmp_path / "expected.si")
    assert streams == [True]
    assert b"#VER" in written and written.count(b"#TRANS") == 6


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
def test_other_connections_can_write_while_a_file_is_written(ctx, monkeypatch, fmt):
    """Between two chunks (SQLite) or batches no read is left open on the database: another connection —
    the heartbeat's thread, the reconciler of another worker — can write meanwhile (SQLite without WAL
    would otherwise answer 'database is locked')."""
    from sqlalchemy import text
    from portal.exporting import engine
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 30)
    db.session.commit()
    monkeypatch.setattr(sqlcsv, "SQLITE_CHUNK", 7)
    monkeypatch.setattr(FileProvider, "batch_size", 7)
    monkeypatch.setitem(ctx.config, "EXPORT_FILE_WHILE_PREPARING", False)    # (the export's writer here)
    beats = []
    real = engine.Progress.advance

    def advance(self, done):
        real(self, done)
        if self.run.phase == "exporting" and done:
            with db.engine.connect() as other:
                other.exec_driver_sql("PRAGMA busy_timeout = 100") if other.dialect.name == "sqlite" else None
                other.execute(text("UPDATE runs SET heartbeat_at = heartbeat_at WHERE id = :id"), {"id": self.run.id})
                other.commit()
            beats.append(done)
    monkeypatch.setattr(engine.Progress, "advance", advance)
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": fmt},
                                      sync_type="full")
    run = start_and_run(profile, "test")
    assert run.status == "exported", run.error_reason
    assert len(beats) >= (4 if ctx.extensions["sqlalchemy"].engine.dialect.name == "sqlite" or fmt == "xlsx" else 1)
    assert files_of(run)[0].rows == 30


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_database_write_interrupted_leaves_no_half_file_and_the_retry_writes_it_once(ctx, monkeypatch, fmt):
    """The database wrote every row, then the attempt fails (a time-out, as a dying worker's would end):
    no half file stays in storage, nothing is processed or in the ledger, and the retry writes the file
    once — the same bytes as an uninterrupted run."""
    from pathlib import Path
    from portal.exporting.errors import TransientError
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 30)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": fmt},
                                      sync_type="incremental_all")
    reference = files_of(start_and_run(profile, "test"))[0]
    monkeypatch.setattr(sqlcsv, "SQLITE_CHUNK", 7)
    real, calls = sqlcsv.write, []

    def interrupted(*args, **kwargs):
        count = real(*args, **kwargs)
        calls.append(count)
        if len(calls) == 1:
            raise TransientError("interrupted after the database wrote the rows")
        return count
    monkeypatch.setattr(sqlcsv, "write", interrupted)
    run = services.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
    assert execute(run) == "retrying"
    directory = Path(ctx.config["PORTAL_STORAGE_DIR"]) / str(run.id)
    assert not directory.exists() or list(directory.iterdir()) == []
    assert files_of(db.session.get(Run, run.id)) == []
    assert sync.current_ledger(profile.id) == {}
    assert execute(run) == "exported"
    run = db.session.get(Run, run.id)
    assert calls == [30, 30]
    files = files_of(run)
    assert len(files) == 1 and files[0].rows == 30 and files[0].sha256 == reference.sha256
    assert sorted(p.name for p in directory.iterdir()) == [files[0].name]
    assert run.counts["processed"] == 30 and len(sync.current_ledger(profile.id)) == 30


QUANTITIES = ["1", "1.5", "1.2345", "-2", "0.0001", "12345.6789", "-0.25"]


def _invoices_with_quantities(zorg):
    debtor_list = factories.debtors(zorg, 2)
    lines = factories.invoice_lines(zorg, debtor_list, len(QUANTITIES))
    for line, quantity in zip(lines, QUANTITIES):
        line.quantity = Decimal(quantity)
    db.session.commit()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_invoice_quantities_keep_their_four_decimals_written_by_the_database(ctx, monkeypatch, fmt):
    """A quantity has up to four decimals (the import takes them): every file writes all four — never
    1.23 for 1.2345 — and the database writes the quantities the payload holds without trailing zeros
    (``1``, ``1.5``) itself, exactly as the row-by-row writer pads them."""
    zorg, _, _ = factories.companies()
    _invoices_with_quantities(zorg)
    profile = services.create_profile(name="Invoices", export_type="invoices", options={"format": fmt},
                                      sync_type="full")
    written, run = _both_ways(monkeypatch, profile)
    assert run.counts["processed"] == len(QUANTITIES)
    if fmt == "jsonl":
        quantities = [line.split(b'"quantity":')[1].split(b",")[0] for line in written.splitlines()]
    else:
        header, *lines = written.decode().splitlines()
        position = header.split(",").index("Quantity")
        quantities = [line.split(",")[position].encode() for line in lines]
    assert sorted(quantities) == sorted([b"1.0000", b"1.5000", b"1.2345", b"-2.0000", b"0.0001",
                                         b"12345.6789", b"-0.2500"])


def test_purchase_order_quantities_keep_their_four_decimals(ctx, monkeypatch):
    zorg, _, _ = factories.companies()
    lines = factories.purchase_orders(zorg, 2)
    lines[0].quantity, lines[1].quantity = Decimal("2.5"), Decimal("0.3333")
    db.session.commit()
    profile = services.create_profile(name="Orders", export_type="purchase_orders", options={"format": "csv"},
                                      sync_type="full")
    written, _ = _both_ways(monkeypatch, profile)
    assert b",2.5000,3.20" in written and b",0.3333,3.20" in written


def test_invoice_quantities_in_xlsx_have_four_decimals(ctx, tmp_path):
    zorg, _, _ = factories.companies()
    _invoices_with_quantities(zorg)
    profile = services.create_profile(name="Invoices", export_type="invoices", options={"format": "xlsx"},
                                      sync_type="full")
    run = start_and_run(profile, "test")
    assert run.status == "exported", run.error_reason
    header, *rows = _sheet(files_of(run)[0].path)
    position = [value for value, _, _ in header].index("Quantity")
    cells = [row[position] for row in rows]
    assert sorted(Decimal(str(value)) for value, _, _ in cells) == sorted(Decimal(q) for q in QUANTITIES)
    assert {number_format for _, number_format, _ in cells} == {"0.0000"}
    unit_price = [value for value, _, _ in header].index("Unit price")
    assert {row[unit_price][1] for row in rows} == {"0.00"}
