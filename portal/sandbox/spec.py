"""Request validation against the real Visma.net OpenAPI description (``shared/contracts``).

The 4 MB description is parsed once per process, lazily, on first use, and cached. Only the request's
parameters and body are checked (the spec's oauth2 security scheme is the sandbox's own business).
"""
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, has_app_context

from ..config import ROOT

SERVER = "https://api.finance.visma.net"
CONTRACT = Path("shared") / "contracts" / "visma-net-erp-api.openapi.json"

_lock = threading.RLock()
_cache = {}


# A whole, unchanged copy ships with the project, so that ``make demo`` works where ``shared/`` is absent;
# tests/sandbox/test_spec_copy.py keeps it identical to the shared contract.
BUNDLED = ROOT / "contracts" / CONTRACT.name


def spec_path():
    """The ``VISMA_NET_OPENAPI`` setting, else the nearest ``shared/contracts`` above the checkout, else
    the copy."""
    configured = current_app.config.get("VISMA_NET_OPENAPI") if has_app_context() else None
    if configured:
        return Path(configured)
    for parent in ROOT.parents:
        if (parent / CONTRACT).exists():
            return parent / CONTRACT
    if BUNDLED.exists():
        return BUNDLED
    raise FileNotFoundError(f"{CONTRACT} was not found above {ROOT}; set VISMA_NET_OPENAPI")


def validators():
    """(parameters validator, body validator, the spec as a dict), built once per process."""
    with _lock:
        if "validators" not in _cache:
            from jsonschema_path import SchemaPath
            from openapi_core.validation.request.validators import (
                V30RequestBodyValidator, V30RequestParametersValidator,
            )
            with open(spec_path(), encoding="utf-8") as handle:
                spec = json.load(handle)
            path = SchemaPath.from_dict(spec)
            # spec_validator_cls=None: the description is trusted; checking it costs seconds.
            # Unknown fields are refused (Visma.net would silently drop them; a test should not).
            _cache["validators"] = (
                V30RequestParametersValidator(path, spec_validator_cls=None),
                V30RequestBodyValidator(path, spec_validator_cls=None,
                                        forbid_unspecified_additional_properties=True),
                spec)
        return _cache["validators"]


def spec():
    return validators()[2]


@dataclass
class _Request:
    """The openapi-core request protocol, for a request at the real server's address."""
    method: str
    path: str
    query: object
    body: bytes
    content_type: str
    path_variables: dict = None
    host_url: str = SERVER

    @property
    def full_url_pattern(self):
        return self.host_url + self.path

    @property
    def parameters(self):
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict
        return RequestParameters(query=ImmutableMultiDict(self.query), header=Headers(),
                                 cookie=ImmutableMultiDict(), path=self.path_variables or {})


def _describe(error):
    """Readable lines for one openapi-core error, naming the field paths."""
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None)
    name = getattr(error, "name", None)
    if schema_errors:
        lines = []
        for item in schema_errors:
            where = ".".join(str(p) for p in item.absolute_path) or name or "body"
            lines.append(f"{where}: {item.message}")
        return lines
    if name:
        return [f"{name}: {cause or error}"]
    return [str(cause or error)]


def _path_variables(validator, method, path):
    """The path template's variables (``/v1/customer/{customerCd}`` → customerCd), as Flask's view_args."""
    from openapi_core.templating.paths.exceptions import PathError
    try:
        found = validator.path_finder.find(method.lower(), SERVER + path)
    except PathError:
        return {}  # reported by the validator itself
    return dict(found.path_result.variables)


def validate(method, path, query, body, content_type):
    """The list of problems (empty when the request matches the description).

    ``query`` is a list of (name, value) pairs; ``body`` the raw bytes (or None for GET)."""
    parameters, body_validator, _spec = validators()
    request = _Request(method.lower(), path, list(query), body or b"",
                       content_type or "application/json", _path_variables(parameters, method, path))
    problems = []
    for error in parameters.iter_errors(request):
        problems.extend(_describe(error))
    if method.upper() in {"POST", "PUT"}:
        for error in body_validator.iter_errors(request):
            problems.extend(_describe(error))
    return problems


@dataclass
class _Response:
    status_code: int
    data: bytes
    content_type: str = "application/json"

    @property
    def headers(self):
        from werkzeug.datastructures import Headers
        return Headers()


def validate_response(method, path, query, status, data):
    """The problems of a response body against the description (the sandbox's tests check its DTOs)."""
    with _lock:
        if "response" not in _cache:
            from jsonschema_path import SchemaPath
            from openapi_core.validation.response.validators import V30ResponseDataValidator
            _cache["response"] = V30ResponseDataValidator(SchemaPath.from_dict(spec()),
                                                          spec_validator_cls=None)
    request = _Request(method.lower(), path, list(query), b"", "application/json",
                       _path_variables(validators()[0], method, path))
    problems = []
    for error in _cache["response"].iter_errors(request, _Response(status, data)):
        problems.extend(_describe(error))
    return problems
