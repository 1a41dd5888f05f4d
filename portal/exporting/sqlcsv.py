"""CSV and JSON Lines written by the database: the final text of every cell (CSV) or of every line (JSON
Lines) is computed in SQL from the prepared rows, and the rows stream into the file — ``COPY (SELECT …)
TO STDOUT`` on PostgreSQL, one cursor into the C ``csv`` writer (or straight into the file) on SQLite.
No Python per value.

The output is exactly what the row-by-row writers (``formats.csvfile``, ``formats.jsonl``) write: the
text converters' forms (formula neutralisation, ``2026-11-20T10:00:00Z``, decimals with their scale,
``true``/``false``, JSON strings escaped as Python's ``json`` escapes them) and the profile's column
choice and order. That holds for values already in their final form, which is what the payload builders
make. The check is part of the one streaming query: a row whose values are otherwise (an edited value
that needs converting, a line break in a CSV value on PostgreSQL, a JSON boolean in a text column) makes
the query fail on that row, the half-written file is dropped, and the engine takes the row-by-row path.
A delivery with cancellation lines (removals, made in Python) goes row by row without trying.
"""
from operator import itemgetter

from sqlalchemy import (
    JSON, BigInteger, Boolean, Integer, String, Text, and_, bindparam, case, cast, exists, false, func, literal, not_, or_,
    select, true, tuple_, type_coerce,
)
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table

from ..extensions import db
from .formats.jsonl import _encode_string
from ..models.exporting import DELIVERY_ORDER, PreparedRow

FORMATS = ("csv", "jsonl")
_NEUTRALISE_FIRST = ("=", "+", "-", "@", "\t", "\r")
# PostgreSQL's COPY takes one-byte delimiters and quotes, written as SQL literals here.
_PG_LITERALS = {",": "','", ";": "';'", "|": "'|'", "\t": "E'\\t'", '"': "'\"'", "'": "''''"}
# JSON Lines through COPY's CSV mode: a delimiter and a quote that a JSON line never holds (JSON escapes
# every control character), so that every line comes out as it is, never quoted.
_PG_JSONL_COPY = "WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"
_ODD_ROW = "portal: a row the database cannot write exactly"
SQLITE_CHUNK = 20_000


class OddRow(Exception):
    """A deliverable row whose values the database cannot write exactly as the row-by-row writer."""


class _Dialect:
    """The payload's values and their JSON types, per database.

    PostgreSQL parses each row's JSON once (``json_to_record``, every column typed ``json``: the value's
    own JSON text, whose first character tells its type). SQLite reads each value once, with one
    ``json_extract`` per column in a subquery (``rows``: its WHERE, ORDER BY and LIMIT; the LIMIT keeps
    SQLite from folding it into the outer query, which would call ``json_extract`` again at every use),
    and tells the type by ``typeof``: text is a JSON string (or an object or array, which start with
    ``{`` or ``[`` — taken for odd), integer a JSON number or boolean (which Python writes alike where an
    integer or a boolean is due), real a JSON number with a fraction, NULL a JSON null or no value.
    """

    def __init__(self, name, columns, rows=None):
        self.name = name
        self.pg = name == "postgresql"
        keys = [column.key for column in columns if column.key != "mutation"]
        if self.pg:
            self.record = (func.json_to_record(PreparedRow.payload)
                           .table_valued(*[sa_column(key, JSON) for key in keys])
                           .render_derived(name="x", with_types=True))
            self.row = PreparedRow.__table__.c
            return
        inner = select(PreparedRow.id, PreparedRow.mutation, PreparedRow.group_key, PreparedRow.seq, *[
            func.json_extract(PreparedRow.payload, _text(f'$."{key}"')).label(f"v{i}") for i, key in enumerate(keys)])
        self.inner = (rows(inner) if rows is not None else inner).subquery("v")
        self.row = self.inner.c
        self._values = {key: self.inner.c[f"v{i}"] for i, key in enumerate(keys)}

    def source(self):
        if self.pg:
            return PreparedRow.__table__.join(self.record, true())
        return self.inner

    def value(self, key):
        """The payload value as text (NULL when missing or null)."""
        if self.pg:
            return type_coerce(self.record.c[key].op("#>>")(_text("{}")), Text)
        return self._values[key]

    def _raw(self, key):
        return type_coerce(cast(self.record.c[key], Text), Text)

    def absent(self, key):
        if self.pg:
            return self.record.c[key].is_(None)       # missing or JSON null
        return self._values[key].is_(None)

    def is_string(self, key):
        if self.pg:
            return func.left(self._raw(key), 1) == '"'
        value = self._values[key]
        return and_(func.typeof(value) == "text", func.substr(value, 1, 1).not_in(["{", "["]))

    def is_integer(self, key):
        if self.pg:
            return self._raw(key).op("~")(_text("^-?(0|[1-9][0-9]*)$"))
        return func.typeof(self._values[key]) == "integer"

    def is_bool(self, key, flag):
        if self.pg:
            return self._raw(key) == ("true" if flag else "false")
        value = self._values[key]
        return and_(func.typeof(value) == "integer", value == (1 if flag else 0))

    def matches(self, value, regex, glob):
        if self.pg:
            return value.op("~")(_text(regex))
        return value.op("GLOB")(_text(glob))

    def quote_json(self, text_):
        """A JSON string literal of ``text_``, escaped as Python's ``json`` escapes (ensure_ascii off)."""
        if self.pg:
            return cast(func.to_json(text_), Text)
        return func.json_quote(text_)

    def odd(self):
        """An expression that fails the query when evaluated (only for an odd row)."""
        if self.pg:
            # Not a constant (it names the row), so the planner cannot fold it and fail on every query.
            return cast(cast(_text(_ODD_ROW + " ") + cast(self.row.id, String), Integer), String)
        return func.portal_odd_row(self.row.id)


