"""Schedules in the audit log: creating, changing, pausing, resuming and deleting one is recorded, named
as it was then (when it runs, its time window, description, debtors), and so is a change of one's
notifications; a run a schedule starts names the schedule in the audit log and in its "Started by"."""
from datetime import datetime

from portal import audit
from portal.demo.seed import seed_users
from portal.exporting import services as engine
from portal.extensions import db
from portal.models import AuditEntry, Debtor, User
from portal.notifications import services as notifications
from portal.schedules import services

from tests import factories
from tests.factories import AuthActions

NOW = datetime(2026, 11, 26, 12, 0)          # Amsterdam is UTC+1


def _entries(action=None):
    query = db.select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action.like(action))
    return db.session.execute(query).scalars().all()


def _invoices():
    zorg, _thuis, _ = factories.companies()
    db.session.add(Debtor(company_id=zorg.id, number="10001", name="Jansen"))
    db.session.commit()
    return engine.create_profile(name="Facturen", export_type="invoices", options={"format": "jsonl"})


def test_each_change_of_a_schedule_is_in_the_audit_log_named_as_it_was(ctx):
    seed_users()
    staff = db.session.execute(db.select(User).filter_by(email="staff@example.com")).scalar_one()
    profile = _invoices()
    schedule = services.save_schedule(profile.id, user=staff, now=NOW, frequency="daily", hour=13, minute=19,
                                      window="previous_day", params={"description": "Zorg", "debtors": ["ZORG/10001"]})
    services.save_schedule(profile.id, schedule_id=schedule.id, user=staff, now=NOW, frequency="daily", hour=13,
                           minute=19, window="previous_day", mode="production", params={"description": "Zorg"})
    services.set_paused(profile.id, schedule.id, True, user=staff, now=NOW)
    services.set_paused(profile.id, schedule.id, False, user=staff, now=NOW)
    services.delete_schedule(profile.id, schedule.id, user=staff)
    entries = _entries("schedule.%")
    assert [e.action for e in entries] == ["schedule.create", "schedule.update", "schedule.pause", "schedule.resume",
                                           "schedule.delete"]
    assert {(e.actor_email, e.target_type, e.target_id, e.target_label) for e in entries} == {
        ("staff@example.com", "schedule", schedule.id, "Facturen")}
    with ctx.test_request_context():
        said = [audit.describe(e) for e in entries]
    assert said[0] == ("Created a schedule of Facturen: Daily at 13:19 · Previous day · “Zorg” · debtors ZORG/10001, "
                       "Test")
    assert said[1] == "Changed a schedule of Facturen: Daily at 13:19 · Previous day · “Zorg”, Production"
    assert said[2].startswith("Paused a schedule of Facturen: Daily at 13:19")
    assert said[3].startswith("Resumed a schedule of Facturen: Daily at 13:19")
    # Deleted: the log still names it as it was.
    assert said[4] == "Deleted a schedule of Facturen: Daily at 13:19 · Previous day · “Zorg”, Production"


def test_a_run_a_schedule_starts_names_the_schedule(ctx):
    seed_users()
    profile = _invoices()
    schedule = services.save_schedule(profile.id, now=NOW, frequency="daily", hour=13, minute=19,
                                      window="previous_day", params={"description": "Zorg", "debtors": ["ZORG/10001"]})
    services.save_schedule(profile.id, now=NOW, frequency="daily", hour=13, minute=19, window="previous_day")
    made = services.run_due_schedules(now=datetime(2026, 11, 27, 12, 20))
    assert len(made) == 2
    run_id = next(s.run_id for s in made if s.schedule_id == schedule.id)
    entry, = [e for e in _entries("run.start") if e.target_id == run_id]
    assert entry.actor_email is None and entry.details["schedule"]["id"] == schedule.id
    with ctx.test_request_context():
        assert audit.describe(entry) == (
            f"Started export #{run_id} (Facturen) by the schedule Daily at 13:19 · Previous day · “Zorg” · "
            "debtors ZORG/10001: Test, Prepare and export")
    # A person's start says no schedule.
    run = engine.start_run(profile.id, mode="test", window_start="2026-11-01", window_end="2026-11-30")
    entry, = [e for e in _entries("run.start") if e.target_id == run.id]
    with ctx.test_request_context():
        assert audit.describe(entry) == f"Started export #{run.id} (Facturen): Test, Prepare and export"
    # Its page, and the profile's runs, name the schedule as the log does (not only "Daily at 13:19").
    client = ctx.test_client()
    AuthActions(client).login("manager")
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert "schedule Daily at 13:19 · Previous day · “Zorg” · debtors ZORG/10001" in page


