"""RQ jobs. A job takes a run id only, is enqueued after the run is committed, and is idempotent: it
claims the run with a compare-and-set on its status, so a job that runs twice does nothing the second
time. Transient errors are retried with back-off; anything else fails the run visibly, with its reason.
"""
import logging
from datetime import timedelta, timezone
from uuid import uuid4

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq import get_current_job
from rq.job import Job
from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from .. import create_app
from ..extensions import db
from ..integrations.visma.errors import VismaNetError, VismaNetUnavailable
from ..models import utcnow
from ..models.exporting import (
    ExportProfile, MappingHistoryEntry, Operation, ReportItem, Run, RunMode, RunStatus, Severity, WORKING_STATUSES,
)
from ..queue import queue, redis_connection
from . import attempts, engine
from .errors import ExportError, TransientError
from .formats import FormatError
from .messages import REPORT_MESSAGES, stored_message, stored_text, temporary_reason, verbatim
from .states import transition

log = logging.getLogger(__name__)

QUEUE = "exports"
BACKOFF_SECONDS = (5, 30, 120)   # after the 1st, 2nd and 3rd attempt; then the run fails


def new_job_id(run_id):
    return f"export-run-{run_id}-{uuid4().hex[:10]}"


def enqueue_run(run, replacing=False, now=None):
    """Put a committed run's job in Redis (now, or at ``run_at`` through RQ's scheduler).

    When Redis cannot be reached the run stays queued/scheduled in the database and the reconciler
    enqueues it later; the failure is logged, the start itself succeeded. ``replacing`` (the
    reconciler): the new job id is set only if the run still waits with the job id it had (a
    compare-and-set), so a run a worker has meanwhile claimed keeps its job and gets no second one.
    A run whose time (``run_at``) has come by ``now`` is enqueued at once.
    """
    job_id = new_job_id(run.id)
    if replacing:
        old = run.job_id
        changed = db.session.execute(
            update(Run).where(Run.id == run.id, Run.status.in_([RunStatus.SCHEDULED.value, RunStatus.QUEUED.value]),
                              Run.job_id == old if old is not None else Run.job_id.is_(None))
            .values(job_id=job_id)).rowcount
        db.session.commit()
        if changed != 1:
            return None
        db.session.refresh(run)
    else:
        run.job_id = job_id
        db.session.commit()
    try:
        q = queue(QUEUE)
        if run.status == RunStatus.SCHEDULED.value and run.run_at is not None and run.run_at > (now or utcnow()):
            q.enqueue_at(run.run_at.replace(tzinfo=timezone.utc), execute_run, run.id, job_id=job_id,
                         description=f"export run {run.id}")
        else:
            q.enqueue(execute_run, run.id, job_id=job_id, description=f"export run {run.id}")
    except RedisError as exc:
        log.warning("run %s: could not enqueue (%s); the reconciler will enqueue it", run.id, type(exc).__name__)
        return None
    return job_id


def cancel_job(job_id):
    try:
        job = Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        return False
    job.cancel()
    return True


def scheduled_time(job_id):
    """When RQ's scheduler is to enqueue a job (naive UTC), or None when it is not scheduled."""
    from rq.registry import ScheduledJobRegistry
    try:
        at = ScheduledJobRegistry(queue=queue(QUEUE)).get_scheduled_time(job_id)
    except NoSuchJobError:
        return None
    return at.astimezone(timezone.utc).replace(tzinfo=None)


def job_status(job_id):
    """RQ's status of a job, or None when Redis no longer has it."""
    if not job_id:
        return None
    try:
        job = Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        return None
    status = job.get_status(refresh=False)
    return getattr(status, "value", status)


def execute_run(run_id):
    """The job: prepare and/or export one run."""
    if not has_app_context():
        with create_app().app_context():
            return _execute(run_id)
    return _execute(run_id)


def _execute(run_id):
    if get_current_job() is not None:
        # In a worker's forked work horse: never use connections inherited from the parent process.
        db.engine.dispose(close=False)
    run = db.session.get(Run, run_id)
    if run is None:
        log.warning("run %s does not exist; nothing to do", run_id)
        return "missing"
    if _refuse_archived(run):
        return "archived"
    target = RunStatus.EXPORTING if run.operation == Operation.EXPORT.value else RunStatus.PREPARING
    now = utcnow()
    job = get_current_job()
    claim = dict(status=target.value, attempts=Run.attempts + 1, phase=None, done=0, total=None,
                 progress_at=now, heartbeat_at=now, phase_started_at=now, updated_at=now)
    if job is not None:
        claim["job_id"] = job.id        # the job that works: the reconciler asks RQ about this one
    claimed = db.session.execute(
        update(Run).where(Run.id == run_id, Run.status.in_([RunStatus.QUEUED.value, RunStatus.SCHEDULED.value]))
        .values(**claim)).rowcount
    if claimed != 1:
        db.session.commit()
        log.info("run %s is no longer waiting; job is a no-op", run_id)
        return "skipped"
    number = db.session.execute(select(Run.attempts).where(Run.id == run_id)).scalar()
    attempts.begin(run_id, number, now)
    db.session.commit()
    db.session.refresh(run)
    heartbeat = attempts.Heartbeat(current_app._get_current_object(), run_id, number)
    heartbeat.start()
    try:
        return _work(run, target, number)
    finally:
        heartbeat.stop()


