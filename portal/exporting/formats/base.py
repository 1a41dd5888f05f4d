"""What every file writer shares: columns, options, value formatting, the atomic temporary file."""
import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from flask_babel import lazy_gettext as _l

from ..messages import stored_message, stored_text

COLUMN_KINDS = ("text", "int", "decimal", "date", "datetime", "bool")
ENCODINGS = ("utf-8", "utf-8-sig")
LINE_TERMINATORS = ("\r\n", "\n")
_TERMINATOR_NAMES = {"crlf": "\r\n", "lf": "\n"}   # as a form may send them

# A text cell starting with one of these is run as a formula by spreadsheet programs (OWASP, CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One output column: ``key`` in the rows, ``header`` a lazy translatable string, ``kind`` its type.

    ``scale`` is the number of decimals a ``decimal`` column is written with.
    """
    key: str
    header: object
    kind: str = "text"
    scale: int = 2

    def __post_init__(self):
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"Column {self.key!r}: unknown kind {self.kind!r}")

    def heading(self, translated=True):
        """The header cell: the header's text in the current locale, or the technical key."""
        if translated and self.header is not None:
            return str(self.header)
        return self.key


@dataclass(frozen=True)
class FileInfo:
    """A finished file: where it is, what it holds, and how to check it."""
    path: str
    name: str
    format: str
    media_type: str
    size: int
    sha256: str
    rows: int


# Message codes with their texts, so that an error can be shown in any language (and in a run's report).
MESSAGES = {
    "unknown_format": _l("Unknown file format “%(format)s”."),
    "bad_option": _l("The file option “%(option)s” cannot be “%(value)s”."),
    "bad_value": _l("Row %(row)s: the value “%(value)s” in column “%(column)s” does not fit the column."),
    "missing_value": _l("Row %(row)s: column “%(column)s” is missing."),
    "sie_one_company": _l("An SIE file holds one company; this export has %(first)s and %(second)s. "
                          "Export each company to its own file."),
    "sie_unbalanced": _l("The journal of %(company)s for %(period)s does not balance: "
                         "debit and credit differ by %(difference)s."),
    "sie_amount": _l("Row %(row)s: the amount %(amount)s has more than two decimals."),
}


class FormatError(Exception):
    """A file cannot be written as asked. ``code`` and ``params`` let a report show it in any language."""

    def __init__(self, code, **params):
        self.code = code
        self.params = params
        super().__init__(f"{code}: {params}")

    @property
    def message(self):
        """The message in the current locale (an amount with the locale's separators)."""
        return stored_text(self.stored())

    def stored(self):
        """The message and its parameters as JSON, to be shown later in the reader's language."""
        return stored_message(MESSAGES[self.code], self.params)


@dataclass(frozen=True)
class FormatOptions:
    """The file options of an export profile. Keys that belong to other formats are ignored."""
    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = "utf-8"
    line_terminator: str = "\r\n"
    skip_headers: bool = False
    translated_headers: bool = True

    @classmethod
    def from_mapping(cls, options):
        options = dict(options or {})
        values = {name: options[name] for name in cls.__dataclass_fields__ if name in options}
        for name in ("skip_headers", "translated_headers"):
            if name in values:
                try:
                    flag = to_bool(values[name])
                except ValueError:
                    raise FormatError("bad_option", option=name, value=values[name]) from None
                values[name] = cls.__dataclass_fields__[name].default if flag is None else flag
        if "line_terminator" in values:
            values["line_terminator"] = _TERMINATOR_NAMES.get(str(values["line_terminator"]).lower(),
                                                              values["line_terminator"])
        made = cls(**values)
        made.check()
        return made

    def check(self):
        if not (isinstance(self.delimiter, str) and len(self.delimiter) == 1) or self.delimiter in '\r\n"':
            raise FormatError("bad_option", option="delimiter", value=self.delimiter)
        if (not (isinstance(self.quotechar, str) and len(self.quotechar) == 1)
                or self.quotechar in "\r\n" or self.quotechar == self.delimiter):
            raise FormatError("bad_option", option="quotechar", value=self.quotechar)
        if self.encoding not in ENCODINGS:
            raise FormatError("bad_option", option="encoding", value=self.encoding)
        if self.line_terminator not in LINE_TERMINATORS:
            raise FormatError("bad_option", option="line_terminator", value=repr(self.line_terminator))


# ---- values: one deterministic form per kind ------------------------------------------------------

