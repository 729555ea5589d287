"""Databases for the benchmarks: a SQLite file or a fresh PostgreSQL schema, migrated and deployed."""

import contextlib
import os
import tempfile
import uuid
from urllib.parse import quote

import sqlalchemy as sa
from flask_migrate import upgrade

import engine
from web import create_app
from web.extensions import db

PG_URL = os.environ.get("UPGRADEFLOW_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
GROUPS = ("business", "it", "finance", "management", "vendor", "qa")
PASSWORD = "bench-password-1"


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
def database(kind):
    """Yields the URL of an empty database of `kind` ("sqlite" or "postgresql"); removes it after."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="upgradeflow-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_URL}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def app_engine(url):
    """An engine over `url` set up as the app's own (JSON columns through orjson, SQLite's WAL,
    PostgreSQL's connection checks), for benchmarks that call the engine without HTTP."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        return db.engine


def prepared_app(url):
    """An app over `url`, migrated, with the procedure deployed and one user per group
    (`<group>1`, password PASSWORD). Returns (app, {group: token})."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    tokens = {}
    with app.app_context():
        upgrade()
        engine.deploy(db.session, engine.bundle_files("processes", "forms"), deployed_by="bench")
        for group in GROUPS:
            user = engine.create_user(db.session, f"{group}1", PASSWORD, [group])
            tokens[group] = engine.issue_token(db.session, user)
        db.session.commit()
    return app, tokens
