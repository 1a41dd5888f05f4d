"""Fixtures: the app on SQLite (always) and PostgreSQL (when reachable; required under CI), real Redis.

Each checkout gets its own PostgreSQL database (named after its folder) and SQLite file, so that
several checkouts can run their suites side by side. Each test session starts a Redis of its
own (``TEST_REDIS_URL`` picks one instead).
"""
import hashlib
import os
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal.config import ROOT, TestConfig
from portal.devtools import redis_server
from tests.factories import AuthActions

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_CHECKOUT = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", f"postgresql+psycopg://postgres@127.0.0.1:5432/portal_test_{_CHECKOUT}")
SQLITE_URL = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{ROOT / 'instance' / 'test.db'}"


def _ensure_postgres_database(url):
    """Create the test database if it is missing. Returns an error text when PostgreSQL is unreachable."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                        {"n": target.database}).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    except Exception as exc:  # reported to the caller: skip or (under CI) fail
        return f"{type(exc).__name__}: {exc}"
    finally:
        admin.dispose()
    return None


@pytest.fixture(scope="session")
def redis_url():
    """A Redis of this session's own (on a free port), unless ``TEST_REDIS_URL`` names one: two suites on
    one machine then never empty each other's database or work each other's jobs."""
    url, process = (None, None) if os.environ.get("TEST_REDIS_URL") else redis_server.start_private()
    if url is None:
        url = TestConfig.REDIS_URL
        process = redis_server.ensure(url)
    yield url
    redis_server.stop(process)


def _config(database_url, redis_url_value, storage):
    return type("ConfiguredTest", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url_value,
        "RATELIMIT_STORAGE_URI": redis_url_value, "PORTAL_STORAGE_DIR": str(storage),
        # The sandbox tests' own client callback (tests/sandbox/conftest.py REDIRECT_URI), registered
        # besides the portal's callback at PORTAL_BASE_URL.
        "SANDBOX_REDIRECT_URIS": "http://127.0.0.1:9/callback"})


def _reset_schema(app):
    """Migrate to head once per backend and session (this also tests the migrations)."""
    from flask_migrate import downgrade, upgrade
    with app.app_context():
        from portal.extensions import db
        with db.engine.begin() as connection:
            if db.engine.dialect.name == "postgresql":
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        # A failing downgrade is found here too, not only in the migration test.
        downgrade(revision="base")
        upgrade()


_migrated = set()


def _truncate(app):
    from portal.extensions import db
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as connection:
            if db.engine.dialect.name == "postgresql":
                connection.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                        + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(text(f'DELETE FROM "{table}"'))


def _make_app(database_url, redis_url_value, tmp_path_factory):
    from portal import create_app
    storage = tmp_path_factory.mktemp("storage")
    app = create_app(_config(database_url, redis_url_value, storage))
    if database_url not in _migrated:
        _reset_schema(app)
        _migrated.add(database_url)
    _truncate(app)
    from portal.queue import redis_connection
    with app.app_context():
        redis_connection().flushdb()
    return app


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_app(request, redis_url, tmp_path_factory):
    """The app on each database: the test runs once on SQLite and once on PostgreSQL."""
    if request.param == "postgresql":
        yield from _postgres_app(redis_url, tmp_path_factory)
    else:
        yield _make_app(SQLITE_URL, redis_url, tmp_path_factory)


def _postgres_app(redis_url_value, tmp_path_factory):
    problem = _ensure_postgres_database(POSTGRES_URL)
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI and is unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    yield _make_app(POSTGRES_URL, redis_url_value, tmp_path_factory)


@pytest.fixture
def app(redis_url, tmp_path_factory):
    """The app on SQLite: for tests whose behaviour does not depend on the database."""
    return _make_app(SQLITE_URL, redis_url, tmp_path_factory)


@pytest.fixture
def pg_app(redis_url, tmp_path_factory):
    yield from _postgres_app(redis_url, tmp_path_factory)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def users(app):
    """The four demo users (password ``demo``), by role."""
    from portal.demo.seed import seed_users
    from portal.models import User
    with app.app_context():
        seed_users()
        from portal.extensions import db
        return {u.email.split("@")[0]: u.id for u in db.session.execute(db.select(User)).scalars()}


@pytest.fixture
def auth(client, users):
    return AuthActions(client)


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on a free port, in a thread."""
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    app.config["PORTAL_BASE_URL"] = server.url
    yield server
    server.shutdown()
    thread.join(timeout=5)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail("Debian's chromium is required under CI (make browser-deps installs it)")
        pytest.skip("Debian's chromium is not installed (make browser-deps)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser page. The test fails on any console error, uncaught exception or failed request
    for the page's own assets, on any page it opened (tests/browser/checks.py)."""
    from tests.browser.checks import PageWatch
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = PageWatch(page)
    page.watch = watch
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    problems = watch.take()
    if problems:
        pytest.fail("The browser reported problems:\n" + "\n".join(problems), pytrace=False)
