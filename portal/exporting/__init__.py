"""The export engine: profiles, runs, sync types, prepare / export / roll back, executed by RQ workers.

Views and the API call ``portal.exporting.services``; workers run ``portal.exporting.jobs.execute_run``.
"""


def init_app(app):
    from .types import sql  # noqa: F401  (registers the fingerprint function on SQLite connections)
    from .. import maintenance
    from .reconciler import reconcile
    maintenance.register("export-reconciler", reconcile, every="EXPORT_RECONCILE_SECONDS")
