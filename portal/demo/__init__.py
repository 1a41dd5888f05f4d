"""``flask demo seed``: a realistic organisation to try the portal with."""
import time

import click
from flask.cli import AppGroup

from .seed import reset as reset_data, seed, table_counts

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--size", type=click.IntRange(min=100), default=None,
              help="Rows in each large table (journal lines, invoice lines, time registrations, payments, "
                   "purchase order lines, products). Default: a realistic year.")
@click.option("--reset", is_flag=True, help="First delete all source data (not the users or the companies), then seed anew.")
def seed_command(size, reset):
    """Fill the database with demo data. Running it twice changes nothing.

    Large tables that already hold rows are kept as they are; use --reset to seed them at another size.
    """
    if reset:
        reset_data()
    started = time.perf_counter()

    def progress(table, count):
        click.echo(f"  {table}: {count} rows inserted ({time.perf_counter() - started:.1f} s)")

    inserted = seed(size=size, progress=progress)
    if not any(inserted.values()):
        click.echo("The large tables already hold data; nothing was added (use --reset to seed anew).")
    for table, count in table_counts().items():
        click.echo(f"{table}: {count}")
