"""Admin services over stored instances: replay, verify and undo.

Every function here requires an admin actor (NotAllowed otherwise), records what it did in the
instance's event log with who did it, and only flushes; the caller commits.
"""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from .clock import system_clock
from .consistency import row_disagreement
from .deployments import definition_of, version_record
from .errors import EngineError, InstanceChanged, InstanceStateError, NotAllowed, StateFormatError
from .event_log import instance_events
from .events import StepResult
from .instances import Instance
from .models import EventRecord, InstanceRecord, SnapshotRecord
from .replay import compare, replay, replay_through_migrations
from .step_writes import flush_row
from .tasks import Actor
from .workflows import _ROW_LOCKED, InstanceNotFound, _info, _load, _save, _tasks_of


class NothingToUndo(EngineError):
    """The instance has no saved state to go back to."""


@dataclass
class ReplayReport:
    instance_id: int
    version: int
    matches: bool
    applied: int
    divergence: dict | None  # {"seq", "event", "reason"} where the replay stopped agreeing
    replaced: bool = False
    replaceable: bool = False  # whether a replay that writes would put its state in place


def require_admin(actor: Actor):
    if not actor.is_admin:
        raise NotAllowed(f"{actor.username} is not an administrator")


def _record(session, instance_id, lock=False) -> InstanceRecord:
    """The row; `lock`: read fresh and locked for a write (PostgreSQL; on SQLite the write's
    version check refuses a row changed meanwhile)."""
    record = (
        session.scalar(_ROW_LOCKED, {"instance_id": instance_id})
        if lock
        else session.get(InstanceRecord, instance_id)
    )
    if record is None:
        raise InstanceNotFound(f"no instance {instance_id}")
    return record


def _log(session, record, kind, actor, data, now):
    session.add(EventRecord(instance_id=record.id, type=kind, actor=actor.username, at=now, data=data))


def _snapshot(session, record, reason, actor, now):
    session.add(
        SnapshotRecord(
            instance_id=record.id,
            reason=reason,
            process_version_id=record.process_version_id,
            state=record.state,
            status=record.status,
            created_by=actor.username,
            created_at=now,
        )
    )


def replay_instance(
    session, instance_id, actor: Actor, version=None, dry_run=True, clock=system_clock, reason=""
):
    """Rebuild an instance from its event log on its own version (or `version`) and compare it
    with the stored state. Without dry_run, a matching-or-not replay that applied every event
    replaces the stored state (the old state kept for undo), logged with `reason`. Returns
    ReplayReport.

    Raises NotAllowed, InstanceNotFound, ProcessNotFound.
    """
    require_admin(actor)
    record = _record(session, instance_id, lock=not dry_run)
    target = version_record(session, record.process_id, version) if version else record.process_version
    definition = definition_of(target)
    events = _log_with_its_state(session, record)
    result = None
    if target.id == record.process_version_id:  # on its own version: through its migrations, as made
        result = replay_through_migrations(
            events, lambda number: definition_of(version_record(session, record.process_id, number)), _moved
        )
    if result is None:
        result = replay(definition, events)
    try:
        stored = Instance.restore(definition_of(record.process_version), record.state, clock)
    except StateFormatError as error:
        # Nothing to compare with, and nothing else could repair it: the log rebuilds it.
        stored, unreadable = None, f"the stored state cannot be read ({error})"
    divergence = result.divergence
    if divergence is not None:
        found = dict(divergence.__dict__)
    elif stored is None:
        found = {"seq": None, "event": None, "reason": unreadable}
    else:
        replayed = result.instance
        difference = (
            compare(stored, replayed, result.renamed, result.passed_over)
            if replayed is not None
            else "nothing replayed"
        )
        found = {"seq": None, "event": None, "reason": difference} if difference else None
    report = ReplayReport(record.id, target.version, found is None, result.applied, found)
    # A replay that ends in error (a step of the version failed) does not replace a state that
    # is not in error: that would make a healthy instance an incident.
    broken = (
        result.instance is not None
        and result.instance.status == "error"
        and stored is not None
        and stored.status != "error"
    )
    report.replaceable = divergence is None and result.instance is not None and not broken
    if not dry_run and report.replaceable:
        now = clock()
        _snapshot(session, record, "replay", actor, now)
        record.process_version_id = target.id
        record.process_version = target
        _save(session, record, result.instance, _Empty(), now, replaced=True)
        logged = {"version": target.version, "matched": report.matches, "reason": reason}
        if result.instance.task_aliases:  # its tasks' new ids, for a later replay of the log
            logged["task_ids"] = result.instance.task_aliases
        _log(session, record, "replayed", actor, logged, now)
        session.flush()
        report.replaced = True
    return report


