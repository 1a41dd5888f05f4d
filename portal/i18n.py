"""Languages, time zone and the locale-aware formatting filters.

Locale: the user's setting, then the session, then ``Accept-Language``, then English. English is
formatted as ``PORTAL_ENGLISH_LOCALE`` (British English unless configured otherwise). Dates and times
are stored in UTC and shown in the organisation's time zone (``PORTAL_TIMEZONE``), in one style
(``short``) on every page.
"""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request, session
from babel.dates import get_timezone_gmt
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user


def language_code():
    """The chosen language, one of ``LANGUAGES``' keys (what the switcher and the user's setting hold)."""
    languages = current_app.config["LANGUAGES"]
    if has_request_context():
        if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
            return current_user.locale
        if session.get("locale") in languages:
            return session["locale"]
        return request.accept_languages.best_match(list(languages)) or "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def babel_locale(code):
    """The Babel locale a language is formatted in: English as PORTAL_ENGLISH_LOCALE."""
    if code == "en":
        return current_app.config.get("PORTAL_ENGLISH_LOCALE") or "en"
    return code


def select_locale():
    return babel_locale(language_code())


def select_timezone():
    return current_app.config["PORTAL_TIMEZONE"]


def org_timezone():
    return ZoneInfo(current_app.config["PORTAL_TIMEZONE"])


def _aware(value):
    # The database hands back naive datetimes; every stored time is UTC.
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


DATE_STYLE = "short"  # one style on every page


def datetime_filter(value, fmt=DATE_STYLE):
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _aware(value)
        text = format_datetime(value, fmt)
        local = value.astimezone(org_timezone())
        if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
            # The hour that happens twice when summer time ends: say which one.
            text += " (" + get_timezone_gmt(local, "long", locale=get_locale()) + ")"
        return text
    return format_date(value, fmt)


def date_filter(value, fmt=DATE_STYLE):
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _aware(value).astimezone(org_timezone()).date()
    return format_date(value, fmt)


def number_filter(value, fmt=None):
    if value is None:
        return ""
    return format_decimal(value, fmt) if fmt else format_decimal(value)


def init_app(app, babel):
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["datetime"] = datetime_filter
    app.jinja_env.filters["date"] = date_filter
    app.jinja_env.filters["number"] = number_filter

    @app.context_processor
    def _languages():
        return {"languages": app.config["LANGUAGES"], "current_locale": language_code(),
                "html_lang": str(get_locale()).replace("_", "-"), "org_timezone": app.config["PORTAL_TIMEZONE"]}


__all__ = ["select_locale", "language_code", "babel_locale", "org_timezone", "datetime_filter", "date_filter", "number_filter", "date"]
