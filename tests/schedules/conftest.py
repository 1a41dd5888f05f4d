from tests.exporting.conftest import ctx, execute, sqlite_ctx  # noqa: F401  (fixtures and helpers)
