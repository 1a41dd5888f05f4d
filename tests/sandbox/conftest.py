"""Helpers for the sandbox tests: a Visma Connect client that does the whole dance over real HTTP."""
import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from portal.config import TestConfig
from tests.factories import csrf_from

CLIENT_ID = TestConfig.VISMA_NET_CLIENT_ID
CLIENT_SECRET = TestConfig.VISMA_NET_CLIENT_SECRET
SCOPE = ("openid offline_access vismanet_erp_interactive_api:read vismanet_erp_interactive_api:create "
         "vismanet_erp_interactive_api:update")
REDIRECT_URI = "http://127.0.0.1:9/callback"


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class Connect:
    """Drives the sandbox's Visma Connect like a browser (consent form) and like the portal (token calls)."""

    def __init__(self, base):
        self.base = base
        self.http = requests.Session()

    def authorize_page(self, **overrides):
        verifier, challenge = pkce_pair()
        params = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "code",
                  "scope": SCOPE, "state": secrets.token_urlsafe(16), "code_challenge": challenge,
                  "code_challenge_method": "S256"}
        params.update(overrides)
        params = {k: v for k, v in params.items() if v is not None}
        page = self.http.get(self.base + "/sandbox/connect/authorize", params=params, allow_redirects=False)
        return page, params, verifier

    @staticmethod
    def form_fields(page):
        csrf = csrf_from(page.text)
        request_id = re.search(r'name="request_id" value="([^"]+)"', page.text).group(1)
        return csrf, request_id

    def decide(self, page, decision="allow", company="1000001"):
        csrf, request_id = self.form_fields(page)
        data = {"csrf_token": csrf, "request_id": request_id, "decision": decision}
        if company:
            data["company"] = company
        return self.http.post(self.base + "/sandbox/connect/authorize", data=data, allow_redirects=False)

    def authorize(self, company="1000001", **overrides):
        """The whole front channel: returns (code, state sent, state returned, verifier)."""
        page, params, verifier = self.authorize_page(**overrides)
        assert page.status_code == 200, page.text
        answer = self.decide(page, "allow", company)
        assert answer.status_code == 302, answer.text
        query = parse_qs(urlsplit(answer.headers["Location"]).query)
        return query["code"][0], params["state"], query["state"][0], verifier

    def token(self, auth=(CLIENT_ID, CLIENT_SECRET), **data):
        return requests.post(self.base + "/sandbox/connect/token", data=data, auth=auth, timeout=10)

    def tokens(self, company="1000001"):
        code, _sent, _returned, verifier = self.authorize(company)
        answer = self.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                            code_verifier=verifier)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def revoke(self, token, auth=(CLIENT_ID, CLIENT_SECRET), **extra):
        return requests.post(self.base + "/sandbox/connect/revocation", data={"token": token, **extra},
                             auth=auth, timeout=10)


@pytest.fixture
def connect(live_server):
    return Connect(live_server.url)


@pytest.fixture
def any_live_server(any_app):
    """Like ``live_server``, once on SQLite and once on PostgreSQL."""
    import threading

    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, any_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    server.app = any_app
    yield server
    server.shutdown()
    thread.join(timeout=5)


COMPANY = "1000001"


class Api:
    """The ERP API stand-in, called like the portal's provider does (bearer token, JSON)."""

    def __init__(self, base, token):
        self.base = base + "/sandbox/api"
        self.token = token
        self.http = requests.Session()

    def headers(self):
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    def get(self, path, **params):
        return self.http.get(self.base + path, params=params, headers=self.headers(), timeout=30)

    def post(self, path, body):
        return self.http.post(self.base + path, json=body, headers=self.headers(), timeout=30)


@pytest.fixture
def tokens(connect):
    return connect.tokens(COMPANY)


@pytest.fixture
def api(live_server, tokens):
    return Api(live_server.url, tokens["access_token"])


@pytest.fixture
def control(live_server):
    """The JSON control endpoint of the fault switches."""
    def switch(company=COMPANY, **values):
        answer = requests.post(f"{live_server.url}/sandbox/control/{company}", json=values, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()
    return switch


def journal(reference="RUN-2025-03", date="2025-03-31T00:00:00Z", debit=1000.0, credit=1000.0, account="4000",
            segments=(("1", "110"), ("2", "P01"))):
    return {
        "transactionDate": {"value": date}, "description": {"value": "Payroll March 2025"},
        "branch": {"value": "MAIN"},
        "journalTransactionLines": [
            {"operation": "Insert", "accountNumber": {"value": account},
             "subaccount": [{"segmentId": int(s), "segmentValue": value} for s, value in segments],
             "referenceNumber": {"value": reference}, "debitAmountInCurrency": {"value": debit},
             "creditAmountInCurrency": {"value": 0}, "transactionDescription": {"value": "Gross wages"}},
            {"operation": "Insert", "accountNumber": {"value": "1600"}, "referenceNumber": {"value": reference},
             "debitAmountInCurrency": {"value": 0}, "creditAmountInCurrency": {"value": credit},
             "transactionDescription": {"value": "Net wages payable"}},
        ]}


def invoice(reference="INV-1", customer="10001", date="2025-03-15T00:00:00Z"):
    return {"customerNumber": {"value": customer}, "documentDate": {"value": date},
            "customerRefNumber": {"value": reference}, "invoiceText": {"value": "Care March"},
            "invoiceLines": [{"operation": "Insert", "description": {"value": "Personal care"},
                              "quantity": {"value": 1}, "unitPriceInCurrency": {"value": 100.0},
                              "accountNumber": {"value": "8000"}}]}


def payment(reference="POS-1", customer="10001", method="CASH", date="2025-03-15T00:00:00Z"):
    return {"type": {"value": "Payment"}, "customer": {"value": customer}, "paymentMethod": {"value": method},
            "applicationDate": {"value": date}, "paymentRef": {"value": reference},
            "paymentAmount": {"value": 25.5}}


def purchase_order(reference="PO-1", supplier="70001"):
    return {"orderType": {"value": "RegularOrder"}, "supplier": {"value": supplier},
            "date": {"value": "2025-03-15T00:00:00Z"}, "supplierRef": {"value": reference},
            "lines": [{"operation": "Insert", "inventory": {"value": "RAW-1"}, "orderQty": {"value": 2},
                       "unitCost": {"value": 3.5}}]}


def inventory_item(number="RAW-1", item_class="STOCK", kind="FinishedGoodItem"):
    body = {"inventoryNumber": {"value": number}, "description": {"value": f"Item {number}"},
            "itemClass": {"value": item_class}}
    if kind:
        body["type"] = {"value": kind}
    return body


def kit(kit_id="BREAD", components=("RAW-1",)):
    return {"kitInventoryID": {"value": kit_id}, "revisionID": {"value": "1"}, "descr": {"value": "Bread"},
            "isNonStock": {"value": True},
            "stockComponentLines": [{"operation": "Insert", "compInventoryID": {"value": c},
                                     "dfltCompQty": {"value": 0.5}} for c in components]}
