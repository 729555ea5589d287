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

from sqlalchemy import select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from .clock import system_clock
from .errors import EngineError
from .models import EventRecord, InstanceRecord
from .workflows import InstanceConflict, _dt, _load, _save

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


def _incident(session, instance_id, message, now):
    """Put the instance in `error` (the incidents list shows it), so that no worker picks its
    timers again until an administrator has dealt with it."""
    log.error("instance %s: %s; its timers do not fire", instance_id, message)
    record = session.get(InstanceRecord, instance_id)
    record.status, record.timer_due_at = "error", None
    record.error = {"element": None, "message": message, "data": None, "at": _dt(now).isoformat()}
    session.add(EventRecord(instance_id=instance_id, type="error", at=_dt(now), data={"message": message}))
    session.flush()
