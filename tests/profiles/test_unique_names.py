"""A profile's name is its only name in lists, filters, Scenarios and mails: no two profiles in use share
one (trimmed, in any case). Refused next to the name field on create and edit, by the service (the CLI,
the demo) and by the database (two saves at the same moment); an archived profile's name is free, and
using such a profile again is refused while another one in use has its name."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal.exporting import services
from portal.exporting.errors import ExportError
from portal.extensions import db
from portal.models.exporting import ExportProfile

from tests import factories
from tests.profiles.test_fixed_settings import _form_data, site  # noqa: F401 (the fixture)

TAKEN = "Another export profile is already called"


def _names(app):
    with app.app_context():
        return sorted(db.session.execute(db.select(ExportProfile.name)).scalars())


@pytest.mark.parametrize("typed", ["Løn Visma.net", "  løn visma.NET ", "LØN VISMA.NET"])
def test_a_second_profile_with_a_name_in_use_is_refused_at_the_name_field(site, typed):
    app, client = site
    with app.app_context():
        factories.profile("Løn Visma.net")
    page = client.get("/profiles/new").get_data(as_text=True)
    response = client.post("/profiles/new", data=_form_data(page, name=typed, export_type="journal_entries",
                                                            provider="file", format="csv"))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert TAKEN in body
    error = body[body.index('name="name"') - 600:body.index('name="name"') + 600]
    assert TAKEN in error                   # at the name field
    assert _names(app) == ["Løn Visma.net"]


def test_editing_to_another_profiles_name_is_refused_and_keeping_ones_own_name_is_fine(site):
    app, client = site
    with app.app_context():
        factories.profile("Løn CSV")
        other_id = factories.profile("Løn Excel", fmt="xlsx").id
    page = client.get(f"/profiles/{other_id}/edit").get_data(as_text=True)
    refused = client.post(f"/profiles/{other_id}/edit", data=_form_data(page, name="løn csv"))
    assert refused.status_code == 200 and TAKEN in refused.get_data(as_text=True)
    assert _names(app) == ["Løn CSV", "Løn Excel"]
    kept = client.post(f"/profiles/{other_id}/edit", data=_form_data(page, name=" LØN EXCEL "))
    assert kept.status_code == 302
    assert _names(app) == ["LØN EXCEL", "Løn CSV"]


@pytest.mark.parametrize("locale, message", [
    ("nl", "Een ander exportprofiel heet al"),
    ("sv", "En annan exportprofil heter redan"),
    ("da", "En anden eksportprofil hedder allerede"),
])
def test_the_refusal_is_in_the_users_language(app, client, auth, users, locale, message):
    with app.app_context():
        factories.profile("Løn Visma.net")
    auth.login("consultant")
    client.post("/language", data={"csrf_token": factories.csrf_token(client, "/"), "locale": locale})
    page = client.get("/profiles/new").get_data(as_text=True)
    response = client.post("/profiles/new", data=_form_data(page, name="Løn Visma.net", format="csv"))
    assert message in response.get_data(as_text=True)


def test_an_archived_profiles_name_is_free_and_it_comes_back_only_under_a_free_name(site):
    app, client = site
    with app.app_context():
        old = factories.profile("Løn Visma.net")
        services.archive_profile(old.id)
        new = services.create_profile(name="løn visma.net", export_type="journal_entries",
                                      options={"format": "csv"})
        old_id, new_id = old.id, new.id
        with pytest.raises(ExportError) as refused:
            services.archive_profile(old_id, archived=False)
        assert refused.value.code == "name_taken"
        db.session.rollback()
    page = client.get("/profiles/?archived=1").get_data(as_text=True)
    csrf = factories.csrf_from(page)
    response = client.post(f"/profiles/{old_id}/archive", data={"csrf_token": csrf, "restore": "1"},
                           follow_redirects=True)
    assert "Give this one another name" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ExportProfile, old_id).archived
        services.update_profile(old_id, name="Løn Visma.net (oud)")
        services.archive_profile(old_id, archived=False)
        assert not db.session.get(ExportProfile, old_id).archived
        assert not db.session.get(ExportProfile, new_id).archived


def test_the_database_refuses_a_second_profile_in_use_with_the_name(site):
    """Two saves at the same moment both pass the service's check: the unique index stops the second."""
    app, _client = site
    with app.app_context():
        factories.profile("Løn CSV")
        with pytest.raises(IntegrityError):
            db.session.execute(text(
                "INSERT INTO export_profiles (name, export_type, provider, options, sync_type, default_window, "
                "archived, created_at, updated_at) VALUES ('løn CSV', 'journal_entries', 'file', '{}', 'full', "
                "'previous_month', FALSE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        db.session.rollback()


@pytest.mark.parametrize("typed", ["\u200b", " \u200b\ufeff "])
def test_a_name_that_shows_nothing_is_refused(site, typed):
    """A zero-width space is not a name: it would show as an empty line in every list."""
    app, client = site
    page = client.get("/profiles/new").get_data(as_text=True)
    response = client.post("/profiles/new", data=_form_data(page, name=typed, export_type="journal_entries",
                                                            provider="file", format="csv"))
    assert response.status_code == 200 and "Give the export profile a name." in response.get_data(as_text=True)
    assert _names(app) == []
    with app.app_context(), pytest.raises(ExportError, match="Give the export profile a name"):
        services.create_profile(name=typed, export_type="payments", options={"format": "csv"})
