"""Languages, time zone and the locale-aware formatting filters.

Locale: the user's setting, then the session, then ``Accept-Language``, then English. English is
formatted as ``PORTAL_ENGLISH_LOCALE`` (British English unless configured otherwise). Dates and times
are stored in UTC and shown in the organisation's time zone (``PORTAL_TIMEZONE``), in one style
(``short``) on every page.
"""
import re
from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request, session, url_for
from babel import dates as babel_dates, numbers as babel_numbers
from babel.dates import get_timezone_gmt
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_timezone
from flask_babel.speaklater import LazyString
from markupsafe import Markup
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
    return _zone(current_app.config["PORTAL_TIMEZONE"])


def _aware(value):
    # The database hands back naive datetimes; every stored time is UTC.
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


DATE_STYLE = "short"  # one style on every page
STYLES = ("short", "medium", "long", "full")


@lru_cache(maxsize=64)
def _patterns(locale, style):
    """A locale's date, time and date-time patterns of one style, and its number pattern, looked up once
    per process. Babel (through flask_babel) looks them up in the locale data again for every value; a
    page of the overview formats some 250 dates and numbers. The formatting itself is Babel's, so the
    text is exactly what ``format_datetime`` / ``format_date`` / ``format_decimal`` give."""
    return (babel_dates.parse_pattern(babel_dates.get_date_format(style, locale)),
            babel_dates.parse_pattern(babel_dates.get_time_format(style, locale)),
            babel_dates.get_datetime_format(style, locale).replace("'", ""),
            babel_numbers.parse_pattern(locale.decimal_formats[None]))


def _join(locale, fmt, local):
    """``local`` (in the zone it is shown in) as Babel's ``format_datetime`` writes it in ``fmt``."""
    date_pattern, time_pattern, joined, _number = _patterns(locale, fmt)
    return (joined.replace("{0}", babel_dates.format_time(local, time_pattern, locale=locale))
            .replace("{1}", babel_dates.format_date(local, date_pattern, locale=locale)))


# Time fields that depend on the hour and minute only (hour, am/pm, day period, minute).
_HOUR_MINUTE_FIELDS = set("HhKkmaB")


_MINUTE_IS_ENOUGH = {}
_TEXTS = {}
_PATH_MARK = 918_273_645_500_000   # a number no real id in a URL is


def _minute_is_enough(locale, fmt):
    """Whether the locale's time pattern of ``fmt`` writes nothing finer than the minute (``short``:
    "HH:mm" in every language we have), so that one text serves every time within that minute."""
    fields = {field[0] for field in re.findall(r"%\((\w+)\)s", _patterns(locale, fmt)[1].format)}
    return fields <= _HOUR_MINUTE_FIELDS


def _datetime_text(locale, locale_key, fmt, local):
    """The text of ``_join``, kept per process by what it shows (the local day and minute, or the exact
    time when the pattern shows seconds): a year of runs in one language is some 500,000 minutes at
    most, and a page of the overview repeats none of them, so the texts are kept across requests
    (Babel's formatting of 100 date-times was a third of the overview's rendering). ``locale_key`` is
    the locale's identifier (hashing and comparing Babel's ``Locale`` costs more than formatting)."""
    exact = _MINUTE_IS_ENOUGH.get((locale_key, fmt))
    if exact is None:
        exact = _MINUTE_IS_ENOUGH[(locale_key, fmt)] = not _minute_is_enough(locale, fmt)
    key = (locale_key, fmt, local.replace(tzinfo=None) if exact else local.replace(tzinfo=None, second=0, microsecond=0))
    text = _TEXTS.get(key)
    if text is None:
        if len(_TEXTS) > 100_000:
            _TEXTS.clear()
        text = _TEXTS[key] = _join(locale, fmt, local)
    return text


@lru_cache(maxsize=16)
def _zone(name):
    return ZoneInfo(name)


def _local(value, tz):
    """``value`` (aware) in the request's time zone, as Babel converts it (pytz needs ``normalize``)."""
    local = value.astimezone(tz)
    return tz.normalize(local) if hasattr(tz, "normalize") else local


