"""Sign-in, sign-out and the permission guard."""
from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from . import views  # noqa: E402,F401
from .guards import permission_required  # noqa: E402,F401


def init_app(app, login_manager):
    from flask_babel import lazy_gettext as _l

    from ..extensions import db
    from ..models import User
    from .guards import unauthorized

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.unauthorized_handler(unauthorized)

    from flask import session

    from .services import SESSION_KEY, session_is_live

    @login_manager.user_loader
    def load_user(user_id):
        try:
            pk, version = (int(part) for part in user_id.split(":", 1))
        except ValueError:
            return None
        user = db.session.get(User, pk)
        if user is None or user.session_version != version or not user.active:
            return None
        # The cookie alone is not enough: its session must still be live on the server (sign-out ends it).
        if not session_is_live(user.id, session.get(SESSION_KEY)):
            return None
        return user

    app.register_blueprint(bp)
