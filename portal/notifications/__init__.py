"""Notifications (issue 12): subscriptions per profile, unread notifications on the home page, and
e-mail by SMTP from the worker through an outbox (never twice for one event, retried while the server
is down)."""
from flask import Blueprint

bp = Blueprint("notifications", __name__)


def init_app(app):
    from . import models  # noqa: F401  (registers the tables)
    from .services import mail, tick
    mail.init_app(app)
    from . import views  # noqa: F401  (routes)
    app.register_blueprint(bp)
    from .. import maintenance
    maintenance.register("notifications", tick, every="NOTIFICATIONS_TICK_SECONDS")
    from .views import init_views
    init_views(app)
    from .. import navigation
    from ..models import Permission
    from flask_babel import lazy_gettext as _l
    navigation.register(app, "notifications.settings", _l("Notifications"),
                        [Permission.IMPORT_EXPORT, Permission.VIEW_EXPORTS],
                        _l("Choose which exports you hear about by e-mail: failed, stopped, finished, skipped."),
                        order=80)
