"""CSV written by the database: the final text of every cell is computed in SQL from the prepared rows,
and the rows stream into the file — ``COPY (SELECT …) TO STDOUT`` on PostgreSQL, one cursor into the C
``csv`` writer on SQLite. No Python per row or per value.

The cells are exactly what the row-by-row writer (``formats.csvfile``) writes: the text converters'
forms (formula neutralisation, ``2026-11-20T10:00:00Z``, decimals with their scale, ``true``/``false``)
and the profile's column choice and order. That holds for values already in their final form, which
is what the payload builders make; ``usable`` checks it in SQL first (one query) and the engine takes the
row-by-row path when any deliverable row is otherwise (a cancellation line, an edited value that
needs converting, a line break on PostgreSQL, an unusual delimiter).
"""
from sqlalchemy import String, Text, and_, case, cast, func, literal, not_, or_, select, true
from sqlalchemy import column as sa_column

from ..extensions import db
from ..models.exporting import PreparedRow

_NEUTRALISE_FIRST = ("=", "+", "-", "@", "\t", "\r")
# PostgreSQL's COPY takes one-byte delimiters and quotes, written as SQL literals here.
_PG_LITERALS = {",": "','", ";": "';'", "|": "'|'", "\t": "E'\\t'", '"': "'\"'", "'": "''''"}


class _Dialect:
    def __init__(self, name, columns):
        self.name = name
        self.pg = name == "postgresql"
        if self.pg:
            # PostgreSQL parses each row's JSON once: json_to_record gives every payload value as text.
            keys = [column.key for column in columns if column.key != "mutation"]
            self.record = (func.json_to_record(PreparedRow.payload)
                           .table_valued(*[sa_column(key, Text) for key in keys])
                           .render_derived(name="x", with_types=True))

    def source(self):
        table = PreparedRow.__table__
        return table.join(self.record, true()) if self.pg else table

    def value(self, key):
        """The payload value as text (NULL when missing or null)."""
        if self.pg:
            return self.record.c[key]
        return func.json_extract(PreparedRow.payload, literal(f'$."{key}"', String))

    def json_type(self, key):
        return func.json_type(PreparedRow.payload, literal(f'$."{key}"', String))

    def matches(self, value, regex, glob):
        if self.pg:
            return value.op("~")(literal(regex, String))
        return value.op("GLOB")(literal(glob, String))


def _column(dialect, column):
    """(cell expression, predicate: the value is in the form this expression converts exactly)."""
    if dialect.pg:
        return _pg_column(dialect, column)
    value, kind = dialect.value(column.key), dialect.json_type(column.key)
    absent = or_(kind.is_(None), kind == "null")
    if column.kind == "text":
        cell = case((value.is_(None), literal("", String)),
                    (func.substr(value, 1, 1).in_(_NEUTRALISE_FIRST), literal("'", String) + value), else_=value)
        simple = or_(absent, kind == "text")
    elif column.kind == "int":
        cell = func.coalesce(cast(value, String), literal("", String))
        simple = or_(absent, kind == "integer")
    elif column.kind == "decimal":
        cell = func.coalesce(value, literal("", String))
        scale = column.scale
        if scale < 1:
            return cell, literal(False)
        canonical = and_(or_(value.op("GLOB")("[0-9]*"), value.op("GLOB")("-[0-9]*")),
                         not_(func.substr(value, 2).op("GLOB")("*[^0-9.]*")),
                         value.op("GLOB")("*." + "[0-9]" * scale),
                         not_(value.op("GLOB")("*.*.*")),
                         not_(or_(value.op("GLOB")("0[0-9]*"), value.op("GLOB")("-0[0-9]*"))),
                         value != "-0." + "0" * scale)
        simple = or_(absent, and_(kind == "text", or_(value == "", canonical)))
    elif column.kind == "date":
        cell = func.coalesce(value, literal("", String))
        pattern = value.op("GLOB")("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]")
        simple = or_(absent, and_(kind == "text", or_(value == "", pattern)))
    elif column.kind == "datetime":
        cell = case((or_(value.is_(None), value == ""), literal("", String)),
                    else_=func.replace(value, " ", "T") + literal("Z", String))
        pattern = value.op("GLOB")("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]")
        simple = or_(absent, and_(kind == "text", or_(value == "", pattern)))
    elif column.kind == "bool":
        cell = case((kind == "true", literal("true", String)), (kind == "false", literal("false", String)),
                    else_=literal("", String))
        simple = or_(absent, kind.in_(["true", "false"]))
    else:
        return None, literal(False)
    return cell, simple


