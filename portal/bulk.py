"""Bulk loading of rows into a table: COPY on PostgreSQL, chunked executemany elsewhere.

Used by ``demo seed`` and the CSV import. Rows are tuples in the order of ``columns``; they are
consumed from any iterable (a generator streams), ``chunk_size`` at a time.
"""
from itertools import islice

from sqlalchemy import insert

CHUNK_SIZE = 5000


def chunks(rows, size=CHUNK_SIZE):
    iterator = iter(rows)
    while True:
        chunk = list(islice(iterator, size))
        if not chunk:
            return
        yield chunk


def bulk_insert(connection, table, columns, rows, chunk_size=CHUNK_SIZE):
    """Insert ``rows`` into ``table`` inside the caller's transaction on ``connection``. Returns the count."""
    if connection.dialect.name == "postgresql":
        return _copy(connection, table, columns, rows)
    statement = insert(table)
    count = 0
    for chunk in chunks(rows, chunk_size):
        connection.execute(statement, [dict(zip(columns, row)) for row in chunk])
        count += len(chunk)
    return count


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
