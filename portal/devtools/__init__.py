"""Helpers for ``make demo`` and the tests: a Redis when none answers, the demo processes."""
