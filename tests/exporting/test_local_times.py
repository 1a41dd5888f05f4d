"""Date-times in files: XLSX cells hold the organisation's clock time (a spreadsheet has no time zone, so
a UTC clock time there reads as a wrong local one); CSV and JSON Lines keep the instant in UTC with its Z.

Europe/Amsterdam (the test configuration's PORTAL_TIMEZONE): summer time is UTC+2, winter time UTC+1.
"""
from datetime import datetime

import openpyxl
import pytest

from portal.exporting import services
from portal.extensions import db

from tests import factories
from tests.factories import files_of, start_and_run

SUMMER_UTC = datetime(2026, 10, 2, 6, 0)       # 08:00 in Amsterdam (CEST, +02:00)
SUMMER_END_UTC = datetime(2026, 10, 2, 10, 0)  # 12:00
WINTER_UTC = datetime(2026, 11, 10, 7, 0)      # 08:00 in Amsterdam (CET, +01:00)
WINTER_END_UTC = datetime(2026, 11, 10, 11, 30)


def _sheet(run):
    files = files_of(run)
    assert len(files) == 1, files
    book = openpyxl.load_workbook(files[0].path)
    table = list(book.worksheets[0].iter_rows())
    header = [cell.value for cell in table[0]]
    return [{key: cell for key, cell in zip(header, line)} for line in table[1:]]


def _window(profile):
    return start_and_run(profile, "test", window_start="2026-10-01", window_end="2026-11-30")


def test_xlsx_hours_are_written_in_the_organisations_time(ctx):
    zorg, _, _ = factories.companies()
    person = factories.employee(zorg)
    factories.hours(zorg, person, [(SUMMER_UTC, SUMMER_END_UTC), (WINTER_UTC, WINTER_END_UTC)])
    db.session.commit()
    profile = services.create_profile(name="Hours XLSX", export_type="hours",
                                      options={"format": "xlsx", "translated_headers": False})
    rows = sorted(_sheet(_window(profile)), key=lambda row: row["starts_at"].value)
    assert [(row["starts_at"].value, row["ends_at"].value) for row in rows] == [
        (datetime(2026, 10, 2, 8, 0), datetime(2026, 10, 2, 12, 0)),      # summer: UTC+2
        (datetime(2026, 11, 10, 8, 0), datetime(2026, 11, 10, 12, 30)),   # winter: UTC+1
    ]
    for row in rows:
        assert row["starts_at"].is_date and row["starts_at"].number_format == "yyyy-mm-dd hh:mm:ss"
    # The local date column and the local clock times agree.
    assert [row["date"].value.date() for row in rows] == [row["starts_at"].value.date() for row in rows]


def test_xlsx_payments_and_products_are_written_in_the_organisations_time(ctx):
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 1, at=SUMMER_UTC)[0].receipt_number = "S1"
    db.session.flush()
    factories.payments(zorg, 1, at=WINTER_UTC)
    factories.products(zorg, 1, at=WINTER_UTC)
    db.session.commit()
    payments = services.create_profile(name="Payments XLSX", export_type="payments",
                                       options={"format": "xlsx", "translated_headers": False})
    paid = sorted(row["paid_at"].value for row in _sheet(_window(payments)))
    assert paid == [datetime(2026, 10, 2, 8, 0), datetime(2026, 11, 10, 8, 0)]
    products = services.create_profile(name="Products XLSX", export_type="products",
                                       options={"format": "xlsx", "translated_headers": False})
    assert [row["updated_at"].value for row in _sheet(_window(products))] == [datetime(2026, 11, 10, 8, 0)]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_csv_and_json_lines_keep_the_instant_in_utc(ctx, fmt):
    zorg, _, _ = factories.companies()
    person = factories.employee(zorg)
    factories.hours(zorg, person, [(SUMMER_UTC, SUMMER_END_UTC), (WINTER_UTC, WINTER_END_UTC)])
    db.session.commit()
    profile = services.create_profile(name="Hours " + fmt, export_type="hours",
                                      options={"format": fmt, "translated_headers": False})
    path = files_of(_window(profile))[0].path
    rows = factories.read_csv(path) if fmt == "csv" else factories.read_jsonl(path)
    assert sorted(row["starts_at"] for row in rows) == ["2026-10-02T06:00:00Z", "2026-11-10T07:00:00Z"]
