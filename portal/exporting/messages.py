"""The engine's user-visible words: statuses, modes, operations, sync types, mutations and report codes.

Report items store a code and parameters; they are rendered here in whatever locale is active, so a
report can be shown in any language (the worker forces the starter's locale).

A reason kept for later (a failed run's, a skipped scheduled start's) is stored the same way: as a
*stored message* (``stored_message``: the message's English source text and its parameters), rendered
when it is read (``stored_text``) in the reader's language, with numbers and dates in the reader's
locale — never as text in the language of whoever happened to start the run.
"""
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

from flask_babel import force_locale, format_date, format_decimal, gettext, lazy_gettext as _l, ngettext, pgettext
from flask_babel.speaklater import LazyString

from ..i18n import Formats, time_range_text, wall_clock_text

STATUS_LABELS = {
    "scheduled": _l("Scheduled"),
    "queued": _l("Queued"),
    "preparing": _l("Preparing"),
    "prepared": _l("Prepared"),
    "exporting": _l("Exporting"),
    "exported": _l("Exported"),
    "partially_processed": _l("Partially processed"),
    "failed": _l("Failed"),
    "cancelled": _l("Cancelled"),
    "rolled_back": _l("Rolled back"),
}
MODE_LABELS = {"test": _l("Test"), "production": _l("Production")}
def operation_label(operation):
    """The operation in the current locale. A context, because "Export" is also a noun elsewhere."""
    labels = {
        "prepare": pgettext("operation", "Prepare"),
        "export": pgettext("operation", "Export"),
        "prepare_and_export": pgettext("operation", "Prepare and export"),
        "roll_back": pgettext("operation", "Roll back"),
    }
    return labels.get(operation, operation)
SYNC_TYPE_LABELS = {
    "full": _l("Full"),
    "incremental_all": _l("Incremental – all records"),
    "incremental_new": _l("Incremental – new only"),
}
MUTATION_LABELS = {
    "new": _l("New"),
    "changed": _l("Changed"),
    "removed": _l("Removed"),
    "unchanged": _l("Unchanged"),
    "reversal": _l("Reversal"),
}
SEVERITY_LABELS = {"error": _l("Error"), "warning": _l("Warning"), "info": _l("Information")}
# Why an attempt ended (portal.exporting.attempts.Outcome); None: it is still working.
ATTEMPT_OUTCOME_LABELS = {
    None: _l("Running"),
    "completed": _l("Completed"),
    "failed": _l("Failed"),
    "temporary_error": _l("A temporary error; tried again"),
    "worker_lost": _l("The worker stopped responding"),
}


def attempt_outcome(outcome):
    return str(ATTEMPT_OUTCOME_LABELS.get(outcome, outcome))


PHASE_LABELS = {
    "preparing": _l("Preparing"),
    "validating": _l("Validating"),
    "comparing": _l("Comparing with the ledger"),
    "exporting": _l("Exporting"),
    "finishing": _l("Finishing"),
}

