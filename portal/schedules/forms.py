"""The schedule form: frequency, day, time of day, time window, test or production, the profile's own
parameters (booking date rule, description, debtor selection for invoices)."""
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from ..forms import PortalForm
from ..runs.forms import MODE_CHOICES
from .labels import BOOKING_DATE_RULE_LABELS, FREQUENCY_LABELS, WINDOW_LABELS, weekday_names
from .timetable import LAST_DAY


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
    time = StringField(_l("Time of day"), default="06:00", validators=[
        InputRequired(_l("Enter a time of day between 00:00 and 23:59.")),
        Regexp(r"^([01]?\d|2[0-3]):[0-5]\d$", message=_l("Enter a time of day between 00:00 and 23:59."))])
    window = SelectField(_l("Time window"), choices=list(WINDOW_LABELS.items()), default="previous_month")
    mode = RadioField(_l("Test / Production"), choices=MODE_CHOICES, default="test")
    booking_date_rule = SelectField(_l("Booking date"), choices=list(BOOKING_DATE_RULE_LABELS.items()),
                                    default="window_end")
    description = StringField(_l("Description"), validators=[Optional(), Length(
        max=200, message=_l("A description can have at most %(max)d characters."))])
    debtors = StringField(_l("Debtor selection"), validators=[Optional(), Length(max=2000)])

    def fill_choices(self):
        self.weekday.choices = weekday_names()
        self.day.choices = [(d, str(d)) for d in range(1, 32)] + [(LAST_DAY, _l("Last day of the month"))]
        return self

    def load(self, schedule):
        self.frequency.data = schedule.frequency
        self.weekday.data = schedule.weekday if schedule.weekday is not None else 0
        self.day.data = schedule.day if schedule.day is not None else 1
        self.time.data = f"{schedule.hour:02d}:{schedule.minute:02d}"
        self.window.data, self.mode.data = schedule.window, schedule.mode
        params = schedule.params or {}
        self.booking_date_rule.data = params.get("booking_date_rule", "window_end")
        self.description.data = params.get("description", "")
        self.debtors.data = ", ".join(params.get("debtor_numbers") or [])

    def values(self):
        hour, minute = (int(part) for part in self.time.data.split(":"))
        return {"frequency": self.frequency.data, "hour": hour, "minute": minute, "weekday": self.weekday.data,
                "day": self.day.data, "window": self.window.data, "mode": self.mode.data,
                "params": {"booking_date_rule": self.booking_date_rule.data,
                           "description": self.description.data or "",
                           "debtor_numbers": [n.strip() for n in (self.debtors.data or "").replace(";", ",")
                                              .split(",") if n.strip()]}}
