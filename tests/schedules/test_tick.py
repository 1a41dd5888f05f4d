"""The schedules' tick with an injectable clock (``now``), on SQLite and PostgreSQL: one run per start,
a missed start made up once and marked late, two workers racing one start, a production start skipped
while a production run is active, pause and resume."""
import threading
from datetime import datetime, timedelta

import pytest

from portal.exporting import services as engine
from portal.exporting.errors import ExportError
from portal.extensions import db
from portal.models import Run
from portal.schedules import services
from portal.schedules.models import ScheduleStart

from tests import factories

NOW = datetime(2026, 11, 26, 12, 0)          # a Thursday; Amsterdam is UTC+1
THIRD = datetime(2026, 12, 3, 5, 0)          # 3 December 06:00 in Amsterdam


def _profile(export_type="payments"):
    zorg, _, _ = factories.companies()
    factories.payments(zorg, 2)
    db.session.commit()
    return engine.create_profile(name="Payments", export_type=export_type, options={"format": "jsonl"})


def _monthly(profile, mode="test"):
    return services.save_schedule(profile.id, now=NOW, frequency="monthly", hour=6, minute=0, day=3,
                                  window="previous_month", mode=mode, locale="sv")


def test_a_due_start_makes_one_run_over_its_window(ctx):
    schedule = _monthly(_profile())
    assert schedule.next_start_at == THIRD
    assert services.run_due_schedules(now=THIRD - timedelta(minutes=1)) == []
    made = services.run_due_schedules(now=THIRD + timedelta(seconds=20))
    assert [s.state for s in made] == ["started"] and made[0].late is False
    run = db.session.get(Run, made[0].run_id)
    assert (run.window_start.isoformat(), run.window_end.isoformat()) == ("2026-11-01", "2026-11-30")
    assert run.status == "queued" and run.locale == "sv" and run.started_by_id is None
    assert services.start_of_run(run.id).schedule_id == schedule.id
    # The next tick in the same minute does nothing; the schedule moved on to January.
    assert services.run_due_schedules(now=THIRD + timedelta(seconds=50)) == []
    assert db.session.get(type(schedule), schedule.id).next_start_at == datetime(2027, 1, 3, 5, 0)
    assert db.session.query(Run).count() == 1


def test_a_missed_start_is_made_up_once_and_says_it_was_late(ctx):
    profile = _profile()
    schedule = services.save_schedule(profile.id, now=NOW, frequency="daily", hour=6, window="previous_day")
    # No worker ran from the 27th to the 30th 10:00: three starts missed, one run.
    back = datetime(2026, 11, 30, 9, 0)
    made = services.run_due_schedules(now=back)
    assert len(made) == 1 and made[0].late is True
    assert made[0].due_at == datetime(2026, 11, 30, 5, 0)     # the latest missed start
    run = db.session.get(Run, made[0].run_id)
    assert run.window_start.isoformat() == "2026-11-29"
    assert services.run_due_schedules(now=back + timedelta(minutes=1)) == []
    assert db.session.query(Run).count() == 1
    assert db.session.get(type(schedule), schedule.id).next_start_at == datetime(2026, 12, 1, 5, 0)


def test_a_worker_that_saw_the_start_late_makes_no_second_run(ctx):
    """The unique keys decide, not the order: a second worker that read the schedule as due before the
    first one moved it on finds the run (idempotency key) and the start row (unique) taken."""
    schedule = _monthly(_profile())
    first = services.run_due_schedules(now=THIRD)
    assert len(first) == 1
    # The second worker's stale view: the schedule still due at THIRD.
    db.session.execute(db.update(type(schedule)).where(type(schedule).id == schedule.id)
                       .values(next_start_at=THIRD))
    db.session.commit()
    assert services.run_due_schedules(now=THIRD + timedelta(seconds=5)) == []
    assert db.session.query(Run).count() == 1
    assert db.session.query(ScheduleStart).count() == 1


@pytest.mark.parametrize("workers", [4])
def test_workers_racing_one_start_make_one_run(ctx, workers):
    schedule = _monthly(_profile(), mode="production")
    app = ctx
    barrier = threading.Barrier(workers)
    errors = []

    def worker():
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                services.run_due_schedules(now=THIRD)
            except Exception as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    db.session.expire_all()
    assert errors == []
    runs = db.session.query(Run).all()
    assert len(runs) == 1 and runs[0].mode == "production"
    starts = db.session.query(ScheduleStart).all()
    assert [(s.state, s.run_id) for s in starts] == [("started", runs[0].id)]
    assert db.session.get(type(schedule), schedule.id).next_start_at == datetime(2027, 1, 3, 5, 0)


def test_a_production_start_while_a_production_run_is_active_is_skipped_with_its_reason(ctx):
    profile = _profile()
    _monthly(profile, mode="production")
    active = engine.start_run(profile.id, mode="production", window_start="2026-10-01", window_end="2026-10-31")
    made = services.run_due_schedules(now=THIRD)
    assert [(s.state, s.code, s.run_id) for s in made] == [("skipped", "production_run_active", None)]
    assert f"{active.id}" in made[0].reason and "produktion" in made[0].reason.lower()   # Swedish, the schedule's
    assert db.session.query(Run).count() == 1


def test_pause_and_resume_does_not_make_up_what_was_missed(ctx):
    profile = _profile()
    schedule = _monthly(profile)
    services.set_paused(profile.id, schedule.id, True, now=NOW)
    assert services.run_due_schedules(now=THIRD) == []
    services.set_paused(profile.id, schedule.id, False, now=THIRD + timedelta(days=2))
    assert db.session.get(type(schedule), schedule.id).next_start_at == datetime(2027, 1, 3, 5, 0)


