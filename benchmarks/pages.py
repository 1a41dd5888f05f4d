"""How fast the pages answer with realistic data: the overview over N runs (a year of history) and the
Prepared data dialog of a small run (1,000 rows) and of a big one (M rows). Real HTTP handling through
the app (Flask's test client: routing, sign-in session, permission check, queries, templates), signed in;
each page is asked ``--repeat`` times after one warm-up, and p50 and p95 are printed with the load
average. No assertions (speed is measured here, not in tests).

    python benchmarks/pages.py --runs 100000 --rows 1000000 --database sqlite:///instance/bench-pages.db
    python benchmarks/pages.py --database postgresql+psycopg://postgres@127.0.0.1/portal_bench_pages

The database is a scratch database: it is migrated and its export tables are emptied. The data is
seeded set-based (one ``INSERT … SELECT`` over ``generate_series`` / a recursive CTE per table), not
row by row. On PostgreSQL the seeded tables are then ``VACUUM ANALYZE``d (what autovacuum does after a
bulk insert). The last line is one JSON object with the figures (milliseconds), the number of SQL
statements per page and the load average.
"""
import argparse
import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# i % 7 → status (as tests/overview's seed_runs): exported ×3, partially processed, failed, cancelled, rolled back.
STATUS_CASE = ("CASE {i} % 7 WHEN 3 THEN 'partially_processed' WHEN 4 THEN 'failed' WHEN 5 THEN 'cancelled' "
               "WHEN 6 THEN 'rolled_back' ELSE 'exported' END")
SMALL_ROWS = 1000


def _app(database):
    os.environ["DATABASE_URL"] = database
    os.environ.setdefault("PORTAL_ENV", "demo")
    from portal import create_app
    return create_app()


def _numbers(dialect, n):
    """A FROM clause of the integers 0 … n-1 as ``i``."""
    if dialect == "postgresql":
        return f"generate_series(0, {n - 1}) AS n(i)"
    return (f"(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {n - 1}) "
            f"SELECT i FROM n) AS n")


def seed_runs(db, dialect, runs, profiles, starters):
    """``runs`` finished runs over one year, spread over profiles, statuses, modes and starters: one statement."""
    from sqlalchemy import text
    step = 365 * 86400 / runs
    status = STATUS_CASE.format(i="i")
    if dialect == "postgresql":
        at = f"(timestamp '2025-11-21' + make_interval(secs => i * {step}))"
        day, later, json_empty = f"CAST({at} AS date)", f"{at} + interval '2 minutes'", "'{}'::json"
        counts = "json_build_object('records', 10, 'processed', 10, 'errors', CASE WHEN i % 7 = 3 THEN 1 ELSE 0 END)"
    else:
        at = f"strftime('%Y-%m-%d %H:%M:%f000', '2025-11-21', '+' || (i * {step}) || ' seconds')"
        day = f"date('2025-11-21', '+' || (i * {step}) || ' seconds')"
        later = f"strftime('%Y-%m-%d %H:%M:%f000', '2025-11-21', '+' || (i * {step} + 120) || ' seconds')"
        json_empty = "'{}'"
        counts = "json_object('records', 10, 'processed', 10, 'errors', CASE WHEN i % 7 = 3 THEN 1 ELSE 0 END)"
    profile = "CASE i % {n} {whens} END".format(
        n=len(profiles), whens=" ".join(f"WHEN {k} THEN {p}" for k, p in enumerate(profiles)))
    starter = "CASE i % {n} {whens} END".format(
        n=len(starters), whens=" ".join(f"WHEN {k} THEN {s}" for k, s in enumerate(starters)))
    # A production run that is still active would hold its profile: only finished ones here.
    mode = "CASE WHEN i % 4 = 0 AND i % 7 <> 3 THEN 'production' ELSE 'test' END"
    db.session.execute(text(
        "INSERT INTO runs (profile_id, mode, operation, params, window_start, window_end, status, done, total, "
        "counts, started_by_id, started_at, finished_at, attempts, export_passes, locale, updated_at) "
        f"SELECT {profile}, {mode}, 'prepare_and_export', {json_empty}, {day}, {day}, {status}, 10, 10, "
        f"{counts}, {starter}, {at}, {later}, 1, 1, 'en', {at} FROM {_numbers(dialect, runs)}"))