def _text(s):
    return literal(s, String)


def _column(dialect, column):
    """CSV: (cell expression, predicate: the value is in the form this expression converts exactly, as
    ``formats.base.text_converter`` would)."""
    key = column.key
    value, absent = dialect.value(key), dialect.absent(key)
    if column.kind == "text":
        cell = case((func.substr(value, 1, 1).in_(_NEUTRALISE_FIRST), _text("'") + value),
                    else_=func.coalesce(value, _text("")))
        simple = or_(absent, dialect.is_string(key))
        if dialect.pg:
            # COPY ends lines with \n only: a line break inside a value would come out differently.
            simple = or_(absent, and_(dialect.is_string(key), not_(value.op("~")(_text("[\r\n]")))))
    elif column.kind == "int":
        cell = func.coalesce(cast(value, String), _text(""))
        simple = or_(absent, dialect.is_integer(key))
    elif column.kind == "decimal":
        # The payload holds a decimal with at most the column's scale of decimals (a quantity without its
        # trailing zeros: ``1``, ``1.5``); the cell is it padded to the scale, as ``to_decimal`` writes it.
        scale = column.scale
        if scale < 1:
            return None, None
        zeros = "0" * scale
        if dialect.pg:
            point = func.strpos(value, _text("."))
            canonical = value.op("~")(_text(rf"^-?(0|[1-9][0-9]*)(\.[0-9]{{1,{scale}}})?$"))
            negative_zero = and_(value.op("~")(_text("^-")), not_(value.op("~")(_text("[1-9]"))))
        else:
            point = func.instr(value, _text("."))
            decimals = func.length(value) - point
            canonical = and_(or_(value.op("GLOB")("[0-9]*"), value.op("GLOB")("-[0-9]*")),
                             not_(func.substr(value, 2).op("GLOB")("*[^0-9.]*")),
                             not_(value.op("GLOB")("*.*.*")),
                             not_(or_(value.op("GLOB")("0[0-9]*"), value.op("GLOB")("-0[0-9]*"))),
                             or_(point == 0, and_(decimals >= 1, decimals <= scale)))
            negative_zero = and_(value.op("GLOB")("-*"), not_(value.op("GLOB")("*[1-9]*")))
        padded = value + case((point == 0, _text("." + zeros)),
                              else_=func.substr(_text(zeros), 1, scale - (func.length(value) - point)))
        cell = case((value == "", _text("")), else_=func.coalesce(padded, _text("")))
        canonical = and_(canonical, not_(negative_zero))
        simple = or_(absent, and_(dialect.is_string(key), or_(value == "", canonical)))
    elif column.kind == "date":
        cell = func.coalesce(value, _text(""))
        pattern = dialect.matches(value, "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                                  "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]")
        simple = or_(absent, and_(dialect.is_string(key), or_(value == "", pattern)))
    elif column.kind == "datetime":
        cell = case((or_(value.is_(None), value == ""), _text("")),
                    else_=func.replace(value, " ", "T") + _text("Z"))
        pattern = dialect.matches(
            value, "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$",
            "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]")
        simple = or_(absent, and_(dialect.is_string(key), or_(value == "", pattern)))
    elif column.kind == "bool":
        cell = case((dialect.is_bool(key, True), _text("true")), (dialect.is_bool(key, False), _text("false")),
                    else_=_text(""))
        simple = or_(absent, dialect.is_bool(key, True), dialect.is_bool(key, False))
    else:
        return None, None
    return cell, simple


