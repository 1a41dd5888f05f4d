"""XLSX, streamed with openpyxl's write-only mode: real number, date and boolean cells.

Every text is a text cell (``t="inlineStr"``), which a spreadsheet shows as it is and never evaluates:
a text that starts like a formula (``=``, ``+``, ``-``, ``@``…) or looks like an error value (``#N/A``) is
written as it came, without CSV's leading apostrophe — in a text cell the apostrophe would be part of
the value, and the reader would see ``'=1+2``. Such a cell also gets Excel's quote prefix (the style an
apostrophe typed into a cell gives), so that editing it keeps it text. More rows than a sheet holds
continue on a next sheet.
"""
from flask_babel import lazy_gettext as _l

from . import register
from .base import FORMULA_PREFIXES, FileWriter, to_bool, to_date, to_datetime, to_decimal, to_int

MAX_ROWS = 1_048_576      # rows per sheet in Excel
MAX_CELL_TEXT = 32_767    # characters per cell in Excel
SHEET_TITLE = _l("Exported data")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# openpyxl is imported by the first XLSX file (``_load``), not by every worker that writes another format.
Workbook = WriteOnlyCell = ERROR_CODES = ILLEGAL_CHARACTERS_RE = None


def _load():
    global Workbook, WriteOnlyCell, ERROR_CODES, ILLEGAL_CHARACTERS_RE
    if Workbook is None:
        from openpyxl import Workbook as workbook
        from openpyxl.cell import WriteOnlyCell as write_only_cell
        from openpyxl.cell.cell import ERROR_CODES as error_codes, ILLEGAL_CHARACTERS_RE as illegal
        WriteOnlyCell, ERROR_CODES, ILLEGAL_CHARACTERS_RE = write_only_cell, error_codes, illegal
        Workbook = workbook


def _clean_text(value):
    """The text as a cell holds it: without the control characters XML cannot hold, at most a cell's
    length (None: an empty cell)."""
    if value is None:
        return None
    if type(value) is not str:
        value = str(value)
    if not value:
        return None
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_CELL_TEXT] or None


def _text_cell(sheet, text):
    """``text`` as a cell: a plain value, or — when a spreadsheet would take it for a formula or an error
    value — a text cell with the quote prefix (openpyxl would write ``=…`` as a formula)."""
    if text is None or not (text.startswith(FORMULA_PREFIXES) or text in ERROR_CODES):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


@register
class XlsxWriter(FileWriter):
    format_name = "xlsx"
    extension = "xlsx"
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def _open(self):
        _load()
        self._workbook = Workbook(write_only=True)
        self._sheet_number = 0
        self._title = str(self.raw_options.get("sheet_title") or SHEET_TITLE)[:25]
        self._new_sheet()
        self._converters = [self._converter(column) for column in self.columns]
        self._plan = [(column.key, convert) for column, convert in zip(self.columns, self._converters)]

    def _new_sheet(self):
        self._sheet_number += 1
        title = self._title if self._sheet_number == 1 else f"{self._title} ({self._sheet_number})"
        self._sheet = self._workbook.create_sheet(title=title)
        self._sheet_rows = 0
        # Styled cells are reused from row to row: write-only mode serialises a row when it is appended.
        self._styled = {}
        if not self.options.skip_headers:
            self._sheet.append([_text_cell(self._sheet, _clean_text(heading)) for heading in self.headings()])
            self._sheet_rows += 1

    def _cell(self, key, number_format):
        cell = WriteOnlyCell(self._sheet)
        cell.number_format = number_format
        return cell

    def _converter(self, column):
        kind = column.kind
        key = column.key
        if kind == "text":
            def convert(value):
                return _text_cell(self._sheet, _clean_text(value))
            return convert
        if kind == "int":
            return to_int
        if kind == "bool":
            return to_bool
        if kind == "decimal":
            scale = column.scale
            number_format = "0." + "0" * scale if scale > 0 else "0"
            return self._styled_converter(key, number_format, lambda value: to_decimal(value, scale))
        if kind == "date":
            return self._styled_converter(key, DATE_FORMAT, to_date)
        return self._styled_converter(key, DATETIME_FORMAT, to_datetime)

    def _styled_converter(self, key, number_format, parse):
        def convert(value):
            parsed = parse(value)
            if parsed is None:
                return None
            cell = self._styled.get(key)
            if cell is None:
                cell = self._styled[key] = self._cell(key, number_format)
            cell.value = parsed
            return cell
        return convert

    def _write_batch(self, rows):
        plan = self._plan
        count = 0
        for row in rows:
            if self._sheet_rows >= MAX_ROWS:
                self._new_sheet()
            try:
                line = [convert(row[key]) for key, convert in plan]
            except Exception as error:
                self._value_error(self.rows + count + 1, row, self._converters, error)
            self._sheet.append(line)
            self._sheet_rows += 1
            count += 1
        return count

    def _finish(self):
        self._workbook.save(self.temp_path)

    def _discard(self):
        # Each write-only sheet streams into its own temporary file: finish and remove them now,
        # not when the worker process exits.
        for sheet in self._workbook.worksheets:
            if sheet._writer is not None:
                sheet.close()
                sheet._writer.cleanup()
        self._workbook = None
