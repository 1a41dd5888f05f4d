"""``flask integrations rotate-keys``: re-encrypt every stored token with the first key."""
import click
from flask.cli import AppGroup

from ..crypto import rotate
from ..extensions import db
from ..models import IntegrationAccount

integrations_cli = AppGroup("integrations", help="Integration accounts.")


@integrations_cli.command("rotate-keys")
def rotate_keys():
    """Re-encrypt the stored tokens with the first key of PORTAL_ENCRYPTION_KEYS."""
    count = 0
    for account in db.session.execute(db.select(IntegrationAccount)).scalars():
        account.access_token_encrypted = rotate(account.access_token_encrypted)
        account.refresh_token_encrypted = rotate(account.refresh_token_encrypted)
        count += 1
    db.session.commit()
    click.echo(f"Re-encrypted the tokens of {count} integration account(s) with the first key.")
