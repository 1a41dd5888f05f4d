from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, Optional, StopValidation
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import MaxLength, PortalForm, strip
from ..models.user import PERMISSION_LABELS
from .services import MAX_PASSWORD_LENGTH


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _locale_choices():
    return [SelectChoice("", _l("Browser language")),
            *(SelectChoice(code, label, render_kw={"lang": code})
              for code, label in (("en", "English"), ("nl", "Nederlands"), ("sv", "Svenska"), ("da", "Dansk")))]


class LanguageField(SelectField):
    """The user's language: a form without it (or with an unknown one) is asked for it, not told
    "Not a valid choice." (Browser language, the empty value, is a choice)."""

    def pre_validate(self, form):
        if not self.raw_data or self.data not in {choice.value for choice in self.choices}:
            raise StopValidation(_l("Choose a language (or Browser language)."))


class UserForm(PortalForm):
    email = EmailField(_l("E-mail address"), filters=[strip], validators=[DataRequired(_l("Enter an e-mail address.")),
                                                        Email(_l("Enter a valid e-mail address."))])
    name = StringField(_l("Name"), validators=[Optional(), MaxLength(120)])
    permissions = MultiCheckboxField(_l("Permissions"), choices=[SelectChoice(value, label) for value, label in PERMISSION_LABELS.items()])
    locale = LanguageField(_l("Language"), choices=_locale_choices())
    active = BooleanField(_l("Active"), default=True)
    password = PasswordField(_l("Password"), validators=[Optional(), MaxLength(MAX_PASSWORD_LENGTH)])
