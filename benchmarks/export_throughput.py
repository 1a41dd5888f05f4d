"""Export throughput: the real job code against the database's own CSV dump of the same rows.

    python benchmarks/export_throughput.py --rows 100000 --database sqlite:///instance/bench.db
    python benchmarks/export_throughput.py --rows 1000000 --database postgresql+psycopg://postgres@127.0.0.1/portal_bench

The database is a scratch database: its schema is migrated and its payments and export tables are
emptied. Steps, on the same N payments (one export type, the same columns):
1. a *full* prepare-and-export **test** run to CSV, executed by ``jobs.execute_run`` in a worker
   process of its own (so that its peak memory is the worker's, measured by the OS);
2. the database's own CSV dump of the same rows and columns (``COPY … TO STDOUT WITH CSV`` on
   PostgreSQL, the ``sqlite3`` shell's CSV mode on SQLite), timed the same way (a process of its own);
3. a bare Python script over the same query: one streaming cursor into ``csv.writer`` (what a user
   could write in five lines), timed the same way: ``python_baseline_s``;
4. an *incremental_all* production run after a first production run and a change of 1 % of the rows,
   timed as a ratio to the full run.
Each run reports seconds per phase (prepare, compare, write, commit; wall clock and CPU). While a run
works, its phase and progress are printed every few seconds. The machine's load average (``uptime``)
is printed with the figures. The last line is one JSON object with the figures.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WINDOW = ("2026-01-01", "2026-12-31")
COLUMNS_SQL = """
    SELECT c.code AS company_code, COALESCE(d.code, '') AS department, p.receipt_number, p.paid_at,
           p.customer_number, p.customer_name, p.payment_type, p.amount
    FROM payments p JOIN companies c ON c.id = p.company_id LEFT JOIN departments d ON d.id = p.department_id
    WHERE p.paid_at >= '2025-12-31 23:00:00' AND p.paid_at < '2026-12-31 23:00:00'
    ORDER BY p.id
"""


def _app(database, storage):
    os.environ["DATABASE_URL"] = database
    os.environ["PORTAL_STORAGE_DIR"] = storage
    os.environ.setdefault("PORTAL_ENV", "demo")
    from portal import create_app
    return create_app()


def worker_main(run_id):
    """Child process: run one run's job, as a worker's work horse does; print the job's figures."""
    app = _app(os.environ["BENCH_DATABASE"], os.environ["BENCH_STORAGE"])
    with app.app_context():
        from portal.exporting import engine
        from portal.exporting.jobs import execute_run
        before = resource.getrusage(resource.RUSAGE_SELF)
        server_since = _server_clock()
        started = time.perf_counter()
        if os.environ.get("BENCH_PROFILE"):
            from pyinstrument import Profiler
            profiler = Profiler()
            with profiler:
                status = execute_run(run_id)
            with open(os.environ["BENCH_PROFILE"], "w") as out:
                out.write(profiler.output_text(unicode=True, show_all=False))
        else:
            status = execute_run(run_id)
        seconds = time.perf_counter() - started
        server_cpu = _server_cpu(server_since)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    phases = {name: {"s": round(wall, 3), "cpu_s": round(cpu, 3)} for name, (wall, cpu) in engine.PHASE_SECONDS.items()}
    print(json.dumps({"status": status, "seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024,
                      "cpu_s": usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime,
                      "server_cpu_s": server_cpu, "phases": phases}))


