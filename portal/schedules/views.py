"""Thin views: a profile's schedules (list, new, edit, pause/resume, delete), for Import and export."""
from flask import abort, flash, redirect, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.guards import permission_required
from ..exporting.errors import ExportError
from ..i18n import datetime_filter
from ..notifications.services import mark_profile_read
from ..exporting.types import get_type
from ..models import Permission
from ..exporting import queries
from ..web import confirmed, render
from . import bp, services
from .forms import ScheduleForm

RUNNERS = (Permission.IMPORT_EXPORT,)

# The service's error codes → the form field they are about.
ERROR_FIELDS = {"schedule_frequency": "frequency", "schedule_time": "time", "schedule_weekday": "weekday",
                "schedule_day": "day", "schedule_window": "window", "unknown_mode": "mode",
                "schedule_booking_date": "booking_date_rule", "unknown_debtors": "debtors",
                "ambiguous_debtors": "debtors", "description_too_long": "description"}


def _profile_or_404(profile_id):
    return queries.get_profile(profile_id) or abort(404)


def _takes(profile):
    return get_type(profile.export_type).accepted_params


@bp.route("/profiles/<id:profile_id>/schedules")
@permission_required(*RUNNERS)
def index(profile_id):
    profile = _profile_or_404(profile_id)
    mark_profile_read(current_user.id, profile.id)
    return render("schedules/index.html", profile=profile, schedules=services.schedules_of(profile.id),
                  starts=services.recent_starts(profile.id), form=FlaskForm(), takes=_takes(profile))


def _form_page(profile, schedule=None):
    form = ScheduleForm().fill_choices()
    if schedule is None:
        form.prepare()
    elif not form.is_submitted():
        form.load(schedule, debtors=services.debtor_texts(schedule))
    if form.validate_on_submit():
        try:
            saved = services.save_schedule(profile.id, schedule_id=schedule.id if schedule else None,
                                           user=current_user, locale=str(get_locale()),
                                           form_token=form.token() if schedule is None else None, **form.values())
        except ExportError as exc:
            if exc.code == "schedule_already_saved":
                # The same New schedule form again (a resend): nothing more is made, and the list says so.
                flash(str(exc), "info")
                return redirect(url_for("schedules.index", profile_id=profile.id))
            field = getattr(form, ERROR_FIELDS.get(exc.code, ""), None)
            if field is not None:
                field.errors = list(field.errors) + [str(exc)]
            else:
                form.form_errors.append(str(exc))
        else:
            flash(_("The schedule is saved. Next start: %(time)s.", time=_next_text(saved)), "success")
            return redirect(url_for("schedules.index", profile_id=profile.id))
    status = 400 if form.is_submitted() else 200
    return render("schedules/form.html", http_status=status, form=form, profile=profile, schedule=schedule,
                  takes=_takes(profile))


def _next_text(schedule):
    return datetime_filter(schedule.next_start_at, "short") if schedule.next_start_at else _("paused")


@bp.route("/profiles/<id:profile_id>/schedules/new", methods=["GET", "POST"])
@permission_required(*RUNNERS)
def new(profile_id):
    profile = _profile_or_404(profile_id)
    if profile.archived:
        abort(404)
    return _form_page(profile)


@bp.route("/profiles/<id:profile_id>/schedules/<id:schedule_id>/edit", methods=["GET", "POST"])
@permission_required(*RUNNERS)
def edit(profile_id, schedule_id):
    profile = _profile_or_404(profile_id)
    schedule = services.get_schedule(profile.id, schedule_id) or abort(404)
    return _form_page(profile, schedule)


@bp.route("/profiles/<id:profile_id>/schedules/<id:schedule_id>/pause", methods=["POST"])
@permission_required(*RUNNERS)
def pause(profile_id, schedule_id):
    """Pause (``paused=1``) or resume (``paused=0``)."""
    profile = _profile_or_404(profile_id)
    services.get_schedule(profile.id, schedule_id) or abort(404)
    paused = request.form.get("paused") == "1"
    schedule = services.set_paused(profile.id, schedule_id, paused, user=current_user)
    flash(_("The schedule is paused.") if paused else
          _("The schedule runs again. Next start: %(time)s.", time=_next_text(schedule)), "success")
    return redirect(url_for("schedules.index", profile_id=profile.id))


@bp.route("/profiles/<id:profile_id>/schedules/<id:schedule_id>/delete", methods=["GET", "POST"])
@permission_required(*RUNNERS)
def delete(profile_id, schedule_id):
    """Delete for good, only on the confirmation's Yes (a GET or a POST straight here shows it)."""
    profile = _profile_or_404(profile_id)
    schedule = services.get_schedule(profile.id, schedule_id) or abort(404)
    if not confirmed():
        return render("schedules/confirm_delete.html", block="dialog", profile=profile, schedule=schedule,
                      takes=_takes(profile))
    services.delete_schedule(profile.id, schedule.id, user=current_user)
    flash(_("The schedule is deleted. The exports it started stay."), "success")
    return redirect(url_for("schedules.index", profile_id=profile.id))
