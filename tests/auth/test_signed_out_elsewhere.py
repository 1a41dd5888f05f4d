"""A form sent after the user was signed out — in another tab, or because the session ended — leads to
the sign-in page saying they were signed out (not "the form has expired, reload": a tester did, and the
page still showed them signed in), and back to the page they were on after signing in. htmx requests
get a full-page redirect (HX-Redirect), never a sign-in page inside the dialog."""
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.extensions import db
from portal.models import Run, User

from tests import factories

SIGNED_OUT = "You were signed out — in another tab or window, or because your session ended — so what you sent " \
             "was not saved. Sign in to go on."


@pytest.fixture
def profile_id(app, users):
    with app.app_context():
        zorg, _, _ = factories.companies()
        factories.payments(zorg, 2)
        db.session.commit()
        return factories.profile("Kassa", export_type="payments", fmt="jsonl").id


def _start_form(client, profile_id):
    """The Start export form as the first tab shows it: its CSRF token."""
    return factories.csrf_from(client.get(f"/profiles/{profile_id}/start").get_data(as_text=True))


def _start(client, profile_id, token, **headers):
    return client.post(f"/profiles/{profile_id}/start", headers=headers, data={
        "csrf_token": token, "preset": "previous_month", "mode": "test", "action": "start"})


def _runs(app):
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(Run)).scalar()


def test_start_export_after_signing_out_in_another_tab_says_so_and_comes_back(app, client, auth, profile_id):
    auth.login("staff")
    token = _start_form(client, profile_id)
    auth.logout()                                       # the other tab
    answer = _start(client, profile_id, token, Referer=f"http://localhost/profiles/{profile_id}")
    assert answer.status_code == 303
    location = urlsplit(answer.headers["Location"])
    assert location.path == "/auth/login"
    assert parse_qs(location.query) == {"next": [f"/profiles/{profile_id}"]}
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert SIGNED_OUT in page and "The form has expired" not in page
    assert "staff@example.com" not in page and "/auth/logout" not in page      # the header: nobody signed in
    assert _runs(app) == 0
    back = client.post(answer.headers["Location"], data={
        "email": "staff@example.com", "password": "demo", "csrf_token": factories.csrf_from(page)})
    assert back.status_code == 302 and back.headers["Location"] == f"/profiles/{profile_id}"


def test_htmx_gets_a_full_page_redirect_to_sign_in(app, client, auth, profile_id):
    auth.login("staff")
    token = _start_form(client, profile_id)
    auth.logout()
    answer = _start(client, profile_id, token, **{"HX-Request": "true",
                                                  "HX-Current-URL": f"http://localhost/profiles/{profile_id}"})
    assert answer.status_code == 204
    assert answer.headers["HX-Redirect"] == f"/auth/login?next=/profiles/{profile_id}"
    assert SIGNED_OUT in client.get(answer.headers["HX-Redirect"]).get_data(as_text=True)
    assert _runs(app) == 0


def test_a_session_ended_on_the_server_says_signed_out_too(app, client, auth, profile_id):
    """The cookie (and its form token) is still there, the session is not: a deactivated user, a new
    password, the session's time up."""
    auth.login("staff")
    token = _start_form(client, profile_id)
    with app.app_context():
        db.session.execute(db.update(User).where(User.email == "staff@example.com")
                           .values(session_version=User.session_version + 1))
        db.session.commit()
    answer = _start(client, profile_id, token, Referer=f"http://localhost/profiles/{profile_id}/start")
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/auth/login?next=")
    assert SIGNED_OUT in client.get(answer.headers["Location"]).get_data(as_text=True)
    assert _runs(app) == 0


def test_the_way_back_is_only_a_page_of_this_site(app, client, auth, profile_id):
    auth.login("staff")
    token = _start_form(client, profile_id)
    auth.logout()
    for referer in ("https://evil.example/profiles/1", "http://localhost/auth/login?next=/x", None):
        answer = _start(client, profile_id, token, **({"Referer": referer} if referer else {}))
        assert answer.status_code == 303 and answer.headers["Location"] == "/auth/login", referer


