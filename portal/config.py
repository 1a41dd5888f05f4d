"""Settings from the environment, in one place, one class per environment.

``PORTAL_ENV`` chooses the class: ``demo`` (the default, also for development), ``test`` or
``production``. Every variable has a safe default for the demo; production refuses the unsafe ones.
"""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_SECRET_KEY = "demo-secret-key-not-for-production"


def _bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(name, default):
    """A number from the environment, of the default's type (int or float); unset or empty: the default."""
    value = os.environ.get(name)
    return type(default)(value) if value not in (None, "") else default


def _sqlite_url(name):
    return f"sqlite:///{ROOT / 'instance' / name}"


class Config:
    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEMO_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _sqlite_url("portal.db")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    PORTAL_STORAGE_DIR = os.environ.get("PORTAL_STORAGE_DIR") or str(ROOT / "instance" / "storage")
    PORTAL_TIMEZONE = os.environ.get("PORTAL_TIMEZONE", "Europe/Amsterdam")
    # Key(s) that encrypt tokens at rest; the first encrypts, all decrypt (rotation).
    PORTAL_ENCRYPTION_KEYS = os.environ.get("PORTAL_ENCRYPTION_KEYS", "")
    ALLOW_SQLITE_IN_PRODUCTION = _bool("ALLOW_SQLITE_IN_PRODUCTION", False)

    VISMA_NET_CLIENT_ID = os.environ.get("VISMA_NET_CLIENT_ID", "export-portal-demo")
    VISMA_NET_CLIENT_SECRET = os.environ.get("VISMA_NET_CLIENT_SECRET", "demo-client-secret")
    VISMA_NET_AUTHORIZE_URL = os.environ.get(
        "VISMA_NET_AUTHORIZE_URL", "https://connect.visma.com/connect/authorize")
    VISMA_NET_TOKEN_URL = os.environ.get("VISMA_NET_TOKEN_URL", "https://connect.visma.com/connect/token")
    VISMA_NET_REVOKE_URL = os.environ.get(
        "VISMA_NET_REVOKE_URL", "https://connect.visma.com/connect/revocation")
    VISMA_NET_API_URL = os.environ.get("VISMA_NET_API_URL", "https://api.finance.visma.net")
    SANDBOX_ENABLED = _bool("SANDBOX_ENABLED", False)

    LANGUAGES = {"en": "English", "nl": "Nederlands", "sv": "Svenska", "da": "Dansk"}
    BABEL_DEFAULT_LOCALE = "en"
    # How English pages write dates and numbers: British English for a European organisation
    # (26/11/2026, not 11/26/26); e.g. "en_US" or "en_IE" where wanted.
    PORTAL_ENGLISH_LOCALE = os.environ.get("PORTAL_ENGLISH_LOCALE", "en_GB")
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = int(os.environ.get("PORTAL_SESSION_SECONDS", 8 * 3600))
    REMEMBER_COOKIE_DURATION = PERMANENT_SESSION_LIFETIME
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Sign-in attempts per e-mail address and per client address.
    LOGIN_RATE_LIMIT = os.environ.get("PORTAL_LOGIN_RATE_LIMIT", "10 per 5 minutes")
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_STRATEGY = "moving-window"  # a fixed window resets at the minute: attempts could double up

    # E-mail notifications (issue 12): sent through this SMTP server from the worker. Without SMTP_HOST
    # notifications are only shown in the portal.
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT") or 25)
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_STARTTLS = _bool("SMTP_STARTTLS", False)
    SMTP_TIMEOUT = _number("SMTP_TIMEOUT", 10.0)
    MAIL_FROM = os.environ.get("MAIL_FROM", "")
    # The portal's address as users reach it: the links in e-mails.
    PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "")
    # A scheduled start made this much after its time (no worker ran) says it was late.
    SCHEDULE_LATE_SECONDS = _number("PORTAL_SCHEDULE_LATE_SECONDS", 600.0)
    # How often a worker looks for due schedules, and for new events and due mails (maintenance tasks).
    SCHEDULES_TICK_SECONDS = _number("PORTAL_SCHEDULES_TICK_SECONDS", 20.0)
    NOTIFICATIONS_TICK_SECONDS = _number("PORTAL_NOTIFICATIONS_TICK_SECONDS", 20.0)
    MAIL_BACKEND = "smtp"      # Flask-Mailman would pick an in-memory backend when TESTING

    RQ_QUEUES = ("exports", "default")
    RQ_JOB_TIMEOUT = int(os.environ.get("PORTAL_JOB_TIMEOUT", 4 * 3600))
    # Every worker runs periodic maintenance (portal.maintenance) on a timer of its own: it wakes every
    # tick and runs each task whose turn (a short Redis lock, one worker per interval) it gets.
    PORTAL_MAINTENANCE_TICK = _number("PORTAL_MAINTENANCE_TICK", 5.0)

    # The export engine: rows per batch, how often a run's progress is written, when a run whose
    # heartbeat stopped counts as dead, and how often the reconciler looks.
    EXPORT_BATCH_SIZE = _number("PORTAL_EXPORT_BATCH_SIZE", 2000)
    EXPORT_PROGRESS_INTERVAL = 0.3
    # CSV and JSON Lines written by the database itself (COPY / one cursor); off: row by row in Python.
    EXPORT_FILES_BY_DATABASE = _bool("PORTAL_EXPORT_FILES_BY_DATABASE", True)
    # PostgreSQL: such a file of a prepare-and-export run written by the statements that insert the
    # prepared rows (engine._file_while_preparing); off: the export writes it afterwards.
    EXPORT_FILE_WHILE_PREPARING = _bool("PORTAL_EXPORT_FILE_WHILE_PREPARING", True)
    # A working run's worker beats this often; a run whose heartbeat is older than the stale time has
    # lost its worker and is retried from a clean state, up to PORTAL_RUN_ATTEMPTS attempts in all.
    EXPORT_HEARTBEAT_SECONDS = _number("PORTAL_HEARTBEAT_SECONDS", 10.0)
    EXPORT_STALE_SECONDS = _number("PORTAL_STALE_RUN_SECONDS", 60.0)
    PORTAL_RUN_ATTEMPTS = _number("PORTAL_RUN_ATTEMPTS", 3)
    EXPORT_RECONCILE_SECONDS = _number("PORTAL_RECONCILE_SECONDS", 15.0)   # a maintenance task

    # The Visma.net API client: scopes asked for, the dimension holding cost centres and units, and
    # how requests are retried (429, 5xx, time-outs).
    VISMA_NET_SCOPES = os.environ.get("VISMA_NET_SCOPES") or (
        "openid offline_access vismanet_erp_interactive_api:read "
        "vismanet_erp_interactive_api:create vismanet_erp_interactive_api:update")
    VISMA_NET_DIMENSION_ID = os.environ.get("VISMA_NET_DIMENSION_ID") or "SUBACCOUNT"
    VISMA_NET_HTTP_TIMEOUT = _number("VISMA_NET_HTTP_TIMEOUT", 30)          # seconds per request
    VISMA_NET_MAX_ATTEMPTS = _number("VISMA_NET_MAX_ATTEMPTS", 5)           # tries per request
    VISMA_NET_BACKOFF_SECONDS = _number("VISMA_NET_BACKOFF_SECONDS", 1.0)   # doubles each time, jitter
    VISMA_NET_MAX_BACKOFF_SECONDS = _number("VISMA_NET_MAX_BACKOFF_SECONDS", 30)
    VISMA_NET_MAX_WAIT_SECONDS = _number("VISMA_NET_MAX_WAIT_SECONDS", 120)  # longest wait slept in place

    # The sandbox (only when SANDBOX_ENABLED): token lifetimes, its rate limit (requests per company per
    # fixed window, as Visma.net's "4-fixed-window"), the first open period (YYYYMM) and its
    # OpenAPI description (default: the nearest shared/contracts above the checkout, else the copy).
    SANDBOX_ACCESS_TOKEN_SECONDS = _number("SANDBOX_ACCESS_TOKEN_SECONDS", 300)
    SANDBOX_REFRESH_TOKEN_SECONDS = _number("SANDBOX_REFRESH_TOKEN_SECONDS", 30 * 24 * 3600)
    SANDBOX_CODE_SECONDS = _number("SANDBOX_CODE_SECONDS", 120)
    SANDBOX_AUTHORIZATION_REQUEST_SECONDS = _number("SANDBOX_AUTHORIZATION_REQUEST_SECONDS", 900)
    SANDBOX_RATE_LIMIT = _number("SANDBOX_RATE_LIMIT", 5000)
    SANDBOX_RATE_LIMIT_WINDOW_SECONDS = _number("SANDBOX_RATE_LIMIT_WINDOW_SECONDS", 3600)
    SANDBOX_FIRST_OPEN_PERIOD = os.environ.get("SANDBOX_FIRST_OPEN_PERIOD") or "202501"
    VISMA_NET_OPENAPI = os.environ.get("VISMA_NET_OPENAPI", "")
    # The redirect URIs registered for the client at the sandbox's Visma Connect besides the portal's own
    # callback at PORTAL_BASE_URL (space or comma separated); any other redirect_uri is refused.
    SANDBOX_REDIRECT_URIS = os.environ.get("SANDBOX_REDIRECT_URIS", "")

    @classmethod
    def check(cls):
        """Raise RuntimeError when the settings are unsafe for this environment."""