def _pg_column(dialect, column):
    """PostgreSQL: the values come as text (json_to_record), without their JSON type; the patterns accept
    only text that the row-by-row converters turn into itself (whatever its JSON type was)."""
    value = dialect.value(column.key)
    empty = or_(value.is_(None), value == "")

    def regex(pattern):
        return value.op("~")(literal(pattern, String))

    if column.kind == "text":
        cell = case((value.is_(None), literal("", String)),
                    (func.substr(value, 1, 1).in_(_NEUTRALISE_FIRST), literal("'", String) + value), else_=value)
        # COPY ends lines with \n only: a line break inside a value would come out differently.
        simple = or_(value.is_(None), not_(regex("[\r\n]")))
    elif column.kind == "int":
        cell = func.coalesce(value, literal("", String))
        simple = or_(empty, regex("^(0|-?[1-9][0-9]*)$"))
    elif column.kind == "decimal":
        cell = func.coalesce(value, literal("", String))
        scale = column.scale
        if scale < 1:
            return cell, literal(False)
        simple = or_(empty, and_(regex(rf"^-?(0|[1-9][0-9]*)\.[0-9]{{{scale}}}$"), value != "-0." + "0" * scale))
    elif column.kind == "date":
        cell = func.coalesce(value, literal("", String))
        simple = or_(empty, regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
    elif column.kind == "datetime":
        cell = case((empty, literal("", String)), else_=func.replace(value, " ", "T") + literal("Z", String))
        simple = or_(empty, regex("^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"))
    elif column.kind == "bool":
        cell = func.coalesce(value, literal("", String))
        simple = or_(empty, value.in_(["true", "false"]))
    else:
        return None, literal(False)
    return cell, simple


def _cells(dialect, columns):
    cells, predicates = [], []
    for column in columns:
        if column.key == "mutation":
            cells.append(PreparedRow.mutation)
            continue
        cell, simple = _column(dialect, column)
        if cell is None:
            return None, None
        cells.append(cell)
        predicates.append(simple)
    if dialect.pg and any(column.kind == "text" and column.key != "mutation" for column in columns):
        # json_to_record hides a JSON boolean's type: a text column would get 'true' where Python writes
        # 'True'. A payload with a boolean anywhere (or the word after a colon in a string) goes row by row.
        predicates.append(not_(cast(PreparedRow.payload, Text).op("~")(
            literal("[:,\\[]\\s*(true|false)\\s*[,}\\]]", String))))
    return cells, predicates


def usable(deliverable, columns, options, cancel):
    """Whether the database can write this delivery exactly as the row-by-row writer would."""
    name = db.session.connection().dialect.name
    if name not in ("postgresql", "sqlite"):
        return False
    if name == "postgresql" and (options.delimiter not in _PG_LITERALS or options.quotechar not in _PG_LITERALS
                                 or options.delimiter == "'"):
        return False
    dialect = _Dialect(name, columns)
    cells, predicates = _cells(dialect, columns)
    if cells is None:
        return False
    odd = or_(not_(and_(true(), *predicates)), PreparedRow.mutation == "removed" if cancel else literal(False))
    return db.session.execute(select(PreparedRow.id).select_from(dialect.source())
                              .where(deliverable, odd).limit(1)).first() is None


def write(writer, deliverable, columns, progress=None):
    """Write the deliverable rows into ``writer`` (a ``CsvWriter`` opened, header written), in delivery
    order. Returns how many rows."""
    connection = db.session.connection()
    dialect = _Dialect(connection.dialect.name, columns)
    cells, _ = _cells(dialect, columns)
    if dialect.pg:
        cells = [func.nullif(cell, literal("", String)) for cell in cells]   # COPY writes '' as ""
    stmt = (select(*cells).select_from(dialect.source()).where(deliverable)
            .order_by(PreparedRow.group_key, PreparedRow.seq))
    sql = str(stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    raw = connection.connection.driver_connection
    handle = writer._handle
    options = writer.options
    count = 0
    if dialect.pg:
        copy_sql = (f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, DELIMITER {_PG_LITERALS[options.delimiter]}, "
                    f"QUOTE {_PG_LITERALS[options.quotechar]})")
        crlf = options.line_terminator == "\r\n"
        with raw.cursor() as cursor:
            with cursor.copy(copy_sql) as copy:
                for chunk in copy:
                    text_ = bytes(chunk).decode("utf-8")
                    count += text_.count("\n")
                    handle.write(text_.replace("\n", "\r\n") if crlf else text_)
    else:
        cursor = raw.execute(sql)
        try:
            writerows = writer._writer.writerows
            while True:
                rows = cursor.fetchmany(20_000)
                if not rows:
                    break
                writerows(rows)
                count += len(rows)
                if progress is not None:
                    progress.advance(count)
        finally:
            cursor.close()
    writer.rows += count
    return count


__all__ = ["usable", "write"]
