"""Real worker processes (``python worker.py``) with real Redis: a run executed by a worker; a worker
killed with SIGKILL in the middle of a production run while another worker lives (nobody restarts
anything) → the live worker's maintenance timer notices the stopped heartbeat, removes what the killed
attempt left in storage and retries the run, which produces the same file as an uninterrupted one; and
when the attempts (``PORTAL_RUN_ATTEMPTS``) run out, the run fails with the reason."""
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psutil
from sqlalchemy import select

from portal.config import ROOT
from portal.exporting import services, sync
from portal.extensions import db
from portal.models import LedgerEntry, ReportItem, Run, RunAttempt

from tests import factories
from tests.factories import files_of

# Enough rows that the run is still preparing or exporting when the test looks, even on an idle machine
# (6,000 rows could finish between two looks, and the kill then came too late).
ROWS = 40000


def _start_worker(app, **env):
    """A real worker process. Its maintenance timer ticks fast here (the reconciler every half second);
    ``WORKER_LOG_DIR`` in the environment keeps each worker's log there (to see what it did)."""
    # Files row by row (not by the database's one COPY, which an idle machine finishes between two looks).
    settings = dict(PORTAL_STALE_RUN_SECONDS="8", PORTAL_HEARTBEAT_SECONDS="0.3", PORTAL_EXPORT_BATCH_SIZE="100",
                    PORTAL_MAINTENANCE_TICK="0.2", PORTAL_RECONCILE_SECONDS="0.5", PORTAL_EXPORT_FILES_BY_DATABASE="0")
    settings.update(env)
    environment = dict(os.environ, PORTAL_ENV="test", TEST_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                       TEST_REDIS_URL=app.config["REDIS_URL"], TEST_STORAGE_DIR=app.config["PORTAL_STORAGE_DIR"],
                       **settings)
    output = subprocess.DEVNULL
    if os.environ.get("WORKER_LOG_DIR"):
        output = open(os.path.join(os.environ["WORKER_LOG_DIR"], f"worker-{time.time():.3f}.log"), "ab")
    # Its own session: SIGKILL goes to the worker and its work horse, as when a machine dies.
    return subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=environment, start_new_session=True,
                            stdout=output, stderr=output)


def _kill_all(process):
    """SIGKILL the worker and its work horse (RQ puts the horse in a session of its own)."""
    victims = [process.pid] + [child.pid for child in psutil.Process(process.pid).children(recursive=True)]
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    process.wait(timeout=20)
    return victims


def _alive(pid):
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _stop(process, sig=signal.SIGTERM):
    """Stop a worker; whatever does not stop in time (the worker or its work horse, which RQ puts in a
    session of its own) is killed, so that no worker of this test outlives it."""
    children = []
    if process.poll() is None:
        children = [child.pid for child in psutil.Process(process.pid).children(recursive=True)]
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    for pid in children:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _wait(run_id, predicate, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        run = db.session.get(Run, run_id)
        db.session.refresh(run)
        db.session.commit()
        if predicate(run):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} stayed {run.status} ({run.phase} {run.done}/{run.total}) {run.error_reason}")


def _profile(count):
    zorg, _, _ = factories.companies()
    factories.payments(zorg, count, at=datetime(2026, 11, 1))  # one a minute: 40,000 fit in November
    db.session.commit()
    # The workers write files row by row in batches (``PORTAL_EXPORT_FILES_BY_DATABASE=0``), so the test can
    # catch the run while it writes.
    return services.create_profile(name="Payments", export_type="payments", options={"format": "jsonl"},
                                   sync_type="incremental_all")


def test_a_worker_process_runs_a_production_run(ctx):
    profile = _profile(50)
    worker = _start_worker(ctx)
    try:
        run = services.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
        run = _wait(run.id, lambda r: r.status in ("exported", "failed"))
        assert run.status == "exported", run.error_reason
        assert run.counts["processed"] == 50
        assert len(sync.current_ledger(profile.id)) == 50
    finally:
        _stop(worker)


# The workers' own settings for the tests of a dying worker: a short stale time (their maintenance timer
# notices a stopped heartbeat within seconds), a fast heartbeat so that a slow machine is not taken for a
# dead one.
DYING = dict(PORTAL_STALE_RUN_SECONDS="8", PORTAL_HEARTBEAT_SECONDS="0.3")


def _attempts(run_id):
    db.session.rollback()
    return db.session.execute(select(RunAttempt).where(RunAttempt.run_id == run_id)
                              .order_by(RunAttempt.number)).scalars().all()


def _pid(worker_name):
    """``host.pid.xxxx`` (portal.maintenance.worker_name) → pid."""
    return int(worker_name.rsplit(".", 2)[1])


