"""Locale negotiation (user's setting → session → Accept-Language → English), the switcher, and the
locale- and time-zone-aware ``datetime``/``date``/``number`` filters."""
from datetime import date, datetime
from decimal import Decimal

import pytest
from flask import render_template_string

from portal.extensions import db
from portal.models import User

SIGN_IN = {"en": "Sign in", "nl": "Inloggen", "sv": "Logga in", "da": "Log ind"}


def _lang(response):
    """The page's language code (English pages say en-GB: British English by default)."""
    page = response.get_data(as_text=True)
    start = page.index('<html lang="') + len('<html lang="')
    lang = page[start:page.index('"', start)]
    return "en" if lang == "en-GB" else lang


def _set_user_locale(app, email, locale):
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one()
        user.locale = locale
        db.session.commit()


# --- negotiation ----------------------------------------------------------------------------------

def test_english_without_any_preference(client):
    response = client.get("/auth/login")
    assert _lang(response) == "en"
    assert "Sign in" in response.get_data(as_text=True)


def test_english_is_british_english_unless_configured(app, client):
    assert '<html lang="en-GB">' in client.get("/auth/login").get_data(as_text=True)
    assert _render(app, "en", "{{ t|datetime }}", t=datetime(2026, 11, 26, 13, 31)) == "26/11/2026, 14:31"
    app.config["PORTAL_ENGLISH_LOCALE"] = "en_US"
    assert _render(app, "en", "{{ t|date }}", t=date(2026, 11, 26)) == "11/26/26"


def test_one_date_style_on_every_page(app):
    """The filters' default is the short style that the run pages use; no page asks for another."""
    from portal.config import ROOT
    assert _render(app, "sv", "{{ t|datetime }}|{{ d|date }}", t=datetime(2026, 11, 26, 13, 31),
                   d=date(2026, 11, 26)) == "2026-11-26 14:31|2026-11-26"
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        assert "datetime(\"medium\")" not in text and "datetime(\"long\")" not in text, template


def test_a_language_chosen_on_the_sign_in_page_becomes_the_users_setting(app, client, auth):
    client.post("/language", data={"locale": "da", "csrf_token": auth.csrf_token("/auth/login")})
    auth.login("staff")
    with app.app_context():
        assert db.session.execute(db.select(User.locale).filter_by(email="staff@example.com")).scalar() == "da"
    # Kept on another device (another browser language, nothing chosen there).
    other = app.test_client()
    from tests.factories import AuthActions
    AuthActions(other).login("staff")
    assert _lang(other.get("/", headers={"Accept-Language": "nl"})) == "da"
    # A language merely kept from the last sign-out is not forced on the next person who signs in.
    auth.logout()
    auth.login("manager")
    with app.app_context():
        assert db.session.execute(db.select(User.locale).filter_by(email="manager@example.com")).scalar() is None


@pytest.mark.parametrize("header, expected", [
    ("nl-NL,nl;q=0.9,en;q=0.5", "nl"), ("sv", "sv"), ("da-DK", "da"),
    ("fr-FR,de;q=0.9", "en"),            # none of ours: English
    ("de,da;q=0.8,nl;q=0.5", "da"),      # the best of ours by quality
])
def test_accept_language_picks_the_language_before_sign_in(client, header, expected):
    response = client.get("/auth/login", headers={"Accept-Language": header})
    assert _lang(response) == expected
    assert f">{SIGN_IN[expected]}</h1>" in response.get_data(as_text=True)


def test_session_choice_beats_accept_language(client, auth):
    token = auth.csrf_token("/auth/login")
    response = client.post("/language", data={"locale": "nl", "csrf_token": token, "next": "/auth/login"},
                           headers={"Accept-Language": "sv"})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert _lang(client.get("/auth/login", headers={"Accept-Language": "sv"})) == "nl"


def test_users_setting_beats_the_session(app, client, auth):
    _set_user_locale(app, "staff@example.com", "da")
    auth.login("manager")
    client.post("/language", data={"locale": "nl", "csrf_token": auth.csrf_token("/")})
    auth.logout()  # the session keeps Dutch for the sign-in page: nobody chose it there
    assert _lang(client.get("/auth/login")) == "nl"
    auth.login("staff")
    assert _lang(client.get("/", headers={"Accept-Language": "sv"})) == "da"