def _moved(instance, definition, number):
    """`instance` moved to `definition` (version `number`) by diff, as `migrate_instance` moves
    one, and its automatic steps run (for a replay of a migration)."""
    from .migration import _by_diff  # migration builds on this module

    moved = _by_diff(instance, definition, number, instance._engine.clock)
    if moved.status == "running":
        moved._advance(StepResult())
    return moved


def _log_with_its_state(session, record, tries=5):
    """The instance's event log, with `record.state` refreshed to the state that log leads to:
    on a live system a step may commit between the two reads (the row's version moves), and
    both are read again, so that a replay is not compared with a state from another moment."""
    for _ in range(tries):
        seen = record.version_id
        events = instance_events(session, record.id)
        session.refresh(record, ["state", "version_id", "process_version_id", "status"])
        if record.version_id == seen:
            return events
    raise InstanceChanged(f"instance {record.id} keeps changing; replay it again when it is quiet")


class _Empty:
    events: tuple = ()
    notifications: tuple = ()


def verify_instances(session, actor: Actor, clock=system_clock, statuses=None) -> list[ReplayReport]:
    """Replay every instance (dry run), or those in `statuses`. Returns the reports of those that
    differ, of those whose row or task rows disagree with their state (`row_disagreement`), and
    of those that cannot be replayed at all (their state or log cannot be read): one such
    instance does not stop the others from being checked."""
    require_admin(actor)
    query = select(InstanceRecord.id).order_by(InstanceRecord.id)
    if statuses:
        query = query.where(InstanceRecord.status.in_(sorted(statuses)))
    reports = []
    for instance_id in list(session.scalars(query)):
        try:
            report = replay_instance(session, instance_id, actor, dry_run=True, clock=clock)
            disagreement = row_disagreement(session, instance_id, clock) if report.matches else None
        except OperationalError:
            raise  # the database is gone: no instance can be checked
        except Exception as error:  # any instance that cannot be replayed is reported
            session.rollback()
            report = ReplayReport(instance_id, 0, False, 0, _found(f"cannot be replayed: {error}"))
        else:
            if disagreement is not None:
                reason = f"the row disagrees with its state: {disagreement}"
                report = ReplayReport(instance_id, report.version, False, report.applied, _found(reason))
        if not report.matches:
            reports.append(report)
    return reports


def _found(reason) -> dict:
    return {"seq": None, "event": None, "reason": reason}


def undo(session, instance_id, actor: Actor, clock=system_clock, reason=""):
    """Put back the state (and version) saved before the last replay or migration, logged with
    `reason` (and what it undid: the snapshot and whether it came before a replay or a migration).

    Returns InstanceInfo (as it is now). Raises NotAllowed, InstanceNotFound, NothingToUndo.
    """
    require_admin(actor)
    record = _record(session, instance_id, lock=True)
    snapshot = session.scalar(
        select(SnapshotRecord)
        .where(SnapshotRecord.instance_id == record.id)
        .order_by(SnapshotRecord.id.desc())
        .limit(1)
    )
    if snapshot is None:
        raise NothingToUndo(f"instance {instance_id} has no earlier state to go back to")
    since = _work_since_replacement(session, record.id)
    if since is not None:
        raise InstanceStateError(
            f"instance {instance_id}: {since} happened after the {snapshot.reason}; undo would put "
            "back the state from before it and lose that: rewind, or migrate again, instead"
        )
    now = clock()
    target = snapshot.process_version_id
    record.process_version_id = target
    flush_row(session, record)
    session.refresh(record, ["process_version"])
    instance = Instance.restore(definition_of(record.process_version), snapshot.state, clock)
    _save(session, record, instance, _Empty(), now, replaced=True)
    undone = {"snapshot": snapshot.id, "undoes": snapshot.reason, "reason": reason}
    _log(session, record, "undone", actor, undone, now)
    session.delete(snapshot)
    session.flush()
    return _info(record, instance, _tasks_of(session, record.id))