def neutralise(text):
    """Prefix an apostrophe to text that a spreadsheet would run as a formula (the one formula guard:
    files, reports and the overview's CSV all use it)."""
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def to_int(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise ValueError(value)
        return int(value)
    return int(str(value).strip())


_QUANTS = {}


def to_decimal(value, scale):
    """A Decimal with exactly ``scale`` decimals (half up), never a negative zero."""
    if value is None or value == "":
        return None
    quant = _QUANTS.get(scale)
    if quant is None:
        quant = _QUANTS[scale] = Decimal(1).scaleb(-scale)
    if isinstance(value, float):
        value = repr(value)
    elif isinstance(value, bool):
        raise ValueError(value)
    try:
        result = Decimal(value).quantize(quant, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(value) from None
    if not result.is_finite():
        raise ValueError(value)
    if result.is_zero() and result.is_signed():
        result = -result
    return result


def to_date(value):
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def to_datetime(value):
    """A naive datetime in UTC (the portal stores UTC); aware values are converted."""
    if value is None or value == "":
        return None
    if not isinstance(value, datetime):
        if isinstance(value, date):
            value = datetime(value.year, value.month, value.day)
        else:
            value = datetime.fromisoformat(str(value))
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def to_bool(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal)):
        return bool(value)
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "t", "y"}:
        return True
    if text in {"false", "0", "no", "f", "n"}:
        return False
    raise ValueError(value)


def iso_datetime(value):
    """``2026-11-21T15:14:00Z`` (seconds; microseconds when there are any)."""
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text + "Z"


def _text_neutralised(value):
    if value is None:
        return ""
    return neutralise(value if type(value) is str else str(value))


def scalar_converter(column, null, quote=""):
    """A function value → literal for a column that is not text: ``null`` where there is no value,
    dates and times between ``quote`` (CSV writes them bare, JSON as strings). The hot path: kept small."""
    kind = column.kind
    if kind == "int":
        def convert(value):
            number = to_int(value)
            return null if number is None else str(number)
    elif kind == "decimal":
        scale = column.scale

        def convert(value):
            number = to_decimal(value, scale)
            return null if number is None else format(number, "f")
    elif kind == "date":
        def convert(value):
            day = to_date(value)
            return null if day is None else quote + day.isoformat() + quote
    elif kind == "datetime":
        def convert(value):
            moment = to_datetime(value)
            return null if moment is None else quote + iso_datetime(moment) + quote
    else:
        def convert(value):
            flag = to_bool(value)
            return null if flag is None else ("true" if flag else "false")
    return convert


def text_converter(column):
    """A function value → text for CSV-like formats: text cannot carry a spreadsheet formula."""
    if column.kind == "text":
        return _text_neutralised
    return scalar_converter(column, null="")


# ---- the writer base -----------------------------------------------------------------------------

class FileWriter:
    """Base of every writer. Subclasses set the class attributes and implement the three hooks."""
    format_name = None
    extension = None
    header_row = False          # whether the file starts with the columns' headings (Skip headers drops them)
    media_type = "application/octet-stream"

    def __init__(self, path, columns, options=None):
        self.path = Path(path)
        self.columns = list(columns)
        self.options = FormatOptions.from_mapping(options)
        self.raw_options = dict(options or {})
        self.rows = 0
        self._info = None
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Same directory, so that the final rename is atomic; hidden, so that nobody lists it as a file.
        self.temp_path = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.part")
        try:
            self._open()
        except BaseException:
            self._remove_temp()
            raise

    # hooks
    def _open(self):
        raise NotImplementedError

    def _write_batch(self, rows):
        """Write an iterable of rows; return how many were written."""
        raise NotImplementedError

    def _finish(self):
        """Write what remains and close the temporary file."""
        raise NotImplementedError

    def _discard(self):
        """Close whatever is open without finishing (the temporary file is removed afterwards)."""

    # public
    def write_rows(self, rows):
        if self._closed:
            raise RuntimeError("write_rows() after close()")
        self.rows += self._write_batch(rows)

    def close(self):
        """Finish the file, move it into place and describe it. Calling it again returns the same."""
        if self._info is not None:
            return self._info
        if self._closed:
            raise RuntimeError("close() after abort()")
        try:
            self._finish()
            _fsync(self.temp_path)
            digest, size = _digest(self.temp_path)
            os.replace(self.temp_path, self.path)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        _fsync_directory(self.path.parent)
        self._info = FileInfo(path=str(self.path), name=self.path.name, format=self.format_name,
                              media_type=self.media_type, size=size, sha256=digest, rows=self.rows)
        return self._info

    def abort(self):
        """Give up: nothing appears under ``path``."""
        if self._closed:
            return
        self._closed = True
        try:
            self._discard()
        finally:
            self._remove_temp()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()
        return False

    # helpers for subclasses
    def headings(self):
        return [column.heading(self.options.translated_headers) for column in self.columns]

    def _value_error(self, row_number, row, converters, error):
        """Find the cell that failed in a row and raise a FormatError naming it (else the error itself)."""
        for column, convert in zip(self.columns, converters):
            try:
                value = row[column.key]
            except (KeyError, TypeError, IndexError):
                raise FormatError("missing_value", row=row_number, column=column.key) from None
            try:
                convert(value)
            except (ValueError, TypeError, ArithmeticError):
                raise FormatError("bad_value", row=row_number, column=column.key, value=value,
                                  kind=column.kind) from None
        raise error

    def _remove_temp(self):
        try:
            os.unlink(self.temp_path)
        except FileNotFoundError:
            pass


def _digest(path):
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(1 << 20)
            if not chunk:
                break
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def _fsync(path):
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(directory):
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:  # platforms without directory handles: the rename is still atomic
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
