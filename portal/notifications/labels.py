"""The words for notification events (the settings page, the audit log), in the reader's language."""
from flask_babel import lazy_gettext as _l

EVENT_LABELS = {
    "run_failed": _l("An export failed"),
    "sync_stopped": _l("A sync stopped (the provider refused a record)"),
    "production_finished": _l("A production export finished"),
    "schedule_skipped": _l("A scheduled start was skipped"),
}
# On the settings page's "All export profiles", an event only some profiles can have says which.
ALL_PROFILES_EVENT_LABELS = {
    "sync_stopped": _l("A sync stopped (Visma.net profiles only: Visma.net refused a record)"),
}
