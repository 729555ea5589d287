"""Running the procedure against the database: act on tasks, send messages (`starts` starts an
instance, `due_timers` fires timers, both through `_save`).

Each operation loads one instance row, restores its state onto its version's definition, lets
`Instance` act, and writes back in the caller's transaction: the state, the ready-task projection,
the events and the notifications, together. Nothing here commits; the request or job that called
it does. The instance row carries an optimistic lock (`version_id`): when two requests change one
instance at once, the later write finds the row at another version and raises `InstanceChanged`
instead of overwriting the other.
"""

from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import defer

from . import cache
from .clock import naive_utc, system_clock
from .deployments import definition_of
from .document_catalog import readable
from .documents import DOCUMENT_EVENTS, record_documents
from .errors import EngineError, InstanceConflict, NotAllowed, TaskNotFound
from .formdata import provided_form_data
from .instances import Instance
from .models import EventRecord, InstanceRecord, NotificationRecord, TaskRecord
from .notifications import step_notifications
from .phases import phase_after_step
from .serialization import FORMAT_VERSION
from .step_rows import event_row, note_row
from .step_writes import write_projection, write_row, written_here
from .tasks import Actor, may_complete
from .views import InstanceInfo, TaskInfo


class InstanceNotFound(EngineError):
    """No instance with that id."""


ENDED = frozenset({"completed", "terminated"})  # statuses with an end time (`ended_at`)


# The statements of every step, built once (building one costs about what running it does).
_ROW = (
    select(InstanceRecord)
    .options(defer(InstanceRecord.state))
    .where(InstanceRecord.id == bindparam("instance_id"))
)
# The row as it is once the lock is ours, even if this session read it before.
_ROW_LOCKED = _ROW.with_for_update(of=InstanceRecord).execution_options(populate_existing=True)
# What a miss reads with the state: all the row says of it, the process version too (a session
# may hold the row from before a migration committed elsewhere: the state must be restored on
# the version it was written for, or the cache would file it under the new row wrongly built).
_WITH_STATE = [
    "state",
    "process_version_id",
    "process_version",
    "version_id",
    "updated_at",
    "status",
    "waiting_at",
    "phase",
    "error",
    "timer_due_at",
    "ended_at",
]

# A ready task's row with its instance's row, in one query (a task step's first read).
_TASK_AND_ROW = (
    select(TaskRecord, InstanceRecord)
    .join(InstanceRecord, InstanceRecord.id == TaskRecord.instance_id)
    .options(defer(InstanceRecord.state))
    .where(TaskRecord.id == bindparam("task_id"))
)
_TASK_AND_ROW_LOCKED = _TASK_AND_ROW.with_for_update(of=InstanceRecord).execution_options(
    populate_existing=True
)


# The log and the outbox are only appended to.
_INSERT_EVENTS = insert(EventRecord.__table__)
_INSERT_NOTES = insert(NotificationRecord.__table__)


def _load(session, instance_id, clock, lock=False, record=None) -> tuple[InstanceRecord, Instance]:
    """The row and its instance, for this caller alone: from what this transaction saved, from
    the cache when the row is unchanged since, or restored from the stored state (read only then).
    A reader hands it back with `_release`; a writer's `_save` files it when the write commits.
    `record`: the row, when the caller has just read it (locked if `lock`)."""
    if record is None:
        record = session.scalar(_ROW_LOCKED if lock else _ROW, {"instance_id": instance_id})
    if record is None:
        raise InstanceNotFound(f"no instance {instance_id}")
    instance = cache.staged(session, record.id) or cache.INSTANCES.take(cache.row_key(session, record))
    if instance is None:
        # The state with the row it belongs to (version, time, status, where it waits), read in
        # one statement: the instance is filed under its own row, and what the caller reports
        # from the row agrees with it.
        session.refresh(record, _WITH_STATE)
        instance = Instance.restore(definition_of(record.process_version), record.state, clock)
    instance.set_clock(clock)
    return record, instance


def _release(session, record: InstanceRecord, instance: Instance):
    """Give back an instance that was only read: to the cache, unless this transaction wrote its
    row (a SAVEPOINT rolled back since, dropping what `_save` staged): what it read is not
    committed, and may never be."""
    if cache.staged(session, record.id) is None and not written_here(session, record.id):
        cache.INSTANCES.put(cache.row_key(session, record), instance)


