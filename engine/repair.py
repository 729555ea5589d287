"""Admin repairs of one instance: suspend, resume, terminate, retry, skip, edit data, rewind.

`RepairMixin` is part of `Instance` (kept apart to keep each module small). Each repair checks
that the actor is an admin, records an event that says who did it and why, with what is needed
to repeat it in a replay, and never loses a step already recorded: a rewind leaves the later
events in the log, and replay marks them as rewound.
"""

from copy import deepcopy

from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from .errors import InstanceStateError, NotAllowed, TaskNotFound, TaskSetupError
from .events import StepResult
from .tasks import element_of

EDITABLE = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR


def _require_admin(actor):
    if not actor.is_admin:
        raise NotAllowed(f"{actor.username} is not an administrator")


def _require_reason(reason):
    if not (reason or "").strip():
        raise InstanceStateError("a reason is required")
    return reason.strip()


class RepairMixin:
    """Admin operations on an Instance (uses its internals: _workflow, _extra, _advance...)."""

    @property
    def suspended(self) -> bool:
        return bool(self._extra.get("suspended"))

    @property
    def terminated(self) -> bool:
        return bool(self._extra.get("terminated"))

    def suspend(self, actor, reason):
        """Stop all work on a running instance until resumed. Returns StepResult."""
        _require_admin(actor)
        reason = _require_reason(reason)
        if self.status not in ("running", "error"):
            raise InstanceStateError(
                f"實例狀態為 {self.status}，不能暫停 / a {self.status} instance cannot be suspended"
            )
        self._extra["suspended"] = {"by": actor.username, "reason": reason}
        return self._admin_result("suspended", actor, {"reason": reason})

    def resume(self, actor, reason=""):
        """Let a suspended instance go on. Returns StepResult."""
        _require_admin(actor)
        if not self.suspended:
            raise InstanceStateError("實例未暫停，無需恢復 / the instance is not suspended")
        del self._extra["suspended"]
        result = self._admin_result("resumed", actor, {"reason": (reason or "").strip()})
        if self.status == "running":
            # Timers that fell due meanwhile fire now, logged as the worker logs them; then what
            # became ready meanwhile (a migration's automatic step) runs.
            fired = self.fire_timers()
            result.events.extend(fired.events)
            result.notifications.extend(fired.notifications)
            if not fired.events:
                self._advance(result)
        return result

    def terminate(self, actor, reason):
        """End an instance for good, cancelling what is open. Returns StepResult."""
        _require_admin(actor)
        reason = _require_reason(reason)
        if self.status in ("completed", "terminated"):
            raise InstanceStateError(f"a {self.status} instance cannot be terminated")
        self._workflow.cancel()
        self._extra.pop("suspended", None)
        self._extra["terminated"] = {"by": actor.username, "reason": reason}
        return self._admin_result("terminated", actor, {"reason": reason})

    def retry(self, actor, reason=""):
        """Run the failed step of an instance in error again (after a fix). Returns StepResult."""
        _require_admin(actor)
        if self._extra.get("error") is None:
            raise InstanceStateError("the instance is not in error")
        if self.suspended:  # nothing moves until it is resumed, a retried step neither
            raise InstanceStateError("the instance is suspended: resume it, then retry")
        failed = self._workflow.get_tasks(state=TaskState.ERROR)
        stalled = self._stalled_task()
        if not failed and stalled is None:
            raise InstanceStateError("no failed step to run again")
        self._extra["error"] = None
        self._extra.pop("stalled", None)
        for task in failed:
            task._set_state(TaskState.READY)
        elements = {element_of(t.task_spec) for t in [*failed, *([stalled] if stalled else [])]}
        result = self._admin_result("retried", actor, {"elements": sorted(elements), "reason": reason})
        if stalled is not None:
            try:  # reach it again: a timer is evaluated anew, with the data as fixed
                stalled.task_spec._update(stalled)
            except Exception as error:
                self._incident(error, result)
                return result
        self._advance(result)
        return result

    def retry_timers(self, actor, reason=""):
        """An incident the worker recorded on the row only (its timers' step could not be
        saved): nothing to reset in the state; the save clears the row and the timers fire again.
        Returns StepResult."""
        _require_admin(actor)
        return self._admin_result("retried", actor, {"elements": [], "reason": reason})

    def _stalled_task(self):
        """The task that failed as it was reached (the incident names it), if it is still there
        and has not run."""
        task_id = self._extra.get("stalled")
        task = next((t for t in self._all_tasks() if str(t.id) == task_id), None) if task_id else None
        if task is None or task.has_state(TaskState.ERROR | TaskState.FINISHED_MASK):
            return None
        return task

    def skip(self, task_id, actor, reason, data=None):
        """Complete a ready task without its form, storing `data` (a dict) as its result.

        Returns StepResult. Raises NotAllowed, TaskNotFound, InstanceStateError.
        """
        _require_admin(actor)
        reason = _require_reason(reason)
        if self.status != "running":
            raise InstanceStateError(f"a {self.status} instance cannot move")
        if data is not None and not isinstance(data, dict):
            raise InstanceStateError("the data of a skipped task must be an object")
        task = self._find(task_id)
        element_id = element_of(task.task_spec)
        try:
            self._finish_task(task, data or {})
        except SpiffWorkflowException as error:  # the data does not fit the step (a list it loops over)
            raise InstanceStateError(f"{element_id}: the data does not fit the step: {error}") from None
        result = self._admin_result(
            "task_skipped", actor, {"reason": reason, "data": deepcopy(data or {})}, element_id, task
        )
        self._advance(result)
        return result

    def edit_data(self, actor, changes: dict, reason):
        """Set process variables in every open step; the old and new values go in the log.

        Returns StepResult. Raises NotAllowed, InstanceStateError.
        """
        _require_admin(actor)
        reason = _require_reason(reason)
        if not isinstance(changes, dict) or not changes:
            raise InstanceStateError("changes must be a non-empty object of variable: value")
        if self.status in ("completed", "terminated"):
            raise InstanceStateError(f"a {self.status} instance's data cannot be edited")
        steps = {  # the steps with a form: their submission is stored under their id
            spec.name
            for _, process in self.definition.all_specs()
            for spec in process.task_specs.values()
            if self.definition.form_for(spec) is not None
        }
        for key, value in changes.items():
            if key in steps and not isinstance(value, dict):
                # A step's submission is an object (`data[step][field]`); anything else breaks its
                # form and every condition that reads its fields.
                raise InstanceStateError(f"{key} is the data of a step: its new value must be an object")
        current = self.data
        logged = {
            key: {"old": deepcopy(current.get(key)), "new": deepcopy(value)} for key, value in changes.items()
        }
        # Open steps and a failed one: a fix for an incident must reach the step that retries.
        targets = self._workflow.get_tasks(state=EDITABLE)
        stalled = self._stalled_task()
        if stalled is not None:  # and what it takes its data from when it is reached again
            targets += [stalled, *([stalled.parent] if stalled.parent is not None else [])]
        targets = targets or [self._workflow.last_task]
        kept = [dict(task.data) for task in targets]  # the values as they were, for a refusal
        for task in targets:
            for key, value in changes.items():
                task.data[key] = deepcopy(value)
        try:  # a ready task's assignee or due date read from the changed data
            self.ready_tasks()
        except TaskSetupError as error:
            for task, before in zip(targets, kept, strict=True):
                task.data.clear()
                task.data.update(before)
            raise InstanceStateError(
                f"the change would make a ready step's assignee or due date fail: {error}"
            ) from None
        return self._admin_result("data_edited", actor, {"reason": reason, "changes": logged})

    def rewind(self, task_id, actor, reason):
        """Make a completed task (from the history) ready again; later work is undone.

        Returns StepResult. Raises NotAllowed, TaskNotFound (the step is no longer in the
        instance's tree, e.g. pruned after hundreds of loop rounds), InstanceStateError.
        """
        _require_admin(actor)
        reason = _require_reason(reason)
        if self.terminated:
            raise InstanceStateError("a terminated instance cannot be rewound")
        task = self._completed_task(task_id)
        element_id = element_of(task.task_spec)
        joined = _joined_elsewhere(task)
        if joined is not None:
            raise InstanceStateError(
                f"cannot rewind to {element_id}: the work after it went on from {joined} in another "
                "branch, which a rewind here would leave running; rewind to a step before the branches split"
            )
        self._workflow.completed = False  # SpiffWorkflow never reopens an ended workflow itself
        try:
            self._workflow.reset_from_task_id(task.id)
        except SpiffWorkflowException as error:
            raise InstanceStateError(f"cannot rewind to {element_id}: {error}") from None
        live = {t.id for t in self._all_tasks()}
        manager = self._workflow.event_manager
        for waiting in list(manager.tasks.values()):
            if waiting.id not in live:  # a timer or message catcher the reset removed
                manager.remove_task(waiting)
        for workflow in (self._workflow, *self._workflow.subprocesses.values()):
            if any(not t.has_state(TaskState.FINISHED_MASK) for t in workflow.tasks.values()):
                workflow.completed = False  # a called process the rewind reopened
        self._extra["error"] = None
        self._extra.pop("stalled", None)
        result = self._admin_result("rewound", actor, {"reason": reason}, element_id, task)
        result.events[0].task_id = str(task_id)  # as the log knows the step, for a replay
        if self.suspended:
            # Nothing moves while suspended: the rewound step is ready again, but timers that
            # are due fire, and automatic steps run, when it is resumed (`resume`).
            self._stamp_ready_tasks(result)
        else:
            self._advance(result)
        return result

    def alias_tasks(self, task_ids: dict):
        """Remember which task of this instance each logged task id is: a state rebuilt by a
        replay (a replay that writes, a migration by replay) has new task ids, while the event
        log, from which a rewind is chosen, keeps the old ones."""
        aliases = {str(old): str(new) for old, new in task_ids.items() if str(old) != str(new)}
        if aliases:
            self._extra["task_ids"] = aliases
        else:
            self._extra.pop("task_ids", None)

    @property
    def task_aliases(self) -> dict:
        """The logged task ids this state knows under other ids (`alias_tasks`): logged with a
        replay that writes or a migration by replay, so that a later replay of the log can tell
        the steps done after it (logged under the new ids) are the same tasks."""
        return dict(self._extra.get("task_ids", {}))

    def _completed_task(self, task_id):
        wanted = self._extra.get("task_ids", {}).get(str(task_id), str(task_id))
        for task in self._workflow.get_tasks(state=TaskState.COMPLETED):
            if str(task.id) == wanted and task.task_spec.bpmn_id is not None:
                if not isinstance(task.task_spec, UserTask):
                    # The log marks what a rewind undoes from a person's step, and a replay
                    # repeats a rewind to one: a timer or an event is no step to go back to.
                    raise InstanceStateError(
                        f"cannot rewind to {task.task_spec.name}: only a person's step can be made "
                        "ready again; rewind to the step before it"
                    )
                return task
        raise TaskNotFound(f"no completed step {task_id} in the instance (it may have been pruned)")

    def _admin_result(self, kind, actor, data, element_id=None, task=None):
        return StepResult([self._event(kind, element_id, task, actor, data)])


def _joined_elsewhere(task):
    """The join at which work after `task` went on in a branch outside `task`'s subtree, or None.

    SpiffWorkflow keeps one branch's join task and drops the others': a completed task with no
    children whose spec leads on is such a branch. Resetting to it would leave the other branch's
    continuation running beside the rewound step."""
    names = {t.task_spec.name for t in task}
    for descendant in task:
        if descendant.has_state(TaskState.COMPLETED) and not descendant.children:
            joins = [spec.name for spec in descendant.task_spec.outputs]
            if joins and not any(name in names for name in joins):
                return joins[0]
    return None
