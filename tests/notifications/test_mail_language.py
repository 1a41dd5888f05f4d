"""Users on "Browser language" (tester's finding): their mails came in English while the Notifications
page, shown in their browser's language, promised mails "in your language". The portal now remembers the
language it last used for them and mails in it, and the Notifications page says which language that is."""
from flask_babel import refresh

from portal.extensions import db
from portal.models import User
from portal.notifications import services

from tests.factories import AuthActions

from .conftest import use_smtp
from .test_outbox import _failed_run, _profile, _user


def _page(client, path):
    refresh()        # a request in the test's app context: no locale kept from the one before
    return client.get(path).get_data(as_text=True)


def _subscriber_on_browser_language(ctx, smtp, email, accept_language):
    """Mails on; a user on "Browser language" who hears of a profile's failed exports, and a test client
    whose browser asks for ``accept_language``: (profile, user, client)."""
    use_smtp(ctx, smtp)
    profile = _profile()
    user = _user(email, None)
    services.set_subscriptions(user, profile.id, ["run_failed"])
    client = ctx.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return profile, user, client


def test_a_browser_language_user_gets_mails_in_the_language_their_browser_uses(ctx, smtp):
    profile, sven, client = _subscriber_on_browser_language(ctx, smtp, "sven@example.com", "sv-SE,sv;q=0.9,en;q=0.5")
    AuthActions(client).login("sven@example.com")
    page = _page(client, "/notifications")
    assert "De skickas också till sven@example.com." in page
    assert "E-postmeddelandenas språk: Svenska, det språk som din webbläsare senast använde i portalen." in page
    db.session.expire_all()
    assert db.session.get(User, sven.id).browser_locale == "sv" and db.session.get(User, sven.id).locale is None

    _failed_run(profile)
    services.tick()
    [mail] = smtp.received()
    assert mail["body"].startswith("Hej Sven,") and "misslyckades" in mail["subject"] + mail["body"]

    # The browser now asks for Danish: the next page is Danish, and so are the mails after it.
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "da"
    assert "Sprog i e-mails: Dansk, det sprog din browser sidst brugte på portalen." in _page(client, "/notifications")
    db.session.expire_all()
    assert services.mail_language(db.session.get(User, sven.id)) == "da"


def test_the_notifications_page_names_the_language_of_a_users_setting(ctx, smtp):
    use_smtp(ctx, smtp)
    _user("anna@example.com", "da")
    client = ctx.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "sv"              # the setting wins over the browser
    AuthActions(client).login("anna@example.com")
    page = _page(client, "/notifications")
    assert "Sprog i e-mails: Dansk (din sprogindstilling)." in page
    db.session.expire_all()
    assert User.query.filter_by(email="anna@example.com").one().browser_locale is None


def test_a_browser_language_users_language_is_noted_when_they_sign_in(ctx, smtp):
    """Signing in is enough: a user on "Browser language" who signs in and opens no page after it (a
    scheduled export fails overnight) gets the mail in the language the portal showed them, not English."""
    profile, freja, client = _subscriber_on_browser_language(ctx, smtp, "freja@example.com", "da-DK,da;q=0.9")
    assert AuthActions(client).login("freja@example.com").status_code == 302      # the redirect not followed
    db.session.expire_all()
    assert db.session.get(User, freja.id).browser_locale == "da"
    _failed_run(profile)
    services.tick()
    [mail] = smtp.received()
    assert mail["subject"].startswith("Eksport fejlede: Kassabetalningar"), mail["subject"]


def test_saving_ones_own_account_as_browser_language_notes_the_language(any_app):
    """An administrator who sets their own account to "Browser language" gets mails in the language their
    browser asks for from then on (noted as the account is saved), not in a language noted long before."""
    from portal.demo.seed import seed_users
    with any_app.app_context():
        seed_users()
        admin = User.query.filter_by(email="admin@example.com").one()
        assert admin.locale == "en" and admin.browser_locale is None
        admin_id = admin.id
    client = any_app.test_client()          # (outside an app context: each request has its own ``g``)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "sv"
    auth = AuthActions(client)
    auth.login("admin")
    path = f"/admin/users/{admin_id}"
    response = client.post(path, data={"csrf_token": auth.csrf_token(path), "email": "admin@example.com",
                                       "name": "Ada Admin", "locale": "", "password": "", "active": "y",
                                       "permissions": ["manage_users", "manage_exports"]})
    assert response.status_code == 302
    with any_app.app_context():
        admin = db.session.get(User, admin_id)
        assert admin.locale is None and admin.browser_locale == "sv"
        assert services.mail_language(admin) == "sv"