def test_a_language_chosen_on_the_sign_in_page_replaces_the_saved_one(app, client, auth):
    _set_user_locale(app, "staff@example.com", "da")
    client.post("/language", data={"locale": "nl", "csrf_token": auth.csrf_token("/auth/login")})
    auth.login("staff")
    assert _lang(client.get("/", headers={"Accept-Language": "sv"})) == "nl"
    with app.app_context():
        assert db.session.execute(db.select(User.locale).filter_by(email="staff@example.com")).scalar() == "nl"


def test_user_without_a_setting_follows_session_then_browser(app, client, auth):
    auth.login("staff")  # the demo staff user has no language of their own
    assert _lang(client.get("/", headers={"Accept-Language": "sv"})) == "sv"


def test_switching_while_signed_in_becomes_the_users_setting(app, client, auth):
    auth.login("staff")
    response = client.post("/language", data={"locale": "sv", "csrf_token": auth.csrf_token("/"), "next": "/"})
    assert response.status_code == 302
    assert _lang(client.get("/")) == "sv"
    with app.app_context():
        assert db.session.execute(db.select(User.locale).filter_by(email="staff@example.com")).scalar() == "sv"
    # Kept on another device: a fresh client, another browser language.
    other = app.test_client()
    from tests.factories import AuthActions
    AuthActions(other).login("staff")
    assert _lang(other.get("/", headers={"Accept-Language": "nl"})) == "sv"


def test_switcher_is_on_the_sign_in_page_and_every_signed_in_page(client, auth):
    for path in ("/auth/login",):
        page = client.get(path).get_data(as_text=True)
        assert 'action="/language"' in page
        for code, label in (("en", "English"), ("nl", "Nederlands"), ("sv", "Svenska"), ("da", "Dansk")):
            assert f'<option value="{code}" lang="{code}"' in page and label in page
    auth.login("admin")
    for path in ("/", "/admin/users", "/admin/users/new"):
        assert 'action="/language"' in client.get(path).get_data(as_text=True)


