"""Export profiles: the page staff start exports from (grouped by export type), and profile
management for consultants (create, edit, archive)."""
from flask import Blueprint

bp = Blueprint("profiles", __name__, url_prefix="/profiles")

from . import views  # noqa: E402,F401


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from .. import navigation
    from ..models import Permission
    app.register_blueprint(bp)
    navigation.register(app, "profiles.index", _l("Export management"),
                        [Permission.IMPORT_EXPORT, Permission.VIEW_EXPORTS, Permission.MANAGE_EXPORTS],
                        [((Permission.MANAGE_EXPORTS,),
                          _l("Create and change export profiles; start exports and open their files and reports.")),
                         ((Permission.IMPORT_EXPORT,),
                          _l("Your export profiles: start an export, follow it, open its files and report.")),
                         ((Permission.VIEW_EXPORTS,),
                          _l("The export profiles and their exports: files, reports and mapping history."))],
                        order=10)
