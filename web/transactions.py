"""The request's transaction around one engine call: commit on success, retry a lost race.

Two people completing two tasks of one instance at once (parallel branches such as
`budget_audit` and `initiation_review`) both read version n of the instance row; the second write
finds version n+1 and the engine raises `InstanceChanged`. Nothing of that attempt is kept: the
session is rolled back and the whole call runs again on the fresh row, so both succeed. The same
task completed twice fails differently on the retry (the task is no longer ready: a 409), so a
retry never completes anything twice. Bounded: after `TRIES` lost races the 409 goes out.
"""

from sqlalchemy.exc import DBAPIError, OperationalError

import engine

from .extensions import db

TRIES = 3


def committed(call, tries=TRIES):
    """`call()` (one engine call) in a transaction that is committed; returns its result.

    Raises what `call` raises; `engine.InstanceChanged` only after `tries` lost races.
    """
    for attempt in range(1, tries + 1):
        try:
            result = call()
            db.session.commit()
            return result
        except engine.InstanceChanged:
            db.session.rollback()
            if attempt == tries:
                raise
        except OperationalError as error:
            # SQLite: a writer that waited past its busy timeout. Like a lost race, nothing was
            # written; unlike it, a database that is down stays down and is answered with a 503.
            db.session.rollback()
            if attempt == tries or not _busy(error):
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


def _busy(error: DBAPIError) -> bool:
    return "database is locked" in str(error.orig)
