"""Where run files live: ``PORTAL_STORAGE_DIR/<run id>/<name>``, names that say what a file holds.

A name says the profile, P or T (production or test), the time window and the version (UTC):
``payroll-journals-north_P_20260101-20260131_20261121T151400Z.csv``. File writers write to a hidden
temporary name in the same directory and rename it into place when they close (see ``formats``).
"""
import re
import unicodedata
from datetime import date, datetime, timezone
from pathlib import Path

# Letters that Unicode does not decompose into an ASCII base letter.
_TRANSLITERATE = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d", "Đ": "D",
                                "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "œ": "oe", "Œ": "OE"})
_MODES = {"production": "P", "test": "T", "p": "P", "t": "T"}
MAX_SLUG = 60


def run_directory(storage_root, run_id):
    """The directory of a run's files, created if missing."""
    name = str(run_id)
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"unsafe run id {run_id!r}")
    directory = Path(storage_root) / name
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def slug(text, fallback="export"):
    """A safe ASCII slug: lower case letters, digits and single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", str(text or "").translate(_TRANSLITERATE))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii").lower()
    result = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:MAX_SLUG].rstrip("-")
    return result or fallback


def mode_letter(mode):
    """P for production, T for test (accepts the words, the letters, or an enum with such a value)."""
    value = getattr(mode, "value", mode)
    try:
        return _MODES[str(value).lower()]
    except KeyError:
        raise ValueError(f"unknown run mode {mode!r}") from None


def _day(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def version_stamp(version):
    """``20261121T151400Z``: a naive datetime is taken as UTC (the portal stores UTC)."""
    if version.tzinfo is not None:
        version = version.astimezone(timezone.utc)
    return version.strftime("%Y%m%dT%H%M%SZ")


def file_name(profile_name, mode, window_start, window_end, version, extension):
    extension = str(extension).lstrip(".").lower()
    if not re.fullmatch(r"[a-z0-9]{1,10}", extension):
        raise ValueError(f"unsafe file extension {extension!r}")
    window = f"{_day(window_start):%Y%m%d}-{_day(window_end):%Y%m%d}"
    return f"{slug(profile_name)}_{mode_letter(mode)}_{window}_{version_stamp(version)}.{extension}"


def file_path(storage_root, run_id, name):
    """The full path of a run's file (its directory created)."""
    if Path(name).name != name or name.startswith("."):
        raise ValueError(f"unsafe file name {name!r}")
    return run_directory(storage_root, run_id) / name
