"""Moving running instances to another version of their process: by diff, else by replay.

By diff: SpiffWorkflow's `diff_workflow` aligns the instance's tasks with the target version's
specs (by element id, then by position: a renamed step is found again) and `migrate_workflow`
points each task at its new spec and predicts again below the ready and waiting tasks. Three
things SpiffWorkflow leaves to its host are done here:

- the work happens on a private restore of the instance: definitions' specs are shared by every
  instance of a version (`deployments.definition_of`), and migrate_workflow only rebinds tasks,
  so nothing of either definition changes;
- `reset_branch` gives a reset task its parent's data and empties its internal data, which would
  lose what open parallel branches were told (`variables.share_with_open_branches`), claims,
  `ready_at` and the due time of waiting timers; those are put back afterwards;
- finished tasks of an element the target removed stay in SpiffWorkflow's tree with a spec the
  target does not have, and could not be restored; they are history (the event log keeps every
  step), so they are cut out of the tree and their children hang from their parent.

An instance with an open step in an element the target removed is refused, naming the element:
moving it would silently drop that step. Where the diff cannot carry an instance (a called
process the target no longer calls, a step whose type changed, anything the restore refuses),
the instance is rebuilt by replaying its event log on the target; if that diverges too, it is
refused with the replay's reason.

A renamed step (`versions.ProcessChanges.renamed`) keeps its old id in the log and, by diff, in
the stored data (`data[element_id]`); a replay, the migration's or a later one, takes the old ids
to the new through the `renamed` the `migrated` event records (`engine.replay`).

Services here follow `admin.py`: admin only, they flush and never commit. Each migrated instance
keeps its old state and version as a snapshot (`admin.undo` puts it back) and gets an event
`migrated` {from, to, method, renamed (only when a step was renamed)} in its log, which replay
does not repeat (`replay.ANNOTATIONS`) but reads for the renames.
"""

from copy import deepcopy
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from .admin import _snapshot, require_admin
from .clock import system_clock
from .deployments import ProcessNotFound, definition_of, version_record
from .errors import EngineError, InstanceConflict, InstanceStateError, StateFormatError
from .event_log import instance_events
from .events import Event, StepResult
from .instances import Instance
from .models import InstanceRecord
from .replay import replay
from .serialization import registry
from .versions import VersionDiff, diff_definitions
from .views import InstanceInfo
from .workflows import InstanceNotFound, _info, _load, _save, _tasks_of

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
# What the diff keeps of a reset task: SpiffWorkflow's own bookkeeping is predicted again.
KEPT_INTERNAL = ("claimed_by", "ready_at", "event_value", "event_fired")


class MigrationRefused(EngineError):
    """The instance cannot move to that version; the message names the element(s) and why."""


class _NotByDiff(Exception):
    pass


@dataclass
class MigrationResult:
    """One instance's outcome: `ok` (it can move / it moved) or the `reason` it cannot."""

    instance_id: int
    ok: bool
    process_id: str | None = None
    from_version: int | None = None
    to_version: int | None = None
    method: str | None = None  # "diff" or "replay"
    reason: str | None = None
    diff: VersionDiff | None = None
    migrated: bool = False  # False in a dry run and when refused
    instance: InstanceInfo | None = None


@dataclass
class MigrationPreview:
    """A selection checked against a target version: the diffs and every instance's outcome."""

    version: int
    diffs: list = field(default_factory=list)  # {"process_id", "from_version", "diff"}
    instances: list = field(default_factory=list)  # MigrationResult (dry run)


# -- moving one Instance (no database) ----------------------------------------------------------


def _named(definition, element_id):
    spec = definition.task_spec(element_id)
    name = getattr(spec, "bpmn_name", None) if spec is not None else None
    return f"{element_id} ({name})" if name else element_id


def _workflows(workflow):
    return [workflow, *workflow.subprocesses.values()]


def _refuse_removed_open_steps(instance, top_diff, sub_diffs, version):
    diffs = [top_diff, *(d for d in sub_diffs.values() if d is not None)]
    open_removed = sorted(
        {t.task_spec.name for d in diffs for t in d.removed if t.has_state(LIVE) and t.task_spec.bpmn_id}
    )
    if open_removed:
        names = ", ".join(_named(instance.definition, e) for e in open_removed)
        raise MigrationRefused(f"the instance is waiting at {names}, which version {version} removed")


