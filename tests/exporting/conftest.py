"""Helpers for the engine's tests: an app context on each database, running a run's real job code."""
import csv
import json

import pytest

from portal.exporting import queries
from portal.extensions import db


@pytest.fixture
def ctx(any_app):
    """An app context on SQLite and on PostgreSQL (each test runs on both)."""
    with any_app.app_context():
        yield any_app
        db.session.remove()


@pytest.fixture
def sqlite_ctx(app):
    with app.app_context():
        yield app
        db.session.remove()


def execute(run):
    """Run the run's job in this process: the same function an RQ worker calls."""
    from portal.exporting.jobs import execute_run
    run_id = run if isinstance(run, int) else run.id
    result = execute_run(run_id)
    db.session.expire_all()
    return result


def start_and_run(profile, mode="test", **kwargs):
    from portal.exporting import services
    kwargs.setdefault("window_start", "2026-11-01")
    kwargs.setdefault("window_end", "2026-11-30")
    run = services.start_run(profile.id, mode=mode, **kwargs)
    execute(run)
    return db.session.get(type(run), run.id)


def files_of(run):
    return queries.run_files(run.id)


def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_csv(path, **kwargs):
    encoding = kwargs.pop("encoding", "utf-8")
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle, **kwargs))


def rows_of(run):
    """The rows of a run's single JSON Lines file."""
    files = files_of(run)
    assert len(files) == 1, files
    return read_jsonl(files[0].path)
