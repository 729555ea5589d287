"""Engine services on real databases: SQLite files always, PostgreSQL when a server answers."""

import os
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

import engine

PG_URL = os.environ.get("UPGRADEFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available():
    probe = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
    try:
        with probe.connect():
            return True
    except Exception:
        return False
    finally:
        probe.dispose()


PG = _pg_available()


@contextmanager
def pg_schema(options=""):
    """An engine on a new PostgreSQL schema with the tables, its connections started with
    `options` too (`-c…` settings); the schema is dropped after. Skips without a server."""
    if not PG:
        pytest.skip(f"no PostgreSQL server answers at {PG_URL}")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    bind = sa.create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema} {options}".strip()})
    engine.Base.metadata.create_all(bind)
    try:
        yield bind
    finally:
        bind.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def skip_without_savepoint_rollback(Session):
    """Skip a test that rolls a SAVEPOINT back, on SQLite: pysqlite's default transaction
    handling does not roll back across one."""
    if Session.kw["bind"].dialect.name == "sqlite":
        pytest.skip("pysqlite's default transaction handling does not roll back across a SAVEPOINT")


def deployed_sessions(bind):
    """A session factory on `bind` with the procedure deployed."""
    factory = sessionmaker(bind, expire_on_commit=False)
    with factory.begin() as session:
        engine.deploy(session, engine.bundle_files("processes", "forms"), deployed_by="tests")
    return factory


@pytest.fixture(params=["sqlite", "postgresql"])
def db_engine(request, tmp_path):
    if request.param == "sqlite":
        bind = sa.create_engine(f"sqlite:///{tmp_path / 'int.db'}", connect_args={"timeout": 30})
        engine.Base.metadata.create_all(bind)
        yield bind
        bind.dispose()
        return
    with pg_schema() as bind:
        yield bind


@pytest.fixture
def Session(db_engine):
    return deployed_sessions(db_engine)


@pytest.fixture
def postgres_url():
    """The PostgreSQL URL, or a skip that says no server answered."""
    if not PG:
        pytest.skip(f"no PostgreSQL server answers at {PG_URL}")
    return PG_URL


@pytest.fixture
def clock():
    """A clock the test moves (engine.ManualClock, 2026-01-05 09:00 UTC)."""
    return engine.ManualClock()
