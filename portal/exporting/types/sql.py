"""SQL building blocks for export types that let the database build their payload (set-based prepare).

Each helper returns a SQLAlchemy Core expression that yields, for one source row, the same text the
Python helpers in ``base`` give (``iso``, ``money``, ``window_text``), on PostgreSQL and SQLite.
``fingerprint`` hashes the payload's JSON text in the database: ``md5`` on PostgreSQL, ``portal_md5`` on
SQLite (a deterministic function registered on every SQLite connection, see ``register_sqlite``).

SQLite keeps decimals as binary floats. A value within its column's scale (what the import accepts)
is written by ``printf`` exactly as Python writes it; a value with more decimals (written through the
ORM, not the import) goes through ``portal_fixed``, which writes it as SQLAlchemy reads it — so the two
paths agree on every value, and the common case stays in SQL.
"""
import hashlib
import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta, timezone

from sqlalchemy import BigInteger, Integer, String, case, cast, event, extract, func, literal
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement


@dataclass
class SqlSource:
    """What a type declares to be prepared by one statement.

    ``select``: the source rows in the window and scope (FROM, joins, WHERE; its columns are ignored);
    ``payload``: [(payload key, expression)] in the payload's order (JSON-able: text, integers, booleans);
    ``required``: the payload keys that must have a value (a row without one is invalid, reported);
    ``checks``: further row validations (``Check``), after the required values, in the order
    ``row_issues`` reports them.
    """
    select: object
    source_id: object
    record_key: object
    window_value: object
    payload: list
    company_id: object = None
    group_key: object = None
    subject_key: object = None
    required: tuple = ()
    headers: dict = field(default_factory=dict)
    checks: list = field(default_factory=list)
    # The whole window's SELECT when ``select`` was kept to what changed (an incremental run, set by the
    # engine's ``prepare``): removals are found against this one — unless the run's one pass over the
    # window found them already (``removals_found``: incremental_all, ``exporting.changes``).
    window: object = None
    removals_found: bool = False


@dataclass
class Check:
    """A row validation as SQL: where ``condition`` holds, the row is invalid and reported (an error with
    ``code`` and ``params``, [(name, SQL expression or plain value)], in the report's wording)."""
    code: str
    condition: object
    params: list


def is_sql(value):
    """Whether ``value`` is an SQL expression (a column, a mapped attribute) rather than a plain value."""
    return isinstance(value, ColumnElement) or hasattr(value, "__clause_element__")


def as_text(expression):
    """An expression as text (integers as their digits), for keys and messages."""
    if isinstance(getattr(expression, "type", None), String):
        return expression
    return cast(expression, String)


def concat(*parts):
    """Text joined as Python's f-strings join it: ``concat(A.code, "|", A.number)``."""
    pieces = [literal(part, String) if isinstance(part, str) else as_text(part) for part in parts]
    result = pieces[0]
    for piece in pieces[1:]:
        result = result.concat(piece)
    return result


def json_bool(condition, dialect):
    """A JSON ``true``/``false`` (as Python's ``bool(...)``: NULL is false)."""
    if dialect == "postgresql":
        return func.coalesce(condition, False)
    return func.json(case((condition, "true"), else_="false"))


def iso_datetime(column, dialect):
    """``2026-11-20 10:00:00`` (seconds), as ``base.iso`` and ``base.window_text`` write a datetime."""
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM-DD HH24:MI:SS")
    return func.strftime("%Y-%m-%d %H:%M:%S", column)


def iso_date(column, dialect):
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


def fixed(column, places, dialect):
    """``places`` decimals, as SQLAlchemy reads a ``Numeric(…, places)`` column; NULL stays NULL."""
    if dialect == "postgresql":
        return cast(func.round(column, places), String)
    return case((column.is_(None), None),
                (column == func.round(column, places), func.printf(f"%.{places}f", column)),
                else_=func.portal_fixed(column, places))


def money(column, dialect):
    """Two decimals, as ``base.money``; NULL stays NULL."""
    return fixed(column, 2, dialect)


def quantity(column, dialect):
    """As ``base.quantity``: up to four decimals, trailing zeros (and a bare point) left off."""
    return func.rtrim(func.rtrim(fixed(column, 4, dialect), "0"), ".")


