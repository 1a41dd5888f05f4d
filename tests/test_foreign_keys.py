"""SQLite enforces the foreign keys as PostgreSQL does (``portal/extensions.py``): the database itself
deletes or empties what points at a deleted row (ON DELETE CASCADE / SET NULL) and refuses a row that
points at nothing — on both databases, with the same keys and the same rules. Migrations on SQLite turn the
keys off while they copy tables (``migrations/env.py``): upgrading a populated database keeps every row."""
import sqlite3
from datetime import date, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from portal import create_app
from portal.demo.seed import DEMO_PROFILES, seed, seed_profiles, seed_users
from portal.extensions import db
from portal.models import Department, Employee, User
from portal.models.exporting import ExportProfile
from portal.notifications.models import Notification, OutboxMail, Subscription
from portal.schedules import services as schedules
from portal.schedules.models import Schedule, ScheduleStart
from tests import factories
from tests.conftest import _config


def _user(email):
    user = User(email=email, name=email.split("@")[0])
    user.set_password("a-long-password")
    db.session.add(user)
    db.session.commit()
    return user


def _belongings(profile, user):
    """A schedule (made by ``user``) with a start, a notification setting and a notification with its mail."""
    schedule = schedules.save_schedule(profile.id, frequency="daily", hour=6, window="previous_day")
    schedule.created_by_id = user.id
    db.session.add(ScheduleStart(schedule_id=schedule.id, due_at=datetime(2026, 11, 1, 5), state="skipped"))
    db.session.add(Subscription(user_id=user.id, profile_id=profile.id, event="run_failed"))
    notification = Notification(user_id=user.id, event="run_failed", event_key=f"x:{profile.id}",
                                profile_id=profile.id)
    db.session.add(notification)
    db.session.flush()
    db.session.add(OutboxMail(notification_id=notification.id, to_address=user.email, subject="s", body="b"))
    db.session.commit()
    return schedule.id


def _all(column):
    return sorted(db.session.execute(select(column)).scalars())


def test_a_row_that_points_at_nothing_is_refused(any_app):
    with any_app.app_context():
        profile_id = factories.profile("Payments").id
        for statement in (
            "INSERT INTO schedule_starts (schedule_id, due_at, state, late, created_at) "
            "VALUES (987654, '2026-11-01 05:00:00', 'skipped', false, '2026-11-01 05:00:00')",
            f"UPDATE export_profiles SET company_id = 987654 WHERE id = {profile_id}",
        ):
            with pytest.raises(IntegrityError):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.execute(select(ScheduleStart)).all() == []
        assert db.session.get(ExportProfile, profile_id).company_id is None


def test_the_database_deletes_and_empties_what_points_at_a_deleted_row(any_app):
    with any_app.app_context():
        planner, other = _user("planner@example.com"), _user("other@example.com")
        gone, kept = factories.profile("Payments"), factories.profile("Invoices")
        _belongings(gone, planner)
        kept_schedule = _belongings(kept, other)
        planner_schedule = schedules.save_schedule(kept.id, frequency="daily", hour=7, window="previous_day")
        planner_schedule.created_by_id = planner.id
        db.session.commit()
        kept_id, planner_id, planner_schedule_id = kept.id, planner.id, planner_schedule.id

        # plain DELETEs: what points at the rows is the database's work (ON DELETE CASCADE and SET NULL)
        db.session.execute(text("DELETE FROM export_profiles WHERE id = :id"), {"id": gone.id})
        db.session.execute(text("DELETE FROM users WHERE id = :id"), {"id": planner_id})
        db.session.commit()

        assert _all(Schedule.id) == sorted([kept_schedule, planner_schedule_id])
        assert _all(Schedule.profile_id) == [kept_id, kept_id]
        assert db.session.get(Schedule, planner_schedule_id).created_by_id is None     # SET NULL
        assert _all(ScheduleStart.schedule_id) == [kept_schedule]
        assert _all(Subscription.profile_id) == [kept_id]
        assert _all(Notification.profile_id) == [kept_id]
        assert _all(OutboxMail.to_address) == ["other@example.com"]


def test_deleting_a_schedule_deletes_its_starts(any_app):
    with any_app.app_context():
        user = _user("planner@example.com")
        profile = factories.profile("Payments")
        first, second = _belongings(profile, user), _belongings(factories.profile("Invoices"), user)
        schedules.delete_schedule(profile.id, first)
        db.session.expire_all()
        assert _all(ScheduleStart.schedule_id) == [second]


def _foreign_keys(engine):
    found = set()
    inspector = inspect(engine)
    for table in inspector.get_table_names():
        for key in inspector.get_foreign_keys(table):
            found.add((table, tuple(key["constrained_columns"]), key["referred_table"],
                       tuple(key["referred_columns"]), (key.get("options") or {}).get("ondelete", "NO ACTION").upper()))
    return found


