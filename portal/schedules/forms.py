"""The schedule form: frequency, day, time of day, time window, test or production, the profile's own
parameters (booking date rule, description, debtor selection for invoices)."""
import re

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Optional, Regexp, ValidationError

from ..forms import MaxLength, PortalForm, new_form_token, refuse_foreign_token
from ..runs.forms import MODE_CHOICES
from .labels import BOOKING_DATE_RULE_LABELS, FREQUENCY_LABELS, WINDOW_LABELS, time_of_day, weekday_names
from .timetable import LAST_DAY


# A time of day as the pages write it: "06:00", or Danish "06.00" (either is taken in every language).
TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


def time_text(hour, minute):
    """The field's value: the time as the user's language writes it on the pages ("06.00" in Danish),
    when that is a form the field takes; "HH:MM" otherwise (a 12-hour English, "6:00 AM")."""
    text = time_of_day(hour, minute)
    return text if TIME_OF_DAY.match(text) else f"{hour:02d}:{minute:02d}"


def _default_time():
    return time_text(6, 0)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def debtor_references(text):
    """The debtor field's references: separated by commas (or semicolons), spaces around them dropped."""
    return [part.strip() for part in (text or "").replace(";", ",").split(",") if part.strip()]


def _some_debtor(form, field):
    """A debtor field with separators but no debtor (``;;,,  ,``) is not "all debtors": that is an empty field."""
    if (field.data or "").strip() and not debtor_references(field.data):
        raise ValidationError(_l("Enter debtor numbers separated by commas, or leave the field empty for all "
                                 "debtors."))


def _number(value):
    """A choice's number; anything else becomes a value no choice has ("Not a valid choice", translated)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


class ScheduleForm(PortalForm):
    frequency = RadioField(_l("How often"), choices=list(FREQUENCY_LABELS.items()), default="monthly",
                           validators=[InputRequired(_l("Choose how often the export runs."))])
    weekday = SelectField(_l("Day of the week"), coerce=_number, validators=[Optional()])
    day = SelectField(_l("Day of the month"), coerce=_number, default=1, validators=[Optional()])
    time = StringField(_l("Time of day"), default=_default_time, filters=[_strip], validators=[
        InputRequired(_l("Enter a time of day between 00:00 and 23:59.")),
        Regexp(TIME_OF_DAY, message=_l("Enter a time of day between 00:00 and 23:59."))])
    window = SelectField(_l("Time window"), choices=list(WINDOW_LABELS.items()), default="previous_month")
    mode = RadioField(_l("Test / Production"), choices=MODE_CHOICES, default="test")
    booking_date_rule = SelectField(_l("Booking date"), choices=list(BOOKING_DATE_RULE_LABELS.items()),
                                    default="window_end")
    description = StringField(_l("Description"), validators=[Optional(), MaxLength(200)])
    debtors = StringField(_l("Debtor selection"), validators=[Optional(), MaxLength(2000), _some_debtor])
    # A one-time token (New schedule): the same form sent twice (a resend, a double click) creates one schedule.
    form_token = HiddenField()

    def prepare(self):
        """A new form's fresh one-time token (a form sent back keeps the one it had)."""
        if not self.is_submitted():
            self.form_token.data = new_form_token()
        return self

    def token(self):
        """The token sent, or None; a token no page of ours has is refused (``validate``)."""
        return (self.form_token.data or "").strip() or None

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return refuse_foreign_token(self, _l("This form is not valid any more. Open New schedule again.")) and ok

    def fill_choices(self):
        self.weekday.choices = weekday_names()
        self.day.choices = [(d, str(d)) for d in range(1, 32)] + [(LAST_DAY, _l("Last day of the month"))]
        return self

    def load(self, schedule, debtors=()):
        """The schedule's values; ``debtors``: its debtor selection as the field writes it
        (``services.debtor_texts``)."""
        self.frequency.data = schedule.frequency
        self.weekday.data = schedule.weekday if schedule.weekday is not None else 0
        self.day.data = schedule.day if schedule.day is not None else 1
        self.time.data = time_text(schedule.hour, schedule.minute)
        self.window.data, self.mode.data = schedule.window, schedule.mode
        params = schedule.params or {}
        self.booking_date_rule.data = params.get("booking_date_rule", "window_end")
        self.description.data = params.get("description", "")
        self.debtors.data = ", ".join(debtors)

    def values(self):
        hour, minute = (int(part) for part in TIME_OF_DAY.match(self.time.data).groups())
        return {"frequency": self.frequency.data, "hour": hour, "minute": minute, "weekday": self.weekday.data,
                "day": self.day.data, "window": self.window.data, "mode": self.mode.data,
                "params": {"booking_date_rule": self.booking_date_rule.data,
                           "description": self.description.data or "",
                           "debtors": debtor_references(self.debtors.data)}}
