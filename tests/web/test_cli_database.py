"""The `upgradeflow` command on a database it cannot use as it is: one line and an exit status,
not a traceback (web/cli.py `Group`)."""

import contextlib
import uuid

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from databases import NO_SERVER, PG_URL, pg_available, pg_schema
from flask.cli import ScriptInfo
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from web import create_app
from web.cli import main
from web.extensions import db

BEFORE_INSTANCES_PHASE = "0110"  # the revision before 0111 added instances.phase


def upgradeflow(url, *args, input=None):
    """`upgradeflow ARGS` on `url`, in this process: the real command group, its app made by
    create_app as the installed command makes it (stderr apart from stdout)."""
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t"}
    made = []
    info = ScriptInfo(create_app=lambda: made.append(create_app(config)) or made[0])
    try:
        return CliRunner().invoke(main, list(args), input=input, obj=info)
    finally:
        for app in made:  # its pooled connections, closed before the database is dropped
            with app.app_context():
                db.engine.dispose()


@contextlib.contextmanager
def own_database(request, tmp_path):
    """The URL of an empty database of this test's own (SQLite or PostgreSQL, as --db says)."""
    if request.config.getoption("--db") == "sqlite":
        yield f"sqlite:///{tmp_path / 'own.db'}"
        return
    if not pg_available():
        pytest.skip(NO_SERVER)
    with pg_schema("c") as url:
        yield url


def migrated(url, revision="head"):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t"})
    with app.app_context():
        upgrade(revision=revision)
        db.engine.dispose()


def test_a_database_not_upgraded_for_this_version_says_to_upgrade_it(request, tmp_path):
    """A column the code reads is missing: SQLite's "no such column" said "the database is
    unavailable" and PostgreSQL's undefined_column (42703) was a traceback."""
    with own_database(request, tmp_path) as url:
        migrated(url, BEFORE_INSTANCES_PHASE)
        result = upgradeflow(url, "instances", "list")
    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: the database is not set up for this version (")
    assert "instances.phase" in line
    assert line.endswith("): run `upgradeflow db upgrade`")


def test_a_database_without_tables_says_to_upgrade_it_in_one_line(request, tmp_path):
    with own_database(request, tmp_path) as url:
        result = upgradeflow(url, "verify")
    assert result.exit_code == 3
    [line] = result.stderr.splitlines()
    assert line.startswith("error: the database is not set up for this version (")


def test_a_role_without_rights_is_one_line_naming_it(tmp_path):
    """PostgreSQL's insufficient_privilege (42501) was a traceback; nothing is stored."""
    if not pg_available():
        pytest.skip(NO_SERVER)
    role = f"r_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
    try:
        with pg_schema("c") as url:
            migrated(url)
            schema = url.rsplit("search_path%3D", 1)[1]
            with admin.begin() as conn:
                conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
                conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
            as_role = make_url(url).set(username=role).render_as_string(hide_password=False)
            listed = upgradeflow(as_role, "instances", "list")
            added = upgradeflow(as_role, "users", "add", "alice", input="long-enough-pw\n")
            with admin.connect() as conn:
                users = conn.scalar(sa.text(f"SELECT count(*) FROM {schema}.users"))
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()
    for result in (listed, added):
        assert result.exit_code == 3, result.output
        [line] = result.stderr.splitlines()
        assert line.startswith("error: the database refuses this user (permission denied for table ")
    assert users == 0


def test_another_programming_error_keeps_its_traceback():
    """A statement of ours the database cannot parse is a bug: it is not hidden behind a line."""
    syntax = type("SyntaxError", (Exception,), {"sqlstate": "42601"})("syntax error at or near x")

    @main.command("fails-for-this-test", with_appcontext=False)
    def fails():
        raise sa.exc.ProgrammingError("SELECT x x", {}, syntax)

    try:
        result = CliRunner().invoke(main, ["fails-for-this-test"], obj=ScriptInfo(create_app=lambda: None))
    finally:
        main.commands.pop("fails-for-this-test")
    assert isinstance(result.exception, sa.exc.ProgrammingError)


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql+psycopg2://postgres@127.0.0.1:1/test", "psycopg2"),
        ("mysql://u@127.0.0.1:1/db", "MySQLdb"),
    ],
)
def test_a_driver_that_is_not_installed_is_exit_status_2_naming_it(url, driver):
    """SQLAlchemy imports the driver when the engine is made: a ModuleNotFoundError traceback
    (exit status 1) where the README promises 2."""
    result = upgradeflow(url, "instances", "list")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"error: DATABASE_URL names a driver that is not installed ({driver}): "
        "use postgresql+psycopg:// or sqlite:///"
    ]


@pytest.mark.parametrize(
    ("query", "reason"),
    [("connect_timeout=abc", "bad value for connect_timeout: 'abc'"), ("bogus=1", 'option "bogus"')],
)
def test_a_setting_the_driver_refuses_is_exit_status_2_naming_it(query, reason):
    """psycopg refuses the URL's settings on connecting, before any statement: that was a
    ProgrammingError traceback (no server is reached: the port is closed)."""
    result = upgradeflow(f"postgresql+psycopg://postgres@127.0.0.1:1/test?{query}", "instances", "list")
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("error: DATABASE_URL has a setting the driver refuses: ")
    assert line.endswith(reason)