def _refuse_archived(run):
    """The safety net for a run whose profile was archived while it waited (archiving cancels such runs; a
    run that slipped through, e.g. started as the profile was archived): it fails, unclaimed, with that
    reason, and nothing of it runs. Returns whether it refused it."""
    profile = db.session.get(ExportProfile, run.profile_id)
    if profile is None or not profile.archived:
        return False
    now, params = utcnow(), {"profile": profile.name}
    with force_locale(run.locale):
        reason, message = reason_fields(REPORT_MESSAGES["profile_archived_not_run"], params)
    changed = db.session.execute(
        update(Run).where(Run.id == run.id, Run.status.in_([RunStatus.QUEUED.value, RunStatus.SCHEDULED.value]))
        .values(status=RunStatus.FAILED.value, finished_at=now, phase=None, updated_at=now, error_reason=reason,
                error_message=message)
    ).rowcount
    if changed:
        db.session.add(ReportItem(run_id=run.id, severity=Severity.ERROR, code="profile_archived_not_run",
                                  params=params, created_at=now))
        log.warning("run %s: its export profile %s is archived; the run is not run", run.id, profile.id)
    db.session.commit()
    return bool(changed)        # a run no longer waiting: the claim below finds that out


def _work(run, target, number):
    run_id = run.id
    progress = None
    with force_locale(run.locale):
        try:
            progress = engine.Progress(run, attempt=number)
            if target == RunStatus.PREPARING:
                engine.prepare(run, progress)
                progress.beat()      # still this attempt's run: then the status is ours to change
                if run.operation == Operation.PREPARE_AND_EXPORT.value:
                    transition(run, RunStatus.EXPORTING)
                    db.session.commit()
                    status = engine.export(run, progress)
                else:
                    transition(run, RunStatus.PREPARED)
                    run.phase = None
                    run.finished_at = utcnow()
                    if run.mode == RunMode.PRODUCTION.value:
                        # Seed 000: the Mapping history's "Prepared" line (Scenarios' "Prepared on" reads it).
                        db.session.add(MappingHistoryEntry(
                            profile_id=run.profile_id, run_id=run_id, status_date=run.finished_at,
                            status=RunStatus.PREPARED.value, record_count=(run.counts or {}).get("prepared", 0)))
                    progress.finish()
                    db.session.commit()
                    status = RunStatus.PREPARED
            else:
                status = engine.export(run, progress)
            return status.value
        except attempts.AttemptGivenUp:
            db.session.rollback()
            log.warning("run %s: attempt %s was given up by the reconciler; this worker stops", run_id, number)
            return "given-up"
        except (TransientError, VismaNetUnavailable, OperationalError) as exc:
            db.session.rollback()
            if isinstance(exc, DBAPIError) and not _transient_db_error(exc):
                fail_run(run_id, _unexpected(exc, run_id), attempt=number)
                raise
            if _retry_or_fail(run_id, exc, number) == "failed":
                raise        # the RQ job fails too: never reported as a success
            return "retrying"
        except Exception as exc:
            db.session.rollback()
            readable = isinstance(exc, (ExportError, FormatError, VismaNetError))
            fail_run(run_id, _reason(exc) if readable else _unexpected(exc, run_id), attempt=number)
            raise
        finally:
            if progress is not None:
                progress.discard_file()     # a file prepare began that no export delivered


def _transient_db_error(exc):
    return bool(getattr(exc, "connection_invalidated", False)) or "locked" in str(exc.orig).lower() \
        or "could not serialize" in str(exc.orig).lower() or "deadlock" in str(exc.orig).lower()


def _reason(exc):
    """Why a run stopped, as a stored message (``messages.stored_message``) that every reader sees in
    their own language: our own errors' messages with their parameters; Visma.net's own words (a refusal
    the user can act on) verbatim. A temporary error's reason is ``_temporary``'s, an unexpected error's
    ``_unexpected``'s."""
    if isinstance(exc, (FormatError, ExportError)):
        return exc.stored()
    if isinstance(exc, VismaNetError):       # Visma.net's own words (a refusal the user can act on), verbatim
        return verbatim(f"Visma.net: {exc}"[:500])
    return verbatim(str(exc)[:500])


