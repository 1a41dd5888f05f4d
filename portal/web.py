"""Page-or-fragment rendering, error pages and response headers.

htmx-flask stays inside this module (``request.htmx``), so that it can be swapped. One helper,
``render``, answers a whole page, or one named block of it to an htmx request, and says ``Vary``.
"""
from flask import render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from htmx_flask import Htmx
from jinja2_fragments.flask import render_block

htmx = Htmx()


def is_htmx():
    # A history restore (back button, cache miss) needs the whole page, not a fragment.
    return (bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")
            and not request.headers.get("HX-History-Restore-Request"))


def render(template, block=None, status=200, **context):
    """The whole page, or only ``block`` of it when htmx asks (and a block is named)."""
    if block and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return body, status, {"Vary": "HX-Request"}


def _error_page(status, title, message):
    if is_htmx():
        # A fragment, swapped where the request aimed; htmx needs 2xx to swap unless told otherwise.
        return render_template("errors/_message.html", title=title, message=message), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def init_app(app):
    htmx.init_app(app)
    from . import navigation
    navigation.init_app(app)

    from .admin.forms import PERMISSION_LABELS

    @app.context_processor
    def _labels():
        return {"permission_label": lambda p: PERMISSION_LABELS.get(getattr(p, "value", p), p),
                # A dialog's title is the page's level-one heading when the dialog is opened as a page.
                "dialog_heading": lambda: "h2" if is_htmx() else "h1"}

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
        return _error_page(400, _("The form has expired"),
                           _("The page was open too long or came from elsewhere. "
                             "Go back, reload the page and try again."))

    @app.errorhandler(429)
    def too_many(_error):
        return _error_page(429, _("Too many attempts"),
                           _("Too many attempts in a short time. Wait a few minutes and try again."))

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "form-action 'self' " + app.config.get("CSP_FORM_ACTION_EXTRA", "") + "; frame-ancestors 'none'")
        return response
