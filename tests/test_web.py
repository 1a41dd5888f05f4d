"""Cross-cutting web helpers: the one safe ``next`` (no open redirect, as the browser reads a URL).

Where a redirect goes is decided the way a browser decides it: the ``Location`` is resolved with a
WHATWG URL parser (ada, the parser of Node.js) against the page's address, and must stay on this site.
"""
import html
import re

import ada_url
import pytest

from portal.web import safe_next

SITE = "http://localhost"

# Each of these, read by a browser as a link on this site, leaves it or runs script (or is no path).
HOSTILE = [
    "/\t/evil.example/", "/\\evil", "\\\\evil", "/\\/evil", "//evil", "///evil", "https://evil",
    "https:evil", "HTTPS://evil", "javascript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "\n//evil", "/\n/evil", "/\r\n/evil", "/\r/evil.example", " //evil", "\x00//evil", "\t\\\\evil",
    "%2F%2Fevil", "//evil/%2F..", "data:text/html,<script>alert(1)</script>", "evil.example",
    "/\\\t\\evil",
]
# A path on this site stays what it is (a query and a fragment too).
SAFE = ["/", "/overview/?status=failed&page=2", "/runs/7/prepared?next=%2Fscenarios", "/%2F/a", "/a//b#x"]


def _lands_on_site(location, page="/language"):
    """Where a browser goes when it follows ``location`` from ``page`` on this site."""
    resolved = ada_url.URL(ada_url.join_url(SITE + page, location))
    return resolved.protocol == "http:" and resolved.host == "localhost"


@pytest.mark.parametrize("target", HOSTILE)
def test_safe_next_refuses_what_a_browser_reads_as_another_site(target):
    assert safe_next(target) is None
    assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", SAFE)
def test_safe_next_keeps_a_path_on_this_site(target):
    assert safe_next(target) == target


def test_safe_next_never_answers_anything_that_leaves_the_site():
    """Every mix of the characters browsers treat specially, up to four long: what safe_next lets through
    a browser opens on this site."""
    import itertools
    alphabet = ["/", "\\", "\t", "\n", "\r", " ", ":", "evil", "%2F", "@", "?", "#", "."]
    for length in range(1, 5):
        for parts in itertools.product(alphabet, repeat=length):
            target = "".join(parts)
            answer = safe_next(target)
            if answer is not None:
                assert _lands_on_site(answer), (target, answer)
                assert _lands_on_site(target), (target, answer)


def _location(response, target=None):
    if target is not None and re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", target):
        # A control character other than tab/CR/LF is refused before any view (portal/validation.py):
        # no redirect at all, and the page says why.
        assert response.status_code == 400 and "Location" not in response.headers
        return None
    assert response.status_code in (301, 302, 303), response.status_code
    return response.headers["Location"]


@pytest.mark.parametrize("target", HOSTILE)
def test_language_switch_redirects_only_on_this_site(client, auth, target):
    token = auth.csrf_token("/")
    response = client.post("/language", data={"locale": "nl", "next": target, "csrf_token": token})
    location = _location(response, target)
    if location is None:
        return
    assert _lands_on_site(location), location
    assert location == "/"  # the home page instead


def test_language_switch_returns_to_the_page_it_came_from(client, auth):
    token = auth.csrf_token("/")
    response = client.post("/language", data={"locale": "nl", "next": "/overview/?page=2", "csrf_token": token})
    assert _location(response) == "/overview/?page=2"


@pytest.mark.parametrize("target", HOSTILE)
def test_integration_refresh_redirects_only_on_this_site(app, client, auth, target):
    from portal.integrations import services
    with app.app_context():
        account_id = services.create_account("Visma.net Zorggroep", None).id
    auth.login("admin")
    token = auth.csrf_token(f"/integrations/{account_id}")
    response = client.post(f"/integrations/{account_id}/refresh", data={"next": target, "csrf_token": token})
    location = _location(response, target)
    if location is None:
        return
    assert _lands_on_site(location, f"/integrations/{account_id}"), location
    assert location == f"/integrations/{account_id}"


def test_sign_in_redirects_only_on_this_site(client, auth):
    token = auth.csrf_token("/auth/login")
    response = client.post("/auth/login?next=/%5C%09/evil.example/", data={
        "email": "staff@example.com", "password": "demo", "csrf_token": token})
    assert _location(response) == "/"


def test_roll_back_dialog_links_only_on_this_site(app, client, auth):
    from tests import factories
    with app.app_context():
        run_id = factories.run(factories.profile(), status="exported", mode="production").id
    auth.login("staff")
    page = client.get(f"/runs/{run_id}/roll-back?next=/%5Cevil.example/").get_data(as_text=True)
    links = [html.unescape(h) for h in re.findall(r'(?:href|value)="([^"]*)"', page)]
    assert not [link for link in links if "evil" in link and not link.startswith("/runs/")]
    assert f'href="/runs/{run_id}"' in page  # Cancel goes back to the run
    page = client.get(f"/runs/{run_id}/roll-back?next=/scenarios").get_data(as_text=True)
    assert 'href="/scenarios"' in page


def test_in_a_request_an_address_only_a_post_answers_becomes_the_page_its_form_lives_on(app):
    """Where a refused form leaves the browser (``/integrations/7/dimensions``) a GET is refused (405): a
    way back there (after signing in) goes to the form's page instead, or to the default."""
    with app.test_request_context("/"):
        assert safe_next("/integrations/7/dimensions") == "/integrations/7/setup/dimensions"
        assert safe_next("/integrations/7/administrations?x=1") == "/integrations/7/setup/administrations"
        assert safe_next("/scenarios/process") == "/scenarios"
        assert safe_next("/integrations/7/refresh", "/fallback") == "/fallback"   # names no page
        assert safe_next("/auth/logout") is None
        for target in SAFE + ["/no/such/page", "/integrations/7/setup/dimensions"]:
            assert safe_next(target) == target
        for target in HOSTILE:
            assert safe_next(target) is None