def test_still_signed_in_an_expired_form_is_still_an_expired_form(app, client, auth, profile_id):
    auth.login("staff")
    answer = _start(client, profile_id, "not-the-token")
    assert answer.status_code == 400 and "The form has expired" in answer.get_data(as_text=True)
    # Nobody signed in, on a page anyone may use (the language switcher): no "you were signed out".
    auth.logout()
    answer = client.post("/language", data={"csrf_token": "not-the-token", "locale": "nl"})
    assert answer.status_code == 400 and SIGNED_OUT not in answer.get_data(as_text=True)


def test_sign_out_on_a_page_left_open_after_signing_out_elsewhere(app, client, auth):
    auth.login("staff")
    token = factories.csrf_token(client, "/")
    auth.logout()
    answer = client.post("/auth/logout", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["Location"] == "/auth/login"
    assert "You have been signed out." in client.get("/auth/login").get_data(as_text=True)


@pytest.fixture
def dimensions_account(app, users):
    """An authorised integration account at the wizard's Dimensions step."""
    from portal.models import IntegrationAccount
    with app.app_context():
        account = IntegrationAccount(name="Visma.net", refresh_token_encrypted="sealed", wizard_step="dimensions")
        db.session.add(account)
        db.session.commit()
        return account.id


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_signed_out_on_a_refused_forms_address_comes_back_to_the_forms_page(app, client, auth, dimensions_account,
                                                                            htmx):
    """A refused dimensions save leaves the browser on /integrations/<id>/dimensions, an address only the
    form's POST answers. Signed out in another tab, the next save leads to sign-in and back to the
    Dimensions step's page — not to that address, where a GET is refused (405)."""
    step_page = f"/integrations/{dimensions_account}/setup/dimensions"
    post_only = f"/integrations/{dimensions_account}/dimensions"
    auth.login("consultant")
    token = factories.csrf_from(client.get(step_page).get_data(as_text=True))
    assert client.get(post_only).status_code == 405
    auth.logout()                                       # the other tab
    data = {"csrf_token": token, "cost_unit_enabled": "y", "cost_unit_description": ""}
    if htmx:
        answer = client.post(post_only, data=data, headers={"HX-Request": "true",
                                                            "HX-Current-URL": f"http://localhost{post_only}"})
        login = answer.headers["HX-Redirect"]
    else:
        answer = client.post(post_only, data=data, headers={"Referer": f"http://localhost{post_only}"})
        assert answer.status_code == 303
        login = answer.headers["Location"]
    assert parse_qs(urlsplit(login).query) == {"next": [step_page]}
    page = client.get(login).get_data(as_text=True)
    assert SIGNED_OUT in page
    back = client.post(login, data={"email": "consultant@example.com", "password": "demo",
                                    "csrf_token": factories.csrf_from(page)})
    assert back.status_code == 302 and back.headers["Location"] == step_page
    assert client.get(step_page).status_code == 200


def test_a_sign_in_link_to_a_post_only_address_lands_on_its_forms_page_or_home(app, client, auth,
                                                                              dimensions_account):
    """A sign-in page opened with such a ``next`` (before this was so, or typed): after signing in, the
    form's page; an address only a POST answers that names no page (Refresh): the home page."""
    for target, lands in ((f"/integrations/{dimensions_account}/administrations",
                           f"/integrations/{dimensions_account}/setup/administrations"),
                          ("/scenarios/process", "/scenarios"),
                          (f"/integrations/{dimensions_account}/refresh", "/"),
                          ("/profiles/1/start?x=1", "/profiles/1/start?x=1")):   # a page stays itself
        login = f"/auth/login?next={target}"
        page = client.get(login).get_data(as_text=True)
        back = client.post(login, data={"email": "consultant@example.com", "password": "demo",
                                        "csrf_token": factories.csrf_from(page)})
        assert back.status_code == 302 and back.headers["Location"] == lands, target
        auth.logout()
