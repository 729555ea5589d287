"""The `upgradeflow` command: a Flask CLI group over create_app (`flask --app web` works too)."""

import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError

import engine

from . import cli_admin
from .config import SettingError, from_environment
from .database import UnusableDatabaseUrl, not_set_up, require_driver, require_kept
from .extensions import db


@click.command("deploy")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@with_appcontext
def deploy_command(paths):
    """Check, then deploy the .bpmn/.dmn/.form files in PATHS (files or folders). A folder's
    forms may sit in a `forms` folder beside it (the project's layout: processes/ and forms/):
    that one is read too."""
    paths = [*paths, *_forms_beside(paths)]
    try:
        deployed = engine.deploy(db.session, engine.bundle_files(*paths), deployed_by="cli")
    except engine.DeploymentError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    except engine.DeploymentConflict as error:  # another deploy took the version number first
        db.session.rollback()
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    db.session.commit()
    for item in deployed:
        state = "deployed" if item.created else "unchanged"
        click.echo(f"{item.id} version {item.version} ({state})")


def _forms_beside(paths) -> list[str]:
    given = {Path(path).resolve() for path in paths}
    found = []
    for path in map(Path, paths):
        beside = path.resolve().parent / "forms"
        if path.is_dir() and beside.is_dir() and beside not in given and str(beside) not in found:
            click.echo(f"forms from {beside} (beside {path}/)")
            found.append(str(beside))
    return found


@click.group("users")
def users_group():
    """Manage users."""


@users_group.command("add")
@click.argument("name", type=cli_admin.TEXT)
@click.option("--group", "groups", type=cli_admin.TEXT, multiple=True, help="A group id (repeatable).")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@with_appcontext
def users_add(name, groups, admin):
    """Add user NAME. The password is read from a prompt or stdin, never from argv."""
    try:
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")  # a line ending, CRLF too
        # In a C or C.UTF-8 locale Python reads stdin with surrogateescape: bytes that are not
        # UTF-8 arrive as lone surrogates instead of failing, and failed later, at hashing.
        password.encode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise click.ClickException(
            "the password is not UTF-8 text (is the terminal's encoding UTF-8?)"
        ) from None
    try:
        engine.create_user(db.session, name, password, groups, is_admin=admin)
    except engine.UserError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"user {name} added" + (f" to {', '.join(groups)}" if groups else ""))


@click.command("demo")
@with_appcontext
def demo_command():
    """Create one demo user per group plus an admin (all marked as demo) and print the logins."""
    logins = engine.create_demo_users(db.session)
    db.session.commit()
    click.echo("Demo users (for trying Upgradeflow only):")
    for username, password in logins:
        click.echo(f"  {username} / {password}")


def _a_revision(ctx, param, value):
    if value is not None and not value.strip():  # Alembic asserted: a traceback
        raise click.BadParameter("a revision is a name such as head or 0119, not empty text")
    return value


def _check_revisions():
    """`db upgrade ''` (and downgrade, stamp) is refused in one line (Flask-Migrate's commands)."""
    from flask_migrate.cli import db as db_group

    for name in ("upgrade", "downgrade", "stamp"):
        for param in db_group.commands[name].params:
            if param.name == "revision":
                param.callback = _a_revision


def register(app):
    from .serve import serve_command
    from .worker import worker_command

    _check_revisions()

    app.cli.add_command(serve_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(deploy_command)
    app.cli.add_command(users_group)
    app.cli.add_command(demo_command)
    cli_admin.register(app)


def _create_app():
    from . import create_app

    app = create_app()
    require_kept(str(app.config["SQLALCHEMY_DATABASE_URI"]))  # the app's tests may keep one in memory
    return app


NO_DATABASE = "DATABASE_URL names no database Upgradeflow can use"  # a URL SQLAlchemy cannot read
DATABASE_UNAVAILABLE = 3  # exit status of any command that could not reach or use the database


_NO_RIGHTS_STATE = "42501"  # insufficient_privilege: the role may not read or write a table


def _no_rights(error) -> bool:
    return getattr(error.orig, "sqlstate", None) == _NO_RIGHTS_STATE


class Group(FlaskGroup):
    """Flask's command group, saying in one line what is wrong with the database instead of a
    traceback: unreachable, not upgraded for this version, or the role without rights (exit
    status 3), or a DATABASE_URL that names no usable database, a driver not installed or a
    setting the driver refuses (2). Any other ProgrammingError is a bug in a statement of ours
    and keeps its traceback."""

    def list_commands(self, ctx):
        # `--help` builds the app to list its commands: a setting or DATABASE_URL it cannot use
        # is one line here too (Flask would print the traceback), and the commands that need no
        # app are listed.
        try:
            url = from_environment()["SQLALCHEMY_DATABASE_URI"]
            if url:
                require_driver(url)
                require_kept(url)
        except (SettingError, UnusableDatabaseUrl) as error:
            click.echo(f"error: {error}", err=True)
            return click.Group.list_commands(self, ctx)
        except (ArgumentError, NoSuchModuleError) as error:
            click.echo(f"error: {NO_DATABASE}: {error}", err=True)
            return click.Group.list_commands(self, ctx)
        return super().list_commands(ctx)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            if isinstance(error, ProgrammingError) and error.statement is None:
                # Refused before any statement, on connecting: a setting in the URL the driver
                # does not take (psycopg: `?connect_timeout=abc`, an unknown option).
                click.echo(f"error: DATABASE_URL has a setting the driver refuses: {reason}", err=True)
                ctx.exit(2)
            if not_set_up(error):
                message = (
                    f"the database is not set up for this version ({reason}): run `upgradeflow db upgrade`"
                )
            elif _no_rights(error):
                message = (
                    f"the database refuses this user ({reason}): grant its role the rights on the tables"
                )
            elif isinstance(error, ProgrammingError):
                raise
            else:
                message = f"the database is unavailable: {reason}"
            click.echo(f"error: {message}", err=True)
            ctx.exit(DATABASE_UNAVAILABLE)
        except (ArgumentError, NoSuchModuleError) as error:
            click.echo(f"error: {NO_DATABASE}: {error}", err=True)
            ctx.exit(2)
        except (UnusableDatabaseUrl, SettingError) as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(2)


@click.group(cls=Group, create_app=_create_app, add_default_commands=True)
def main():
    """Upgradeflow: the software upgrade regulation run as BPMN."""
