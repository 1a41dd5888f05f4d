"""A run's rows are delivered in one order, each exactly once — also when two rows share their ``seq``.

Prepare numbers a run's rows chunk by chunk of source ids, each chunk from where the previous one should
have ended; a source row that enters the window while the run prepares (a payment booked meanwhile, a date
corrected into the month) makes its chunk one row longer, and that row then shares its ``seq`` with the next
chunk's first. The rows are read in pages by key: a key of (group, seq) alone skipped the second of two
such rows whenever a page ended on the first, so the file, or Visma.net, missed a record the run counted
as processed. The key is (group, seq, id) now (``models.exporting.DELIVERY_ORDER``)."""
import re

import pytest
from sqlalchemy import select

from portal.exporting import services, sqlcsv
from portal.exporting.providers.file import FileProvider
from portal.extensions import db
from portal.models import PreparedRow, Run

from tests import factories
from tests.factories import execute, files_of

PAYMENTS = 12
WINDOW = {"window_start": "2026-11-01", "window_end": "2026-11-30"}


def twin_seqs(run):
    """Every two rows share their ``seq`` (1, 1, 2, 2, …), as rows that entered the window do."""
    for row in db.session.execute(select(PreparedRow).where(PreparedRow.run_id == run.id)).scalars():
        row.seq = (row.seq + 1) // 2
    db.session.commit()


def _prepared(profile, mode="test"):
    run = services.start_run(profile.id, mode=mode, operation="prepare", **WINDOW)
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "prepared", run.error_reason
    twin_seqs(run)
    return run


def _exported(run):
    services.request_export(run.id)
    execute(run)
    return db.session.get(Run, run.id)


def _receipts(path, fmt):
    """The receipt numbers in the file, in file order."""
    if fmt == "xlsx":
        import openpyxl
        sheet = openpyxl.load_workbook(path, read_only=True).active
        text = "\n".join(str(cell) for line in sheet.iter_rows(values_only=True) for cell in line)
    else:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    return re.findall(r"\bR\d{6}\b", text)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
def test_rows_sharing_a_seq_are_each_written_once(ctx, monkeypatch, fmt):
    zorg, _, _ = factories.companies()
    factories.payments(zorg, PAYMENTS)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": fmt},
                                      sync_type="full")
    run = _prepared(profile)
    # Pages of three rows: pages end between twins (SQLite's writer pages by key; PostgreSQL streams).
    monkeypatch.setattr(sqlcsv, "SQLITE_CHUNK", 3)
    monkeypatch.setattr(FileProvider, "batch_size", 3)
    run = _exported(run)
    assert run.status == "exported", run.error_reason
    written = _receipts(files_of(run)[0].path, fmt)
    assert sorted(written) == [f"R{i:06d}" for i in range(PAYMENTS)]
    assert run.counts["processed"] == PAYMENTS
