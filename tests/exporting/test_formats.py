"""Every file format through the engine, read back with a real reader and compared with the source;
formula neutralisation; CSV options (delimiter, quote, BOM, line endings, skip headers, technical headers)."""
import csv
import json
from decimal import Decimal

import openpyxl
import pytest

from portal.exporting import services
from portal.extensions import db

from tests import factories
from tests.factories import files_of, start_and_run

EVIL = "=HYPERLINK(\"http://evil.example\",\"x\")"


def _source():
    zorg, _, _ = factories.companies()
    debtors = factories.debtors(zorg, 2)
    lines = factories.invoice_lines(zorg, debtors, 4)
    lines[1].description = EVIL
    lines[2].description = "@SUM(1+1)"
    lines[3].description = "Café – ‘quotes’, \"double\"; semicolon"
    db.session.commit()
    return lines


def _expected(lines):
    return {(l.invoice_number): (l.description, Decimal(l.amount)) for l in lines}


@pytest.mark.parametrize("options", [
    {"format": "csv"},
    {"format": "csv", "delimiter": ";", "quotechar": "'", "encoding": "utf-8-sig", "line_terminator": "\n",
     "translated_headers": False},
])
def test_csv_read_back(ctx, options):
    lines = _source()
    profile = services.create_profile(name="Invoices CSV", export_type="invoices", options=options)
    run = start_and_run(profile, "test")
    path = files_of(run)[0].path
    raw = open(path, "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf") == (options.get("encoding") == "utf-8-sig")
    terminator = options.get("line_terminator", "\r\n").encode()
    assert raw.count(terminator) == 5
    with open(path, encoding=options.get("encoding", "utf-8"), newline="") as handle:
        rows = list(csv.reader(handle, delimiter=options.get("delimiter", ","),
                               quotechar=options.get("quotechar", '"')))
    header = rows[0]
    if options.get("translated_headers") is False:
        assert header[:3] == ["mutation", "company_code", "invoice_number"]
    else:
        assert header[:3] == ["Mutation", "Company", "Invoice number"]
    index = {name: i for i, name in enumerate(header)}
    number_col = index.get("invoice_number", index.get("Invoice number"))
    description_col = index.get("description", index.get("Description"))
    amount_col = index.get("amount", index.get("Amount"))
    got = {r[number_col]: (r[description_col], Decimal(r[amount_col])) for r in rows[1:]}
    expected = _expected(lines)
    # Neutralised formulas: a leading apostrophe, the rest as it was.
    expected["INV000002"] = ("'" + EVIL, expected["INV000002"][1])
    expected["INV000003"] = ("'@SUM(1+1)", expected["INV000003"][1])
    assert got == expected


def test_csv_skip_headers_chosen_at_start(ctx):
    _source()
    profile = services.create_profile(name="Invoices", export_type="invoices", options={"format": "csv"})
    run = start_and_run(profile, "test", skip_headers=True)
    with open(files_of(run)[0].path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 4 and rows[0][0] == "new"


def test_xlsx_read_back_with_openpyxl(ctx):
    lines = _source()
    profile = services.create_profile(name="Invoices XLSX", export_type="invoices", options={"format": "xlsx"})
    run = start_and_run(profile, "test")
    book = openpyxl.load_workbook(files_of(run)[0].path, read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[0] == "Mutation"
    index = {name: i for i, name in enumerate(header)}
    got = {r[index["Invoice number"]]: (r[index["Description"]], Decimal(str(r[index["Amount"]]))) for r in rows[1:]}
    expected = _expected(lines)
    assert got["INV000001"] == expected["INV000001"]
    # In XLSX a formula-like text is a text cell, which never runs: it shows exactly the source text
    # (no apostrophe, which a text cell would show), with Excel's quote prefix.
    assert got["INV000002"][0] == EVIL
    cell = next(c for row in openpyxl.load_workbook(files_of(run)[0].path).active.iter_rows()
                for c in row if c.value == EVIL)
    assert cell.data_type == "s" and cell.quotePrefix
    assert got["INV000004"] == expected["INV000004"]


def test_jsonl_read_back(ctx):
    lines = _source()
    profile = services.create_profile(name="Invoices JSONL", export_type="invoices", options={"format": "jsonl"})
    run = start_and_run(profile, "test")
    with open(files_of(run)[0].path, encoding="utf-8") as handle:
        rows = [json.loads(line, parse_float=Decimal) for line in handle]
    assert {r["invoice_number"]: (r["description"], r["amount"]) for r in rows} == _expected(lines)
    assert {r["invoice_date"] for r in rows} == {"2026-11-10"}


def test_file_record_has_size_sha256_version_and_a_telling_name(ctx):
    import hashlib
    import os
    _source()
    profile = services.create_profile(name="Invoices November", export_type="invoices", options={"format": "csv"})
    run = start_and_run(profile, "production")
    f = files_of(run)[0]
    data = open(f.path, "rb").read()
    assert f.size == len(data) and f.sha256 == hashlib.sha256(data).hexdigest()
    assert f.name.startswith("invoices-november_P_20261101-20261130_") and f.name.endswith(".csv")
    assert os.path.dirname(f.path).endswith(os.sep + str(run.id))
    assert f.version is not None


def test_the_profiles_column_selection_and_order_shape_the_file(ctx):
    _source()
    profile = services.create_profile(
        name="Invoices, three columns", export_type="invoices",
        options={"format": "csv", "translated_headers": False,
                 "columns": ["amount", "invoice_number", "description"]})
    run = start_and_run(profile, "test")
    with open(files_of(run)[0].path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    # The mutation column always leads; then exactly the chosen columns, in the chosen order.
    assert rows[0] == ["mutation", "amount", "invoice_number", "description"]
    assert all(len(row) == 4 for row in rows)


def test_an_unknown_column_is_refused_and_nothing_is_saved(ctx):
    from portal.exporting.errors import ExportError
    from portal.models import ExportProfile
    with pytest.raises(ExportError) as refused:
        services.create_profile(name="Bad columns", export_type="invoices",
                                options={"format": "csv", "columns": ["amount", "shoe_size"]})
    assert "shoe_size" in str(refused.value)
    db.session.rollback()
    assert db.session.query(ExportProfile).filter_by(name="Bad columns").count() == 0
