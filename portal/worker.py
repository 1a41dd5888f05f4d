"""The RQ worker: named queues, RQ's scheduler on, run inside the app context."""
import logging

from rq import Worker

from . import create_app
from .extensions import db
from .queue import redis_connection

log = logging.getLogger(__name__)


def main():
    app = create_app()
    with app.app_context():
        # Every forked job opens its own connections: the parent's pool must not be shared.
        db.engine.dispose()
        _on_start(app)
        worker = Worker(list(app.config["RQ_QUEUES"]), connection=redis_connection())
        log.info("worker starting on queues %s", ",".join(app.config["RQ_QUEUES"]))
        worker.work(with_scheduler=True)


def _on_start(app):
    """Hook for the export engine's reconciler (runs when a worker starts)."""
    for hook in app.extensions.get("portal_worker_start_hooks", []):
        hook(app)
