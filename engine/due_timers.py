"""Due timers fired by the worker (`upgradeflow worker`): the repeating risk reassessment and
inspection, timer boundary events, deadlines. Each due instance is loaded, its timers fired and
the step saved like any other (`workflows._save`); one that cannot be fired becomes an incident,
and the others still fire."""

import logging

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .clock import system_clock
from .models import EventRecord, InstanceRecord
from .workflows import InstanceConflict, _dt, _load, _save

log = logging.getLogger(__name__)


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
        result = instance.fire_timers()
        _save(session, record, instance, result, now)
        moved += any(event.kind == "timer_fired" for event in result.events)
    return moved


def _unreadable(session, instance_id, error, now):
    """Put an instance whose state cannot be restored in `error` (the incidents list shows it),
    so that no worker picks its timers again until an administrator has dealt with it."""
    log.error("instance %s: state cannot be read, its timers do not fire: %r", instance_id, error)
    record = session.get(InstanceRecord, instance_id)
    message = f"state cannot be read: {error!r}"
    record.status, record.timer_due_at = "error", None
    record.error = {"element": None, "message": message, "data": None, "at": _dt(now).isoformat()}
    session.add(EventRecord(instance_id=instance_id, type="error", at=_dt(now), data={"message": message}))
    session.flush()