def test_bad_input_is_refused_with_a_message(ctx):
    profile = _profile()
    with pytest.raises(ExportError) as refused:
        services.save_schedule(profile.id, now=NOW, frequency="monthly", hour=6, day=32, window="previous_month")
    assert refused.value.code == "schedule_day"
    with pytest.raises(ExportError) as refused:
        services.save_schedule(profile.id, now=NOW, frequency="daily", hour=6, window="next_year")
    assert refused.value.code == "schedule_window"


def test_dst_spring_forward_start_runs_at_the_jump_once(ctx):
    """02:30 does not exist on 28 March 2027 in Amsterdam: the start is at 03:00 CEST (01:00 UTC)."""
    profile = _profile()
    schedule = services.save_schedule(profile.id, now=datetime(2027, 3, 27, 12), frequency="daily", hour=2,
                                      minute=30, window="previous_day")
    assert schedule.next_start_at == datetime(2027, 3, 28, 1, 0)
    assert services.run_due_schedules(now=datetime(2027, 3, 28, 0, 59)) == []
    made = services.run_due_schedules(now=datetime(2027, 3, 28, 1, 0, 30))
    assert len(made) == 1 and made[0].late is False
    assert db.session.get(Run, made[0].run_id).window_start.isoformat() == "2027-03-27"
    assert db.session.get(type(schedule), schedule.id).next_start_at == datetime(2027, 3, 29, 0, 30)


def test_dst_fall_back_start_in_the_repeated_hour_runs_once(ctx):
    """02:30 happens twice on 31 October 2027: one run, at the first (00:30 UTC); nothing at the second."""
    profile = _profile()
    schedule = services.save_schedule(profile.id, now=datetime(2027, 10, 30, 12), frequency="daily", hour=2,
                                      minute=30, window="previous_day")
    assert schedule.next_start_at == datetime(2027, 10, 31, 0, 30)
    assert len(services.run_due_schedules(now=datetime(2027, 10, 31, 0, 31))) == 1
    assert services.run_due_schedules(now=datetime(2027, 10, 31, 1, 31)) == []    # the second 02:30
    assert db.session.query(Run).count() == 1
    assert db.session.get(type(schedule), schedule.id).next_start_at == datetime(2027, 11, 1, 1, 30)


def test_the_workers_maintenance_timer_runs_the_tick(ctx):
    """Registered as the maintenance task "schedules-due": one worker's turn makes the due start."""
    from portal import maintenance
    profile = _profile()
    schedule = services.save_schedule(profile.id, now=datetime(2020, 1, 1), frequency="daily", hour=6,
                                      window="previous_day")
    assert "schedules-due" in [t.name for t in maintenance.tasks()]
    outcome = maintenance.run_due(ctx, owner="worker-a", only={"schedules-due"})
    assert len(outcome["schedules-due"]) == 1 and outcome["schedules-due"][0].late   # years late: once
    assert maintenance.run_due(ctx, owner="worker-b", only={"schedules-due"}) == {"schedules-due": "locked"}
    db.session.expire_all()
    assert db.session.query(Run).count() == 1
    assert db.session.get(type(schedule), schedule.id).next_start_at > datetime.utcnow()


def test_a_schedules_debtor_selection_names_each_debtor_by_company_and_number(ctx):
    """Debtor numbers are unique per company only. A schedule of a profile over every company takes
    ``ZORG/10001`` (the company's code before the number), refuses a number two companies have, shows
    its selection so on its form, and its runs export that company's debtor only. A schedule saved
    before (numbers alone) with such a number is skipped with the reason, not exported for both."""
    from portal.demo.seed import seed_users
    from tests.factories import AuthActions
    seed_users()
    zorg, *_ = factories.same_debtor_number()
    profile = engine.create_profile(name="Invoices", export_type="invoices", options={"format": "jsonl"})
    with pytest.raises(ExportError) as refused:
        services.save_schedule(profile.id, now=NOW, frequency="monthly", hour=6, day=3, window="previous_month",
                               params={"debtors": ["10001"]})
    assert refused.value.code == "ambiguous_debtors" and "ZORG/10001, THUIS/10001" in str(refused.value)
    schedule = services.save_schedule(profile.id, now=NOW, frequency="monthly", hour=6, day=3,
                                      window="previous_month", params={"debtors": ["ZORG/10001"]})
    assert schedule.params["debtors"] == [{"company_id": zorg.id, "number": "10001"}]
    client = ctx.test_client()
    AuthActions(client).login("staff")
    form = client.get(f"/profiles/{profile.id}/schedules/{schedule.id}/edit").get_data(as_text=True)
    assert 'value="ZORG/10001"' in form
    made = services.run_due_schedules(now=THIRD)
    assert db.session.get(Run, made[0].run_id).params["debtors"] == [{"company_id": zorg.id, "number": "10001"}]
    # Saved before debtors were stored with their company: the number alone, which two companies have.
    schedule = db.session.get(type(schedule), schedule.id)
    schedule.params = {"booking_date_rule": "window_end", "debtor_numbers": ["10001"]}
    db.session.commit()
    made = services.run_due_schedules(now=datetime(2027, 1, 3, 5, 0))
    assert [(s.state, s.code) for s in made] == [("skipped", "ambiguous_debtors")]
