"""Run at: a wall-clock time in the organisation's time zone, stored in UTC (DESIGN §5).

A local time in the skipped hour of a daylight-saving change does not exist and is refused; a time in
the repeated hour is ambiguous: the first (summer-time) offset is taken and the caller is told which.
"""
from dataclasses import dataclass
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l

from ..i18n import wall_clock_text
from .errors import NonexistentTime


@dataclass
class ResolvedTime:
    utc: datetime            # naive UTC, as stored
    offset: str              # e.g. "+02:00"
    ambiguous: bool


def _offset_text(aware):
    seconds = int(aware.utcoffset().total_seconds())
    sign = "+" if seconds >= 0 else "-"
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def resolve_local(local, tz):
    """``local`` is a naive wall-clock time in ``tz``. Returns ``ResolvedTime`` or raises NonexistentTime (an
    ExportError)."""
    if local.tzinfo is not None:
        local = local.astimezone(tz).replace(tzinfo=None)
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    # A time that does not exist does not survive the round trip through UTC.
    back = first.astimezone(timezone.utc).astimezone(tz)
    if back.replace(tzinfo=None) != local:
        raise NonexistentTime(local, tz)
    ambiguous = first.utcoffset() != second.utcoffset()
    return ResolvedTime(utc=first.astimezone(timezone.utc).replace(tzinfo=None), offset=_offset_text(first),
                        ambiguous=ambiguous)


def ambiguity_notice(local_text, offset, zone):
    """The message shown when an ambiguous time was resolved. ``local_text``: the wall-clock time, as
    stored ("YYYY-MM-DD HH:MM") or a datetime; shown in the user's locale."""
    return _l("%(time)s occurs twice in %(zone)s (the clocks go back that night); the export is scheduled at "
              "the first one, UTC%(offset)s.") % {"time": wall_clock_text(local_text), "zone": zone,
                                                  "offset": offset}
