"""Helpers for the integration tests: the portal and the sandbox over real HTTP.

``visma`` points the VISMA_NET_* URLs at the sandbox of the live server. ``PortalSession`` is a
person with a ``requests`` session (sign in, forms with their CSRF token, the sandbox's consent page).
"""
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.factories import csrf_from

SANDBOX_COMPANY = "1000001"
OTHER_COMPANY = "1000002"


class PortalSession:
    def __init__(self, base_url):
        self.base = base_url
        self.http = requests.Session()

    def url(self, path):
        return path if path.startswith("http") else self.base + path

    def get(self, path, **kwargs):
        return self.http.get(self.url(path), timeout=30, **kwargs)

    def post(self, path, data=None, csrf_from_path=None, **kwargs):
        token = csrf_from(self.get(csrf_from_path or "/").text)
        return self.http.post(self.url(path), data={**(data or {}), "csrf_token": token}, timeout=30, **kwargs)

    def login(self, who):
        page = self.get("/auth/login")
        response = self.http.post(self.url("/auth/login"), data={
            "email": f"{who}@example.com", "password": "demo", "csrf_token": csrf_from(page.text)}, timeout=30)
        assert response.ok
        return self

    def create_account(self, name="Visma.net Zorggroep"):
        response = self.post("/integrations/new", {"name": name}, csrf_from_path="/integrations/new",
                             allow_redirects=False)
        assert response.status_code == 302, response.text
        return int(re.search(r"/integrations/(\d+)/", response.headers["Location"]).group(1))

    def start_authorisation(self, account_id):
        """POST *Authorise*; returns the Visma Connect URL the portal redirects to."""
        response = self.post(f"/integrations/{account_id}/authorise",
                             csrf_from_path=f"/integrations/{account_id}", allow_redirects=False)
        assert response.status_code == 303, response.text
        return response.headers["Location"]

    def decide(self, connect_url, company=SANDBOX_COMPANY, decision="allow"):
        """At the sandbox's sign-in page: choose the company and allow (or deny). Returns the callback URL."""
        page = self.get(connect_url)
        assert page.status_code == 200, page.text
        request_id = re.search(r'name="request_id" value="([^"]+)"', page.text).group(1)
        answer = self.http.post(self.url("/sandbox/connect/authorize"), timeout=30, allow_redirects=False, data={
            "csrf_token": csrf_from(page.text), "request_id": request_id, "company": company,
            "decision": decision})
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]

    def authorise(self, account_id, company=SANDBOX_COMPANY):
        callback = self.decide(self.start_authorisation(account_id), company)
        return self.get(callback)


@pytest.fixture(autouse=True)
def _portal_loggers_enabled():
    """Alembic's ``fileConfig`` (the test migrations run in this process) disables every logger that
    existed then; the tests that read the logs (no token in them) need the portal's loggers on."""
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if name.startswith("portal") and isinstance(logger, logging.Logger):
            logger.disabled = False


def query_of(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def visma(app, live_server):
    """The VISMA_NET_* URLs at the live server's sandbox."""
    sandbox = live_server.url + "/sandbox"
    app.config.update(VISMA_NET_AUTHORIZE_URL=sandbox + "/connect/authorize",
                      VISMA_NET_TOKEN_URL=sandbox + "/connect/token",
                      VISMA_NET_REVOKE_URL=sandbox + "/connect/revocation",
                      VISMA_NET_API_URL=sandbox + "/api",
                      VISMA_NET_BACKOFF_SECONDS=0.05)
    return live_server


@pytest.fixture
def consultant(visma, users):
    return PortalSession(visma.url).login("consultant")


@pytest.fixture
def companies(app):
    from portal.demo.constants import COMPANIES
    from portal.extensions import db
    from portal.models import Company
    with app.app_context():
        for code, name, is_test in COMPANIES:
            db.session.add(Company(code=code, name=name, is_test_company=is_test))
        db.session.commit()
        return {c.code: c.id for c in db.session.execute(db.select(Company)).scalars()}


def token_calls(app, grant_type=None):
    """The requests the sandbox's token endpoint received (its own record), oldest first."""
    import json

    from portal.extensions import db
    from portal.models.sandbox import SandboxRequest
    with app.app_context():
        rows = db.session.execute(db.select(SandboxRequest).where(
            SandboxRequest.path == "/sandbox/connect/token").order_by(SandboxRequest.id)).scalars().all()
        calls = [json.loads(r.request_body or "{}") | {"status": r.status} for r in rows]
    return [c for c in calls if grant_type is None or c.get("grant_type") == grant_type]