# Not work that an undo would lose: the replacements and undos themselves, and what the replacing
# step logs after its `migrated` event (an automatic step that fails, or ends the instance).
_NOT_WORK = ("migrated", "replayed", "undone", "error", "ended")


def _work_since_replacement(session, instance_id) -> str | None:
    """The kind of the first event logged after the replacement the latest snapshot was taken
    for (a completion, a timer, a repair), or None when nothing happened since."""
    replacements = session.execute(
        select(EventRecord.seq, EventRecord.type)
        .where(
            EventRecord.instance_id == instance_id, EventRecord.type.in_(("migrated", "replayed", "undone"))
        )
        .order_by(EventRecord.seq)
    ).all()
    stack = []  # each undo took back the latest replacement not yet undone
    for seq, kind in replacements:
        if kind == "undone":
            if stack:
                stack.pop()
        else:
            stack.append(seq)
    if not stack:
        return None
    return session.scalar(
        select(EventRecord.type)
        .where(
            EventRecord.instance_id == instance_id,
            EventRecord.seq > stack[-1],
            EventRecord.type.not_in(_NOT_WORK),
        )
        .order_by(EventRecord.seq)
        .limit(1)
    )


def _repair(session, instance_id, actor, clock, action):
    require_admin(actor)
    record, instance = _load(session, instance_id, clock, lock=True)
    result = action(instance)
    _save(session, record, instance, result, clock())
    return _info(record, instance, _tasks_of(session, record.id))


def suspend_instance(session, instance_id, actor: Actor, reason, clock=system_clock):
    """Suspend an instance (nothing moves until resumed). Returns InstanceInfo.

    Raises NotAllowed, InstanceNotFound, InstanceStateError.
    """
    return _repair(session, instance_id, actor, clock, lambda i: i.suspend(actor, reason))


def resume_instance(session, instance_id, actor: Actor, reason="", clock=system_clock):
    """Resume a suspended instance. Returns InstanceInfo. Raises as suspend_instance."""
    return _repair(session, instance_id, actor, clock, lambda i: i.resume(actor, reason))


def terminate_instance(session, instance_id, actor: Actor, reason, clock=system_clock):
    """End an instance for good. Returns InstanceInfo. Raises as suspend_instance."""
    return _repair(session, instance_id, actor, clock, lambda i: i.terminate(actor, reason))


def retry_instance(session, instance_id, actor: Actor, clock=system_clock, reason=""):
    """Run an instance's failed step again, logged with `reason`. Returns InstanceInfo. Raises
    as suspend_instance.

    An incident the worker recorded (its timers' step failed as it was saved, so nothing of that
    step is in the state) is on the row alone: a retry clears it, and the timers fire again."""
    require_admin(actor)
    record, instance = _load(session, instance_id, clock, lock=True)
    if record.status == "error" and instance.status == "running":
        result = instance.retry_timers(actor, reason)
    else:
        result = instance.retry(actor, reason)
    _save(session, record, instance, result, clock())
    return _info(record, instance, _tasks_of(session, record.id))


def skip_task(session, instance_id, task_id, actor: Actor, reason, data=None, clock=system_clock):
    """Complete a ready task without its form. Returns InstanceInfo.

    Raises NotAllowed, InstanceNotFound, TaskNotFound, InstanceStateError.
    """
    return _repair(session, instance_id, actor, clock, lambda i: i.skip(task_id, actor, reason, data))


def edit_instance_data(session, instance_id, actor: Actor, changes, reason, clock=system_clock):
    """Set process variables (old and new values logged). Returns InstanceInfo."""
    return _repair(session, instance_id, actor, clock, lambda i: i.edit_data(actor, changes, reason))


def rewind_instance(session, instance_id, task_id, actor: Actor, reason, clock=system_clock):
    """Make a step from the history ready again. Returns InstanceInfo.

    Raises NotAllowed, InstanceNotFound, TaskNotFound, InstanceStateError.
    """
    require_admin(actor)
    completed_at = session.scalar(
        select(func.max(EventRecord.seq)).where(
            EventRecord.instance_id == instance_id,
            EventRecord.task_id == str(task_id),
            EventRecord.type.in_(("task_completed", "task_skipped")),
        )
    )

    def rewind(instance):
        result = instance.rewind(task_id, actor, reason)
        # Later events stay in the log; this marks where the undone part begins.
        result.events[0].data["from_seq"] = completed_at
        return result

    return _repair(session, instance_id, actor, clock, rewind)
