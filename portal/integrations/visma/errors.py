"""Typed errors of the Visma.net client. None of them carries a token."""


class VismaNetError(Exception):
    """Base class: something went wrong talking to Visma.net (or Visma Connect)."""


class VismaNetApiError(VismaNetError):
    """Visma.net refused the request (4xx). ``exception_message`` is Visma.net's own text, verbatim.

    Show ``exception_message`` as it came (DESIGN §6, seed 004): it is what a Visma consultant needs.
    """

    def __init__(self, status, exception_message, exception_type=None, body=None, method=None,
                 path=None, fault_code=None, message_id=None, details=None):
        super().__init__(exception_message)
        self.status = status
        self.exception_message = exception_message
        self.exception_type = exception_type
        self.fault_code = fault_code
        self.message_id = message_id
        self.details = details
        self.body = body
        self.method = method
        self.path = path

    @classmethod
    def from_response(cls, response, method, path):
        body = response.text
        payload = None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        message = exception_type = fault_code = message_id = details = None
        if isinstance(payload, dict):
            # Visma.net: {"ExceptionType": …, "ExceptionMessage": …, "ExceptionFaultCode": …,
            # "ExceptionMessageID": …, "ExceptionDetails": …}; some gateways answer {"message": …}.
            message = payload.get("ExceptionMessage") or payload.get("message") or payload.get("Message")
            exception_type = payload.get("ExceptionType")
            fault_code = payload.get("ExceptionFaultCode")
            message_id = payload.get("ExceptionMessageID")
            details = payload.get("ExceptionDetails")
        if not message:
            message = body.strip() or f"HTTP {response.status_code}"
        return cls(response.status_code, message, exception_type, body, method, path,
                   fault_code, message_id, details)

    def __str__(self):
        return self.exception_message


class VismaNetUnavailable(VismaNetError):
    """Visma.net did not answer usefully after the retries (429, 5xx, time-outs), or asked us to wait
    longer than we may. ``retry_after`` (seconds, or None) says when a later attempt may succeed.

    ``problem`` says what happened, for the words a user reads (the message is technical, for the log):
    ``timeout`` (no answer in time), ``unreachable`` (no connection), ``server_error`` (5xx),
    ``rate_limited`` (429 or the rate limit spent), ``connect_unreachable`` (Visma Connect, refreshing the
    tokens) or ``unavailable`` (anything else)."""

    PROBLEMS = ("timeout", "unreachable", "server_error", "rate_limited", "connect_unreachable", "unavailable")

    def __init__(self, message, status=None, retry_after=None, problem="unavailable"):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.problem = problem if problem in self.PROBLEMS else "unavailable"


class VismaNetUncertain(VismaNetUnavailable):
    """A write may or may not have reached Visma.net (time-out or 5xx after the body was sent), and
    the caller asked not to resend blindly (``retry_uncertain=False``): check, then send again."""


class ReauthorisationRequired(VismaNetError):
    """The account's tokens are gone or refused: a setup consultant must authorise it again."""

    def __init__(self, account_id, reason=""):
        super().__init__(reason or "The integration account must be authorised again")
        self.account_id = account_id
        self.reason = reason
