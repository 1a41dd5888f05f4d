"""Recurring schedules of export profiles (issue 12): daily, weekly, monthly, quarterly starts in the
organisation's time zone, each made exactly once by the worker's periodic tick."""
from flask import Blueprint

bp = Blueprint("schedules", __name__)


def init_app(app):
    from . import models  # noqa: F401  (registers the tables)
    from . import views  # noqa: F401  (routes)
    from .services import run_due_schedules
    app.register_blueprint(bp)
    # Every worker offers it a turn on its maintenance timer (one worker per interval; the database's
    # unique keys make a second run of the same start harmless).
    from .. import maintenance
    maintenance.register("schedules-due", run_due_schedules, every="SCHEDULES_TICK_SECONDS")
    from . import labels
    from .services import start_of_run, starts_of_runs
    app.jinja_env.globals.update(schedule_started_by=labels.started_by, schedule_describe=labels.describe,
                                 schedule_details=labels.details,
                                 who_started=labels.who_started,
                                 run_schedule_start=start_of_run, schedule_starts_of=starts_of_runs,
                                 schedule_window_label=lambda key: labels.WINDOW_LABELS.get(key, key))
