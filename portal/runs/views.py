"""Thin views: parse the request, read through ``exporting.queries``, change through
``exporting.services`` (the commands), render. The rules come from the models."""
import json
from datetime import datetime, timezone

from flask import abort, flash, redirect, request, send_file, url_for
from flask_babel import get_locale, gettext as _, ngettext
from flask_login import current_user

from ..auth.guards import permission_required
from ..exporting import debtor_selection, queries, services, windows
from ..exporting.errors import ExportError
from ..exporting.formats import get_writer
from ..exporting.providers import visma_net
from ..exporting.report import report_csv as engine_report_csv
from ..exporting.types import get_type
from ..i18n import org_timezone
from ..models import Permission
from ..validation import parse_id, parse_ids, parse_int, parse_page
from ..web import attach_error, confirmed, form_page, is_htmx, render, safe_next
from . import bp
from ..forms import too_long_message
from .forms import DEBTOR_QUERY_MAX, ConfirmForm, StartExportForm, field_for_error

RUNNERS = (Permission.IMPORT_EXPORT,)
READERS = (Permission.IMPORT_EXPORT, Permission.VIEW_EXPORTS)


def _int_arg(name, default=1):
    return parse_page(request.args.get(name, default))


def _profile_or_404(profile_id):
    return queries.get_profile(profile_id) or abort(404)


def _run_or_404(run_id):
    return queries.get_run(run_id) or abort(404)


def _next_or(default):
    """The form's ``next`` when it is a path on this site (never another site: no open redirect)."""
    return safe_next(request.form.get("next"), default)


def _redirect(url):
    """A redirect that also takes a whole page along when htmx asked (never a page inside a dialog)."""
    if is_htmx():
        return "", 204, {"HX-Redirect": url}
    return redirect(url)


def zone_offset(moment=None):
    """The organisation's time zone with its UTC offset at ``moment`` (now when None), e.g.
    ``Europe/Amsterdam, UTC+02:00`` — a comma, not parentheses: the sentences that name a start put the
    zone in parentheses themselves ("starts at 01/07/2027, 09:00 (Europe/Amsterdam, UTC+02:00)")."""
    moment = moment or datetime.now(timezone.utc)
    local = moment.astimezone(org_timezone())
    offset = local.strftime("%z")
    return f"{org_timezone().key}, UTC{offset[:3]}:{offset[3:]}"


# -- Start export -------------------------------------------------------------------------------

def _selected_debtors(form_data, profile):
    """The debtors ticked (each by company and number: ``debtor_selection.form_value``), and the values."""
    values = [v for v in form_data.getlist("debtors") if v.strip()]
    return queries.chosen_debtors(values, profile.company_id), values


