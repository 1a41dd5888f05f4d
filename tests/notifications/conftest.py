"""A real SMTP server on this machine (aiosmtpd, keeping mail in a Maildir), and the app set to use it."""
import pytest

from portal.devtools import smtp_server
from tests.exporting.conftest import ctx, sqlite_ctx  # noqa: F401  (fixtures)
from tests.factories import execute  # noqa: F401  (for the tests here)


class Smtp:
    def __init__(self, maildir):
        self.maildir = str(maildir)
        self.port = smtp_server.free_port()
        self.controller = None

    def start(self):
        self.controller = smtp_server.start(self.maildir, port=self.port)

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def received(self):
        return smtp_server.received(self.maildir)


@pytest.fixture
def smtp(tmp_path):
    server = Smtp(tmp_path / "maildir")
    server.start()
    yield server
    server.stop()


def use_smtp(app, server):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, MAIL_FROM="portal@example.com",
                      PORTAL_BASE_URL="https://portal.example.com", SANDBOX_MAIL_DIR=server.maildir)
