"""File formats of the file provider: one module per format, found through a small registry.

    writer = get_writer("csv")(path, columns, options)
    writer.write_rows(rows)          # any number of times; rows are dicts keyed by Column.key
    info = writer.close()            # FileInfo: .size, .sha256, .rows (the file appears only now)

Writers stream: they hold one batch of rows at most, write to a temporary name next to ``path`` and
rename it into place on ``close()``; ``abort()`` (or leaving a ``with`` block by an exception) removes it.
"""
from .base import COLUMN_KINDS, Column, FileInfo, FileWriter, FormatError, FormatOptions

_REGISTRY = {}


def register(cls):
    """Class decorator: make a writer available under its ``format_name``."""
    _REGISTRY[cls.format_name] = cls
    return cls


def get_writer(format_name):
    """The writer class for ``format_name`` ("csv", "jsonl", "xlsx", "sie4")."""
    try:
        return _REGISTRY[format_name]
    except KeyError:
        raise FormatError("unknown_format", format=format_name) from None


def format_names():
    return tuple(sorted(_REGISTRY))


# Importing the modules registers their writers.
from . import csvfile, jsonl, sie4, xlsx  # noqa: E402,F401

__all__ = ["COLUMN_KINDS", "Column", "FileInfo", "FileWriter", "FormatError", "FormatOptions",
           "get_writer", "format_names", "register"]
