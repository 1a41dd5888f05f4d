"""Browser flows need a real RQ worker: ``python worker.py`` as a subprocess on the test's database,
Redis and storage (the engine tests' helper), stopped after the test."""
import pytest

from tests.exporting.test_worker import _start_worker, _stop


@pytest.fixture
def worker(app):
    process = _start_worker(app)
    yield process
    _stop(process)
