"""Structured log lines (key=value) carrying a request or job id; secrets are masked."""
import logging
import re
import sys
import uuid

from flask import g, has_request_context, request
from rq import get_current_job

# Anything that looks like a credential is masked before a line is written: ``key=value`` (also in a
# query string), ``"key": "value"`` (JSON, a dict; a quoted value to its closing quote),
# ``Authorization: Bearer value``, and OAuth codes in query strings. Only a value that a ``:`` or ``=``
# gives the key: in prose the word after "password" or "token" is a word ("wrong password or inactive
# user", "POST /sandbox/connect/token -> 200").
_SECRET = re.compile(
    r"(?i)(password|passwd|secret|token|authorization|api[_-]?key|cookie|code_verifier)"
    r"(['\"]?\s*[:=]\s*)"
    r"(?:(['\"])((?:bearer|basic)\s+)?[^'\"]*(?=\3)|((?:bearer|basic)\s+)?[^\s'\",&]+)")
_QUERY_CODE = re.compile(r"(?i)([?&](?:code|state)=)[^&\s'\"]+")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def mask(text):
    text = _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}{m.group(4) or m.group(5) or ''}***",
                       text)
    return _QUERY_CODE.sub(lambda m: f"{m.group(1)}***", text)


class ContextFilter(logging.Filter):
    def filter(self, record):
        record.request_id = "-"
        if has_request_context():
            record.request_id = getattr(g, "request_id", "-")
        else:
            job = get_current_job()         # None outside a job
            if job is not None:
                record.request_id = f"job:{job.id}"
        return True


class MaskingFormatter(logging.Formatter):
    def format(self, record):
        return mask(super().format(record))


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (so that a captured stderr sees the lines)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s id=%(request_id)s msg=%(message)s"


def configure(level=logging.INFO):
    handler = StderrHandler()
    handler.setFormatter(MaskingFormatter(FORMAT))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def init_app(app):
    configure(logging.DEBUG if app.debug else logging.INFO)
    # Werkzeug's access log would print query strings (OAuth codes); ours is masked instead.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    @app.before_request
    def _request_id():
        # A caller's id is kept only when it is harmless (it is written into every log line).
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex[:12]

    @app.after_request
    def _log_request(response):
        app.logger.info("%s %s -> %s", request.method, request.path, response.status_code)
        response.headers["X-Request-Id"] = getattr(g, "request_id", "")
        return response
