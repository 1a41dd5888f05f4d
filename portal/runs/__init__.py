"""Runs: Start export, the run panel with live progress, files and report, Show exports, scheduled
runs, the scenarios table (Process / Process all), prepared data, mapping history and roll back."""
from flask import Blueprint

bp = Blueprint("runs", __name__)

from . import cells, labels, views  # noqa: E402,F401


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from .. import navigation
    from ..models import Permission
    app.register_blueprint(bp)
    app.jinja_env.globals["sync_stops"] = views.sync_stops
    app.jinja_env.globals["skip_reason_max"] = views.visma_net.SKIP_REASON_MAX
    app.jinja_env.globals["value_text"] = cells.cell
    app.jinja_env.globals["record_label"] = cells.record_label
    navigation.register(app, "runs.scenarios", _l("Scenarios"), [Permission.IMPORT_EXPORT],
                        _l("Prepare, export and roll back several export profiles at once."), order=20)