def seed_prepared_rows(db, dialect, run_id, rows):
    """``rows`` prepared rows of one run, one in 1,000 with an error: one statement."""
    from sqlalchemy import text
    if dialect == "postgresql":
        key = "'R' || lpad(i::text, 8, '0')"
        payload = f"json_build_object('receipt_number', {key}, 'amount', '12.50')"
        false = "false"
        true = "true"
    else:
        key = "printf('R%08d', i)"
        payload = f"json_object('receipt_number', {key}, 'amount', '12.50')"
        false, true = "0", "1"
    db.session.execute(text(
        "INSERT INTO prepared_rows (run_id, seq, record_key, group_key, payload, active, processed, invalid, error) "
        f"SELECT {run_id}, i, {key}, '', {payload}, {true}, {false}, {false}, "
        f"CASE WHEN i % 1000 = 7 THEN 'Amount missing' END FROM {_numbers(dialect, rows)}"))


def seed(db, runs, rows):
    from sqlalchemy import text
    from portal.demo.seed import seed_users
    from portal.exporting.services import create_profile
    from portal.models import User
    from portal.models.exporting import Run
    dialect = db.engine.dialect.name
    for table in ("report_items", "prepared_rows", "run_files", "mapping_history", "ledger_current",
                  "ledger_entries", "run_attempts", "runs", "export_profiles"):
        try:
            db.session.execute(text(f"DELETE FROM {table}"))
        except Exception:  # a table another version of the schema does not have
            db.session.rollback()
    db.session.commit()
    seed_users()
    starters = [u.id for u in db.session.execute(db.select(User)).scalars()]
    profiles = [create_profile(name=f"Profile {i}", export_type=t, options={"format": "csv"}).id
                for i, t in enumerate(["journal_entries", "invoices", "hours", "payments", "products"])]
    seed_runs(db, dialect, runs, profiles, starters)
    db.session.commit()
    made = {}
    for name, count in (("small", SMALL_ROWS), ("big", rows)):
        run = Run(profile_id=profiles[3], mode="test", operation="prepare", params={}, status="prepared",
                  window_start=date(2026, 11, 1), window_end=date(2026, 11, 30), started_by_id=starters[0],
                  counts={"records": count, "prepared": count})
        db.session.add(run)
        db.session.commit()
        started = time.perf_counter()
        seed_prepared_rows(db, dialect, run.id, count)
        db.session.commit()
        print(f"  {count:>9,} prepared rows in {time.perf_counter() - started:.1f} s", flush=True)
        made[name] = run.id
    made["starter"] = starters[1]
    if dialect == "postgresql":
        connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("VACUUM ANALYZE runs"))
        connection.execute(text("VACUUM ANALYZE prepared_rows"))
        connection.close()
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return made


def row_id(db, run_id, seq):
    from sqlalchemy import select
    from portal.models.exporting import PreparedRow
    return db.session.execute(select(PreparedRow.id).where(PreparedRow.run_id == run_id,
                                                           PreparedRow.seq == seq)).scalar_one()


def offset_baseline(db, run_id, rows, repeat=5):
    """What the numbered pages cost before keyset paging, SQL only, measured now: the full count of the
    big run and its second-to-last page of 50 by OFFSET (p50 ms of ``repeat``)."""
    from sqlalchemy import func, select
    from portal.models.exporting import PreparedRow
    statements = {
        "before_full_count": select(func.count()).select_from(PreparedRow).where(PreparedRow.run_id == run_id),
        "before_offset_deep": select(PreparedRow).where(PreparedRow.run_id == run_id)
        .order_by(PreparedRow.group_key, PreparedRow.seq).limit(50).offset(max(0, rows - 100)),
    }
    figures = {}
    for name, stmt in statements.items():
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            db.session.execute(stmt).all()
            times.append((time.perf_counter() - started) * 1000)
        figures[f"{name}_sql_p50_ms"] = round(statistics.median(times), 1)
        print(f"{name + ' (SQL only)':28} {figures[f'{name}_sql_p50_ms']:6.1f}ms", flush=True)
    return figures


