"""Periodic maintenance that every worker runs on a timer of its own (DESIGN §3, §5).

Nothing here depends on a Redis job surviving: each worker process (``portal.worker``) starts a
:class:`Timer` thread that wakes every ``PORTAL_MAINTENANCE_TICK`` seconds and offers each registered
task a turn. A task runs when its short Redis lock (``SET NX PX``, as long as the task's interval) is
free, so across all workers one of them runs it once per interval; when that worker dies, the lock
expires and another worker takes the next turn. A flushed Redis only loses the locks: a task may then
run twice in one interval, so every task must be safe to run twice (the database decides, e.g. with a
compare-and-set) and short (seconds, not minutes).

Register a periodic task from a feature's ``init_app``::

    from portal import maintenance
    maintenance.register("schedules-due", start_due_schedules, every="SCHEDULES_TICK_SECONDS")

``every`` is seconds or the name of a config setting holding seconds; the task is called without
arguments inside an app context (its database session is removed afterwards).
"""
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from uuid import uuid4

from redis.exceptions import RedisError

from .extensions import db
from .queue import redis_connection

log = logging.getLogger(__name__)

LOCK_PREFIX = "portal:maintenance:"
DEFAULT_EVERY = 15.0
# Held by the timer while it runs tasks, and by the worker around every fork (its work horses and RQ's
# scheduler process: ``portal.worker``): a fork while the timer holds some lock (a module being imported,
# a connection pool's) would leave that lock held for ever in the child, which then hangs. Re-entrant: the
# worker's thread takes it again at the fork itself.
fork_guard = threading.RLock()


@dataclass(frozen=True)
class Task:
    name: str
    func: object
    every: object = None      # seconds, a config key, or None (DEFAULT_EVERY)

    def interval(self, config):
        every = self.every
        if isinstance(every, str):
            every = config.get(every, DEFAULT_EVERY)
        return float(DEFAULT_EVERY if every is None else every)


_tasks = {}


def register(name, func, every=None):
    """Add (or replace, by name) a periodic task. Idempotent: registering twice keeps one task."""
    _tasks[name] = Task(name, func, every)
    return func


def unregister(name):
    _tasks.pop(name, None)


def tasks():
    return list(_tasks.values())


def worker_name():
    """A readable, unique name for this worker process: host, process id and a short random suffix."""
    return f"{socket.gethostname()}.{os.getpid()}.{uuid4().hex[:4]}"


def run_due(app, owner=None, only=None):
    """Offer every task a turn: run those whose lock this caller gets. Returns ``{name: outcome}`` with
    the task's result, ``"locked"`` (another worker has this turn), ``"error"`` or ``"no-redis"``."""
    owner = owner or worker_name()
    outcomes = {}
    with app.app_context():
        connection = redis_connection()
        for task in tasks():
            if only is not None and task.name not in only:
                continue
            interval = task.interval(app.config)
            try:
                acquired = connection.set(LOCK_PREFIX + task.name, owner, nx=True,
                                          px=max(1, int(interval * 1000)))
            except RedisError as exc:
                # Without Redis no job can be enqueued either; the next tick tries again.
                log.warning("maintenance: Redis unavailable (%s); %s waits", type(exc).__name__, task.name)
                outcomes[task.name] = "no-redis"
                continue
            if not acquired:
                outcomes[task.name] = "locked"
                continue
            try:
                outcomes[task.name] = task.func()
            except Exception:
                log.exception("maintenance task %s failed", task.name)
                db.session.rollback()
                outcomes[task.name] = "error"
            finally:
                db.session.remove()
    return outcomes


class Timer(threading.Thread):
    """The worker's maintenance thread: offers the tasks a turn at once, then every tick."""

    def __init__(self, app, owner=None, tick=None):
        super().__init__(name="portal-maintenance", daemon=True)
        self.app = app
        self.owner = owner or worker_name()
        self.tick = float(app.config.get("PORTAL_MAINTENANCE_TICK", 5) if tick is None else tick)
        self.stopped = threading.Event()
        self.rounds = 0

    def run(self):
        log.info("maintenance timer of %s: every %ss, tasks %s", self.owner, self.tick,
                 ", ".join(t.name for t in tasks()))
        while not self.stopped.is_set():
            started = time.monotonic()
            try:
                with fork_guard:
                    run_due(self.app, self.owner)
            except Exception:          # never let the timer die: the next tick tries again
                log.exception("maintenance round failed")
            self.rounds += 1
            self.stopped.wait(max(0.0, self.tick - (time.monotonic() - started)))

    def stop(self, timeout=5):
        self.stopped.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)


def start(app, owner=None):
    timer = Timer(app, owner)
    timer.start()
    return timer
