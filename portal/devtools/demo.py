"""``make demo``: migrate, seed, make sure Redis answers, start a worker and serve the portal.

Ctrl-C stops everything it started.
"""
import os
import signal
import subprocess
import sys

from ..config import ROOT
from . import redis_server, smtp_server

DEMO_SIGN_INS = ["admin@example.com", "consultant@example.com", "manager@example.com", "staff@example.com"]


def flask(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, check=True, **kwargs)


def _hear_ctrl_c():
    """A shell starts background jobs with SIGINT ignored, and Python keeps it ignored: then neither
    this runner nor its children would stop on SIGINT. Listen to it again (here and in each child)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _child_hears_ctrl_c():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def main():
    _hear_ctrl_c()
    os.environ.setdefault("PORTAL_ENV", "demo")
    port = os.environ.get("PORT", "5000")
    base_url = os.environ.setdefault("PORTAL_BASE_URL", f"http://127.0.0.1:{port}")  # the sandbox's URLs
    redis_url = os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    redis_process = redis_server.ensure(redis_url)
    children = []
    try:
        flask("db", "upgrade")
        flask("demo", "seed")
        children.append(_start_smtp_server())
        children.append(subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, preexec_fn=_child_hears_ctrl_c))
        print(f"\nExport Portal demo at {base_url}")
        print("Sign in with any of these (password: demo):")
        for email in DEMO_SIGN_INS:
            print(f"  {email}")
        print("Stop with Ctrl-C.\n", flush=True)
        server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "run", "--host", "127.0.0.1",
                                   "--port", port, "--with-threads"], cwd=ROOT, preexec_fn=_child_hears_ctrl_c)
        children.append(server)
        server.wait()
    except KeyboardInterrupt:
        pass  # Ctrl-C: stop what we started, below
    finally:
        _stop(children)
        redis_server.stop(redis_process)


def _start_smtp_server():
    """The local SMTP server that keeps what the portal mails (shown at /sandbox/mail). Its port is
    ``SMTP_PORT`` (8025), or a free one when that is taken; the worker and web server are told which."""
    port = int(os.environ.get("SMTP_PORT") or 8025)
    if not _port_free(port):
        port = smtp_server.free_port()
    os.environ["SMTP_PORT"] = str(port)
    os.environ.setdefault("SMTP_HOST", "127.0.0.1")
    maildir = os.environ.setdefault("SANDBOX_MAIL_DIR", str(ROOT / "instance" / "sandbox-mail"))
    print(f"Local SMTP server on 127.0.0.1:{port}; received mail at /sandbox/mail", flush=True)
    return subprocess.Popen([sys.executable, "-m", "portal.devtools.smtp_server", "--port", str(port),
                             "--maildir", maildir], cwd=ROOT, preexec_fn=_child_hears_ctrl_c)


def _port_free(port):
    import socket
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _stop(children):
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    main()
