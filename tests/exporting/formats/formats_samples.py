"""Helpers shared by the file-format tests (imported by name: the test directory is on sys.path)."""
from decimal import ROUND_HALF_UP, Decimal

DANGEROUS = ["=1+2", "+31 20 123", "-2+3", "@SUM(A1:A2)", "\tTAB", "\rCR"]


def expected_text(value):
    """What CSV and XLSX make of a text: formula-like text gets an apostrophe."""
    if value is None:
        return ""
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def rounded(value, scale):
    """Half-up rounding, as the writers do (Python's own formatting rounds half-even)."""
    return value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
