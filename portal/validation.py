"""Input rules, in one place: ids, numbers and dates are bounded; text carries no control characters.

- **Ids** in URLs go through the ``id`` converter (``/runs/<id:run_id>``): ASCII digits within the
  database's integer range, else 404. Ids, page numbers and other numbers in forms and query strings go
  through :func:`parse_id` / :func:`parse_int` (``None`` or the default when out of range, never an error).
- **Dates** (and date-times) are accepted only in the years 1900–2999: :func:`parse_date` for query
  strings, :class:`Bounded` for WTForms date fields (``Run at`` in the year 9999 is refused with a
  message, not an overflow).
- **Text**: a request whose query string, form or JSON body carries a control character (NUL and the
  other C0 characters except tab, line feed and carriage return) is refused before any view runs, with a
  400 page in the user's language. PostgreSQL cannot store NUL, and no field of the portal needs them.
"""
import re
from datetime import date, datetime

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter, ValidationError
from wtforms.validators import StopValidation

# PostgreSQL's ``integer`` (the type of every id column); SQLite would take more, but the same rule
# everywhere keeps the answers the same on both databases.
MAX_ID = 2**31 - 1
MIN_YEAR, MAX_YEAR = 1900, 2999

_DIGITS = re.compile(r"[0-9]{1,18}")
# C0 controls except tab, LF and CR; DEL. (Unicode's other "controls" are legitimate text.)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_int(value, default=None, minimum=None, maximum=MAX_ID):
    """``value`` (a string from a form or query) as an int within bounds, else ``default``.

    Only ASCII digits (with an optional leading minus) count: ``²`` or ``١`` are not numbers here,
    and a 5,000-digit string is not converted at all.
    """
    text = (value if isinstance(value, str) else str(value if value is not None else "")).strip()
    negative = text.startswith("-")
    if negative:
        text = text[1:]
    if not _DIGITS.fullmatch(text):
        return default
    number = -int(text) if negative else int(text)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        return default
    return number


def parse_id(value):
    """A database id (1 … 2³¹−1) from a form or query value, or None."""
    return parse_int(value, None, minimum=1, maximum=MAX_ID)


def coerce_id(value):
    """``coerce`` of a WTForms SelectField of ids: the id, or None (then ``DataRequired`` answers, in
    words); ``coerce=int`` would hand a 25-digit number to the database, which overflows."""
    return parse_id(value)


def parse_ids(values):
    """The valid ids among ``values`` (e.g. ``request.form.getlist("shown")``), in order, others dropped,
    each once: a form that repeats an id (``profiles=3&profiles=3``, or ``03``) names it once — acting on
    each value would process a profile twice."""
    return list(dict.fromkeys(number for number in (parse_id(v) for v in values) if number is not None))


def parse_page(value):
    """A page number: 1 when missing or odd (a page past the end shows the last one or none)."""
    return parse_int(value, 1, minimum=1, maximum=1_000_000)


def year_in_range(value):
    return value is None or MIN_YEAR <= value.year <= MAX_YEAR


def date_out_of_range_message():
    return _("Enter a date between the years %(first)s and %(last)s.", first=MIN_YEAR, last=MAX_YEAR)


def parse_date(value):
    """An ISO date (YYYY-MM-DD) within the years 1900–2999; raises ValueError with a user's message."""
    text = (value or "").strip()
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        raise ValueError(_("%(value)s is not a date (use YYYY-MM-DD).", value=text)) from None
    if not year_in_range(parsed):
        raise ValueError(date_out_of_range_message())
    return parsed


class Bounded:
    """WTForms validator for date and date-time fields: the years 1900–2999 only."""

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field):
        value = field.data
        if isinstance(value, (date, datetime)) and not year_in_range(value):
            raise StopValidation(self.message or date_out_of_range_message())


def has_control_characters(text):
    return bool(text) and _CONTROL.search(text) is not None


def strip_control_characters(text):
    return _CONTROL.sub("", text or "")


class IdConverter(BaseConverter):
    """``<id:name>``: a positive database id; anything else (too big, not ASCII digits) is a 404."""
    regex = r"[0-9]{1,18}"
    part_isolating = True

    def to_python(self, value):
        number = parse_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value):
        return str(int(value))


class ControlCharacters(BadRequest):
    description = _l("The text you sent contains a control character (such as a NUL byte) that cannot be "
                     "stored. Remove it and try again.")


def _json_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


def refuse_control_characters():
    """``before_request``: no control character in the path, query string, form fields or JSON body."""
    texts = [request.path]
    for key, values in request.args.lists():
        texts.append(key)
        texts.extend(values)
    if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
        if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            for key, values in request.form.lists():
                texts.append(key)
                texts.extend(values)
        elif request.is_json:
            texts.extend(_json_strings(request.get_json(silent=True)))
    if any(has_control_characters(text) for text in texts):
        raise ControlCharacters()


def init_app(app):
    from .web import _error_page
    app.url_map.converters["id"] = IdConverter
    app.before_request(refuse_control_characters)

    @app.errorhandler(ControlCharacters)
    def control_characters(error):
        message = str(error.description)
        if request.is_json:  # a machine client (the sandbox's API) gets JSON
            return {"message": message}, 400
        return _error_page(400, _("The text cannot be used"), message)
