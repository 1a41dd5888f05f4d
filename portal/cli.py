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


POT = "translations/messages.pot"
CATALOGUES = "translations"


def extract_messages(output=POT):
    """Extract every translatable string of the code and templates into ``output`` (a .pot file)."""
    _pybabel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
             "-k", "lazy_ngettext:1,2", "--no-location", "--sort-output",
             "--project", "Export Portal", "-o", str(output), ".")


@translate_cli.command("extract")
@click.option("--output", default=POT, show_default=True, help="Where to write the template.")
def extract(output):
    """Extract the strings into translations/messages.pot."""
    extract_messages(output)


@translate_cli.command("update")
@click.option("--directory", default=CATALOGUES, show_default=True)
def update(directory):
    """Extract, then merge new strings into every language's catalogue (fill in the empty ones)."""
    pot = f"{directory}/messages.pot"
    extract_messages(pot)
    _pybabel("update", "-i", pot, "-d", str(directory), "--no-fuzzy-matching", "--ignore-obsolete",
             "--width", "100")


@translate_cli.command("compile")
@click.option("--directory", default=CATALOGUES, show_default=True)
def compile_(directory):
    """Compile .po to .mo (done by the build; .mo files are not committed)."""
    _pybabel("compile", "-d", str(directory), "--statistics")


def init_app(app):
    app.cli.add_command(users_cli)
    app.cli.add_command(translate_cli)
    from .demo import demo_cli
    app.cli.add_command(demo_cli)

