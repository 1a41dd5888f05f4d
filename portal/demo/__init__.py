"""``flask demo seed``: a realistic organisation to try the portal with."""
import click
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--size", type=int, default=None, help="Rows per large table (default: a realistic year).")
def seed_command(size):
    """Fill the database with demo data. Running it twice changes nothing."""
    from .seed import seed
    summary = seed(size=size)
    for table, count in summary.items():
        click.echo(f"{table}: {count}")
