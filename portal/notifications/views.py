"""Thin views: the user's notification subscriptions; unread notifications on the home page, read when
the user opens the run."""
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.guards import permission_required
from ..auth.services import note_browser_locale
from ..i18n import language_code
from ..models import Permission
from ..exporting import queries
from ..web import render
from ..validation import parse_id
from . import bp, services
from .labels import ALL_PROFILES_EVENT_LABELS, EVENT_LABELS

READERS = (Permission.IMPORT_EXPORT, Permission.VIEW_EXPORTS)


@bp.route("/notifications", methods=["GET", "POST"])
@permission_required(*READERS)
def settings():
    """Subscribe to events of one profile, or (managers, consultants) of every profile."""
    may_all = services.may_subscribe_all(current_user)
    profiles = _profiles()
    if request.method == "POST":
        # One form for every profile on the page: each fieldset names its profile and its ticked events.
        chosen = {}
        for raw in request.form.getlist("profile"):
            if raw == "all" and may_all:
                profile_id = None
            else:
                profile_id = parse_id(raw)
                if profile_id is None or queries.get_profile(profile_id) is None:
                    abort(404)
            chosen[profile_id] = request.form.getlist(f"events-{raw}")
        services.save_subscriptions(current_user, chosen)
        flash(_("Your notifications are saved."), "success")
        return redirect(url_for("notifications.settings"))
    # The page names the language of the user's mails: on "Browser language", the one it is shown in now.
    note_browser_locale(current_user, language_code())
    # Each profile is offered the events it can have (a file profile has no sync to stop); every profile
    # together, all of them, saying which apply to Visma.net profiles only.
    rows = [(None, _("All export profiles"), services.subscribed_events(current_user.id, None),
             services.events_of(None))] if may_all else []
    rows += [(p.id, p.name, services.subscribed_events(current_user.id, p.id), services.events_of(p))
             for p in profiles]
    return render("notifications/settings.html", rows=rows, labels=EVENT_LABELS,
                  all_labels=ALL_PROFILES_EVENT_LABELS,
                  mail=services.mail_configured(), mail_language=services.mail_language(current_user),
                  language_set=current_user.locale in current_app.config["LANGUAGES"])


def _profiles():
    return queries.list_profiles()


def init_views(app):
    app.jinja_env.globals.update(unread_notifications=lambda: services.unread(current_user.id)
                                 if current_user.is_authenticated else [],
                                 notification_label=lambda event: EVENT_LABELS.get(event, event))

    @app.before_request
    def _opened_run():
        # Opening a run reads its notifications (the run page itself belongs to portal.runs).
        if request.endpoint == "runs.run" and current_user.is_authenticated and request.view_args:
            services.mark_run_read(current_user.id, request.view_args.get("run_id"))
