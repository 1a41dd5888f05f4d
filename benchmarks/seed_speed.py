"""How fast ``demo seed --size N`` loads, on SQLite and PostgreSQL. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/seed_speed.py [--size 200000] [--only sqlite|postgresql]

Each database is created afresh (SQLite: a file under instance/; PostgreSQL: a database of its own,
``portal_bench_seed_<checkout>``, or BENCH_POSTGRES_URL), migrated, then seeded; the rows per second of
every large table and of the whole seed are printed.
"""
import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

CHECKOUT = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
SQLITE_URL = f"sqlite:///{ROOT / 'instance' / 'bench_seed.db'}"
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL",
                              f"postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_seed_{CHECKOUT}")


def fresh_database(url):
    target = make_url(url)
    if target.get_backend_name() == "sqlite":
        Path(target.database).unlink(missing_ok=True)
        return
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}"'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def bench(url, size):
    from flask_migrate import upgrade

    from portal import create_app
    from portal.config import DemoConfig
    from portal.demo.seed import seed

    fresh_database(url)
    config = type("BenchConfig", (DemoConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    timings = []
    with app.app_context():
        upgrade()
        last = [time.perf_counter()]
        started = last[0]

        def progress(table, count):
            now = time.perf_counter()
            timings.append((table, count, now - last[0]))
            last[0] = now

        inserted = seed(size=size, progress=progress)
        total_time = time.perf_counter() - started
    backend = make_url(url).get_backend_name()
    print(f"\n{backend}: demo seed --size {size:,}")
    for table, count, seconds in timings:
        print(f"  {table:<22} {count:>10,} rows {seconds:8.1f} s {count / seconds if seconds else 0:>12,.0f} rows/s")
    total = sum(inserted.values())
    print(f"  {'all tables':<22} {total:>10,} rows {total_time:8.1f} s {total / total_time:>12,.0f} rows/s")
    print("  (each table's time includes generating its rows in Python)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    os.environ.setdefault("PORTAL_ENV", "demo")
    for name, url in (("sqlite", SQLITE_URL), ("postgresql", POSTGRES_URL)):
        if args.only in (None, name):
            bench(url, args.size)


if __name__ == "__main__":
    main()