class Formats:
    """The request's locale and time zones, looked up once, for formatting many values: a page of the
    overview formats some 250 dates and numbers, and each lookup through flask_babel (``get_locale``,
    ``get_timezone``) goes through ``g`` several times. The filters below make one per value; a page's
    rows take one per page (``formats()`` in a template) — the text is the same either way.

    ``once(fn, *args)`` keeps what ``fn(*args)`` gave for the rest of the page (a macro's output, a
    label): the same badge or label rendered 50 times costs one rendering."""

    def __init__(self):
        self.locale, self.tz = get_locale(), get_timezone()
        self.zone = org_timezone()
        # The request's zone is the organisation's (``select_timezone``): then one conversion serves both
        # the text and the doubled-hour check.
        self.same_zone = str(self.tz) == str(self.zone)
        self.locale_key = str(self.locale)
        self._once = {}

    def datetime(self, value, fmt=DATE_STYLE, offset=True):
        """``offset``: in the hour that happens twice, say which one ("(GMT+02:00)") — off where the text
        names the zone and its offset itself."""
        if value is None:
            return ""
        if not isinstance(value, datetime):
            return self.date(value, fmt)
        value = _aware(value)
        locale, tz = self.locale, self.tz
        local = value.astimezone(self.zone)
        if fmt in STYLES and locale is not None and tz is not None:
            if self.same_zone:
                text = _datetime_text(locale, self.locale_key, fmt, local)
            else:
                text = _join(locale, fmt, _local(value, tz))
        else:
            text = format_datetime(value, fmt)
        if offset and local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
            # The hour that happens twice when summer time ends: say which one.
            text += " (" + get_timezone_gmt(local, "long", locale=locale) + ")"
        return text

    def date(self, value, fmt=DATE_STYLE):
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = _aware(value).astimezone(self.zone).date()
        if fmt in STYLES and self.locale is not None:
            key = ("date", value, fmt)   # the days of a page's time windows repeat: each written once
            if key not in self._once:
                self._once[key] = babel_dates.format_date(value, _patterns(self.locale, fmt)[0],
                                                          locale=self.locale)
            return self._once[key]
        return format_date(value, fmt)

    def number(self, value, fmt=None):
        if value is None:
            return ""
        if fmt or self.locale is None:
            return format_decimal(value, fmt) if fmt else format_decimal(value)
        key = ("number", type(value), value)   # 10 and 10.0 are equal keys but not the same text
        if key not in self._once:
            self._once[key] = babel_numbers.format_decimal(value, _patterns(self.locale, DATE_STYLE)[3],
                                                           locale=self.locale)
        return self._once[key]

    def path(self, endpoint, **ids):
        """``url_for(endpoint, **ids)`` for whole-number ids, the URL built once per page and endpoint and
        the ids put in (a page's 50 rows link to the same endpoint; each ``url_for`` matches the rules
        again)."""
        key = ("path", endpoint, tuple(sorted(ids)))
        template = self._once.get(key)
        if template is None:
            marks = {name: str(_PATH_MARK + i) for i, name in enumerate(sorted(ids))}
            template = url_for(endpoint, **marks).replace("{", "{{").replace("}", "}}")
            for name, mark in marks.items():
                template = template.replace(mark, "{" + name + "}")
            self._once[key] = template
        return template.format_map({name: int(value) for name, value in ids.items()})

    def once(self, fn, *args):
        key = (fn, args)
        if key not in self._once:
            value = fn(*args)
            # A lazy label is translated when it is written out (``__html__``): translate it once here.
            self._once[key] = Markup(value.__html__()) if isinstance(value, LazyString) else value
        return self._once[key]


def wall_clock_text(local, fmt=DATE_STYLE):
    """A wall-clock time of the organisation's zone (naive, or its text "YYYY-MM-DD HH:MM") as the user's
    locale writes it, without converting it: a time someone typed, which may not exist in the zone (the
    skipped hour) or exist twice. Text that is no such time is returned as it is."""
    if isinstance(local, str):
        try:
            local = datetime.fromisoformat(local.strip())
        except ValueError:
            return local
    locale = get_locale()
    if locale is None:
        return local.strftime("%Y-%m-%d %H:%M")
    return _join(locale, fmt, local.replace(tzinfo=None))


def time_range_text(starts, ends, fmt=DATE_STYLE):
    """Two stored (UTC) times in the organisation's zone: "02-10-2026, 08:00–12:00" (the end's date too
    when it is another day)."""
    f = Formats()
    start_local, end_local = _aware(starts).astimezone(f.zone), _aware(ends).astimezone(f.zone)
    if start_local.date() != end_local.date() or f.locale is None:
        return f"{f.datetime(starts, fmt)}–{f.datetime(ends, fmt)}"
    end_text = babel_dates.format_time(end_local, _patterns(f.locale, fmt)[1], locale=f.locale)
    return f"{f.datetime(starts, fmt)}–{end_text}"


def datetime_filter(value, fmt=DATE_STYLE, offset=True):
    return Formats().datetime(value, fmt, offset) if value is not None else ""


def date_filter(value, fmt=DATE_STYLE):
    return Formats().date(value, fmt) if value is not None else ""


def number_filter(value, fmt=None):
    return Formats().number(value, fmt) if value is not None else ""


def init_app(app, babel):
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["datetime"] = datetime_filter
    app.jinja_env.filters["date"] = date_filter
    app.jinja_env.filters["number"] = number_filter
    app.jinja_env.globals["formats"] = Formats

    @app.context_processor
    def _languages():
        return {"languages": app.config["LANGUAGES"], "current_locale": language_code(),
                "html_lang": str(get_locale()).replace("_", "-"), "org_timezone": app.config["PORTAL_TIMEZONE"]}


__all__ = ["wall_clock_text", "time_range_text", "select_locale", "language_code", "babel_locale", "org_timezone", "datetime_filter", "date_filter", "number_filter", "date"]