def _save(
    session, record: InstanceRecord, instance: Instance, result, now: datetime, data=None, replaced=False
) -> list[TaskInfo]:
    """Write the step: state, row, ready-task projection, events, notifications, documents.
    `data`: the instance's data if the caller has it already. `replaced`: an administrator put
    another state in place (replay, undo, migration), whose ready tasks may carry new ids: a
    step that was ready before is not announced again. Returns the ready tasks as the
    projection now holds them, oldest first.

    Every write is one Core statement (the unit of work costs more than the statements it runs);
    `record` is kept as the database now holds it."""
    ready = instance.ready_tasks()
    status = instance.status
    waiting_at = ",".join(sorted({t.element_id for t in ready})) or None
    ended_at = None if status not in ENDED else (record.ended_at or now)  # None: running again
    # The instance row first: a lost race must fail before the projection is touched.
    write_row(
        session,
        record,
        state=instance.dump(),
        state_format=FORMAT_VERSION,
        data=instance.data if data is None else data,
        status=status,
        error=instance.error,
        updated_at=now,
        waiting_at=waiting_at,
        phase=phase_after_step(waiting_at, record.phase),
        timer_due_at=instance.next_timer_due() if status == "running" else None,
        ended_at=ended_at,
    )
    cache.stage(session, record, instance)
    current = write_projection(session, record.id, ready, now, instance.kept.get("tasks"))
    instance.kept["tasks"] = current.rows
    before = set(current.before)
    announced = before
    if replaced:
        waiting_before = set(current.before.values())
        announced = before | {task.id for task in ready if task.element_id in waiting_before}
    # The log and the outbox are only appended to.
    if result.events:
        session.connection().execute(_INSERT_EVENTS, [event_row(record.id, e) for e in result.events])
    notes = [note_row(record.id, note) for note in result.notifications]
    notes += step_notifications(record, announced, ready, result.events, now)
    if notes:
        session.connection().execute(_INSERT_NOTES, notes)
    # The regulation's documents made from this step's data (R4): a new version only on change.
    if any(event.kind in DOCUMENT_EVENTS for event in result.events):
        kept = instance.kept.get("documents")
        instance.kept["documents"] = record_documents(session, record, record.data, result.events, now, kept)
    tasks = [_task_info(SimpleNamespace(**values)) for values in current.rows.values()]
    return sorted(tasks, key=lambda task: naive_utc(task.created_at))


def _info(record: InstanceRecord, instance: Instance | None = None, tasks=None, data=None) -> InstanceInfo:
    info = InstanceInfo(
        id=record.id,
        process_id=record.process_id,
        version=record.process_version.version,
        status=record.status,
        initiator=record.initiator,
        title=record.title,
        created_at=record.created_at,
        ended_at=record.ended_at,
        waiting_at=record.waiting_at.split(",") if record.waiting_at else [],
        error=record.error,
    )
    if instance is not None:
        info.data = instance.data if data is None else data
        info.completed_elements = instance.completed_elements
    elif data is not None:
        info.data = data
    if tasks is not None:
        info.tasks = tasks
    return info


def _task_info(row: TaskRecord, title=None) -> TaskInfo:
    return TaskInfo(
        id=row.id,
        instance_id=row.instance_id,
        name=row.element_id,
        title=row.title,
        group=row.group_id,
        groups=list(row.groups or []),
        users=list(row.users or []),
        assignee=row.assignee,
        form=row.form_id,
        created_at=row.created_at,
        due_at=row.due_at,
        instance_title=title,
        claimed_by=row.claimed_by,
    )


def _tasks_of(session, instance_id) -> list[TaskInfo]:
    rows = session.scalars(
        select(TaskRecord).where(TaskRecord.instance_id == instance_id).order_by(TaskRecord.created_at)
    )
    return [_task_info(r) for r in rows]


# -- operations --------------------------------------------------------------------------------


def get_instance(
    session, instance_id, clock=system_clock, actor: Actor | None = None, messages=False
) -> InstanceInfo:
    """An instance with its data, ready tasks and completed elements; given `actor`, its data
    holds only what the actor's groups may read (`document_catalog.readable`); with `messages`,
    the messages it takes now (`accepted_messages`, for its page). Raises InstanceNotFound."""
    record, instance = _load(session, instance_id, clock)
    info = _info(record, instance, _tasks_of(session, record.id))
    if messages:
        info.accepted_messages = instance.accepted_messages()
    _release(session, record, instance)
    return shown_to(actor, info) if actor is not None else info


def shown_to(actor: Actor, info: InstanceInfo) -> InstanceInfo:
    """`info` with its data, and an incident's, holding what the actor's groups may read."""
    info.data = readable(actor, info.data)
    if info.error and info.error.get("data") is not None:
        # An incident keeps the failed step's data: it is the instance's data as well.
        info.error = {**info.error, "data": readable(actor, info.error["data"])}
    return info


