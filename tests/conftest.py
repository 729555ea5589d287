"""Shared fixtures: an app on a fresh database (migrated with Alembic, the procedure deployed),
clients and user factories.

`--db=sqlite` (default) or `--db=postgresql` (or UPGRADEFLOW_TEST_DB) picks the app's database:
on SQLite each test gets a copy of a file migrated and deployed once per run; on PostgreSQL the
run's schema, emptied before each test. PostgreSQL tests skip, saying so, only when no server
answers.
"""

import os
import shutil

import pytest
from databases import NO_SERVER, emptied, pg_available, pg_schema
from sqlalchemy import text

import engine
from web import create_app
from web.extensions import db

PASSWORD = "correct-horse-battery"

# The suite creates and logs in thousands of users; scrypt's 0.1 s a hash would be minutes of it.
# The stored method is still checked: tests/web/test_api_auth.py creates a user with it.
engine.users.PASSWORD_METHOD = "pbkdf2:sha256:1"


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("UPGRADEFLOW_TEST_DB", "sqlite"),
        help="the database the app fixture runs on (default: sqlite)",
    )


def pytest_report_header(config):
    return f"app database: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def shared_pg_schema():
    """One PostgreSQL schema for the run, migrated once (`database_url` empties it per test)."""
    with pg_schema("w") as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test"})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            db.engine.dispose()
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite file migrated, with processes/ and forms/ deployed, made once per run: each test's
    database starts as a copy of it (a millisecond, where migrating and deploying take a sixth
    of a second)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "test"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        engine.deploy(db.session, engine.bundle_files("processes", "forms"), deployed_by="tests")
        db.session.commit()
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))  # all of it in the one file
        db.engine.dispose()
    return path


@pytest.fixture
def database_url(request, tmp_path):
    """A database, migrated and with the procedure deployed: a copy of the run's SQLite template,
    or the run's PostgreSQL schema emptied (a fresh schema when a connection an earlier test left
    open keeps it from being emptied; the `app` fixture deploys there)."""
    if request.config.getoption("--db") == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "test.db")
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    if not pg_available():
        pytest.skip(NO_SERVER)
    shared = request.getfixturevalue("shared_pg_schema")
    if emptied(shared):
        yield shared
        return
    with pg_schema("w") as url:
        yield url


@pytest.fixture
def app(database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test"})
    if not database_url.startswith("sqlite"):  # a SQLite copy of the template has both already
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            engine.deploy(db.session, engine.bundle_files("processes", "forms"), deployed_by="tests")
            db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """make_user("alice", "business", admin=False) -> engine.User (password: PASSWORD)."""

    def make(username, *groups, admin=False):
        with app.app_context():
            user = engine.create_user(db.session, username, PASSWORD, groups, is_admin=admin)
            db.session.commit()
            return user

    return make


@pytest.fixture
def token_for(app, client):
    """token_for(user) -> a bearer token obtained through POST /api/v1/auth/token."""

    def token(user):
        response = client.post("/api/v1/auth/token", json={"username": user.username, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["token"]

    return token