def local_date(column, ctx, dialect):
    """The date in the organisation's time zone of a stored UTC time (``ctx.local(value).date()``).
    PostgreSQL converts by the zone's name; SQLite by the zone's offsets, one per stretch between the
    zone's transitions within the run's window (the rows a run reads lie in its window)."""
    if dialect == "postgresql":
        local = func.timezone(ctx.tz.key, func.timezone("UTC", column))
        return func.to_char(local, "YYYY-MM-DD")
    low, high = ctx.utc_bounds()
    stretches = _offsets(ctx.tz, low, high)
    *earlier, (_, last) = stretches
    # Compared as SQLite's normalised text (transitions fall on whole seconds).
    whens = [(func.datetime(column) < literal(until.strftime("%Y-%m-%d %H:%M:%S"), String),
              func.date(column, f"{offset:+d} seconds")) for until, offset in earlier]
    otherwise = func.date(column, f"{last:+d} seconds")
    return case(*whens, else_=otherwise) if whens else otherwise


def _offset(tz, moment):
    return int(moment.replace(tzinfo=timezone.utc).astimezone(tz).utcoffset().total_seconds())


def _offsets(tz, low, high):
    """[(until, offset seconds)] of the zone between the naive UTC times ``low`` and ``high``: each
    stretch's offset and the UTC time its next stretch begins (the last one's ``until`` is ``high``)."""
    stretches, start, current = [], low, _offset(tz, low)
    step = timedelta(days=1)
    while start < high:
        following = min(start + step, high)
        if _offset(tz, following) != current:
            first, last = start, following           # the offset changes in (first, last]: to the second
            while last - first > timedelta(seconds=1):
                middle = first + (last - first) / 2
                middle = middle.replace(microsecond=0)
                if middle <= first:
                    break
                if _offset(tz, middle) == current:
                    first = middle
                else:
                    last = middle
            stretches.append((last, current))
            start, current = last, _offset(tz, last)
        else:
            start = following
    stretches.append((high, current))
    return stretches


def whole_seconds(start, end, dialect):
    """``int((end - start).total_seconds())``: whole seconds between two times, toward zero."""
    if dialect == "postgresql":
        return cast(func.trunc(extract("epoch", end - start)), BigInteger)

    def micro(column):   # the microseconds of SQLAlchemy's text 'YYYY-MM-DD HH:MM:SS.ffffff' (none: 0)
        return cast(func.substr(func.substr(column, 21).concat("000000"), 1, 6), Integer)
    micros = ((cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start), Integer)) * 1000000
              + micro(end) - micro(start))
    return micros // 1000000     # integers: SQLite truncates toward zero, as int() does


def hours_text(seconds, dialect):
    """``f"{Decimal(seconds) / 3600:.2f}"``: hours to the cent, ties to even (Decimal's rounding), a
    minus sign for any negative span (Decimal keeps it: ``-0.00``)."""
    size = cast(func.abs(seconds), BigInteger)
    whole, rest = size // 36, size % 36               # cents of an hour: 36 seconds each
    cents = whole + case((rest > 18, 1), (rest == 18, whole % 2), else_=0)
    if dialect == "postgresql":
        decimals = func.lpad(cast(cents % 100, String), 2, "0")
    else:
        decimals = func.substr(literal("0", String).concat(cast(cents % 100, String)), -2)
    sign = case((seconds < 0, "-"), else_="")
    return concat(sign, cents // 100, ".", decimals)


def text_or_empty(column):
    return func.coalesce(column, "")


def json_object(pairs, dialect):
    arguments = []
    for key, expression in pairs:
        arguments.extend([literal(key, String), expression])
    if dialect == "postgresql":
        return func.json_build_object(*arguments)
    return func.json_object(*arguments)


def fingerprint(json_text, dialect):
    if dialect == "postgresql":
        return func.md5(cast(json_text, String))
    return func.portal_md5(json_text)


def _md5(text):
    return None if text is None else hashlib.md5(text.encode("utf-8")).hexdigest()


def _fixed(value, places):
    """What SQLAlchemy's ``Numeric`` gives for a float SQLite holds (``"%.*f"``), as text."""
    return None if value is None else "%.*f" % (places, float(value))


@event.listens_for(Engine, "connect")
def register_sqlite(dbapi_connection, connection_record):
    """The fingerprint function on SQLite connections (PostgreSQL has ``md5`` built in)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("portal_md5", 1, _md5, deterministic=True)
        dbapi_connection.create_function("portal_fixed", 2, _fixed, deterministic=True)
