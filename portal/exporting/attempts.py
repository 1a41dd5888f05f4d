"""A run's attempts: every execution of a run by a worker is an attempt, listed on the run page (when it
started and ended, which worker, why it ended).

While an attempt works, its worker keeps a heartbeat on the run (``runs.heartbeat_at``): every progress
write, and a timer thread (``Heartbeat``) every ``EXPORT_HEARTBEAT_SECONDS`` while a long step works.
The reconciler (``portal.exporting.reconciler``, on every worker's maintenance timer) gives up an
attempt whose heartbeat stopped for ``EXPORT_STALE_SECONDS``: it removes the files the attempt left in
storage and queues the run again from a clean state (an attempt records nothing in the ledger until
its last transaction; the Visma.net outbox makes a second delivery safe), until ``PORTAL_RUN_ATTEMPTS``
attempts are used; then the run fails with the reason.

A worker whose attempt was given up (it was only slow, not dead) finds out at its next heartbeat or
before its last transaction (``check``: a compare-and-set on the attempt number) and stops without
touching the run.
"""
import logging
import os
import socket
import threading
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from rq import get_current_job
from sqlalchemy import func, insert, or_, select, update

from ..extensions import db
from ..models import utcnow
from ..models.exporting import ReportItem, Run, RunAttempt, RunFile, RunStatus, Severity, WORKING_STATUSES
from .messages import REPORT_MESSAGES, stored_message, stored_text

log = logging.getLogger(__name__)


class Outcome:
    """Why an attempt ended (``run_attempts.outcome``); None while it works."""
    COMPLETED = "completed"
    FAILED = "failed"
    TEMPORARY_ERROR = "temporary_error"
    WORKER_LOST = "worker_lost"


class AttemptGivenUp(Exception):
    """The reconciler gave this attempt up (its heartbeat had stopped): stop, leave the run alone."""


def max_attempts():
    return max(1, int(current_app.config.get("PORTAL_RUN_ATTEMPTS", 3)))


def worker_label():
    """The RQ worker's name (``host.pid.xxxx``, see ``portal.maintenance.worker_name``), else host.pid."""
    job = get_current_job()
    name = getattr(job, "worker_name", None) if job is not None else None
    return (name or f"{socket.gethostname()}.{os.getpid()}")[:120]


def begin(run_id, number, now):
    """Record the attempt a claim just started (in the claim's transaction)."""
    db.session.execute(insert(RunAttempt).values(run_id=run_id, number=number, worker=worker_label(),
                                                 started_at=now))


def end(run_id, number, outcome, reason=None, at=None, message=None):
    """Close an attempt (in the caller's transaction); an attempt already closed stays as it was. ``reason``:
    why it ended as text in the run's language; ``message``: the same as a stored message
    (``messages.stored_message``), shown in each reader's language."""
    db.session.execute(update(RunAttempt).where(
        RunAttempt.run_id == run_id, RunAttempt.number == number, RunAttempt.ended_at.is_(None))
        .values(ended_at=at or utcnow(), outcome=outcome, reason=reason[:2000] if reason else None,
                reason_message=message or None)
        .execution_options(synchronize_session=False))


def _beat(run_id, number):
    return (update(Run).where(Run.id == run_id, Run.attempts == number,
                              Run.status.in_([s.value for s in WORKING_STATUSES]))
            .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False))


def check(run_id, number):
    """The heartbeat of a progress write, in its transaction: raises ``AttemptGivenUp`` when this
    attempt is no longer the run's working attempt. On PostgreSQL it also locks the run row until the
    commit, so the reconciler cannot give the attempt up between this check and the commit."""
    if db.session.execute(_beat(run_id, number)).rowcount != 1:
        raise AttemptGivenUp(f"run {run_id}: attempt {number} was given up")


