"""SQL building blocks for export types that let the database build their payload (set-based prepare).

Each helper returns a SQLAlchemy Core expression that yields, for one source row, the same text the
Python helpers in ``base`` give (``iso``, ``money``, ``window_text``), on PostgreSQL and SQLite.
``fingerprint`` hashes the payload's JSON text in the database: ``md5`` on PostgreSQL, ``portal_md5`` on
SQLite (a deterministic function registered on every SQLite connection, see ``register_sqlite``).
"""
import hashlib
import sqlite3
from dataclasses import dataclass, field

from sqlalchemy import String, case, cast, event, func, literal
from sqlalchemy.engine import Engine


@dataclass
class SqlSource:
    """What a type declares to be prepared by one statement.

    ``select``: the source rows in the window and scope (FROM, joins, WHERE; its columns are ignored);
    ``payload``: [(payload key, expression)] in the payload's order (JSON-able: text, integers, booleans);
    ``required``: the payload keys that must have a value (a row without one is invalid, reported).
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


def iso_datetime(column, dialect):
    """``2026-11-20 10:00:00`` (seconds), as ``base.iso`` and ``base.window_text`` write a datetime."""
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM-DD HH24:MI:SS")
    return func.strftime("%Y-%m-%d %H:%M:%S", column)


def iso_date(column, dialect):
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


def money(column, dialect):
    """Two decimals, as ``base.money``; NULL stays NULL."""
    if dialect == "postgresql":
        return cast(func.round(column, 2), String)
    return case((column.is_(None), None), else_=func.printf("%.2f", column))


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


@event.listens_for(Engine, "connect")
def register_sqlite(dbapi_connection, connection_record):
    """The fingerprint function on SQLite connections (PostgreSQL has ``md5`` built in)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("portal_md5", 1, _md5, deterministic=True)
