"""``/sandbox/mail``: the mails the demo's local SMTP server received (``portal.devtools.smtp_server``
keeps them in ``SANDBOX_MAIL_DIR``), so that a new user sees a notification arrive."""
from flask import current_app, render_template

from ..devtools.smtp_server import received
from . import bp


@bp.get("/mail")
def mail():
    messages = list(reversed(received(current_app.config.get("SANDBOX_MAIL_DIR", ""))))
    return render_template("sandbox/mail.html", messages=messages,
                           server=f"{current_app.config.get('SMTP_HOST')}:{current_app.config.get('SMTP_PORT')}")