def test_switcher_refuses_get_unknown_languages_and_foreign_targets(client, auth):
    assert client.get("/language?locale=nl").status_code == 405
    token = auth.csrf_token("/auth/login")
    client.post("/language", data={"locale": "xx", "csrf_token": token})
    assert _lang(client.get("/auth/login")) == "en"
    response = client.post("/language", data={"locale": "nl", "csrf_token": token,
                                              "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"
    response = client.post("/language", data={"locale": "nl", "csrf_token": token, "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_switcher_needs_the_csrf_token(client):
    response = client.post("/language", data={"locale": "nl"})
    assert response.status_code == 400
    assert _lang(client.get("/auth/login")) == "en"


# --- formatting -----------------------------------------------------------------------------------

# The night summer time starts in the Netherlands (2026-03-29, 01:00 UTC: 02:00 → 03:00) and ends
# (2026-10-25, 01:00 UTC: 03:00 → 02:00).
SPRING_BEFORE = datetime(2026, 3, 29, 0, 30)   # naive UTC, as stored
SPRING_AFTER = datetime(2026, 3, 29, 1, 30)
AUTUMN_BEFORE = datetime(2026, 10, 25, 0, 30)
AUTUMN_AFTER = datetime(2026, 10, 25, 1, 30)

EXPECTED_SHORT = {
    "en": ("29/03/2026, 01:30", "29/03/2026, 03:30", "25/10/2026, 02:30"),  # British English
    "nl": ("29-03-2026, 01:30", "29-03-2026, 03:30", "25-10-2026, 02:30"),
    "sv": ("2026-03-29 01:30", "2026-03-29 03:30", "2026-10-25 02:30"),
    "da": ("29.03.2026 01.30", "29.03.2026 03.30", "25.10.2026 02.30"),
}
EXPECTED_NUMBER = {"en": "1,234,567.891", "nl": "1.234.567,891", "sv": "1\xa0234\xa0567,891",
                   "da": "1.234.567,891"}
EXPECTED_LONG_DATE = {"en": "29 March 2026", "nl": "29 maart 2026", "sv": "29 mars 2026",
                      "da": "29. marts 2026"}


def _render(app, locale, source, **context):
    with app.test_request_context("/", headers={"Accept-Language": locale}):
        return render_template_string(source, **context)


@pytest.mark.parametrize("locale", ["en", "nl", "sv", "da"])
def test_datetime_filter_uses_the_org_time_zone_across_daylight_saving(app, locale):
    before, after, autumn = EXPECTED_SHORT[locale]
    source = "{{ a|datetime('short') }}|{{ b|datetime('short') }}|{{ c|datetime('short') }}|{{ d|datetime('short') }}"
    rendered = _render(app, locale, source, a=SPRING_BEFORE, b=SPRING_AFTER, c=AUTUMN_BEFORE, d=AUTUMN_AFTER)
    # An hour apart in UTC: two hours apart on the clock across the spring change; in autumn the same
    # wall-clock time twice, told apart by the offset.
    assert rendered == f"{before}|{after}|{autumn} (GMT+02:00)|{autumn} (GMT+01:00)"


def test_unambiguous_times_carry_no_offset(app):
    rendered = _render(app, "nl", "{{ t|datetime('short') }}", t=datetime(2026, 10, 25, 2, 30))
    assert rendered == "25-10-2026, 03:30"


@pytest.mark.parametrize("locale", ["en", "nl", "sv", "da"])
def test_number_and_date_filters_follow_the_locale(app, locale):
    rendered = _render(app, locale, "{{ n|number }}|{{ d|date('long') }}|{{ none|number }}{{ none|date }}",
                       n=Decimal("1234567.891"), d=date(2026, 3, 29), none=None)
    assert rendered == f"{EXPECTED_NUMBER[locale]}|{EXPECTED_LONG_DATE[locale]}|"


def test_date_filter_of_a_utc_time_is_the_local_day(app):
    # 23:30 UTC on the 28th is already the 29th in Amsterdam.
    assert _render(app, "en", "{{ t|date('long') }}", t=datetime(2026, 3, 28, 23, 30)) == "29 March 2026"


def test_portal_timezone_setting_is_used(app):
    app.config["PORTAL_TIMEZONE"] = "America/New_York"
    rendered = _render(app, "en", "{{ t|datetime('short') }} {{ zone }}", t=SPRING_AFTER, zone="")
    assert rendered.startswith("28/03/2026, 21:30")  # EDT, UTC-4
    with app.test_request_context("/"):
        from portal.i18n import org_timezone
        assert str(org_timezone()) == "America/New_York"


def test_aware_datetimes_are_converted_too(app):
    from datetime import timezone
    aware = SPRING_AFTER.replace(tzinfo=timezone.utc)
    assert _render(app, "nl", "{{ t|datetime('short') }}", t=aware) == "29-03-2026, 03:30"


def test_footer_names_the_time_zone(client):
    assert "Europe/Amsterdam" in client.get("/auth/login").get_data(as_text=True)


# --- plurals and amounts in messages ----------------------------------------------------------------

PLURALS = {  # (one, two) for "n exports match"
    "en": ("1 export matches", "2 exports match"), "nl": ("1 export gevonden", "2 exports gevonden"),
    "sv": ("1 export matchar", "2 exporter matchar"), "da": ("1 eksport passer", "2 eksporter passer"),
}


@pytest.mark.parametrize("locale", ["en", "nl", "sv", "da"])
def test_counts_take_the_plural_form_of_their_language(app, locale):
    source = '{{ ngettext("%(num)s export matches", "%(num)s exports match", n, num=n|number) }}'
    assert (_render(app, locale, source, n=1), _render(app, locale, source, n=2)) == PLURALS[locale]


@pytest.mark.parametrize("locale, debit, credit", [
    ("en", "137,401.06", "137,400.00"), ("nl", "137.401,06", "137.400,00"),
    ("sv", "137\xa0401,06", "137\xa0400,00"), ("da", "137.401,06", "137.400,00")])
def test_amounts_in_report_messages_are_written_for_the_locale(app, locale, debit, credit):
    from portal.exporting.messages import report_message
    with app.test_request_context("/", headers={"Accept-Language": locale}):
        text = report_message("journal_unbalanced", {"company": "Zorggroep", "period": "2026-10",
                                                     "debit": "137401.06", "credit": "137400"})
    assert debit in text and credit in text


def test_a_count_in_a_report_message_takes_its_plural_form(app):
    from portal.exporting.messages import report_message
    with app.test_request_context("/", headers={"Accept-Language": "sv"}):
        one = report_message("removals_left_out", {"count": 1, "provider": "Visma.net ERP"})
        many = report_message("removals_left_out", {"count": 1200, "provider": "Visma.net ERP"})
    assert one.startswith("1 borttagen post ") and many.startswith("1\xa0200 borttagna poster ")


@pytest.mark.parametrize("locale, one, two", [
    ("en", "1 earlier production export", "2 earlier production exports"),
    ("nl", "1 eerdere productie-export", "2 eerdere productie-exports"),
    ("sv", "1 tidigare produktionsexport", "2 tidigare produktionsexporter"),
    ("da", "1 tidligere produktionseksport", "2 tidligere produktionseksporter")])
def test_the_production_confirmation_counts_earlier_exports_with_plural_forms(app, locale, one, two):
    source = ('{{ npgettext("already recorded", "%(num)s earlier production export", '
              '"%(num)s earlier production exports", n, num=n|number) }}')
    assert (_render(app, locale, source, n=1), _render(app, locale, source, n=2)) == (one, two)


def test_no_count_meets_a_noun_without_its_plural_form():
    """A message whose number is a count of things goes through ngettext/npgettext: no gettext string
    starts with, or is, "%(count)s <noun>s" any more."""
    from portal.config import ROOT
    import re
    singular_only = re.compile(r'_\("[^"]*%\((count|rows|records|runs|n)\)s (exports|rows|records|requests|scenarios)')
    found = [str(path.relative_to(ROOT)) for path in list((ROOT / "templates").rglob("*.html"))
             + list((ROOT / "portal").rglob("*.py")) if singular_only.search(path.read_text())]
    assert not found, found


def test_patterns_and_page_formats_follow_the_locale_of_the_moment(app):
    """The locale's patterns are kept per locale (one process serves every language) and a page's
    ``formats()`` takes the locale in force when it is made: one nl request that writes a Swedish
    e-mail (``force_locale``) gets both right, whichever was formatted first."""
    from flask_babel import force_locale
    from portal.exporting.messages import STATUS_LABELS
    from portal.i18n import Formats, datetime_filter, number_filter
    with app.test_request_context("/", headers={"Accept-Language": "nl"}):
        assert datetime_filter(SPRING_AFTER) == "29-03-2026, 03:30"
        with force_locale("sv"):
            swedish = Formats()
            assert swedish.datetime(SPRING_AFTER) == "2026-03-29 03:30" == datetime_filter(SPRING_AFTER)
            assert swedish.number(Decimal("1234567.891")) == EXPECTED_NUMBER["sv"]
            assert swedish.date(date(2026, 3, 29), "long") == EXPECTED_LONG_DATE["sv"]
            sv_failed = str(swedish.once(STATUS_LABELS.get, "failed"))
        dutch = Formats()
        assert dutch.datetime(SPRING_AFTER) == "29-03-2026, 03:30" and number_filter(1234567) == "1.234.567"
        assert dutch.number(10) == "10" and dutch.number(10.5) == "10,5" and dutch.number(Decimal("10.50")) == "10,5"
        assert str(dutch.once(STATUS_LABELS.get, "failed")) == str(STATUS_LABELS["failed"]) != sv_failed
        assert dutch.datetime(AUTUMN_BEFORE) == "25-10-2026, 02:30 (GMT+02:00)"
        assert dutch.datetime(None) == dutch.date(None) == dutch.number(None) == ""


@pytest.mark.parametrize("locale", ["en", "nl", "sv", "da"])
def test_date_times_kept_per_process_are_the_text_babel_writes(app, locale):
    """The page formats keep a date-time's text per process by the local day and minute when the style
    shows no seconds (``short``), and by the exact time when it does (``medium``): every text is still
    Babel's own, in both halves of the doubled autumn hour and in a time zone that is not the
    organisation's."""
    from flask_babel import format_datetime
    from portal.i18n import Formats
    times = [datetime(2026, 3, 29, 1, 30, 5), datetime(2026, 3, 29, 1, 30, 59), datetime(2026, 10, 25, 0, 30, 1),
             datetime(2026, 10, 25, 1, 30, 1), datetime(2026, 12, 31, 23, 59, 59)]
    with app.test_request_context("/", headers={"Accept-Language": locale}):
        for style in ("short", "medium", "short"):
            formats = Formats()
            for value in times:
                text = formats.datetime(value, style)
                assert text.split(" (GMT")[0] == format_datetime(value, style), (style, value)
        assert formats.datetime(times[0], "medium") != formats.datetime(times[1], "medium")
        assert formats.datetime(times[2]).endswith("(GMT+02:00)") and formats.datetime(times[3]).endswith("(GMT+01:00)")


def test_a_page_builds_a_link_once_and_puts_each_id_in(app):
    from flask import url_for
    from portal.i18n import Formats
    with app.test_request_context("/"):
        formats = Formats()
        for run_id in (1, 7, 100002, 918273645500000):
            assert formats.path("runs.run", run_id=run_id) == url_for("runs.run", run_id=run_id)
        assert formats.path("runs.download", run_id=3, file_id=12) == url_for("runs.download", run_id=3, file_id=12)
