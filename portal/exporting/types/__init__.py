"""The registry of export types: one module each. ``get_type(key)`` returns the registered instance."""
import importlib

from flask_babel import lazy_gettext as _l

from ..errors import ExportError

MODULES = ("journal_entries", "invoices", "hours", "payments", "purchase_orders", "products")
_REGISTRY = {}


def register(cls):
    _REGISTRY[cls.key] = cls()
    return cls


def _load():
    if len(_REGISTRY) < len(MODULES):
        for name in MODULES:
            importlib.import_module(f"{__name__}.{name}")


def get_type(key):
    _load()
    try:
        return _REGISTRY[key]
    except KeyError:
        raise ExportError(_l("Unknown export type: %(key)s."), code="unknown_export_type", key=key) from None


def all_types():
    _load()
    return [_REGISTRY[name] for name in MODULES]
