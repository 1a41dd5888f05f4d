"""Sign-out ends the session on the server: a copy of the session cookie, taken before, opens nothing after.

Over real HTTP (the app served on a port, ``requests`` as the browser), with the cookie copied as an
attacker would copy it (from a shared computer, a proxy log). A new password or deactivation still
signs the user out everywhere, and another session of the same user is not ended by this sign-out.
"""
import re

import requests

from portal.extensions import db
from portal.models import User


def _sign_in(base, who="staff", password="demo"):
    browser = requests.Session()
    page = browser.get(base + "/auth/login", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    answer = browser.post(base + "/auth/login", data={"email": f"{who}@example.com", "password": password,
                                                      "csrf_token": token}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    return browser


def _csrf(browser, base):
    return re.search(r'name="csrf-token" content="([^"]+)"', browser.get(base + "/", timeout=10).text).group(1)


def _with_cookie(base, cookie):
    """A fresh browser holding only a copy of the session cookie."""
    other = requests.Session()
    other.cookies.set("session", cookie, domain="127.0.0.1", path="/")
    return other


def _opens_overview(browser, base):
    answer = browser.get(base + "/overview/", allow_redirects=False, timeout=10)
    return answer.status_code == 200


def test_a_copied_cookie_no_longer_opens_anything_after_sign_out(live_server, users):
    base = live_server.url
    browser = _sign_in(base, "manager")
    copied = browser.cookies.get("session")
    assert _opens_overview(_with_cookie(base, copied), base)  # the copy works while the session lives

    answer = browser.post(base + "/auth/logout", data={"csrf_token": _csrf(browser, base)},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302

    stolen = _with_cookie(base, copied)
    answer = stolen.get(base + "/overview/", allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and "/auth/login" in answer.headers["Location"]
    assert not _opens_overview(browser, base)


def test_signing_out_one_session_leaves_the_users_other_sessions(live_server, users):
    base = live_server.url
    laptop, phone = _sign_in(base, "manager"), _sign_in(base, "manager")
    laptop.post(base + "/auth/logout", data={"csrf_token": _csrf(laptop, base)}, timeout=10)
    assert not _opens_overview(laptop, base)
    assert _opens_overview(phone, base)


def test_a_new_password_and_deactivation_still_sign_out_everywhere(app, live_server, users):
    base = live_server.url
    first, second = _sign_in(base, "manager"), _sign_in(base, "staff")
    with app.app_context():
        manager = db.session.get(User, users["manager"])
        manager.set_password("a-new-password")
        db.session.get(User, users["staff"]).active = False
        db.session.commit()
    assert not _opens_overview(first, base)
    assert first.get(base + "/", allow_redirects=False, timeout=10).status_code == 302
    assert second.get(base + "/", allow_redirects=False, timeout=10).status_code == 302
