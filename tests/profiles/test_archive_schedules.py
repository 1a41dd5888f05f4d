"""An archived profile's schedules are paused (no export starts by them, no start is recorded as
skipped) and stay paused when the profile is used again; a deleted profile's schedules go with it. The
confirmation says so."""
from datetime import datetime, timedelta

import pytest

from portal.extensions import db
from portal.models.base import utcnow
from portal.schedules import services as schedules
from portal.schedules.models import Schedule, ScheduleStart

from tests import factories


@pytest.fixture
def planned(app, users):
    with app.app_context():
        with_runs = factories.profile("Met runs")
        factories.run(with_runs)
        without = factories.profile("Zonder runs")
        for profile in (with_runs, with_runs, without):
            schedules.save_schedule(profile.id, frequency="daily", hour=6, window="previous_day")
        paused = schedules.save_schedule(with_runs.id, frequency="weekly", hour=7, weekday=0, window="previous_week")
        schedules.set_paused(with_runs.id, paused.id, True)
        return {"with_runs": with_runs.id, "without": without.id}


def _schedules(app, profile_id):
    with app.app_context():
        return [(s.paused, s.next_start_at) for s in db.session.execute(
            db.select(Schedule).where(Schedule.profile_id == profile_id)).scalars()]


def test_archiving_pauses_the_schedules_and_using_the_profile_again_keeps_them_paused(app, client, auth, planned):
    auth.login("consultant")
    url = f"/profiles/{planned['with_runs']}/archive"
    page = client.get(url).get_data(as_text=True)
    assert "Its 2 schedules are paused, and stay paused when the profile is used again" in page
    token = auth.csrf_token(f"/profiles/{planned['with_runs']}/edit")
    assert client.post(url, data={"csrf_token": token, "confirmed": "yes"}).status_code == 302
    assert _schedules(app, planned["with_runs"]) == [(True, None)] * 3
    with app.app_context():
        schedules.run_due_schedules(utcnow() + timedelta(days=3))     # (the other profile's schedule starts)
        assert db.session.execute(db.select(ScheduleStart).join(Schedule).where(
            Schedule.profile_id == planned["with_runs"])).scalars().all() == []
    client.post(url, data={"csrf_token": token, "restore": "1"})
    assert _schedules(app, planned["with_runs"]) == [(True, None)] * 3


def test_deleting_a_profile_says_its_schedules_go_too(app, client, auth, planned):
    auth.login("consultant")
    url = f"/profiles/{planned['without']}/archive"
    page = client.get(url, headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "Het schema wordt mee verwijderd." in page
    token = auth.csrf_token(f"/profiles/{planned['without']}/edit")
    client.post(url, data={"csrf_token": token, "confirmed": "yes"})
    assert _schedules(app, planned["without"]) == []


def test_a_deleted_schedule_takes_its_starts_along(app, users):
    with app.app_context():
        profile = factories.profile("Met starts")
        schedule = schedules.save_schedule(profile.id, frequency="daily", hour=6, window="previous_day")
        db.session.add(ScheduleStart(schedule_id=schedule.id, due_at=datetime(2026, 11, 1, 5), state="skipped"))
        db.session.commit()
        schedules.delete_schedule(profile.id, schedule.id)
        assert db.session.execute(db.select(ScheduleStart)).scalars().all() == []