def _cut_out(top, workflow, task):
    """Remove a finished task from the tree, its children taking its place under its parent."""
    parent = task.parent
    if parent is None:
        raise _NotByDiff(f"{task.task_spec.name} is the root of the tree")
    at = parent._children.index(task.id)
    parent._children[at : at + 1] = list(task._children)
    for child in task.children:
        child._parent = parent.id
    if task.id in top.subprocesses:
        top.delete_subprocess(task)
    del workflow.tasks[task.id]
    if workflow.last_task is task:
        workflow.last_task = parent


def _settle_unknown_specs(top):
    """Tasks still on a spec the target does not have: cut out finished ones, drop predictions."""
    for workflow in _workflows(top):
        specs = workflow.spec.task_specs
        for task in list(workflow.tasks.values()):
            if task.id not in workflow.tasks or specs.get(task.task_spec.name) is task.task_spec:
                continue
            if task.has_state(TaskState.FINISHED_MASK):
                _cut_out(top, workflow, task)
            elif task.has_state(TaskState.PREDICTED_MASK):
                task.parent._children.remove(task.id)
                for node in list(task):
                    workflow.tasks.pop(node.id, None)
            else:
                raise _NotByDiff(f"{task.task_spec.name} is open and has no place in the target")


def _by_diff(instance, target, version, clock) -> Instance:
    # A private restore: migrate_workflow rebinds its tasks; the caller's instance is untouched.
    copy = Instance.restore(instance.definition, instance.dump(), clock)
    top = copy._workflow
    top_diff, sub_diffs = diff_workflow(registry(), top, target.spec, target.subprocess_specs)
    _refuse_removed_open_steps(instance, top_diff, sub_diffs, version)
    missing = [sp.spec.name for key, sp in top.subprocesses.items() if sub_diffs.get(key) is None]
    if missing:
        raise _NotByDiff(f"version {version} does not call {', '.join(sorted(missing))}")
    kept = {
        t.id: (deepcopy(t.data), {k: deepcopy(v) for k, v in t.internal_data.items() if k in KEPT_INTERNAL})
        for w in _workflows(top)
        for t in w.tasks.values()
        if t.has_state(TaskState.READY | TaskState.WAITING)
    }
    migrate_workflow(top_diff, top, target.spec)
    for key, sub_diff in sub_diffs.items():
        subprocess = top.subprocesses[key]
        migrate_workflow(sub_diff, subprocess, target.subprocess_specs[subprocess.spec.name])
    top.subprocess_specs = target.subprocess_specs
    for workflow in _workflows(top):
        for task_id, (data, internal) in kept.items():
            task = workflow.tasks.get(task_id)
            if task is not None:
                task.data = data
                task.internal_data.update(internal)
    _settle_unknown_specs(top)
    # The instance as it will be read back from storage: on the target's own specs.
    return Instance.restore(target, copy.dump(), clock)


def _by_replay(target, events, renamed) -> Instance:
    result = replay(target, events, renamed)
    if result.divergence is not None:
        found = result.divergence
        where = f" at event {found.seq} ({found.event})" if found.seq else ""
        raise MigrationRefused(
            f"neither the diff nor a replay carries it: the replay diverges{where}: {found.reason}"
        )
    return result.instance


def move(instance, target, version, events, clock=system_clock, renamed=None) -> tuple[Instance, str]:
    """`instance` rebuilt on the `target` definition. Returns (Instance, "diff" or "replay").

    `events` (the instance's log, EventInfo oldest first) is read only when the diff cannot carry
    the instance; the replay takes its element ids through `renamed` (old id -> id in `target`,
    `diff_definitions(...).renamed`). Raises MigrationRefused naming the element(s) and why.
    """
    try:
        return _by_diff(instance, target, version, clock), "diff"
    except (MigrationRefused, StateFormatError):
        raise
    except Exception:
        # _NotByDiff, or SpiffWorkflow failing on a shape its diff does not handle (a step whose
        # type changed, a tree it cannot restore): the replay decides, on the target alone.
        pass
    return _by_replay(target, events, renamed), "replay"


# -- services -----------------------------------------------------------------------------------


def _migrated_event(actor, now, old, new, method, renamed, reason="", task_ids=None):
    data = {"from": old, "to": new, "method": method}
    if task_ids:  # a replay gave the tasks new ids: a later replay of the log needs to know them
        data["task_ids"] = dict(task_ids)
    if reason:
        data["reason"] = reason
    if renamed:  # what a later replay needs to read the log written before this migration
        data["renamed"] = dict(renamed)
    return Event(kind="migrated", at=now.isoformat(), actor=actor.username, data=data)


