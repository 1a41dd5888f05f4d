"""The registry of export types: one module each. ``get_type(key)`` returns the registered instance."""
from flask_babel import lazy_gettext as _l

from ..errors import ExportError
from ..registry import Registry


def _unknown(key):
    return ExportError(_l("Unknown export type: %(key)s."), code="unknown_export_type", key=key)


# The order in which pages list the types (a new type comes after these).
TYPES = Registry(__name__, make=lambda cls: cls(), unknown=_unknown,
                 order=("journal_entries", "invoices", "hours", "payments", "purchase_orders", "products"))
register = TYPES.register
get_type = TYPES.get
all_types = TYPES.all
