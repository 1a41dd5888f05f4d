"""Thin views: the profiles page, one profile with its last runs, and profile management."""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.guards import permission_required
from ..exporting.errors import ExportError
from ..exporting.providers import all_providers
from ..exporting.types import all_types, get_type
from ..models import Permission
from ..runs import services as run_services
from ..runs.forms import ConfirmForm
from ..web import attach_error, render
from . import bp, services
from .forms import ProfileForm

READERS = (Permission.IMPORT_EXPORT, Permission.VIEW_EXPORTS)
MANAGERS = (Permission.MANAGE_EXPORTS,)

# The engine's error codes → the form field they are about.
ERROR_FIELDS = {"name_required": "name", "unknown_export_type": "export_type", "unknown_provider": "provider",
                "unknown_sync_type": "sync_type", "unknown_company": "company_id", "unknown_window": "default_window",
                "unknown_format": "format", "format_not_available": "format",
                "account_required": "account_id", "item_classes_required": "item_class_stock"}


@bp.route("/")
@permission_required(*READERS)
def index():
    show_archived = request.args.get("archived") == "1" and current_user.can(*MANAGERS)
    return render("profiles/index.html", groups=services.profiles_by_type(include_archived=show_archived),
                  show_archived=show_archived, form=ConfirmForm())


@bp.route("/<int:profile_id>")
@permission_required(*READERS)
def detail(profile_id):
    """The profile with its Last run exports (test and production, files and reports)."""
    profile = run_services.get_profile(profile_id, include_archived=True) or abort(404)
    runs, files, error_ids = run_services.last_runs(profile.id)
    return render("profiles/detail.html", profile=profile, runs=runs, files=files, error_ids=error_ids,
                  scheduled=run_services.scheduled_runs(profile.id), form=ConfirmForm())


def _columns_from_request(export_type_key):
    """The chosen columns in the chosen order; None when every column is kept in its own order."""
    try:
        columns = get_type(export_type_key).columns()
    except ExportError:
        return None, []
    if not any(f"pos_{c.key}" in request.form for c in columns):
        return None, columns  # this type's columns were not on the page (the type was just changed)
    chosen = []
    for index, column in enumerate(columns):
        if request.form.get(f"col_{column.key}"):
            try:
                position = int(request.form.get(f"pos_{column.key}") or index + 1)
            except ValueError:
                position = index + 1
            chosen.append((position, index, column.key))
    keys = [key for _p, _i, key in sorted(chosen)]
    if keys == [c.key for c in columns]:
        return None, columns
    return keys, columns


def _label(item):
    return item.label or item.key


def _form_page(profile):
    form = ProfileForm()
    form.fill_choices(all_types(), all_providers(), services.companies(), _label, services.integration_accounts())
    if profile is not None and not form.is_submitted():
        form.load(profile)
    export_type_key = form.export_type.data or (profile.export_type if profile else form.export_type.choices[0][0])
    selected = ((profile.options or {}).get("columns") if profile else None)
    if form.is_submitted():
        selected, _cols = _columns_from_request(export_type_key)
    action = request.form.get("action", "save")
    if action == "save" and form.validate_on_submit():
        if selected == []:
            flash(_("Choose at least one column."), "error")
        else:
            try:
                saved = services.save(profile, form.values(selected), current_user)
            except ExportError as exc:
                attach_error(form, exc, ERROR_FIELDS.get(exc.code))
            else:
                flash(_("The export profile %(name)s was saved.", name=saved.name), "success")
                return redirect(url_for("profiles.index"))
    try:
        columns = get_type(export_type_key).columns()
    except ExportError:
        columns = []
    order = {key: i for i, key in enumerate(selected or [c.key for c in columns])}
    return render("profiles/form.html", block="columns", form=form, profile=profile, columns=columns,
                  selected=set(selected or [c.key for c in columns]), order=order)


@bp.route("/new", methods=["GET", "POST"])
@permission_required(*MANAGERS)
def new():
    return _form_page(None)


@bp.route("/<int:profile_id>/edit", methods=["GET", "POST"])
@permission_required(*MANAGERS)
def edit(profile_id):
    profile = run_services.get_profile(profile_id, include_archived=True) or abort(404)
    return _form_page(profile)


@bp.route("/columns")
@permission_required(*MANAGERS)
def columns():
    """The column choice for another export type (htmx swaps it in when the type changes)."""
    try:
        cols = get_type(request.args.get("export_type", "")).columns()
    except ExportError:
        cols = []
    form = ProfileForm(formdata=None)
    return render("profiles/form.html", block="columns", form=form, profile=None, columns=cols,
                  selected={c.key for c in cols}, order={c.key: i for i, c in enumerate(cols)}, htmx_columns=True)


@bp.route("/<int:profile_id>/archive", methods=["POST"])
@permission_required(*MANAGERS)
def archive(profile_id):
    profile = run_services.get_profile(profile_id, include_archived=True) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if request.form.get("restore") == "1":
        services.restore(profile, current_user)
        flash(_("The export profile %(name)s is back in use.", name=profile.name), "success")
    else:
        name = profile.name
        outcome = services.delete_or_archive(profile, current_user)
        flash(_("The export profile %(name)s was archived: its exports stay available.", name=name)
              if outcome == "archived" else _("The export profile %(name)s was deleted.", name=name), "success")
    return redirect(url_for("profiles.index"))
