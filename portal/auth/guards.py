"""``permission_required``: every page and action names the task it needs."""
from functools import wraps

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..web import signed_out


def _login_url():
    # full_path ends in "?" when there is no query string: the page to return to is without it.
    return url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)


def unauthorized():
    """Not signed in (or the session expired). htmx gets a full-page redirect, never a login fragment. A
    request that changes something (a POST from a page opened while signed in) says the user was signed
    out, and leads back to that page after signing in."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        return signed_out()
    if request.headers.get("HX-Request"):
        response = redirect(_login_url())
        response.status_code = 401
        response.headers["HX-Redirect"] = url_for("auth.login")
        return response
    flash(_("Please sign in to open this page."), "info")
    return redirect(_login_url())


def permission_required(*permissions):
    """Allow the view only to signed-in users holding one of ``permissions``; others get 403."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return unauthorized()
            if permissions and not current_user.can(*permissions):
                abort(403)
            return view(*args, **kwargs)
        wrapped.required_permissions = permissions
        return wrapped
    return decorator


def signed_in_required(view):
    return permission_required()(view)
