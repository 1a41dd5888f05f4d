"""The database is the truth (DESIGN §3, §5): runs scheduled with Run at, then Redis emptied (FLUSHDB)
under a live worker that is not restarted. The worker's own maintenance timer re-enqueues every
scheduled or queued run whose job is gone, and each runs exactly once, on time."""
import time
from datetime import datetime, timedelta

from portal.exporting import services, sync
from portal.exporting.jobs import job_status
from portal.extensions import db
from portal.i18n import org_timezone
from portal.models import MappingHistoryEntry, Run, RunFile
from portal.queue import redis_connection

from tests import factories
from .test_worker import _start_worker, _stop, _wait

RUNS = 5
RECORDS = 20


def _wait_for_worker(timeout=60):
    from rq import Worker
    deadline = time.monotonic() + timeout
    while not Worker.all(connection=redis_connection()):
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.1)


def test_scheduled_runs_survive_a_flushed_redis_under_a_live_worker_and_run_exactly_once(ctx):
    zorg, _, _ = factories.companies()
    factories.payments(zorg, RECORDS, at=datetime(2026, 11, 1))
    db.session.commit()
    profiles = [services.create_profile(name=f"Payments {n}", export_type="payments", options={"format": "csv"},
                                        sync_type="incremental_all") for n in range(RUNS)]
    worker = _start_worker(ctx, PORTAL_STALE_RUN_SECONDS="60")      # no worker dies here
    try:
        _wait_for_worker()
        local_now = datetime.now(org_timezone()).replace(tzinfo=None, microsecond=0)
        runs = [services.start_run(p.id, mode="production", window_start="2026-11-01", window_end="2026-11-30",
                                   run_at_local=local_now + timedelta(seconds=4)) for p in profiles]
        # A queued run whose job Redis never got (e.g. Redis was down when it was started).
        redis_url = ctx.config["REDIS_URL"]
        ctx.config["REDIS_URL"] = "redis://127.0.0.1:1/0"           # nothing listens there
        try:
            queued = services.start_run(profiles[0].id, mode="test", window_start="2026-11-01",
                                        window_end="2026-11-30")
        finally:
            ctx.config["REDIS_URL"] = redis_url
        assert queued.status == "queued"
        assert all(job_status(r.job_id) == "scheduled" for r in runs)
        redis_connection().flushdb()                      # Redis loses everything; the worker lives on
        assert all(job_status(r.job_id) is None for r in runs + [queued])

        done = [_wait(r.id, lambda r: r.status in ("exported", "failed"), timeout=90) for r in runs + [queued]]
    finally:
        _stop(worker)
    for run in done:
        assert run.status == "exported", run.error_reason
        assert run.attempts == 1                          # claimed once: no second execution
        assert db.session.query(RunFile).filter_by(run_id=run.id).count() == 1
    for run in done[:RUNS]:
        assert run.phase_started_at >= run.run_at         # not before its time …
        assert run.phase_started_at <= run.run_at + timedelta(seconds=30)   # … and on time
        assert db.session.query(MappingHistoryEntry).filter_by(run_id=run.id).count() == 1
        assert len(sync.current_ledger(run.profile_id)) == RECORDS
    assert db.session.query(Run).count() == RUNS + 1
