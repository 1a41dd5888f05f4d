"""Thin views: parse the filters, read the overview (``exporting.queries``), render (or stream CSV)."""
import csv
import io
from datetime import timezone
from itertools import islice

from flask import Response, request, stream_with_context
from flask_babel import gettext as _

from ..auth.guards import permission_required
from ..exporting import queries
from ..exporting.formats.base import neutralise
from ..exporting.messages import MODE_LABELS, STATUS_LABELS
from ..i18n import org_timezone
from ..models import Permission
from ..schedules.labels import who_started
from ..schedules.services import started_by_a_schedule, starts_of_runs
from ..templating import type_label
from ..validation import parse_date, parse_id, parse_page
from ..web import render
from . import bp


def _iso(moment):
    """A date-time for the CSV: ISO 8601 in the organisation's zone with its offset, to the second, as the
    window dates are ISO (a file is read by programs; the page is for reading)."""
    if moment is None:
        return ""
    return moment.replace(tzinfo=timezone.utc).astimezone(org_timezone()).isoformat(timespec="seconds")


def _int(name):
    return parse_id(request.args.get(name))


def _date(name, filters):
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        return parse_date(value)
    except ValueError as problem:
        filters.errors.append((name, str(problem)))
        return None


def parse_filters():
    f = queries.OverviewFilters()
    f.profile_id, f.company_id, f.started_by_id = _int("profile"), _int("company"), _int("started_by")
    if request.args.get("started_by") == "schedule":
        f.extra.append(started_by_a_schedule())
    f.export_type = request.args.get("export_type") or None
    f.mode = request.args.get("mode") if request.args.get("mode") in MODE_LABELS else None
    f.status = request.args.get("status") if request.args.get("status") in STATUS_LABELS else None
    f.date_from, f.date_to = _date("date_from", f), _date("date_to", f)
    if f.date_from and f.date_to and f.date_to < f.date_from:
        f.errors.append(("date_to", _("The end of the period is before its start.")))
        f.date_to = None
    f.sort = request.args.get("sort") if request.args.get("sort") in queries.OVERVIEW_SORTS else "started"
    f.direction = "asc" if request.args.get("dir") == "asc" else "desc"
    return f


@bp.route("/")
@permission_required(Permission.VIEW_EXPORTS)
def index():
    filters = parse_filters()
    page_no = parse_page(request.args.get("page"))
    totals = queries.overview_totals(filters)
    page = queries.overview_page(filters, page=page_no, totals=totals)
    return render("overview/index.html", block="results", page=page, filters=filters,
                  totals=totals, choices=queries.overview_choices(),
                  errors=dict(filters.errors),
                  csv_args={k: v for k, v in request.args.items() if k != "page" and v})


@bp.route("/export.csv")
@permission_required(Permission.VIEW_EXPORTS)
def download():
    """The filtered overview as CSV (UTF-8 with BOM), streamed. A cancelled or failed export did not
    complete: its time is under Cancelled on or Failed on (the last two columns), and Completed on is empty."""
    filters = parse_filters()

    def rows():
        out = io.StringIO()
        writer = csv.writer(out)
        out.write("\ufeff")
        writer.writerow([_("Export"), _("Export profile"), _("Export type"), _("P/T"), _("Status"), _("From"),
                         _("To"), _("Number of records"), _("Errors"), _("Started by"), _("Started on"),
                         _("Completed on"), _("Cancelled on"), _("Failed on")])
        runs = queries.overview_rows(filters)
        while batch := list(islice(runs, 500)):
            starts = starts_of_runs([run.id for run in batch])     # "schedule …", as the page says it
            for run in batch:
                writer.writerow([run.id, neutralise(run.profile.name), type_label(run.profile.export_type),
                                 "P" if run.mode == "production" else "T", STATUS_LABELS.get(run.status, run.status),
                                 run.window_start.isoformat(), run.window_end.isoformat(),
                                 run.record_count, run.error_total, neutralise(who_started(run, starts.get(run.id))),
                                 "" if run.never_ran else _iso(run.started_at), _iso(run.completed_at),
                                 _iso(run.cancelled_at), _iso(run.failed_at)])
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        yield out.getvalue()

    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="exports-overview.csv"'})

