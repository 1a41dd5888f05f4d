"""The Visma.net ERP API client: what the wizard reads and the Visma.net provider sends.

    client = VismaNetClient(account)                  # an IntegrationAccount or its id
    branches = client.get_json("/v1/branch")
    answer = client.post("/v2/journaltransaction", payload)   # ApiResponse: status, location, resource_id

- Bearer tokens come from the account (``tokens.access_token``); an expired one is refreshed first,
  and a 401 in mid-use refreshes once (under the account's lock) and repeats the request.
- 429, 5xx and time-outs are retried with exponential back-off, honouring ``Retry-After`` (seconds or
  an HTTP date) and, when ``X-RateLimit-Remaining`` reaches 0, ``X-RateLimit-Reset``. A wait longer
  than ``VISMA_NET_MAX_WAIT_SECONDS`` is not slept: ``VismaNetUnavailable.retry_after`` says when.
- 4xx raises ``VismaNetApiError`` with Visma.net's ``ExceptionMessage`` verbatim.
- No token or payload is logged; log lines name the method, path and status only.
"""
import email.utils
import logging
import random
import time
from datetime import datetime, timezone

import requests
from flask import current_app

from . import tokens
from .errors import ReauthorisationRequired, VismaNetApiError, VismaNetUncertain, VismaNetUnavailable

log = logging.getLogger(__name__)



class ApiResponse:
    """A successful answer: ``status``, ``headers``, ``data`` (parsed JSON or None), ``location``."""

    def __init__(self, response):
        self.status = response.status_code
        self.headers = response.headers
        self.text = response.text
        try:
            self.data = response.json() if response.content else None
        except ValueError:
            self.data = None
        self.location = response.headers.get("Location")

    @property
    def resource_id(self):
        """The last part of ``Location`` (the number Visma.net gave a created record), or None."""
        if not self.location:
            return None
        return self.location.rstrip("/").rsplit("/", 1)[-1] or None

    def __repr__(self):
        return f"<ApiResponse {self.status} {self.location or ''}>"


def _retry_after_seconds(value):
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _int_header(headers, name):
    try:
        return int(float(headers.get(name)))
    except (TypeError, ValueError):
        return None


