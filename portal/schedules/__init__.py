"""Recurring schedules of export profiles (issue 12): daily, weekly, monthly, quarterly starts in the
organisation's time zone, each made exactly once by the worker's periodic tick."""
from flask import Blueprint

bp = Blueprint("schedules", __name__)


def init_app(app):
    from . import models  # noqa: F401  (registers the tables)
    from .services import run_due_schedules
    # The worker's periodic pass (see portal.exporting.reconciler.reconcile_job).
    app.extensions.setdefault("portal_periodic_tasks", []).append(("schedules", run_due_schedules))
