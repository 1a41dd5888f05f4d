"""The fault switches' form (the sandbox's human page)."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DecimalField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, Optional, Regexp

from ..forms import MaxLength, PortalForm

PERIOD = Regexp(r"^\d{4}(0[1-9]|1[0-2])$", message=_l("Enter a period as YYYYMM, for example 202503."))


def _count(label, maximum, hint_max=None):
    return IntegerField(label, validators=[
        InputRequired(_l("Enter a number.")),
        NumberRange(0, maximum, _l("Enter a whole number from %(min)s to %(max)s."))])


class FaultsForm(PortalForm):
    rate_limit_count = _count(_l("Answer 429 Too Many Requests to the next number of requests"), 1000)
    retry_after = _count(_l("Retry-After of those answers (seconds)"), 3600)
    server_error_count = _count(_l("Answer 500 Internal Server Error to the next number of requests"), 1000)
    delay_seconds = DecimalField(_l("Slow answers: wait this many seconds before each answer"), places=1,
                                 validators=[InputRequired(_l("Enter a number.")),
                                             NumberRange(0, 120, _l("Enter a number from %(min)s to %(max)s."))])
    expire_tokens_after = _count(_l("Access tokens expire after this many more requests (0 = off)"), 100000)
    expire_tokens_now = BooleanField(_l("Expire every access token of this company now"))
    reject_reference = StringField(_l("Reject the next record with this reference or number"),
                                   validators=[Optional(), MaxLength(100)])
    reject_message = TextAreaField(_l("Message of that rejection (empty: a Visma.net-like message)"),
                                   validators=[Optional(), MaxLength(500)])
    close_period = StringField(_l("Close a financial period (YYYYMM)"), validators=[Optional(), PERIOD])
    open_period = StringField(_l("Open a financial period again (YYYYMM)"), validators=[Optional(), PERIOD])
