"""Saving an export profile records only a real change: a save that changes nothing wrote an audit_log
entry ("Changed the export profile …") all the same. A change says what changed, in the reader's language;
entries recorded before say what they said. Both databases."""
from flask_babel import force_locale

from portal import audit
from portal.extensions import db
from portal.models import AuditEntry
from portal.models.exporting import ExportProfile

from tests.profiles.test_fixed_settings import _form_data, _payments_profile, site  # noqa: F401 — the fixture


def _updates(app):
    with app.app_context():
        return db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "profile.update")
                                  .order_by(AuditEntry.id)).scalars().all()


def _updated_by(app, profile_id):
    with app.app_context():
        return db.session.get(ExportProfile, profile_id).updated_by_id


def test_a_save_that_changes_nothing_records_nothing_and_a_change_says_what_changed(site):  # noqa: F811
    app, client = site
    profile_id = _payments_profile(app, production=False)
    url = f"/profiles/{profile_id}/edit"
    page = client.get(url).get_data(as_text=True)
    response = client.post(url, data=_form_data(page))
    assert response.status_code == 302                         # saved, as before
    assert _updates(app) == [] and _updated_by(app, profile_id) is None

    client.post(url, data=_form_data(page, name="Kassa", delimiter=";"))
    entries = _updates(app)
    assert [entry.details["changes"] for entry in entries] == [["name", "delimiter"]]
    with app.test_request_context():
        assert audit.describe(entries[0]) == "Changed the export profile Kassa: Name, Delimiter"
        with force_locale("nl"):
            assert audit.describe(entries[0]) == "Exportprofiel Kassa gewijzigd: Naam, Scheidingsteken"
    assert _updated_by(app, profile_id) is not None


def test_an_entry_recorded_before_says_what_it_said(site):  # noqa: F811
    app, _client = site
    with app.app_context():
        profile_id = _payments_profile(app, production=False)
        profile = db.session.get(ExportProfile, profile_id)
        entry = audit.record(None, "profile.update", profile)
        db.session.commit()
        with app.test_request_context():
            assert audit.describe(entry) == "Changed the export profile Kassabetalingen"
            with force_locale("sv"):
                assert audit.describe(entry) == "Ändrade exportprofilen Kassabetalingen"
