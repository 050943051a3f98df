"""Small PostgreSQL helpers shared by the set-based jobs."""

from contextlib import contextmanager

from django.db import connection


@contextmanager
def local_planner_settings(**settings: str):
    """Planner settings for the statements inside the block only (PostgreSQL; nothing elsewhere).

    `set_config(name, value, true)` lasts until the end of the transaction, so the previous values are put
    back on the way out: the rest of a request or job plans as usual."""
    if connection.vendor != "postgresql" or not settings:
        yield
        return
    names = list(settings)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
        previous = cursor.fetchone()
        for name in names:
            cursor.execute("SELECT set_config(%s, %s, true)", [name, settings[name]])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, value in zip(names, previous, strict=True):
                cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def pg_array(values) -> str:
    """One PostgreSQL array literal ('{1,2,3}') for numbers or dates: the server parses one constant instead of an
    ARRAY[...] of thousands of parameters."""
    return "{" + ",".join(map(str, values)) + "}"