def migrate_instance(
    session, instance_id, target_version, actor, dry_run=False, clock=system_clock, reason=""
):
    """Move one instance to version `target_version` of its process. Returns MigrationResult
    (the diff, the method, and unless dry_run the instance now on that version). `reason` goes
    into the event log with the migration.

    The old state and version are kept as a snapshot for `undo`. Raises NotAllowed,
    InstanceNotFound, ProcessNotFound, MigrationRefused (nothing changes), InstanceConflict.
    """
    require_admin(actor)
    record, instance = _load(session, instance_id, clock, lock=not dry_run)
    old_version = record.process_version.version
    if record.status in ("completed", "terminated"):
        raise MigrationRefused(f"a {record.status} instance is not migrated")
    target = version_record(session, record.process_id, target_version)
    if target.id == record.process_version_id:
        raise MigrationRefused(f"the instance is already on version {target.version}")
    new_definition = definition_of(target)
    diff = diff_definitions(instance.definition, new_definition)
    events = instance_events(session, record.id)
    moved, method = move(instance, new_definition, target.version, events, clock, diff.renamed)
    result = MigrationResult(
        record.id, True, record.process_id, old_version, target.version, method, diff=diff
    )
    if dry_run:
        return result
    now = clock()
    step = StepResult(
        [
            _migrated_event(
                actor,
                now,
                old_version,
                target.version,
                method,
                diff.renamed,
                reason,
                moved.task_aliases if method == "replay" else None,
            )
        ]
    )
    if moved.status == "running":  # suspended or in error, nothing moves until resumed or retried
        moved._advance(step)  # a step the target made automatic runs now, as after any other step
    _snapshot(session, record, "migration", actor, now)
    record.process_version_id = target.id
    record.process_version = target
    _save(session, record, moved, step, now, replaced=True)
    result.migrated = True
    result.instance = _info(record, moved, _tasks_of(session, record.id))
    return result


REFUSALS = (MigrationRefused, InstanceNotFound, ProcessNotFound, InstanceConflict, InstanceStateError)
# What else stops one instance of a selection (a state that cannot be read, say): reported with
# it, and the others go on.
FAILURES = (*REFUSALS, EngineError)


def migrate_instances(
    session, instance_ids, target_version, actor, dry_run=False, clock=system_clock, reason=""
):
    """Migrate a selection, yielding one MigrationResult per instance as it is done (progress).

    A refused instance yields `ok` False with the reason; nothing of it was written. Each
    instance is one transaction at the caller: after each result, commit if it `migrated`, roll
    back otherwise, so a failure leaves that instance as it was and the others migrated.
    Raises NotAllowed (before any instance).
    """
    require_admin(actor)
    for instance_id in instance_ids:
        record = session.get(InstanceRecord, instance_id)
        if record is None:
            yield MigrationResult(
                instance_id, False, to_version=target_version, reason=f"no instance {instance_id}"
            )
            continue
        process_id, from_version = record.process_id, record.process_version.version
        try:
            yield migrate_instance(session, instance_id, target_version, actor, dry_run, clock, reason)
        except FAILURES as error:
            yield MigrationResult(
                instance_id, False, process_id, from_version, target_version, reason=str(error)
            )


def preview_migration(session, instance_ids, target_version, actor, clock=system_clock) -> MigrationPreview:
    """Check a selection against version `target_version` without changing anything.

    Returns MigrationPreview: the diff of each pair of versions involved and, per instance,
    `ok` or the reason it cannot move. Raises NotAllowed.
    """
    preview = MigrationPreview(target_version)
    seen = set()
    for result in migrate_instances(session, instance_ids, target_version, actor, True, clock):
        preview.instances.append(result)
        key = (result.process_id, result.from_version)
        if result.process_id and key not in seen and result.from_version != target_version:
            seen.add(key)
            old = definition_of(version_record(session, result.process_id, result.from_version))
            try:
                new = definition_of(version_record(session, result.process_id, target_version))
            except ProcessNotFound:
                continue
            preview.diffs.append(
                {"process_id": result.process_id, "from_version": key[1], "diff": diff_definitions(old, new)}
            )
    return preview


def instances_to_migrate(session, process_id, target_version, actor) -> list[int]:
    """Ids of the instances of `process_id` not ended (running, in error or suspended) and not on
    version `target_version`, oldest first: one in error moves to the version that fixes it, then
    is retried.

    Raises NotAllowed, ProcessNotFound.
    """
    require_admin(actor)
    target = version_record(session, process_id, target_version)
    return list(
        session.scalars(
            select(InstanceRecord.id)
            .where(
                InstanceRecord.process_id == process_id,
                InstanceRecord.status.in_(("running", "error", "suspended")),
                InstanceRecord.process_version_id != target.id,
            )
            .order_by(InstanceRecord.id)
        )
    )
