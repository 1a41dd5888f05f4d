"""``make demo``'s runner: migrates, seeds, starts Redis (when none answers), a worker and the portal;
Ctrl-C (SIGINT to the foreground process group, as a terminal sends it) and SIGTERM to the runner alone
(as ``kill``, a script or a service manager sends it) stop everything it started, its Redis included."""
import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest
import requests

from portal.config import ROOT
from portal.devtools import redis_server
from tests.factories import csrf_from


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url, process, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the demo stopped early"
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def _ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ctrl_c(demo):
    os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in the terminal does: the whole foreground group


def _sigterm(demo):
    demo.send_signal(signal.SIGTERM)  # what ``kill PID`` does: the runner alone, it must stop the rest


# Started from a terminal, or in the background by a script (which starts it with SIGINT ignored);
# stopped with Ctrl-C, or with SIGTERM to the runner's process only.
@pytest.mark.parametrize("background,stop", [(False, _ctrl_c), (True, _ctrl_c), (True, _sigterm)],
                         ids=["terminal-ctrl-c", "background-ctrl-c", "background-sigterm"])
def test_demo_serves_signs_in_and_stops_everything(tmp_path, background, stop):
    port, redis_port = _free_port(), _free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    env = {**os.environ, "PORTAL_ENV": "demo", "PORT": str(port), "REDIS_URL": redis_url,
           "DATABASE_URL": f"sqlite:///{tmp_path}/demo.db", "PORTAL_STORAGE_DIR": str(tmp_path / "storage")}
    env.pop("PORTAL_BASE_URL", None)
    log_path = tmp_path / "demo.log"
    with open(log_path, "w") as log:
        demo = subprocess.Popen([sys.executable, "-m", "portal.devtools.demo"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=_ignore_sigint if background else None)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base + "/auth/login", demo)
        output = log_path.read_text()
        assert f"Export Portal demo at {base}" in output
        for email in ("admin@example.com", "consultant@example.com", "manager@example.com", "staff@example.com"):
            assert email in output
        assert redis_server.answers(redis_url)  # it started its own Redis

        session = requests.Session()
        page = session.get(base + "/auth/login").text
        token = csrf_from(page)
        response = session.post(base + "/auth/login", data={"email": "staff@example.com", "password": "demo",
                                                             "csrf_token": token}, allow_redirects=False)
        assert response.status_code == 302
        assert "Sam Staff" in session.get(base + "/").text
        # The worker registers in Redis a moment after the web server answers (it starts in parallel).
        deadline = time.monotonic() + 60
        while session.get(base + "/health").json()["workers"] < 1:
            assert time.monotonic() < deadline, "no worker registered within 60 s"
            time.sleep(0.5)
        started = [p for p in psutil.Process(demo.pid).children(recursive=True)]
        assert len(started) >= 3  # redis-server, worker, web server
    finally:
        stop(demo)
        demo.wait(timeout=60)
    assert not redis_server.answers(redis_url)
    gone, alive = psutil.wait_procs(started, timeout=15)
    assert not alive, [p.pid for p in alive]
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
