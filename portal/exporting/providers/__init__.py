"""The registry of providers: where a run's rows go. One module each (``file`` now; ``visma_net`` later).

A new provider is one module that subclasses ``base.Provider``, decorates it with ``@register`` and is
named in ``MODULES``.
"""
import importlib

from flask_babel import lazy_gettext as _l

from ..errors import ExportError

MODULES = ["file", "visma_net"]
_REGISTRY = {}


def register(cls):
    _REGISTRY[cls.key] = cls
    return cls


def _load():
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")


def get_provider(key):
    _load()
    try:
        return _REGISTRY[key]
    except KeyError:
        raise ExportError(_l("Unknown provider: %(key)s."), code="unknown_provider", key=key) from None


def all_providers():
    _load()
    return dict(_REGISTRY)
