"""Process / Process all, retries with back-off, progress, the provider registry, the worker-start hook."""
from datetime import datetime, timezone

import pytest
from rq.registry import ScheduledJobRegistry

from portal.exporting import queries, services, sync
from portal.exporting.errors import ExportError, TransientError
from portal.exporting.providers import PROVIDERS, register
from portal.exporting.providers.base import Provider, RowResult
from portal.exporting.providers.file import FileProvider
from portal.exporting.report import report
from portal.extensions import db
from portal.models import Run
from portal.models.exporting import PreparedRow
from portal.queue import queue

from tests import factories
from tests.factories import execute, rows_of


def _profiles():
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 3)
    factories.products(zorg, 2, at=datetime(2026, 10, 15, 9, 0))
    db.session.commit()
    payments = services.create_profile(name="Payments", export_type="payments", options={"format": "jsonl"},
                                       sync_type="incremental_all", default_window="current_month")
    products = services.create_profile(name="Products", export_type="products", options={"format": "jsonl"},
                                       sync_type="incremental_all", default_window="previous_month")
    return payments, products


def test_process_all_prepare_then_export_then_roll_back(ctx):
    payments, products = _profiles()
    results = services.process([payments.id, products.id], "prepare")
    assert [error for _, _, error in results] == [None, None]
    runs = [run for _, run, _ in results]
    assert all(r.mode == "production" and r.operation == "prepare" for r in runs)
    for run in runs:
        execute(run)
    assert [db.session.get(Run, r.id).status for r in runs] == ["prepared", "prepared"]

    results = services.process([payments.id, products.id], "export", skip_headers=True)
    for _, run, error in results:
        assert error is None
        execute(run)
    runs = [db.session.get(Run, r.id) for r in runs]
    assert [r.status for r in runs] == ["exported", "exported"]
    assert len(rows_of(runs[0])) == 3 and len(rows_of(runs[1])) == 2
    assert runs[0].params["skip_headers"] is True

    # Nothing is prepared any more: export is refused per profile, without stopping the others.
    results = services.process([payments.id, products.id], "export")
    assert [e.code for _, _, e in results] == ["nothing_prepared", "nothing_prepared"]

    results = services.process([payments.id], "roll_back")
    assert results[0][1].status == "rolled_back"
    assert sync.current_ledger(payments.id) == {}
    assert len(sync.current_ledger(products.id)) == 2


def test_process_refuses_an_unknown_operation(ctx):
    payments, _ = _profiles()
    with pytest.raises(ExportError):
        services.process([payments.id], "delete_everything")


_calls = {"n": 0}


class FlakyFileProvider(FileProvider):
    """A file provider whose first delivery times out (a provider registered in one module, as
    ``visma_net`` will be)."""
    key = "flaky_file"

    def write_from_database(self, *args, **kwargs):
        return False        # row by row: the time-out is in ``deliver``

    def deliver(self, batch):
        _calls["n"] += 1
        if _calls["n"] == 1:
            raise TransientError("the provider timed out")
        return super().deliver(batch)


@pytest.fixture
def flaky_provider():
    register(FlakyFileProvider)
    _calls["n"] = 0
    yield FlakyFileProvider
    PROVIDERS.unregister(FlakyFileProvider.key)


def test_transient_errors_are_retried_with_back_off(ctx, flaky_provider):
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 3)
    db.session.commit()
    profile = services.create_profile(name="Flaky", export_type="payments", provider="flaky_file",
                                      options={"format": "jsonl"})
    run = services.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
    before = datetime.now(timezone.utc)
    assert execute(run) == "retrying"
    run = db.session.get(Run, run.id)
    assert run.status == "queued" and run.attempts == 1
    # The provider's technical text is for the log; the run says what happened in words.
    assert run.error_reason == f"A temporary error occurred; the portal's log has the details (export {run.id})."
    registry = ScheduledJobRegistry(queue=queue("exports"))
    at = registry.get_scheduled_time(run.job_id)
    assert 4 <= (at - before).total_seconds() <= 10          # the first back-off: 5 seconds
    assert [(i["code"], i["message"]) for i in report(run.id)["items"]] == [
        ("temporary_error", f"A temporary error occurred; the portal's log has the details (export {run.id}). "
                            "Attempt 2 of 3 follows.")]
    assert execute(run) == "exported"                        # what the scheduler does at that time
    run = db.session.get(Run, run.id)
    assert run.status == "exported" and run.attempts == 2
    assert len(sync.current_ledger(profile.id)) == 3


