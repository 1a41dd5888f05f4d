"""The registry of providers: where a run's rows go. One module each (``file`` now; ``visma_net`` later).

A new provider is one module in this package that subclasses ``base.Provider`` and decorates it with
``@register``: every module here is loaded (``visma_net`` will be one more module, nothing else).
"""
import importlib
import pkgutil

from flask_babel import lazy_gettext as _l

from ..errors import ExportError

_REGISTRY = {}
_loaded = False


def register(cls):
    _REGISTRY[cls.key] = cls
    return cls


def modules():
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if info.name != "base")


def _load():
    global _loaded
    if not _loaded:
        for name in modules():
            importlib.import_module(f"{__name__}.{name}")
        _loaded = True


def get_provider(key):
    _load()
    try:
        return _REGISTRY[key]
    except KeyError:
        raise ExportError(_l("Unknown provider: %(key)s."), code="unknown_provider", key=key) from None


def all_providers():
    _load()
    return dict(_REGISTRY)
