"""The run's state machine: its statuses, the only legal changes between them, and ``transition()``.

A leaf module (it imports nothing of the portal but the engine's errors and words), so that the
models, the engine, the jobs and the services can all read the same rules without an import cycle:
services → jobs → engine → states, and models → states.
"""
import enum

from .errors import IllegalTransition
from .messages import status_label


class RunStatus(str, enum.Enum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    PREPARING = "preparing"
    PREPARED = "prepared"
    EXPORTING = "exporting"
    EXPORTED = "exported"
    PARTIALLY_PROCESSED = "partially_processed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ROLLED_BACK = "rolled_back"


S = RunStatus
# The only legal status changes. Anything else raises IllegalTransition.
TRANSITIONS = {
    S.SCHEDULED: {S.QUEUED, S.CANCELLED, S.FAILED},
    S.QUEUED: {S.PREPARING, S.EXPORTING, S.CANCELLED, S.FAILED},
    S.PREPARING: {S.PREPARED, S.EXPORTING, S.FAILED, S.QUEUED},
    S.PREPARED: {S.QUEUED, S.CANCELLED, S.ROLLED_BACK, S.FAILED},
    S.EXPORTING: {S.EXPORTED, S.PARTIALLY_PROCESSED, S.FAILED, S.QUEUED},
    S.PARTIALLY_PROCESSED: {S.QUEUED, S.CANCELLED, S.ROLLED_BACK},
    S.EXPORTED: {S.ROLLED_BACK},
    S.FAILED: {S.ROLLED_BACK},
    S.CANCELLED: set(),
    S.ROLLED_BACK: set(),
}
# A production run in one of these holds its profile: at most one per profile (database-enforced).
ACTIVE_STATUSES = (S.SCHEDULED, S.QUEUED, S.PREPARING, S.PREPARED, S.EXPORTING, S.PARTIALLY_PROCESSED)
# The worker is busy with the run in these.
WORKING_STATUSES = (S.PREPARING, S.EXPORTING)
FINAL_STATUSES = (S.EXPORTED, S.FAILED, S.CANCELLED, S.ROLLED_BACK)
# Prepared data waits for an export in these: it can be exported, and its rows' Active can change.
EXPORTABLE_STATUSES = (S.PREPARED, S.PARTIALLY_PROCESSED)
# A run in one of these can be cancelled (``services.cancel_run``; the run page offers it).
CANCELLABLE_STATUSES = (S.SCHEDULED, S.QUEUED, S.PREPARED, S.PARTIALLY_PROCESSED)


def can_become(status, target):
    """Whether a run in ``status`` may change to ``target`` (both a RunStatus or its value)."""
    return RunStatus(target) in TRANSITIONS[RunStatus(status)]


def transition(run, target):
    """Set ``run.status`` to ``target``, or raise IllegalTransition (the run is left as it was)."""
    target = RunStatus(target)
    current = RunStatus(run.status)
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(status_label(current.value), status_label(target.value))
    run.status = target.value
