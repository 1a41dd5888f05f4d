"""The Start export form (seed 001): time window, test/production, run at, and invoice-only fields."""
import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, HiddenField, RadioField, StringField
from wtforms.validators import Length, Optional

from ..exporting.services import default_window
from .windows import preset_choices, preset_window

MODE_CHOICES = [("test", _l("Test export")), ("production", _l("Production export"))]
DEBTOR_SCOPE_CHOICES = [("all", _l("All debtors")), ("selected", _l("Only the debtors I select"))]

# The profile's default window (engine names) → the form's preset.
DEFAULT_WINDOW_PRESETS = {"previous_month": "last_month", "current_month": "this_month",
                          "this_month": "this_month", "last_month": "last_month",
                          "this_quarter": "this_quarter", "last_quarter": "last_quarter",
                          "this_year": "this_year", "last_year": "last_year"}


class StartExportForm(FlaskForm):
    preset = RadioField(_l("Time window"), choices=preset_choices(), default="last_month")
    window_start = DateField(_l("From"), validators=[Optional()])
    window_end = DateField(_l("To"), validators=[Optional()])
    mode = RadioField(_l("Test / Production"), choices=MODE_CHOICES, default="test")
    run_at = DateTimeLocalField(_l("Run at"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                validators=[Optional()])
    booking_date = DateField(_l("Booking date"), validators=[Optional()])
    description = StringField(_l("Description"), validators=[Optional(), Length(
        max=200, message=_l("A description can have at most %(max)d characters."))])
    debtor_scope = RadioField(_l("Debtor selection"), choices=DEBTOR_SCOPE_CHOICES, default="all")
    debtor_query = StringField(_l("Search debtors"), validators=[Optional()])
    # A one-time token: the same form sent twice (double click, resend) creates one run.
    form_token = HiddenField()
    # Set by the production confirmation step.
    confirmed = HiddenField()

    def prepare(self, profile):
        """Defaults for a new form: the profile's window, a fresh one-time token."""
        if not self.is_submitted():
            preset = DEFAULT_WINDOW_PRESETS.get(profile.default_window)
            if preset is None:  # e.g. "last 7 days": the engine's dates, as custom dates
                preset = "custom"
                self.window_start.data, self.window_end.data = default_window(profile)
            self.preset.data = preset
            self.form_token.data = uuid.uuid4().hex
        return self

    def window(self):
        """The chosen (start, end) or None when the dates are missing; errors go on the fields."""
        if self.preset.data and self.preset.data != "custom":
            return preset_window(self.preset.data)
        return self.window_start.data, self.window_end.data

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.preset.data == "custom":
            if not self.window_start.data and not self.window_start.errors:
                self.window_start.errors.append(_l("Enter the first day of the time window."))
                ok = False
            if not self.window_end.data and not self.window_end.errors:
                self.window_end.errors.append(_l("Enter the last day of the time window."))
                ok = False
            if (self.window_start.data and self.window_end.data
                    and self.window_end.data < self.window_start.data):
                self.window_end.errors.append(_l("The end of the time window is before its start."))
                ok = False
        return ok


class ConfirmForm(FlaskForm):
    """A bare form for POST actions (cancel, roll back): CSRF only, plus a typed confirmation."""
    confirmation = StringField(_l("Confirmation"), validators=[Optional()])
