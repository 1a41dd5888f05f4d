import logging

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..extensions import limiter
from . import bp
from .forms import SignInForm
from .services import SESSION_KEY, authenticate, end_session, note_browser_locale, remember_locale, start_session
from ..i18n import language_code
from ..web import safe_next

log = logging.getLogger(__name__)


def _email_key():
    return "login:" + (request.form.get("email") or "").strip().lower()


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def _failed(response):
    """Only a refused sign-in counts towards the limits: a person who signs in often is not guessing."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_email_key,
               error_message="too-many-attempts", deduct_when=_failed)
@limiter.limit(lambda: "30 per 5 minutes", methods=["POST"], error_message="too-many-attempts",
               deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = SignInForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            log.warning("sign-in refused (unknown e-mail, wrong password or inactive user)")
            flash(_("The e-mail address or password is not correct."), "error")
        else:
            locale = session.get("locale")
            chosen_here = session.get("locale_chosen")
            session.clear()  # a fresh session at sign-in: no fixation
            if locale:
                session["locale"] = locale
            if chosen_here and locale in current_app.config["LANGUAGES"] and user.locale != locale:
                # The language chosen on the sign-in page becomes the user's setting, as the switcher's
                # choice does once signed in (a language merely kept from the last sign-out does not).
                remember_locale(user, locale)
            session.permanent = True
            session[SESSION_KEY] = start_session(user)
            login_user(user)
            note_browser_locale(user, language_code())     # on "Browser language": for their mails
            log.info("signed in: user %s", user.id)
            return redirect(safe_next(request.args.get("next"), url_for("main.index")))
    return render_template("auth/login.html", form=form), (401 if request.method == "POST" else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    locale = session.get("locale")
    end_session(current_user if current_user.is_authenticated else None, session.get(SESSION_KEY))
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have been signed out."), "info")
    return redirect(url_for("auth.login"))
