"""The export engine: profiles, runs, sync types, prepare / export / roll back, executed by RQ workers.

Views and the API call ``portal.exporting.services``; workers run ``portal.exporting.jobs.execute_run``.
"""


def init_app(app):
    import os
    app.config.setdefault("EXPORT_BATCH_SIZE", int(os.environ.get("PORTAL_EXPORT_BATCH_SIZE", 2000)))
    app.config.setdefault("EXPORT_PROGRESS_INTERVAL", 0.3)
    app.config.setdefault("EXPORT_STALE_SECONDS", float(os.environ.get("PORTAL_STALE_RUN_SECONDS", 300)))
    app.config.setdefault("EXPORT_RECONCILE_SECONDS", float(os.environ.get("PORTAL_RECONCILE_SECONDS", 60)))
    from .reconciler import on_worker_start
    app.extensions.setdefault("portal_worker_start_hooks", []).append(on_worker_start)
