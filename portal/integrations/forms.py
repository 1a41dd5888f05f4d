from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Optional

from ..forms import MaxLength, PortalForm
from ..validation import coerce_id


class AccountForm(PortalForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name for the integration account.")),
                                              MaxLength(120)])


class MappingForm(PortalForm):
    # The services check the choices (with the portal's own messages), so WTForms' check is off.
    company = SelectField(_l("Our company"), coerce=coerce_id, validate_choice=False,
                          validators=[DataRequired(_l("Choose one of our companies."))])
    branch = SelectField(_l("Visma.net branch"), validate_choice=False, validators=[DataRequired(_l("Choose a branch that exists at Visma.net."))])


class DimensionsForm(PortalForm):
    cost_centre_enabled = BooleanField(_l("Use cost centres"))
    cost_centre_description = StringField(_l("Description of the cost centre dimension in Visma.net"),
                                          validators=[Optional(), MaxLength(200)])
    cost_unit_enabled = BooleanField(_l("Use cost units"))
    cost_unit_description = StringField(_l("Description of the cost unit dimension in Visma.net"),
                                        validators=[Optional(), MaxLength(200)])
