"""The portal's base form: WTForms' own messages ("Not a valid choice.", "This field is required." …)
in the user's language, from the portal's catalogue.

Flask-WTF would take them from WTForms' bundled catalogues, which lack Danish altogether and have
Swedish only in part; the portal's catalogue has them in en, nl, sv and da, in its own words.
"""
import uuid

from flask_babel import format_number, get_translations, ngettext
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from werkzeug.exceptions import BadRequest
from wtforms.validators import StopValidation

# WTForms' messages that the portal's fields and validators can show (listed so that extraction finds them).
WTFORMS_MESSAGES = (
    _l("Not a valid choice."), _l("Invalid Choice: could not coerce."), _l("This field is required."),
    _l("Not a valid integer value."), _l("Not a valid decimal value."), _l("Not a valid float value."),
    _l("Not a valid date value."), _l("Not a valid datetime value."), _l("Not a valid time value."),
    _l("Invalid email address."), _l("Invalid input."),
    _l("Number must be at least %(min)s."), _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    lazy_ngettext("Field must be at least %(min)d character long.",
                  "Field must be at least %(min)d characters long.", 1),
    lazy_ngettext("Field cannot be longer than %(max)d character.",
                  "Field cannot be longer than %(max)d characters.", 1),
    lazy_ngettext("Field must be exactly %(max)d character long.",
                  "Field must be exactly %(max)d characters long.", 1),
    lazy_ngettext("'%(value)s' is not a valid choice for this field.",
                  "'%(value)s' are not valid choices for this field.", 1),
)


FORM_TOKEN_LENGTH = 80  # the columns that keep a form's one-time token (Run.idempotency_key, Schedule.form_token)


def new_form_token():
    """A fresh one-time token, for a form that must act once however often it is sent (Start export, New
    schedule)."""
    return uuid.uuid4().hex


def refuse_foreign_token(form, message):
    """False, with ``message`` among the form's errors, when ``form.form_token`` holds what no page of ours
    sends (too long, not hex digits and dashes); True otherwise (an empty token included)."""
    token = form.form_token.data or ""
    if len(token) > FORM_TOKEN_LENGTH or token and not token.replace("-", "").isalnum():
        form.form_errors.append(message)
        return False
    return True


def strip(value):
    """A text field's filter: the spaces around a pasted value are not part of it (an e-mail address)."""
    return value.strip() if isinstance(value, str) else value


def too_long_message(maximum, length):
    """The words for a text longer than its field takes, in the user's language."""
    return ngettext("Enter at most %(max)s character; this has %(length)s.",
                    "Enter at most %(max)s characters; this has %(length)s.", maximum,
                    max=format_number(maximum), length=format_number(length))


class MaxLength:
    """A text field's longest value: a longer one is refused at the field with the limit and its length
    (``message`` may name the field; it gets ``%(max)s`` and ``%(length)s``). Unlike WTForms' ``Length`` it
    writes no ``maxlength`` attribute: a browser cuts a pasted or filled-in text at ``maxlength`` without
    a word, and the user would save a shorter text than they gave."""

    def __init__(self, maximum, message=None):
        self.max = maximum
        self.message = message
        self.field_flags = {}

    def __call__(self, form, field):
        length = len(field.data or "")
        if length <= self.max:
            return
        if self.message is not None:
            raise StopValidation(str(self.message) % {"max": format_number(self.max), "length": format_number(length)})
        raise StopValidation(too_long_message(self.max, length))


class PortalForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            # Babel's Translations of the request's locale: plain gettext/ngettext, no formatting
            # (WTForms puts in its own values); untranslated or outside a request, the English.
            return get_translations()

        def wrap_formdata(self, form, formdata):
            # A JSON body that is not an object of fields (a list, a text) is no form this portal sends:
            # Flask-WTF's MultiDict of it raised a TypeError, a 500. Refused as a bad request instead.
            try:
                return super().wrap_formdata(form, formdata)
            except (TypeError, ValueError):
                raise BadRequest() from None
