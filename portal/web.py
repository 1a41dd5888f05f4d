"""Page-or-fragment rendering, error pages, response headers and the safe ``next``.

htmx-flask stays inside this module (``request.htmx``), so that it can be swapped. One helper,
``render``, answers a whole page, or one named block of it to an htmx request, and says ``Vary``.
"""
import re
from urllib.parse import urlsplit

from flask import current_app, flash, g, has_request_context, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from htmx_flask import Htmx
from jinja2_fragments.flask import render_block
from markupsafe import escape
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .extensions import db

htmx = Htmx()


def is_htmx():
    # A history restore (back button, cache miss) needs the whole page, not a fragment.
    return (bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")
            and not request.headers.get("HX-History-Restore-Request"))


def confirmed():
    """The request is the confirming POST of an irreversible action (its confirmation's Yes button sends
    ``confirmed=yes``). Anything else — a GET, or a POST straight to the action — is answered with the
    confirmation instead, so that nothing irreversible happens on one click."""
    return request.method == "POST" and request.form.get("confirmed") == "yes"


def render(template, block=None, *, http_status=200, **context):
    """The whole page, or only ``block`` of it when htmx asks (and a block is named).

    The HTTP status is ``http_status`` (not ``status``: pages pass a run's status as ``status``)."""
    if block and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return body, http_status, {"Vary": "HX-Request"}


# What a browser strips from a URL before it reads it (WHATWG URL standard): C0 controls and spaces at
# either end, and every tab, line feed and carriage return anywhere.
_URL_EDGES = "".join(chr(c) for c in range(0x21))
_URL_DROPPED = re.compile(r"[\t\n\r]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target, default=None):
    """``target`` when it is a path on this site as the browser will read it, else ``default``.

    An open redirect would help phishing, so only a path is accepted: read as the browser reads it
    (tabs and newlines dropped, ``\\`` as ``/``), it must start with one ``/`` and name no scheme or host
    (``//host``, ``/\\host``, ``/<tab>/host``, ``https:``, ``javascript:`` are refused). The answer is the
    normalised path, so the ``Location`` says exactly what the browser will open.

    In a request, a path that only a form's POST answers (where a refused form leaves the browser, e.g.
    ``/integrations/1/dimensions``) is not a page to go back to — a GET there is refused (405): the answer
    is the page that form lives on (``form_page``), else ``default``.
    """
    if not target or not isinstance(target, str):
        return default
    path = _URL_DROPPED.sub("", target.strip(_URL_EDGES)).replace("\\", "/")
    if not path.startswith("/") or path.startswith("//") or _CONTROL.search(path):
        return default
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return default
    if has_request_context():
        path = _page_to_open(path, parts.path)
    return default if path is None else path


def form_page(page):
    """Marks a POST-only view that answers a page (its form refused, a confirmation) with the page its
    form lives on: ``page`` is called with the view's URL arguments and returns that page's URL. A way back
    to the POST-only address (after signing in, say) leads there instead of to a refused GET (405).
    Put it above ``permission_required`` (it marks the view Flask registers); name endpoints in full
    (``blueprint.view``: it is called from other blueprints' views, e.g. sign-in)."""
    def decorate(view):
        view.form_page = page
        return view
    return decorate


def _page_to_open(path, route_path):
    """``path`` when a GET there is not refused as a method (a page, or a 404 says what it says);
    for a POST-only address the page its form lives on (``form_page``), or None when it names none."""
    root = request.script_root
    if root and route_path.startswith(root + "/"):
        route_path = route_path[len(root):]
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        adapter.match(route_path, method="GET")
    except MethodNotAllowed:
        try:
            endpoint, values = adapter.match(route_path, method="POST")
        except HTTPException:
            return None
        page = getattr(current_app.view_functions.get(endpoint), "form_page", None)
        return page(**values) if page else None
    except HTTPException:
        pass            # not found, or a redirect of the router (a missing slash): as before
    return path


def content_security_policy(*form_origins):
    """The portal's one Content-Security-Policy. ``form_origins``: other sites a form of the page may
    lead to (a form whose answer redirects to Visma Connect's sign-in, for example)."""
    sources = " ".join(["'self'", *filter(None, form_origins)])
    return ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            f"form-action {sources}; frame-ancestors 'none'")


def attach_error(form, error, field=None):
    """Show a service's refusal next to the form field it is about, else above the form."""
    target = getattr(form, field, None) if field else None
    if target is None:
        form.form_errors.append(str(error))
    else:
        target.errors = [*target.errors, str(error)]


SIGNED_OUT = _l("You were signed out — in another tab or window, or because your session ended — so what you "
                "sent was not saved. Sign in to go on.")


def return_path():
    """The page the user was on when they sent the request (htmx's ``HX-Current-URL``, else the Referer),
    as a path on this site to come back to after signing in; None when there is none, or it is elsewhere
    or a sign-in page."""
    url = request.headers.get("HX-Current-URL") or request.referrer
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
    return None if path is None or path.startswith("/auth/") else path


