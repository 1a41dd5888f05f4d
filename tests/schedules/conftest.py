from tests.exporting.conftest import ctx, sqlite_ctx  # noqa: F401  (fixtures)
from tests.factories import execute  # noqa: F401  (for the tests here)
