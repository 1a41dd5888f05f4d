"""Thin views: the profiles page, one profile with its last runs, and profile management."""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from ..auth.guards import permission_required
from ..exporting import queries, services
from ..exporting.errors import ExportError
from ..exporting.providers import all_providers
from ..exporting.types import all_types, get_type
from ..models import Permission
from ..runs.forms import ConfirmForm
from ..web import attach_error, confirmed, render
from . import bp
from .forms import COLUMN_FORMATS, ProfileForm

READERS = (Permission.IMPORT_EXPORT, Permission.VIEW_EXPORTS)
MANAGERS = (Permission.MANAGE_EXPORTS,)

# The engine's error codes → the form field they are about.
ERROR_FIELDS = {"name_required": "name", "name_taken": "name", "name_too_long": "name", "unknown_export_type": "export_type", "unknown_provider": "provider",
                "unknown_sync_type": "sync_type", "unknown_company": "company_id", "unknown_window": "default_window",
                "unknown_format": "format", "format_not_available": "format",
                "account_required": "account_id", "item_classes_required": "item_class_stock"}


@bp.route("/")
@permission_required(*READERS)
def index():
    show_archived = request.args.get("archived") == "1" and current_user.can(*MANAGERS)
    return render("profiles/index.html", groups=queries.profiles_by_type(include_archived=show_archived),
                  show_archived=show_archived, form=ConfirmForm())


@bp.route("/<id:profile_id>")
@permission_required(*READERS)
def detail(profile_id):
    """The profile with its Last run exports (test and production, files and reports)."""
    profile = queries.get_profile(profile_id, include_archived=True) or abort(404)
    runs, files = queries.last_runs(profile.id)
    return render("profiles/detail.html", profile=profile, runs=runs, files=files,
                  scheduled=queries.scheduled_runs(profile.id), form=ConfirmForm())


def _type_columns(export_type_key):
    try:
        return get_type(export_type_key).columns()
    except ExportError:
        return []


def column_state(columns, data, saved=None, export_type=None):
    """[(column, ticked)] in the order chosen on the page, and the chosen keys to save (None: every
    column in its own order). ``data`` is the form (or the htmx request's arguments): its ``order``
    lists the columns as the page shows them, ``col_<key>`` is ticked, ``move`` ("up:key" or
    "down:key") is a Move button pressed without JavaScript. Without ``order`` (a first look, or
    another export type) the saved choice, else every column."""
    by_key = {c.key: c for c in columns}
    same_type = export_type is None or data.get("columns_for") == export_type  # not another type's columns
    # Each column once (a form that repeats a key would write the column twice).
    order = [key for key in dict.fromkeys(data.getlist("order")) if key in by_key] if same_type else []
    if order:
        ticked = {key for key in order if data.get(f"col_{key}")}
    else:
        order = [key for key in (saved or []) if key in by_key]
        ticked = set(order) if order else set(by_key)
    order += [key for key in by_key if key not in order]
    direction, _sep, moved = (data.get("move") or "").partition(":")
    if moved in order:
        index = order.index(moved)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(order):
            order[index], order[other] = order[other], order[index]
    chosen = [key for key in order if key in ticked]
    return [(by_key[key], key in ticked) for key in order], (None if chosen == list(by_key) else chosen)


def _label(item):
    return item.label or item.key


def _form(formdata=None):
    form = ProfileForm(formdata=formdata) if formdata is not None else ProfileForm()
    form.fill_choices(all_types(), all_providers(), queries.companies(), _label, queries.integration_accounts())
    return form


def _limit_formats(form):
    """Only the file formats the chosen export type can be written in."""
    try:
        formats = get_type(form.export_type.data).formats
    except ExportError:
        return
    if form.is_submitted() and form.format.data not in formats:
        return  # a page from before the type changed: the engine refuses it next to the field
    form.format.choices = [(key, label) for key, label in form.format.choices if key in formats]
    if form.format.data not in formats:
        form.format.data = form.format.choices[0][0] if form.format.choices else None


def _options_context(form, data, saved=None):
    form.export_type.data = form.export_type.data or form.export_type.choices[0][0]
    form.provider.data = form.provider.data or "file"
    _limit_formats(form)
    columns, chosen = column_state(_type_columns(form.export_type.data), data, saved, form.export_type.data)
    if form.format.data not in COLUMN_FORMATS:
        columns = []
    return {"form": form, "columns": columns, "format_fields": form.format_fields()}, chosen