def _temporary(exc, run_id, number):
    """What a temporary error (retried: a provider's time-out, a locked database) was, as
    ``TransientError.problem``. Its technical text — the class and first line only (no statement
    parameters, which might hold data) — goes to the log, not to the people who read the run."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, DBAPIError):
        text = str(exc.orig).splitlines()[0] if exc.orig is not None else ""
    log.warning("run %s: attempt %s ended on a temporary error: %s: %s", run_id, number, type(exc).__name__,
                text[:500])
    if isinstance(exc, TransientError):
        return exc.problem or "unknown"
    if isinstance(exc, VismaNetUnavailable):    # a provider's call that did not say it: temporary as well
        return f"visma_{exc.problem}"
    return "database"


UNEXPECTED = _l("An unexpected error stopped this export. The portal's log has the details (export %(run)s); "
                "if it happens again, tell your administrator.")


def _unexpected(exc, run_id):
    """The reason of a run an unexpected error (a bug, a database refusal) stopped: a message for the
    people who read it; the exception itself, with its traceback, goes to the log."""
    log.error("run %s: unexpected error", run_id, exc_info=(type(exc), exc, exc.__traceback__))
    return stored_message(UNEXPECTED, {"run": run_id})


def reason_fields(reason, params=None):
    """A run's reason (a message with ``params``, or one stored already) as its two columns: the text in
    the current locale (the run's, while the worker runs it: for the log and the attempts' history) and
    the stored message every reader sees in their own language (``Run.reason_text``)."""
    message = stored_message(reason, params)
    return stored_text(message)[:500], message


def _retry_or_fail(run_id, exc, number):
    """After a temporary error: queue the run again after a back-off, until ``PORTAL_RUN_ATTEMPTS``
    attempts are used; then fail it."""
    try:
        attempts.check(run_id, number)      # holds the run row until the commit below
    except attempts.AttemptGivenUp:
        db.session.rollback()
        return "given-up"                   # the reconciler took this attempt over meanwhile
    run = db.session.get(Run, run_id)
    used, limit = attempts.tries(run_id), attempts.max_attempts()
    problem = _temporary(exc, run_id, number)
    if used >= limit:
        # The report item keeps the problem's code: each reader reads it in their own language.
        fail_run(run_id, temporary_reason(problem, run_id, used), code="temporary_error_failed", attempt=number,
                 params={"problem": problem, "run": run_id, "attempts": used})
        return "failed"
    transition(run, RunStatus.QUEUED)
    run.error_reason, run.error_message = reason_fields(temporary_reason(problem, run_id))
    run.phase = None
    attempts.end(run_id, number, attempts.Outcome.TEMPORARY_ERROR, run.error_reason, message=run.error_message)
    # The report says it in its reader's language: the problem's code, not its words.
    db.session.add(ReportItem(run_id=run_id, severity=Severity.WARNING, code="temporary_error",
                              params={"problem": problem, "run": run_id, "attempt": used + 1, "max": limit}))
    job_id = new_job_id(run_id)
    run.job_id = job_id
    db.session.commit()
    backoff = BACKOFF_SECONDS[min(used, len(BACKOFF_SECONDS)) - 1]
    queue(QUEUE).enqueue_in(timedelta(seconds=backoff), execute_run, run_id, job_id=job_id,
                            description=f"export run {run_id} (retry {used})")
    return "retrying"


def fail_run(run_id, reason, code="run_failed", statuses=WORKING_STATUSES, attempt=None, params=None):
    """Fail a run that is still working (compare-and-set; with ``attempt``, only while that attempt is
    the run's), with its reason (a stored message, or text) and a report item (``code`` with ``params``,
    by default the reason); the attempt ends as failed."""
    now = utcnow()
    reason, message = reason_fields(reason)
    conditions = [Run.id == run_id, Run.status.in_([s.value for s in statuses])]
    if attempt is not None:
        conditions.append(Run.attempts == attempt)
    changed = db.session.execute(
        update(Run).where(*conditions)
        .values(status=RunStatus.FAILED.value, error_reason=reason, error_message=message, finished_at=now,
                phase=None, updated_at=now)
    ).rowcount
    if changed:
        db.session.execute(insert(ReportItem), [{
            "run_id": run_id, "severity": Severity.ERROR, "code": code,
            "params": params or {"reason": reason, "reason_message": message}, "created_at": now}])
        if attempt is not None:
            attempts.end(run_id, attempt, attempts.Outcome.FAILED, reason, message=message)
    db.session.commit()
    if changed:
        log.error("run %s failed: %s", run_id, reason)
    return bool(changed)


def stale_after():
    return timedelta(seconds=float(current_app.config.get("EXPORT_STALE_SECONDS", 60)))
