"""The reconciler: the database is the source of truth, Redis only the transport (DESIGN §3, §5).

- A scheduled or queued run whose job Redis no longer has (Redis restarted or flushed) is enqueued
  again — scheduled ones at their time, through RQ's scheduler.
- A run left preparing or exporting by a worker that died (its heartbeat is older than
  ``EXPORT_STALE_SECONDS``, or RQ says its job ended) is retried from a clean state, or failed with the
  reason when its ``PORTAL_RUN_ATTEMPTS`` attempts are used (``attempts.give_up``). The attempt
  recorded nothing in the ledger: its final transaction never committed.

Runs in every worker on a timer of its own (``portal.maintenance``), under a short Redis lock so that
one worker does it per interval; it does not depend on any Redis job surviving.
"""
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import utcnow
from ..models.exporting import Run, RunStatus, WORKING_STATUSES
from . import attempts, jobs

log = logging.getLogger(__name__)

LIVE_JOB = {"queued", "started", "deferred"}
ENDED_JOB = {"failed", "stopped", "canceled"}


def reconcile(now=None):
    """One pass (a periodic task of every worker's maintenance timer, see ``portal.maintenance``)."""
    now = now or utcnow()
    result = {"enqueued": [], "retried": [], "failed": []}
    waiting = db.session.execute(select(Run).where(
        Run.status.in_([RunStatus.SCHEDULED.value, RunStatus.QUEUED.value])).order_by(Run.id)).scalars().all()
    for run in waiting:
        run_id, job_id = run.id, run.job_id
        status = jobs.job_status(job_id)
        if status in LIVE_JOB:
            continue
        if status == "scheduled":
            due = jobs.scheduled_time(job_id)
            if due is not None and due > now - _grace():
                continue            # RQ's scheduler moves it on time
            # Overdue: RQ's scheduler is not moving it (its lock held by a worker that died).
            log.warning("run %s: its job is overdue in RQ's scheduler; enqueuing it now", run_id)
            try:
                jobs.cancel_job(job_id)
            except Exception as exc:      # it started meanwhile: the claim decides, nothing is lost
                log.info("run %s: job %s not cancelled (%s)", run_id, job_id, type(exc).__name__)
        if jobs.enqueue_run(run, replacing=True, now=now) is not None:
            log.warning("run %s: its job %s was gone from Redis (%s); enqueued again", run_id, job_id, status)
            result["enqueued"].append(run_id)
    stale_before = now - jobs.stale_after()
    working = db.session.execute(select(Run).where(
        Run.status.in_([s.value for s in WORKING_STATUSES])).order_by(Run.id)).scalars().all()
    for run in working:
        heartbeat = run.heartbeat_at or run.progress_at or run.updated_at
        ended = jobs.job_status(run.job_id) in ENDED_JOB      # RQ saw its work horse die
        if heartbeat >= stale_before and not ended:
            continue
        run_id = run.id
        outcome = attempts.give_up(run, heartbeat, now, stale_before=None if ended else stale_before)
        if outcome == "retried":
            jobs.enqueue_run(db.session.get(Run, run_id))      # from a clean state, on any worker
        if outcome is not None:
            result[outcome].append(run_id)
    return result


def _grace():
    """How long a due job may wait in RQ's scheduler (which moves it within a second when it works)."""
    return timedelta(seconds=max(5.0, float(current_app.config.get("EXPORT_RECONCILE_SECONDS", 15))))
