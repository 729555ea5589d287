"""Connection settings the database engine needs for several processes at once.

PostgreSQL: a pooled connection is checked before use without a round trip: a server that went
away (restarted, stopped, the network cut) leaves the connection's socket readable (its goodbye
or end of file), and such a connection is swapped for a new one. `pool_pre_ping`'s `SELECT 1` did
the same at one round trip per request. A connection lost silently fails its first statement:
that request answers 503 and the pool is renewed.

PostgreSQL: a request that only reads (GET, HEAD) runs its statements without a transaction
(autocommit), which under PostgreSQL's READ COMMITTED sees exactly what a transaction would (each
statement what is committed when it runs) at two round trips fewer. It matters more than the two
round trips: psycopg forgets its prepared statements at every ROLLBACK, and the ROLLBACK that ended
each read request kept every statement from reaching the five uses after which psycopg prepares
it, so PostgreSQL parsed and planned every statement of every request again.

SQLite: write-ahead logging, so readers never wait for the writer and `upgradeflow serve`'s
workers and `upgradeflow worker` share one file; `synchronous=NORMAL`, which in WAL mode still
never corrupts the database (a power cut may lose the last commits, a killed process loses
nothing committed); and a busy timeout, so a writer waits its turn instead of failing at once.
"""

import select

from flask import request
from sqlalchemy import event, make_url
from sqlalchemy.exc import DisconnectionError
from werkzeug.routing import IntegerConverter

BUSY_TIMEOUT_MS = 15_000


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _psycopg_alive(dbapi_connection, _record, _proxy):
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection is closed")
    poller = select.poll()  # poll, not select: any descriptor number
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    if poller.poll(0):  # an idle connection has nothing to read unless the server said goodbye
        raise DisconnectionError("the server closed the connection")


def _checks_its_own_connections(url) -> bool:
    # psycopg 3 (what postgresql:// means in SQLAlchemy 2.1): its connections tell whether they
    # are closed or broken and give their socket. Another driver is pinged as before.
    parsed = make_url(url)
    return parsed.get_backend_name() == "postgresql" and parsed.get_dialect().driver == "psycopg"


CONNECT_TIMEOUT_S = 5


def engine_options(url: str, connect_timeout=CONNECT_TIMEOUT_S) -> dict:
    """Engine options that depend on the database: psycopg connections are checked on checkout
    (`configure`) and a SQLite file has no connection to lose; any other database is pinged
    before each use. A PostgreSQL server that takes connections but never answers fails a new
    connection after `connect_timeout` seconds (a 503), not after the worker's own timeout (an
    HTML 500 from gunicorn); a `connect_timeout` in the URL wins."""
    options = {
        "pool_pre_ping": not (
            _checks_its_own_connections(url) or make_url(url).get_backend_name() == "sqlite"
        )
    }
    if _checks_its_own_connections(url) and "connect_timeout" not in make_url(url).query:
        options["connect_args"] = {"connect_timeout": connect_timeout}
    return options


def require_kept(url: str):
    """Raise UnusableDatabaseUrl when `url` names an in-memory SQLite database: each command (and
    each app process) would get a new empty one, so `db upgrade` would keep nothing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise UnusableDatabaseUrl(
            "DATABASE_URL names an in-memory SQLite database, which keeps nothing between commands: "
            "name a file (sqlite:////path/to/upgradeflow.db)"
        )


# Why a statement failed, when the cause is the database's set-up rather than a bug of ours:
# SQLite says it in words, PostgreSQL by sqlstate (undefined_table, undefined_column).
_NOT_SET_UP_WORDS = ("no such table", "no such column", "has no column named")
_NOT_SET_UP_STATES = frozenset({"42P01", "42703"})


def not_set_up(error) -> bool:
    """Whether a statement's error (a DBAPIError) says the database is not migrated for this
    version: a missing table (a new database) or column (one not upgraded since the code was)."""
    return any(words in str(error.orig) for words in _NOT_SET_UP_WORDS) or (
        getattr(error.orig, "sqlstate", None) in _NOT_SET_UP_STATES
    )


class UnusableDatabaseUrl(Exception):
    """DATABASE_URL names a database this installation cannot open (the CLI: one line, exit 2)."""


def require_driver(url: str):
    """Import the driver (DBAPI module) that `url` names, as creating the engine does, and raise
    UnusableDatabaseUrl naming it when it is not installed (`postgresql+psycopg2://`, `mysql://`):
    SQLAlchemy's own ModuleNotFoundError reads as a broken installation, not a wrong setting.
    Only this import is looked at: a module missing anywhere else is still a bug. A port that
    is no number or out of range is refused here too (SQLAlchemy's own ValueError, or the
    driver's "invalid port" taken for an outage)."""
    try:
        parsed = make_url(url)
        port = parsed.port
    except ValueError as error:  # `host:abc`
        raise UnusableDatabaseUrl(f"DATABASE_URL names no database Upgradeflow can use: {error}") from None
    if port is not None and not 1 <= port <= 65535:
        raise UnusableDatabaseUrl(f"DATABASE_URL has a port out of range (1 to 65535): {port}")
    try:
        parsed.get_dialect().import_dbapi()
    except ImportError as error:
        raise UnusableDatabaseUrl(
            f"DATABASE_URL names a driver that is not installed ({error.name or error}): "
            "use postgresql+psycopg:// or sqlite:///"
        ) from None


def configure(bind):
    """Install the settings on `bind` (an SQLAlchemy Engine) for every new connection."""
    if bind.dialect.name == "sqlite":
        event.listen(bind, "connect", _sqlite_pragmas)
    if _checks_its_own_connections(bind.url):
        event.listen(bind.pool, "checkout", _psycopg_alive)


READS = frozenset({"GET", "HEAD"})
FILES = frozenset({None, "vendor"})  # blueprints that serve files (None: the app's static folder)


def read_requests_without_transaction(app, db):
    """PostgreSQL: GET and HEAD requests use an autocommit connection (see the module's text).
    They write nothing: a write belongs in a POST, inside `transactions.committed`."""
    if db.engine.dialect.name != "postgresql":
        return  # SQLite: a read transaction is one snapshot, and costs no round trip

    def autocommit_reads():
        if request.method in READS and request.blueprint not in FILES:
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})

    # First, before any other hook can touch the session (the connection is chosen once).
    app.before_request_funcs.setdefault(None, []).insert(0, autocommit_reads)


MAX_ID = 2**31 - 1  # the largest value of an INTEGER column (PostgreSQL; SQLite takes 64 bits)


class RowId(IntegerConverter):
    """`<int:…>` in URLs: an id beyond what an id column holds is no row (404), not a query
    that fails (a 500 on either database)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
