"""The administrator's user pages and ``flask users create``."""
import pytest

from portal.extensions import db
from portal.models import Permission, User


def _user(app, email):
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
        if user is not None:
            db.session.expunge(user)
        return user


def _count(app):
    with app.app_context():
        return db.session.query(User).count()


def _form(auth, path, **fields):
    data = {"csrf_token": auth.csrf_token(path), "name": "", "locale": "", "password": ""}
    data.update(fields)
    return data


def test_admin_lists_every_user(client, auth):
    auth.login("admin")
    page = client.get("/admin/users").get_data(as_text=True)
    for who in ("admin", "consultant", "manager", "staff"):
        assert f"{who}@example.com" in page
    assert "Import and export" in page  # permissions are shown by their names, not codes


def test_admin_creates_a_user_who_can_then_sign_in(app, client, auth):
    auth.login("admin")
    response = client.post("/admin/users/new", data=_form(
        auth, "/admin/users/new", email="Nina@Example.com", name="Nina", permissions=["view_exports"],
        locale="nl", active="y", password="a-long-password"))
    assert response.status_code == 302
    assert "nina@example.com was created" in client.get("/admin/users").get_data(as_text=True)
    nina = _user(app, "nina@example.com")
    assert nina.permissions == {Permission.VIEW_EXPORTS}
    assert nina.locale == "nl" and nina.active
    auth.logout()
    assert auth.login("nina@example.com", password="a-long-password").status_code == 302
    # Her own language, straight after sign-in.
    assert 'lang="nl"' in client.get("/").get_data(as_text=True)


def test_a_new_users_address_pasted_with_spaces_is_taken_without_them(app, client, auth):
    auth.login("admin")
    response = client.post("/admin/users/new", data=_form(
        auth, "/admin/users/new", email=" Nina@Example.com  ", name="Nina", permissions=["view_exports"],
        locale="nl", active="y", password="a-long-password"))
    assert response.status_code == 302
    assert _user(app, "nina@example.com") is not None


@pytest.mark.parametrize("language, messages", [
    ("en", ["Enter a valid e-mail address.", "Enter a password for the new user."]),
    ("nl", ["Voer een geldig e-mailadres in.", "Voer een wachtwoord in voor de nieuwe gebruiker."]),
    ("sv", ["Ange en giltig e-postadress.", "Ange ett lösenord för den nya användaren."]),
    ("da", ["Angiv en gyldig e-mailadresse.", "Angiv en adgangskode til den nye bruger."]),
])
def test_validation_messages_are_tied_to_their_fields_in_the_users_language(
        app, client, auth, language, messages):
    auth.login("admin")
    client.post("/language", data={"locale": language, "csrf_token": auth.csrf_token("/")})
    before = _count(app)
    response = client.post("/admin/users/new", data=_form(
        auth, "/admin/users/new", email="not-an-address", permissions=["import_export"]))
    page = response.get_data(as_text=True)
    assert response.status_code == 400          # refused, as every refused form
    assert f'<html lang="{"en-GB" if language == "en" else language}">' in page  # English is British
    for message in messages:
        assert message in page
    # Each error is tied to its field for screen readers.
    assert 'aria-describedby="email-errors"' in page and 'id="email-errors"' in page
    assert 'aria-describedby="password-errors"' in page and 'id="password-errors"' in page
    assert _count(app) == before


SUMMARY_HEADINGS = {"en": "The form was not saved: please check the following.",
                    "nl": "Het formulier is niet opgeslagen: controleer het volgende.",
                    "sv": "Formuläret sparades inte: kontrollera följande.",
                    "da": "Formularen blev ikke gemt: kontrollér følgende."}
EMPTY_USER_ERRORS = {"en": ["Enter an e-mail address.", "Enter a password for the new user."],
                     "nl": ["Voer een e-mailadres in.", "Voer een wachtwoord in voor de nieuwe gebruiker."],
                     "sv": ["Ange en e-postadress.", "Ange ett lösenord för den nya användaren."],
                     "da": ["Angiv en e-mailadresse.", "Angiv en adgangskode til den nye bruger."]}


def _summary(page):
    start = page.rindex("<div", 0, page.index('id="error-summary"'))
    return page[start:page.index("</div>", start)]


