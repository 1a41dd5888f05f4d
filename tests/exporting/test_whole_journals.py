"""A journal is delivered whole or not at all (DESIGN §4: one journal per company and period, which
balances): a journal with an invalid line is held back whole, with a report item on each other line
naming the line that holds it back; a journal with an unticked line waits, whole, for the next export.
Files (every format) here; Visma.net in ``visma_net/test_production.py``."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.exporting import queries, services, sync
from portal.exporting.formats.sie4 import read_sie4
from portal.exporting.report import report
from portal.exporting.types import get_type
from portal.extensions import db
from portal.models import JournalLine, Run
from portal.models.exporting import PreparedRow

from tests import factories
from tests.factories import execute, files_of, rows_of, start_and_run


def _journals(invalid_line=True):
    """ZORG's November journal (3 lines; with ``invalid_line`` line 2 lacks its account: invalid by rule) and
    THUIS's (valid)."""
    zorg, thuis, _ = factories.companies()
    lines = factories.whole_journals(zorg, thuis, invalid_line=invalid_line)
    db.session.commit()
    return lines


def _delivered(run):
    return db.session.execute(select(PreparedRow).where(
        PreparedRow.run_id == run.id, PreparedRow.processed.is_(True)).order_by(PreparedRow.seq)).scalars().all()


def _held_back(run):
    return sorted((i["record_key"], i["params"]) for i in report(run.id)["items"] if i["code"] == "journal_held_back")


HELD = [("PR-2026-11/1", {"record": "PR-2026-11/1", "line": "PR-2026-11/2"}),
        ("PR-2026-11/3", {"record": "PR-2026-11/3", "line": "PR-2026-11/2"})]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx", "sie4"])
def test_a_journal_with_an_invalid_line_is_held_back_whole(ctx, fmt):
    _journals()
    profile = services.create_profile(name="Journals", export_type="journal_entries", options={"format": fmt},
                                      sync_type="full")
    run = start_and_run(profile, "test")
    # Held back by rule: reported errors, not rows left (the run is exported, not partially processed).
    assert run.status == "exported", (run.status, run.error_reason)
    delivered = _delivered(run)
    assert {r.payload["company_code"] for r in delivered} == {"THUIS"}
    assert sum(Decimal(r.payload["debit"]) for r in delivered) == sum(Decimal(r.payload["credit"]) for r in delivered)
    assert _held_back(run) == HELD
    rows = {r.record_key: r for r in db.session.execute(select(PreparedRow).where(
        PreparedRow.run_id == run.id)).scalars()}
    assert all(rows[key].invalid for key in ("PR-2026-11/1", "PR-2026-11/2", "PR-2026-11/3"))
    assert "PR-2026-11/2" in rows["PR-2026-11/3"].error       # the Error column says which line holds it
    assert run.counts["invalid"] == 3 and run.counts["errors"] == 3, run.counts
    if fmt == "sie4":
        (document,) = [read_sie4(f.path) for f in files_of(run)]
        assert len(document.vouchers) == 1
    if fmt == "jsonl":
        assert [r["company_code"] for r in rows_of(run)] == ["THUIS", "THUIS"]


def test_the_held_back_message_in_every_language(ctx):
    _journals()
    profile = services.create_profile(name="Journals", export_type="journal_entries", options={"format": "jsonl"})
    run = start_and_run(profile, "test")
    words = {locale: [i["message"] for i in report(run.id, locale=locale)["items"]
                      if i["code"] == "journal_held_back"][0] for locale in ("en", "nl", "sv", "da")}
    assert words["en"] == ("Journal line PR-2026-11/1 is held back: line PR-2026-11/2 of the same journal is "
                           "invalid, and a journal is exported whole or not at all.")
    assert len(set(words.values())) == 4 and all("PR-2026-11/2" in text for text in words.values()), words