@bp.route("/profiles/<id:profile_id>/start", methods=["GET", "POST"])
@permission_required(*RUNNERS)
def start(profile_id):
    profile = _profile_or_404(profile_id)
    form = StartExportForm().prepare(profile)
    try:
        export_type = get_type(profile.export_type)
    except ExportError:  # a type removed from the portal: nothing to start
        abort(404)
    takes_debtors = export_type.takes("debtors")
    selected, values = _selected_debtors(request.form, profile) if takes_debtors else ([], [])
    debtor_results, debtor_more, searched = [], False, None
    active_run = None
    action = request.form.get("action", "start")
    if request.method == "POST" and action == "back":
        form.confirmed.data = ""  # back from the production confirmation: the form as it was filled in
    elif request.method == "POST" and (action == "search_debtors"
                                       or (takes_debtors and _enter_in_debtor_search(request.form))):
        # Without JavaScript the debtor search is a submit of this form: it changes nothing.
        if form.debtor_query.validate(form):        # a text too long to be a debtor is said at the field
            debtor_results, debtor_more = queries.search_debtors(form.debtor_query.data, profile.company_id)
        searched = form.debtor_query.data or ""
        form.debtor_scope.data = "selected"
    elif form.validate_on_submit():
        window_start, window_end = form.window()
        # Each ticked debtor by its company and number (numbers are unique per company only).
        debtors = debtor_selection.from_form(values) if takes_debtors and form.debtor_scope.data == "selected" \
            else None
        if debtors == []:
            form.debtor_scope.errors.append(_("Select at least one debtor, or choose all debtors."))
        else:
            refused = None
            if form.mode.data == "production" and form.confirmed.data != "yes":
                # A start time the export would refuse is said now, next to its field, not after "Yes".
                try:
                    starts = services.scheduled_start(form.run_at.data) if form.run_at.data else None
                    # The chosen debtors as the run takes them: the count is of what will go, not of
                    # every debtor (a debtor the export would refuse is said now, at its field).
                    subjects = debtor_selection.subjects(
                        {debtor_selection.PARAM: debtor_selection.resolve(debtors, profile.company_id)}) \
                        if debtors else None
                except ExportError as exc:
                    refused = exc
                else:
                    preview = queries.production_preview(profile, window_start, window_end, debtors=subjects)
                    return render("runs/confirm_production.html", block="dialog", form=form, profile=profile,
                                  refusal=queries.production_refusal(profile),
                                  preview=preview, window=(window_start, window_end), selected=selected,
                                  export_type=export_type, debtors_chosen=bool(debtors),
                                  starts=starts, run_at_local=form.run_at.data,
                                  # the zone's offset at the start, not today's (summer and winter time)
                                  zone=zone_offset(starts.utc.replace(tzinfo=timezone.utc) if starts else None),
                                  active_run=_active_production_run(profile))
            if refused is None:
                try:
                    run = services.start_run(
                        profile.id, user=current_user, mode=form.mode.data, operation="prepare_and_export",
                        window_start=window_start, window_end=window_end, run_at_local=form.run_at.data,
                        booking_date=form.booking_date.data if export_type.takes("booking_date") else None,
                        description=(form.description.data or None) if export_type.takes("description") else None,
                        debtors=debtors, idempotency_key=form.form_token.data or None,
                        locale=str(get_locale()))
                except ExportError as exc:
                    refused = exc
                else:
                    if run.status == "scheduled":
                        flash(_("The export is scheduled."), "success")
                    # A started run says so in its live panel, which stops saying it when the run ends.
                    return _redirect(url_for("runs.run", run_id=run.id))
            active_run = _active_production_run(profile) if refused.code == "production_run_active" else None
            if active_run is None:
                _attach_error(form, refused)
    return render("runs/start.html", block="dialog", form=form, profile=profile, export_type=export_type,
                  selected=selected, active_run=active_run, debtor_results=debtor_results, debtor_more=debtor_more,
                  searched=searched,
                  preset_dates={key: windows.window(key) for key in windows.START_PRESETS})


def _enter_in_debtor_search(values):
    """Without JavaScript, Enter in any field submits the form's default button, which sends no
    ``action`` (the Start export button sends ``start``): taken as a search when the debtor search field
    holds a text not searched for yet (``debtor_searched``: the text of the results shown), as Enter in
    that field means; Enter elsewhere starts the export."""
    if is_htmx() or values.get("js"):   # with JavaScript, Enter in the search field searches by itself
        return False
    query = (values.get("debtor_query") or "").strip()
    return "action" not in values and bool(query) and query != (values.get("debtor_searched") or "").strip()


def _active_production_run(profile):
    """The profile's active production run (a new one is refused while it is), or None."""
    return queries.active_production_run(profile.id)


def _attach_error(form, exc):
    """The engine's refusal goes next to the field it is about (by its code), else above the form."""
    attach_error(form, exc, field_for_error(exc))


