"""JSON Lines: one JSON object per line, UTF-8, technical keys (machines read it, not people).

Decimals are JSON numbers written with their column's fixed scale (``12.50``), so that a reader that
parses numbers as decimals gets them exactly; dates and times are ISO 8601 strings.
"""
import json

from . import register
from .base import FileWriter, scalar_converter

_encode_string = json.JSONEncoder(ensure_ascii=False).encode


def _literal(column):
    if column.kind != "text":
        return scalar_converter(column, null="null", quote='"')

    def convert(value):
        if value is None:
            return "null"
        return _encode_string(value if type(value) is str else str(value))
    return convert


@register
class JsonLinesWriter(FileWriter):
    format_name = "jsonl"
    extension = "jsonl"
    media_type = "application/jsonl; charset=utf-8"

    def _open(self):
        self._handle = open(self.temp_path, "w", encoding="utf-8", newline="", buffering=1 << 20)
        self._converters = [_literal(column) for column in self.columns]
        self._plan = [(column.key, _encode_string(column.key) + ":", convert)
                      for column, convert in zip(self.columns, self._converters)]

    def _write_batch(self, rows):
        plan = self._plan
        write = self._handle.write
        count = 0
        for row in rows:
            try:
                line = "{" + ",".join([prefix + convert(row[key]) for key, prefix, convert in plan]) + "}\n"
            except Exception as error:
                self._value_error(self.rows + count + 1, row, self._converters, error)
            write(line)
            count += 1
        return count

    def _finish(self):
        self._handle.close()

    def _discard(self):
        self._handle.close()
