"""The test databases: a SQLite file, or a PostgreSQL schema when a server answers.

PostgreSQL is reached at UPGRADEFLOW_TEST_PG (trust auth, database `test` in CI). A schema is
selected with `search_path` in the URL's `options`, so the URL alone is enough for an app, a
subprocess (`upgradeflow serve`) or Alembic to land in it. The app's tests share one schema per
run, migrated once and emptied before each test (`emptied`: a third of a second less per test
than a new schema migrated each time); a test that needs a schema of its own takes `pg_schema`.
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


def emptied(url, lock_timeout="5s") -> bool:
    """Delete every row of the app's tables in the schema `url` selects and start their ids at 1
    again (DELETE, not TRUNCATE: on tables this small TRUNCATE's new files cost ten times more).
    False when a connection left open by an earlier test holds a lock past `lock_timeout` (the
    caller then takes a fresh schema)."""
    from engine.models import Base

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"SET LOCAL lock_timeout = '{lock_timeout}'"))
            for table in reversed(Base.metadata.sorted_tables):  # rows that refer to others first
                conn.execute(table.delete())
            conn.execute(
                sa.text(
                    "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) "
                    "FROM pg_sequences WHERE schemaname = current_schema()"
                )
            )
        return True
    except sa.exc.OperationalError:  # lock_timeout: another connection holds a table
        return False
    finally:
        engine.dispose()


def migrated_app(url, revision="head", **config):
    """A test app (TESTING, SECRET_KEY "t") over the database `url`, migrated to `revision`;
    `config` adds to or overrides its settings (UPLOAD_DIR, ENGINE_CLOCK, …)."""
    from flask_migrate import upgrade

    from web import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t", **config})
    with app.app_context():
        upgrade(revision=revision)
    return app