@bp.route("/debtors/search")
@permission_required(*RUNNERS)
def debtor_search():
    """Active search: a list of checkboxes (the selected ones are left out, they are listed already)."""
    company_id = parse_id(request.args.get("company"))
    chosen = set(request.args.getlist("debtors"))      # ``debtor_selection.form_value``: company and number
    text = request.args.get("debtor_query", "")
    too_long = too_long_message(DEBTOR_QUERY_MAX, len(text)) if len(text) > DEBTOR_QUERY_MAX else None
    if too_long:                                 # not searched for: no debtor has such a number or name
        found, more = [], False
    else:
        found, more = queries.search_debtors(text, company_id)
    debtors = [d for d in found if debtor_selection.form_value(d) not in chosen]
    if not is_htmx():
        # Opened on its own (a link, an address typed in): a whole page with the search, not a bare list of
        # checkboxes that belong in the Start export dialog's form.
        return render("runs/debtor_search.html", debtors=debtors, more=more, query=text.strip(),
                      company=company_id, too_long=too_long)
    return render("runs/_debtor_results.html", more=more, debtors=debtors, too_long=too_long)


# -- The run panel ------------------------------------------------------------------------------

def _run_context(run):
    return {"run": run, "files": queries.run_files(run.id), "report": queries.report_items(run.id),
            "report_counts": queries.report_counts(run.id), "time_left": queries.time_left(run),
            "zone": zone_offset(run.run_at.replace(tzinfo=timezone.utc) if run.run_at else None),
            "run_debtors": queries.run_debtors(run), **_documents_context(run)}


def _documents_context(run):
    """A Visma.net run: the documents it sent (or, in a test run, would send) — issue 9, point 8."""
    if run.profile.provider != "visma_net":
        return {"visma": None, "sync_history": []}
    return {"sync_history": visma_net.run_history(run.id), "visma": {"documents": visma_net.documents(run.id, limit=DOCUMENTS_SHOWN),
                      "count": visma_net.document_count(run.id), "summary": visma_net.document_summary,
                      "kinds": visma_net.KIND_LABELS, "operations": visma_net.OPERATION_LABELS,
                      "states": visma_net.STATE_LABELS, "shown": DOCUMENTS_SHOWN}}


DOCUMENTS_SHOWN = 100


@bp.route("/runs/<id:run_id>/documents.json")
@permission_required(*READERS)
def documents_json(run_id):
    """Every Visma.net document of the run (summary fields and the JSON body), as one file."""
    run = _run_or_404(run_id)
    body = json.dumps({"run": run.id, "profile": run.profile.name, "mode": run.mode,
                       "documents": visma_net.documents_export(run.id)}, ensure_ascii=False, indent=1)
    return body, 200, {"Content-Type": "application/json; charset=utf-8",
                       "Content-Disposition": f'attachment; filename="visma-net-documents-{run.id}.json"'}


@bp.route("/runs/<id:run_id>")
@permission_required(*READERS)
def run(run_id):
    run = _run_or_404(run_id)
    return render("runs/run.html", block="panel", **_run_context(run))


@bp.route("/runs/<id:run_id>/panel")
@permission_required(*READERS)
def run_panel(run_id):
    """The polling partial: while the run works it asks again; when it ends, the answer stops asking."""
    run = _run_or_404(run_id)
    return render("runs/run.html", block="panel", **_run_context(run))


@bp.route("/runs/<id:run_id>/files/<id:file_id>")
@permission_required(*READERS)
def download(run_id, file_id):
    run_file = queries.run_file(run_id, file_id) or abort(404)
    path = queries.file_path(run_file)
    if path is None:
        abort(404)
    # The type the file's format declares (``media_type``), not one guessed from its name (".si" is WAP's
    # text/vnd.wap.si), and set as it is: send_file would add "charset=utf-8" to any text type (a CSV's
    # encoding is the profile's choice; SIE 4 is code page 437).
    response = send_file(path, as_attachment=True, download_name=run_file.name)
    response.headers["Content-Type"] = get_writer(run_file.format).media_type
    return response


