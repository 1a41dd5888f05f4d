"""The Visma.net sandbox: a local stand-in for Visma Connect and the part of the ERP API the portal uses.

Mounted at ``/sandbox`` only when ``SANDBOX_ENABLED`` (demo and test configuration; production refuses
to start with it on). Its state lives in the ``sandbox_*`` tables, so it works behind several processes.
"""
import os

from flask import Blueprint

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")

DEFAULTS = {
    "SANDBOX_ACCESS_TOKEN_SECONDS": 300,
    "SANDBOX_REFRESH_TOKEN_SECONDS": 30 * 24 * 3600,
    "SANDBOX_CODE_SECONDS": 120,
    "SANDBOX_AUTHORIZATION_REQUEST_SECONDS": 900,
    # X-RateLimit-*: requests per company per fixed window (Visma.net's "4-fixed-window" policy).
    "SANDBOX_RATE_LIMIT": 5000,
    "SANDBOX_RATE_LIMIT_WINDOW_SECONDS": 3600,
    # Periods before this one (YYYYMM) are closed in every company.
    "SANDBOX_FIRST_OPEN_PERIOD": "202501",
}


def init_app(app):
    if not app.config.get("SANDBOX_ENABLED"):
        return
    for key, value in DEFAULTS.items():
        # The environment may change a default (e.g. SANDBOX_ACCESS_TOKEN_SECONDS=60 for a demo).
        app.config.setdefault(key, type(value)(os.environ.get(key, value)))
    from . import api, mail, pages, views  # noqa: F401  (routes)
    from .views import CSRF_EXEMPT
    from ..extensions import csrf
    for view in CSRF_EXEMPT:
        csrf.exempt(view)
    app.register_blueprint(bp)
