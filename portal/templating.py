"""What every template may use, registered in one place: the product's words (statuses, modes, sync
types, permissions …) from the engine's and the models' vocabularies, and two small filters.

A feature's own template helpers stay with the feature (a context processor on its blueprint); core
modules import only core, the models and the engine, never a feature package.
"""
from flask_babel import format_decimal, format_timedelta, lazy_gettext as _l

from .exporting.debtor_selection import form_value as debtor_value, label as debtor_label
from .exporting.messages import (
    MODE_LABELS, PHASE_LABELS, SEVERITY_LABELS, STATUS_LABELS, SYNC_TYPE_LABELS, attempt_outcome,
    operation_label, report_message,
)
from .exporting.scheduling import ambiguity_notice
from .exporting.types import all_types
from .models.user import PERMISSION_LABELS
from .web import is_htmx

COUNT_LABELS = {
    "records": _l("Records in the time window"), "new": _l("New"), "changed": _l("Changed"),
    "removed": _l("Removed"), "unchanged": _l("Unchanged"), "prepared": _l("Prepared"),
    "processed": _l("Processed"), "errors": _l("Errors"), "warnings": _l("Warnings"),
}
PROVIDER_LABELS = {"file": _l("File"), "visma_net": _l("Visma.net ERP")}


def _label(mapping):
    return lambda value: mapping.get(getattr(value, "value", value), value)


def filesize(size):
    size = size or 0
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if size >= factor:
            return f"{format_decimal(round(size / factor, 1))} {unit}"
    return f"{format_decimal(size)} B"


def timedelta_filter(value):
    return format_timedelta(value, threshold=1, add_direction=False) if value is not None else ""


def type_label(key):
    return {t.key: t.label for t in all_types()}.get(key, key)


def dialog_heading(depth=0):
    """A dialog's title is the page's level-one heading when the dialog is opened as a page; ``depth``
    levels below it for the dialog's own sections (so that no level is skipped either way)."""
    return f"h{(2 if is_htmx() else 1) + depth}"


def dialog_hx(method, url):
    """The htmx attributes that keep a form or link inside the page's dialog, only when it is shown in
    one: opened as a page (a new tab, a bookmark) there is no #dialog-body, and a plain form or link
    is what works there, with JavaScript or without."""
    from markupsafe import Markup, escape
    if not is_htmx():
        return Markup("")
    return Markup(f' hx-{method}="{escape(url)}" hx-target="#dialog-body"')


def choice_attrs(f, **attrs):
    """The attributes of each radio button of a group written option by option: with the group's
    errors, each button points at them (``choice_errors``, shown in the group's fieldset) and is invalid,
    as the ``field`` macro does for a single field. ``attrs``: the buttons' own attributes."""
    if f.errors:
        attrs.update({"aria-describedby": f"{f.id}-errors", "aria-invalid": "true"})
    return attrs


def init_app(app):
    app.jinja_env.globals.update(
        status_label=_label(STATUS_LABELS), mode_label=_label(MODE_LABELS),
        operation_label=operation_label, phase_label=_label(PHASE_LABELS),
        severity_label=_label(SEVERITY_LABELS), sync_type_label=_label(SYNC_TYPE_LABELS),
        count_label=_label(COUNT_LABELS), provider_label=_label(PROVIDER_LABELS),
        permission_label=_label(PERMISSION_LABELS), type_label=type_label, attempt_outcome=attempt_outcome,
        ambiguity_notice=ambiguity_notice, export_types=all_types, report_message=report_message,
        status_labels=STATUS_LABELS, sync_type_labels=SYNC_TYPE_LABELS, mode_labels=MODE_LABELS,
        dialog_heading=dialog_heading, dialog_hx=dialog_hx, choice_attrs=choice_attrs, debtor_label=debtor_label,
        debtor_value=debtor_value)
    app.jinja_env.filters["filesize"] = filesize
    app.jinja_env.filters["debtor_label"] = debtor_label
    app.jinja_env.filters["timedelta"] = timedelta_filter
