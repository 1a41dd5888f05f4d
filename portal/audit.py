"""The audit log: one line to record, translated only when shown.

Commands (services) record what they did, in the same transaction as the change::

    audit.record(user, "run.resume", run, reason=reason)

``actor`` is a User or a user's id (or None for the system), ``action`` one of :data:`ACTIONS`, ``target`` the thing
acted on (a Run, ExportProfile, IntegrationAccount or User; or None), and the keyword arguments are
the details shown with it (names, numbers, dates — never a password, token or secret: keys that look
like one are dropped). The entry is added to the current session; the caller's commit stores it with
the change. ``record(..., commit=True)`` commits at once (for sign-in attempts, which change nothing).
"""
import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .exporting.messages import MODE_LABELS, operation_label
from .extensions import db
from .i18n import datetime_filter
from .models import User
from .models.audit import AuditEntry
from .notifications.labels import EVENT_LABELS
from .pagination import paginate
from .schedules.labels import name_of

# Action code → (its name, for the filter; its sentence, with parameters from the target and the details).
# Add a line to add an action.
ACTIONS = {
    "auth.sign_in": (_l("Sign-in"), _l("Signed in")),
    "auth.sign_out": (_l("Sign-out"), _l("Signed out")),
    "auth.sign_in_failed": (_l("Failed sign-in"), _l("Sign-in failed for %(email)s")),
    "run.start": (_l("Start export"), _l("Started export %(target)s: %(mode)s, %(operation)s")),
    "run.cancel": (_l("Cancel export"), _l("Cancelled export %(target)s")),
    "run.roll_back": (_l("Roll back"), _l("Rolled back export %(target)s")),
    "run.resume": (_l("Resume sync"), _l("Resumed the sync of %(target)s")),
    "run.skip": (_l("Skip record"), _l("Skipped record %(record)s of %(target)s: %(reason)s")),
    "run.edit_prepared": (_l("Edit prepared data"),
                          _l("Changed Active on %(count)s rows of the prepared data of export %(target)s")),
    "profile.create": (_l("Create export profile"), _l("Created the export profile %(target)s")),
    "profile.update": (_l("Change export profile"), _l("Changed the export profile %(target)s: %(changes)s")),
    "profile.archive": (_l("Archive export profile"), _l("Archived the export profile %(target)s")),
    "profile.delete": (_l("Delete export profile"), _l("Deleted the export profile %(target)s")),
    "profile.restore": (_l("Restore export profile"), _l("Put the export profile %(target)s back in use")),
    "integration.create": (_l("Create integration account"), _l("Created the integration account %(target)s")),
    "integration.authorise": (_l("Authorise integration account"),
                              _l("Authorised the integration account %(target)s for %(company)s")),
    "integration.refresh": (_l("Refresh token"), _l("Refreshed the token of the integration account %(target)s")),
    "integration.disconnect": (_l("Disconnect integration account"),
                               _l("Disconnected the integration account %(target)s")),
    "integration.add_mapping": (_l("Add administration mapping"),
                                _l("Mapped %(company)s to branch %(branch)s in %(target)s")),
    "integration.delete_mapping": (_l("Remove administration mapping"),
                                   _l("Removed the mapping of %(company)s from %(target)s")),
    "integration.save_dimensions": (_l("Change dimension mapping"), _l("Changed the dimension mapping of %(target)s")),
    "schedule.create": (_l("Create schedule"), _l("Created a schedule of %(target)s: %(schedule)s, %(mode)s")),
    "schedule.update": (_l("Change schedule"), _l("Changed a schedule of %(target)s: %(schedule)s, %(mode)s")),
    "schedule.pause": (_l("Pause schedule"), _l("Paused a schedule of %(target)s: %(schedule)s, %(mode)s")),
    "schedule.resume": (_l("Resume schedule"), _l("Resumed a schedule of %(target)s: %(schedule)s, %(mode)s")),
    "schedule.delete": (_l("Delete schedule"), _l("Deleted a schedule of %(target)s: %(schedule)s, %(mode)s")),
    "notifications.update": (_l("Change notifications"),
                             _l("Changed the notifications of %(target)s: %(subscriptions)s")),
    "user.create": (_l("Create user"), _l("Created the user %(target)s")),
    "user.update": (_l("Change user"), _l("Changed the user %(target)s: %(changes)s")),
}
# A run a schedule started (``schedule`` in its details): the sentence names the schedule.
SCHEDULED_START = _l("Started export %(target)s by the schedule %(schedule)s: %(mode)s, %(operation)s")

TARGET_TYPES = {"Run": "run", "ExportProfile": "profile", "IntegrationAccount": "integration", "User": "user",
                "Schedule": "schedule"}
_SECRET_WORDS = ("password", "secret", "token", "key", "code_verifier", "authorization")
MAX_TEXT = 200


