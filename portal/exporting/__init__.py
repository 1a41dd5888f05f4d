"""The export engine: profiles, runs, sync types, prepare / export / roll back, executed by RQ workers.

Views and the API call ``portal.exporting.services``; workers run ``portal.exporting.jobs.execute_run``.
"""


def init_app(app):
    from .reconciler import on_worker_start
    app.extensions.setdefault("portal_worker_start_hooks", []).append(on_worker_start)