def test_a_failing_run_is_failed_visibly_with_its_reason(ctx):
    """An SIE voucher must balance: a run whose prepared journal no longer balances when it is written
    fails, with the file format's own explanation, and records nothing. (A journal with an invalid or
    unticked line is held back whole — ``test_whole_journals.py`` —, so the prepared data is changed
    behind the portal's back here.)"""
    from portal.exporting.jobs import execute_run
    from portal.models import JournalLine, LedgerEntry
    zorg, _, _ = factories.companies()
    lines = factories.journal(zorg, "PR-1", factories.NOVEMBER[0], [("4000", "10.00", "0", "a"),
                                                                ("2910", "0", "10.00", "b")])
    db.session.commit()
    profile = services.create_profile(name="SIE", export_type="journal_entries", options={"format": "sie4"},
                                      sync_type="incremental_all", company_id=zorg.id)
    window = dict(window_start="2026-11-01", window_end="2026-11-30")
    first = services.start_run(profile.id, mode="production", **window)
    execute(first)
    assert db.session.get(Run, first.id).status == "exported"
    # Lines 3 and 4 keep the journal balanced; line 4's prepared credit changed afterwards does not.
    db.session.add_all([JournalLine(company_id=zorg.id, payroll_run_ref="PR-1", run_period=factories.NOVEMBER[0],
                                    about_period=factories.NOVEMBER[0], line_no=n, account=account, debit=debit,
                                    credit=credit, description="c")
                        for n, account, debit, credit in ((3, "4000", 3, 0), (4, "2910", 0, 3))])
    db.session.commit()
    second = services.start_run(profile.id, mode="production", operation="prepare", **window)
    execute(second)
    [fourth] = [r for r in queries.prepared_rows(second.id, per_page=100).items if r.record_key == "PR-1/4"]
    fourth = db.session.get(PreparedRow, fourth.id)
    fourth.payload = dict(fourth.payload, credit="2.00")
    db.session.commit()
    services.request_export(second.id)
    with pytest.raises(Exception) as failure:
        execute_run(second.id)
    db.session.expire_all()
    second = db.session.get(Run, second.id)
    assert second.status == "failed"
    assert "does not balance" in second.error_reason, second.error_reason
    assert type(failure.value).__name__ == "FormatError"
    assert [i["code"] for i in report(second.id)["items"]] == ["run_failed"]
    assert db.session.query(LedgerEntry).filter_by(run_id=second.id).count() == 0
    assert queries.run_files(second.id) == []
    # Its "Prepared" line stays (it was prepared); no export line: the history holds what the ledger does.
    assert [(h.run_id, h.status) for h in queries.mapping_history(profile.id)] == [
        (second.id, "prepared"), (first.id, "exported")]


def test_progress_and_estimate(ctx):
    payments, _ = _profiles()
    run = services.start_run(payments.id, mode="test", window_start="2026-11-01", window_end="2026-11-30")
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.progress_at is not None and run.done == 3
    run.status, run.phase, run.total, run.done = "exporting", "exporting", 100, 25
    run.phase_started_at = datetime(2026, 11, 21, 12, 0, 0)
    run.progress_at = datetime(2026, 11, 21, 12, 0, 10)
    estimate = queries.progress(run)
    assert estimate["seconds_left"] == pytest.approx(30)
    db.session.rollback()


def test_every_workers_maintenance_timer_runs_the_reconciler(ctx):
    """The reconciler is a periodic task of the worker's own timer, not a Redis job that must survive."""
    from portal import maintenance
    assert "export-reconciler" in [t.name for t in maintenance.tasks()]
    payments, _ = _profiles()
    run = services.start_run(payments.id, mode="test")
    from portal.queue import redis_connection
    redis_connection().flushdb()
    outcomes = maintenance.run_due(ctx, owner="worker-a", only={"export-reconciler"})
    assert outcomes["export-reconciler"]["enqueued"] == [run.id]
    db.session.expire_all()
    run = db.session.get(Run, run.id)
    assert run.job_id in queue("exports").job_ids
    # Another worker in the same interval: its turn is taken.
    assert maintenance.run_due(ctx, owner="worker-b", only={"export-reconciler"}) == {"export-reconciler": "locked"}


