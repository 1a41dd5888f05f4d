"""The run pages' own template helper (the app-wide words are registered by ``portal.templating``)."""
from ..exporting.messages import operation_label
from ..exporting.queries import OPERATIONS
from . import bp


@bp.context_processor
def _run_helpers():
    return {"operation_choices": lambda: [(key, operation_label(key)) for key in OPERATIONS]}
