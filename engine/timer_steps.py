"""Timers in an instance's steps: SpiffWorkflow's engine steps run without the last look at the
timers that `do_engine_steps` ends with (it would mark a due timer fired and not run what follows
it), then every timer that is due fires, logged `timer_fired`, and what follows it runs; whatever
step noticed it, the worker's, a person's or a message's.

`TimersMixin` is part of `Instance` (kept apart to keep each module small).
"""

from copy import deepcopy
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from .events import StepResult
from .specs import PASSED_THROUGH
from .timers import ran_on_a_timer, repeating_timer, timer_fired

# Rounds of "fire what is due, run what follows" in one step: a repeating timer skips the
# intervals it missed, so a second round fires only timers reached and due at once.
MAX_TIMER_ROUNDS = 10


class TimersMixin:
    """Timer firing for Instance (uses its internals: _workflow, _advance, _event, _count...)."""

    def next_timer_due(self) -> datetime | None:
        """When the earliest waiting timer is due, or None (for workers scheduling wake-ups)."""
        dues = []
        for task in self._workflow.event_manager.tasks.values():
            value = task._get_internal_data("event_value")
            if isinstance(value, dict):
                value = value.get("next") if value.get("cycles") else None
            if isinstance(value, str):
                # Read as SpiffWorkflow reads it when it fires (a time without a zone is the
                # server's local time), in UTC: SQLite keeps no offset, so it must be UTC.
                dues.append(TimerEventDefinition.get_datetime(value))
        return min(dues) if dues else None

    def fire_timers(self) -> StepResult:
        """Fire every timer that is due by the instance's clock. Returns StepResult (maybe empty)."""
        result = StepResult()
        if self.status != "running":
            return result
        try:
            fired = self._fire_due_timers(result)
        except Exception as error:  # a timer that cannot be evaluated is an incident, as a failing step is
            self._incident(error, result)
            return result
        if fired:
            self._advance(result)
        return result

    def _run_until_waiting(self, result: StepResult):
        """Run the engine's steps, then fire what fell due and run what follows it, until only
        people and timers not yet due are waited for. Raises what a step raises."""
        self._run_engine_steps(result)
        for _ in range(MAX_TIMER_ROUNDS):
            if not self._fire_due_timers(result):
                break
            self._run_engine_steps(result)

    def _run_engine_steps(self, result: StepResult):
        """SpiffWorkflow's do_engine_steps without its last `refresh_timers()`, which would take a
        due timer as fired without running what follows it. A manual task or a task of no kind
        that is reached is passed through (`ProcessDefinition.passes_through`)."""
        while True:
            while self._workflow._do_engine_steps(did_complete_task=lambda task: self._ran(task, result)):
                pass
            reached = self._passed_through() if self.definition.passes_through else []
            if not reached:
                return
            for task in reached:
                task.run()
                self._ran(task, result)

    def _passed_through(self):
        return [
            t
            for t in self._all_tasks()
            if t.state == TaskState.READY and isinstance(t.task_spec, PASSED_THROUGH)
        ]

    def _ran(self, task, result: StepResult):
        """After the engine ran `task`: counted; a timer event (one that fell due, whatever step
        noticed it: the worker's, a person's, a message's) is logged `timer_fired`. A repeating
        timer was counted and logged each time it fired (`_fire_due_timers`)."""
        if repeating_timer(task):
            return
        self._count_task(task)
        if ran_on_a_timer(task):
            result.events.append(self._event("timer_fired", task.task_spec.name, task, None, None))

    def _fire_due_timers(self, result: StepResult) -> bool:
        """Let the waiting timers that are due fire. Returns whether any did. One that fired is
        logged as it runs (`_ran`); a repeating one that stays waiting for its next time, here.
        Raises what evaluating a timer raises."""
        waiting = dict(self._workflow.event_manager.tasks)
        before = {task_id: (task.state, deepcopy(task.internal_data)) for task_id, task in waiting.items()}
        self._workflow.refresh_timers()
        fired = False
        for task_id, task in waiting.items():
            if timer_fired(*before[task_id], task):
                fired = True
                if task.state == TaskState.WAITING:
                    self._count(task.task_spec.name)
                    result.events.append(self._event("timer_fired", task.task_spec.name, task, None, None))
        return fired
