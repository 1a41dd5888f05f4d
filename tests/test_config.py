"""Configuration: production refuses unsafe settings; sessions expire."""
import os
import subprocess
import sys
import time

import pytest

from portal import create_app
from portal.config import DEMO_SECRET_KEY, ROOT, CONFIGS, ProductionConfig, config_for

SAFE = {"SECRET_KEY": "a-long-random-secret-for-production-use", "SANDBOX_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://portal@db.internal/portal",
        "PORTAL_ENCRYPTION_KEYS": "a-key", "ALLOW_SQLITE_IN_PRODUCTION": False}


def _production(**overrides):
    return type("Production", (ProductionConfig,), {**SAFE, **overrides})


def test_safe_production_settings_pass():
    _production().check()


@pytest.mark.parametrize("overrides, reason", [
    ({"SECRET_KEY": DEMO_SECRET_KEY}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"SANDBOX_ENABLED": True}, "SANDBOX_ENABLED"),
    ({"SQLALCHEMY_DATABASE_URI": "sqlite:///portal.db"}, "SQLite"),
    ({"PORTAL_ENCRYPTION_KEYS": ""}, "PORTAL_ENCRYPTION_KEYS"),
    # E-mail notifications configured without a sender, or without the address their links point at.
    ({"SMTP_HOST": "smtp.example.org", "MAIL_FROM": "", "PORTAL_BASE_URL": "https://portal"}, "MAIL_FROM"),
    ({"SMTP_HOST": "smtp.example.org", "MAIL_FROM": "p@example.org", "PORTAL_BASE_URL": ""}, "PORTAL_BASE_URL"),
])
def test_production_refuses_unsafe_settings(overrides, reason):
    with pytest.raises(RuntimeError, match=reason):
        create_app(_production(**overrides))


def test_production_mails_with_a_sender_and_base_url():
    _production(SMTP_HOST="smtp.example.org", MAIL_FROM="portal@example.org",
                PORTAL_BASE_URL="https://portal.example.org").check()


def test_sqlite_in_production_only_when_allowed_on_purpose():
    _production(SQLALCHEMY_DATABASE_URI="sqlite:///portal.db", ALLOW_SQLITE_IN_PRODUCTION=True).check()


def test_production_reads_the_environment_and_refuses_the_demo_defaults(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in {"SECRET_KEY", "DATABASE_URL", "SANDBOX_ENABLED", "PORTAL_ENCRYPTION_KEYS"}}
    env["PORTAL_ENV"] = "production"
    result = subprocess.run([sys.executable, "-c", "from portal import create_app; create_app()"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    for reason in ("SECRET_KEY", "SQLite", "PORTAL_ENCRYPTION_KEYS"):
        assert reason in result.stderr
    env.update(SECRET_KEY="x" * 40, DATABASE_URL=f"sqlite:///{tmp_path}/p.db", ALLOW_SQLITE_IN_PRODUCTION="1",
               PORTAL_ENCRYPTION_KEYS="k", SANDBOX_ENABLED="1")
    result = subprocess.run([sys.executable, "-c", "from portal import create_app; create_app()"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "SANDBOX_ENABLED" in result.stderr
    env["SANDBOX_ENABLED"] = "0"
    result = subprocess.run([sys.executable, "-c", "from portal import create_app; "
                             "app = create_app(); print(app.config['ENV_NAME'], app.config['SESSION_COOKIE_SECURE'])"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["production", "True"]


def test_unknown_environment_name_is_refused():
    with pytest.raises(RuntimeError, match="PORTAL_ENV"):
        config_for("staging")
    assert set(CONFIGS) >= {"demo", "test", "production"}


def test_demo_and_test_keep_the_sandbox_on_production_off():
    assert CONFIGS["demo"].SANDBOX_ENABLED and CONFIGS["test"].SANDBOX_ENABLED
    assert not _production().SANDBOX_ENABLED


def test_session_cookie_lasts_the_configured_lifetime(app, client, auth):
    response = auth.login("staff")
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie and "SameSite=Lax" in cookie
    assert app.permanent_session_lifetime.total_seconds() == 8 * 3600


def test_session_expires(app, client, auth):
    auth.login("staff")
    assert client.get("/").status_code == 200
    app.config["PERMANENT_SESSION_LIFETIME"] = 1
    time.sleep(2.1)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    # An htmx request with an expired session is sent to the sign-in page as a whole.
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/auth/login"
