"""The sandbox's own pages over real HTTP: fault switches (with CSRF) and what it received."""
import re

import requests

from tests.factories import csrf_from

from .conftest import COMPANY, payment


def _csrf(page):
    return csrf_from(page.text)


def _form(**overrides):
    data = {"rate_limit_count": "0", "retry_after": "2", "server_error_count": "0", "delay_seconds": "0",
            "expire_tokens_after": "0", "reject_reference": "", "reject_message": "", "close_period": "",
            "open_period": ""}
    data.update(overrides)
    return data


def test_index_lists_the_companies_and_the_endpoints(live_server):
    page = requests.get(live_server.url + "/sandbox/", timeout=10)
    assert page.status_code == 200
    assert "Zorggroep Rivierenland (Visma.net)" in page.text
    assert live_server.url + "/sandbox/connect/token" in page.text


def test_fault_page_saves_switches_with_csrf(live_server, control):
    http = requests.Session()
    url = f"{live_server.url}/sandbox/faults/{COMPANY}"
    page = http.get(url, timeout=10)
    assert page.status_code == 200
    answer = http.post(url, data={**_form(server_error_count="3", reject_reference="INV-9"),
                                  "csrf_token": _csrf(page)}, timeout=10)
    assert answer.status_code == 200  # after the redirect
    assert "were saved" in answer.text
    state = control()
    assert state["server_error_count"] == 3 and state["reject_reference"] == "INV-9"
    index = http.get(live_server.url + "/sandbox/", timeout=10)
    assert "500 for the next 3 requests" in index.text and "Reject INV-9" in index.text


def test_fault_page_refuses_bad_input_and_changes_nothing(live_server, control):
    http = requests.Session()
    url = f"{live_server.url}/sandbox/faults/{COMPANY}"
    page = http.get(url, timeout=10)
    answer = http.post(url, data={**_form(server_error_count="-4", close_period="2025-3"),
                                  "csrf_token": _csrf(page)}, timeout=10)
    assert answer.status_code == 400
    assert "Enter a whole number from 0 to 1000." in answer.text
    assert "Enter a period as YYYYMM" in answer.text
    assert control()["server_error_count"] == 0


def test_fault_page_needs_csrf(live_server, control):
    answer = requests.post(f"{live_server.url}/sandbox/faults/{COMPANY}",
                           data=_form(server_error_count="3"), timeout=10)
    assert answer.status_code == 400
    assert control()["server_error_count"] == 0


def test_fault_page_reset_switches_everything_off(live_server, control):
    control(server_error_count=2, delay_seconds=0.1, close_period="202506")
    http = requests.Session()
    page = http.get(f"{live_server.url}/sandbox/faults/{COMPANY}", timeout=10)
    http.post(f"{live_server.url}/sandbox/faults/{COMPANY}/reset", data={"csrf_token": _csrf(page)}, timeout=10)
    state = control()
    assert (state["server_error_count"], state["delay_seconds"], state["closed_periods"]) == (0, 0, [])


def test_fault_page_in_dutch(live_server):
    page = requests.get(f"{live_server.url}/sandbox/faults/{COMPANY}", headers={"Accept-Language": "nl"},
                        timeout=10)
    assert "Foutschakelaars van" in page.text


def test_received_requests_newest_first_filter_and_reset(live_server, api, control):
    api.post("/v1/customerPayment", payment("POS-1"))
    api.get("/v1/customer/99999")
    http = requests.Session()
    page = http.get(live_server.url + "/sandbox/requests", timeout=10)
    assert page.status_code == 200
    rows = re.findall(r"<tr>\s*<td>.*?</tr>", page.text, re.S)
    assert "/sandbox/api/v1/customer/99999" in rows[0] and "404" in rows[0]
    assert "/sandbox/api/v1/customerPayment" in rows[1] and "201" in rows[1] and "POS-1" in rows[1]
    assert "/sandbox/connect/token" in page.text
    assert "client_secret" not in page.text or "***" in page.text
    other = http.get(live_server.url + "/sandbox/requests", params={"company": "1000003"}, timeout=10)
    assert "/sandbox/api/" not in other.text
    http.post(live_server.url + "/sandbox/requests/reset", data={"csrf_token": _csrf(page)}, timeout=10)
    assert "The sandbox has received nothing yet." in http.get(live_server.url + "/sandbox/requests",
                                                                timeout=10).text


def test_the_sandbox_is_not_mounted_when_disabled(redis_url, tmp_path_factory):
    from portal import create_app
    from tests.conftest import SQLITE_URL, _config
    config = _config(SQLITE_URL, redis_url, tmp_path_factory.mktemp("off"))
    config.SANDBOX_ENABLED = False
    app = create_app(config)
    client = app.test_client()
    assert client.get("/sandbox/").status_code == 404
    assert client.post("/sandbox/connect/token").status_code == 404
    assert not any(rule.rule.startswith("/sandbox") for rule in app.url_map.iter_rules())
