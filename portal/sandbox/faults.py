"""Switchable faults per sandbox company, and the X-RateLimit window.

Every counter is changed with one conditional UPDATE, so that several processes share them safely.
"""
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, update

from ..extensions import db
from ..models.base import utcnow
from ..models.sandbox import SandboxCompany, SandboxRequest
from . import connect
from ..validation import parse_int

# The fields of the control endpoint and the fault page: name -> (type, minimum, maximum).
SWITCHES = {
    "rate_limit_count": (int, 0, 1000),
    "retry_after": (int, 0, 3600),
    "server_error_count": (int, 0, 1000),
    "delay_seconds": (float, 0, 120),
    "expire_tokens_after": (int, 0, 100000),
    "reject_reference": (str, 0, 100),
    "reject_message": (str, 0, 500),
}


class FaultError(ValueError):
    """A switch value that is not acceptable; ``field`` names it."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def _take(company_id, column):
    """Spend one of the company's ``column`` counter: True when there was one."""
    return bool(db.session.execute(
        update(SandboxCompany).where(SandboxCompany.id == company_id, column > 0)
        .values({column: column - 1})).rowcount)


def before_api_request(company_id):
    """Apply the delay and the one-shot faults. Returns ("429", retry_after), ("500", None) or None."""
    company = db.session.get(SandboxCompany, company_id)
    if company is None:
        return None
    if company.fault_delay_seconds:
        time.sleep(company.fault_delay_seconds)
    if _take(company_id, SandboxCompany.fault_rate_limit_count):
        db.session.commit()
        return "429", company.fault_retry_after
    if _take(company_id, SandboxCompany.fault_server_error_count):
        db.session.commit()
        return "500", None
    db.session.commit()
    return None


def after_api_request(company_id):
    """Count down to "access tokens expire mid-run"; at zero, every live access token expires."""
    if _take(company_id, SandboxCompany.fault_expire_tokens_after):
        remaining = db.session.execute(db.select(SandboxCompany.fault_expire_tokens_after)
                                       .where(SandboxCompany.id == company_id)).scalar_one()
        if remaining == 0:
            connect.expire_access_tokens(company_id)
    db.session.commit()


def _named_as(reference):
    """The reference, then without its ``~version`` suffix, then without its ``<company>/`` prefix."""
    bare = reference.split("~", 1)[0]
    return [reference, bare, bare.rsplit("/", 1)[-1]]


def take_rejection(company_id, references):
    """If the company's "reject a record" switch names one of ``references``, spend it: the message. A
    reference the portal sends as ``<company>/<number>~<version>`` is also named by its number alone, as
    the run page shows it (``ZORG-R00005135`` for ``ZORG/ZORG-R00005135~528e97a9``)."""
    references = [form for r in references if r for form in _named_as(r)]
    if not references:
        return None
    company = db.session.get(SandboxCompany, company_id)
    if company is None or not company.fault_reject_reference \
            or company.fault_reject_reference not in references:
        return None
    reference, message = company.fault_reject_reference, company.fault_reject_message
    spent = db.session.execute(
        update(SandboxCompany)
        .where(SandboxCompany.id == company_id, SandboxCompany.fault_reject_reference == reference)
        .values(fault_reject_reference=None)).rowcount
    db.session.commit()
    if not spent:
        return None  # another process rejected it a moment ago
    return message or (f"The record '{reference}' was rejected: "
                       "Inserting the record raised at least one error. Please review the errors.")


# --------------------------------------------------------------------------------- rate-limit window

def rate_limit_state(company_id):
    """(limit, used in this window, seconds until the window resets) of Visma.net's fixed window."""
    config = current_app.config
    window = int(config["SANDBOX_RATE_LIMIT_WINDOW_SECONDS"])
    into_window = time.time() % window
    start = utcnow() - timedelta(seconds=into_window)
    used = db.session.execute(
        db.select(func.count(SandboxRequest.id))
        .where(SandboxRequest.company_id == company_id, SandboxRequest.created_at >= start,
               SandboxRequest.path.like("/sandbox/api/%"))).scalar_one()
    return int(config["SANDBOX_RATE_LIMIT"]), used, max(int(window - into_window), 1)


# ------------------------------------------------------------------------------------------ control

def state(company):
    return {
        "company": company.id, "name": company.name,
        "rate_limit_count": company.fault_rate_limit_count, "retry_after": company.fault_retry_after,
        "server_error_count": company.fault_server_error_count,
        "delay_seconds": company.fault_delay_seconds,
        "expire_tokens_after": company.fault_expire_tokens_after,
        "reject_reference": company.fault_reject_reference or "",
        "reject_message": company.fault_reject_message or "",
        "closed_periods": closed_periods(company),
        "first_open_period": current_app.config["SANDBOX_FIRST_OPEN_PERIOD"],
    }


def _coerce(name, value):
    kind, low, high = SWITCHES[name]
    if kind is str:
        value = "" if value is None else str(value).strip()
        if len(value) > high:
            raise FaultError(name, f"at most {high} characters")
        return value or None
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise FaultError(name, "not a number") from None
    if not (low <= number <= high):
        raise FaultError(name, f"between {low} and {high}")
    return number


def set_switches(company_id, values):
    """Set the switches named in ``values`` (others unchanged). Raises ``FaultError``; nothing changes then."""
    company = connect.company(company_id)
    if company is None:
        raise LookupError(company_id)
    unknown = set(values) - set(SWITCHES) - {"expire_tokens_now", "close_period", "open_period"}
    if unknown:
        raise FaultError(sorted(unknown)[0], "unknown switch")
    coerced = {name: _coerce(name, value) for name, value in values.items() if name in SWITCHES}
    periods = {}
    for key in ("close_period", "open_period"):
        if values.get(key):
            periods[key] = _period(key, values[key])
    for name, value in coerced.items():
        setattr(company, "fault_" + name, value)
    closed = set(closed_periods(company))
    if "close_period" in periods:
        closed.add(periods["close_period"])
    if "open_period" in periods:
        closed.discard(periods["open_period"])
    company.closed_periods = ",".join(sorted(closed))
    if values.get("expire_tokens_now") in (True, "1", "on", "true", 1):
        connect.expire_access_tokens(company_id)
    db.session.commit()
    return company


def _period(field, value):
    value = str(value).strip()
    if len(value) != 6 or parse_int(value) is None or not (1 <= int(value[4:]) <= 12):
        raise FaultError(field, "a period is YYYYMM")
    return value


def reset(company_id):
    company = connect.company(company_id)
    if company is None:
        raise LookupError(company_id)
    company.fault_rate_limit_count = 0
    company.fault_retry_after = 2
    company.fault_server_error_count = 0
    company.fault_delay_seconds = 0.0
    company.fault_expire_tokens_after = 0
    company.fault_reject_reference = None
    company.fault_reject_message = None
    company.closed_periods = ""
    db.session.commit()
    return company


def closed_periods(company):
    return [p for p in (company.closed_periods or "").split(",") if p]


def is_closed(company, period):
    return period < current_app.config["SANDBOX_FIRST_OPEN_PERIOD"] or period in closed_periods(company)
