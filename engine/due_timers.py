"""Due timers fired by the worker (`upgradeflow worker`): the repeating risk reassessment and
inspection, timer boundary events, deadlines. Each due instance is loaded, its timers fired and
the step saved like any other (`workflows._save`); one that cannot be fired becomes an incident,
and the others still fire.

An instance whose state cannot be read is put in `error` in the same batch. One whose firing or
save fails (a script stored a value the state cannot hold, the database refused a value) may
have written part of its step already: `fire_due_timers` raises `TimerFailed`, the caller rolls
the batch back and records the incident in a transaction of its own (`timer_incident`), and the
next batch goes on without it."""

import logging

from sqlalchemy import insert, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from .clock import system_clock
from .errors import EngineError, InstanceConflict
from .models import EventRecord, InstanceRecord
from .step_rows import as_time
from .workflows import _load, _save

log = logging.getLogger(__name__)


class TimerFailed(EngineError):
    """Firing an instance's timers failed part-way: roll the batch back, then `timer_incident`."""

    def __init__(self, instance_id, error):
        super().__init__(f"instance {instance_id}: its timers could not fire: {error!r}")
        self.instance_id, self.error = instance_id, error


def fire_due_timers(session, clock=system_clock, limit=100) -> int:
    """Fire the due timers of up to `limit` running instances. Returns how many had a timer fire
    (one that fails to fire is an incident instead: the instance is in `error`).

    Rows are claimed with FOR UPDATE SKIP LOCKED where the database has it, so several workers
    never fire one timer twice.
    """
    now = clock()
    query = (
        select(InstanceRecord.id)
        .where(InstanceRecord.status == "running", InstanceRecord.timer_due_at <= now)
        .order_by(InstanceRecord.timer_due_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":  # session.bind is None under Flask-SQLAlchemy
        query = query.with_for_update(skip_locked=True)
    moved = 0
    for instance_id in list(session.scalars(query)):
        try:
            record, instance = _load(session, instance_id, clock)
        except (InstanceConflict, SQLAlchemyError):
            raise  # the batch is retried next round
        except Exception as error:  # its state cannot be read: an incident, and the timers of the rest fire
            _unreadable(session, instance_id, error, now)
            continue
        try:
            result = instance.fire_timers()
            _save(session, record, instance, result, now)
        except (InstanceConflict, OperationalError):
            raise  # another worker got there first, or the database is gone: the batch is retried
        except Exception as error:
            raise TimerFailed(instance_id, error) from error
        moved += any(event.kind == "timer_fired" for event in result.events)
    return moved


def timer_incident(session, failure: TimerFailed, clock=system_clock):
    """Put the instance of a `TimerFailed` in `error` (after the caller rolled its batch back)."""
    _incident(session, failure.instance_id, f"its timers could not fire: {failure.error!r}", clock())


def _unreadable(session, instance_id, error, now):
    _incident(session, instance_id, f"state cannot be read: {error!r}", now)


def _incident(session, instance_id, message, now) -> bool:
    """Put the instance in `error` (the incidents list shows it), so that no worker picks its
    timers again until an administrator has dealt with it. One statement that neither reads the
    state (it may be what cannot be read) nor overwrites what a request did meanwhile: only a
    row still running with its timer due is marked; one that was ended, terminated or moved on
    since is left as it is, and the next round looks at its timers again. Returns whether it
    was marked."""
    at = as_time(now)
    marked = session.execute(
        update(InstanceRecord)
        .where(
            InstanceRecord.id == instance_id,
            InstanceRecord.status == "running",
            InstanceRecord.timer_due_at <= now,
        )
        .values(
            status="error",
            timer_due_at=None,
            error={"element": None, "message": message, "data": None, "at": at.isoformat()},
            updated_at=at,
            version_id=InstanceRecord.version_id + 1,  # the instance cache's copies are stale
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked != 1:
        log.warning("instance %s: changed meanwhile, no incident recorded (%s)", instance_id, message)
        return False
    log.error("instance %s: %s; its timers do not fire", instance_id, message)
    session.execute(
        insert(EventRecord.__table__).values(
            instance_id=instance_id, type="error", at=at, data={"message": message}
        )
    )
    return True
