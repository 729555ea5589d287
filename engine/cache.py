"""Restored instances kept between the requests of one process, so that a step does not rebuild
its workflow from JSON every time.

An instance is filed under the identity of the row it was read from or saved as: the database
(the Engine object), the instance id, its optimistic-lock version and its update time. Any change made by another
process or host bumps the version, so it is a miss, and a hit is exactly the state that row holds.

Entries are taken out while in use, so two requests of one process never share an instance. A
read puts its instance back at once; a write's instance is staged on the session and filed only
when that transaction commits, so the state of a step that was rolled back (a lost race, a refused
submission, a failed commit) is never served. Whatever is not put back is simply restored again
from the database next time.
"""

import threading
import uuid
from collections import OrderedDict

from sqlalchemy import event
from sqlalchemy.orm import Session

from .clock import naive_utc

DEFAULT_SIZE = 256
_STAGED = "upgradeflow.staged_instances"
_TOKEN = "_upgradeflow_cache_token"


class InstanceCache:
    """A bounded, thread-safe map from row identity to restored `Instance`, least recently used
    out first. `size=0` turns it off.

    One entry per instance (per database): its row identity is kept with it, so a newer row
    replaces an older entry instead of sitting beside it, and an entry found stale is dropped.
    Stale entries used to stay until pushed out, holding memory the garbage collector then walked
    on every full collection (pauses of 50-90 ms under load)."""

    def __init__(self, size=DEFAULT_SIZE):
        self.size = size
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict = OrderedDict()  # (database, instance id) -> (row key, instance)
        self._lock = threading.Lock()

    def resize(self, size: int):
        with self._lock:
            self.size = max(0, int(size))
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self):
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self):
        return len(self._entries)

    def take(self, key):
        """The instance filed under row identity `key`, removed from the cache; or None (and an
        entry for an older or other state of that row is dropped)."""
        with self._lock:
            entry = self._entries.pop(key[:2], None)
            if entry is None or entry[0] != key:
                self.misses += 1
                _dispose(entry)
                return None
            self.hits += 1
            return entry[1]

    def put(self, key, instance):
        """File `instance` as the state of row identity `key`, replacing any entry of that row."""
        if self.size <= 0:
            return
        with self._lock:
            replaced = self._entries.get(key[:2])
            self._entries[key[:2]] = (key, instance)
            self._entries.move_to_end(key[:2])
            if replaced is not None and replaced[1] is not instance:
                _dispose(replaced)
            while len(self._entries) > self.size:
                _dispose(self._entries.popitem(last=False)[1])


def _dispose(entry):
    # An entry the cache drops is used by no one (entries are taken out while in use).
    if entry is not None:
        entry[1].dispose()


INSTANCES = InstanceCache()


def row_key(session, record) -> tuple:
    """The identity of an instance row as this transaction sees it."""
    return (_database(session.get_bind()), record.id, record.version_id, naive_utc(record.updated_at))


def _database(bind) -> str:
    # One token per Engine object, not its URL: two engines may reach different databases through
    # one URL (a schema chosen in connect_args), and a new engine never inherits an old one's rows.
    token = bind.__dict__.get(_TOKEN)
    if token is None:
        token = bind.__dict__.setdefault(_TOKEN, uuid.uuid4().hex)
    return token


def staged(session, instance_id):
    """The instance this transaction has already saved for `instance_id`, or None."""
    entry = session.info.get(_STAGED, {}).get(instance_id)
    return entry[1] if entry is not None else None


def stage(session, record, instance):
    """File `instance` as the row's new state once this transaction commits (call after flush)."""
    session.info.setdefault(_STAGED, {})[record.id] = (row_key(session, record), instance)


@event.listens_for(Session, "after_commit")
def _file_staged(session):
    if session.in_nested_transaction():  # a released SAVEPOINT: the outer one may still roll back
        return
    for key, instance in session.info.pop(_STAGED, {}).values():
        INSTANCES.put(key, instance)


@event.listens_for(Session, "after_soft_rollback")
def _drop_staged_on_rollback(session, previous_transaction):
    session.info.pop(_STAGED, None)


@event.listens_for(Session, "after_transaction_end")
def _drop_staged_on_end(session, transaction):
    # After after_commit has filed them; a transaction closed without commit files nothing.
    if transaction.parent is None:
        session.info.pop(_STAGED, None)