def _clean(value):
    """A detail as JSON can keep it: text clipped, dates as ISO, other objects as their text."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return [_clean(item) for item in list(value)[:50]]
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items() if not _secret(str(k))}
    return str(value)[:MAX_TEXT]


def _secret(name):
    return any(word in name.lower() for word in _SECRET_WORDS)


def _label(target):
    if target is None:
        return None
    profile = getattr(target, "profile", None)  # a run is named by its profile
    for value in (getattr(target, "email", None), getattr(profile, "name", None), getattr(target, "name", None)):
        if value:
            return str(value)[:MAX_TEXT]
    return f"#{target.id}"


def record(actor, action, target=None, *, commit=False, actor_email=None, **details):
    """Add one entry to the audit log (see the module's doc). Returns the entry."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to portal.audit.ACTIONS")
    if isinstance(actor, int):
        actor = db.session.get(User, actor)
    actor = actor if getattr(actor, "is_authenticated", True) and getattr(actor, "id", None) else None
    entry = AuditEntry(
        action=action, actor_id=actor.id if actor else None,
        actor_email=(actor.email if actor else actor_email or None),
        target_type=TARGET_TYPES.get(type(target).__name__, type(target).__name__.lower()) if target is not None
        else None,
        target_id=getattr(target, "id", None), target_label=_label(target),
        details={key: _clean(value) for key, value in details.items() if not _secret(key)},
        source_ip=(request.remote_addr or "")[:45] or None if has_request_context() else None)
    if entry.actor_email:
        entry.actor_email = entry.actor_email[:254]
    db.session.add(entry)
    if commit:
        db.session.commit()
    return entry


# -- Reading -------------------------------------------------------------------------------------

def action_label(code):
    """The action's name in the reader's language (for the filter and the CSV)."""
    return str(ACTIONS[code][0]) if code in ACTIONS else code


def describe(entry):
    """The entry as a sentence in the reader's language (translated now, not when it was recorded)."""
    if entry.action not in ACTIONS:
        return entry.action
    params = {key: ("" if value is None else value) for key, value in (entry.details or {}).items()}
    if "mode" in params:
        params["mode"] = str(MODE_LABELS.get(params["mode"], params["mode"]))
    if "operation" in params:
        params["operation"] = str(operation_label(params["operation"]))
    sentence = ACTIONS[entry.action][1]
    if "changes" in params:
        labels = PROFILE_CHANGE_LABELS if entry.action == "profile.update" else CHANGE_LABELS
        params["changes"] = ", ".join(str(labels.get(c, c)) for c in params["changes"] or [])
    elif entry.action in _SAID_WITHOUT_CHANGES:     # recorded before it said what changed
        sentence = _SAID_WITHOUT_CHANGES[entry.action]
    if isinstance(params.get("schedule"), dict):
        params["schedule"] = name_of(params["schedule"])
        if entry.action == "run.start":
            sentence = SCHEDULED_START
    if "subscriptions" in params:
        params["subscriptions"] = _subscriptions_text(params["subscriptions"])
    label = entry.target_label or ""
    if entry.target_type == "run" and entry.target_id:
        label = f"#{entry.target_id} ({label})" if label else f"#{entry.target_id}"
    params["target"] = label
    params.setdefault("email", entry.actor_email or "")
    try:
        return str(sentence) % params
    except (KeyError, ValueError, TypeError):  # an entry recorded without a parameter its sentence names
        return f"{action_label(entry.action)}: {label}"


def _subscriptions_text(changes):
    """``notifications.update``'s changes ([[profile name or None (every profile), event, on]]) as text."""
    words = []
    for profile, event, on in changes or []:
        values = {"profile": profile or _("all export profiles"), "event": str(EVENT_LABELS.get(event, event))}
        words.append(_("%(profile)s – %(event)s: on", **values) if on else _("%(profile)s – %(event)s: off", **values))
    return "; ".join(words)


# Entries recorded before their action said what changed.
_SAID_WITHOUT_CHANGES = {"profile.update": _l("Changed the export profile %(target)s")}

# What changed on an export profile (the codes ``profile.update`` records in ``changes``: its settings and
# option keys), by the profile form's labels.
PROFILE_CHANGE_LABELS = {
    "name": _l("Name"), "export_type": _l("Export type"), "provider": _l("Provider"), "sync_type": _l("Sync type"),
    "company_id": _l("Company"), "default_window": _l("Default time window"), "format": _l("File format"),
    "delimiter": _l("Delimiter"), "quotechar": _l("Quote character"), "encoding": _l("Encoding"),
    "line_terminator": _l("Line endings"), "skip_headers": _l("Skip headers"),
    "translated_headers": _l("Translated headers (in the language of the person who starts the export)"),
    "columns": _l("Columns and their order"),
    "account_id": _l("Integration account"), "item_class_stock": _l("Item class for stock items"),
    "item_class_non_stock": _l("Item class for non-stock items"), "sales_account": _l("Sales account (optional)"),
}

# What changed on a user (the codes ``user.update`` records in ``changes``).
CHANGE_LABELS = {"name": _l("name"), "permissions": _l("permissions"), "language": _l("language"),
                 "password": _l("password"), "active": _l("activated"), "inactive": _l("deactivated")}


@dataclass
class Filters:
    actor_id: int = None
    action: str = None
    date_from: date = None
    date_to: date = None
    errors: list = field(default_factory=list)

    def query(self):
        query = db.select(AuditEntry)
        if self.actor_id:
            query = query.where(AuditEntry.actor_id == self.actor_id)
        if self.action:
            query = query.where(AuditEntry.action == self.action)
        if self.date_from:
            query = query.where(AuditEntry.at >= datetime.combine(self.date_from, datetime.min.time()))
        if self.date_to:
            query = query.where(AuditEntry.at < datetime.combine(self.date_to + timedelta(days=1),
                                                                 datetime.min.time()))
        return query.order_by(AuditEntry.id.desc())


def entries(filters, page=1, per_page=50):
    query = filters.query()
    count = db.select(db.func.count()).select_from(query.order_by(None).subquery())
    return paginate(query, page, per_page, count)


def csv_rows(filters):
    """The filtered log as CSV text chunks (UTF-8 with BOM, for spreadsheets), in the reader's language."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow([_("When"), _("User"), _("Action"), _("What happened"), _("Address")])
    for entry in db.session.execute(filters.query().execution_options(yield_per=500)).scalars():
        writer.writerow([datetime_filter(entry.at, "short"), _formula_safe(entry.actor_email or ""),
                         action_label(entry.action), _formula_safe(describe(entry)), entry.source_ip or ""])
        if out.tell() > 65536:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _formula_safe(text):
    """A text a spreadsheet would run as a formula is written as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
