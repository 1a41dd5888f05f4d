"""The Visma.net API client against the sandbox over real HTTP: retries on 429 (Retry-After) and 500,
an access token that expires mid-use, and Visma.net's own message on a refused request."""
import time

import pytest

from portal.extensions import db
from portal.integrations.visma import (
    ApiResponse, VismaNetApiError, VismaNetClient, VismaNetUnavailable,
)
from portal.models import IntegrationAccount

from .conftest import SANDBOX_COMPANY, token_calls


class Sleeps(list):
    """Records each wait the client asks for, and really waits (they are short here)."""

    def __call__(self, seconds):
        self.append(seconds)
        time.sleep(min(seconds, 2))


@pytest.fixture
def account_id(app, consultant):
    account_id = consultant.create_account()
    assert consultant.authorise(account_id).status_code == 200
    return account_id


def _faults(app, **switches):
    from portal.sandbox import faults
    with app.app_context():
        faults.set_switches(SANDBOX_COMPANY, switches)


def _client(app, account_id, **kwargs):
    return VismaNetClient(db.session.get(IntegrationAccount, account_id), **kwargs)


def test_a_429_is_retried_after_the_time_visma_net_asks_for(app, account_id):
    _faults(app, rate_limit_count=2, retry_after=1)
    sleeps = Sleeps()
    with app.app_context():
        branches = _client(app, account_id, sleep=sleeps).get_json("/v1/branch")
    assert [b["number"] for b in branches][:1] == ["MAIN"]
    assert sleeps == [1.0, 1.0]


def test_500s_are_retried_with_back_off(app, account_id):
    _faults(app, server_error_count=2)
    sleeps = Sleeps()
    with app.app_context():
        answer = _client(app, account_id, sleep=sleeps).get("/v1/dimension")
    assert isinstance(answer, ApiResponse) and answer.status == 200 and "SUBACCOUNT" in answer.data
    assert len(sleeps) == 2 and sleeps[0] < sleeps[1] * 2 + 0.01


def test_after_the_last_attempt_the_client_gives_up_and_the_account_says_so(app, account_id):
    _faults(app, server_error_count=10)
    with app.app_context():
        with pytest.raises(VismaNetUnavailable) as raised:
            _client(app, account_id, sleep=Sleeps(), max_attempts=3).get("/v1/branch")
        assert raised.value.status == 500
        db.session.expire_all()
        account = db.session.get(IntegrationAccount, account_id)
        assert "after 3 attempts" in account.last_error and not account.needs_reauthorisation


def test_a_retry_after_longer_than_allowed_is_handed_to_the_caller(app, account_id):
    _faults(app, rate_limit_count=1, retry_after=600)
    sleeps = Sleeps()
    with app.app_context():
        with pytest.raises(VismaNetUnavailable) as raised:
            _client(app, account_id, sleep=sleeps, max_wait=30).get("/v1/branch")
    assert raised.value.retry_after == 600 and sleeps == []


def test_an_access_token_that_expires_mid_use_is_refreshed_once(app, account_id, caplog):
    import logging
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        client = _client(app, account_id, sleep=Sleeps())
        assert client.get_json("/v1/branch")
        refreshes = len(token_calls(app, "refresh_token"))
        _faults(app, expire_tokens_now=True)
        assert client.get_json("/v1/dimension")            # 401, refresh, repeat
        assert len(token_calls(app, "refresh_token")) == refreshes + 1
        assert client.get_json("/v1/branch")                # the new token goes on working
        assert len(token_calls(app, "refresh_token")) == refreshes + 1
        account = db.session.get(IntegrationAccount, account_id)
        secrets = (account.access_token, account.refresh_token, account.access_token.split(".")[1])
    assert "refreshing the access token" in caplog.text
    assert not any(secret in caplog.text for secret in secrets)


def test_a_refused_request_carries_visma_nets_message_verbatim(app, account_id):
    import requests
    with app.app_context():
        client = _client(app, account_id, sleep=Sleeps())
        with pytest.raises(VismaNetApiError) as raised:
            client.get("/v1/branch/NOSUCH")
        error = raised.value
        # What the sandbox (as Visma.net) answered, as it came.
        direct = requests.get(app.config["VISMA_NET_API_URL"] + "/v1/branch/NOSUCH", timeout=30,
                              headers={"Authorization": f"Bearer {client._token}"})
        body = direct.json()
    assert 400 <= error.status < 500 and error.status == direct.status_code
    assert error.exception_message == body["ExceptionMessage"] and str(error) == body["ExceptionMessage"]
    assert error.exception_type == body.get("ExceptionType")


def test_the_rate_limit_headers_are_read(app, account_id):
    with app.app_context():
        client = _client(app, account_id, sleep=Sleeps())
        client.get("/v1/branch")
    assert client.rate_limit["Limit"] and client.rate_limit["Remaining"] is not None


def test_a_spent_rate_limit_window_is_waited_out_before_the_next_request(app, account_id):
    app.config.update(SANDBOX_RATE_LIMIT=1, SANDBOX_RATE_LIMIT_WINDOW_SECONDS=3)
    sleeps = Sleeps()
    with app.app_context():
        client = _client(app, account_id, sleep=sleeps)
        assert client.get_json("/v1/branch")
        assert client.rate_limit["Remaining"] == "0"
        reset = int(client.rate_limit["Reset"])
        waited = len(sleeps)
        assert client.get_json("/v1/dimension")      # waits for the window's reset, then asks
    assert sleeps[waited] == pytest.approx(reset, abs=1)
