"""How a step writes its instance row and its ready-task rows: plain statements on the session's
connection (the ORM's unit of work cost more than the statements it ran), checked against the
row's optimistic lock, and the session kept as the database now is: the instance object holds the
row as written (read again if a SAVEPOINT around the write rolls back), task objects it holds are
expired or dropped. `workflows._save` calls them; the log and the outbox are appended there."""

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, event, insert, inspect, select, update
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from .clock import naive_utc
from .errors import InstanceChanged, StateNotStorable
from .models import InstanceRecord, TaskRecord
from .step_rows import as_time, projected

_INSTANCES = InstanceRecord.__table__
_TASKS = TaskRecord.__table__
# The columns a step writes (and `version_id`), in one statement built once.
_STEP_COLUMNS = (
    "state",
    "state_format",
    "data",
    "status",
    "error",
    "updated_at",
    "waiting_at",
    "phase",
    "timer_due_at",
    "ended_at",
    "version_id",
)
_UPDATE_ROW = (
    update(_INSTANCES)
    .where(_INSTANCES.c.id == bindparam("row_id"), _INSTANCES.c.version_id == bindparam("seen_version"))
    .values({name: bindparam(name) for name in _STEP_COLUMNS})
)
_PROJECTION_ROWS = select(_TASKS).where(_TASKS.c.instance_id == bindparam("instance_id"))
_DELETE_TASK = delete(_TASKS).where(_TASKS.c.id == bindparam("task_id"))
_UPDATE_TASK = update(_TASKS).where(_TASKS.c.id == bindparam("task_id"))
_INSERT_TASKS = insert(_TASKS)


def write_row(session, record: InstanceRecord, **values):
    """Write the step's columns (`_STEP_COLUMNS`, all of them) of the instance row in one UPDATE
    that holds only if no one else has written it since it was read (its `version_id`), then
    keep `record` as the row now is (read again if a SAVEPOINT around the write rolls back).
    Raises InstanceChanged when someone else did, StateNotStorable when the values cannot be
    written (nothing of this transaction should be kept then)."""
    flush_row(session, record)  # any change the caller made to the row itself first
    instance_id, seen = record.id, record.version_id
    values["version_id"] = seen + 1
    try:
        written = (
            session.connection()
            .execute(_UPDATE_ROW, {**values, "row_id": instance_id, "seen_version": seen})
            .rowcount
        )
    except (StatementError, TypeError, ValueError) as error:
        _not_storable(instance_id, error)
        raise
    if written != 1:
        raise InstanceChanged(f"instance {instance_id} was changed by someone else; reload and try again")
    for name, value in values.items():
        set_committed_value(record, name, value)
    # The session does not count a committed value as a change of its transaction: if a
    # SAVEPOINT rolls back, it would keep these (`_expire_rows_written`).
    session.info.setdefault(_ROWS_WRITTEN, []).append(record)
    session.info.setdefault(_IDS_WRITTEN, set()).add(instance_id)


_ROWS_WRITTEN = "upgradeflow.rows_written"
_IDS_WRITTEN = "upgradeflow.instances_written"  # until the outermost transaction ends


def written_here(session, instance_id) -> bool:
    """Whether this session's transaction has written the instance's row (in a SAVEPOINT too,
    rolled back or not): what the session reads of that instance is not committed."""
    return instance_id in session.info.get(_IDS_WRITTEN, ())


@event.listens_for(Session, "after_soft_rollback")
def _expire_rows_written(session, previous_transaction):
    for record in session.info.pop(_ROWS_WRITTEN, ()):
        if record in session:
            session.expire(record)
    # Task objects of those instances, whenever the session read them: the statements wrote
    # around the session, so it cannot tell which hold what the SAVEPOINT wrote.
    written = session.info.get(_IDS_WRITTEN)
    if written:
        for key, found in list(session.identity_map.items()):
            if key[0] is not TaskRecord:
                continue
            instance_id = inspect(found).dict.get("instance_id")  # None: expired already
            if instance_id is None or instance_id in written:
                session.expire(found)


