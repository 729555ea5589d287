"""Step guards: `camunda:property`s that name steps of the process. A message start event is
accepted only while one of its `acceptedWhile` steps is open and refused while one of its
`refusedWhile` steps is (one cost overrun review at a time); a user task with `refusedWhile`
cannot be completed while one of those is open (`implement` while a change request is undecided,
R3.4.5). Deploy refuses a guard that names no step (`validation`)."""

from .errors import InstanceStateError

STEP_GUARDS = ("acceptedWhile", "refusedWhile")


def property_of(spec, name):
    """A `camunda:property` of an element, or None."""
    return ((spec.extensions or {}).get("properties") or {}).get(name)


def guarded_steps(spec, name) -> set[str]:
    """The element ids a guard property of `spec` names (empty when it has none)."""
    return {part.strip() for part in (property_of(spec, name) or "").split(",") if part.strip()}


def refuse_while_open(task, open_tasks):
    """Raise InstanceStateError naming the `refusedWhile` steps of `task` that are open.
    `open_tasks()`: the open tasks, asked for only when the task names such steps."""
    refused = guarded_steps(task.task_spec, "refusedWhile")
    if not refused:
        return
    open_now = {t.task_spec.name: t.task_spec for t in open_tasks() if t.task_spec.name in refused}
    if open_now:
        ids = sorted(open_now)
        names = "、".join(open_now[i].bpmn_name or i for i in ids)
        raise InstanceStateError(
            f"須待「{names}」完成後才能提交 / {task.task_spec.name} cannot be completed while "
            f"{', '.join(ids)} is open"
        )
