from flask import current_app, jsonify, redirect, request, send_from_directory, session, url_for
from flask_login import current_user

from ..auth.guards import signed_in_required
from ..auth.services import remember_locale
from ..web import render, safe_next
from . import bp
from .services import health as health_report


@bp.route("/")
@signed_in_required
def index():
    return render("main/index.html")


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch language (also before sign-in). Signed-in users keep it as their setting."""
    locale = request.form.get("locale", "")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            remember_locale(current_user, locale)
        else:
            session["locale_chosen"] = True  # chosen on the sign-in page: saved for whoever signs in next
    return redirect(safe_next(request.form.get("next") or request.referrer, url_for("main.index")))


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says; the pages link the same icon from static/."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600)


@bp.route("/health")
def health():
    report = health_report()
    return jsonify(report), (200 if report["status"] == "ok" else 503)
