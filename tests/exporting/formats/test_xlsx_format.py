"""XLSX read back with openpyxl: real number, date and boolean cells, texts exactly as they came (a
formula-like text is a text cell, never a formula, and gets no apostrophe), headers."""
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest
from flask_babel import force_locale

from portal.exporting.formats import Column, get_writer
from portal.exporting.formats import xlsx as xlsx_module

from formats_samples import DANGEROUS, rounded


def write(path, columns, rows, **options):
    writer = get_writer("xlsx")(path, columns, options)
    writer.write_rows(rows)
    return writer.close()


def cells(path):
    workbook = openpyxl.load_workbook(path)
    return workbook, [[cell for cell in row] for row in workbook.worksheets[0].iter_rows()]


def test_read_back_equals_the_source_with_real_types(tmp_path, columns, rows):
    write(tmp_path / "out.xlsx", columns, rows, translated_headers=False)
    workbook, table = cells(tmp_path / "out.xlsx")
    assert [cell.value for cell in table[0]] == [column.key for column in columns]
    assert len(table) == len(rows) + 1
    for line, row in zip(table[1:], rows):
        name, count, amount, rate, day, moment, flag = line
        # XML turns a carriage return in text into a line feed: Excel reads it the same way.
        assert name.value == ((row["name"] or "").replace("\r", "\n") or None)      # the source text itself
        assert name.data_type == ("s" if row["name"] else "n")
        assert count.value == row["count"]
        assert amount.data_type == "n" and amount.number_format == "0.00"
        assert Decimal(str(amount.value)) == rounded(row["amount"], 2)
        if row["rate"] is None:
            assert rate.value is None
        else:
            assert rate.number_format == "0.0000"
            assert Decimal(str(rate.value)) == rounded(row["rate"], 4)
        assert day.is_date and day.value == datetime(2026, 1, row["day"].day)
        assert day.number_format == "yyyy-mm-dd"
        if row["moment"] is None:
            assert moment.value is None
        else:
            assert moment.is_date and moment.value == row["moment"]
        assert flag.value is row["flag"]


def test_negative_amounts_stay_numbers(tmp_path, columns, rows):
    write(tmp_path / "out.xlsx", columns, [dict(rows[0], amount=Decimal("-5"))])
    _, table = cells(tmp_path / "out.xlsx")
    assert table[1][2].value == -5 and table[1][2].data_type == "n"


@pytest.mark.parametrize("dangerous", DANGEROUS)
def test_formula_like_text_is_a_text_cell_showing_exactly_the_source(tmp_path, columns, rows, dangerous):
    """A text cell is never evaluated; an apostrophe in it would be shown (Excel's "'" before a typed
    formula is not part of the value but the cell's quote prefix, which the cell gets instead)."""
    write(tmp_path / "out.xlsx", columns, [dict(rows[0], name=dangerous)])
    _, table = cells(tmp_path / "out.xlsx")
    cell = table[1][0]
    assert cell.data_type == "s" and cell.quotePrefix
    assert cell.value == dangerous.replace("\r", "\n")    # XML reads a carriage return as \n


@pytest.mark.parametrize("text", ["'t Hoen", "'=1+2", "''"])
def test_a_text_that_starts_with_an_apostrophe_keeps_it(tmp_path, columns, rows, text):
    write(tmp_path / "out.xlsx", columns, [dict(rows[0], name=text)])
    _, table = cells(tmp_path / "out.xlsx")
    assert (table[1][0].value, table[1][0].data_type) == (text, "s")


def test_a_formula_like_header_is_text_too(tmp_path, rows):
    write(tmp_path / "out.xlsx", [Column("name", "=Name")], [{"name": "x"}])
    _, table = cells(tmp_path / "out.xlsx")
    assert (table[0][0].value, table[0][0].data_type) == ("=Name", "s")


def test_a_text_that_looks_like_an_error_value_stays_text(tmp_path, columns, rows):
    write(tmp_path / "out.xlsx", columns, [dict(rows[0], name="#N/A")])
    _, table = cells(tmp_path / "out.xlsx")
    assert (table[1][0].value, table[1][0].data_type) == ("#N/A", "s")


def test_no_formula_anywhere_in_the_sheet_xml(tmp_path, columns, rows):
    import zipfile
    write(tmp_path / "out.xlsx", columns, rows)
    with zipfile.ZipFile(tmp_path / "out.xlsx") as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet and b"<f " not in sheet


def test_skip_headers(tmp_path, columns, rows):
    write(tmp_path / "out.xlsx", columns, rows, skip_headers=True)
    _, table = cells(tmp_path / "out.xlsx")
    assert len(table) == len(rows)
    assert table[0][0].value == "plain"


@pytest.mark.parametrize("locale, first, sheet", [
    ("nl", "Beschrijving", "Geëxporteerde gegevens"), ("sv", "Beskrivning", "Exporterade data"),
    ("da", "Beskrivelse", "Eksporterede data")])
def test_translated_headers_and_sheet_title(app, tmp_path, columns, rows, locale, first, sheet):
    with app.app_context(), force_locale(locale):
        write(tmp_path / "out.xlsx", columns, rows)
    workbook, table = cells(tmp_path / "out.xlsx")
    assert table[0][0].value == first
    assert workbook.sheetnames == [sheet]


def test_control_characters_that_xml_cannot_hold_are_dropped(tmp_path, columns, rows):
    write(tmp_path / "out.xlsx", columns, [dict(rows[0], name="bell\x07 and null\x00")])
    _, table = cells(tmp_path / "out.xlsx")
    assert table[1][0].value == "bell and null"


def test_more_rows_than_a_sheet_holds_continue_on_a_next_sheet(tmp_path, monkeypatch):
    # A sheet holds 1,048,576 rows; the limit is lowered so that the test writes a few.
    monkeypatch.setattr(xlsx_module, "MAX_ROWS", 4)
    columns = [Column("n", None, "int")]
    write(tmp_path / "out.xlsx", columns, [{"n": n} for n in range(1, 8)], translated_headers=False)
    workbook = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert workbook.sheetnames == ["Exported data", "Exported data (2)", "Exported data (3)"]
    values = [[c.value for c in row] for sheet in workbook.worksheets for row in sheet.iter_rows()]
    assert values == [["n"], [1], [2], [3], ["n"], [4], [5], [6], ["n"], [7]]
