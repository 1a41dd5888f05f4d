"""The Visma.net sandbox: a local stand-in for Visma Connect and the part of the ERP API the portal uses.

Mounted at ``/sandbox`` only when ``SANDBOX_ENABLED`` (demo and test configuration; production refuses
to start with it on). Its state lives in the ``sandbox_*`` tables, so it works behind several processes.
"""
from flask import Blueprint

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")


def init_app(app):
    if not app.config.get("SANDBOX_ENABLED"):
        return
    from . import api, mail, pages, views  # noqa: F401  (routes)
    from .views import CSRF_EXEMPT
    from ..extensions import csrf
    for view in CSRF_EXEMPT:
        csrf.exempt(view)
    app.register_blueprint(bp)
