"""CSV: delimiter, quote character, UTF-8 with or without BOM, line ends, headers skipped or translated."""
import csv

from . import register
from .base import FileWriter, neutralise, text_converter


@register
class CsvWriter(FileWriter):
    format_name = "csv"
    header_row = True
    extension = "csv"
    media_type = "text/csv"

    def _open(self):
        options = self.options
        # utf-8-sig writes the byte order mark that spreadsheet programs look for.
        self._handle = open(self.temp_path, "w", encoding=options.encoding, newline="", buffering=1 << 20)
        self._writer = csv.writer(self._handle, delimiter=options.delimiter, quotechar=options.quotechar,
                                  lineterminator=options.line_terminator, quoting=csv.QUOTE_MINIMAL,
                                  doublequote=True)
        self._converters = [text_converter(column) for column in self.columns]
        self._plan = [(column.key, convert) for column, convert in zip(self.columns, self._converters)]
        if not options.skip_headers:
            # Translated headers are text like any other: a header cannot smuggle a formula in either.
            self._writer.writerow([neutralise(heading) for heading in self.headings()])

    def _write_batch(self, rows):
        plan = self._plan
        writerow = self._writer.writerow
        count = 0
        for row in rows:
            try:
                line = [convert(row[key]) for key, convert in plan]
            except Exception as error:
                self._value_error(self.rows + count + 1, row, self._converters, error)
            writerow(line)
            count += 1
        return count

    def _finish(self):
        self._handle.close()

    def _discard(self):
        self._handle.close()