def test_the_audit_log_page_shows_them_in_the_readers_language(app, client, auth, users):
    with app.app_context():
        profile = factories.profile("Kassa", export_type="payments", fmt="jsonl")
        staff = db.session.get(User, users["staff"])
        schedule = services.save_schedule(profile.id, user=staff, now=NOW, frequency="weekly", weekday=0, hour=6,
                                          window="previous_week")
        services.set_paused(profile.id, schedule.id, True, user=staff, now=NOW)
    auth.login("admin")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Paused a schedule of Kassa: Weekly on Monday at 06:00 · Previous week (Monday to Sunday), Test" in page
    assert "Created a schedule of Kassa: Weekly on Monday at 06:00" in page
    # The filter offers the new actions; filtered, only them.
    assert '<option value="schedule.pause">Pause schedule</option>' in page
    only = client.get("/admin/audit?action=schedule.create").get_data(as_text=True)
    assert "Created a schedule of Kassa" in only and "Paused a schedule" not in only
    client.post("/language", data={"locale": "nl", "csrf_token": auth.csrf_token("/")})
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Schema van Kassa gepauzeerd: Wekelijks op maandag om 06:00" in page
    client.post("/language", data={"locale": "da", "csrf_token": auth.csrf_token("/")})
    assert "Satte en tidsplan for Kassa på pause" in client.get("/admin/audit").get_data(as_text=True)
    client.post("/language", data={"locale": "sv", "csrf_token": auth.csrf_token("/")})
    csv = client.get("/admin/audit.csv").get_data(as_text=True)
    assert "Pausade ett schema för Kassa" in csv and "Pausa schema" in csv


def test_the_schedule_pages_record_who_did_it(app, client, auth, users):
    with app.app_context():
        profile_id = factories.profile("Kassa", export_type="payments", fmt="jsonl").id
    auth.login("staff")
    token = auth.csrf_token(f"/profiles/{profile_id}/schedules/new")
    client.post(f"/profiles/{profile_id}/schedules/new", data={
        "csrf_token": token, "frequency": "daily", "day": "1", "weekday": "0", "time": "06:00",
        "window": "previous_day", "mode": "test"})
    with app.app_context():
        schedule_id = db.session.execute(db.select(AuditEntry.target_id).filter_by(action="schedule.create")).scalar()
    client.post(f"/profiles/{profile_id}/schedules/{schedule_id}/pause", data={"paused": "1", "csrf_token": token})
    client.post(f"/profiles/{profile_id}/schedules/{schedule_id}/delete", data={"confirmed": "yes", "csrf_token": token})
    with app.app_context():
        assert [(e.action, e.actor_email) for e in _entries("schedule.%")] == [
            ("schedule.create", "staff@example.com"), ("schedule.pause", "staff@example.com"),
            ("schedule.delete", "staff@example.com")]


def test_a_change_of_ones_notifications_is_in_the_audit_log(app, client, auth, users):
    with app.app_context():
        kassa = factories.profile("Kassa", export_type="payments", fmt="jsonl").id
    auth.login("consultant")
    token = auth.csrf_token("/notifications")
    client.post("/notifications", data={"csrf_token": token, "profile": ["all", str(kassa)],
                                        "events-all": ["schedule_skipped"], f"events-{kassa}": ["run_failed"]})
    client.post("/notifications", data={"csrf_token": token, "profile": ["all", str(kassa)],
                                        f"events-{kassa}": ["run_failed"]})
    # Saved without a change: nothing to record.
    client.post("/notifications", data={"csrf_token": token, "profile": ["all", str(kassa)],
                                        f"events-{kassa}": ["run_failed"]})
    with app.app_context():
        entries = _entries("notifications.%")
        assert [(e.actor_email, e.target_label) for e in entries] == [("consultant@example.com",
                                                                      "consultant@example.com")] * 2
        with app.test_request_context():
            assert [audit.describe(e) for e in entries] == [
                "Changed the notifications of consultant@example.com: all export profiles – A scheduled start was "
                "skipped: on; Kassa – An export failed: on",
                "Changed the notifications of consultant@example.com: all export profiles – A scheduled start was "
                "skipped: off"]
        # The service others call records it too.
        notifications.set_subscriptions(db.session.get(User, users["staff"]), kassa, ["production_finished"])
        assert _entries("notifications.%")[-1].actor_email == "staff@example.com"
