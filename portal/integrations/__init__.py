"""Integration accounts: the Visma.net wizard (create, authorise, verify, administrations, dimensions),
the account page (health, re-authorise, disconnect) and the API client the Visma.net provider uses."""
from flask import Blueprint

bp = Blueprint("integrations", __name__, url_prefix="/integrations")

from . import views  # noqa: E402,F401
from .services import account_problem, last_error  # noqa: E402,F401  (for profile pages)


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from .. import navigation
    from ..models import Permission
    app.register_blueprint(bp)

    @app.context_processor
    def _integration_helpers():
        return {"last_error": last_error, "account_problem": account_problem}
    navigation.register(app, "integrations.accounts", _l("Integration accounts"), [Permission.MANAGE_EXPORTS],
                        _l("Connect the portal to Visma.net: authorise, map administrations and dimensions."),
                        order=60)
    from . import cli
    app.cli.add_command(cli.integrations_cli)
