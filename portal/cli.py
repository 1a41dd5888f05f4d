"""Commands: ``users create``, ``demo seed``, ``import``, ``translate``."""
import subprocess
import sys

import click
from flask.cli import AppGroup

from .config import ROOT

users_cli = AppGroup("users", help="Manage users.")
translate_cli = AppGroup("translate", help="Extract, update and compile the translations.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["staff", "manager", "consultant", "admin"]))
@click.option("--password", default=None, help="Prompted for when left out.")
@click.option("--name", default="")
@click.option("--locale", default=None, type=click.Choice(["en", "nl", "sv", "da"]))
def create_user(email, role, password, name, locale):
    """Create a user with the permissions of ROLE."""
    from .admin.services import UserError, create_user as create
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create(email=email, password=password, role=role, name=name, locale=locale)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {user.email} ({role}).")


def _pybabel(*args):
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


@translate_cli.command("extract")
def extract():
    """Extract the strings into translations/messages.pot."""
    _pybabel("extract", "-F", "babel.cfg", "-k", "_l", "--no-location", "--sort-output",
             "-o", "translations/messages.pot", ".")


@translate_cli.command("update")
def update():
    """Extract, then merge new strings into every language's catalogue."""
    extract.callback()
    _pybabel("update", "-i", "translations/messages.pot", "-d", "translations", "--no-fuzzy-matching",
             "--ignore-obsolete")


@translate_cli.command("compile")
def compile_():
    """Compile .po to .mo (done by the build; .mo files are not committed)."""
    _pybabel("compile", "-d", "translations", "--statistics")


def init_app(app):
    app.cli.add_command(users_cli)
    app.cli.add_command(translate_cli)
    from .demo import demo_cli
    app.cli.add_command(demo_cli)

