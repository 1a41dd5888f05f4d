"""The registry of providers: where a run's rows go. One module each (``file`` now; ``visma_net`` later).

A new provider is one module in this package that subclasses ``base.Provider`` and decorates it with
``@register``: every module here is loaded (``visma_net`` will be one more module, nothing else).
"""
from flask_babel import lazy_gettext as _l

from ..errors import ExportError
from ..registry import Registry


def _unknown(key):
    return ExportError(_l("Unknown provider: %(key)s."), code="unknown_provider", key=key)


PROVIDERS = Registry(__name__, unknown=_unknown)
register = PROVIDERS.register
get_provider = PROVIDERS.get


def all_providers():
    """{key: provider class}."""
    return {key: PROVIDERS.get(key) for key in PROVIDERS.keys()}
