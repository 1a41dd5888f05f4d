"""The Export Portal: application factory."""
import os

from flask import Flask

from .config import ROOT, config_for


def create_app(config=None):
    """Build the app. ``config`` is a config class or its name; default from ``PORTAL_ENV``."""
    config_class = config if isinstance(config, type) else config_for(config)
    config_class.check()
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=str(ROOT / "instance"))
    app.config.from_object(config_class)
    os.makedirs(app.instance_path, exist_ok=True)
    os.makedirs(app.config["PORTAL_STORAGE_DIR"], exist_ok=True)

    from . import logs
    logs.init_app(app)

    from .extensions import babel, csrf, db, limiter, login_manager, migrate
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    limiter.init_app(app)

    from . import i18n
    i18n.init_app(app, babel)

    from . import models  # noqa: F401  (registers every table with the metadata)
    from .auth import init_app as init_auth
    init_auth(app, login_manager)

    from . import templating, web
    web.init_app(app)
    templating.init_app(app)

    from . import admin
    from .main import bp as main_bp
    app.register_blueprint(main_bp)
    admin.init_app(app)
    _register_features(app)

    from . import cli
    cli.init_app(app)
    return app


# Feature packages, each with ``init_app(app)`` registering its blueprint. Adding a feature is one line.
FEATURES = (
    "portal.exporting",
    "portal.sandbox",
    "portal.integrations",
    "portal.profiles",
    "portal.runs",
    "portal.overview",
    "portal.schedules",
    "portal.notifications",
)  # the sandbox mounts itself only when SANDBOX_ENABLED


def _register_features(app):
    import importlib
    for module_name in FEATURES:
        importlib.import_module(module_name).init_app(app)
