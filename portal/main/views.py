from flask import current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user

from ..auth.guards import signed_in_required
from ..web import render, safe_next
from . import bp
from .services import health as health_report, remember_locale


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
    return redirect(safe_next(request.form.get("next") or request.referrer, url_for("main.index")))


@bp.route("/health")
def health():
    report = health_report()
    return jsonify(report), (200 if report["status"] == "ok" else 503)