REPORT_MESSAGES = {
    "missing_value": _l("Record %(record)s has no value for %(field)s; it is not exported."),
    "debtor_blocked": _l("Debtor %(debtor)s is blocked: invoice line %(record)s is not exported."),
    "test_company_refused": _l("Journals for %(company)s are refused: it is marked as a test company."),
    "test_company_left_out": _l("%(company)s is a test company: its journals are left out, as for every "
                                "profile that covers all companies."),
    "journal_unbalanced": _l("The journal of %(company)s for %(period)s is not balanced: debit %(debit)s, "
                             "credit %(credit)s. Its lines are not exported."),
    "journal_held_back": _l("Journal line %(record)s is held back: line %(line)s of the same journal is "
                            "invalid, and a journal is exported whole or not at all."),
    "journal_held_back_unticked": _l("Journal line %(line)s is not active: the other lines of its journal "
                                     "wait for it, as a journal is exported whole. Tick it and export again "
                                     "to export the journal."),
    "hours_overlap": _l("Registered hours of employee %(employee)s overlap: %(first)s and %(second)s."),
    "sync_resumed": _l("%(user)s resumed the sync at record %(record)s."),
    "sync_skipped": _l("%(user)s skipped record %(record)s: %(reason)s"),
    "sync_stop_cancelled": _l("%(user)s cancelled the export: the sync stopped at record %(record)s no longer "
                              "waits for Resume."),
    "sync_stop_rolled_back": _l("%(user)s rolled back the export: the sync stopped at record %(record)s no "
                                "longer waits for Resume."),
    "visma_by_hand": _l("Visma.net cannot take back or change record %(record)s through its API (%(kind)s, "
                        "Visma.net document %(document)s): correct it at Visma.net by hand."),
    "provider_rejected": _l("Record %(record)s was rejected by %(provider)s."),
    "run_failed": _l("The export failed: %(reason)s"),
    "worker_lost": _l("The worker that ran this export stopped; the export was marked as failed and "
                      "nothing from it was recorded. Start it again."),
    "visma_not_mapped": _l("%(company)s is not mapped to a Visma.net branch in the integration account: record "
                           "%(record)s is not sent."),
    "visma_account_not_authorised": _l(
        "Integration account %(account)s is not authorised at Visma.net: no record can be sent through it, and "
        "its administrations cannot be mapped to Visma.net branches until it is. Authorise it under Integration "
        "accounts → %(account)s → Authorise."),
    "visma_account_reauthorise": _l(
        "Visma.net no longer accepts the authorisation of integration account %(account)s: no record can be sent "
        "through it. Authorise it again under Integration accounts → %(account)s → Re-authorise."),
    "visma_invalid_document": _l("The document for record %(record)s does not match Visma.net's API description: "
                                 "%(problem)s"),
    "sync_stopped": _l("The sync has stopped until the problem is solved: Visma.net rejected record %(record)s. "
                       "Resume it once the problem is solved."),
    "attempts_exhausted": _l("The worker running this export stopped during each of its %(attempts)s attempts; "
                             "the export failed and nothing from it was recorded. Start it again."),
    "cancelled_profile_archived": _l("The export profile %(profile)s was archived before this export started: the "
                                     "export was cancelled and nothing was exported."),
    "profile_archived_not_run": _l("The export profile %(profile)s is archived: this export was refused and nothing "
                                   "was exported."),
    "retrying": _l("A temporary error occurred (%(reason)s); attempt %(attempt)s of %(max)s follows."),
    # After TEMPORARY_PROBLEMS' sentence for params["problem"] (``_render``).
    "temporary_error": _l("Attempt %(attempt)s of %(max)s follows."),
    "temporary_error_failed": _l("The export failed: %(reason)s"),    # rendered by ``_render``
}


def status_label(status):
    return STATUS_LABELS.get(status, status)


# What a temporary error (retried with back-off) was, in words a user reads; the technical text (an
# exception, a path, a status) goes to the log only. Keys: ``TransientError.problem``.
TEMPORARY_PROBLEMS = {
    "visma_timeout": _l("Visma.net did not answer in time."),
    "visma_unreachable": _l("Visma.net could not be reached."),
    "visma_server_error": _l("Visma.net answered with a server error."),
    "visma_rate_limited": _l("Visma.net's limit on the number of requests was reached."),
    "visma_connect_unreachable": _l("Visma Connect could not be reached to refresh the tokens."),
    "visma_unavailable": _l("Visma.net could not be used for the moment."),
    "database": _l("The database was busy or could not be reached."),
    "unknown": _l("A temporary error occurred; the portal's log has the details (export %(run)s)."),
}


def temporary_problem(problem, run_id):
    """What a temporary error was, in the current locale (an unknown ``problem``: the generic words)."""
    return str(TEMPORARY_PROBLEMS.get(problem) or TEMPORARY_PROBLEMS["unknown"]) % {"run": run_id}


def temporary_reason(problem, run_id, attempts=None):
    """A run's reason after a temporary error (with ``attempts``: once they ran out), as a stored message
    (``stored_text`` words it in the reader's language, as ``temporary_problem``/``attempts_ran_out``)."""
    message = {"temporary": problem, "run": run_id}
    if attempts is not None:
        message["attempts"] = attempts
    return message


def attempts_ran_out(problem, run_id, attempts):
    """A run's reason once its attempts ran out on temporary errors, in the current locale."""
    return " ".join([temporary_problem(problem, run_id), ngettext(
        "The export was tried %(count)s time and has stopped: start it again later. If it keeps failing, tell "
        "your administrator.",
        "The export was tried %(count)s times and has stopped: start it again later. If it keeps failing, tell "
        "your administrator.", attempts, count=format_decimal(attempts))])


