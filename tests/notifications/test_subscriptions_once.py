"""An event is one subscription however often a form names it (``events-1=run_failed&events-1=run_failed``
saved two rows, and every notification would have been looked up twice); the database refuses a second
one too — for a profile and for every profile (profile NULL) — and the migration removes those already
stored. On SQLite and PostgreSQL."""
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal.demo.seed import seed_users
from portal.extensions import db
from portal.models import User
from portal.notifications import services
from portal.notifications.models import Subscription

from tests import factories
from tests.factories import AuthActions


@pytest.fixture
def consultant(any_app):
    with any_app.app_context():
        seed_users()
        profile_id = factories.profile("Profiel 1").id
        user_id = db.session.execute(db.select(User.id).filter_by(email="consultant@example.com")).scalar_one()
    client = any_app.test_client()
    auth = AuthActions(client)
    auth.login("consultant")
    return any_app, client, auth, profile_id, user_id


def _rows(app, user_id):
    with app.app_context():
        return sorted((s.profile_id or 0, s.event) for s in db.session.execute(
            db.select(Subscription).filter_by(user_id=user_id)).scalars())


def test_an_event_named_twice_is_saved_once(consultant):
    app, client, auth, profile_id, user_id = consultant
    token = auth.csrf_token("/notifications")
    answer = client.post("/notifications", data={
        "csrf_token": token, "profile": [str(profile_id), "all", str(profile_id)],
        f"events-{profile_id}": ["run_failed", "run_failed", "production_finished"],
        "events-all": ["sync_stopped", "sync_stopped"]})
    assert answer.status_code == 302
    assert _rows(app, user_id) == [(0, "sync_stopped"), (profile_id, "production_finished"),
                                   (profile_id, "run_failed")]
    # Saved again, the same: still once each.
    client.post("/notifications", data={"csrf_token": token, "profile": [str(profile_id)],
                                        f"events-{profile_id}": ["run_failed", "run_failed"]})
    assert _rows(app, user_id) == [(0, "sync_stopped"), (profile_id, "run_failed")]
    with app.app_context():
        user = db.session.get(User, user_id)
        services.set_subscriptions(user, None, ["sync_stopped", "sync_stopped", "run_failed"])
    assert _rows(app, user_id) == [(0, "run_failed"), (0, "sync_stopped"), (profile_id, "run_failed")]


@pytest.mark.parametrize("profile", ["profile", None])
def test_the_database_refuses_a_second_subscription(consultant, profile):
    app, _client, _auth, profile_id, user_id = consultant
    profile_id = profile_id if profile else None
    with app.app_context():
        db.session.add(Subscription(user_id=user_id, profile_id=profile_id, event="run_failed"))
        db.session.commit()
        db.session.add(Subscription(user_id=user_id, profile_id=profile_id, event="run_failed"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        # Another event, or the other scope, is another subscription.
        db.session.add(Subscription(user_id=user_id, profile_id=profile_id, event="sync_stopped"))
        db.session.add(Subscription(user_id=user_id, profile_id=None if profile else factories.profile("P2").id,
                                    event="run_failed"))
        db.session.commit()


def test_the_migration_removes_the_duplicates_already_stored(consultant):
    app, _client, _auth, profile_id, user_id = consultant
    with app.app_context():
        downgrade(revision="integrationname_0001")
        try:
            for profile, event in [(profile_id, "run_failed"), (profile_id, "run_failed"), (None, "run_failed"),
                                   (None, "run_failed"), (None, "run_failed"), (profile_id, "sync_stopped")]:
                db.session.execute(text(
                    "INSERT INTO notification_subscriptions (user_id, profile_id, event, created_at) "
                    "VALUES (:user, :profile, :event, CURRENT_TIMESTAMP)"),
                    {"user": user_id, "profile": profile, "event": event})
            db.session.commit()
        finally:
            db.session.remove()
            upgrade()
        kept = db.session.execute(text(
            "SELECT id, profile_id, event FROM notification_subscriptions ORDER BY id")).all()
    assert [(p, e) for _id, p, e in kept] == [(profile_id, "run_failed"), (None, "run_failed"),
                                              (profile_id, "sync_stopped")]
    assert [i - kept[0][0] for i, _p, _e in kept] == [0, 2, 5]      # the oldest of each stays
