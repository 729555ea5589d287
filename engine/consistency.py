"""Whether an instance's row says what its state says. A step writes, beside the state, the
columns the lists and the worker read (status, where it waits, when its next timer is due) and
one row per ready task (the inbox: who may take it, who holds it, its form, its due date); all
in one transaction, so they can only disagree if something wrote around the engine.
`upgradeflow verify` reports such an instance as it reports one whose state disagrees with its
event log."""

from sqlalchemy import bindparam, select

from .clock import naive_utc
from .deployments import definition_of
from .instances import Instance
from .models import InstanceRecord, TaskRecord
from .step_rows import projected

_TASK_ROWS = (
    select(TaskRecord)
    .where(TaskRecord.instance_id == bindparam("instance_id"))
    .execution_options(populate_existing=True)
)


def row_disagreement(session, instance_id, clock, tries=5) -> str | None:
    """What the instance's row or task rows say that its state does not, or None. Read again if
    a step commits between the reads (a live system)."""
    for _ in range(tries):
        record = session.get(InstanceRecord, instance_id, populate_existing=True)
        rows = {row.id: row for row in session.scalars(_TASK_ROWS, {"instance_id": instance_id})}
        version = session.scalar(select(InstanceRecord.version_id).where(InstanceRecord.id == instance_id))
        if version == record.version_id:
            break
    instance = Instance.restore(definition_of(record.process_version), record.state, clock)
    problems = []
    # A worker's incident (its timers could not fire) is on the row alone: the state runs on.
    incident = record.status == "error" and instance.status == "running" and record.error is not None
    if record.status != instance.status and not incident:
        problems.append(f"status {record.status}, its state {instance.status}")
    ready = instance.ready_tasks()
    waiting = ",".join(sorted({task.element_id for task in ready})) or None
    if record.waiting_at != waiting:
        problems.append(f"waiting at {record.waiting_at or 'nothing'}, its state at {waiting or 'nothing'}")
    due = instance.next_timer_due() if record.status == "running" else None
    if naive_utc(record.timer_due_at) != naive_utc(due):
        problems.append(f"next timer {record.timer_due_at or 'none'}, its state's {due or 'none'}")
    ready_ids = {task.id for task in ready}
    if set(rows) - ready_ids:
        problems.append(f"task rows {', '.join(sorted(set(rows) - ready_ids))} that are not ready")
    if ready_ids - set(rows):
        problems.append(f"ready tasks {', '.join(sorted(ready_ids - set(rows)))} without a row")
    for task in ready:
        row = rows.get(task.id)
        differing = [
            name
            for name, value in (projected(task).items() if row is not None else ())
            if naive_utc(getattr(row, name)) != naive_utc(value)
        ]
        if differing:
            problems.append(f"task row {task.id} ({task.element_id}) differs in {', '.join(differing)}")
    return "; ".join(problems) or None
