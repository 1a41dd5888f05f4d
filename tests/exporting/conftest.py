"""Fixtures for the engine's tests: an app context on each database (helpers: ``tests/factories.py``)."""
import pytest

from portal.extensions import db


@pytest.fixture
def ctx(any_app):
    """An app context on SQLite and on PostgreSQL (each test runs on both)."""
    with any_app.app_context():
        yield any_app
        db.session.remove()


@pytest.fixture
def pg_ctx(pg_app):
    """An app context on PostgreSQL only (what SQLite cannot do, such as concurrent writers)."""
    with pg_app.app_context():
        yield pg_app
        db.session.remove()


@pytest.fixture
def sqlite_ctx(app):
    with app.app_context():
        yield app
        db.session.remove()

