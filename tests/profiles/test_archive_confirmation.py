"""Archive asks first: its confirmation says whether this profile is deleted for good (no exports) or
archived (its exports stay), as a page and as the page's dialog; only the confirmation's Yes does it."""
import pytest

from portal.extensions import db
from portal.models.exporting import ExportProfile

from tests import factories


@pytest.fixture
def two_profiles(app, users):
    with app.app_context():
        with_runs = factories.profile("Met runs")
        factories.run(with_runs)
        without = factories.profile("Zonder runs")
        return {"with_runs": with_runs.id, "without": without.id}


def _state(app):
    with app.app_context():
        return {p.name: p.archived for p in db.session.execute(db.select(ExportProfile)).scalars()}


def test_the_confirmation_says_deleted_for_good_or_archived_and_changes_nothing(app, client, auth, two_profiles):
    auth.login("consultant")
    before = _state(app)
    page = client.get(f"/profiles/{two_profiles['without']}/archive").get_data(as_text=True)
    assert "Delete the export profile Zonder runs for good?" in page
    assert "so it is deleted for good" in page and "so it is archived" not in page
    assert 'name="confirmed" value="yes"' in page and "<h1" in page
    page = client.get(f"/profiles/{two_profiles['with_runs']}/archive").get_data(as_text=True)
    assert "Archive the export profile Met runs?" in page
    assert "its exports, files and reports stay available" in page and "for good" not in page
    # A POST straight to the action (an old page, a script) only shows the confirmation.
    token = auth.csrf_token(f"/profiles/{two_profiles['with_runs']}/edit")
    for key in ("without", "with_runs"):
        response = client.post(f"/profiles/{two_profiles[key]}/archive", data={"csrf_token": token})
        assert response.status_code == 200 and 'name="confirmed" value="yes"' in response.get_data(as_text=True)
    assert _state(app) == before == {"Met runs": False, "Zonder runs": False}


def test_the_edit_page_opens_the_confirmation_in_its_dialog(app, client, auth, two_profiles):
    auth.login("consultant")
    url = f"/profiles/{two_profiles['with_runs']}/archive"
    page = client.get(f"/profiles/{two_profiles['with_runs']}/edit").get_data(as_text=True)
    assert f'href="{url}" hx-get="{url}" hx-target="#dialog-body"' in page and 'id="dialog"' in page
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and '<h2 id="dialog-title"' in fragment
    assert f'href="/profiles/{two_profiles["with_runs"]}/edit" data-close-dialog>Cancel</a>' in fragment


def test_confirmed_deletes_a_profile_without_exports_and_archives_one_with(app, client, auth, two_profiles):
    auth.login("consultant")
    token = auth.csrf_token(f"/profiles/{two_profiles['with_runs']}/edit")
    done = client.post(f"/profiles/{two_profiles['without']}/archive", data={"csrf_token": token, "confirmed": "yes"},
                       follow_redirects=True).get_data(as_text=True)
    assert "The export profile Zonder runs was deleted." in done
    done = client.post(f"/profiles/{two_profiles['with_runs']}/archive",
                       data={"csrf_token": token, "confirmed": "yes"}, follow_redirects=True).get_data(as_text=True)
    assert "The export profile Met runs was archived" in done
    assert _state(app) == {"Met runs": True}
    # Use this profile again needs no confirmation.
    client.post(f"/profiles/{two_profiles['with_runs']}/archive", data={"csrf_token": token, "restore": "1"})
    assert _state(app) == {"Met runs": False}


def test_the_confirmation_is_in_the_users_language(app, client, auth, two_profiles):
    auth.login("consultant")
    client.post("/language", data={"locale": "nl", "csrf_token": auth.csrf_token("/")})
    page = client.get(f"/profiles/{two_profiles['without']}/archive").get_data(as_text=True)
    assert "Het exportprofiel Zonder runs definitief verwijderen?" in page and "Definitief verwijderen" in page


@pytest.mark.parametrize("who", ["staff", "manager"])
def test_others_may_not_see_or_confirm_it(app, client, auth, two_profiles, who):
    auth.login(who)
    token = auth.csrf_token("/")
    for pid in two_profiles.values():
        assert client.get(f"/profiles/{pid}/archive").status_code == 403
        assert client.post(f"/profiles/{pid}/archive", data={"csrf_token": token, "confirmed": "yes"}).status_code == 403
    assert _state(app) == {"Met runs": False, "Zonder runs": False}


def test_confirmed_without_csrf_is_refused(app, client, auth, two_profiles):
    auth.login("consultant")
    response = client.post(f"/profiles/{two_profiles['without']}/archive", data={"confirmed": "yes"})
    assert response.status_code == 400 and "The form has expired" in response.get_data(as_text=True)
    assert _state(app) == {"Met runs": False, "Zonder runs": False}


@pytest.mark.parametrize("path,status", [
    ("/profiles/2147483648/archive", 404), ("/profiles/999/archive", 404), ("/profiles/abc/archive", 404),
    ("/profiles/-1/archive", 404),
    ("/profiles/1%00/archive", 400),          # a NUL byte: the portal's "unusable text" answer, as everywhere
])
def test_bad_ids_are_not_found(app, client, auth, two_profiles, path, status):
    auth.login("consultant")
    token = auth.csrf_token("/")
    assert client.get(path).status_code == status
    assert client.post(path, data={"csrf_token": token, "confirmed": "yes"}).status_code == status
    assert _state(app) == {"Met runs": False, "Zonder runs": False}
