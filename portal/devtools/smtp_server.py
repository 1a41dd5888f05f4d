"""A local SMTP server that keeps every message it receives in a Maildir (aiosmtpd).

``make demo`` starts one so that a new user sees a notification arrive (``/sandbox/mail`` shows the
Maildir); the tests send through one on this machine. ``python -m portal.devtools.smtp_server
--port 8025 --maildir instance/sandbox-mail`` runs it alone.
"""
import argparse
import email
import email.policy
import mailbox
import os
import signal
import socket
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


def free_port(host="127.0.0.1"):
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def start(maildir, host="127.0.0.1", port=8025):
    """Start the server in a thread; returns the aiosmtpd ``Controller`` (``.stop()`` ends it)."""
    os.makedirs(os.path.dirname(os.path.abspath(maildir)), exist_ok=True)
    mailbox.Maildir(maildir, create=True)   # makes new/, cur/ and tmp/ when missing
    controller = Controller(Mailbox(maildir), hostname=host, port=port)
    controller.start()
    return controller


def received(maildir):
    """The messages in the Maildir, oldest first, as dicts: to, from, subject, date, body (text)."""
    if not os.path.isdir(os.path.join(maildir, "new")):
        return []
    box = mailbox.Maildir(maildir, factory=None, create=False)
    messages = []
    for key in box.keys():
        message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        messages.append({"key": key, "to": str(message["To"] or ""), "from": str(message["From"] or ""),
                         "subject": str(message["Subject"] or ""), "date": str(message["Date"] or ""),
                         "body": body.get_content() if body is not None else ""})
    # Maildir names begin with the time of delivery: sorting them sorts by arrival.
    return sorted(messages, key=lambda m: m["key"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--maildir", required=True)
    args = parser.parse_args()
    controller = start(args.maildir, args.host, args.port)
    print(f"SMTP server on {args.host}:{args.port}, keeping mail in {args.maildir}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
