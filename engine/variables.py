"""Where a completed step's submission goes besides its own element id: the process variables a
Camunda Form writes (`camunda_variables`), and the open parallel branches that must see the new
values (`share_with_open_branches`)."""

from copy import deepcopy

from SpiffWorkflow.util.task import TaskState

OPEN = TaskState.READY | TaskState.STARTED | TaskState.WAITING  # a task that still runs or waits


def camunda_variables(task_spec, submitted, protected=frozenset()) -> dict:
    """A Camunda Form linked with `camunda:formKey="camunda-forms:…"` writes its fields as
    process variables (Camunda 7 semantics), so the next form opens with them (the quickstart's
    task form shows the invoice its start form took). Diagrams that link forms with formRef keep
    each submission under its element id only."""
    key = (task_spec.extensions or {}).get("formKey") or ""
    if not key.startswith("camunda-forms:") or not isinstance(submitted, dict):
        return {}
    return {name: deepcopy(value) for name, value in submitted.items() if name not in protected}


def share_with_open_branches(task, values):
    # Only the task's own (sub)workflow: a called process gets its caller's data when it starts
    # and hands its data back when it ends, and each change request keeps its own data.
    for other in task.workflow.tasks.values():
        if other is task or not other.has_state(OPEN):
            continue
        other.data.update(deepcopy(values))
        if other.has_state(TaskState.WAITING) and other.parent is not None:
            # A waiting task (a timer, a join) copies its parent's data again each time it is
            # checked, so the parent must carry the new values too.
            other.parent.data.update(deepcopy(values))