def _keep_fixed_settings(form, profile):
    """A profile whose export type, provider and integration account are fixed: the page shows them as
    text. A POST that changes one (a crafted form) is refused with the reason, and the form goes on with
    the saved values — also where the POST leaves them out."""
    posted = {name: getattr(form, name).data if name in request.form else None
              for name in ("export_type", "provider", "account_id")}
    saved_account = (profile.options or {}).get("account_id") if profile.provider == "visma_net" else None
    refusal = None
    try:
        services.check_fixed_settings(
            profile, export_type=posted["export_type"] or profile.export_type,
            provider=posted["provider"] or profile.provider,
            options={"account_id": posted["account_id"] if posted["account_id"] is not None else saved_account})
    except ExportError as exc:
        refusal = exc
    form.export_type.data, form.provider.data = profile.export_type, profile.provider
    form.account_id.data = str(saved_account or "")
    return refusal


def _form_page(profile):
    form = _form()
    if profile is not None and not form.is_submitted():
        form.load(profile)
    fixed = profile is not None and services.fixed_settings(profile)
    refusal = _keep_fixed_settings(form, profile) if fixed and form.is_submitted() else None
    saved = (profile.options or {}).get("columns") if profile else None
    context, chosen = _options_context(form, request.form, saved)
    context["fixed"] = services.fixed_settings_reason(profile) if fixed else None
    action = "move" if request.form.get("move") else request.form.get("action", "save")
    if refusal is not None:
        attach_error(form, refusal)
    elif action == "save" and form.validate_on_submit():
        if chosen == [] and context["columns"]:
            flash(_("Choose at least one column."), "error")
        else:
            try:
                if profile is None:
                    saved_profile = services.create_profile(user=current_user, **form.values(chosen))
                else:
                    saved_profile = services.update_profile(profile.id, user=current_user,
                                                           **form.values(chosen, saved=profile))
            except ExportError as exc:
                attach_error(form, exc, ERROR_FIELDS.get(exc.code))
            else:
                flash(_("The export profile %(name)s was saved.", name=saved_profile.name), "success")
                return redirect(url_for("profiles.index"))
    return render("profiles/form.html", block="options", profile=profile, **context)


@bp.route("/new", methods=["GET", "POST"])
@permission_required(*MANAGERS)
def new():
    return _form_page(None)


@bp.route("/<id:profile_id>/edit", methods=["GET", "POST"])
@permission_required(*MANAGERS)
def edit(profile_id):
    profile = queries.get_profile(profile_id, include_archived=True) or abort(404)
    return _form_page(profile)


@bp.route("/columns")
@permission_required(*MANAGERS)
def columns():
    """The part of the profile form that depends on the export type, provider and format, for what
    was chosen (htmx swaps it in when one of them changes; the page's own values come along)."""
    form = _form(formdata=request.args)
    context, _chosen = _options_context(form, request.args)
    return render("profiles/form.html", block="options", profile=None, **context)


@bp.route("/<id:profile_id>/archive", methods=["GET", "POST"])
@permission_required(*MANAGERS)
def archive(profile_id):
    """Archive the profile, or delete it for good when it has no exports — only on the confirmation's
    Yes: a GET, or a POST straight here, answers with the confirmation, which says which of the two it
    will be. Use this profile again (``restore=1``) needs no confirmation."""
    profile = queries.get_profile(profile_id, include_archived=True) or abort(404)
    if request.method == "POST" and not ConfirmForm().validate_on_submit():
        abort(400)
    if request.method == "POST" and request.form.get("restore") == "1":
        try:
            services.archive_profile(profile.id, user=current_user, archived=False)
        except ExportError as exc:
            flash(str(exc), "error")
            return redirect(url_for("profiles.index", archived=1))
        flash(_("The export profile %(name)s is back in use.", name=profile.name), "success")
        return redirect(url_for("profiles.index"))
    if not confirmed():
        return render("profiles/confirm_archive.html", block="dialog", profile=profile,
                      outcome=services.delete_outcome(profile.id),
                      schedules=services.active_schedule_count(profile.id),
                      pending=services.pending_run_count(profile.id))
    name, pending = profile.name, services.pending_run_count(profile.id)
    outcome = services.delete_profile(profile.id, user=current_user)
    if outcome == "archived":
        message = _("The export profile %(name)s was archived: its exports stay available.", name=name)
        if pending:
            message += " " + ngettext("Its export that had not started was cancelled.",
                                      "Its %(num)s exports that had not started were cancelled.", pending)
    else:
        message = _("The export profile %(name)s was deleted.", name=name)
    flash(message, "success")
    return redirect(url_for("profiles.index"))