@event.listens_for(Session, "after_transaction_end")
def _forget_rows_written(session, transaction):
    # Only when the outermost transaction ends (committed, rolled back or closed): a released
    # SAVEPOINT's rows may still be rolled back with the transaction around it.
    if transaction.parent is None:
        session.info.pop(_ROWS_WRITTEN, None)
        session.info.pop(_IDS_WRITTEN, None)


@dataclass
class Projection:
    """The ready-task rows after a step, `rows` (task id -> the row's values, to keep with the
    cached instance), and of those before it, `before` (task id -> element id)."""

    rows: dict
    before: dict


def write_projection(session, instance_id, ready, now, known=None) -> Projection:
    """Make the instance's task rows those of its ready tasks: one DELETE for the gone, one INSERT
    for the new, one UPDATE for the changed (an unchanged ready task costs nothing).

    `known`: the rows as the last step of this instance row left them (`Projection.rows`), kept
    with its cached instance: only `_save` writes task rows, and always with the instance row, so
    they are exact as long as that row is. Without them the rows are read, as committed (not as
    this session may hold them from before another request's commit)."""
    if known is None:
        known = {
            row.id: row._asdict()
            for row in session.connection().execute(_PROJECTION_ROWS, {"instance_id": instance_id})
        }
    ready_ids = {task.id for task in ready}
    gone = [task_id for task_id in known if task_id not in ready_ids]
    if gone:
        session.connection().execute(_DELETE_TASK, [{"task_id": task_id} for task_id in gone])
    added, changed, rows = [], [], {}
    for task in ready:
        values = projected(task)
        row = known.get(task.id)
        if row is None:
            values.update(id=task.id, instance_id=instance_id, created_at=as_time(task.ready_at) or now)
            added.append(values)
        else:
            if any(naive_utc(row[name]) != naive_utc(value) for name, value in values.items()):
                changed.append({**values, "task_id": task.id})
            values.update(id=task.id, instance_id=instance_id, created_at=row["created_at"])
        rows[task.id] = values
    if added:
        session.connection().execute(_INSERT_TASKS, added)
    if changed:
        session.connection().execute(_UPDATE_TASK, changed)
    _forget_task_objects(session, gone, [*(v["id"] for v in added), *(v["task_id"] for v in changed)])
    return Projection(rows, {task_id: row["element_id"] for task_id, row in known.items()})


def _forget_task_objects(session, gone, written):
    """Task rows this session holds as objects (read earlier in the transaction) are out of date
    once the statements above wrote around them: a deleted one leaves the session, a written one
    is read again when next used."""
    for task_id in gone:
        found = session.identity_map.get(identity_key(TaskRecord, task_id))
        if found is not None:
            session.expunge(found)
    for task_id in written:
        found = session.identity_map.get(identity_key(TaskRecord, task_id))
        if found is not None:
            session.expire(found)


def flush_row(session, record: InstanceRecord):
    """Write the instance row's pending changes now. Raises InstanceChanged when its optimistic
    version shows another writer got there first (nothing of this transaction should be kept)."""
    instance_id = record.id  # read now: after a failed flush the row cannot be refreshed
    try:
        session.flush()
    except StaleDataError:
        raise InstanceChanged(
            f"instance {instance_id} was changed by someone else; reload and try again"
        ) from None
    except (StatementError, TypeError, ValueError) as error:
        _not_storable(instance_id, error)
        raise


def _not_storable(instance_id, error):
    """Raise StateNotStorable when `error` is the state's JSON that could not be written
    (psycopg raises the TypeError itself); return for any other error."""
    cause = error.orig if isinstance(error, StatementError) else error
    if isinstance(error, DBAPIError) or not isinstance(cause, TypeError | ValueError):
        return
    raise StateNotStorable(
        f"instance {instance_id}: the step left data its state cannot keep ({cause}); "
        "nothing was saved: the diagram's scripts need fixing"
    ) from None
