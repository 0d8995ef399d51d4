"""Database helpers that know no model."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def statement_timeout(milliseconds: int) -> Iterator[None]:
    """Cancel any query of the block that runs longer (django.db.OperationalError), so a slow
    read cannot hold a page (the admin index's traffic summary). Inside a caller's transaction
    the caller's own timeout is back after the block (a failed block's savepoint rollback
    cancels the setting; a block that succeeds sets it back)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('statement_timeout'), "
            "set_config('statement_timeout', %s, true)",
            [f"{milliseconds}ms"],
        )
        previous = cursor.fetchone()[0]
        yield
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
