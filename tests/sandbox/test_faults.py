"""Each fault switch, over real HTTP, set through the JSON control endpoint."""
import time

import requests

from .conftest import COMPANY, journal, payment
from .test_api import assert_visma_error


def test_control_endpoint_answers_the_state_and_refuses_bad_values(live_server, control):
    state = control(rate_limit_count=2, retry_after=7)
    assert state["rate_limit_count"] == 2 and state["retry_after"] == 7
    url = f"{live_server.url}/sandbox/control/{COMPANY}"
    assert requests.get(url, timeout=10).json()["rate_limit_count"] == 2
    bad = requests.post(url, json={"server_error_count": -1}, timeout=10)
    assert bad.status_code == 400 and bad.json()["field"] == "server_error_count"
    bad = requests.post(url, json={"close_period": "2025-13"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["field"] == "close_period"
    bad = requests.post(url, json={"explode": True}, timeout=10)
    assert bad.status_code == 400 and bad.json()["field"] == "explode"
    # Form-encoded (what a cross-site form could send) is refused.
    assert requests.post(url, data={"server_error_count": "1"}, timeout=10).status_code == 400
    assert requests.get(url, timeout=10).json()["server_error_count"] == 0
    assert requests.post(f"{live_server.url}/sandbox/control/999", json={}, timeout=10).status_code == 404
    assert control(reset=True)["rate_limit_count"] == 0


def test_429_with_retry_after_for_the_next_n_requests(api, control):
    control(rate_limit_count=2, retry_after=3)
    for _ in range(2):
        answer = api.get("/v1/branch")
        assert_visma_error(answer, 429, "Rate limit")
        assert answer.headers["Retry-After"] == "3"
        assert "X-RateLimit-Limit" in answer.headers
    assert api.get("/v1/branch").status_code == 200


def test_500s_for_the_next_n_requests_and_nothing_is_stored(api, control):
    control(server_error_count=1)
    assert_visma_error(api.post("/v1/customerPayment", payment("POS-1")), 500, "An error has occurred")
    assert api.get("/v1/customerPayment", customer="10001").json() == []
    assert api.post("/v1/customerPayment", payment("POS-1")).status_code == 201


def test_slow_answers(api, control):
    control(delay_seconds=0.6)
    started = time.monotonic()
    assert api.get("/v1/branch").status_code == 200
    assert time.monotonic() - started >= 0.6
    control(delay_seconds=0)


def test_access_tokens_expire_now(api, control, connect, tokens):
    assert api.get("/v1/branch").status_code == 200
    control(expire_tokens_now=True)
    assert_visma_error(api.get("/v1/branch"), 401)
    # The refresh token still gets a new access token, which works.
    fresh = connect.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    api.token = fresh["access_token"]
    assert api.get("/v1/branch").status_code == 200


def test_access_tokens_expire_mid_run_after_n_requests(api, control, connect, tokens):
    control(expire_tokens_after=2)
    assert api.post("/v1/customerPayment", payment("POS-1")).status_code == 201
    assert api.post("/v1/customerPayment", payment("POS-2")).status_code == 201
    assert_visma_error(api.post("/v1/customerPayment", payment("POS-3")), 401)
    assert control()["expire_tokens_after"] == 0
    api.token = connect.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()["access_token"]
    assert api.post("/v1/customerPayment", payment("POS-3")).status_code == 201


def test_other_companies_are_not_affected(api, control, connect, live_server):
    from .conftest import Api
    other = Api(live_server.url, connect.tokens("1000002")["access_token"])
    control(server_error_count=5, expire_tokens_now=True)
    assert other.get("/v1/branch").status_code == 200


def test_reject_a_record_once_by_its_reference(api, control):
    control(reject_reference="POS-2", reject_message="Payment method CASH is inactive for this branch.")
    assert api.post("/v1/customerPayment", payment("POS-1")).status_code == 201
    body = assert_visma_error(api.post("/v1/customerPayment", payment("POS-2")), 400,
                              "Payment method CASH is inactive for this branch.")
    assert body["ExceptionType"] == "IPPException"
    assert control()["reject_reference"] == ""
    # Once the problem is solved, the same record goes through.
    assert api.post("/v1/customerPayment", payment("POS-2")).status_code == 201


def test_reject_a_record_by_the_number_the_run_page_shows(api, control):
    """The portal sends ``<company>/<number>~<version>``; the user types the number the run page shows."""
    control(reject_reference="ZORG-R00005135")
    assert api.post("/v1/customerPayment", payment("ZORG/ZORG-R00005134~528e97a9")).status_code == 201
    assert_visma_error(api.post("/v1/customerPayment", payment("ZORG/ZORG-R00005135~528e97a9")), 400,
                       "'ZORG-R00005135' was rejected")
    assert control()["reject_reference"] == ""


def test_reject_a_journal_by_line_reference_with_the_default_message(api, control):
    control(reject_reference="RUN-7")
    assert_visma_error(api.post("/v2/journaltransaction", journal("RUN-7")), 400, "'RUN-7' was rejected")


def test_a_test_can_close_and_reopen_a_period(api, control):
    state = control(close_period="202503")
    assert state["closed_periods"] == ["202503"]
    assert_visma_error(api.post("/v2/journaltransaction", journal()), 400, "03-2025 is closed")
    periods = {p["period"]: p for p in api.get("/v1/financialPeriod").json()}
    assert periods["202503"]["closedInGeneralLedger"] is True
    control(open_period="202503")
    assert api.post("/v2/journaltransaction", journal()).status_code == 201