@bp.route("/runs/<id:run_id>/report.csv")
@permission_required(*READERS)
def report_csv(run_id):
    run = _run_or_404(run_id)
    # In the viewer's language, with a BOM for spreadsheet programs.
    body = "\ufeff" + engine_report_csv(run.id, locale=str(get_locale()))
    return body, 200, {"Content-Type": "text/csv; charset=utf-8",
                       "Content-Disposition": f'attachment; filename="report-{run.id}.csv"'}


@bp.route("/runs/<id:run_id>/cancel", methods=["GET", "POST"])
@permission_required(*RUNNERS)
def cancel(run_id):
    """Cancel, only on the confirmation's Yes: a GET or a POST straight here shows what cancelling keeps
    and ends (a dialog, or a page of its own)."""
    run = _run_or_404(run_id)
    if not confirmed():
        return render("runs/confirm_cancel.html", block="dialog", run=run, plan=queries.cancel_plan(run),
                      form=ConfirmForm(), next=safe_next(request.values.get("next"), ""))
    was_scheduled = run.status == "scheduled"
    try:
        services.cancel_run(run.id, user=current_user)
    except ExportError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The scheduled export was cancelled.") if was_scheduled else _("The export was cancelled."),
              "success")
    return _redirect(_next_or(url_for("runs.run", run_id=run.id)))


