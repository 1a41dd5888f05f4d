"""The export engine: profiles, runs, sync types, prepare / export / roll back, executed by RQ workers.

Views and the API call ``portal.exporting.services``; workers run ``portal.exporting.jobs.execute_run``.
"""


def init_app(app):
    import os
    app.config.setdefault("EXPORT_BATCH_SIZE", int(os.environ.get("PORTAL_EXPORT_BATCH_SIZE", 2000)))
    app.config.setdefault("EXPORT_PROGRESS_INTERVAL", 0.3)
    app.config.setdefault("EXPORT_STALE_SECONDS", float(os.environ.get("PORTAL_STALE_RUN_SECONDS", 300)))
    from .. import maintenance
    from .reconciler import reconcile
    maintenance.register("export-reconciler", reconcile, every="EXPORT_RECONCILE_SECONDS")
