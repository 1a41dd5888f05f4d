"""Several requests at once, on SQLite and PostgreSQL: one refresh token is spent once, counters hold."""
from concurrent.futures import ThreadPoolExecutor

import requests

from .conftest import COMPANY, Api, Connect, payment


def _at_once(count, call):
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _i: call(), range(count)))


def test_a_refresh_token_is_spent_exactly_once(any_live_server):
    connect = Connect(any_live_server.url)
    tokens = connect.tokens(COMPANY)
    answers = _at_once(6, lambda: connect.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]))
    assert sorted(a.status_code for a in answers) == [200] + [400] * 5
    assert {a.json()["error"] for a in answers if a.status_code == 400} == {"invalid_grant"}


def test_fault_counters_hold_under_concurrent_requests(any_live_server):
    connect = Connect(any_live_server.url)
    api = Api(any_live_server.url, connect.tokens(COMPANY)["access_token"])
    answer = requests.post(f"{any_live_server.url}/sandbox/control/{COMPANY}",
                           json={"server_error_count": 3, "reject_reference": "POS-1"}, timeout=10)
    assert answer.status_code == 200
    statuses = _at_once(8, lambda: api.get("/v1/branch").status_code)
    assert sorted(statuses) == [200] * 5 + [500] * 3
    # The same record sent four times at once: rejected exactly once, then stored (no duplicate numbers).
    statuses = _at_once(4, lambda: api.post("/v1/customerPayment", payment("POS-1")).status_code)
    assert sorted(statuses) == [201] * 3 + [400]
    numbers = [p["refNbr"] for p in api.get("/v1/customerPayment", customer="10001").json()]
    assert len(numbers) == len(set(numbers)) == 3
