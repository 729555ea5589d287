"""Running instances: start, list and complete human tasks, receive messages, fire timers.

An `Instance` wraps a SpiffWorkflow workflow and hides it: callers get `HumanTask`s and `Event`s
(plain data) and never a SpiffWorkflow object. Rules that SpiffWorkflow leaves to its host live
here:

- a submission is validated against the task's form and stored under the task's element id
  (`data["budget_audit"]["decision"]`), so parallel approvals never overwrite each other; then
  the task's `camunda:outputParameter`s copy values into process variables;
- only the assignee, or a member of a candidate group, or a candidate user may complete a task;
- an instance that has ended accepts no message, and a message start event may name the steps
  during which it is accepted (`camunda:property name="acceptedWhile"`);
- what a person submits (and the variables their task maps it to) is process-wide, as in
  Camunda: it is also written into every other open branch of the same (sub)process. SpiffWorkflow
  keeps one copy of the data per branch and lets the last branch to reach a join overwrite the
  others, so without this a second round of parallel reviews would be decided on the first
  round's stale answers, and a risk reassessment made beside `implement` would be lost;
- nested task data is shared between SpiffWorkflow tasks, so everything handed out or recorded
  is a deep copy;
- a failing script or decision puts the instance in `error` with the element and message,
  keeping everything done before it;
- deep loops are compacted (`engine.compaction`) so an instance still runs after 300 rounds.
"""

from copy import deepcopy

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from .claims import ClaimsMixin
from .clock import local_day, system_clock
from .compaction import DEFAULT_MAX_DEPTH, compact_all
from .errors import (
    InstanceStateError,
    NotAllowed,
    TaskClaimed,
    TaskNotFound,
    TaskSetupError,
)
from .events import Event, StepResult
from .guards import refuse_while_open
from .limits import SandboxError, require_storable
from .messages import MessagesMixin, no_form_data
from .repair import RepairMixin
from .sandbox import ScriptEngine
from .serialization import copy_data, dump_state, load_state
from .tasks import Actor, HumanTask, describe_task, element_of, may_take
from .timer_steps import TimersMixin
from .timers import end_cycles_before
from .variables import OPEN, camunda_variables, share_with_open_branches


