"""Connection settings the database engine needs for several processes at once.

SQLite: write-ahead logging, so readers never wait for the writer and `upgradeflow serve`'s
workers and `upgradeflow worker` share one file; `synchronous=NORMAL`, which in WAL mode still
never corrupts the database (a power cut may lose the last commits, a killed process loses
nothing committed); and a busy timeout, so a writer waits its turn instead of failing at once.
"""

from sqlalchemy import event

BUSY_TIMEOUT_MS = 15_000


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def configure(bind):
    """Install the settings on `bind` (an SQLAlchemy Engine) for every new connection."""
    if bind.dialect.name == "sqlite":
        event.listen(bind, "connect", _sqlite_pragmas)
