"""What every page must pass in a real browser: no console error, no 404 (or worse) of its own assets,
and no serious or critical axe-core violation.

``PageWatch`` listens to a Playwright page for its whole life (the ``page`` fixture attaches one and
fails the test on what it heard). ``axe_violations`` runs axe-core (bundled by axe-playwright-python:
it works offline) in the page as it is now, dialogs open included.
"""
from contextlib import contextmanager
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe

BLOCKING_IMPACTS = ("serious", "critical")
# Rules of a lower impact that the portal holds itself to all the same.
BLOCKING_RULES = ("page-has-heading-one", "heading-order")
_axe = Axe()


def _origin(url):
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


class PageWatch:
    """Console errors, uncaught exceptions and failed own-asset requests of one page (all navigations)."""

    def __init__(self, page):
        self.page = page
        self.problems = []
        self._documents = set()  # main documents that answered 4xx/5xx on purpose (a 404 page, a refused form)
        self._answered = set()   # htmx requests that answered 4xx with a message the page shows
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught exception: {error}"))
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    def _own(self, url):
        return self.page.url.startswith("http") and _origin(url) == _origin(self.page.url)

    def _response(self, response):
        request = response.request
        if response.status < 400:
            return
        if request.resource_type == "document":
            self._documents.add(response.url)
            return
        if request.resource_type in ("fetch", "xhr") and response.status < 500:
            self._answered.add(response.url)
            return  # htmx asked and the page shows the answer (a 404 message, a form with errors)
        if self._own(response.url):
            self.problems.append(f"{response.status} for {request.resource_type} {response.url}")

    def _failed(self, request):
        failure = request.failure or ""
        if "ERR_ABORTED" in failure or request.resource_type == "document":
            return  # a navigation that replaced the page, a download
        if any(code in failure for code in ("ERR_CONNECTION", "ERR_SOCKET", "ERR_EMPTY_RESPONSE")) \
                or request.resource_type == "other":
            # The test's server stopped (its fixture may end before the page's), or the browser's own
            # late favicon fetch: not a missing asset (a missing one answers 404, caught above).
            return
        if self._own(request.url):
            self.problems.append(f"request failed ({failure}): {request.resource_type} {request.url}")

    def _console(self, message):
        if message.type != "error":
            return
        text = message.text
        location = (message.location or {}).get("url", "")
        if text.startswith("Failed to load resource: net::"):
            return  # a connection-level failure, judged by _failed (a missing asset answers with a status)
        if text.startswith("Failed to load resource") and (location in self._documents or location in self._answered
                                                           or location == self.page.url):
            return  # the page itself answered 4xx on purpose (a 404 page, a refused sign-in): not an asset
        self.problems.append(f"console error: {text} ({location})")

    def take(self):
        problems, self.problems = self.problems, []
        return problems


def axe_violations(page, impacts=BLOCKING_IMPACTS):
    """The axe-core violations of the page as it is now whose impact is one of ``impacts``:
    [(rule id, impact, help, [target selectors])]."""
    results = _axe.run(page)
    found = []
    for violation in results.response["violations"]:
        if impacts is None or violation.get("impact") in impacts:
            found.append((violation["id"], violation.get("impact"), violation.get("help"),
                          [", ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
                           for node in violation["nodes"]][:5]))
    return found


def own_assets_load(page):
    """Every stylesheet, script and icon the page links answers 200, and so does /favicon.ico."""
    urls = page.evaluate("""() => [
        ...[...document.querySelectorAll('link[rel~="stylesheet"], link[rel~="icon"]')].map(l => l.href),
        ...[...document.querySelectorAll('script[src]')].map(s => s.src),
        new URL('/favicon.ico', location.href).href]""")
    problems = []
    for url in dict.fromkeys(urls):
        if _origin(url) == _origin(page.url):
            status = page.request.get(url).status
            if status != 200:
                problems.append(f"{status} for {url}")
    return problems


@contextmanager
def watched_page(browser, javascript=True, **options):
    """A page of a new British-English context, JavaScript on or off (``options``: Playwright's context
    options, e.g. a viewport), closed after the block; the block fails on anything ``PageWatch`` heard."""
    context = browser.new_context(locale="en-GB", java_script_enabled=javascript, **options)
    page = context.new_page()
    watch = PageWatch(page)
    try:
        yield page
    finally:
        context.close()
    assert not watch.take()
