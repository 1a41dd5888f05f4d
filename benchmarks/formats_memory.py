"""Throughput and memory of the file writers: N rows per format, streamed in batches.

    .venv/bin/python benchmarks/formats_memory.py                 # 1,000,000 rows, every format
    .venv/bin/python benchmarks/formats_memory.py --rows 100000 --formats csv,xlsx

Each format runs in its own process, so that each peak is its own. Rows are generated lazily and
handed to ``write_rows`` in batches of 5,000, as the engine does; the resident set size (psutil) is
sampled every 20 ms. Printed per format: rows/s (wall clock, and per CPU second: on a shared machine
the second is the steadier figure), peak RSS, the RSS after the first 10 % of the rows
(a flat writer's peak stays close to it) and the file size. The last line is one JSON object.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 5_000
FORMATS = ("csv", "jsonl", "xlsx", "sie4")


def table_rows(count):
    """Rows like an hours or invoice export: text, numbers, amounts, dates, a flag."""
    start = datetime(2026, 1, 1, 7, 0)
    for n in range(count):
        yield {
            "record_key": f"R{n:08d}",
            "employee": f"Employee {n % 5000:05d} Åsa-Ørsted",
            "department": ("Sales", "=Ops", "Care", "-Admin")[n % 4],
            "quantity": n % 40,
            "amount": Decimal(n % 100_000) / 100 - 250,
            "rate": Decimal("12.3456"),
            "day": date(2026, 1, 1) + timedelta(days=n % 365),
            "registered_at": start + timedelta(minutes=n),
            "billable": n % 3 == 0,
            "description": f"Line {n} of the export, with some text to make it realistic",
        }


def journal_rows(count):
    """Balanced payroll journal lines: debit and credit in pairs, twelve periods, cost centres/units."""
    for n in range(count):
        pair, is_credit = divmod(n, 2)
        period = date(2026, 1 + (pair // max(1, count // 24)) % 12, 1)
        amount = Decimal(pair % 10_000) + Decimal("0.25")
        yield {
            "company_code": "SE01", "company_name": "Lönebolaget AB", "journal_period": period,
            "payroll_run_ref": f"PR-{period:%Y-%m}", "line_no": n, "account": "1930" if is_credit else
            str(7010 + pair % 40), "account_name": "Lön", "cost_centre": f"{pair % 50:03d}",
            "cost_unit": f"P{pair % 200}" if not is_credit else None,
            "debit": Decimal(0) if is_credit else amount, "credit": amount if is_credit else Decimal(0),
            "description": f"Lön anställd {pair % 5000}", "is_correction": pair % 97 == 0,
        }


def columns():
    from portal.exporting.formats import Column
    return [Column("record_key", None), Column("employee", None), Column("department", None),
            Column("quantity", None, "int"), Column("amount", None, "decimal"),
            Column("rate", None, "decimal", scale=4), Column("day", None, "date"),
            Column("registered_at", None, "datetime"), Column("billable", None, "bool"),
            Column("description", None)]


def run_one(format_name, rows, directory):
    """In the child process: write the file, sample RSS, print one JSON object."""
    import psutil

    from portal.exporting.formats import get_writer
    from portal.exporting.formats.sie4 import JOURNAL_COLUMNS

    process = psutil.Process()
    peak = [process.memory_info().rss]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start_rss = process.memory_info().rss
    source = journal_rows(rows) if format_name == "sie4" else table_rows(rows)
    cols = JOURNAL_COLUMNS if format_name == "sie4" else columns()
    cls = get_writer(format_name)
    path = Path(directory) / f"bench.{cls.extension}"
    started = time.perf_counter()
    cpu_started = sum(process.cpu_times()[:2])
    writer = cls(path, cols, {"translated_headers": False, "sie_generated_on": "2026-01-01"})
    written = 0
    early_peak = None
    batch = []
    for row in source:
        batch.append(row)
        if len(batch) == BATCH:
            writer.write_rows(batch)
            written += len(batch)
            batch = []
            if early_peak is None and written >= rows // 10:
                early_peak = peak[0] = max(peak[0], process.memory_info().rss)
    if batch:
        writer.write_rows(batch)
    info = writer.close()
    seconds = time.perf_counter() - started
    cpu_seconds = sum(process.cpu_times()[:2]) - cpu_started
    stop.set()
    sampler.join()
    peak[0] = max(peak[0], process.memory_info().rss)
    mb = 1024 * 1024
    print(json.dumps({
        "format": format_name, "rows": info.rows, "seconds": round(seconds, 2),
        "rows_per_s": round(info.rows / seconds), "cpu_s": round(cpu_seconds, 2),
        "rows_per_cpu_s": round(info.rows / cpu_seconds), "peak_rss_mb": round(peak[0] / mb, 1),
        "rss_at_10pct_mb": round((early_peak or peak[0]) / mb, 1), "start_rss_mb": round(start_rss / mb, 1),
        "file_mb": round(info.size / mb, 1)}))
    os.unlink(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--dir", default=None, help="where to write (default: a temporary directory)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.child, args.rows, args.dir)
        return

    results = []
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        for format_name in args.formats.split(","):
            output = subprocess.run(
                [sys.executable, __file__, "--child", format_name, "--rows", str(args.rows),
                 "--dir", directory], check=True, capture_output=True, text=True).stdout
            result = json.loads(output.strip().splitlines()[-1])
            results.append(result)
            print(f"{format_name:6} {result['rows']:>9,} rows  {result['seconds']:7.1f} s  "
                  f"{result['rows_per_s']:>8,} rows/s ({result.get('rows_per_cpu_s', 0):,} per CPU second)  peak RSS {result['peak_rss_mb']:6.1f} MB "
                  f"(after 10 %: {result['rss_at_10pct_mb']:.1f} MB, at start {result['start_rss_mb']:.1f} MB)"
                  f"  file {result['file_mb']:.1f} MB", flush=True)
    print(json.dumps({"rows": args.rows, "formats": results}))


if __name__ == "__main__":
    main()
