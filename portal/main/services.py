"""Health of the parts the portal depends on."""
from sqlalchemy import text

from ..extensions import db
from ..queue import redis_connection


def health():
    report = {"database": "ok", "redis": "ok", "workers": 0}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # reported, not raised: this is the monitoring answer
        report["database"] = f"error: {type(exc).__name__}"
        db.session.rollback()
    try:
        from rq import Worker
        connection = redis_connection()
        connection.ping()
        report["workers"] = Worker.count(connection=connection)
    except Exception as exc:
        report["redis"] = f"error: {type(exc).__name__}"
    report["status"] = "ok" if report["database"] == "ok" and report["redis"] == "ok" else "error"
    return report
