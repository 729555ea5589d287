"""Whether an instance's row says what its state says. A step writes, beside the state, the
columns the lists and the worker read (status, where it waits, when its next timer is due) and
one row per ready task (the inbox); all in one transaction, so they can only disagree if
something wrote around the engine. `upgradeflow verify` reports such an instance as it reports
one whose state disagrees with its event log."""

from sqlalchemy import select

from .clock import naive_utc
from .deployments import definition_of
from .instances import Instance
from .models import InstanceRecord, TaskRecord


def row_disagreement(session, instance_id, clock, tries=5) -> str | None:
    """What the instance's row or task rows say that its state does not, or None. Read again if
    a step commits between the reads (a live system)."""
    for _ in range(tries):
        record = session.get(InstanceRecord, instance_id, populate_existing=True)
        task_ids = set(session.scalars(select(TaskRecord.id).where(TaskRecord.instance_id == instance_id)))
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
    if task_ids - ready_ids:
        problems.append(f"task rows {', '.join(sorted(task_ids - ready_ids))} that are not ready")
    if ready_ids - task_ids:
        problems.append(f"ready tasks {', '.join(sorted(ready_ids - task_ids))} without a row")
    return "; ".join(problems) or None
