"""The main navigation: each feature registers its entries; a user sees only what they may use."""
from dataclasses import dataclass

from flask import request, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object          # a lazy string: translated when shown
    permissions: tuple
    description: object = None
    order: int = 50


def register(app, endpoint, label, permissions, description=None, order=50):
    """``description`` is the home tile's text: one text, or [(permissions, text)] where the first text
    whose permissions the user has is shown (a tile says only what that user can do there)."""
    items = app.extensions.setdefault("portal_navigation", [])
    items.append(NavItem(endpoint, label, tuple(permissions), description, order))
    items.sort(key=lambda item: item.order)


def items_for_current_user(app):
    if not current_user.is_authenticated:
        return []
    visible = []
    for item in app.extensions.get("portal_navigation", []):
        if item.permissions and not current_user.can(*item.permissions):
            continue
        url = url_for(item.endpoint)
        visible.append({"url": url, "label": item.label, "description": _description(item),
                        "active": request.path == url or (url != "/" and request.path.startswith(url))})
    return visible


def _description(item):
    if not isinstance(item.description, (list, tuple)):
        return item.description
    for permissions, text in item.description:
        if current_user.can(*permissions):
            return text
    return None


def init_app(app):
    @app.context_processor
    def _navigation():
        return {"navigation": lambda: items_for_current_user(app)}