# Messages with a count: the noun takes the count's plural form in every language.
PLURAL_REPORT_MESSAGES = {  # %(count)s is the count as the locale writes it (ngettext's num is bare)
    "removals_left_out": lambda n, params: ngettext(
        "%(count)s removed record is left out: %(provider)s cannot deliver removals.",
        "%(count)s removed records are left out: %(provider)s cannot deliver removals.", n, **params),
    "department_elsewhere": lambda n, params: ngettext(
        "%(count)s record of a department whose finance system is not %(provider)s is left out: "
        "%(departments)s.",
        "%(count)s records of departments whose finance system is not %(provider)s are left out: "
        "%(departments)s.", n, **params),
}
AMOUNT_PARAMS = ("debit", "credit", "amount")  # money: two decimals, the locale's separators
RANGE_PARAMS = ("first", "second")  # with <name>_starts and <name>_ends: a time range in the reader's locale
MONTH_PARAMS = ("period",)  # a journal's period (its first day, ISO): the month as the reader says it


def month_text(value):
    """``2026-10-01`` as the reader's language names the month: "oktober 2026", "October 2026"."""
    return format_date(date.fromisoformat(str(value)), "LLLL y")


def month(value):
    """A period (a month: any day of it, a ``date`` or ISO text) as a stored message's parameter: shown as
    the reader's language names the month (``month_text``), not as "2026-10"."""
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return {"month": day.replace(day=1).isoformat()}


# What names the record of an item about more than one row (the report's Row column): a journal is its
# company and period, not the engine's group key (``ZORG|2026-10-01``).
RECORD_LABELS = {
    "journal_unbalanced": lambda params: f"{params['company']}, {month_text(params['period'])}",
}


def report_record(code, params, record_key):
    """The report item's Row as a person reads it (its record key, or what ``RECORD_LABELS`` makes)."""
    label = RECORD_LABELS.get(code)
    if label is not None:
        try:
            return label(params or {})
        except (KeyError, TypeError, ValueError):
            pass
    return record_key or ""


def _localised(params):
    """The parameters as the reader's locale writes them: amounts and counts with its separators; a
    stored message (``<name>_message``, see ``stored_message``) in the reader's language instead of the
    text ``<name>`` that was written when the item was made."""
    shown = dict(params or {})
    for name in [n for n in shown if n.endswith("_message")]:
        if isinstance(shown[name], dict):
            shown[name[:-len("_message")]] = stored_text(shown.pop(name))
    for name in AMOUNT_PARAMS:
        if name in shown:
            try:
                shown[name] = format_decimal(Decimal(str(shown[name])), format="#,##0.00")
            except (InvalidOperation, ValueError):
                pass
    for name in MONTH_PARAMS:
        if name in shown:
            try:
                shown[name] = month_text(shown[name])
            except (TypeError, ValueError):
                pass
    for name in RANGE_PARAMS:   # a record and its stored (UTC) times: "H241 (02-10-2026, 08:00–12:00)"
        starts, ends = shown.pop(f"{name}_starts", None), shown.pop(f"{name}_ends", None)
        if starts and ends and name in shown:
            try:
                shown[name] = f"{shown[name]} ({time_range_text(datetime.fromisoformat(starts), datetime.fromisoformat(ends))})"
            except (TypeError, ValueError):
                pass
    return shown


def _render(code, params):
    if code == "temporary_error":   # what happened, in the reader's language, then the attempt that follows
        return " ".join([temporary_problem(params.get("problem"), params.get("run")),
                         str(REPORT_MESSAGES[code]) % _localised(params)])
    if code == "temporary_error_failed":     # … and once the attempts ran out
        return str(REPORT_MESSAGES["run_failed"]) % {"reason": attempts_ran_out(
            params.get("problem"), params.get("run"), int(params.get("attempts") or 0))}
    if code in PLURAL_REPORT_MESSAGES:
        count = int((params or {}).get("count") or 0)
        return PLURAL_REPORT_MESSAGES[code](count, {**_localised(params), "count": format_decimal(count)})
    return str(REPORT_MESSAGES[code]) % _localised(params)


def lazy_report_message(code, **params):
    """A report message with its parameters as a lazy string: worded in the locale of the moment it is
    shown, and stored as its message (``stored_message``) when it is a parameter of an error's."""
    message = REPORT_MESSAGES[code]
    return LazyString(message._func, *message._args, **params)


def report_message(code, params):
    if code not in REPORT_MESSAGES and code not in PLURAL_REPORT_MESSAGES:
        return code
    try:
        return _render(code, params)
    except (KeyError, TypeError, ValueError):
        # A translation with a broken placeholder must not hide the item: show the English text.
        from flask_babel import force_locale
        with force_locale("en"):
            return _render(code, params)