def _server_clock():
    """PostgreSQL: (when this process's first connection began, that connection's server CPU ticks so
    far); the job's connections are that one (pooled) and those opened since."""
    from portal.extensions import db
    from sqlalchemy import text
    if db.engine.dialect.name != "postgresql":
        return None
    with db.engine.connect() as connection:
        pid, began = connection.execute(text(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")).one()
    return began, _ticks(pid)


def _ticks(pid):
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _server_cpu(since):
    """PostgreSQL on this machine: CPU seconds of the server processes of the job's connections (read from
    /proc before they close). Parallel workers' CPU is not included (they have ended by then). None on
    SQLite (the worker's CPU includes the database's work there) or when the server is elsewhere."""
    if since is None:
        return None
    began, ticks_before = since
    from portal.extensions import db
    from sqlalchemy import text
    with db.engine.connect() as connection:
        pids = connection.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_start >= :began "
            "AND backend_type = 'client backend'"), {"began": began}).scalars().all()
    if not os.path.exists(f"/proc/{pids[0]}/stat"):
        return None         # the server is on another machine
    total = -ticks_before
    for pid in pids:
        try:
            total += _ticks(pid)
        except OSError:     # a connection that closed meanwhile
            pass
    return round(total / os.sysconf("SC_CLK_TCK"), 2)


