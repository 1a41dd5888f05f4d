"""Time windows (seed 001: *Tijdvenster*): one vocabulary for a profile's default window and the Start
export form's presets, computed in the organisation's time zone.

A window is a pair of dates, both inclusive, relative to "today" where the organisation is (not where
the server is). Every name means one window: ``previous_month`` is last month, ``current_month`` this
month so far, ``this_month`` the whole of this month; ``last_<n>_days`` the n days before today.
"""
from datetime import date, datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l

from ..i18n import org_timezone

LABELS = {
    "previous_month": _l("Last month"),
    "current_month": _l("This month so far"),
    "this_month": _l("This month"),
    "previous_week": _l("Last week"),
    "yesterday": _l("Yesterday"),
    "today": _l("Today"),
    "this_quarter": _l("This quarter"),
    "last_quarter": _l("Last quarter"),
    "this_year": _l("This year"),
    "last_year": _l("Last year"),
    "last_7_days": _l("The last 7 days"),
    "last_30_days": _l("The last 30 days"),
}
# What a profile can propose for its new runs (any ``last_<n>_days`` is accepted too).
PROFILE_DEFAULTS = ("previous_month", "current_month", "previous_week", "yesterday", "today",
                    "last_7_days", "last_30_days")
# The Start export form's presets, and "custom": dates typed in.
START_PRESETS = ("this_month", "previous_month", "this_quarter", "last_quarter", "this_year", "last_year")
CUSTOM = "custom"
CUSTOM_LABEL = _l("Custom dates")


def org_today():
    return datetime.now(timezone.utc).astimezone(org_timezone()).date()


def _days(name):
    """n of ``last_<n>_days``, else None."""
    parts = (name or "").split("_")
    if len(parts) == 3 and parts[0] == "last" and parts[1].isdigit() and parts[2] == "days":
        return int(parts[1])
    return None


def is_profile_default(name):
    return name in PROFILE_DEFAULTS or _days(name) is not None


def _month_end(first):
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return following - timedelta(days=1)


def window(name, today=None):
    """The (first day, last day) of the window ``name`` around ``today``; None for ``custom`` or an
    unknown name."""
    today = today or org_today()
    quarter_first_month = 3 * ((today.month - 1) // 3) + 1
    if name == "previous_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if name == "current_month":
        return today.replace(day=1), today
    if name == "this_month":
        start = today.replace(day=1)
        return start, _month_end(start)
    if name == "previous_week":
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if name == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if name == "today":
        return today, today
    if name == "this_quarter":
        start = date(today.year, quarter_first_month, 1)
        return start, _month_end(date(today.year, quarter_first_month + 2, 1))
    if name == "last_quarter":
        end = date(today.year, quarter_first_month, 1) - timedelta(days=1)
        return date(end.year, end.month - 2, 1), end
    if name == "this_year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if name == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    days = _days(name)
    if days is not None:
        return today - timedelta(days=days), today - timedelta(days=1)
    return None


def default_window(profile, today=None):
    """The window a new run of the profile proposes (last month when the profile's is unknown)."""
    return window(profile.default_window, today) or window("previous_month", today)


def profile_choices():
    return [(name, LABELS[name]) for name in PROFILE_DEFAULTS]


def start_choices():
    return [(name, LABELS[name]) for name in START_PRESETS] + [(CUSTOM, CUSTOM_LABEL)]
