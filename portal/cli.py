"""Commands: ``users create``, ``demo seed``, ``import``, ``translate``."""
import csv
import subprocess
import sys

import click
from flask.cli import AppGroup
from flask_babel import force_locale, ngettext

from .admin.services import UserError, create_user as create
from .config import ROOT
from .importing import TABLES, columns_doc, import_file

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


def _table_list():
    return ", ".join(TABLES)


@click.command("import", epilog="Tables (in an order that satisfies references): companies, departments, "
               "cost_centres, cost_units, debtors, employees, suppliers, journal_lines, invoice_lines, "
               "time_registrations, payments, purchase_orders, purchase_order_lines, products, kit_components. "
               "See `import --columns TABLE` for a table's columns.")
@click.argument("table", required=False)
@click.argument("files", nargs=-1, type=click.Path())   # a folder: the report says so, in its language
@click.option("--columns", "show_columns", is_flag=True, help="Describe the columns of TABLE (or of every table).")
@click.option("--delimiter", default=",", show_default=True, help="The field separator, e.g. ';'.")
@click.option("--locale", default="en", show_default=True, type=click.Choice(["en", "nl", "sv", "da"]),
              help="Language of the problem report.")
def import_command(table, files, show_columns, delimiter, locale):
    """Load the CSV FILES (header row first, UTF-8) into the source table TABLE.

    Every row is validated; every problem is printed as `file,line,column,reason` (CSV, to stderr) and
    a file with any problem loads nothing. Each file is loaded in its own transaction.
    """

    if show_columns:
        for name in ([table] if table else TABLES):
            if name not in TABLES:
                raise click.BadParameter(f"unknown table; choose one of: {_table_list()}", param_hint="TABLE")
            click.echo(columns_doc(name) + "\n")
        return
    if table not in TABLES:
        raise click.BadParameter(f"choose one of: {_table_list()}", param_hint="TABLE")
    if not files:
        raise click.UsageError("Name at least one CSV file.")
    failed = False
    writer = csv.writer(sys.stderr, lineterminator="\n")
    with force_locale(locale):
        for path in files:
            loaded, problems = import_file(table, path, delimiter=delimiter)
            if problems:
                if not failed:
                    writer.writerow(["file", "line", "column", "reason"])
                failed = True
                writer.writerows(problem.as_row() for problem in problems)
                click.echo(ngettext("%(file)s: %(num)d problem; nothing was loaded.",
                                    "%(file)s: %(num)d problems; nothing was loaded.",
                                    len(problems), file=path), err=True)
            else:
                click.echo(ngettext("%(file)s: %(num)d row loaded into %(table)s.",
                                    "%(file)s: %(num)d rows loaded into %(table)s.",
                                    loaded, file=path, table=table))
    if failed:
        sys.exit(1)


def init_app(app):
    app.cli.add_command(import_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(translate_cli)
    from .demo import demo_cli
    app.cli.add_command(demo_cli)