def _task_row(session, task_id) -> TaskRecord:
    row = session.get(TaskRecord, str(task_id))
    if row is None:
        done = session.scalar(select(EventRecord.seq).where(EventRecord.task_id == str(task_id)).limit(1))
        if done is not None:
            raise InstanceConflict(f"task {task_id} is no longer ready: someone else just completed it")
        # Announced when it became ready, so it was: its instance ended it (terminated, a branch
        # that ended, a rewind) without its being completed.
        was = session.scalar(
            select(NotificationRecord.id).where(NotificationRecord.task_id == str(task_id)).limit(1)
        )
        if was is not None:
            raise InstanceConflict(f"task {task_id} is no longer ready: its instance moved on or ended")
        raise TaskNotFound(f"no ready task {task_id}")
    return row


def _task_and_row(session, task_id, lock=False) -> tuple[TaskRecord, InstanceRecord]:
    """A ready task's row and its instance's row (locked if `lock`), read together. Raises
    TaskNotFound, or InstanceConflict when the task was completed just now."""
    found = session.execute(
        _TASK_AND_ROW_LOCKED if lock else _TASK_AND_ROW, {"task_id": str(task_id)}
    ).first()
    if found is None:
        _task_row(session, task_id)  # says which: never there, or completed just now
        raise InstanceConflict(f"task {task_id} is no longer ready")  # appeared since: a race
    return found[0], found[1]


def get_task(session, task_id, actor: Actor, clock=system_clock) -> tuple[TaskInfo, dict | None, dict]:
    """(task, form-js schema or None, current values) of a ready task the actor may see.

    Raises TaskNotFound, NotAllowed, or InstanceConflict when it was completed just now.
    """
    row, record = _task_and_row(session, task_id)
    info = _task_info(row)
    if not (may_complete(actor, info) or actor.is_admin):
        raise NotAllowed(f"{actor.username} may not see task {row.element_id}")
    record, instance = _load(session, row.instance_id, clock, record=record)
    try:
        if not actor.is_admin and actor.username in instance.excluded_from(row.id):
            # Not offered a form they could not submit (`notBy`: their own document's review).
            raise NotAllowed(f"{actor.username} may not take task {row.element_id}: it concerns them (notBy)")
        form, values = instance.form_for(row.id)
    except TaskNotFound:
        # Its row was there a moment ago: it was completed (or cancelled) since, as for the
        # second of two completions. (Each statement reads what is committed when it runs.)
        raise InstanceConflict(f"task {task_id} is no longer ready") from None
    finally:
        _release(session, record, instance)
    values.update(provided_form_data(session, row.instance_id, row.element_id, clock))
    # What the actor's groups may not read is left out, except what the task's form shows them.
    values = readable(actor, values, form.shows if form is not None else frozenset())
    return info, (form.schema if form is not None else None), values


def _act(session, instance_id, clock, action, record=None) -> InstanceInfo:
    """`action(instance)` on the locked instance, saved. `record`: the row, if read locked already."""
    record, instance = _load(session, instance_id, clock, lock=True, record=record)
    try:
        result = action(instance)
    except TaskNotFound:
        raise InstanceConflict("the task is no longer ready") from None
    data = instance.data  # one copy for the documents and the answer
    if not result.events:  # nothing happened (a claim already held, nothing to give back)
        _release(session, record, instance)
        return _info(record, instance, _tasks_of(session, record.id), data)
    tasks = _save(session, record, instance, result, clock(), data)
    return _info(record, instance, tasks, data)


def complete_task(session, task_id, data, actor: Actor, clock=system_clock) -> InstanceInfo:
    """Complete a ready task with form data. Returns the instance after the step.

    Raises TaskNotFound, NotAllowed, TaskClaimed / InstanceConflict (409), FormValidationError
    (nothing stored).
    """
    row, record = _task_and_row(session, task_id, lock=True)
    provided = provided_form_data(session, row.instance_id, row.element_id, clock)
    return _act(
        session, row.instance_id, clock, lambda i: i.complete_task(row.id, data, actor, provided), record
    )


def claim_task(session, task_id, actor: Actor, clock=system_clock) -> InstanceInfo:
    """Assign a ready group task to the actor. Raises TaskNotFound, NotAllowed, TaskClaimed."""
    row, record = _task_and_row(session, task_id, lock=True)
    return _act(session, row.instance_id, clock, lambda i: i.claim(row.id, actor), record)


def unclaim_task(session, task_id, actor: Actor, clock=system_clock) -> InstanceInfo:
    """Give a claimed task back to its groups. Raises TaskNotFound, NotAllowed."""
    row, record = _task_and_row(session, task_id, lock=True)
    return _act(session, row.instance_id, clock, lambda i: i.unclaim(row.id, actor), record)


def send_message(session, instance_id, name, data, actor: Actor, clock=system_clock) -> InstanceInfo:
    """Deliver a message to an instance. Raises InstanceNotFound, NotAllowed, MessageRefused,
    FormValidationError."""
    return _act(session, instance_id, clock, lambda i: i.send_message(name, data, actor))
