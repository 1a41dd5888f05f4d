"""The RQ worker: named queues, RQ's scheduler on, run inside the app context, and the worker's own
maintenance timer (``portal.maintenance``: the reconciler and every other periodic task)."""
import logging
import os
import signal
from contextlib import suppress

from redis.exceptions import RedisError
from rq import Worker

from . import create_app, maintenance
from .extensions import db
from .queue import redis_connection

log = logging.getLogger(__name__)


# How long a stop waits for RQ's scheduler process before it kills it.
SCHEDULER_STOP_SECONDS = 10


class PortalWorker(Worker):
    """RQ's forking worker that never forks while its maintenance timer is inside a task (see
    ``_guard_forks``), and whose stop never waits for ever on RQ's scheduler process."""

    def stop_scheduler(self):
        """RQ's own stop sends SIGTERM and waits without end: a scheduler process that does not end (stuck
        in a lock, or stopped before it set its handlers) would keep this worker from stopping."""
        process = self.scheduler._process
        if process is None or process.pid is None:
            return
        with suppress(OSError):
            os.kill(process.pid, signal.SIGTERM)
        process.join(SCHEDULER_STOP_SECONDS)
        if process.is_alive():
            log.warning("RQ's scheduler process %s did not stop in %ss: killed", process.pid,
                        SCHEDULER_STOP_SECONDS)
            process.kill()
            process.join()


def _guard_forks():
    """Every fork of this process — a work horse, RQ's scheduler process (started by RQ when the worker
    starts and again whenever it wins the scheduler lock) — waits until the maintenance timer is between
    tasks."""
    os.register_at_fork(before=maintenance.fork_guard.acquire,
                        after_in_parent=maintenance.fork_guard.release,
                        after_in_child=maintenance.fork_guard.release)


def main():
    app = create_app()
    with app.app_context():
        # Every forked job opens its own connections: the parent's pool must not be shared.
        db.engine.dispose()
        _guard_forks()
        _on_start(app)
        name = maintenance.worker_name()
        worker = PortalWorker(list(app.config["RQ_QUEUES"]), connection=redis_connection(), name=name)
        # Periodic tasks on a timer of this process: they do not depend on a Redis job surviving.
        timer = maintenance.start(app, owner=name)
        log.info("worker starting on queues %s as %s", ",".join(app.config["RQ_QUEUES"]), name)
        # RQ installs its stop handlers only after it has registered and started its scheduler: a SIGTERM
        # in between would kill the process outright and leave it listed as a live worker.
        signal.signal(signal.SIGTERM, _stop_while_starting)
        try:
            worker.work(with_scheduler=True)
        finally:
            timer.stop()
            _stop_scheduler(worker)
            with suppress(RedisError):      # listed no more, however it stopped (RQ's own stop also does this)
                worker.register_death()


def _stop_while_starting(signum, frame):
    raise SystemExit(0)


def _stop_scheduler(worker):
    """Stops RQ's scheduler process when the worker stopped before RQ could (a SIGTERM between the
    scheduler's start and RQ's stop handlers): a scheduler process left running would keep this process
    from exiting, as Python waits for its child processes at exit. Stopping a stopped one does nothing."""
    scheduler = worker.scheduler
    if scheduler is None:
        return
    if scheduler._process is not None:
        worker.stop_scheduler()     # bounded: a scheduler process that does not end is killed
    else:                                   # locks taken, process not started: free them for another worker
        with suppress(RedisError):
            scheduler.release_locks()


def _on_start(app):
    """Hooks that run once when a worker starts (``app.extensions["portal_worker_start_hooks"]``)."""
    for hook in app.extensions.get("portal_worker_start_hooks", []):
        hook(app)
