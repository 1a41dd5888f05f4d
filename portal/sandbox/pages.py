"""The sandbox's own pages (fault switches per company, what it received) and its JSON control endpoint.

The pages are human pages with CSRF like the rest of the portal. They have no portal permission:
the sandbox stands in for an outside system, exists only in demo and test configuration, and
production refuses to start with it on. The control endpoint takes JSON only (a browser cannot send
that across sites without CORS), so it is exempt from CSRF for the tests.
"""
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from . import bp, connect, faults, received
from .forms import FaultsForm
from .views import machine_endpoint


@bp.get("/")
def index():
    return render_template("sandbox/index.html", companies=connect.companies(), state=faults.state)


@bp.route("/faults/<company_id>", methods=["GET", "POST"])
def faults_page(company_id):
    company = connect.company(company_id) or abort(404)
    form = FaultsForm(data=faults.state(company) if request.method == "GET" else None)
    if form.validate_on_submit():
        values = {name: value for name, value in form.data.items() if name != "csrf_token"}
        values["delay_seconds"] = float(values["delay_seconds"])
        faults.set_switches(company.id, values)
        flash(_("The fault switches of %(company)s were saved.", company=company.name), "success")
        return redirect(url_for("sandbox.faults_page", company_id=company.id))
    status = 400 if request.method == "POST" else 200
    return render_template("sandbox/faults.html", company=company, form=form,
                           state=faults.state(company)), status


@bp.post("/faults/<company_id>/reset")
def faults_reset(company_id):
    company = connect.company(company_id) or abort(404)
    faults.reset(company.id)
    flash(_("Every fault switch of %(company)s is off again.", company=company.name), "success")
    return redirect(url_for("sandbox.faults_page", company_id=company.id))


@bp.get("/requests")
def requests_page():
    company_id = request.args.get("company") or None
    return render_template("sandbox/requests.html", rows=received.latest(company_id),
                           companies=connect.companies(), chosen=company_id)


@bp.post("/requests/reset")
def requests_reset():
    received.reset()
    flash(_("The list of received requests was emptied."), "success")
    return redirect(url_for("sandbox.requests_page"))


# ------------------------------------------------------------------------------ JSON control endpoint

@bp.get("/control/<company_id>")
def control_state(company_id):
    company = connect.company(company_id) or abort(404)
    return jsonify(faults.state(company))


@bp.post("/control/<company_id>")
@machine_endpoint
def control(company_id):
    """Set switches: ``{"rate_limit_count": 2, "retry_after": 1, "reject_reference": "INV-7", …}``.

    Also ``"reset": true`` (everything off first), ``"expire_tokens_now": true``, ``"close_period"`` /
    ``"open_period": "YYYYMM"``. Answers the company's switches, or 400 naming the bad field."""
    if connect.company(company_id) is None:
        abort(404)
    values = request.get_json(silent=True)
    if not request.is_json or not isinstance(values, dict):
        return jsonify({"error": "Send a JSON object (Content-Type: application/json)."}), 400
    values = dict(values)
    try:
        if values.pop("reset", False):
            faults.reset(company_id)
        company = faults.set_switches(company_id, values)
    except faults.FaultError as error:
        return jsonify({"error": str(error), "field": error.field}), 400
    return jsonify(faults.state(company))


@bp.post("/control/requests/reset")
@machine_endpoint
def control_requests_reset():
    if not request.is_json:
        return jsonify({"error": "Send a JSON object (Content-Type: application/json)."}), 400
    received.reset()
    return jsonify({})
