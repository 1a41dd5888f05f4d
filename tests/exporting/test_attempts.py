"""A run's attempts (portal.exporting.attempts), in one process on SQLite and PostgreSQL: the reconciler
gives up an attempt whose heartbeat stopped, removes what it left in storage (complete-looking and
hidden temporary files, never the files of an earlier export), retries the run until
``PORTAL_RUN_ATTEMPTS`` are used and then fails it with the reason; a worker that was only slow stops
without touching the run. Real worker processes: tests/exporting/test_worker.py."""
from datetime import timedelta
from pathlib import Path

import pytest

from portal.exporting import attempts, services
from portal.exporting.jobs import fail_run
from portal.exporting.reconciler import reconcile
from portal.extensions import db
from portal.models import ReportItem, Run, RunAttempt, RunFile, utcnow
from portal.queue import queue

from tests import factories
from tests.factories import execute


@pytest.fixture
def run(ctx):
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 3)
    db.session.commit()
    profile = services.create_profile(name="Payments", export_type="payments", options={"format": "csv"})
    return services.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")


def _working(run_id, number, beat):
    """As a worker leaves a run it works when it dies: claimed (attempt ``number``), last beat at ``beat``."""
    run = db.session.get(Run, run_id)
    run.status, run.attempts, run.heartbeat_at, run.phase = "exporting", number, beat, "exporting"
    db.session.add(RunAttempt(run_id=run_id, number=number, worker=f"host.{1000 + number}.abcd",
                              started_at=beat - timedelta(minutes=1)))
    db.session.commit()


def _directory(app, run_id):
    return Path(app.config["PORTAL_STORAGE_DIR"]) / str(run_id)


def test_a_run_whose_heartbeat_stopped_is_retried_then_fails_when_its_attempts_are_used(ctx, run):
    ctx.config["PORTAL_RUN_ATTEMPTS"] = 2
    directory = _directory(ctx, run.id)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "earlier.csv").write_text("delivered before\n")           # an earlier export's file
    db.session.add(RunFile(run_id=run.id, name="earlier.csv", path=str(directory / "earlier.csv"), format="csv",
                           size=17, sha256="0" * 64, version=utcnow(), rows=1))
    db.session.commit()
    long_ago = utcnow() - timedelta(minutes=5)
    _working(run.id, 1, long_ago)
    (directory / "payments_P_20261101-20261130_20261126T120000Z.csv").write_text("half")   # complete-looking
    (directory / ".payments_P.csv.0123.part").write_text("half")                           # hidden temporary
    (directory / ".payments_P.csv.0123.part.spool").write_text("spool")

    assert reconcile() == {"enqueued": [], "retried": [run.id], "failed": []}
    db.session.expire_all()
    again = db.session.get(Run, run.id)
    assert again.status == "queued" and again.job_id in queue("exports").job_ids
    first = db.session.query(RunAttempt).filter_by(run_id=run.id, number=1).one()
    assert first.outcome == "worker_lost" and first.ended_at == long_ago
    assert sorted(p.name for p in directory.iterdir()) == ["earlier.csv"]

    _working(run.id, 2, utcnow() - timedelta(minutes=2))
    (directory / ".payments_P.csv.4567.part").write_text("half")
    assert reconcile() == {"enqueued": [], "retried": [], "failed": [run.id]}
    db.session.expire_all()
    failed = db.session.get(Run, run.id)
    assert failed.status == "failed"
    assert failed.error_reason == ("The worker running this export stopped during each of its 2 attempts; the "
                                   "export failed and nothing from it was recorded. Start it again.")
    assert [a.outcome for a in failed.attempt_history] == ["worker_lost", "worker_lost"]
    assert db.session.query(ReportItem).filter_by(run_id=run.id, code="attempts_exhausted").count() == 1
    assert sorted(p.name for p in directory.iterdir()) == ["earlier.csv"]


def test_a_run_that_beats_is_left_alone(ctx, run):
    _working(run.id, 1, utcnow() - timedelta(seconds=5))
    assert reconcile() == {"enqueued": [], "retried": [], "failed": []}
    assert db.session.get(Run, run.id).status == "exporting"


def test_a_worker_that_was_only_slow_stops_without_touching_the_run(ctx, run):
    _working(run.id, 1, utcnow() - timedelta(minutes=5))
    assert reconcile()["retried"] == [run.id]
    # The slow worker wakes up: its next heartbeat (a progress write) tells it to stop …
    with pytest.raises(attempts.AttemptGivenUp):
        attempts.check(run.id, 1)
    db.session.rollback()
    # … and its failure, if it hits one, does not fail the run that is queued again.
    assert fail_run(run.id, "boom", attempt=1, statuses=[s for s in attempts.WORKING_STATUSES]) is False
    assert db.session.get(Run, run.id).status == "queued"
    # The next attempt runs it to the end.
    assert execute(run.id) == "exported"
    done = db.session.get(Run, run.id)
    assert [(a.number, a.outcome) for a in done.attempt_history] == [(1, "worker_lost"), (2, "completed")]


def test_every_attempt_is_recorded_with_its_worker_and_outcome(ctx, run):
    assert execute(run.id) == "exported"
    (only,) = db.session.get(Run, run.id).attempt_history
    assert only.number == 1 and only.outcome == "completed" and only.worker
    assert only.started_at <= only.ended_at


def test_an_attempts_reason_is_shown_in_each_readers_language(ctx):
    """Why an attempt ended is stored as a message (``run_attempts.reason_message``), as the run's reason
    is: the run page's Attempts table gives it in the reader's language, not the starter's. An attempt
    recorded before (its text only) still shows its text. Both databases."""
    from flask_babel import refresh

    from portal.demo.seed import seed_users
    from portal.exporting.providers import PROVIDERS, register
    from portal.models import User
    from tests.exporting.test_process import FlakyFileProvider, _calls

    seed_users()
    db.session.execute(db.update(User).where(User.email == "manager@example.com").values(locale="sv"))
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 3)
    db.session.commit()
    register(FlakyFileProvider)
    _calls["n"] = 0
    try:
        profile = services.create_profile(name="Flaky", export_type="payments", provider="flaky_file",
                                          options={"format": "jsonl"})
        run = services.start_run(profile.id, mode="production", locale="nl", window_start="2026-11-01",
                                 window_end="2026-11-30")
        assert execute(run) == "retrying"
    finally:
        PROVIDERS.unregister(FlakyFileProvider.key)
    [attempt] = db.session.get(Run, run.id).attempt_history
    assert attempt.reason.startswith("Er trad een tijdelijke fout op")           # written in Dutch, the run's
    db.session.add(RunAttempt(run_id=run.id, number=0, worker="host.1.old", started_at=attempt.started_at,
                              ended_at=attempt.started_at, outcome="temporary_error", reason="Oude tekst"))
    db.session.commit()
    run_id = run.id
    client = ctx.test_client()
    factories.AuthActions(client).login("manager")
    refresh()
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    table = page[page.index('class="table attempts"'):]
    table = table[:table.index("</table>")]
    assert f"Ett tillfälligt fel uppstod; portalens logg innehåller detaljerna (export {run_id})." in table
    assert "Er trad een tijdelijke fout op" not in table
    assert ": Oude tekst</td>" in table                                  # an attempt from before: its text