def _in_worker(args, run_id, app=None, label="run"):
    """Runs the job in a process of its own; prints its phase and progress every few seconds."""
    env = dict(os.environ, BENCH_DATABASE=args.database, BENCH_STORAGE=args.storage)
    if args.profile:
        env["BENCH_PROFILE"] = os.path.join(args.storage, f"profile-{label}.txt")
    child = subprocess.Popen([sys.executable, __file__, "--job", str(run_id)], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.perf_counter()
    while True:
        try:
            out, err = child.communicate(timeout=args.progress_every)
            break
        except subprocess.TimeoutExpired:
            print(f"  {label}: {time.perf_counter() - started:.0f} s, {_progress(app, run_id)}, "
                  f"load {_load()}", flush=True)
    if child.returncode:
        raise SystemExit(f"the worker failed ({child.returncode}):\n{err[-4000:]}")
    return json.loads(out.strip().splitlines()[-1])


def _progress(app, run_id):
    if app is None:
        return "working"
    from portal.extensions import db
    from portal.models import Run
    from sqlalchemy.exc import OperationalError
    with app.app_context():
        try:
            run = db.session.get(Run, run_id)
            return f"{run.status} {run.phase or ''} {run.done}/{run.total if run.total is not None else '?'}"
        except OperationalError:      # SQLite: the worker holds the write lock just now
            return "busy"
        finally:
            db.session.remove()


def _load():
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def _python_baseline(args, path):
    """A bare Python script: one streaming cursor of the same query into the C csv writer."""
    import csv
    started = time.perf_counter()
    cpu = time.process_time()
    if args.database.startswith("sqlite"):
        import sqlite3
        connection = sqlite3.connect(args.database.split("sqlite:///", 1)[1])
        cursor = connection.execute(COLUMNS_SQL)
    else:
        import psycopg
        from sqlalchemy.engine import make_url
        url = make_url(args.database).set(drivername="postgresql")
        connection = psycopg.connect(url.render_as_string(hide_password=False))
        cursor = connection.cursor(name="baseline")     # server-side: streams
        cursor.itersize = 10_000
        cursor.execute(COLUMNS_SQL)
    with open(path, "w", newline="", buffering=1 << 20) as out:
        writer = csv.writer(out)
        writer.writerow([d[0] for d in cursor.description])
        writer.writerows(cursor)
    connection.close()
    return time.perf_counter() - started, time.process_time() - cpu


def _prepare_database(app):
    from flask_migrate import upgrade
    from sqlalchemy import text
    from portal.extensions import db
    with app.app_context():
        upgrade()
        tables = ["report_items", "run_files", "prepared_rows", "ledger_current", "ledger_entries", "mapping_history",
                  "run_attempts", "visma_documents", "sync_stops", "runs", "export_profiles", "payments"]
        with db.engine.begin() as connection:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
        if db.engine.dialect.name == "postgresql":
            # The deleted rows of an earlier run of the benchmark are dead tuples until vacuumed: without
            # this, each run in the same database inserts into bloated tables and indexes and is slower.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text(f"VACUUM {', '.join(tables)}"))


def _seed(app, rows):
    from sqlalchemy import select, text
    from portal.bulk import bulk_insert
    from portal.extensions import db
    from portal.models import Company, Payment
    with app.app_context():
        company = db.session.execute(select(Company).where(Company.code == "BENCH")).scalar()
        if company is None:
            company = Company(code="BENCH", name="Benchmark B.V.", is_test_company=False)
            db.session.add(company)
            db.session.commit()
        start = datetime(2026, 1, 1, 8, 0)
        step = timedelta(seconds=max(1, int(360 * 86400 / rows)))
        columns = ["company_id", "receipt_number", "customer_number", "customer_name", "payment_type", "amount",
                   "paid_at"]
        types = ["CASH", "CARD", "MOBILEPAY", "GIFTCARD"]
        generated = ((company.id, f"R{i:08d}", f"C{i % 5000:05d}", f"Customer {i % 5000}", types[i % 4],
                      f"{(i % 9000) / 100 + 1:.2f}", start + step * i) for i in range(rows))
        with db.engine.begin() as connection:
            bulk_insert(connection, Payment.__table__, columns, generated)
            if connection.dialect.name == "postgresql":
                connection.execute(text("ANALYZE payments"))
        return company.id


def _native_dump(args, path):
    started = time.perf_counter()
    if args.database.startswith("sqlite"):
        database_file = args.database.split("sqlite:///", 1)[1]
        with open(path, "wb") as out:
            subprocess.run(["sqlite3", "-csv", "-header", database_file, COLUMNS_SQL.replace("\n", " ")],
                           stdout=out, check=True)
    else:
        import psycopg
        from sqlalchemy.engine import make_url
        url = make_url(args.database).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False)) as connection, open(path, "wb") as out:
            with connection.cursor().copy(f"COPY ({COLUMNS_SQL}) TO STDOUT WITH CSV HEADER") as copy:
                for chunk in copy:
                    out.write(chunk)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", default=f"sqlite:///{ROOT / 'instance' / 'bench.db'}")
    parser.add_argument("--storage", default=str(ROOT / "instance" / "bench-storage"))
    parser.add_argument("--progress-every", type=float, default=10.0, help="seconds between progress lines")
    parser.add_argument("--profile", action="store_true",
                        help="profile each run with pyinstrument (text in the storage folder)")
    parser.add_argument("--skip-incremental", action="store_true")
    parser.add_argument("--job", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        return worker_main(args.job)
    os.makedirs(args.storage, exist_ok=True)
    if args.database.startswith("postgresql"):
        _ensure_pg_database(args.database)
    app = _app(args.database, args.storage)
    _prepare_database(app)
    started = time.perf_counter()
    _seed(app, args.rows)
    print(f"seeded {args.rows} payments in {time.perf_counter() - started:.1f} s", flush=True)

    from portal.extensions import db
    from portal.exporting import services
    from portal.models import Run
    with app.app_context():
        full = services.create_profile(name="Bench full", export_type="payments", options={"format": "csv"},
                                       sync_type="full")
        incremental = services.create_profile(name="Bench incremental", export_type="payments",
                                              options={"format": "csv"}, sync_type="incremental_all")
        run = _start(services, full.id, "test")
        incremental_id = incremental.id
    print(f"load average before the runs: {_load()}", flush=True)
    figures = _in_worker(args, run, app, "full test run")
    with app.app_context():
        done = db.session.get(Run, run)
        assert done.status == "exported", (done.status, done.error_reason)
        assert done.counts["processed"] == args.rows, done.counts
        from portal.exporting.queries import run_files
        exported_file = run_files(run)[0]
    server = f", server {figures['server_cpu_s']:.1f} s CPU" if figures.get("server_cpu_s") is not None else ""
    print(f"full test run: {figures['seconds']:.1f} s ({figures['cpu_s']:.1f} s CPU{server}), "
          f"{args.rows / figures['seconds']:.0f} rows/s, peak worker RSS {figures['peak_rss_mb']:.0f} MB; "
          f"phases {_phases(figures)}; load {_load()}", flush=True)

    native = _native_dump(args, os.path.join(args.storage, "native-dump.csv"))
    print(f"native CSV dump: {native:.2f} s (ours: {exported_file.size} bytes, "
          f"native: {os.path.getsize(os.path.join(args.storage, 'native-dump.csv'))} bytes)", flush=True)

    baseline_s, baseline_cpu = _python_baseline(args, os.path.join(args.storage, "python-baseline.csv"))
    print(f"python baseline (csv.writer over a streaming cursor): {baseline_s:.2f} s ({baseline_cpu:.2f} s CPU); "
          f"load {_load()}", flush=True)
    result = {
        "rows": args.rows, "database": args.database.split(":", 1)[0], "seconds": round(figures["seconds"], 3),
        "rows_per_s": round(args.rows / figures["seconds"]), "peak_rss_mb": round(figures["peak_rss_mb"], 1),
        "native_dump_s": round(native, 3), "ratio_to_native": round(figures["seconds"] / native, 2),
        "python_baseline_s": round(baseline_s, 3), "python_baseline_cpu_s": round(baseline_cpu, 3),
        "ratio_to_python_baseline": round(figures["seconds"] / baseline_s, 2),
        # The machine is shared: the worker's own CPU time tells what the wall clock cannot.
        "worker_cpu_s": round(figures["cpu_s"], 2), "server_cpu_s": figures.get("server_cpu_s"),
        "phases": figures["phases"],
    }
    if not args.skip_incremental:
        result.update(_incremental(args, app, services, incremental_id, figures))
    result["load_average"] = _load()
    print(json.dumps(result))


def _phases(figures):
    return ", ".join(f"{name} {p['s']:.1f} s ({p['cpu_s']:.1f} CPU)" for name, p in figures["phases"].items())


def _incremental(args, app, services, incremental_id, figures):
    from portal.extensions import db
    from portal.models import Run
    with app.app_context():
        first = _start(services, incremental_id, "production")
    baseline = _in_worker(args, first, app, "first production run")
    with app.app_context():
        from sqlalchemy import text
        # An UPDATE as the ORM would send it: the database's trigger moves each row's change marker
        # (row_version), as it does for every write (the import and the seed set it when they insert).
        with db.engine.begin() as connection:
            changed = connection.execute(text("UPDATE payments SET amount = amount + 1 WHERE id % 100 = 0")).rowcount
        second = _start(services, incremental_id, "production")
    inc = _in_worker(args, second, app, "incremental run")
    with app.app_context():
        done = db.session.get(Run, second)
        assert done.status == "exported", (done.status, done.error_reason)
        assert done.counts["processed"] == changed, (done.counts, changed)
        read = done.counts.get("read")      # the source records the run read (the rest: unchanged, unread)
    print(f"incremental_all production run: first {baseline['seconds']:.1f} s, after {changed} changes "
          f"{inc['seconds']:.1f} s ({inc['cpu_s']:.1f} s CPU), {read} records read; phases {_phases(inc)}; "
          f"load {_load()}", flush=True)
    return {
        "first_production_s": round(baseline["seconds"], 3),
        "incremental_s": round(inc["seconds"], 3), "incremental_ratio": round(inc["seconds"] / figures["seconds"], 3),
        "incremental_peak_rss_mb": round(inc["peak_rss_mb"], 1),
        "incremental_worker_cpu_s": round(inc["cpu_s"], 2), "incremental_phases": inc["phases"],
        "incremental_records_read": read,
    }


def _start(services, profile_id, mode):
    # The benchmark runs the job itself (in a process of its own): nothing goes to Redis, so that no
    # worker anywhere can take it.
    from portal.exporting import jobs
    enqueue, jobs.enqueue_run = jobs.enqueue_run, lambda run: None
    try:
        run = services.start_run(profile_id, mode=mode, window_start=WINDOW[0], window_end=WINDOW[1])
    finally:
        jobs.enqueue_run = enqueue
    return run.id


def _ensure_pg_database(url):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": target.database}).first():
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


if __name__ == "__main__":
    main()
