"""Prepare per export type: the set-based engine (one INSERT … SELECT) against the row-by-row engine
(payload, fingerprint and validations in Python), on the same demo data. Prints figures; asserts
nothing but that both engines prepared the same rows.

    .venv/bin/python benchmarks/prepare_types.py [--size 100000] [--only sqlite|postgresql] [--types invoices,hours]

Each database is created afresh (SQLite: a file under instance/; PostgreSQL: a database of its own,
``portal_bench_prepare_<checkout>``, or BENCH_POSTGRES_URL), migrated and seeded with ``demo seed --size N``
(N rows in each large table; on PostgreSQL then ANALYZEd, as autovacuum would). Per type, a *full* test run that only prepares, over the seed's thirteen
months, is executed in this process by ``jobs.execute_run`` — once by SQL, once row by row (the type's
``sql_source`` switched off) — and timed (wall clock and CPU of this process; PostgreSQL's own work is
in the wall clock only). The machine's load average is printed with the figures; the last line is one
JSON object with them.
"""
import argparse
import hashlib
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.seed_speed import fresh_database  # noqa: E402  (a fresh, empty database per engine)

CHECKOUT = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
SQLITE_URL = f"sqlite:///{ROOT / 'instance' / 'bench_prepare.db'}"
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL",
                              f"postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_prepare_{CHECKOUT}")
TYPES = ("journal_entries", "invoices", "hours", "payments", "purchase_orders", "products")


def _load():
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def _prepare(services, jobs, profile_id, window):
    """Start a test run that only prepares (never through Redis) and execute it here; (run id, s, cpu s)."""
    enqueue, jobs.enqueue_run = jobs.enqueue_run, lambda run: None
    try:
        run = services.start_run(profile_id, mode="test", operation="prepare", window_start=window[0],
                                 window_end=window[1])
    finally:
        jobs.enqueue_run = enqueue
    started, cpu = time.perf_counter(), time.process_time()
    jobs.execute_run(run.id)
    return run.id, time.perf_counter() - started, time.process_time() - cpu


def bench(url, size, types):
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal import create_app
    from portal.config import DemoConfig
    from portal.demo.seed import seed
    from portal.exporting import jobs, services
    from portal.exporting.types import get_type
    from portal.extensions import db
    from portal.models import PreparedRow, Run
    from portal.models import utcnow

    fresh_database(url)
    config = type("BenchConfig", (DemoConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    backend = make_url(url).get_backend_name()
    figures = {}
    with app.app_context():
        upgrade()
        print(f"\n{backend}: seeding demo data, --size {size:,} (load {_load()})", flush=True)
        seed(size=size)
        if backend == "postgresql":     # fresh statistics, as autovacuum would have them by the time anyone exports
            with db.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        today = utcnow().date()
        window = ((today - timedelta(days=420)).isoformat(), today.isoformat())
        print(f"{'type':<17} {'rows':>9} {'by SQL s':>9} {'row by row s':>13} {'ratio':>6} "
              f"{'SQL cpu s':>10} {'Python cpu s':>13}  load")
        for key in types:
            export_type = get_type(key)
            profile = services.create_profile(name=f"Bench {key}", export_type=key, options={"format": "csv"})
            fast_id, fast_s, fast_cpu = _prepare(services, jobs, profile.id, window)
            original = type(export_type).sql_source
            type(export_type).sql_source = lambda self, ctx, dialect: None
            try:
                slow_id, slow_s, slow_cpu = _prepare(services, jobs, profile.id, window)
            finally:
                type(export_type).sql_source = original
            counts = {}
            for run_id in (fast_id, slow_id):
                run = db.session.get(Run, run_id)
                assert run.status == "prepared", (key, run.status, run.error_reason)
                counts[run_id] = db.session.execute(select(func.count()).where(PreparedRow.run_id == run_id)).scalar()
            assert counts[fast_id] == counts[slow_id], (key, counts)
            rows = counts[fast_id]
            figures[key] = {"rows": rows, "sql_s": round(fast_s, 3), "row_by_row_s": round(slow_s, 3),
                            "ratio": round(slow_s / fast_s, 1) if fast_s else None,
                            "sql_cpu_s": round(fast_cpu, 2), "row_by_row_cpu_s": round(slow_cpu, 2),
                            "load": _load()}
            print(f"{key:<17} {rows:>9,} {fast_s:>9.2f} {slow_s:>13.2f} {slow_s / fast_s:>5.1f}× "
                  f"{fast_cpu:>10.2f} {slow_cpu:>13.2f}  {_load()}", flush=True)
            db.session.remove()
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--types", default=",".join(TYPES))
    args = parser.parse_args()
    os.environ.setdefault("PORTAL_ENV", "demo")
    types = [t for t in args.types.split(",") if t]
    result = {}
    for name, url in (("sqlite", SQLITE_URL), ("postgresql", POSTGRES_URL)):
        if args.only in (None, name):
            result[name] = bench(url, args.size, types)
    print(json.dumps({"size": args.size, "load": _load(), **result}))


if __name__ == "__main__":
    main()