@pytest.mark.parametrize("language", ["en", "nl", "sv", "da"])
def test_a_new_user_saved_empty_is_refused_with_an_error_summary(app, client, auth, language):
    """Above the form, focused when the page comes back (autofocus): what was refused, each error a link
    to its field — not only at the fields, out of sight below."""
    auth.login("admin")
    client.post("/language", data={"locale": language, "csrf_token": auth.csrf_token("/")})
    before = _count(app)
    response = client.post("/admin/users/new", data=_form(auth, "/admin/users/new", email=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    summary = _summary(page)
    assert 'role="alert"' in summary and "autofocus" in summary
    assert SUMMARY_HEADINGS[language] in summary
    email_error, password_error = EMPTY_USER_ERRORS[language]
    assert 'href="#email"' in summary and email_error in summary
    assert 'href="#password"' in summary and password_error in summary
    assert _count(app) == before


def test_an_edited_user_refused_answers_400_with_the_summary(app, client, auth, users):
    auth.login("admin")
    path = f"/admin/users/{users['staff']}"
    response = client.post(path, data=_form(auth, path, email="staff@example.com", name="Staff", password="short",
                                            permissions=["import_export"]))
    assert response.status_code == 400
    summary = _summary(response.get_data(as_text=True))
    assert 'href="#password"' in summary and "A password needs at least 8 characters." in summary
    assert client.get(path).status_code == 200


def test_duplicate_email_and_short_password_are_refused(app, client, auth):
    auth.login("admin")
    before = _count(app)
    page = client.post("/admin/users/new", data=_form(
        auth, "/admin/users/new", email="STAFF@example.com", permissions=["import_export"],
        password="a-long-password")).get_data(as_text=True)
    assert "A user with this e-mail address already exists." in page
    page = client.post("/admin/users/new", data=_form(
        auth, "/admin/users/new", email="new@example.com", permissions=["import_export"],
        password="short")).get_data(as_text=True)
    assert "A password needs at least 8 characters." in page
    assert 'id="password-errors"' in page
    assert _count(app) == before


def test_admin_edits_permissions_language_and_active_flag(app, client, auth, users):
    auth.login("admin")
    path = f"/admin/users/{users['staff']}"
    response = client.post(path, data=_form(auth, path, email="staff@example.com", name="Sam S.",
                                            permissions=["import_export", "view_exports"], locale="da"))
    assert response.status_code == 302
    staff = _user(app, "staff@example.com")
    assert staff.permissions == {Permission.IMPORT_EXPORT, Permission.VIEW_EXPORTS}
    assert staff.locale == "da" and staff.name == "Sam S." and not staff.active
    auth.logout()
    assert auth.login("staff").status_code == 401  # inactive users cannot sign in


def test_admin_resets_a_password(app, client, users, auth):
    auth.login("admin")
    path = f"/admin/users/{users['manager']}"
    client.post(path, data=_form(auth, path, email="manager@example.com", name="Manager", permissions=["view_exports"],
                                 active="y", password="brand-new-secret"))
    auth.logout()
    assert auth.login("manager", password="demo").status_code == 401
    assert auth.login("manager", password="brand-new-secret").status_code == 302


def test_admin_cannot_remove_own_manage_users_permission(app, client, auth, users):
    auth.login("admin")
    path = f"/admin/users/{users['admin']}"
    response = client.post(path, data=_form(auth, path, email="admin@example.com", name="Admin",
                                            permissions=["manage_exports"], active="y"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "You cannot remove your own permission to manage users." in page
    # The summary's link reaches the group of checkboxes at its first box (the list itself takes no focus).
    assert 'href="#permissions-0"' in _summary(page) and 'id="permissions-0"' in page
    assert Permission.MANAGE_USERS in _user(app, "admin@example.com").permissions
    assert client.get("/admin/users").status_code == 200


def test_admin_cannot_deactivate_themselves(app, client, auth, users):
    auth.login("admin")
    path = f"/admin/users/{users['admin']}"
    response = client.post(path, data=_form(auth, path, email="admin@example.com", name="Admin",
                                            permissions=["manage_users", "manage_exports"]))
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    assert _user(app, "admin@example.com").active
    assert client.get("/admin/users").status_code == 200


def test_admin_changing_own_password_stays_signed_in(app, client, auth, users):
    auth.login("admin")
    path = f"/admin/users/{users['admin']}"
    response = client.post(path, data=_form(auth, path, email="admin@example.com", name="Admin", active="y",
                                            permissions=["manage_users", "manage_exports"],
                                            password="another-long-one"))
    assert response.status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_user_changes_without_csrf_token_are_refused(app, client, auth, users):
    auth.login("admin")
    before = _count(app)
    response = client.post("/admin/users/new", data={
        "email": "sneaky@example.com", "permissions": ["manage_users"], "active": "y",
        "password": "a-long-password"})
    assert response.status_code == 400
    assert _count(app) == before
    response = client.post(f"/admin/users/{users['staff']}", data={
        "email": "staff@example.com", "permissions": ["manage_users"], "active": "y"})
    assert response.status_code == 400
    assert _user(app, "staff@example.com").permissions == {Permission.IMPORT_EXPORT}


def test_unknown_user_is_404(client, auth):
    auth.login("admin")
    assert client.get("/admin/users/99999").status_code == 404


# --- flask users create ---------------------------------------------------------------------------

def test_cli_creates_a_user(app, runner):
    result = runner.invoke(args=["users", "create", "--email", "Cli@Example.com", "--role", "manager",
                                 "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    assert "Created cli@example.com (manager)." in result.output
    user = _user(app, "cli@example.com")
    assert user.permissions == {Permission.VIEW_EXPORTS} and user.check_password("long-enough-pw")


def test_cli_prompts_for_the_password(app, runner):
    result = runner.invoke(args=["users", "create", "--email", "p@example.com", "--role", "staff"],
                           input="prompted-secret\nprompted-secret\n")
    assert result.exit_code == 0, result.output
    assert _user(app, "p@example.com").check_password("prompted-secret")


def test_cli_refuses_a_duplicate(app, runner, users):
    before = _count(app)
    result = runner.invoke(args=["users", "create", "--email", "staff@example.com", "--role", "staff",
                                 "--password", "long-enough-pw"])
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert _count(app) == before


def test_cli_refuses_an_unknown_role(app, runner):
    result = runner.invoke(args=["users", "create", "--email", "r@example.com", "--role", "boss",
                                 "--password", "long-enough-pw"])
    assert result.exit_code != 0
    assert "boss" in result.output
    assert _user(app, "r@example.com") is None


def test_cli_refuses_a_short_password(app, runner):
    result = runner.invoke(args=["users", "create", "--email", "s@example.com", "--role", "staff",
                                 "--password", "short"])
    assert result.exit_code != 0
    assert "A password needs at least 8 characters." in result.output
    assert _user(app, "s@example.com") is None