def _working_worker(run_id, workers, number):
    """The process of ours that works attempt ``number`` of the run."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = [a for a in _attempts(run_id) if a.number == number]
        if found:
            pid = _pid(found[0].worker)
            return next(w for w in workers if w.pid == pid)
        time.sleep(0.05)
    raise AssertionError(f"run {run_id}: attempt {number} did not start")


def _storage(app, run_id):
    directory = Path(app.config["PORTAL_STORAGE_DIR"]) / str(run_id)
    return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


def _kill_while_exporting(app, run_id, workers, number):
    """SIGKILL the worker (and its work horse) of attempt ``number`` while it writes the run's file."""
    _wait(run_id, lambda r: r.attempts == number and r.status == "exporting" and r.done > 0)
    victim = _working_worker(run_id, workers, number)
    left = _storage(app, run_id)
    victims = _kill_all(victim)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in victims) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in victims)
    workers.remove(victim)
    return left


def _run_page(app, run_id):
    from portal.demo.seed import seed_users
    seed_users()
    client = app.test_client()
    from tests.factories import AuthActions
    AuthActions(client).login("manager")
    response = client.get(f"/runs/{run_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_worker_killed_while_another_lives_the_run_is_retried_and_finishes(ctx):
    """Nobody restarts anything: the other worker's maintenance timer notices the stopped heartbeat,
    removes what the killed attempt left in storage and runs the run again from a clean state."""
    profile = _profile(ROWS)
    from tests.factories import start_and_run
    reference_sha = files_of(start_and_run(profile, "test"))[0].sha256
    workers = [_start_worker(ctx, **DYING) for _ in range(2)]
    try:
        run = services.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
        left = _kill_while_exporting(ctx, run.id, workers, 1)
        assert any(name.startswith(".") and name.endswith(".part") for name in left), left
        started = time.monotonic()
        run = _wait(run.id, lambda r: r.status in ("exported", "failed", "partially_processed"), timeout=180)
        took = time.monotonic() - started
        survivor = workers[0]
        assert survivor.poll() is None                      # still the same, never restarted
        assert run.status == "exported", run.error_reason
        attempts = _attempts(run.id)
        assert [(a.number, a.outcome) for a in attempts] == [(1, "worker_lost"), (2, "completed")]
        assert _pid(attempts[1].worker) == survivor.pid and attempts[0].worker != attempts[1].worker
        assert all(a.started_at and a.ended_at for a in attempts)
        assert files_of(run)[0].sha256 == reference_sha     # the same bytes as an uninterrupted run
        assert _storage(ctx, run.id) == [f.name for f in files_of(run)]    # nothing left of attempt 1
        assert len(sync.current_ledger(profile.id)) == ROWS
        assert db.session.query(LedgerEntry).filter_by(run_id=run.id).count() == ROWS
        page = _run_page(ctx, run.id)
        assert "Attempts" in page and attempts[0].worker in page and attempts[1].worker in page
        assert "The worker stopped responding" in page and "Completed" in page
        print(f"killed attempt 1; attempt 2 finished the run {took:.1f} s later")
    finally:
        for worker in workers:
            _stop(worker)


def test_when_its_attempts_run_out_the_run_fails_with_the_reason_and_leaves_no_files(ctx):
    profile = _profile(ROWS)
    settings = dict(DYING, PORTAL_RUN_ATTEMPTS="2")
    workers = [_start_worker(ctx, **settings) for _ in range(3)]
    try:
        run = services.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
        _kill_while_exporting(ctx, run.id, workers, 1)
        _kill_while_exporting(ctx, run.id, workers, 2)      # the retry's worker dies as well
        run = _wait(run.id, lambda r: r.status in ("exported", "failed", "partially_processed"), timeout=120)
        assert workers[0].poll() is None
    finally:
        for worker in workers:
            _stop(worker)
    assert run.status == "failed"
    assert run.error_reason == ("The worker running this export stopped during each of its 2 attempts; the export "
                                "failed and nothing from it was recorded. Start it again.")
    assert [(a.number, a.outcome) for a in _attempts(run.id)] == [(1, "worker_lost"), (2, "worker_lost")]
    assert db.session.query(ReportItem).filter_by(run_id=run.id, code="attempts_exhausted").count() == 1
    assert _storage(ctx, run.id) == []                   # complete-looking and hidden files removed
    assert files_of(run) == []
    assert sync.current_ledger(profile.id) == {}
    page = _run_page(ctx, run.id)
    assert run.error_reason in page and page.count("The worker stopped responding") == 2
