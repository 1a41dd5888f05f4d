"""With JavaScript, a server error (500) shows the portal's message where the answer was going, as a
refused request (4xx) does; before, portal.js swapped nothing on a 5xx and the click seemed to do nothing.
Another server's error page (a proxy's 502) is still not swapped in."""
import re

import pytest
from flask import render_template_string
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PAGE = """{% extends "base.html" %}{% block content %}<h1>Test</h1>
<button id="broken" hx-get="/test-only/broken" hx-target="#out">Broken</button>
<button id="proxy" hx-get="/test-only/proxy" hx-target="#out">Proxy</button>
<div id="out"><p>Nothing yet</p></div>{% endblock %}"""


@pytest.fixture
def routes(app):
    def broken():
        raise RuntimeError("secret detail of the failure")

    app.add_url_rule("/test-only/page", "test_page", lambda: render_template_string(PAGE))
    app.add_url_rule("/test-only/broken", "test_broken", broken)
    app.add_url_rule("/test-only/proxy", "test_proxy",
                     lambda: ("<html><body><h1>502 Bad Gateway</h1></body></html>", 502))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_a_server_error_shows_the_portals_message(routes, live_server, browser):
    # Not the ``page`` fixture: it fails a test on any 5xx, and this one asks for them on purpose.
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/test-only/page")
        expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
        page.click("#proxy")
        page.wait_for_timeout(500)
        expect(page.locator("#out")).to_contain_text("Nothing yet")            # a proxy's page stays out
        page.click("#broken")
        expect(page.locator("#out [data-error-message]")).to_contain_text("Er ging iets mis")
        expect(page.locator("#out")).not_to_contain_text("secret detail")
    finally:
        context.close()
