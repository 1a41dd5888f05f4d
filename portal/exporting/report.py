"""The report of a run: counts and items, rendered in the locale of the user who started the run (or
any locale asked for), and as CSV for download."""
import csv
import io

from flask_babel import force_locale, lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..i18n import babel_locale
from ..models.exporting import ReportItem, Severity
from .formats.base import neutralise
from .messages import SEVERITY_LABELS, report_message, report_record
from .queries import require_run

CSV_HEADERS = (_l("Severity"), _l("Record"), _l("Message"), _l("Message code"), _l("Provider message"))
# An error whose row a later export pass delivered after all: kept in the report, marked so (not counted).
RESOLVED = _l("Resolved: delivered by a later export.")
SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def report(run_id, locale=None, limit=None):
    """``{"run": run, "counts": {...}, "items": [{severity, severity_label, record_key, code, message,
    provider_message}]}`` with every text in ``locale`` (default: the run's)."""
    run = require_run(run_id)
    with force_locale(babel_locale(locale or run.locale)):
        return {"run": run, "counts": dict(run.counts or {}), "items": list(_items(run.id, limit))}


def _items(run_id, limit=None):
    stmt = select(ReportItem).where(ReportItem.run_id == run_id).order_by(ReportItem.id)
    if limit:
        stmt = stmt.limit(limit)
    for item in db.session.execute(stmt.execution_options(yield_per=1000)).scalars():
        yield {"id": item.id, "severity": item.severity, "severity_label": str(SEVERITY_LABELS.get(item.severity,
                                                                                                  item.severity)),
               "record_key": report_record(item.code, item.params, item.record_key), "row_id": item.row_id,
               "code": item.code,
               "params": item.params, "message": report_message(item.code, item.params),
               "provider_message": item.provider_message or "", "resolved": bool(item.resolved)}


def report_csv(run_id, locale=None):
    """The report as CSV text (UTF-8 with BOM for spreadsheet programs when written to bytes)."""
    run = require_run(run_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    with force_locale(babel_locale(locale or run.locale)):
        writer.writerow([str(h) for h in CSV_HEADERS])
        for item in _items(run.id):
            message = f"{item['message']} ({RESOLVED})" if item["resolved"] else item["message"]
            writer.writerow([_text(item["severity_label"]), _text(item["record_key"]), _text(message),
                             item["code"], _text(item["provider_message"])])
    return out.getvalue()


def _text(value):
    """A cell as text that a spreadsheet shows and never runs as a formula."""
    return neutralise(str(value or ""))
