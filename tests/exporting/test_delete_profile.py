"""Deleting a profile without exports takes what belongs to it along — its schedules with their starts,
its notification settings and notifications — on both databases: their foreign keys' ON DELETE CASCADE,
which SQLite enforces too (``portal/extensions.py``; before, it left them behind)."""
from datetime import datetime

from portal.exporting import services
from portal.extensions import db
from portal.models import User
from portal.notifications.models import Notification, Subscription
from portal.schedules import services as schedules
from portal.schedules.models import Schedule, ScheduleStart


def test_a_deleted_profile_leaves_no_schedules_or_notification_settings_behind(ctx):
    user = User(email="planner@example.com", name="Planner")
    user.set_password("a-long-password")
    db.session.add(user)
    db.session.commit()
    gone = services.create_profile(name="Payments", export_type="payments", options={"format": "csv"},
                                   sync_type="full")
    kept = services.create_profile(name="Invoices", export_type="invoices", options={"format": "csv"},
                                   sync_type="full")
    for profile in (gone, kept):
        schedule = schedules.save_schedule(profile.id, frequency="daily", hour=6, window="previous_day")
        db.session.add(ScheduleStart(schedule_id=schedule.id, due_at=datetime(2026, 11, 1, 5), state="skipped"))
        db.session.add(Subscription(user_id=user.id, profile_id=profile.id, event="run_failed"))
        db.session.add(Notification(user_id=user.id, event="run_failed", event_key=f"x:{profile.id}",
                                    profile_id=profile.id))
    db.session.commit()
    gone_id, kept_id = gone.id, kept.id

    assert services.delete_profile(gone_id) == "deleted"
    db.session.expire_all()
    for model in (Schedule, Subscription, Notification):
        assert db.session.execute(db.select(model.profile_id)).scalars().all() == [kept_id], model
    starts = db.session.execute(db.select(ScheduleStart.schedule_id)).scalars().all()
    assert starts == db.session.execute(db.select(Schedule.id)).scalars().all()
    assert db.session.get(type(kept), kept_id) is not None and db.session.get(type(kept), gone_id) is None