class DemoConfig(Config):
    ENV_NAME = "demo"
    SANDBOX_ENABLED = _bool("SANDBOX_ENABLED", True)
    PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:5000")
    # In the demo the sandbox stands in for Visma Connect and the ERP API.
    VISMA_NET_AUTHORIZE_URL = os.environ.get(
        "VISMA_NET_AUTHORIZE_URL", PORTAL_BASE_URL + "/sandbox/connect/authorize")
    VISMA_NET_TOKEN_URL = os.environ.get("VISMA_NET_TOKEN_URL", PORTAL_BASE_URL + "/sandbox/connect/token")
    VISMA_NET_REVOKE_URL = os.environ.get(
        "VISMA_NET_REVOKE_URL", PORTAL_BASE_URL + "/sandbox/connect/revocation")
    VISMA_NET_API_URL = os.environ.get("VISMA_NET_API_URL", PORTAL_BASE_URL + "/sandbox/api")
    # make demo starts a local SMTP server (portal.devtools.smtp_server) that keeps what it receives in
    # SANDBOX_MAIL_DIR (a Maildir); /sandbox/mail shows it.
    SMTP_HOST = os.environ.get("SMTP_HOST", "127.0.0.1")
    SMTP_PORT = int(os.environ.get("SMTP_PORT") or 8025)
    MAIL_FROM = os.environ.get("MAIL_FROM", "Export Portal <export-portal@example.com>")
    SANDBOX_MAIL_DIR = os.environ.get("SANDBOX_MAIL_DIR") or str(ROOT / "instance" / "sandbox-mail")