class VismaNetClient:
    """One account's view of the Visma.net ERP API. Cheap to create; not shared between threads."""

    def __init__(self, account, *, http=None, sleep=time.sleep, timeout=None, max_attempts=None,
                 max_wait=None):
        self.account_id = account if isinstance(account, int) else account.id
        config = current_app.config
        self.base_url = config["VISMA_NET_API_URL"].rstrip("/")
        self.timeout = float(timeout if timeout is not None else config["VISMA_NET_HTTP_TIMEOUT"])
        self.max_attempts = int(max_attempts or config["VISMA_NET_MAX_ATTEMPTS"])
        self.max_wait = float(max_wait if max_wait is not None else config["VISMA_NET_MAX_WAIT_SECONDS"])
        self.backoff = float(config["VISMA_NET_BACKOFF_SECONDS"])
        self.max_backoff = float(config["VISMA_NET_MAX_BACKOFF_SECONDS"])
        self.http = http or requests.Session()
        self.sleep = sleep
        self._token = None
        self._not_before = 0.0      # monotonic time before which the rate limit says: wait
        self.rate_limit = {}        # the latest X-RateLimit-* values seen

    # -- public API --------------------------------------------------------------------------------
    def get(self, path, params=None, headers=None):
        return self.request("GET", path, params=params, headers=headers)

    def get_json(self, path, params=None):
        return self.get(path, params=params).data

    def iter_pages(self, path, params=None, page_size=500):
        """Every item of a list endpoint, page by page (``pageNumber``/``pageSize``)."""
        page = 1
        while True:
            batch = self.get_json(path, {**(params or {}), "pageNumber": page, "pageSize": page_size}) or []
            yield from batch
            if len(batch) < page_size:
                return
            page += 1

    def post(self, path, json=None, headers=None, retry_uncertain=True):
        return self.request("POST", path, json=json, headers=headers, retry_uncertain=retry_uncertain)

    def put(self, path, json=None, headers=None, retry_uncertain=True):
        return self.request("PUT", path, json=json, headers=headers, retry_uncertain=retry_uncertain)

    def delete(self, path, headers=None):
        return self.request("DELETE", path, headers=headers)

    def request(self, method, path, *, params=None, json=None, headers=None, retry_uncertain=True):
        """Send one request with the retries described above; returns an ``ApiResponse``.

        ``retry_uncertain=False`` (for writes the caller makes idempotent itself): a time-out or 5xx
        after the body may have arrived raises ``VismaNetUncertain`` instead of sending again.
        """
        url = self.base_url + "/" + path.lstrip("/")
        writes = method.upper() not in {"GET", "HEAD", "OPTIONS"}
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            self._wait_for_rate_limit()
            token = self._token or tokens.access_token(self.account_id)
            self._token = token
            request_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                               **(headers or {})}
            try:
                response = self.http.request(method, url, params=params, json=json, headers=request_headers,
                                             timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                # Sent but not answered in time (a read time-out), or no connection at all.
                sent = not isinstance(exc, requests.ConnectTimeout) and isinstance(exc, requests.Timeout)
                if writes and sent and not retry_uncertain:
                    raise VismaNetUncertain(f"{method} {path}: no answer in time ({type(exc).__name__})",
                                            problem="timeout") from None
                self._retry_or_give_up(attempt, method, path, None, self._backoff(attempt),
                                       type(exc).__name__, "timeout" if sent else "unreachable")
                continue
            self._note_rate_limit(response)
            status = response.status_code
            if status == 401:
                if refreshed:
                    reason = "Visma.net refused a freshly refreshed access token (401)"
                    tokens.record_problem(self.account_id, "token_refused", f"{method} {path}",
                                          needs_reauthorisation=True)
                    raise ReauthorisationRequired(self.account_id, reason)
                # The access token expired or was revoked in mid-use: refresh once, then repeat.
                refreshed = True
                log.info("%s %s: 401, refreshing the access token and repeating", method, path)
                self._token = tokens.refresh(self.account_id, stale_access_token=token)
                attempt -= 1  # a refresh is not a failed attempt
                continue
            if status == 429 or status >= 500:
                if writes and status >= 500 and status != 503 and not retry_uncertain:
                    raise VismaNetUncertain(f"{method} {path}: HTTP {status}", status=status, problem="server_error")
                wait = _retry_after_seconds(response.headers.get("Retry-After"))
                if wait is None and status == 429:
                    wait = _int_header(response.headers, "X-RateLimit-Reset")
                if wait is None:
                    wait = self._backoff(attempt)
                self._retry_or_give_up(attempt, method, path, status, wait, f"HTTP {status}",
                                       "rate_limited" if status == 429 else "server_error")
                continue
            if status >= 400:
                raise VismaNetApiError.from_response(response, method, path)
            return ApiResponse(response)

    # -- internals ---------------------------------------------------------------------------------
    def _backoff(self, attempt):
        base = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return base * (0.5 + random.random() / 2)

    def _retry_or_give_up(self, attempt, method, path, status, wait, what, problem):
        if attempt >= self.max_attempts:
            message = f"{method} {path}: {what} after {attempt} attempts"
            tokens.record_problem(self.account_id, "api_unavailable", message)
            raise VismaNetUnavailable(message, status=status, retry_after=wait if status == 429 else None,
                                      problem=problem)
        if wait > self.max_wait:
            message = f"{method} {path}: {what}; Visma.net asks to wait {wait:.0f} s"
            tokens.record_problem(self.account_id, "rate_limited", message)
            raise VismaNetUnavailable(message, status=status, retry_after=wait, problem=problem)
        log.warning("%s %s: %s, attempt %d of %d, retrying in %.1f s", method, path, what, attempt,
                    self.max_attempts, wait)
        self.sleep(wait)

    def _note_rate_limit(self, response):
        headers = response.headers
        limit = {name: headers.get(f"X-RateLimit-{name}") for name in ("Limit", "Remaining", "Reset", "Policy")}
        if any(limit.values()):
            self.rate_limit = limit
        remaining = _int_header(headers, "X-RateLimit-Remaining")
        reset = _int_header(headers, "X-RateLimit-Reset")
        if remaining is not None and remaining <= 0 and reset:
            self._not_before = time.monotonic() + reset

    def _wait_for_rate_limit(self):
        wait = self._not_before - time.monotonic()
        if wait <= 0:
            return
        if wait > self.max_wait:
            raise VismaNetUnavailable(f"The Visma.net rate limit is spent; it resets in {wait:.0f} s",
                                      status=429, retry_after=wait, problem="rate_limited")
        log.info("The Visma.net rate limit is spent; waiting %.1f s for its reset", wait)
        self.sleep(wait)
        self._not_before = 0.0
