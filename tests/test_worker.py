"""``python worker.py`` starts an RQ worker that /health counts, and stops cleanly."""
import os
import signal
import subprocess
import sys
import time

from portal.config import ROOT
from tests.conftest import SQLITE_URL


def _workers(client):
    return client.get("/health").get_json()["workers"]


def test_worker_starts_is_counted_by_health_and_stops(app, client, redis_url, tmp_path):
    assert _workers(client) == 0
    env = {**os.environ, "PORTAL_ENV": "test", "TEST_REDIS_URL": redis_url, "TEST_DATABASE_URL": SQLITE_URL,
           "TEST_STORAGE_DIR": str(tmp_path)}
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while _workers(client) == 0 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.3)
        assert _workers(client) == 1, log_path.read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert _workers(client) == 0  # it unregistered itself
    output = log_path.read_text()
    assert "worker starting on queues exports,default" in output
    assert "level=INFO" in output  # the worker logs structured lines too
