"""The user form's odd input, on SQLite and PostgreSQL: a password of spaces alone or of 400,000
characters, a name of spaces, a form without the language. Each is refused at its field with words that
say what to do (in the user's language), and nothing is saved."""
import html

import pytest

from portal.admin import services
from portal.demo.seed import seed_users
from portal.extensions import db
from portal.models import User

from tests.factories import AuthActions


@pytest.fixture
def admin(any_app):
    with any_app.app_context():
        seed_users()
        ids = {u.email.split("@")[0]: u.id for u in db.session.execute(db.select(User)).scalars()}
    client = any_app.test_client()
    auth = AuthActions(client)
    auth.login("admin")
    return any_app, client, auth, ids


def _post(client, auth, path, **fields):
    data = {"csrf_token": auth.csrf_token(path), "email": "nina@example.com", "name": "Nina",
            "permissions": ["view_exports"], "locale": "", "active": "y", "password": "a-long-password"}
    data.update(fields)
    data = {name: value for name, value in data.items() if value is not None}
    answer = client.post(path, data=data)
    return answer, html.unescape(answer.get_data(as_text=True))


def _at_field(page, field):
    errors = page[page.index(f'id="{field}-errors"'):]
    return errors[:errors.index("</ul>")]


def _user(app, email):
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
        return user and (user.name, user.password_hash, user.locale)


@pytest.mark.parametrize("password", [" " * 8, " " * 20, "\u3000" * 10, "\t \u200b  \u00a0  "])
def test_a_password_of_spaces_alone_is_refused(admin, password):
    app, client, auth, ids = admin
    answer, page = _post(client, auth, "/admin/users/new", password=password)
    assert answer.status_code == 400
    assert "A password cannot be made of spaces alone." in _at_field(page, "password")
    assert _user(app, "nina@example.com") is None
    before = _user(app, "staff@example.com")
    path = f"/admin/users/{ids['staff']}"
    answer, page = _post(client, auth, path, email="staff@example.com", name="Staff", password=password)
    assert "A password cannot be made of spaces alone." in _at_field(page, "password")
    assert _user(app, "staff@example.com") == before
    with app.app_context(), pytest.raises(services.UserError, match="spaces alone"):
        services.create_user("cli@example.com", password, role="staff")


def test_spaces_around_a_password_count_as_typed(admin):
    app, client, auth, _ids = admin
    answer, _page = _post(client, auth, "/admin/users/new", password="  long enough  ")
    assert answer.status_code == 302
    auth.logout()
    assert auth.login("nina@example.com", password="long enough").status_code == 401
    assert auth.login("nina@example.com", password="  long enough  ").status_code == 302


def test_a_very_long_password_is_refused_with_its_limit(admin):
    app, client, auth, ids = admin
    answer, page = _post(client, auth, "/admin/users/new", password="p" * 400_000)
    assert answer.status_code == 400
    assert "Enter at most 128 characters; this has 400,000." in _at_field(page, "password")
    assert _user(app, "nina@example.com") is None
    before = _user(app, "staff@example.com")
    answer, page = _post(client, auth, f"/admin/users/{ids['staff']}", email="staff@example.com", name="Staff",
                         password="p" * 129)
    assert "Enter at most 128 characters; this has 129." in _at_field(page, "password")
    assert _user(app, "staff@example.com") == before
    with app.app_context():
        with pytest.raises(services.UserError, match="at most 128 characters"):
            services.create_user("cli@example.com", "p" * 129, role="staff")
        assert services.create_user("cli@example.com", "p" * 128, role="staff").check_password("p" * 128)


@pytest.mark.parametrize("name", ["   ", "\u200b", " \u3000 "])
def test_a_name_of_spaces_is_refused_and_a_name_is_stored_trimmed(admin, name):
    app, client, auth, ids = admin
    answer, page = _post(client, auth, "/admin/users/new", name=name)
    assert answer.status_code == 400 and "Enter the user's name." in _at_field(page, "name")
    assert _user(app, "nina@example.com") is None
    path = f"/admin/users/{ids['staff']}"
    before = _user(app, "staff@example.com")
    for blank in (name, ""):
        answer, page = _post(client, auth, path, email="staff@example.com", name=blank, password="")
        assert answer.status_code == 400 and "Enter the user's name." in _at_field(page, "name")
        assert _user(app, "staff@example.com") == before
    answer, _page = _post(client, auth, path, email="staff@example.com", name="  Sam Staff ", password="")
    assert answer.status_code == 302
    assert _user(app, "staff@example.com")[0] == "Sam Staff"
    answer, _page = _post(client, auth, "/admin/users/new", name="  Nina de Vries  ")
    assert answer.status_code == 302 and _user(app, "nina@example.com")[0] == "Nina de Vries"
    # Left empty on New user: called by the address, as before.
    answer, _page = _post(client, auth, "/admin/users/new", email="joost@example.com", name="")
    assert answer.status_code == 302 and _user(app, "joost@example.com")[0] == "joost"


@pytest.mark.parametrize("locale", [None, "xx"])
def test_a_form_without_a_known_language_asks_for_one(admin, locale):
    app, client, auth, ids = admin
    answer, page = _post(client, auth, "/admin/users/new", locale=locale)
    assert answer.status_code == 400
    assert "Choose a language (or Browser language)." in _at_field(page, "locale")
    assert "Not a valid choice." not in page
    assert _user(app, "nina@example.com") is None
    before = _user(app, "staff@example.com")
    answer, page = _post(client, auth, f"/admin/users/{ids['staff']}", email="staff@example.com", name="Staff",
                         password="", locale=locale)
    assert "Choose a language (or Browser language)." in _at_field(page, "locale")
    assert _user(app, "staff@example.com") == before


@pytest.mark.parametrize("language, words", [
    ("nl", ["Een wachtwoord kan niet uit alleen spaties bestaan.", "Vul de naam van de gebruiker in.",
            "Kies een taal (of Taal van de browser)."]),
    ("sv", ["Ett lösenord kan inte bestå av enbart mellanslag.", "Ange användarens namn.",
            "Välj ett språk (eller Webbläsarens språk)."]),
    ("da", ["En adgangskode kan ikke bestå af mellemrum alene.", "Angiv brugerens navn.",
            "Vælg et sprog (eller Browserens sprog)."]),
])
def test_the_refusals_are_in_the_users_language(admin, language, words):
    app, client, auth, _ids = admin
    client.post("/language", data={"locale": language, "csrf_token": auth.csrf_token("/")})
    _answer, page = _post(client, auth, "/admin/users/new", password=" " * 9, locale=None)
    assert words[2] in _at_field(page, "locale")
    _answer, page = _post(client, auth, "/admin/users/new", password=" " * 9)
    assert words[0] in _at_field(page, "password")
    _answer, page = _post(client, auth, "/admin/users/new", name="  ")
    assert words[1] in _at_field(page, "name")