def signed_out():
    """The answer to a request that changes something from a session that is no longer signed in: to the
    sign-in page, saying so, and back to the page the user was on after signing in. htmx gets a full-page
    redirect (``HX-Redirect``), never a sign-in page inside a dialog."""
    flash(str(SIGNED_OUT), "info")
    login = url_for("auth.login", next=return_path())
    if request.headers.get("HX-Request"):
        # 204: htmx follows HX-Redirect and swaps nothing (and the browser logs no failed request)
        return "", 204, {"HX-Redirect": login}
    return redirect(login, code=303)


def _was_signed_in_form():
    """Whether the refused request came from a page only a signed-in user gets (its view needs a
    permission) while nobody is signed in now: the user was signed out in the meantime, so the form's
    token, which belonged to the session, is gone with it."""
    view = current_app.view_functions.get(request.endpoint)
    return not current_user.is_authenticated and hasattr(view, "required_permissions")


def _error_page(status, title, message, headers=None):
    if is_htmx():
        # A fragment, swapped where the request aimed; htmx needs 2xx to swap unless told otherwise.
        return render_template("errors/_message.html", title=title, message=message), status, headers or {}
    return render_template("errors/error.html", status=status, title=title, message=message), status, headers or {}


def _http_error_words(code):
    """(title, message) of an HTTP error the portal has no handler of its own for, in the user's language."""
    if code == 405:
        return (_("This cannot be done this way"),
                _("This address does not take this kind of request (a link or an address typed in, where the "
                  "page has a button). Go back and use the page's own buttons and links."))
    if code == 413:
        return (_("What you sent is too large"),
                _("What you sent is larger than the portal accepts. Send less at a time, or a smaller file."))
    if code >= 500:
        return (_("Something went wrong"),
                _("The portal could not complete your request because of an error on its side; it was "
                  "logged. Try again in a moment. If it keeps happening, give an administrator this "
                  "reference: %(reference)s.", reference=getattr(g, "request_id", "-")))
    return (_("The request cannot be handled"),
            _("What you sent is incomplete or not what the page sends. Go back, reload the page and try again."))


def _error_headers(error):
    """The headers an HTTP error says (a 405's ``Allow``, a 429's ``Retry-After``), but its body's type."""
    return {key: value for key, value in error.get_headers() if key.lower() != "content-type"}


def http_error(error):
    """Every HTTP error without a handler of its own (400, 405, 413, 500 …): the portal's page (or, to
    htmx, its message fragment) in the user's language — never Werkzeug's bare English page, and never
    an exception's text. A machine client that sent JSON gets JSON."""
    if not isinstance(error, HTTPException) or error.code is None or error.code < 400:
        return error
    code = error.code
    headers = _error_headers(error)
    if code >= 500:
        # A server error may have left the database session unusable (an aborted transaction), and the
        # user's language and the page (navigation, notifications) read from it: start afresh.
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 — the answer must not fail for it
            current_app.logger.exception("rolling back after a server error failed")
    # If the page cannot be drawn, a plain one that needs nothing but the words.
    try:
        title, message = _http_error_words(code)
        if request.is_json:
            return {"message": message}, code, headers
        return _error_page(code, title, message, headers)
    except Exception:  # noqa: BLE001
        current_app.logger.exception("the error page could not be drawn")
        return _plain_error_page(code), code, headers


def _plain_error_page(code):
    """A page without the layout (drawing it failed): the words and the language, nothing else."""
    try:
        title, message = _http_error_words(code)
    except Exception:  # noqa: BLE001 — not even the user's language could be read
        title, message = "Something went wrong", "The portal could not complete your request. Try again in a moment."
    if is_htmx():
        return f'<div class="flash flash-error" role="alert" data-error-message><strong>{escape(title)}</strong> ' \
               f"{escape(message)}</div>"
    try:
        lang = str(get_locale() or "en").replace("_", "-")
    except Exception:  # noqa: BLE001
        lang = "en"
    return (f'<!doctype html>\n<html lang="{escape(lang)}">\n<head><meta charset="utf-8"><title>{escape(title)}'
            f"</title></head>\n<body><main><h1>{escape(title)}</h1><p>{escape(message)}</p>"
            f'<p><a href="/">{escape(_("Go to the home page"))}</a></p></main></body>\n</html>\n')


def init_app(app):
    htmx.init_app(app)
    from . import navigation
    navigation.init_app(app)

    @app.errorhandler(403)
    def forbidden(_error):
        return _error_page(403, _("You may not open this page"),
                           _("Your account does not have the permission this page needs. "
                             "Ask an administrator if you think it should."))

    @app.errorhandler(404)
    def not_found(_error):
        return _error_page(404, _("Page not found"), _("This page does not exist or has been removed."))

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        if _was_signed_in_form():
            return signed_out()
        if request.endpoint == "auth.logout" and not current_user.is_authenticated:
            flash(_("You have been signed out."), "info")      # Sign out on a page left open: done already
            return redirect(url_for("auth.login"), code=303)
        return _error_page(400, _("The form has expired"),
                           _("The page was open too long or came from elsewhere. "
                             "Go back, reload the page and try again."))

    @app.errorhandler(429)
    def too_many(_error):
        return _error_page(429, _("Too many attempts"),
                           _("Too many attempts in a short time. Wait a few minutes and try again."))

    # Every other HTTP error, and a server error (an exception no handler took becomes a 500, whose
    # handler gets it; the exception is logged by Flask first, and never shown).
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(500, http_error)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        return response
