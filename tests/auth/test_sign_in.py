import re

import pytest


def test_sign_in_and_out(client, auth):
    response = auth.login("staff")
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "Sam Staff" in home.get_data(as_text=True)
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # back to the sign-in page


def test_wrong_password_does_not_say_whether_the_email_exists(client, auth):
    known = auth.login("staff", password="wrong")
    unknown = auth.login("nobody@example.com", password="wrong")
    assert known.status_code == unknown.status_code == 401
    message = "The e-mail address or password is not correct."
    assert message in known.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_sign_out_needs_post(client, auth):
    auth.login("staff")
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_post_without_csrf_token_is_refused(client, auth):
    auth.login("staff")
    response = client.post("/auth/logout", data={})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200  # still signed in: nothing changed


def test_next_only_redirects_within_the_site(client, users, auth):
    token = auth.csrf_token("/auth/login")
    response = client.post("/auth/login?next=https://evil.example/", data={
        "email": "staff@example.com", "password": "demo", "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_a_page_without_session_leads_to_sign_in_and_back(client, users, auth):
    response = client.get("/integrations/")
    assert response.headers["Location"] == "/auth/login?next=/integrations/"   # no stray "?"
    assert client.get("/integrations/?a=1").headers["Location"] == "/auth/login?next=/integrations/?a%3D1"
    token = auth.csrf_token("/auth/login")
    response = client.post("/auth/login?next=/integrations/", data={
        "email": "consultant@example.com", "password": "demo", "csrf_token": token})
    assert response.headers["Location"] == "/integrations/"


def test_htmx_request_without_session_gets_hx_redirect(client):
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/auth/login"


def test_sign_in_attempts_are_rate_limited(client, users, auth):
    statuses = [auth.login("staff", password=f"wrong{i}").status_code for i in range(6)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    # Even the right password is refused while the limit holds: guessing gains nothing.
    assert auth.login("staff").status_code == 429


def test_only_failed_sign_ins_count_towards_the_limit(client, users, auth):
    for _ in range(8):  # more good sign-ins than the limit (5 a minute in tests)
        assert auth.login("staff").status_code == 302
        auth.logout()
    statuses = [auth.login("staff", password=f"wrong{i}").status_code for i in range(6)]
    assert statuses == [401] * 5 + [429]


def test_deactivated_user_is_signed_out(app, client, auth):
    from portal.extensions import db
    from portal.models import User
    auth.login("staff")
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email="staff@example.com")).scalar_one()
        from portal.admin.services import update_user
        update_user(user, [p.value for p in user.permissions], None, False, user.name)
    assert client.get("/").status_code == 302


def test_session_cookie_is_http_only(client, auth):
    response = auth.login("staff")
    cookie = response.headers.get("Set-Cookie", "")
    assert re.search(r"HttpOnly", cookie, re.I)


def test_an_e_mail_address_with_spaces_around_it_signs_in(client, users, auth):
    """A pasted address often brings a space: it is not part of the address."""
    response = auth.login("  staff@example.com ")
    assert response.status_code == 302
    assert "Your account" in client.get("/").get_data(as_text=True)      # signed in


def test_the_home_page_shows_the_sign_in_before_this_one(app, client, users, auth):
    """"Previous sign-in" is the one before this session (the last one is always the one just made)."""
    from datetime import datetime

    from portal.extensions import db
    from portal.models import User
    auth.login("staff")
    assert "None: this is your first sign-in." in client.get("/").get_data(as_text=True)
    auth.logout()
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email="staff@example.com")).scalar_one()
        user.last_login_at = datetime(2026, 3, 2, 7, 5)      # as if the sign-in above had been then
        db.session.commit()
    auth.login("staff")
    page = client.get("/").get_data(as_text=True)
    assert "Previous sign-in" in page and "first sign-in" not in page
    assert "<dd>02/03/2026, 08:05</dd>" in page         # en-GB, in the organisation's zone (UTC+1 in March)


@pytest.mark.parametrize("locale, heading, email_error", [
    ("en", "You were not signed in: please check the following.", "Enter your e-mail address."),
    ("nl", "U bent niet ingelogd: controleer het volgende.", "Voer uw e-mailadres in."),
    ("sv", "Du loggades inte in: kontrollera följande.", "Ange din e-postadress."),
    ("da", "Du blev ikke logget ind: kontrollér følgende.", "Angiv din e-mailadresse."),
])
def test_an_empty_sign_in_says_what_is_missing_above_the_form(client, auth, locale, heading, email_error):
    """As every refused form: a summary above it (focused when the page comes back), each error linked to
    its field, in the chosen language."""
    client.post("/language", data={"locale": locale, "csrf_token": auth.csrf_token("/auth/login")})
    response = client.post("/auth/login", data={"email": "", "password": "",
                                                "csrf_token": auth.csrf_token("/auth/login")})
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    start = page.rindex("<div", 0, page.index('id="error-summary"'))
    summary = page[start:page.index("</div>", start)]
    assert 'role="alert"' in summary and "autofocus" in summary and heading in summary
    assert '<a href="#email">' in summary and email_error in summary and 'href="#password"' in summary
