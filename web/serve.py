"""`upgradeflow serve`: the app under gunicorn, N worker processes over one database.

The app keeps nothing authoritative between requests (sessions are signed cookies, state is in
the database, and the instance cache serves only what the row shows is unchanged), so any number
of processes or hosts may serve one database.
"""

import gc
import logging
import os

import click
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError as AlembicError
from flask import current_app
from flask.cli import with_appcontext
from gunicorn.app.base import BaseApplication
from sqlalchemy.exc import OperationalError, SQLAlchemyError

import engine

from .database import not_set_up
from .extensions import db

log = logging.getLogger(__name__)


class Server(BaseApplication):
    def __init__(self, options):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        app = create_app()
        warm_up(app)
        return app


def warm_up(app):
    """Before a worker serves: parse the definitions requests will need, then move everything
    loaded so far out of the garbage collector's sight (`gc.freeze`). Without that, every full
    collection walks the parsed diagrams, the app and the libraries again: pauses of 40-80 ms,
    the slowest requests under load. A database that is down skips the parsing; requests then
    parse on first use."""
    from .extensions import db

    with app.app_context():
        try:
            engine.load_definitions(db.session)
        except SQLAlchemyError as error:
            log.warning("definitions not loaded ahead (database unavailable?): %s", error)
        finally:
            db.session.remove()
    gc.collect()
    gc.freeze()


def _require_upgraded():
    """Refuse to serve a database that answers but is not migrated to this version (every page
    would fail); one that does not answer is served (503 until it returns), and so is one that a
    newer version migrated further (a host not yet upgraded, in a rolling upgrade), with a warning."""
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    heads = set(script.get_heads())
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except OperationalError as error:
        if not_set_up(error):
            current = set()
        else:
            log.warning("the database does not answer yet: %s", error.orig)
            return
    finally:
        db.engine.dispose()  # the workers open their own connections after the fork
    if current == heads:
        return
    unknown = sorted(revision for revision in current if not _known(script, revision))
    if unknown:
        click.echo(
            f"warning: the database is at revision {', '.join(unknown)}, which this version does not "
            "know (a newer version migrated it): serving anyway; upgrade Upgradeflow on this host",
            err=True,
        )
        return
    click.echo(
        f"error: the database is not set up for this version (at {', '.join(sorted(current)) or 'no revision'}, "
        f"this version needs {', '.join(sorted(heads))}): run `upgradeflow db upgrade`",
        err=True,
    )
    raise SystemExit(3)


def _known(script, revision) -> bool:
    try:
        return script.get_revision(revision) is not None
    except AlembicError:  # "Can't locate revision identified by …"
        return False


@click.command("serve")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--timeout",
    default=30,
    show_default=True,
    type=click.IntRange(1, 86_400),
    help="Seconds before a stuck worker is restarted.",
)
@with_appcontext
def serve_command(workers, port, host, timeout):
    """Serve the app with gunicorn (production)."""
    _require_upgraded()
    if not os.environ.get("SECRET_KEY"):
        # Every worker must sign with one key: the one kept in the instance folder.
        from flask import Flask

        from . import kept_secret_key

        try:
            kept_secret_key(Flask("web").instance_path)  # the folder create_app keeps it in
        except (OSError, ValueError) as error:
            raise click.ClickException(
                f"SECRET_KEY is not set and no key can be kept ({error}); set SECRET_KEY"
            ) from None
    Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "timeout": timeout,
            "accesslog": None,
            # Each worker builds its own app and connection pool after the fork.
            "preload_app": False,
        }
    ).run()