def overview_sql(db, runs, repeat=10):
    """SQL only (p50 ms of ``repeat`` after one warm-up), the overview's parts that read many runs: the
    ids of page ``runs // 100`` sorted by profile as the page takes them, on PostgreSQL also by the plain
    ORDER BY over the join (what it sorted before; SQLite still runs that one, walking its indexes), and
    the totals per status (every run)."""
    from sqlalchemy import select
    from portal.exporting import queries
    from portal.models.exporting import Run
    filters = queries.OverviewFilters(sort="profile", direction="asc")
    offset = (max(1, runs // 100) - 1) * queries.OVERVIEW_PER_PAGE
    plain = (select(Run.id).join(Run.profile).where(*filters.conditions())
             .order_by(*queries._overview_order(filters)))
    now = queries._ids_by_profile(filters) if db.engine.dialect.name == "postgresql" else plain
    statements = {"overview_profile_ids": now.limit(50).offset(offset)}
    if db.engine.dialect.name == "postgresql":
        statements["before_overview_profile_ids"] = plain.limit(50).offset(offset)
    figures = {}
    for name, stmt in statements.items():
        db.session.execute(stmt).all()
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            db.session.execute(stmt).all()
            times.append((time.perf_counter() - started) * 1000)
        figures[f"{name}_sql_p50_ms"] = round(statistics.median(times), 1)
    queries.overview_totals(queries.OverviewFilters())
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        queries.overview_totals(queries.OverviewFilters())
        times.append((time.perf_counter() - started) * 1000)
    figures["overview_totals_sql_p50_ms"] = round(statistics.median(times), 1)
    for name, value in figures.items():
        print(f"{name.removesuffix('_sql_p50_ms') + ' (SQL only)':34} {value:6.1f}ms", flush=True)
    return figures


def timed(client, engine, url, repeat):
    """(p50 ms, p95 ms, CPU p50 ms, CPU p95 ms, statements of one request) of ``repeat`` requests after one
    warm-up. CPU is this process's (on SQLite that includes the database's work; on PostgreSQL it does
    not): on a loaded machine it is the steadier figure, wall clock includes waiting for a core."""
    from sqlalchemy import event
    statements = []

    def count(*_args):
        statements.append(1)

    assert client.get(url).status_code == 200, url
    times, cpu = [], []
    for _ in range(repeat):
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, (url, response.status_code)
    return (*_p50_p95(times), *_p50_p95(cpu), len(statements))


def _p50_p95(values):
    values = sorted(values)
    return round(statistics.median(values), 1), round(values[round(0.95 * (len(values) - 1))], 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", default=f"sqlite:///{ROOT / 'instance' / 'bench-pages.db'}")
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    app = _app(args.database)
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        from flask_migrate import upgrade
        from portal.extensions import db
        upgrade()
        started = time.perf_counter()
        print(f"seeding {args.runs:,} runs and prepared rows (load average {os.getloadavg()[0]:.1f}) …", flush=True)
        made = seed(db, args.runs, args.rows)
        print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
        engine = db.engine
        deep = {name: row_id(db, made[name], count - 100)
                for name, count in (("small", SMALL_ROWS), ("big", args.rows))}
        deep_error = {name: row_id(db, made[name], max(7, count - 3000 + 7))  # an error row near the end
                      for name, count in (("small", SMALL_ROWS), ("big", args.rows))}
    client = app.test_client()
    client.post("/auth/login", data={"email": "manager@example.com", "password": "demo"})
    pages = {
        "overview_first": "/overview/",
        "overview_deep": f"/overview/?page={max(1, args.runs // 100)}&sort=profile&dir=asc",
        "overview_filtered": "/overview/?mode=production&status=failed&date_from=2026-05-01&date_to=2026-05-31",
        "overview_deep_completed": f"/overview/?page={max(1, args.runs // 100)}&sort=finished&dir=asc",
        "overview_deep_window": f"/overview/?page={max(1, args.runs // 100)}&sort=window&dir=desc",
        "overview_started_by": f"/overview/?started_by={made['starter']}",
    }
    for name, count in (("small", SMALL_ROWS), ("big", args.rows)):
        run_id = made[name]
        pages.update({
            f"prepared_{name}_first": f"/runs/{run_id}/prepared",
            f"prepared_{name}_deep": f"/runs/{run_id}/prepared?after={deep[name]}",
            f"prepared_{name}_last": f"/runs/{run_id}/prepared?page=last",
            f"prepared_{name}_errors": f"/runs/{run_id}/prepared?errors=1",
            f"prepared_{name}_errors_deep": f"/runs/{run_id}/prepared?errors=1&after={deep_error[name]}",
        })
    figures = {"runs": args.runs, "rows": args.rows, "database": engine.dialect.name, "repeat": args.repeat}
    loads = [os.getloadavg()[0]]
    print(f"{'page':28} {'p50':>8} {'p95':>8} {'cpu p50':>8} {'cpu p95':>8}  stmts  load  url")
    for name, url in pages.items():
        p50, p95, cpu50, cpu95, statements = timed(client, engine, url, args.repeat)
        load = os.getloadavg()[0]
        loads.append(load)
        figures[f"{name}_p50_ms"], figures[f"{name}_p95_ms"] = p50, p95
        figures[f"{name}_cpu_p50_ms"], figures[f"{name}_cpu_p95_ms"] = cpu50, cpu95
        figures[f"{name}_statements"] = statements
        print(f"{name:28} {p50:6.1f}ms {p95:6.1f}ms {cpu50:6.1f}ms {cpu95:6.1f}ms  {statements:5d}  {load:4.1f}  {url}",
              flush=True)
    with app.app_context():
        figures.update(offset_baseline(db, made["big"], args.rows))
        figures.update(overview_sql(db, args.runs))
    figures["load_average"] = [round(min(loads), 1), round(max(loads), 1)]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