# --- stored messages -------------------------------------------------------------------------------------
#
# {"msgid": English source text, "params": {...}} (gettext), with "context" (pgettext) or "plural" and "n"
# (ngettext); {"text": ...} for words that are not ours to translate (a provider's, verbatim). A parameter
# is JSON: a nested stored message (a lazy label), {"decimal": "2323.30"} (shown with the reader's
# separators and as many decimals), {"date": ISO} or {"datetime": ISO (UTC)} (the reader's date format),
# {"wall_clock": "YYYY-MM-DDTHH:MM"} (a time as entered). ``temporary_reason`` has a form of its own.


def stored_message(message, params=None):
    """``message`` (a lazy translatable string, or text that is not ours) with ``params``, as JSON that
    ``stored_text`` renders later in any language."""
    params = {name: _stored_param(value) for name, value in (params or {}).items()}
    if isinstance(message, LazyString):
        name, args = getattr(message._func, "__name__", ""), message._args
        params.update({k: _stored_param(v) for k, v in (message._kwargs or {}).items()})
        if name == "gettext" and len(args) == 1:
            return {"msgid": args[0], "params": params}
        if name == "pgettext" and len(args) == 2:
            return {"context": args[0], "msgid": args[1], "params": params}
        if name == "ngettext" and len(args) == 3:
            return {"msgid": args[0], "plural": args[1], "n": args[2], "params": params}
        message = str(message)
    if isinstance(message, dict):       # stored already
        return message
    text = str(message)                 # text that is not ours to translate: kept as it is
    try:
        return {"text": text % {k: _shown(v) for k, v in params.items()} if params else text}
    except (KeyError, TypeError, ValueError):
        return {"text": text}


def verbatim(text):
    """Words that are not ours (a provider's message): stored as they are, shown as they are."""
    return {"text": str(text)}


def _stored_param(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, datetime):
        return {"datetime": (value.replace(tzinfo=None) if value.tzinfo is None else
                             value.astimezone(timezone.utc).replace(tzinfo=None)).isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, (LazyString, dict)):
        return stored_message(value)
    return str(value)


def _shown(value):
    """A stored parameter as the reader's locale writes it."""
    if not isinstance(value, dict):
        return value
    if "decimal" in value:
        try:
            number = Decimal(value["decimal"])
        except (InvalidOperation, TypeError, ValueError):
            return str(value["decimal"])
        places = max(0, -number.as_tuple().exponent) if number.is_finite() else 0
        return format_decimal(number, format="#,##0" + ("." + "0" * places if places else ""))
    if "month" in value:            # a period (``month``): "oktober 2026"
        try:
            return month_text(value["month"])
        except (TypeError, ValueError):
            return str(value["month"])
    if "wall_clock" in value:       # a time as entered in the organisation's zone (``i18n.wall_clock_text``)
        return wall_clock_text(value["wall_clock"])
    if "datetime" in value or "date" in value:
        try:
            if "datetime" in value:
                return Formats().datetime(datetime.fromisoformat(value["datetime"]))
            return Formats().date(date.fromisoformat(value["date"]))
        except (TypeError, ValueError):
            return str(value.get("datetime") or value.get("date"))
    return stored_text(value)


def _translated(message, params):
    # Variables, not subscripts, in the calls: the extractor would take a literal key for a message.
    msgid, plural, context = message["msgid"], message.get("plural"), message.get("context")
    if plural is not None:
        return ngettext(msgid, plural, int(message.get("n") or 0), **params)
    text = pgettext(context, msgid) if context is not None else gettext(msgid)
    return text % params if params else text


def stored_text(message):
    """A stored message in the current locale. Text (a reason stored before messages were stored, or
    words that are not ours) is shown as it is; a translation with a broken placeholder falls back to
    the English text."""
    if message is None:
        return ""
    if not isinstance(message, dict):
        return str(message)
    if "temporary" in message:           # ``temporary_reason``
        if message.get("attempts") is not None:
            return attempts_ran_out(message["temporary"], message.get("run"), int(message["attempts"]))
        return temporary_problem(message["temporary"], message.get("run"))
    if "msgid" not in message:
        return str(message.get("text", ""))
    params = {name: _shown(value) for name, value in (message.get("params") or {}).items()}
    try:
        return _translated(message, params)
    except (KeyError, TypeError, ValueError):
        try:
            with force_locale("en"):
                return _translated(message, {name: _shown(value) for name, value in
                                             (message.get("params") or {}).items()})
        except (KeyError, TypeError, ValueError):
            return str(message["msgid"])
