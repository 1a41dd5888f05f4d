"""Bulk loading of rows into a table: COPY on PostgreSQL, chunked executemany elsewhere.

Used by ``demo seed`` and the CSV import. Rows are tuples in the order of ``columns``; they are consumed
from any iterable (a generator streams), ``chunk_size`` at a time.
"""
from itertools import islice

from sqlalchemy import insert, text

CHUNK_SIZE = 5000


def chunks(rows, size=CHUNK_SIZE):
    iterator = iter(rows)
    while True:
        chunk = list(islice(iterator, size))
        if not chunk:
            return
        yield chunk


def bulk_insert(connection, table, columns, rows, chunk_size=CHUNK_SIZE):
    """Insert ``rows`` into ``table`` inside the caller's transaction on ``connection``. Returns the count.

    A source table's change marker (``row_version``) is set as the database would: on PostgreSQL by the
    column's default; on SQLite here, once for all rows (instead of a trigger's UPDATE per row)."""
    if "row_version" in table.c and "row_version" not in columns:
        marker = insert_marker(connection)
        if marker is not None:
            columns = list(columns) + ["row_version"]
            rows = (tuple(row) + (marker,) for row in rows)
    if connection.dialect.name == "postgresql":
        return _copy(connection, table, columns, rows)
    statement = insert(table)
    count = 0
    for chunk in chunks(rows, chunk_size):
        connection.execute(statement, [dict(zip(columns, row)) for row in chunk])
        count += len(chunk)
    return count


def insert_marker(connection):
    """The change marker a bulk insert on ``connection`` gives its rows itself (``exporting.changes``):
    None on PostgreSQL (the column's default: the writing transaction's id), the current generation on
    SQLite (set directly, instead of a trigger's UPDATE per row). Read holding the write lock, so that no
    run can take a watermark between this read and the commit."""
    if connection.dialect.name == "postgresql":
        return None
    connection.execute(text("UPDATE source_clock SET value = value WHERE id = 1"))
    return connection.execute(text("SELECT value FROM source_clock WHERE id = 1")).scalar()


def _copy(connection, table, columns, rows):
    """PostgreSQL's COPY through psycopg, in the transaction that ``connection`` has open."""
    raw = connection.connection.driver_connection
    column_list = ", ".join(f'"{name}"' for name in columns)
    count = 0
    with raw.cursor() as cursor:
        with cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count