def _json_column(dialect, column):
    """JSON Lines: (the value's JSON literal, predicate), as ``formats.jsonl`` writes it. The predicates
    are CSV's, except that a line break in a text is no trouble (JSON escapes it)."""
    key = column.key
    value = dialect.value(key)
    cell, simple = _column(dialect, column)
    if cell is None:
        return None, None
    if column.kind == "text":
        simple = or_(dialect.absent(key), dialect.is_string(key))
    null = _text("null")
    empty = or_(value.is_(None), value == "")
    if column.kind == "text":
        cell = case((value.is_(None), null), else_=dialect.quote_json(value))
    elif column.kind == "int":
        cell = func.coalesce(cast(value, String), null)
    elif column.kind == "decimal":
        cell = case((empty, null), else_=cell)
    elif column.kind == "date":
        cell = case((empty, null), else_=_text('"') + value + _text('"'))
    elif column.kind == "datetime":
        cell = case((empty, null), else_=_text('"') + func.replace(value, " ", "T") + _text('Z"'))
    else:
        cell = case((dialect.is_bool(key, True), _text("true")), (dialect.is_bool(key, False), _text("false")),
                    else_=null)
    return cell, simple


def _cells(dialect, columns, fmt):
    """The output expressions and the predicates that say a row is in final form (None: not possible)."""
    cells, predicates = [], []
    for column in columns:
        if column.key == "mutation":
            mutation = dialect.row.mutation
            cells.append(mutation if fmt == "csv" else dialect.quote_json(mutation))
            continue
        cell, simple = (_column if fmt == "csv" else _json_column)(dialect, column)
        if cell is None:
            return None, None
        cells.append(cell)
        predicates.append(simple)
    if fmt == "jsonl":
        # One JSON object per line, keys in column order, no spaces (as ``formats.jsonl`` joins them).
        line = None
        for position, (column, cell) in enumerate(zip(columns, cells)):
            prefix = ("{" if position == 0 else ",") + _encode_string(column.key) + ":"
            line = _text(prefix) + cell if line is None else line + _text(prefix) + cell
        cells = [line + _text("}") if line is not None else _text("{}")]
    return cells, predicates


def _options_possible(fmt, options, name):
    """The format, the database and the CSV options COPY can take."""
    if fmt not in FORMATS or name not in ("postgresql", "sqlite"):
        return False
    return not (fmt == "csv" and name == "postgresql" and (
        options.delimiter not in _PG_LITERALS or options.quotechar not in _PG_LITERALS or options.delimiter == "'"))


def possible(fmt, options, columns, deliverable, cancel, reverse=False, counts=None):
    """Whether the database may try to write this delivery (cheap checks, no payload read): the format,
    the database, the CSV options COPY can take, columns it can convert, no cancellation or reversal
    lines (both made in Python)."""
    name = db.session.connection().dialect.name
    if not _options_possible(fmt, options, name):
        return False
    if _cells(_Dialect(name, columns), columns, fmt)[0] is None:
        return False
    # A removal is delivered as a cancellation line, made in Python (one key-only look, no JSON read).
    # A changed record of a type that reverses changes first gets the reversal of what was delivered.
    # ``counts``: the run's counts from prepare — none of those mutations there, none to look for.
    python_lines = [mutation for mutation, needed in (("removed", cancel), ("changed", reverse))
                    if needed and (counts is None or counts.get(mutation, 1))]
    return not (python_lines and db.session.execute(select(exists().where(
        deliverable, PreparedRow.mutation.in_(python_lines)))).scalar())


