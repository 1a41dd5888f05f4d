"""The audit log: recorded by the commands, append-only, shown to administrators in their language."""
import csv
import io
import re

import pytest
from sqlalchemy import text

from portal.extensions import db
from portal.models import AuditEntry


def _entries(app, action=None):
    with app.app_context():
        query = db.select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        entries = db.session.execute(query).scalars().all()
        db.session.expunge_all()
        return entries


def _post(client, auth, url, data, page=None):
    return client.post(url, data={"csrf_token": auth.csrf_token(page or url), **data})


def test_sign_in_sign_out_and_failed_sign_ins_are_recorded_without_the_password(app, client, auth, users):
    auth.login("staff", password="not-the-password")
    auth.login("nobody@example.com", password="secret-guess")
    auth.login("staff")
    auth.logout()
    actions = [(e.action, e.actor_email) for e in _entries(app)]
    assert ("auth.sign_in_failed", "staff@example.com") in actions
    assert ("auth.sign_in_failed", "nobody@example.com") in actions
    assert ("auth.sign_in", "staff@example.com") in actions
    assert ("auth.sign_out", "staff@example.com") in actions
    failed = _entries(app, "auth.sign_in_failed")
    assert failed[0].actor_id is None  # a failed attempt is not the user's doing
    with app.app_context():
        dump = "\n".join(str(row) for row in db.session.execute(text("SELECT * FROM audit_log")))
    assert "not-the-password" not in dump and "secret-guess" not in dump and "demo" not in dump


def test_user_changes_are_recorded_with_what_changed_never_the_password(app, client, auth, users):
    auth.login("admin")
    answer = _post(client, auth, "/admin/users/new", {"email": "new@example.com", "name": "New", "locale": "",
                                                      "password": "a-long-password", "permissions": "view_exports",
                                                      "active": "y"})
    assert answer.status_code == 302, re.findall(r'class="errors"[^>]*>(.*?)</', answer.get_data(as_text=True), re.S)
    _post(client, auth, f"/admin/users/{users['staff']}", {
        "email": "staff@example.com", "name": "Sam Staff", "permissions": "import_export",
        "password": "another-long-one", "locale": "nl", "active": "y"})
    created, = [e for e in _entries(app, "user.create") if e.actor_email]  # the seed's users: by the system
    assert created.actor_email == "admin@example.com" and created.target_label == "new@example.com"
    changed, = _entries(app, "user.update")
    assert changed.target_id == users["staff"]
    assert set(changed.details["changes"]) == {"password", "language"}
    with app.app_context():
        dump = "\n".join(str(row) for row in db.session.execute(text("SELECT * FROM audit_log")))
    assert "a-long-password" not in dump and "another-long-one" not in dump


def test_an_integration_account_created_is_recorded(app, client, auth, users):
    auth.login("consultant")
    _post(client, auth, "/integrations/new", {"name": "Visma.net Zorggroep"})
    entry, = _entries(app, "integration.create")
    assert entry.actor_email == "consultant@example.com" and entry.target_label == "Visma.net Zorggroep"


