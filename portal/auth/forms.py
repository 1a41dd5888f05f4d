from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email

from ..forms import PortalForm, strip


class SignInForm(PortalForm):
    email = EmailField(_l("E-mail address"), filters=[strip], validators=[DataRequired(_l("Enter your e-mail address.")),
                                                        Email(_l("Enter a valid e-mail address."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