def write(fmt, writer, deliverable, columns, progress=None):
    """Write the deliverable rows into ``writer`` (opened, CSV header written), in delivery order.
    Returns how many rows; raises ``OddRow`` (the database's transaction as it was before) when a row
    is not in final form — the caller drops the file and writes row by row."""
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    order = DELIVERY_ORDER
    pg = connection.dialect.name == "postgresql"
    if pg:
        dialect = _Dialect(connection.dialect.name, columns)
    else:
        # SQLite: chunks by key (see ``_write_sqlite``), the key after which a chunk starts a parameter.
        after = tuple_(bindparam("after_group", "", String), bindparam("after_seq", -1, Integer),
                       bindparam("after_id", 0, Integer))
        dialect = _Dialect(connection.dialect.name, columns, rows=lambda rows: (
            rows.where(deliverable, tuple_(*order) > after).order_by(*order).limit(SQLITE_CHUNK).offset(0)))
    cells, predicates = _cells(dialect, columns, fmt)
    # The check is in the query: the first cell fails for a row that is not in final form.
    cells[0] = case((not_(and_(true(), *predicates)), dialect.odd()), else_=cells[0])
    if pg:
        if fmt == "csv":
            cells = [func.nullif(cell, _text("")) for cell in cells]   # COPY writes '' as ""
        stmt = select(*cells).select_from(dialect.source()).where(deliverable).order_by(*order)
        count = _write_pg(fmt, writer, raw, _sql(stmt, connection))
    else:
        key = (dialect.row.group_key, dialect.row.seq, dialect.row.id)
        stmt = select(*cells, *key).select_from(dialect.source()).order_by(*key)
        compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
        count = _write_sqlite(fmt, writer, raw, compiled, progress)
    writer.rows += count
    return count


class _Prepared:
    """PostgreSQL, while preparing (``write_while_inserting``): the values of the payload's keys as the
    ``src`` CTE carries them (``v0``, ``v1`` …), each of a type whose JSON form the payload would have —
    text (a JSON string) or an integer (a JSON number) — so that the cells and their checks are exactly
    what ``_Dialect`` computes from the stored JSON, without building and parsing it."""
    pg = True

    def __init__(self, kinds):
        self.kinds = kinds
        names = [sa_column("seq", Integer), sa_column("group_key", Text), sa_column("mutation", Text),
                 sa_column("invalid", Boolean)]
        names += [sa_column(f"v{i}", Text if kind == "string" else BigInteger) for i, kind in enumerate(kinds.values())]
        self.source_table = sa_table("src", *names)
        self.row = self.source_table.c
        self._values = {key: self.row[f"v{i}"] for i, key in enumerate(kinds)}

    def value(self, key):
        value = self._values[key]
        return value if self.kinds[key] == "string" else cast(value, Text)

    def absent(self, key):
        return self._values[key].is_(None)

    def is_string(self, key):
        return true() if self.kinds[key] == "string" else false()

    def is_integer(self, key):
        return true() if self.kinds[key] == "integer" else false()

    def is_bool(self, key, flag):
        return false()

    matches = _Dialect.matches
    quote_json = _Dialect.quote_json

    def odd(self):
        return cast(cast(_text(_ODD_ROW + " seq ") + cast(self.row.seq, String), Integer), String)


# PostgreSQL types of a payload value (``cursor.description``) and the JSON form ``json_build_object``
# gives each: text (a JSON string) or an integer (a JSON number). Any other type: not written this way.
_PG_KINDS = {25: "string", 1043: "string", 21: "integer", 23: "integer", 20: "integer"}


