"""``python worker.py`` starts an RQ worker that /health counts, and stops cleanly."""
import os
import re
import signal
import subprocess
import sys
import time

from portal.config import ROOT
from tests.conftest import SQLITE_URL


def _workers(client):
    return client.get("/health").get_json()["workers"]


def _registered(redis_url, pid):
    """Whether a worker with this process id is registered in Redis."""
    from redis import Redis
    from rq import Worker
    return any(worker.pid == pid for worker in Worker.all(connection=Redis.from_url(redis_url)))


def test_worker_starts_is_counted_by_health_and_stops(app, client, redis_url, tmp_path):
    assert _workers(client) == 0
    env = {**os.environ, "PORTAL_ENV": "test", "TEST_REDIS_URL": redis_url, "TEST_DATABASE_URL": SQLITE_URL,
           "TEST_STORAGE_DIR": str(tmp_path)}
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while not _registered(redis_url, process.pid) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.3)
        assert _registered(redis_url, process.pid), log_path.read_text()
        assert _workers(client) >= 1  # /health counts it
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    # It unregistered itself. (Asked by its process id: a worker killed by another test, which could
    # not unregister, may still be listed until Redis expires it.)
    assert not _registered(redis_url, process.pid)
    output = log_path.read_text()
    assert "worker starting on queues exports,default" in output
    assert "level=INFO" in output  # the worker logs structured lines too


# The SIGTERM arrives just after RQ started its scheduler process and before RQ installed its own stop
# handlers (the window a slow machine hits when a worker is stopped as soon as it is listed).
_STOPPED_WHILE_STARTING = """
import os, signal
from rq.worker import Worker
install = Worker._install_signal_handlers
def stopped_first(self):
    print("scheduler process", self.scheduler._process.pid, flush=True)
    os.kill(os.getpid(), signal.SIGTERM)
    install(self)
Worker._install_signal_handlers = stopped_first
from portal.worker import main
main()
"""


def test_worker_stopped_while_its_scheduler_starts_exits_and_stops_the_scheduler(redis_url, tmp_path):
    from redis import Redis
    connection = Redis.from_url(redis_url)
    for key in connection.scan_iter("rq:scheduler-lock:*"):    # a killed worker's lock would keep the scheduler off
        connection.delete(key)
    env = {**os.environ, "PORTAL_ENV": "test", "TEST_REDIS_URL": redis_url, "TEST_DATABASE_URL": SQLITE_URL,
           "TEST_STORAGE_DIR": str(tmp_path)}
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-c", _STOPPED_WHILE_STARTING], cwd=ROOT, env=env,
                                   stdout=log, stderr=log)
    output = _exit_of(process, log_path)
    scheduler_pid = int(re.search(r"scheduler process (\d+)", output).group(1))
    assert not _alive(scheduler_pid), output
    assert not _registered(redis_url, process.pid)


# RQ's scheduler process that does not end on SIGTERM (stuck, or still starting): the worker's stop kills
# it after SCHEDULER_STOP_SECONDS instead of waiting for ever.
_DEAF_SCHEDULER = """
import signal
from rq.scheduler import RQScheduler
def deaf(self):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
RQScheduler._install_signal_handlers = deaf
from portal.worker import main
main()
"""


def test_a_scheduler_process_that_does_not_stop_is_killed_and_the_worker_stops(redis_url, tmp_path):
    from redis import Redis
    connection = Redis.from_url(redis_url)
    for key in connection.scan_iter("rq:scheduler-lock:*"):
        connection.delete(key)
    env = {**os.environ, "PORTAL_ENV": "test", "TEST_REDIS_URL": redis_url, "TEST_DATABASE_URL": SQLITE_URL,
           "TEST_STORAGE_DIR": str(tmp_path)}
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-c", _DEAF_SCHEDULER], cwd=ROOT, env=env, stdout=log,
                                   stderr=log)
    deadline = time.monotonic() + 60
    while "Scheduler for" not in log_path.read_text() and time.monotonic() < deadline \
            and process.poll() is None:
        time.sleep(0.3)
    scheduler_pid = int(re.search(r"Scheduler for .* started with PID (\d+)", log_path.read_text()).group(1))
    time.sleep(0.5)            # the scheduler has set its (deaf) handler
    process.send_signal(signal.SIGTERM)
    output = _exit_of(process, log_path, also=scheduler_pid)
    assert "did not stop in" in output
    assert not _alive(scheduler_pid), output
    assert not _registered(redis_url, process.pid)


def _exit_of(process, log_path, also=None):
    """The worker's log once it has exited by itself with status 0; a worker (or its scheduler process)
    still there after 60 s fails the test with its log, and is killed."""
    try:
        returncode = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        returncode = None
    finally:
        for pid in (process.pid, also):
            if pid and _alive(pid):
                os.kill(pid, signal.SIGKILL)
    output = log_path.read_text()
    assert returncode == 0, output
    return output


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
