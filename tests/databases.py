"""The test databases: a SQLite file, or a fresh PostgreSQL schema when a server answers.

PostgreSQL is reached at UPGRADEFLOW_TEST_PG (trust auth, database `test` in CI). Each test gets
its own schema, selected with `search_path` in the URL's `options`, so the URL alone is enough for
an app, a subprocess (`upgradeflow serve`) or Alembic to land in it.
"""

import contextlib
import functools
import os
import uuid
from urllib.parse import quote

import sqlalchemy as sa

PG_URL = os.environ.get("UPGRADEFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NO_SERVER = f"no PostgreSQL server answers at {PG_URL}"


@functools.cache
def pg_available() -> bool:
    probe = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3})
    try:
        with probe.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        probe.dispose()


@contextlib.contextmanager
def pg_schema(prefix="t"):
    """Yields the URL of a fresh schema; drops it afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_URL}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
