"""The managers' overview of every export: filters, sorting, paging, totals per status, CSV."""
from flask import Blueprint

bp = Blueprint("overview", __name__, url_prefix="/overview")

from . import views  # noqa: E402,F401


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from .. import navigation
    from ..models import Permission
    app.register_blueprint(bp)
    navigation.register(app, "overview.index", _l("Overview"), [Permission.VIEW_EXPORTS],
                        _l("Every export that ran, test and production, with its status and errors."), order=30)
