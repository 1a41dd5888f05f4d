"""The Start export form (seed 001): time window, test/production, run at, and invoice-only fields."""
from flask_babel import lazy_gettext as _l
from wtforms import DateField, DateTimeLocalField, HiddenField, RadioField, StringField
from wtforms.validators import Optional

from ..exporting import windows
from ..forms import MaxLength, PortalForm, new_form_token, refuse_foreign_token
from ..validation import Bounded


MODE_CHOICES = [("test", _l("Test export")), ("production", _l("Production export"))]
DEBTOR_SCOPE_CHOICES = [("all", _l("All debtors")), ("selected", _l("Only the debtors I select"))]


# The engine's error codes → the Start export form's field they are about.
ERROR_FIELDS = {
    "run_at_nonexistent": "run_at", "run_at_past": "run_at",
    "window_reversed": "window_end", "window_too_long": "window_end", "window_not_allowed": "window_end",
    "bad_date": "window_end",
    "unknown_debtors": "debtor_scope", "ambiguous_debtors": "debtor_scope",
    "unknown_mode": "mode", "production_run_active": "mode", "description_too_long": "description",
}


def field_for_error(error):
    code = getattr(error, "code", "")
    if code in ERROR_FIELDS:
        return ERROR_FIELDS[code]
    if code.startswith("window_"):
        return "window_end"
    return None


# A debtor search is a number or part of a name: a longer text is refused, never searched for.
DEBTOR_QUERY_MAX = 100


class StartExportForm(PortalForm):
    preset = RadioField(_l("Time window"), choices=windows.start_choices(), default="previous_month")
    window_start = DateField(_l("From"), validators=[Optional(), Bounded()])
    window_end = DateField(_l("To"), validators=[Optional(), Bounded()])
    mode = RadioField(_l("Test / Production"), choices=MODE_CHOICES, default="test")
    run_at = DateTimeLocalField(_l("Run at"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                validators=[Optional(), Bounded()])
    booking_date = DateField(_l("Booking date"), validators=[Optional(), Bounded()])
    description = StringField(_l("Description"), validators=[Optional(), MaxLength(200)])
    debtor_scope = RadioField(_l("Debtor selection"), choices=DEBTOR_SCOPE_CHOICES, default="all")
    debtor_query = StringField(_l("Search debtors"), validators=[Optional(), MaxLength(DEBTOR_QUERY_MAX)])
    # A one-time token: the same form sent twice (double click, resend) creates one run.
    form_token = HiddenField()
    # Set by the production confirmation step.
    confirmed = HiddenField()

    def prepare(self, profile):
        """Defaults for a new form: the profile's window, a fresh one-time token."""
        if not self.is_submitted():
            preset = profile.default_window
            if preset not in windows.START_PRESETS:  # e.g. "last 7 days": its dates, as custom dates
                preset = windows.CUSTOM
                self.window_start.data, self.window_end.data = windows.default_window(profile)
            self.preset.data = preset
            self.form_token.data = new_form_token()
        return self

    def window(self):
        """The chosen (start, end) or None when the dates are missing; errors go on the fields."""
        if self.preset.data and self.preset.data != windows.CUSTOM:
            return windows.window(self.preset.data)
        return self.window_start.data, self.window_end.data

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        # Only a page we did not send has a foreign token: start again from a fresh form.
        ok = refuse_foreign_token(self, _l("This form is not valid any more. Close it and open Start export "
                                           "again.")) and ok
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


class ConfirmForm(PortalForm):
    """A bare form for POST actions (cancel, roll back): CSRF only, plus a typed confirmation."""
    confirmation = StringField(_l("Confirmation"), validators=[Optional()])
