"""Time-window presets (seed 001: *Tijdvenster*), computed in the organisation's time zone.

A window is a pair of dates, both inclusive. The presets are relative to "today" where the
organisation is, not where the server is.
"""
from datetime import date, datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l

from ..i18n import org_timezone

PRESETS = {
    "this_month": _l("This month"),
    "last_month": _l("Last month"),
    "this_quarter": _l("This quarter"),
    "last_quarter": _l("Last quarter"),
    "this_year": _l("This year"),
    "last_year": _l("Last year"),
    "custom": _l("Custom dates"),
}


def org_today():
    return datetime.now(timezone.utc).astimezone(org_timezone()).date()


def _month_end(first):
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return following - timedelta(days=1)


def preset_window(preset, today=None):
    """The (start, end) dates of ``preset`` around ``today``; None for ``custom`` or an unknown name."""
    today = today or org_today()
    if preset == "this_month":
        start = today.replace(day=1)
        return start, _month_end(start)
    if preset == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    quarter_first_month = 3 * ((today.month - 1) // 3) + 1
    if preset == "this_quarter":
        start = date(today.year, quarter_first_month, 1)
        return start, _month_end(date(today.year, quarter_first_month + 2, 1))
    if preset == "last_quarter":
        end = date(today.year, quarter_first_month, 1) - timedelta(days=1)
        return date(end.year, end.month - 2, 1), end
    if preset == "this_year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if preset == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    return None


def preset_choices():
    return list(PRESETS.items())
