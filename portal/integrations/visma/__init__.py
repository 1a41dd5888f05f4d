"""Visma.net: Visma Connect (OAuth 2), the token store with locked refresh, and the ERP API client."""
from .client import ApiResponse, VismaNetClient  # noqa: F401
from .errors import (  # noqa: F401
    ReauthorisationRequired, VismaNetApiError, VismaNetError, VismaNetUncertain, VismaNetUnavailable,
)