def kinds_while_inserting(fmt, options, columns, payload, source):
    """PostgreSQL: {payload key: "string" | "integer"} of the output columns' values when the file can be
    written by the statement that inserts the prepared rows (``write_while_inserting``), else None.
    ``payload``: [(key, SQL expression)]; ``source``: the SELECT they are read from (asked for no rows,
    only for the types of its columns)."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql" or not _options_possible(fmt, options, "postgresql"):
        return None
    expressions = dict(payload)
    keys = [column.key for column in columns if column.key != "mutation"]
    if any(key not in expressions for key in keys):
        return None
    probe = source.with_only_columns(*[expressions[key].label(f"v{i}") for i, key in enumerate(keys)]).limit(0)
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(_sql(probe, connection))
        kinds = {key: _PG_KINDS.get(d.type_code) for key, d in zip(keys, cursor.description)}
    if None in kinds.values() or _cells(_Prepared(kinds), columns, fmt)[0] is None:
        return None
    return kinds


def write_while_inserting(fmt, writer, rows, insert_columns, kinds, columns):
    """PostgreSQL: insert the prepared rows of ``rows`` (a SELECT of ``insert_columns`` as prepare builds
    it, plus the output values ``v0`` … of ``kinds``' keys) and write their valid rows into ``writer`` in
    the same statement — ``COPY (WITH src AS MATERIALIZED (…), ins AS (INSERT … SELECT … FROM src)
    SELECT cells FROM src …)``: one snapshot, so the file holds exactly what was inserted. The rows come
    out in delivery order (``group_key``, ``seq``). Raises ``OddRow`` (nothing inserted, the transaction as
    it was) when a row is not in final form. Returns how many rows were written."""
    connection = db.session.connection()
    dialect = _Prepared(kinds)
    cells, predicates = _cells(dialect, columns, fmt)
    cells[0] = case((not_(and_(true(), *predicates)), dialect.odd()), else_=cells[0])
    if fmt == "csv":
        cells = [func.nullif(cell, _text("")) for cell in cells]
    src = dialect.source_table
    out = (select(*cells).select_from(src).where(src.c.invalid.is_(False))
           .order_by(src.c.group_key, src.c.seq))
    names = ", ".join(insert_columns)
    sql = (f"WITH src AS MATERIALIZED ({_sql(rows, connection)}), "
           f"ins AS (INSERT INTO {PreparedRow.__tablename__} ({names}) SELECT {names} FROM src) "
           f"{_sql(out, connection)}")
    count = _write_pg(fmt, writer, connection.connection.driver_connection, sql)
    writer.rows += count
    return count


def _sql(stmt, connection):
    return str(stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))


def _write_pg(fmt, writer, raw, sql):
    import psycopg
    options = writer.options
    if fmt == "csv":
        copy_sql = (f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, DELIMITER {_PG_LITERALS[options.delimiter]}, "
                    f"QUOTE {_PG_LITERALS[options.quotechar]})")
        crlf = options.line_terminator == "\r\n"
    else:
        copy_sql, crlf = f"COPY ({sql}) TO STDOUT {_PG_JSONL_COPY}", False
    handle = writer._handle
    count = 0
    raw.execute("SAVEPOINT portal_sqlfile")
    try:
        def flush(chunks):
            data = b"".join(chunks)
            chunks.clear()
            text_ = data.decode("utf-8")
            handle.write(text_.replace("\n", "\r\n") if crlf else text_)
            return data.count(b"\n")

        with raw.cursor() as cursor:
            with cursor.copy(copy_sql) as copy:
                # COPY sends a message per row: joined in thousands, decoded and written at once.
                chunks = []
                for chunk in copy:
                    chunks.append(chunk)
                    if len(chunks) >= 5000:
                        count += flush(chunks)
                if chunks:
                    count += flush(chunks)
    except psycopg.errors.InvalidTextRepresentation as error:
        if _ODD_ROW not in str(error):
            raise
        raw.execute("ROLLBACK TO SAVEPOINT portal_sqlfile")
        raw.execute("RELEASE SAVEPOINT portal_sqlfile")
        raise OddRow() from None
    raw.execute("RELEASE SAVEPOINT portal_sqlfile")
    return count


def _write_sqlite(fmt, writer, raw, compiled, progress):
    """Chunks of ``SQLITE_CHUNK`` rows by key, each one statement that ends before the run's progress is
    committed: a read left open across commits would lock every other writer out (SQLite without WAL:
    the heartbeat's thread, another pooled connection). One compiled statement, the key a parameter."""
    import sqlite3
    seen = []

    def odd_row(row_id):
        seen.append(row_id)
        raise OddRow(row_id)

    raw.create_function("portal_odd_row", 1, odd_row)
    sql, names, values = str(compiled), compiled.positiontup, dict(compiled.params)
    cells = itemgetter(slice(None, -3))         # the key columns (group_key, seq, id) end each row
    if fmt == "csv":
        writerows = writer._writer.writerows

        def write_rows(rows):
            writerows(map(cells, rows))
    else:
        write, first = writer._handle.write, itemgetter(0)

        def write_rows(rows):
            write("\n".join(map(first, rows)) + "\n")
    count = 0
    while True:
        try:
            rows = raw.execute(sql, tuple(values[name] for name in names)).fetchall()
        except sqlite3.OperationalError:
            if seen:
                raise OddRow(seen[0]) from None
            raise
        if not rows:
            break
        write_rows(rows)
        count += len(rows)
        if progress is not None:
            progress.advance(count)
        if len(rows) < SQLITE_CHUNK:
            break
        values["after_group"], values["after_seq"], values["after_id"] = rows[-1][-3:]
    return count


__all__ = ["FORMATS", "OddRow", "kinds_while_inserting", "possible", "write", "write_while_inserting"]
