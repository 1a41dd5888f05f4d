"""The worker's maintenance timer (portal.maintenance) with real Redis: a registered task runs once per
interval whichever worker offers it a turn, another worker takes over when the lock expires, a failing
task does not stop the others, and the timer thread keeps running tasks on its own."""
import time

import pytest

from portal import maintenance
from portal.queue import redis_connection


@pytest.fixture
def registry():
    """Test tasks, removed afterwards (the engine's reconciler is left alone)."""
    names = []

    def add(name, func, every):
        names.append(name)
        maintenance.register(name, func, every=every)
    yield add
    for name in names:
        maintenance.unregister(name)


def test_a_task_runs_once_per_interval_across_workers(app, registry):
    calls = []
    registry("test-count", lambda: calls.append(1) or len(calls), every=0.5)
    only = {"test-count"}
    assert maintenance.run_due(app, owner="worker-a", only=only) == {"test-count": 1}
    assert maintenance.run_due(app, owner="worker-b", only=only) == {"test-count": "locked"}
    assert maintenance.run_due(app, owner="worker-a", only=only) == {"test-count": "locked"}
    with app.app_context():
        assert redis_connection().get(maintenance.LOCK_PREFIX + "test-count") == b"worker-a"
    time.sleep(0.6)                  # worker-a's turn has expired (or worker-a died): worker-b takes it
    assert maintenance.run_due(app, owner="worker-b", only=only) == {"test-count": 2}
    assert calls == [1, 1]


def test_an_interval_can_be_a_setting(app, registry):
    app.config["TEST_TASK_SECONDS"] = 42
    registry("test-setting", lambda: "ran", every="TEST_TASK_SECONDS")
    assert maintenance.run_due(app, owner="w", only={"test-setting"}) == {"test-setting": "ran"}
    with app.app_context():
        ttl = redis_connection().pttl(maintenance.LOCK_PREFIX + "test-setting")
    assert 40_000 < ttl <= 42_000


def test_a_failing_task_does_not_stop_the_others(app, registry):
    def broken():
        raise RuntimeError("boom")
    registry("test-broken", broken, every=10)
    registry("test-fine", lambda: "fine", every=10)
    outcomes = maintenance.run_due(app, owner="w", only={"test-broken", "test-fine"})
    assert outcomes == {"test-broken": "error", "test-fine": "fine"}


def test_registering_twice_keeps_one_task(registry):
    registry("test-twice", lambda: 1, every=5)
    registry("test-twice", lambda: 2, every=5)
    assert [t.name for t in maintenance.tasks()].count("test-twice") == 1


def test_the_timer_thread_runs_tasks_on_its_own_and_stops(app, registry):
    calls = []
    registry("test-timer", lambda: calls.append(time.monotonic()), every=0.2)
    maintenance.unregister("export-reconciler")      # only the test task in this timer
    try:
        timer = maintenance.Timer(app, owner="timer-test", tick=0.05)
        timer.start()
        deadline = time.monotonic() + 10
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        timer.stop()
        assert not timer.is_alive()
        assert len(calls) >= 3
        gaps = [b - a for a, b in zip(calls, calls[1:])]
        assert min(gaps) >= 0.19          # once per interval, although the timer ticks every 0.05 s
    finally:
        from portal.exporting.reconciler import reconcile
        maintenance.register("export-reconciler", reconcile, every="EXPORT_RECONCILE_SECONDS")


def test_without_redis_a_task_waits_for_the_next_tick(app, registry):
    calls = []
    registry("test-no-redis", lambda: calls.append(1), every=5)
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"         # nothing listens there
    assert maintenance.run_due(app, owner="w", only={"test-no-redis"}) == {"test-no-redis": "no-redis"}
    assert calls == []
