"""Administrators manage users: permissions, language, active flag."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import views  # noqa: E402,F401


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from .. import navigation
    from ..models import Permission
    app.register_blueprint(bp)
    navigation.register(app, "admin.users", _l("Users"), [Permission.MANAGE_USERS],
                        _l("Who may use the portal, with which permissions and language."), order=90)
    navigation.register(app, "admin.audit_log", _l("Audit log"), [Permission.MANAGE_USERS],
                        _l("Who did what and when, in the portal."), order=95)