def test_row_by_row_holds_the_journal_back_too(ctx, monkeypatch):
    """The row-by-row engine (a type without ``sql_source``) holds back the same journal."""
    monkeypatch.setattr(type(get_type("journal_entries")), "sql_source", lambda self, ctx, dialect: None)
    _journals()
    profile = services.create_profile(name="Journals", export_type="journal_entries", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    run = start_and_run(profile, "production")
    assert run.status == "exported" and [r["company_code"] for r in rows_of(run)] == ["THUIS", "THUIS"]
    assert _held_back(run) == HELD
    assert set(sync.current_ledger(profile.id)) == {"PR-T-2026-11/1", "PR-T-2026-11/2"}


def test_once_the_line_is_fixed_the_whole_journal_goes(ctx):
    """Production, incremental: the held-back journal is not in the ledger; once the source has the line's
    account, the next run delivers the whole journal, balanced."""
    lines = _journals()
    profile = services.create_profile(name="Journals", export_type="journal_entries", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    first = start_and_run(profile, "production")
    assert set(sync.current_ledger(profile.id)) == {"PR-T-2026-11/1", "PR-T-2026-11/2"}
    assert first.counts["invalid"] == 3
    db.session.get(JournalLine, lines[1].id).account = "4100"
    db.session.commit()
    second = start_and_run(profile, "production")
    delivered = rows_of(second)
    assert [(r["line_no"], r["mutation"]) for r in delivered] == [(1, "new"), (2, "new"), (3, "new")]
    assert sum(r["debit"] for r in delivered) == sum(r["credit"] for r in delivered) == 1800
    assert _held_back(second) == []


def test_a_changed_journal_with_an_invalid_line_is_not_half_corrected(ctx):
    """Delivered, then two lines change together (the journal still balances) and one of them loses its
    account: the other's reversal and new version are held back with it — else the books lose balance."""
    lines = _journals(invalid_line=False)
    profile = services.create_profile(name="Journals", export_type="journal_entries", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    start_and_run(profile, "production")
    lines = [db.session.get(JournalLine, line.id) for line in lines]
    lines[1].debit, lines[1].account = Decimal("400.00"), ""
    lines[2].credit = Decimal("1900.00")
    db.session.commit()
    run = start_and_run(profile, "production")
    assert rows_of(run) == []
    assert _held_back(run) == [("PR-2026-11/3", {"record": "PR-2026-11/3", "line": "PR-2026-11/2"})]


def test_an_unticked_line_holds_its_journal_until_it_is_ticked(ctx):
    """Prepare / Export: a journal line unticked (Active off) keeps its whole journal back — the run is
    Partially processed, its report says why; ticking it and exporting again delivers the whole journal."""
    _journals(invalid_line=False)
    profile = services.create_profile(name="Journals", export_type="journal_entries", options={"format": "jsonl"},
                                      sync_type="incremental_all")
    run = services.start_run(profile.id, mode="production", operation="prepare", window_start="2026-11-01",
                             window_end="2026-11-30")
    execute(run)
    rows = {r.record_key: r for r in db.session.execute(select(PreparedRow).where(
        PreparedRow.run_id == run.id)).scalars()}
    services.set_row_active(run.id, rows["PR-2026-11/2"].id, False)
    services.request_export(run.id)
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "partially_processed" and run.counts["left"] == 3, run.counts
    assert [r.record_key for r in _delivered(run)] == ["PR-T-2026-11/1", "PR-T-2026-11/2"]
    waiting = [i for i in report(run.id)["items"] if i["code"] == "journal_held_back_unticked"]
    assert [(i["severity"], i["params"]) for i in waiting] == [("info", {"line": "PR-2026-11/2"})]
    services.set_row_active(run.id, rows["PR-2026-11/2"].id, True)
    services.request_export(run.id)
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "exported"
    assert [r.record_key for r in _delivered(run) if r.export_pass == 2] == [
        "PR-2026-11/1", "PR-2026-11/2", "PR-2026-11/3"]
    assert len(sync.current_ledger(profile.id)) == 5
    assert sorted(h.record_count for h in queries.mapping_history(profile.id)) == [2, 3, 5]
