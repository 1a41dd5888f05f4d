import logging

from flask import Response, abort, flash, redirect, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from .. import audit
from ..auth.guards import permission_required
from ..auth.services import note_browser_locale
from ..i18n import language_code
from ..models import Permission
from ..validation import parse_date, parse_id, parse_page
from ..web import attach_error, render
from . import bp
from .forms import UserForm
from .services import UserError, create_user, get_user, list_users, update_user

log = logging.getLogger(__name__)


@bp.route("/users")
@permission_required(Permission.MANAGE_USERS)
def users():
    return render("admin/users.html", users=list_users())


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_USERS)
def new_user():
    form = UserForm()
    valid = form.validate_on_submit()
    if form.is_submitted() and not form.password.data:
        # Reported together with the other fields' errors, not after they are fixed.
        form.password.errors = [*form.password.errors, _("Enter a password for the new user.")]
        valid = False
    if valid:
        try:
            user = create_user(form.email.data, form.password.data, permissions=form.permissions.data,
                               name=form.name.data, locale=form.locale.data or None,
                               active=form.active.data, acting_user=current_user)
        except UserError as exc:
            attach_error(form, exc, exc.field or "email")
        else:
            log.info("user %s created by user %s", user.id, current_user.id)
            flash(_("User %(email)s was created.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    return render("admin/user_form.html", form=form, user=None)


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_USERS)
def edit_user(user_id):
    user = get_user(user_id) or abort(404)
    form = UserForm(obj=user)
    if not form.is_submitted():
        form.permissions.data = [p.value for p in user.permissions]
        form.locale.data = user.locale or ""
    form.email.render_kw = {"readonly": True}
    form.email.data = user.email
    if form.validate_on_submit():
        own_account = user.id == current_user.id
        try:
            update_user(user, form.permissions.data, form.locale.data, form.active.data, form.name.data,
                        password=form.password.data or None, acting_user=current_user)
        except UserError as exc:
            attach_error(form, exc, exc.field or "email")
        else:
            log.info("user %s changed by user %s%s", user.id, current_user.id,
                     " (password reset)" if form.password.data else "")
            if own_account and form.password.data:
                login_user(user)  # a new password signs out other sessions, not this one
            if own_account:    # now on "Browser language": the language these pages are shown in, for the mails
                note_browser_locale(user, language_code())
            flash(_("The changes to %(email)s were saved.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    return render("admin/user_form.html", form=form, user=user)


# -- The audit log ------------------------------------------------------------------------------

def _audit_filters():
    filters = audit.Filters(actor_id=parse_id(request.args.get("user")))
    action = request.args.get("action") or None
    filters.action = action if action in audit.ACTIONS else None
    for name in ("date_from", "date_to"):
        value = (request.args.get(name) or "").strip()
        if value:
            try:
                setattr(filters, name, parse_date(value))
            except ValueError as problem:
                filters.errors.append((name, str(problem)))
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        filters.errors.append(("date_to", _("The end of the period is before its start.")))
        filters.date_to = None
    return filters


@bp.route("/audit")
@permission_required(Permission.MANAGE_USERS)
def audit_log():
    """Who did what, when, on what: filter by user, action and date; newest first."""
    filters = _audit_filters()
    page = audit.entries(filters, page=parse_page(request.args.get("page")))
    return render("admin/audit.html", block="results", page=page, filters=filters, errors=dict(filters.errors),
                  users=list_users(), actions=[(code, audit.action_label(code)) for code in audit.ACTIONS],
                  describe=audit.describe, action_label=audit.action_label)


@bp.route("/audit.csv")
@permission_required(Permission.MANAGE_USERS)
def audit_csv():
    """The filtered audit log as CSV, in the reader's language, streamed."""
    filters = _audit_filters()
    return Response(stream_with_context(audit.csv_rows(filters)), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})
