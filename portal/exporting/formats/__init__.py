"""File formats of the file provider: one module per format, found through a small registry.

    writer = get_writer("csv")(path, columns, options)
    writer.write_rows(rows)          # any number of times; rows are dicts keyed by Column.key
    info = writer.close()            # FileInfo: .size, .sha256, .rows (the file appears only now)

Writers stream: they hold one batch of rows at most, write to a temporary name next to ``path`` and
rename it into place on ``close()``; ``abort()`` (or leaving a ``with`` block by an exception) removes it.
"""
from ..registry import Registry
from .base import COLUMN_KINDS, Column, FileInfo, FileWriter, FormatError, FormatOptions

FORMATS = Registry(__name__, key="format_name", unknown=lambda name: FormatError("unknown_format", format=name))
register = FORMATS.register          # class decorator: a writer under its ``format_name``
get_writer = FORMATS.get             # the writer class for "csv", "jsonl", "xlsx", "sie4"


def format_names():
    return tuple(FORMATS.keys())


__all__ = ["COLUMN_KINDS", "Column", "FileInfo", "FileWriter", "FormatError", "FormatOptions",
           "get_writer", "format_names", "register"]