class Instance(ClaimsMixin, MessagesMixin, RepairMixin, TimersMixin):
    """A running (or ended) instance of a process definition."""

    def __init__(self, definition, workflow, script_engine, extra=None, max_depth=DEFAULT_MAX_DEPTH):
        self.definition = definition
        self._workflow = workflow
        self._engine = script_engine
        self._extra = extra or {"completed": {}, "error": None}
        self._max_depth = max_depth
        # What the host keeps with this state while it is cached (the rows its last step wrote:
        # task rows, documents' latest hashes): gone with the object, never saved.
        self.kept: dict = {}

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def start(cls, definition, data, actor: Actor, clock=system_clock, max_depth=DEFAULT_MAX_DEPTH):
        """Start an instance from its start form's data. Returns (Instance, StepResult).

        Raises FormValidationError (nothing is started) when the data does not fit the start form.
        """
        start_spec = definition.start_event()
        form = definition.form_for(start_spec)
        cleaned = form.validate(data, today=local_day(clock)) if form is not None else no_form_data(data)
        engine = ScriptEngine(clock)
        workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=engine)
        initial = workflow.task_tree.data
        initiator_variable = (start_spec.extensions or {}).get("initiator", "initiator")
        initial[initiator_variable] = actor.username
        initial.update(camunda_variables(start_spec, cleaned, protected={initiator_variable}))
        initial[start_spec.name] = deepcopy(cleaned)
        instance = cls(definition, workflow, engine, max_depth=max_depth)
        result = StepResult()
        result.events.append(instance._event("started", start_spec.name, None, actor, cleaned))
        instance._advance(result)
        return instance, result

    @classmethod
    def restore(cls, definition, state: dict, clock=system_clock, max_depth=DEFAULT_MAX_DEPTH):
        """Rebuild an instance from `dump()` output. Raises StateFormatError."""
        engine = ScriptEngine(clock)
        workflow, extra = load_state(state, definition.spec, definition.subprocess_specs, engine)
        return cls(definition, workflow, engine, extra, max_depth=max_depth)

    def dispose(self):
        """Unlink the workflow's objects so they are freed at once by reference counting instead of
        waiting, as reference cycles, for a full garbage collection (which pauses the process).
        Only for an instance nobody uses any more: the cache calls it on entries it drops."""
        workflows = [self._workflow, *self._workflow.subprocesses.values()]
        for workflow in workflows:
            for task in workflow.tasks.values():
                task.__dict__.clear()
        for workflow in workflows:
            workflow.__dict__.clear()
        self.__dict__.clear()

    def set_clock(self, clock):
        """The clock this instance's timers and scripts read from now on."""
        self._engine.environment.clock = clock

    def excluded_from(self, task_id) -> tuple:
        """Who may not take the ready task `task_id` whatever their groups (its `notBy`)."""
        return describe_task(self._find(task_id), self._engine).excluded

    def today(self):
        """The day it is by the instance's clock (`clock.local_day`)."""
        return local_day(self._engine.environment.clock)

    def dump(self) -> dict:
        """The instance's state as a JSON-ready dict with its format version (no specs)."""
        return dump_state(self._workflow, self._extra)

    # -- reading ------------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """'terminated', 'suspended', 'error' (a step failed), 'completed' or 'running'."""
        if self._extra.get("terminated"):
            return "terminated"
        if self._extra.get("suspended"):
            return "suspended"
        if self._extra.get("error"):
            return "error"
        return "completed" if self._workflow.is_completed() else "running"

    @property
    def error(self) -> dict | None:
        """The failed element, its message and the data it saw, or None."""
        return deepcopy(self._extra.get("error"))

    @property
    def completed_elements(self) -> dict:
        """Element id -> how many times it completed (survives compaction)."""
        return dict(self._extra["completed"])

    @property
    def data(self) -> dict:
        """A copy of the process data as it stands: last completed step, then open branches."""
        merged = dict(self._workflow.last_task.data) if self._workflow.last_task else {}
        # A running call activity holds the data it was called with; the called process's own
        # tasks hold what has changed since, so the deepest workflows are merged last.
        for task in sorted(self._open_tasks(), key=lambda t: getattr(t.workflow, "depth", 0)):
            merged.update(task.data)
        return copy_data(merged)  # once, what survived the merge (each branch holds nearly all of it)

    def ready_tasks(self) -> list[HumanTask]:
        """The human tasks waiting for someone, oldest first."""
        tasks = [describe_task(t, self._engine) for t in self._ready_human_tasks()]
        return sorted(tasks, key=lambda t: (t.ready_at or "", t.element_id))

    def task(self, task_id: str) -> HumanTask:
        """One ready human task. Raises TaskNotFound."""
        return describe_task(self._find(task_id), self._engine)

    def form_for(self, task_id: str):
        """(Form or None, initial data) for a ready task: the task's own earlier values and the
        process data, process variables winning. Raises TaskNotFound."""
        task = self._find(task_id)
        form = self.definition.form_for(task.task_spec)
        return form, copy_data(self._shown(task, form))

    def _shown(self, task, form) -> dict:
        """The values `task`'s form opens with, sharing the task's data (callers copy or only read)."""
        data = task.data
        initial = {}
        for own in (form.id if form is not None else None, element_of(task.task_spec)):
            values = data.get(own)
            if isinstance(values, dict):  # a step's own submission (an admin's edit may replace it)
                initial.update(values)
        initial.update(data)
        for name, expression in (task.task_spec.extensions or {}).get("inputParameters", []):
            initial[name] = self._engine.evaluate(task, expression)
        return initial

    # -- acting -------------------------------------------------------------------------------

    def complete_task(
        self, task_id: str, data: dict, actor: Actor, provided: dict | None = None
    ) -> StepResult:
        """Complete a ready human task as `actor` with validated form data. Returns StepResult.

        `provided`: values the caller adds to what the form was shown (`engine.formdata`), so its
        `requiredWhen` rules can read them; they are not stored.
        Raises TaskNotFound, NotAllowed, FormValidationError (nothing changes) or
        InstanceStateError when the instance is in error.
        """
        self._require_running()
        task = self._find(task_id)
        human = describe_task(task, self._engine)
        if actor.username in human.excluded:
            raise NotAllowed(
                f"{actor.username} may not complete {task.task_spec.name}: the step may not be done by "
                "whom it concerns (notBy), as the author may not approve their own document"
            )
        if not may_take(actor, human):  # not a candidate at all: 403 before any claim matters
            raise NotAllowed(f"{actor.username} may not complete {task.task_spec.name}")
        if human.claimed_by and human.claimed_by != actor.username:
            raise TaskClaimed(f"{task.task_spec.name} is claimed by {human.claimed_by}")
        refuse_while_open(task, self._open_tasks)
        form = self.definition.form_for(task.task_spec)
        shown = {**self._shown(task, form), **(provided or {})}  # only read by the validation
        cleaned = form.validate(data, shown, self.today()) if form is not None else no_form_data(data)
        element_id = element_of(task.task_spec)
        result = StepResult()
        failed = None
        try:
            self._finish_task(task, cleaned)
        except InstanceStateError:
            raise  # an output mapping failed: nothing changed
        except Exception as error:  # done, but what it leads to failed as it was reached (a timer)
            failed = error
        result.events.append(self._event("task_completed", element_id, task, actor, cleaned))
        if failed is not None:
            self._incident(failed, result)
        else:
            self._advance(result)
        return result

    # -- internals ----------------------------------------------------------------------------

    def _require_running(self):
        if self._extra.get("terminated"):
            raise InstanceStateError("流程實例已終止 / the instance was terminated")
        if self._extra.get("suspended"):
            raise InstanceStateError("流程實例已暫停 / the instance is suspended")
        if self._extra.get("error"):
            where = self._extra["error"]["element"]
            raise InstanceStateError(f"流程實例在 {where} 出錯 / the instance is in error at {where}")
        if self._workflow.is_completed():
            raise InstanceStateError("流程實例已結束 / the instance has ended")

    def _open_tasks(self):
        return self._workflow.get_tasks(state=OPEN)

    def _ready_human_tasks(self):
        # The workflow's and its subprocesses' task maps rather than SpiffWorkflow's tree walk
        # (get_tasks): the same tasks (tests/processes/test_ready_tasks.py) in a twentieth of the
        # time, and one step asks four or five times.
        return [
            t for t in self._all_tasks() if t.state == TaskState.READY and isinstance(t.task_spec, UserTask)
        ]

    def _all_tasks(self):
        yield from self._workflow.tasks.values()
        for subprocess in self._workflow.subprocesses.values():
            yield from subprocess.tasks.values()

    def _find(self, task_id):
        for task in self._ready_human_tasks():
            if str(task.id) == str(task_id):
                return task
        raise TaskNotFound(f"no ready task {task_id}")

    def _finish_task(self, task, submitted):
        """Store a submission under the task's element id, apply its output mappings, share them
        with the open branches and run the task. Raises InstanceStateError (nothing changes)
        when an output mapping fails."""
        element_id = element_of(task.task_spec)
        outputs = {**camunda_variables(task.task_spec, submitted), element_id: deepcopy(submitted)}
        before = {name: task.data[name] for name in outputs if name in task.data}
        try:
            task.data.update(deepcopy(outputs))
            for name, expression in (task.task_spec.extensions or {}).get("outputParameters", []):
                value = self._engine.evaluate(task, expression)
                require_storable(name, value)  # as a script's variables are: the save would fail
                outputs[name] = task.data[name] = deepcopy(value)
        except (SpiffWorkflowException, SandboxError) as error:
            for name in outputs:
                task.data.pop(name, None)
            task.data.update(before)
            raise InstanceStateError(f"{element_id}: output mapping failed: {error}") from None
        share_with_open_branches(task, outputs)
        end_cycles_before(task)
        task.run()
        self._count(element_id)

    def _advance(self, result: StepResult):
        outbox = self._engine.outbox
        outbox.clear()
        try:
            self._run_until_waiting(result)
        except Exception as error:  # any failing step is an incident, not a crash of the request
            self._incident(error, result)
        compact_all(self._workflow, self._max_depth)
        self._stamp_ready_tasks(result)
        result.notifications.extend(deepcopy(outbox))
        outbox.clear()
        if self._workflow.is_completed() and not self._extra.get("error"):
            result.events.append(self._event("ended", None, None, None, None))

    def _incident(self, error: Exception, result: StepResult):
        """Put the instance in `error`: the failed element, the message, the data it saw."""
        failed = getattr(error, "task", None) or next(
            iter(self._workflow.get_tasks(state=TaskState.ERROR)), None
        )
        if failed is not None and not failed.has_state(TaskState.ERROR | TaskState.FINISHED_MASK):
            # It failed as it was reached (a timer that cannot be evaluated): a retry reaches it again.
            self._extra["stalled"] = str(failed.id)
        self._extra["error"] = {
            "element": failed.task_spec.name if failed is not None else None,
            "message": str(error) or type(error).__name__,
            "data": deepcopy(failed.data) if failed is not None else None,
            "at": self._engine.clock().isoformat(),
        }
        result.events.append(self._event("error", self._extra["error"]["element"], failed, None, None))

    def _stamp_ready_tasks(self, result: StepResult):
        """Date the newly ready tasks; one whose assignee or due date the data cannot give fails
        there, as Camunda's incident at task creation: the instance is in error at that task
        until an administrator fixes the data and retries."""
        now = self._engine.clock().isoformat()
        for task in self._ready_human_tasks():
            if "ready_at" not in task.internal_data:
                task.internal_data["ready_at"] = now
            try:
                describe_task(task, self._engine)
            except TaskSetupError as error:
                task._set_state(TaskState.ERROR)
                if self._extra.get("error") is None:
                    self._incident(error, result)

    def _count_task(self, task):
        # Not SpiffWorkflow's own Start/EndJoin specs; a multi-instance or loop activity counts
        # its inner tasks, each as the element.
        if task.task_spec.bpmn_id is not None and not isinstance(task.task_spec, LoopTask):
            self._count(element_of(task.task_spec))

    def _count(self, element_id):
        counts = self._extra["completed"]
        counts[element_id] = counts.get(element_id, 0) + 1

    def _event(self, kind, element_id, task, actor, data):
        return Event(
            kind=kind,
            at=self._engine.clock().isoformat(),
            element_id=element_id,
            task_id=str(task.id) if task is not None else None,
            actor=actor.username if actor is not None else None,
            data=copy_data(data),
        )