class Heartbeat(threading.Thread):
    """Beats for an attempt while its job works, on a connection of its own (a long step — one big
    statement, a slow provider — writes no progress for a while)."""

    def __init__(self, app, run_id, number, interval=None):
        super().__init__(name=f"heartbeat-run-{run_id}", daemon=True)
        self.app, self.run_id, self.number = app, run_id, number
        self.interval = float(app.config.get("EXPORT_HEARTBEAT_SECONDS", 10) if interval is None else interval)
        self.stopped = threading.Event()

    def run(self):
        with self.app.app_context():
            while not self.stopped.wait(self.interval):
                try:
                    with db.engine.begin() as connection:
                        if connection.execute(_beat(self.run_id, self.number)).rowcount != 1:
                            return          # the attempt ended (or was given up): nothing to keep alive
                except Exception as exc:    # e.g. SQLite busy: the next beat tries again
                    log.debug("run %s: heartbeat skipped (%s)", self.run_id, type(exc).__name__)

    def stop(self):
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=5)


def tries(run_id):
    """Attempts of the current operation: those after the run's last completed attempt (a run that
    was prepared and is now exported starts counting again)."""
    last_done = select(func.coalesce(func.max(RunAttempt.number), 0)).where(
        RunAttempt.run_id == run_id, RunAttempt.outcome == Outcome.COMPLETED).scalar_subquery()
    return db.session.execute(select(func.count()).where(
        RunAttempt.run_id == run_id, RunAttempt.number > last_done)).scalar()


def give_up(run, last_seen, now, stale_before=None):
    """The reconciler's decision on a working run whose worker is gone: retry it from a clean state, or,
    when its attempts are used up, fail it with the reason. Returns "retried" (the caller enqueues it),
    "failed" or None (the attempt beat again or ended meanwhile: nothing done)."""
    run_id, number, locale = run.id, run.attempts, run.locale
    used = tries(run_id)
    retry = used < max_attempts()
    conditions = [Run.id == run_id, Run.attempts == number, Run.status.in_([s.value for s in WORKING_STATUSES])]
    if stale_before is not None:
        conditions.append(or_(Run.heartbeat_at.is_(None), Run.heartbeat_at < stale_before))
    if retry:
        values = dict(status=RunStatus.QUEUED.value, phase=None, updated_at=now)
    else:
        message = stored_message(REPORT_MESSAGES["attempts_exhausted"], {"attempts": used})
        with force_locale(locale):
            reason = stored_text(message)
        values = dict(status=RunStatus.FAILED.value, error_reason=reason, error_message=message, finished_at=now,
                      phase=None, updated_at=now)
    changed = db.session.execute(update(Run).where(*conditions).values(**values)
                                 .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        db.session.rollback()
        return None
    end(run_id, number, Outcome.WORKER_LOST, at=last_seen)
    if not retry:
        db.session.execute(insert(ReportItem), [{"run_id": run_id, "severity": Severity.ERROR, "code": "attempts_exhausted",
                                                 "params": {"attempts": used}, "created_at": now}])
    db.session.commit()
    removed = remove_stray_files(run_id)
    if retry:
        log.warning("run %s: attempt %s lost its worker (last heartbeat %s); removed %s; retrying (%s of %s)",
                    run_id, number, last_seen, removed, used + 1, max_attempts())
        return "retried"
    log.error("run %s: attempt %s lost its worker (last heartbeat %s); removed %s; no attempts left, failed",
              run_id, number, last_seen, removed)
    return "failed"


def remove_stray_files(run_id):
    """Remove what a given-up attempt left in the run's storage directory: complete-looking files no
    ``run_files`` row records and hidden temporary ones. Files of earlier, finished exports stay."""
    directory = Path(current_app.config["PORTAL_STORAGE_DIR"]) / str(int(run_id))
    if not directory.is_dir():
        return []
    kept = set()
    for name, path in db.session.execute(select(RunFile.name, RunFile.path).where(RunFile.run_id == run_id)):
        kept.add(name)
        kept.add(Path(path).name)
    removed = []
    for entry in sorted(directory.iterdir()):
        if entry.name in kept or not (entry.is_file() or entry.is_symlink()):
            continue
        try:
            entry.unlink()
            removed.append(entry.name)
        except FileNotFoundError:
            pass
    return removed