@bp.route("/runs/<id:run_id>/export", methods=["POST"])
@permission_required(*RUNNERS)
def export(run_id):
    """Export a Prepared or Partially processed run from its page (or Prepared data): the service and rules
    of Scenarios → Export (``request_export``), for this run."""
    run = _run_or_404(run_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        skip_headers = request.form.get("skip_headers") == "1" if run.profile.has_header_row else None
        services.request_export(run.id, skip_headers=skip_headers, user=current_user)
    except ExportError as exc:
        flash(str(exc), "error")
    return _redirect(url_for("runs.run", run_id=run.id))   # the panel says it started, and follows it


@bp.route("/runs/<id:run_id>/roll-back", methods=["GET", "POST"])
@permission_required(*RUNNERS)
def roll_back(run_id):
    run = _run_or_404(run_id)
    form = ConfirmForm()
    plan = queries.roll_back_plan(run)
    # Irreversible: only the confirmation's Yes rolls back; a POST straight to it is asked first.
    if form.validate_on_submit() and confirmed():
        try:
            services.roll_back(run.id, user=current_user)
        except ExportError as exc:
            flash(str(exc), "error")
        else:
            flash(_("The export was rolled back."), "success")
        return _redirect(_next_or(url_for("runs.run", run_id=run.id)))
    return render("runs/roll_back.html", block="dialog", run=run, plan=plan, form=form,
                  next=safe_next(request.args.get("next"), ""))


# -- Show exports, Last run exports -------------------------------------------------------------

@bp.route("/profiles/<id:profile_id>/runs")
@permission_required(*READERS)
def profile_runs(profile_id):
    profile = queries.get_profile(profile_id, include_archived=True) or abort(404)
    mode = request.args.get("mode") or None
    status = request.args.get("status") or None
    page = queries.profile_runs(profile.id, mode=mode, status=status, page=_int_arg("page"))
    selected = parse_id(request.args.get("run"))
    return render("runs/profile_runs.html", block="results", profile=profile, page=page, mode=mode,
                  status_filter=status, selected=selected)


# -- Scenarios (seed 000) -----------------------------------------------------------------------

@bp.route("/scenarios")
@permission_required(*RUNNERS)
def scenarios():
    operation = request.args.get("operation") or "prepare_and_export"
    if operation not in queries.OPERATIONS:
        operation = "prepare_and_export"
    rows = queries.scenarios(operation)
    return render("runs/scenarios.html", block="table", rows=rows, operation=operation,
                  skip_headers=request.args.get("skip_headers") == "1", form=ConfirmForm())


@bp.route("/scenarios/process", methods=["POST"])
@form_page(lambda: url_for("runs.scenarios"))       # without JavaScript its confirmation is a page here
@permission_required(*RUNNERS)
def process():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    operation = request.form.get("operation", "")
    skip_headers = request.form.get("skip_headers") == "1"
    process_all = request.form.get("scope") == "all"
    ids = parse_ids(request.form.getlist("profiles"))
    back = url_for("runs.scenarios", operation=operation, skip_headers="1" if skip_headers else None)
    if operation not in queries.OPERATIONS:
        flash(_("Choose an operation."), "error")
        return _redirect(back)
    if process_all:
        ids = [row.profile.id for row in queries.scenarios(operation)]
    if not ids:
        flash(_("Select at least one scenario, or choose Process all."), "error")
        return _redirect(back)
    if request.form.get("confirmed") != "yes":
        if operation == "roll_back":
            # Roll back says exactly what it will undo before it does it.
            plans = queries.roll_back_plans(ids)
            return render("runs/confirm_roll_back_many.html", block="dialog", plans=plans,
                          skip_headers=skip_headers, form=form)
        if operation in queries.DELIVERING_OPERATIONS:
            # A production export delivers (to Visma.net: for good): which, over what, and where, before Yes.
            plans, left_out = queries.process_plans(ids, operation)
            return render("runs/confirm_process.html", block="dialog", plans=plans, left_out=left_out,
                          operation=operation, skip_headers=skip_headers, form=form)
    # The exports the confirmation named: Yes exports or rolls back those, or says they changed.
    confirmed_runs = {pid: parse_id(request.form.get(f"run_{pid}")) for pid in ids
                      if request.form.get(f"run_{pid}")}
    results = services.process(ids, operation, skip_headers=skip_headers, user=current_user,
                               locale=str(get_locale()), confirmed_runs=confirmed_runs)
    done = [run for _pid, run, error in results if run is not None]
    for _pid, _run, error in results:
        if error is not None:
            flash(str(error), "error")
    if done:
        flash(ngettext("%(num)s scenario was processed.", "%(num)s scenarios were processed.", len(done)),
              "success")
    return _redirect(back)


# -- Prepared data, mapping history -------------------------------------------------------------

# A prepared row's id as a page token (``after``/``before``): digits within the id range of a BigInteger.
_ROW_ID_MAX = 2**63 - 1


def _page_request(values):
    """Which page of Prepared data ``values`` (query string or form) asks for: {"after": id} /
    {"before": id} / {"last": True} / {} for the first page; None when a token is not a row id (the
    answer is then 404, never a 500)."""
    for name in ("after", "before"):
        raw = values.get(name)
        if raw:
            row_id = parse_int(raw, minimum=1, maximum=_ROW_ID_MAX)
            return None if row_id is None else {name: row_id}
    return {"last": True} if values.get("page") == "last" else {}


def _page_args(wanted):
    """The query string of a page asked for (``_page_request``'s answer)."""
    return {"page": "last"} if wanted.get("last") else wanted


@bp.route("/runs/<id:run_id>/prepared", methods=["GET", "POST"])
@permission_required(*READERS)
def prepared(run_id):
    """Prepared data (seed 000): Active is editable until exported; Close (and paging) saves the ticks.
    Pages by keyset: ``after``/``before`` a row id, or ``page=last`` (see ``queries.prepared_rows``)."""
    run = _run_or_404(run_id)
    form = ConfirmForm()
    errors_only = (request.values.get("errors") == "1")
    next_url = safe_next(request.values.get("next"), "")  # where Close returns to (e.g. Scenarios)
    if request.method == "POST":
        if not current_user.can(*RUNNERS):
            abort(403)
        if not form.validate_on_submit():
            abort(400)
        # Paging is a submit button of the form (after, before, or goto=first/last): it saves the ticks.
        goto = request.form.get("goto")
        wanted = _page_request({"after": request.form.get("after"), "before": request.form.get("before"),
                                "page": "last" if goto == "last" else None})
        if wanted is None:
            abort(404)
        paging = bool(wanted) or goto == "first"
        shown = parse_ids(request.form.getlist("shown"))
        active = set(parse_ids(request.form.getlist("active")))
        try:
            changed = services.set_rows_active(run.id, shown, active, user=current_user)
        except ExportError as exc:
            flash(str(exc), "error")
        else:
            if changed:
                flash(_("Your selections were saved."), "success")
            if request.form.get("action") == "export" and not paging:
                try:   # the ticks are saved: export the active rows, as the run page's Export does
                    services.request_export(run.id, user=current_user)
                except ExportError as exc:
                    flash(str(exc), "error")
                return _redirect(url_for("runs.run", run_id=run.id))
        if not paging:
            return _redirect(next_url or url_for("runs.run", run_id=run.id))
        if not is_htmx():  # paging saves this page's ticks first, then shows the next page
            return redirect(url_for("runs.prepared", run_id=run.id, errors=request.form.get("errors") or None,
                                    next=next_url or None, **_page_args(wanted)))
    else:
        wanted = _page_request(request.args)
        if wanted is None:
            abort(404)
    try:
        page = queries.prepared_rows(run.id, errors_only=errors_only, **wanted)
    except queries.UnknownPageToken:
        abort(404)
    editable = current_user.can(*RUNNERS) and run.rows_editable
    return render("runs/prepared.html", block="dialog", run=run, page=page, columns=queries.columns_for(run.profile),
                  label_columns=queries.label_columns_for(run.profile),
                  errors_only=errors_only, editable=editable, form=form, next=next_url)


@bp.route("/profiles/<id:profile_id>/history")
@permission_required(*READERS)
def history(profile_id):
    profile = queries.get_profile(profile_id, include_archived=True) or abort(404)
    return render("runs/history.html", block="dialog", profile=profile,
                  entries=queries.mapping_history(profile.id))


# -- Stopped syncs (seed 004): the system message, Resume and Skip — issue 9, point 5 ----------------

def sync_stops(profile_id=None):
    """The stopped syncs the signed-in user works with: [(profile, stop)] (a template global)."""
    if not current_user.is_authenticated or not any(current_user.can(p) for p in READERS):
        return []
    return [(profile, stop) for profile, stop in visma_net.stopped_profiles()
            if profile_id is None or profile.id == profile_id]


def _back(profile_id):
    return redirect(safe_next(request.form.get("next"), url_for("profiles.detail", profile_id=profile_id)))


@bp.route("/profiles/<id:profile_id>/sync/resume", methods=["POST"])
@permission_required(*RUNNERS)
def resume_sync(profile_id):
    profile = _profile_or_404(profile_id)      # CSRF: checked for every POST (CSRFProtect)
    try:
        run = services.resume_sync(profile.id, user=current_user)
    except ExportError as exc:
        flash(str(exc), "error")
    else:
        if run is not None:
            flash(_("The sync of %(name)s goes on from the rejected record.", name=profile.name), "success")
            return redirect(url_for("runs.run", run_id=run.id))
        flash(_("The sync of %(name)s is no longer stopped, but its stopped export cannot go on: nothing was "
                "sent. Start a new export to send the data.", name=profile.name), "warning")
    return _back(profile.id)


@bp.route("/profiles/<id:profile_id>/sync/skip", methods=["POST"])
@permission_required(Permission.MANAGE_EXPORTS)
def skip_record(profile_id):
    profile = _profile_or_404(profile_id)      # CSRF: checked for every POST (CSRFProtect)
    try:
        run = services.skip_sync_record(profile.id, request.form.get("reason", ""), user=current_user)
    except ExportError as exc:
        flash(str(exc), "error")
    else:
        if run is not None:
            flash(_("The record was skipped; the sync of %(name)s goes on.", name=profile.name), "success")
            return redirect(url_for("runs.run", run_id=run.id))
        flash(_("The sync of %(name)s is no longer stopped, but its stopped export cannot go on: nothing was "
                "sent. Start a new export to send the data.", name=profile.name), "warning")
    return _back(profile.id)