class RejectingProvider(Provider):
    """A provider that answers per row, like an API: it rejects one customer's payments with its own
    message, cannot deliver removals, and keeps what it accepted (``received``)."""
    key = "rejecting"
    per_row_results = True
    supports_removals = False
    batch_size = 1
    rejected_customer = "C2"
    received = []

    def deliver(self, batch):
        results = []
        for row in batch:
            if row.payload["customer_number"] == self.rejected_customer:
                results.append(RowResult(row.row_id, False, "Customer 'C2' is inactive. (ExceptionMessage)"))
            else:
                RejectingProvider.received.append((row.reference, row.payload["amount"]))
                results.append(RowResult(row.row_id, True))
        return results


@pytest.fixture
def rejecting_provider():
    register(RejectingProvider)
    RejectingProvider.received = []
    RejectingProvider.rejected_customer = "C2"
    yield RejectingProvider
    PROVIDERS.unregister(RejectingProvider.key)


def test_per_row_provider_stop_on_error_message_verbatim_and_resume(ctx, rejecting_provider):
    from decimal import Decimal
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 5)                       # customers C0..C4; C2's payment is the third
    db.session.commit()
    profile = services.create_profile(name="API payments", export_type="payments", provider="rejecting",
                                      options={}, sync_type="incremental_all")
    run = services.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
    execute(run)
    run = db.session.get(Run, run.id)
    # Payments stop on the first rejected record: the two after it wait.
    assert run.status == "partially_processed"
    assert run.counts["stopped_on_error"] is True
    assert [ref for ref, _ in RejectingProvider.received] == [f"{run.id}:R000000", f"{run.id}:R000001"]
    assert isinstance(RejectingProvider.received[0][1], Decimal)          # typed values for an API
    item = report(run.id)["items"][0]
    assert item["code"] == "provider_rejected"
    assert item["provider_message"] == "Customer 'C2' is inactive. (ExceptionMessage)"
    rejected = [r for r in queries.prepared_rows(run.id).items if r.error]
    assert [r.record_key for r in rejected] == ["R000002"]
    assert rejected[0].error == "Customer 'C2' is inactive. (ExceptionMessage)"
    assert sorted(sync.current_ledger(profile.id)) == ["R000000", "R000001"]

    # Someone resolves it; exporting again delivers only what is left.
    RejectingProvider.rejected_customer = None
    services.request_export(run.id)
    execute(run)
    run = db.session.get(Run, run.id)
    assert run.status == "exported"
    assert [ref.split(":")[1] for ref, _ in RejectingProvider.received] == [
        "R000000", "R000001", "R000002", "R000003", "R000004"]
    assert len(sync.current_ledger(profile.id)) == 5
    assert [h.record_count for h in queries.mapping_history(profile.id)] == [3, 2]

    # A removal cannot be delivered by this provider: left out, and said so.
    db.session.execute(db.text("DELETE FROM payments WHERE receipt_number = 'R000004'"))
    db.session.commit()
    second = services.start_run(profile.id, mode="production", window_start="2026-11-01",
                                window_end="2026-11-30")
    execute(second)
    second = db.session.get(Run, second.id)
    assert second.status == "exported"
    items = report(second.id)["items"]
    assert [i["code"] for i in items] == ["removals_left_out"]
    assert "1" in items[0]["message"]


