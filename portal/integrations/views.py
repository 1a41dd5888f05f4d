"""Thin views: parse the request, call a service, render. Every action is a POST with CSRF (global)
and needs *Manage export and financial settings*; the OAuth callback is a GET by the protocol and is
protected by the state and PKCE instead."""
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.guards import permission_required
from ..models import Permission
from ..web import attach_error, confirmed, content_security_policy, form_page, render, safe_next
from . import bp, services
from .forms import AccountForm, DimensionsForm, MappingForm
from .services import AuthorisationFailed, DimensionError, IntegrationError

PENDING_SESSION_KEY = "integrations_oauth"

STEP_LABELS = {
    "authorise": _l("Authorise"),
    "verify": _l("Verify"),
    "administrations": _l("Administrations"),
    "dimensions": _l("Dimensions"),
}

FAILURES = {
    "denied": (_l("Access was not allowed"),
               _l("You chose not to allow the portal access at Visma.net. Nothing was changed. "
                  "Authorise again when you are ready, and choose Allow.")),
    "state": (_l("The answer from Visma.net did not match"),
              _l("The answer did not belong to the authorisation started here (its state did not match), so "
                 "it was ignored. Start the authorisation again from this portal.")),
    "expired": (_l("The authorisation has expired"),
                _l("The authorisation was started too long ago or in another browser. Start it again.")),
    "refused": (_l("Visma Connect refused the authorisation"),
                _l("Visma Connect did not accept the authorisation code. Start the authorisation again.")),
    "unavailable": (_l("Visma Connect could not be reached"),
                    _l("Visma Connect did not answer. Try again in a moment.")),
    "company": (_l("Another company was chosen"),
                _l("This integration account belongs to the company %(company)s at Visma.net. Choose that "
                   "company when you authorise it, or create another integration account.")),
    "error": (_l("The authorisation did not succeed"),
              _l("Visma Connect did not authorise the portal. Start the authorisation again.")),
}


def authorize_origin(app):
    parts = urlsplit(app.config.get("VISMA_NET_AUTHORIZE_URL") or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


@bp.after_request
def _allow_form_to_connect(response):
    """*Authorise* is a form whose answer redirects to Visma Connect: allow that in form-action."""
    response.headers["Content-Security-Policy"] = content_security_policy(authorize_origin(current_app))
    response.headers["Cache-Control"] = "no-store"
    return response


def _account(account_id):
    return services.get_account(account_id) or abort(404)


@bp.get("/")
@permission_required(Permission.MANAGE_EXPORTS)
def accounts():
    return render("integrations/accounts.html", accounts=services.list_accounts(),
                  problem=services.account_problem)


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_EXPORTS)
def new_account():
    form = AccountForm()
    if form.validate_on_submit():
        try:
            account = services.create_account(form.name.data, current_user.id)
        except IntegrationError as exc:
            attach_error(form, exc, "name")
        else:
            flash(_("Integration account %(name)s was created. Now authorise it at Visma.net.",
                    name=account.name), "success")
            return redirect(url_for(".setup", account_id=account.id, step="authorise"))
    return render("integrations/new_account.html", http_status=400 if form.is_submitted() else 200, form=form,
                  steps=STEP_LABELS)


@bp.get("/<id:account_id>")
@permission_required(Permission.MANAGE_EXPORTS)
def account(account_id):
    account = _account(account_id)
    return render("integrations/account.html", account=account, problem=services.account_problem(account),
                  steps=STEP_LABELS)


@bp.get("/<id:account_id>/setup/<step>")
@permission_required(Permission.MANAGE_EXPORTS)
def setup(account_id, step):
    account = _account(account_id)
    if step not in STEP_LABELS:
        abort(404)
    if step not in services.steps_reachable(account) and account.wizard_step != "done":
        return redirect(url_for(".setup", account_id=account.id, step=account.wizard_step))
    if step == "administrations":
        return _setup_page(account, step, **_administrations_context(account))
    if step == "dimensions":
        return _setup_page(account, step, form=_dimensions_form(account))
    return _setup_page(account, step)


def _setup_page(account, step, status=200, **context):
    """One wizard step's page (also re-shown with the form's errors, then with status 400)."""
    return render("integrations/setup.html", http_status=status, account=account, step=step, steps=STEP_LABELS,
                  reachable=services.steps_reachable(account), problem=services.account_problem(account),
                  **context)


def _administrations_context(account, form=None):
    form = form or MappingForm()
    branches, branch_error = [], None
    if account.is_authorised:
        try:
            branches = services.branches(account)
        except IntegrationError as exc:
            branch_error = str(exc)
    mapped = {m.company_id for m in account.administration_mappings}  # mapped already: not offered again
    form.company.choices = [(0, _("Choose…"))] + [(c.id, f"{c.name} ({c.code})") for c in services.companies()
                                                  if c.id not in mapped]
    form.branch.choices = [("", _("Choose…"))] + [(n, f"{n} – {name}" if name else n) for n, name in branches]
    return {"form": form, "branches": branches, "branch_error": branch_error}


def _dimensions_form(account, formdata=None):
    form = DimensionsForm(formdata=formdata)
    if formdata is None:
        for kind, mapping in services.dimension_settings(account).items():
            if mapping is not None:
                getattr(form, f"{kind}_enabled").data = mapping.enabled
                getattr(form, f"{kind}_description").data = mapping.description
    return form


@bp.post("/<id:account_id>/authorise")
@permission_required(Permission.MANAGE_EXPORTS)
def authorise(account_id):
    account = _account(account_id)
    pending_id, url = services.start_authorisation(account, current_user.id,
                                                   url_for(".callback", _external=True))
    session[PENDING_SESSION_KEY] = pending_id
    return redirect(url, code=303)


