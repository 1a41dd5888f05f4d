"""The engine's user-visible words: statuses, modes, operations, sync types, mutations and report codes.

Report items store a code and parameters; they are rendered here in whatever locale is active, so a
report can be shown in any language (the worker forces the starter's locale).
"""
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import format_decimal, lazy_gettext as _l, ngettext, pgettext

from ..i18n import time_range_text

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
    "visma_by_hand": _l("Visma.net cannot take back or change record %(record)s through its API (%(kind)s, "
                        "Visma.net document %(document)s): correct it at Visma.net by hand."),
    "provider_rejected": _l("Record %(record)s was rejected by %(provider)s."),
    "run_failed": _l("The export failed: %(reason)s"),
    "worker_lost": _l("The worker that ran this export stopped; the export was marked as failed and "
                      "nothing from it was recorded. Start it again."),
    "visma_not_mapped": _l("%(company)s is not mapped to a Visma.net branch in the integration account: record "
                           "%(record)s is not sent."),
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


def _localised(params):
    """The parameters as the reader's locale writes them: amounts and counts with its separators."""
    shown = dict(params or {})
    for name in AMOUNT_PARAMS:
        if name in shown:
            try:
                shown[name] = format_decimal(Decimal(str(shown[name])), format="#,##0.00")
            except (InvalidOperation, ValueError):
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
