"""Real worker processes (``python worker.py``) with real Redis: a run executed by a worker; a worker
killed with SIGKILL in the middle of a production run → the reconciler fails it, nothing from it is in
the ledger, and a new run produces the same file as an uninterrupted one."""
import os
import signal
import subprocess
import sys
import time
from datetime import datetime

import psutil

from portal.config import ROOT
from portal.exporting import services, sync
from portal.extensions import db
from portal.models import LedgerEntry, ReportItem, Run

from . import factory
from .conftest import files_of

# Enough rows that the run is still preparing or exporting when the test looks, even on an idle machine
# (6,000 rows could finish between two looks, and the kill then came too late).
ROWS = 40000


def _start_worker(app, **env):
    """A real worker process. Its maintenance timer ticks fast here (the reconciler every half second);
    ``WORKER_LOG_DIR`` in the environment keeps each worker's log there (to see what it did)."""
    settings = dict(PORTAL_STALE_RUN_SECONDS="2", PORTAL_EXPORT_BATCH_SIZE="100", PORTAL_MAINTENANCE_TICK="0.2",
                    PORTAL_RECONCILE_SECONDS="0.5")
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
    raise AssertionError(f"run {run_id} stayed {run.status} ({run.phase} {run.done}/{run.total})")


def _profile(count):
    zorg, _, _ = factory.companies()
    factory.payments(zorg, count, at=datetime(2026, 11, 1))  # one a minute: 40,000 fit in November
    db.session.commit()
    return services.create_profile(name="Payments", export_type="payments", options={"format": "csv"},
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


def test_sigkill_mid_run_then_the_reconciler_fails_it_and_a_new_run_gives_the_same_file(ctx):
    profile = _profile(ROWS)
    # The file an uninterrupted run produces (a test run delivers exactly what production would).
    from .conftest import start_and_run
    reference = start_and_run(profile, "test")
    reference_sha = files_of(reference)[0].sha256

    worker = _start_worker(ctx)
    try:
        run = services.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
        _wait(run.id, lambda r: r.status in ("preparing", "exporting") and r.done > 0)
        victims = _kill_all(worker)
    finally:
        if worker.poll() is None:
            _stop(worker, signal.SIGKILL)
    assert len(victims) >= 2
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in victims) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in victims)
    run = db.session.get(Run, run.id)
    db.session.refresh(run)
    assert run.status in ("preparing", "exporting")
    db.session.commit()
    time.sleep(2.5)        # longer than PORTAL_STALE_RUN_SECONDS: the heartbeat is stale

    # A new worker's reconciler (on start) fails the run; the new worker then runs a new one.
    worker = _start_worker(ctx)
    try:
        run = _wait(run.id, lambda r: r.status == "failed", timeout=60)
        assert run.error_reason and "worker" in run.error_reason
        assert db.session.query(ReportItem).filter_by(run_id=run.id, code="worker_lost").count() == 1
        assert db.session.query(LedgerEntry).filter_by(run_id=run.id).count() == 0
        assert sync.current_ledger(profile.id) == {}
        assert files_of(run) == []
        again = services.start_run(profile.id, mode="production", window_start="2026-11-01", window_end="2026-11-30")
        again = _wait(again.id, lambda r: r.status in ("exported", "failed"))
        assert again.status == "exported", again.error_reason
        assert files_of(again)[0].sha256 == reference_sha
        assert len(sync.current_ledger(profile.id)) == ROWS
    finally:
        _stop(worker)