class TestConfig(DemoConfig):
    ENV_NAME = "test"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or _sqlite_url("test.db")
    REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    PORTAL_STORAGE_DIR = os.environ.get("TEST_STORAGE_DIR") or str(ROOT / "instance" / "test-storage")
    LOGIN_RATE_LIMIT = "5 per minute"
    # Tests that mail start their own SMTP server and set these.
    SMTP_HOST = os.environ.get("TEST_SMTP_HOST", "")
    SANDBOX_MAIL_DIR = os.environ.get("TEST_SANDBOX_MAIL_DIR") or str(ROOT / "instance" / "test-sandbox-mail")


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)

    @classmethod
    def check(cls):
        problems = []
        if cls.SECRET_KEY == DEMO_SECRET_KEY or len(cls.SECRET_KEY) < 16:
            problems.append("SECRET_KEY is the demo key or too short; set a long random SECRET_KEY")
        if cls.SANDBOX_ENABLED:
            problems.append("SANDBOX_ENABLED is on; the sandbox is for demo and tests only")
        if cls.SQLALCHEMY_DATABASE_URI.startswith("sqlite") and not cls.ALLOW_SQLITE_IN_PRODUCTION:
            problems.append("DATABASE_URL points at SQLite; use PostgreSQL "
                            "(or set ALLOW_SQLITE_IN_PRODUCTION=1 on purpose)")
        if not cls.PORTAL_ENCRYPTION_KEYS:
            problems.append("PORTAL_ENCRYPTION_KEYS is not set; tokens must be encrypted with your own key")
        if cls.SMTP_HOST and not cls.MAIL_FROM:
            problems.append("SMTP_HOST is set (e-mail notifications) but MAIL_FROM is not; set the sender address")
        if cls.SMTP_HOST and not cls.PORTAL_BASE_URL:
            problems.append("SMTP_HOST is set (e-mail notifications) but PORTAL_BASE_URL is not; the e-mails "
                            "link to the portal at that address")
        if problems:
            raise RuntimeError("Refusing to start in production: " + "; ".join(problems))


CONFIGS = {"demo": DemoConfig, "development": DemoConfig, "test": TestConfig,
           "production": ProductionConfig}


def config_for(name=None):
    name = name or os.environ.get("PORTAL_ENV", "demo")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"PORTAL_ENV={name!r} is not one of {', '.join(CONFIGS)}") from None