def test_the_log_is_append_only(any_app, users):
    from portal import audit
    with any_app.app_context():
        before = db.session.execute(db.select(AuditEntry.action)).scalars().all()
        entry = audit.record(None, "auth.sign_out", commit=True)
        entry.action = "auth.sign_in"
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(Exception, match="append-only"):
            with db.engine.begin() as connection:
                connection.execute(text("UPDATE audit_log SET action = 'x'"))
        if db.engine.dialect.name == "postgresql":
            with pytest.raises(Exception, match="append-only"):
                with db.engine.begin() as connection:
                    connection.execute(text("DELETE FROM audit_log"))
        assert db.session.execute(db.select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all() \
            == before + ["auth.sign_out"]


def test_secrets_are_dropped_from_the_details(app, users):
    from portal import audit
    with app.app_context():
        entry = audit.record(None, "auth.sign_out", commit=True, password="x", access_token="y", client_secret="z",
                             reason="ok")
        assert entry.details == {"reason": "ok"}


def _table(response):
    page = response.get_data(as_text=True)
    return page[page.index('<table class="table" id="audit-entries">'):page.index("</table>")]


def test_administrators_filter_the_log_and_read_it_in_their_language(app, client, auth, users):
    auth.login("staff")
    auth.logout()
    auth.login("manager", password="wrong")
    auth.login("admin")
    table = _table(client.get("/admin/audit?action=auth.sign_out"))
    assert "Signed out" in table and "staff@example.com" in table
    assert "Sign-in failed" not in table
    table = _table(client.get(f"/admin/audit?user={users['staff']}"))
    assert "Signed in" in table and "manager@example.com" not in table
    assert "No entries match these filters." in client.get("/admin/audit?date_from=2030-01-01").get_data(as_text=True)
    assert "Enter a date between the years 1900 and 2999" in client.get(
        "/admin/audit?date_to=9999-12-31").get_data(as_text=True)

    _post(client, auth, "/language", {"locale": "nl"}, page="/")
    page = client.get("/admin/audit?action=auth.sign_in_failed").get_data(as_text=True)
    assert "Aanmelden mislukt voor manager@example.com" in page

    response = client.get("/admin/audit.csv?action=auth.sign_in_failed")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["Wanneer", "Gebruiker", "Actie"]
    assert rows[1][2] == "Mislukte aanmelding" and rows[1][3] == "Aanmelden mislukt voor manager@example.com"
    assert len(rows) == 2


def test_only_administrators_open_the_log(client, auth, users):
    auth.login("consultant")
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403
    assert re.search("Audit log", client.get("/").get_data(as_text=True)) is None


def test_run_and_profile_commands_are_recorded(app, users):
    """Recorded inside the commands (portal/exporting/services.py), whichever page or job calls them."""
    from portal.exporting import services
    from portal.models import User
    from portal.models.exporting import PreparedRow
    from tests import factories as support
    with app.app_context():
        staff = db.session.get(User, users["staff"])
        consultant = db.session.get(User, users["consultant"])
        support.company()
        profile = services.create_profile(name="Payroll journals", export_type="journal_entries",
                                          options={"format": "csv"}, user=consultant)
        services.update_profile(profile.id, user=consultant, name="Payroll journals (CSV)")
        run = services.start_run(profile.id, user=staff, mode="test", operation="prepare",
                                 window_start="2026-11-01", window_end="2026-11-30")
        services.cancel_run(run.id, user=staff)
        prepared = support.run(profile, status="prepared")
        rows = [PreparedRow(run_id=prepared.id, seq=n, record_key=f"K{n}", fingerprint="f", payload={},
                            active=True) for n in (1, 2)]
        db.session.add_all(rows)
        db.session.commit()
        services.set_rows_active(prepared.id, [rows[0].id, rows[1].id], {rows[1].id}, user=staff)
        services.roll_back(prepared.id, user=staff)
        services.archive_profile(profile.id, user=consultant)
        services.archive_profile(profile.id, user=consultant, archived=False)
        run_id, prepared_id, profile_id = run.id, prepared.id, profile.id
    recorded = [(e.action, e.actor_email, e.target_type, e.target_id) for e in _entries(app)
                if not e.action.startswith(("user.", "auth."))]
    assert recorded == [
        ("profile.create", "consultant@example.com", "profile", profile_id),
        ("profile.update", "consultant@example.com", "profile", profile_id),
        ("run.start", "staff@example.com", "run", run_id),
        ("run.cancel", "staff@example.com", "run", run_id),
        ("run.edit_prepared", "staff@example.com", "run", prepared_id),
        ("run.roll_back", "staff@example.com", "run", prepared_id),
        ("profile.archive", "consultant@example.com", "profile", profile_id),
        ("profile.restore", "consultant@example.com", "profile", profile_id),
    ]
    with app.test_request_context():
        from portal import audit
        started = _entries(app, "run.start")[0]
        assert audit.describe(started) == f"Started export #{run_id} (Payroll journals (CSV)): Test, Prepare"
        edited = _entries(app, "run.edit_prepared")[0]
        assert edited.details["count"] == 1 and edited.details["deactivated"] == 1