def test_rolling_back_a_failed_run_only_removes_its_prepared_data(ctx):
    payments, _ = _profiles()
    first = services.start_run(payments.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
    execute(first)
    failed = services.start_run(payments.id, mode="production", window_start="2026-11-01",
                                window_end="2026-11-30")
    from portal.exporting.jobs import fail_run
    db.session.execute(db.text("UPDATE runs SET status = 'preparing' WHERE id = :id"), {"id": failed.id})
    db.session.commit()
    assert fail_run(failed.id, "test")
    third = services.start_run(payments.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
    execute(third)
    services.roll_back(failed.id)                 # recorded nothing: allowed although a later run exists
    assert db.session.get(Run, failed.id).status == "rolled_back"
    assert len(sync.current_ledger(payments.id)) == 3


def test_retries_end_in_a_visible_failure(ctx, flaky_provider, caplog):
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 2)
    db.session.commit()
    profile = services.create_profile(name="Always late", export_type="payments", provider="flaky_file",
                                      options={"format": "jsonl"})
    run = services.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
    outcomes = []
    for _ in range(2):                       # PORTAL_RUN_ATTEMPTS: 3 attempts in all
        _calls["n"] = 0                      # every attempt times out
        outcomes.append(execute(run))
    assert outcomes == ["retrying", "retrying"]
    _calls["n"] = 0
    with pytest.raises(TransientError):      # the last one fails the RQ job as well
        execute(run)
    db.session.expire_all()
    run = db.session.get(Run, run.id)
    assert run.status == "failed" and run.attempts == 3
    assert [a.outcome for a in run.attempt_history] == ["temporary_error", "temporary_error", "failed"]
    # Words, not the exception: what happened and that it was tried three times; the details in the log.
    assert run.error_reason == (f"A temporary error occurred; the portal's log has the details (export {run.id}). "
                                "The export was tried 3 times and has stopped: start it again later. If it keeps "
                                "failing, tell your administrator.")
    assert "TransientError" not in run.error_reason and "timed out" not in run.error_reason
    assert "TransientError: the provider timed out" in caplog.text
    assert [i["code"] for i in report(run.id)["items"]][-1] == "temporary_error_failed"
    assert sync.current_ledger(profile.id) == {}


class LockedFileProvider(FileProvider):
    """A file provider whose every delivery meets a locked database (a temporary error of the database)."""
    key = "locked_file"

    def write_from_database(self, *args, **kwargs):
        return False

    def deliver(self, batch):
        from sqlalchemy.exc import OperationalError
        raise OperationalError("UPDATE prepared_rows SET …", {"secret": "a row's data"},
                               Exception("database is locked"))


def test_a_locked_database_that_stays_locked_fails_the_run_in_the_starters_words(ctx, caplog):
    """A temporary error of the database, retried until the attempts ran out: the run, its attempts and its
    report say so in the starter's language — not ``OperationalError: database is locked``, which goes to
    the log (without the statement's parameters)."""
    from sqlalchemy.exc import OperationalError
    register(LockedFileProvider)
    try:
        zorg, _, _ = factories.companies()
        factories.payments(zorg, 2)
        db.session.commit()
        profile = services.create_profile(name="Locked", export_type="payments", provider="locked_file",
                                          options={"format": "jsonl"})
        run = services.start_run(profile.id, mode="production", window_start="2026-11-01",
                                 window_end="2026-11-30", locale="nl")
        assert execute(run) == "retrying"
        # The report says it in its reader's language (the report starts afresh with each attempt).
        assert [i["message"] for i in report(run.id, locale="sv")["items"]] == [
            "Databasen var upptagen eller kunde inte nås. Försök 2 av 3 följer."]
        assert execute(run) == "retrying"
        with pytest.raises(OperationalError):
            execute(run)
    finally:
        PROVIDERS.unregister(LockedFileProvider.key)
    db.session.expire_all()
    run = db.session.get(Run, run.id)
    assert run.status == "failed"
    assert run.error_reason == ("De database was bezet of niet bereikbaar. De export is 3 keer geprobeerd en is "
                                "gestopt: start hem later opnieuw. Meld het aan uw beheerder als het blijft mislukken.")
    assert [a.reason for a in run.attempt_history][:2] == ["De database was bezet of niet bereikbaar."] * 2
    assert [i["message"] for i in report(run.id, locale="sv")["items"]] == [
        "Exporten misslyckades: Databasen var upptagen eller kunde inte nås. Exporten försöktes 3 gånger och har "
        "stoppats: starta den igen senare. Kontakta din administratör om det fortsätter att misslyckas."]
    assert "locked" not in run.error_reason
    assert "OperationalError: database is locked" in caplog.text and "a row's data" not in caplog.text
