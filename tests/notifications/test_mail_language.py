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


def test_a_browser_language_user_gets_mails_in_the_language_their_browser_uses(ctx, smtp):
    use_smtp(ctx, smtp)
    profile = _profile()
    sven = _user("sven@example.com", None)                           # "Browser language"
    services.set_subscriptions(sven, profile.id, ["run_failed"])
    client = ctx.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "sv-SE,sv;q=0.9,en;q=0.5"
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