@bp.get("/callback")
@permission_required(Permission.MANAGE_EXPORTS)
def callback():
    pending_id = session.pop(PENDING_SESSION_KEY, None)
    try:
        account = services.finish_authorisation(
            pending_id, current_user.id, request.args.get("state"), code=request.args.get("code"),
            error=request.args.get("error"), error_description=request.args.get("error_description"))
    except AuthorisationFailed as failure:
        account = services.get_account(failure.account_id) if failure.account_id else None
        title, message = FAILURES[failure.reason]
        company = (account.company_name or account.company_id) if account else ""
        return render("integrations/authorisation_failed.html", http_status=400, title=title,
                      message=str(message) % {"company": company} if failure.reason == "company" else message,
                      detail=failure.detail if failure.reason in {"refused", "error"} else None,
                      account=account)
    flash(_("Integration account %(name)s is authorised for %(company)s.", name=account.name,
            company=account.company_name or account.company_id), "success")
    next_step = "verify" if account.wizard_step in {"authorise", "verify"} else None
    if next_step:
        return redirect(url_for(".setup", account_id=account.id, step=next_step))
    return redirect(url_for(".account", account_id=account.id))


@bp.post("/<id:account_id>/refresh")
@permission_required(Permission.MANAGE_EXPORTS)
def refresh(account_id):
    account = _account(account_id)
    try:
        services.refresh_now(account, current_user)
    except IntegrationError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The tokens were refreshed."), "success")
    return redirect(safe_next(request.form.get("next"), url_for(".account", account_id=account.id)))


@bp.route("/<id:account_id>/disconnect", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_EXPORTS)
def disconnect(account_id):
    """Only on the confirmation's Yes: a GET, or a POST straight here, shows what disconnecting does."""
    account = _account(account_id)
    if not confirmed():
        return render("integrations/confirm_disconnect.html", block="dialog", account=account,
                      profiles=services.profiles_sending_through(account))
    if services.disconnect(account, current_user):
        flash(_("Integration account %(name)s is disconnected; its tokens were revoked at Visma.net.",
                name=account.name), "success")
    else:
        flash(_("Integration account %(name)s is disconnected, but Visma Connect could not be reached to "
                "revoke its tokens.", name=account.name), "warning")
    return redirect(url_for(".account", account_id=account.id))


@bp.post("/<id:account_id>/setup/<step>/next")
@permission_required(Permission.MANAGE_EXPORTS)
def next_step(account_id, step):
    account = _account(account_id)
    order = list(STEP_LABELS) + ["done"]
    if step not in STEP_LABELS:
        abort(404)
    following = order[order.index(step) + 1]
    try:
        services.advance(account, following)
    except IntegrationError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".setup", account_id=account.id, step=step))
    if following == "done":
        flash(_("Integration account %(name)s is set up.", name=account.name), "success")
        return redirect(url_for(".account", account_id=account.id))
    return redirect(url_for(".setup", account_id=account.id, step=following))


@bp.post("/<id:account_id>/administrations")
@form_page(lambda account_id: url_for("integrations.setup", account_id=account_id, step="administrations"))
@permission_required(Permission.MANAGE_EXPORTS)
def new_mapping(account_id):
    account = _account(account_id)
    form = MappingForm()
    context = _administrations_context(account, form)
    if not context["branch_error"] and form.validate_on_submit():
        try:
            mapping = services.add_mapping(account, form.company.data, form.branch.data, context["branches"],
                                           current_user)
        except IntegrationError as exc:
            attach_error(form, exc, exc.field or "company")
        else:
            flash(_("%(company)s is mapped to branch %(branch)s.", company=mapping.company.name,
                    branch=mapping.branch_number), "success")
            return redirect(url_for(".setup", account_id=account.id, step="administrations"))
    return _setup_page(account, "administrations", status=400, **context)


@bp.route("/<id:account_id>/administrations/<id:mapping_id>/delete", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_EXPORTS)
def delete_mapping(account_id, mapping_id):
    """Only on the confirmation's Yes: a GET, or a POST straight here, names the mapping first."""
    account = _account(account_id)
    mapping = services.get_mapping(account, mapping_id) or abort(404)
    if not confirmed():
        return render("integrations/confirm_remove_mapping.html", block="dialog", account=account,
                      mapping=mapping)
    try:
        services.delete_mapping(account, mapping_id, current_user)
    except IntegrationError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The mapping was removed."), "success")
    return redirect(url_for(".setup", account_id=account.id, step="administrations"))


@bp.post("/<id:account_id>/dimensions")
@form_page(lambda account_id: url_for("integrations.setup", account_id=account_id, step="dimensions"))
@permission_required(Permission.MANAGE_EXPORTS)
def save_dimensions(account_id):
    account = _account(account_id)
    form = _dimensions_form(account, formdata=request.form)
    if form.validate_on_submit():
        try:
            services.save_dimensions(account, {
                kind: (getattr(form, f"{kind}_enabled").data, getattr(form, f"{kind}_description").data)
                for kind in services.DIMENSION_KINDS}, current_user)
        except DimensionError as exc:
            for kind, message in exc.errors.items():
                attach_error(form, message, f"{kind}_description")
        except IntegrationError as exc:
            flash(str(exc), "error")
        else:
            flash(_("The dimensions were saved."), "success")
            return redirect(url_for(".setup", account_id=account.id, step="dimensions"))
    return _setup_page(account, "dimensions", status=400, form=form)