def test_both_databases_have_the_models_foreign_keys_with_the_same_on_delete_rules(app, pg_app):
    with app.app_context():
        sqlite_keys = _foreign_keys(db.engine)
        declared = {(table.name, tuple(c.name for c in key.columns), key.referred_table.name,
                     tuple(e.column.name for e in key.elements), (key.ondelete or "NO ACTION").upper())
                    for table in db.metadata.sorted_tables for key in table.foreign_key_constraints}
    with pg_app.app_context():
        postgres_keys = _foreign_keys(db.engine)
    assert sqlite_keys == declared
    assert postgres_keys == declared
    # (prepared rows have none on either: migrations i10i_0001 and sqlitefk_0001)
    assert not [key for key in declared if key[0] == "prepared_rows"]


# ---- migrations on SQLite ----------------------------------------------------------------------------

@pytest.fixture
def own_sqlite(redis_url, tmp_path):
    """An app on a SQLite database of its own (this test migrates it up and down), empty: no revision."""
    app = create_app(_config(f"sqlite:///{tmp_path / 'migrated.db'}", redis_url, tmp_path / "storage"))
    yield app
    with app.app_context():
        db.engine.dispose()


def _contents(exclude=()):
    """Every row of every table, by table (the columns in ``exclude`` left out: ``table.column``)."""
    contents = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.c if f"{table.name}.{c.name}" not in exclude]
            contents[table.name] = sorted(map(repr, connection.execute(select(*columns)).all()))
    return contents


def _foreign_keys_enforced():
    with db.engine.connect() as connection:
        return connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_migrating_a_populated_database_down_and_up_keeps_every_row(own_sqlite):
    with own_sqlite.app_context():
        upgrade()
        seed_users()
        seed(size=100, today=date(2026, 12, 15))
        seed_profiles()
        profile = db.session.execute(select(ExportProfile).filter_by(name=DEMO_PROFILES[4][0])).scalar_one()
        run = factories.start_and_run(profile)
        assert run.status == "exported", run.status
        _belongings(profile, db.session.execute(select(User).filter_by(email="staff@example.com")).scalar_one())
        before = _contents(exclude={"users.previous_login_at"})
        assert all(before[table] for table in (
            "users", "companies", "journal_lines", "export_profiles", "runs", "prepared_rows", "run_files",
            "run_attempts", "schedules", "schedule_starts", "notification_subscriptions", "notifications",
            "mail_outbox", "audit_log")), {table: len(rows) for table, rows in before.items()}

        # signin_0001's downgrade copies the users table (batch mode), which most tables point at
        downgrade(revision="resolved_0001")
        upgrade()

        assert _contents(exclude={"users.previous_login_at"}) == before
        assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []
        assert _foreign_keys_enforced()


def test_the_upgrade_gives_rows_left_behind_what_their_keys_rules_say(own_sqlite, tmp_path, caplog):
    # The rows are made with today's models (so at today's schema), then the database goes back to the
    # revision before sqlitefk_0001 with what a delete left behind, and is upgraded again.
    with own_sqlite.app_context():
        upgrade()
        assert _foreign_keys_enforced()
        user = _user("planner@example.com")
        gone, kept = factories.profile("Payments"), factories.profile("Invoices")
        _belongings(gone, user)
        kept_schedule = _belongings(kept, user)
        company = factories.company()
        department = Department(company_id=company.id, code="D1", name="Zorg")
        db.session.add(department)
        db.session.flush()
        db.session.add(Employee(company_id=company.id, number="E1", name="Anna", department_id=department.id))
        db.session.commit()
        gone_id, kept_id, department_id = gone.id, kept.id, department.id
        db.session.remove()
        db.engine.dispose()

    # What the portal did before SQLite enforced the keys: a delete left what pointed at the row behind.
    raw = sqlite3.connect(tmp_path / "migrated.db")
    raw.execute("DELETE FROM export_profiles WHERE id = ?", (gone_id,))
    raw.execute("DELETE FROM departments WHERE id = ?", (department_id,))
    raw.commit()
    raw.close()

    with own_sqlite.app_context():
        downgrade(revision="signin_0001")
        db.engine.dispose()
        upgrade()
        assert _all(Schedule.profile_id) == [kept_id]                     # CASCADE
        assert _all(ScheduleStart.schedule_id) == [kept_schedule]         # CASCADE, in turn
        assert _all(Subscription.profile_id) == [kept_id]
        assert _all(Notification.profile_id) == [kept_id]
        assert len(_all(OutboxMail.id)) == 1
        # no rule (NO ACTION): left as it was — nothing says what it should become
        assert _all(Employee.department_id) == [department_id]
        assert [row[0] for row in db.session.execute(text("PRAGMA foreign_key_check")).all()] == ["employees"]
        # and the migration names it
        assert "employees: 1 row(s) refer to a row of departments that does not exist" in caplog.text
