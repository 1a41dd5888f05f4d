"""Structured log lines (key=value) carrying a request or job id; secrets are masked."""
import logging
import re
import sys
import uuid

from flask import g, has_request_context, request

# Anything that looks like a credential is masked before a line is written.
_SECRET = re.compile(
    r"(?i)(password|passwd|secret|token|authorization|client_secret|refresh_token|access_token|code_verifier)"
    r"(['\"]?\s*[:=]\s*['\"]?|\s+)([^\s'\",&]+)")


def mask(text):
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


class ContextFilter(logging.Filter):
    def filter(self, record):
        record.request_id = "-"
        if has_request_context():
            record.request_id = getattr(g, "request_id", "-")
        else:
            try:
                from rq import get_current_job
                job = get_current_job()
            except Exception:  # rq not importable outside a worker is fine: no job id then
                job = None
            if job is not None:
                record.request_id = f"job:{job.id}"
        return True


class MaskingFormatter(logging.Formatter):
    def format(self, record):
        return mask(super().format(record))


FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s id=%(request_id)s msg=%(message)s"


def configure(level=logging.INFO):
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter(FORMAT))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def init_app(app):
    configure(logging.DEBUG if app.debug else logging.INFO)
    # Werkzeug's access log would print query strings (OAuth codes); ours is masked instead.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    @app.before_request
    def _request_id():
        g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex[:12]

    @app.after_request
    def _log_request(response):
        app.logger.info("%s %s -> %s", request.method, request.path, response.status_code)
        response.headers["X-Request-Id"] = getattr(g, "request_id", "")
        return response
