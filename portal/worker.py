"""The RQ worker: named queues, RQ's scheduler on, run inside the app context, and the worker's own
maintenance timer (``portal.maintenance``: the reconciler and every other periodic task)."""
import logging

from rq import Worker

from . import create_app, maintenance
from .extensions import db
from .queue import redis_connection

log = logging.getLogger(__name__)


class PortalWorker(Worker):
    """RQ's forking worker that never forks while its maintenance timer is inside a task."""

    def fork_work_horse(self, job, queue):
        with maintenance.fork_guard:
            super().fork_work_horse(job, queue)


def main():
    app = create_app()
    with app.app_context():
        # Every forked job opens its own connections: the parent's pool must not be shared.
        db.engine.dispose()
        _on_start(app)
        name = maintenance.worker_name()
        worker = PortalWorker(list(app.config["RQ_QUEUES"]), connection=redis_connection(), name=name)
        # Periodic tasks on a timer of this process: they do not depend on a Redis job surviving.
        timer = maintenance.start(app, owner=name)
        log.info("worker starting on queues %s as %s", ",".join(app.config["RQ_QUEUES"]), name)
        try:
            worker.work(with_scheduler=True)
        finally:
            timer.stop()


def _on_start(app):
    """Hooks that run once when a worker starts (``app.extensions["portal_worker_start_hooks"]``)."""
    for hook in app.extensions.get("portal_worker_start_hooks", []):
        hook(app)
