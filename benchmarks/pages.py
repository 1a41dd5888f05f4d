"""How fast the pages answer with realistic data: the overview over N runs (a year of history) and the
Prepared data dialog of one run with M prepared rows. Real HTTP handling through the app (the test
client), signed in; each page is asked several times and the median is printed. No assertions.

    python benchmarks/pages.py --runs 100000 --rows 1000000 --database sqlite:///instance/bench-pages.db
    python benchmarks/pages.py --database postgresql+psycopg://postgres@127.0.0.1/portal_bench_pages

The database is a scratch database: it is migrated and its export tables are emptied. The last line
is one JSON object with the figures (milliseconds) and the number of SQL statements per page.
"""
import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATUSES = ["exported", "exported", "exported", "partially_processed", "failed", "cancelled", "rolled_back"]


def _app(database):
    os.environ["DATABASE_URL"] = database
    os.environ.setdefault("PORTAL_ENV", "demo")
    from portal import create_app
    return create_app()


def seed(db, runs, rows):
    from sqlalchemy import insert, text
    from portal.demo.seed import seed_users
    from portal.exporting.services import create_profile
    from portal.models import User
    from portal.models.exporting import PreparedRow, Run
    for table in ("report_items", "prepared_rows", "run_files", "mapping_history", "ledger_entries", "runs",
                  "export_profiles"):
        db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()
    seed_users()
    starters = [u.id for u in db.session.execute(db.select(User)).scalars()]
    profiles = [create_profile(name=f"Profile {i}", export_type=t, options={"format": "csv"}).id
                for i, t in enumerate(["journal_entries", "invoices", "hours", "payments", "products"])]
    start, step, batch = datetime(2025, 11, 21), timedelta(days=365) / runs, []
    for i in range(runs):
        at = start + step * i
        status = STATUSES[i % len(STATUSES)]
        batch.append({"profile_id": profiles[i % len(profiles)],
                      "mode": "production" if i % 4 == 0 and status != "partially_processed" else "test",
                      "operation": "prepare_and_export", "params": {}, "window_start": at.date(),
                      "window_end": at.date(), "status": status, "done": 10, "total": 10,
                      "counts": {"records": 10, "processed": 10, "errors": int(i % 7 == 3)},
                      "started_by_id": starters[i % len(starters)], "started_at": at,
                      "finished_at": at + timedelta(minutes=2), "attempts": 1, "export_passes": 1, "locale": "en",
                      "updated_at": at})
        if len(batch) == 20000:
            db.session.execute(insert(Run), batch)
            batch = []
    if batch:
        db.session.execute(insert(Run), batch)
    big = Run(profile_id=profiles[3], mode="production", operation="prepare", params={}, status="prepared",
              window_start=start.date(), window_end=start.date(), started_by_id=starters[0], counts={})
    db.session.add(big)
    db.session.commit()
    batch = []
    for i in range(rows):
        batch.append({"run_id": big.id, "seq": i, "record_key": f"R{i:08d}", "group_key": "",
                      "payload": {"receipt_number": f"R{i:08d}", "amount": "12.50"}, "active": True,
                      "processed": False, "invalid": False, "error": "Amount missing" if i % 1000 == 7 else None})
        if len(batch) == 20000:
            db.session.execute(insert(PreparedRow), batch)
            batch = []
    if batch:
        db.session.execute(insert(PreparedRow), batch)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return big.id


def timed(client, engine, url, repeat):
    from sqlalchemy import event
    statements = []

    def count(*_args):
        statements.append(1)

    times = []
    for _ in range(repeat):
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, (url, response.status_code)
    return round(statistics.median(times), 1), len(statements)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", default=f"sqlite:///{ROOT / 'instance' / 'bench-pages.db'}")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app = _app(args.database)
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        from flask_migrate import upgrade
        from portal.extensions import db
        upgrade()
        started = time.perf_counter()
        run_id = seed(db, args.runs, args.rows)
        print(f"seeded {args.runs:,} runs and {args.rows:,} prepared rows in {time.perf_counter() - started:.1f} s")
        engine = db.engine
    client = app.test_client()
    client.post("/auth/login", data={"email": "consultant@example.com", "password": "demo"})
    pages = {
        "overview_first": "/overview/",
        "overview_deep": f"/overview/?page={max(1, args.runs // 100)}&sort=profile&dir=asc",
        "overview_filtered": "/overview/?mode=production&status=failed&date_from=2026-05-01&date_to=2026-05-31",
        "prepared_first": f"/runs/{run_id}/prepared",
        "prepared_deep": f"/runs/{run_id}/prepared?page={max(1, args.rows // 50 - 1)}",
        "prepared_errors": f"/runs/{run_id}/prepared?errors=1&page=3",
        "profiles": "/profiles/",
        "scenarios": "/scenarios?operation=export",
    }
    figures = {"runs": args.runs, "rows": args.rows, "database": engine.dialect.name}
    for name, url in pages.items():
        ms, statements = timed(client, engine, url, args.repeat)
        figures[f"{name}_ms"], figures[f"{name}_statements"] = ms, statements
        print(f"{name:20} {ms:8.1f} ms  {statements:2d} statements  {url}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
