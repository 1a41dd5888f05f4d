"""The reconciler: the database is the source of truth, Redis only the transport (DESIGN §3, §5).

- A scheduled or queued run whose job Redis no longer has (Redis restarted or flushed) is enqueued
  again — scheduled ones at their time, through RQ's scheduler.
- A run left preparing or exporting by a worker that died (its heartbeat, the run's progress time,
  is older than ``EXPORT_STALE_SECONDS``, or RQ says its job ended) is failed with a reason. A failed
  run recorded nothing in the ledger: the final transaction never committed.

Runs when a worker starts and then periodically (a job that schedules its next run).
"""
import logging
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from redis.exceptions import RedisError
from sqlalchemy import select

from ..extensions import db
from ..models import utcnow
from ..models.exporting import Run, RunStatus, WORKING_STATUSES
from ..queue import queue
from . import jobs
from .messages import report_message

log = logging.getLogger(__name__)

LIVE_JOB = {"queued", "scheduled", "started", "deferred"}
ENDED_JOB = {"failed", "stopped", "canceled"}
PERIODIC_JOB_ID = "export-reconciler"


def reconcile(now=None):
    now = now or utcnow()
    result = {"enqueued": [], "failed": []}
    waiting = db.session.execute(select(Run).where(
        Run.status.in_([RunStatus.SCHEDULED.value, RunStatus.QUEUED.value])).order_by(Run.id)).scalars().all()
    for run in waiting:
        if jobs.job_status(run.job_id) in LIVE_JOB:
            continue
        log.warning("run %s (%s): its job is gone from Redis; enqueuing it again", run.id, run.status)
        jobs.enqueue_run(run)
        result["enqueued"].append(run.id)
    threshold = now - jobs.stale_after()
    working = db.session.execute(select(Run).where(
        Run.status.in_([s.value for s in WORKING_STATUSES])).order_by(Run.id)).scalars().all()
    for run in working:
        heartbeat = run.progress_at or run.updated_at
        status = jobs.job_status(run.job_id)
        if heartbeat >= threshold and status not in ENDED_JOB:
            continue
        with force_locale(run.locale):
            reason = report_message("worker_lost", {})
        if jobs.fail_run(run.id, reason, code="worker_lost"):
            log.error("run %s: its worker stopped (last heartbeat %s); failed", run.id, heartbeat)
            result["failed"].append(run.id)
    return result


def reconcile_job():
    """The periodic job: reconcile, the features' periodic tasks, then schedule the next round."""
    try:
        return reconcile()
    finally:
        try:
            run_periodic_tasks()
        finally:
            schedule_next()


def run_periodic_tasks(now=None):
    """The features' periodic passes registered in ``app.extensions["portal_periodic_tasks"]`` as
    ``(name, callable(now))`` (due schedules, the mail outbox). One task's failure does not stop the
    others; each is tried again on the next round."""
    results = {}
    for name, task in current_app.extensions.get("portal_periodic_tasks", []):
        try:
            results[name] = task(now)
        except Exception:
            db.session.rollback()
            log.exception("periodic task %s failed; tried again on the next round", name)
    return results


def schedule_next():
    interval = float(current_app.config.get("EXPORT_RECONCILE_SECONDS", 60))
    queue("default").enqueue_in(timedelta(seconds=interval), reconcile_job, job_id=PERIODIC_JOB_ID,
                                description="export reconciler")


def on_worker_start(app):
    """Worker start hook (portal.worker._on_start): reconcile at once, then periodically."""
    with app.app_context():
        try:
            result = reconcile()
            log.info("reconciler on worker start: %s", result)
        finally:
            db.session.remove()
        try:
            schedule_next()
        except RedisError:
            log.exception("could not schedule the periodic reconciler")
