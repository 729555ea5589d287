"""Timer events that read the instance's clock, and accept Camunda's unquoted ISO 8601 values.

SpiffWorkflow's timers call `datetime.now()` themselves, so time cannot be moved in tests or
replays, and they evaluate the timer text as Python, so Camunda's `P14D` (unquoted) fails.
These subclasses take the time from the instance's script engine (`ScriptEngine.clock`) and use
a literal ISO 8601 value as it is; anything else is an expression evaluated in the sandbox.
"""

import re
from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin, BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

_ISO_LITERAL = re.compile(
    r"^(R\d*/.+|P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?|\d{4}-\d{2}-\d{2}.*)$"
)


# Text meant as an ISO 8601 value that the literal pattern does not take (P1X, R5, 2026-1-1):
# never an expression, so deploy names it instead of the run failing on an unknown variable.
_ISO_ATTEMPT = re.compile(r"^(P[0-9A-Z.]*|R\d*(/.*)?|\d{4}-.*)$")


def literal_problem(kind: str, text: str) -> str | None:
    """What is wrong with a timer's literal value (`kind`: timeDate, timeDuration, timeCycle),
    checked as the engine will read it when the timer starts; None when it is fine, or when the
    text is an expression (evaluated at run time)."""
    text = text.strip()
    if not _ISO_LITERAL.match(text):
        return f"{text!r} is not an ISO 8601 value" if _ISO_ATTEMPT.match(text) else None
    probe = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        if kind == "timeCycle":
            _, _, interval = parse_cycle(text, probe)
            if interval <= timedelta(0):
                return f"{text!r}: a repeating interval must be positive"
            probe + interval  # a date beyond the year 9999 raises OverflowError
        elif kind == "timeDuration":
            probe + TimerEventDefinition.get_timedelta_from_start(  # as above
                TimerEventDefinition.parse_iso_duration(text), probe
            )
        else:
            TimerEventDefinition.get_datetime(text)
    except (ValueError, TypeError, OverflowError) as error:
        return f"{text!r} is not an ISO 8601 {_KINDS[kind]}: {error}"
    return None


_KINDS = {"timeDate": "date and time", "timeDuration": "duration", "timeCycle": "repeating interval"}


def timer_value(my_task, expression: str) -> str:
    """The timer's ISO 8601 text: the literal itself, or what the expression evaluates to."""
    text = expression.strip()
    if _ISO_LITERAL.match(text):
        return text
    return my_task.workflow.script_engine.evaluate(my_task, text)


def parse_cycle(expression: str, now: datetime):
    """Return (cycles, first due time, interval) of an ISO 8601 repeating interval (R[n]/...).

    Raises ValueError when the text is not a repeating interval the engine understands.
    """
    parts = expression.upper().replace("--", "/").strip("R").split("/")
    if len(parts) < 2:
        raise ValueError(f"not a repeating interval: {expression!r}")
    cycles = int(parts[0]) if parts[0] else -1
    first = TimerEventDefinition.parse_time_or_duration(parts[1])
    if isinstance(first, datetime):
        if len(parts) < 3:
            raise ValueError(f"a repeating interval with a start needs a duration: {expression!r}")
        interval = TimerEventDefinition.get_timedelta_from_start(
            TimerEventDefinition.parse_time_or_duration(parts[2]), first
        )
        return cycles, first, interval
    interval = TimerEventDefinition.get_timedelta_from_start(first, now)
    return cycles, now + interval, interval


def _now(my_task) -> datetime:
    return my_task.workflow.script_engine.clock()


class ClockTimeDate(TimeDateEventDefinition):
    """A timer at a fixed date and time."""

    def has_fired(self, my_task):
        value = my_task._get_internal_data("event_value")
        if value is None:
            value = timer_value(my_task, self.expression)
            my_task._set_internal_data(event_value=value)
        if TimerEventDefinition.get_datetime(value) <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockDuration(DurationTimerEventDefinition):
    """A timer that fires a duration after the task started waiting."""

    def has_fired(self, my_task):
        value = my_task._get_internal_data("event_value")
        if value is None:
            duration = TimerEventDefinition.parse_iso_duration(timer_value(my_task, self.expression))
            start = _now(my_task)
            value = (start + TimerEventDefinition.get_timedelta_from_start(duration, start)).isoformat()
            my_task._set_internal_data(event_value=value)
        if TimerEventDefinition.get_datetime(value) <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockCycle(CycleTimerEventDefinition):
    """A repeating timer (R/P14D); each time it is due it starts one more branch."""

    def cycle_complete(self, my_task):
        value = my_task._get_internal_data("event_value")
        if value is None:
            cycles, first, interval = parse_cycle(timer_value(my_task, self.expression), _now(my_task))
            value = {"cycles": cycles, "next": first.isoformat(), "duration": interval.total_seconds()}
        ready = False
        if value["cycles"] != 0:
            due = datetime.fromisoformat(value["next"])
            now = _now(my_task)
            if due <= now:
                # Fire once, then skip intervals missed while no worker ran: one reminder, not a pile.
                step = timedelta(seconds=value["duration"])
                if step <= timedelta(0):
                    raise ValueError(f"timer {self.name!r}: a repeating interval must be positive")
                while due <= now:
                    due += step
                value["next"] = due.isoformat()
                value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=value)
        return ready


def end_cycles_before(task):
    """Let the branches a repeating boundary timer started on `task` outlive it. Returns None.

    Call it just before `task` (an activity) finishes. SpiffWorkflow hangs every branch that a
    repeating non-interrupting timer starts below the timer itself, and when the activity
    finishes it cancels the timer and so removes each of those branches still open: a risk
    reassessment someone is working on would vanish the moment the vendor reports `implement`
    done. In BPMN such a branch runs on, and its process waits for it. So a timer with open
    branches is marked done and no longer waited on, and its activity's end leaves it alone; a
    timer without open branches is left for SpiffWorkflow to cancel, as before.
    """
    split = task.parent
    if split is None or not isinstance(split.task_spec, BoundaryEventSplit):
        return
    for timer in split.children:
        spec = timer.task_spec
        if (
            timer is task
            or timer.state != TaskState.WAITING
            or getattr(spec, "cancel_activity", True)
            or not isinstance(getattr(spec, "event_definition", None), CycleTimerEventDefinition)
        ):
            continue
        if any(
            not child.has_state(TaskState.FINISHED_MASK)
            and not isinstance(child.task_spec, BoundaryEventJoin)
            for child in timer.children
        ):
            timer.workflow.top_workflow.event_manager.remove_task(timer)
            timer._set_state(TaskState.COMPLETED)


CLOCK_TIMERS = {
    TimeDateEventDefinition: ClockTimeDate,
    DurationTimerEventDefinition: ClockDuration,
    CycleTimerEventDefinition: ClockCycle,
}


def use_clock_timers(event_definition):
    """Swap a parsed SpiffWorkflow timer definition for its clock-aware twin (in place)."""
    twin = CLOCK_TIMERS.get(type(event_definition))
    if twin is not None:
        event_definition.__class__ = twin
    return event_definition


def repeating_timer(task) -> bool:
    """Whether `task` is a repeating timer (`R/P14D`): it fires each time its next time moves on;
    its own end, when its repetitions run out, is no firing."""
    definition = getattr(task.task_spec, "event_definition", None)
    return isinstance(definition, TimerEventDefinition) and isinstance(
        task.internal_data.get("event_value"), dict
    )


def ran_on_a_timer(task) -> bool:
    """Whether `task`, which has just run, ran because a timer fired: a timer catch, a boundary
    timer or an event subprocess's timer start (see `repeating_timer` for the repeating ones),
    or an event-based gateway that a timer, not a message, decided."""
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, TimerEventDefinition):
        return not repeating_timer(task)
    if isinstance(definition, MultipleEventDefinition):
        seen = task.internal_data.get("seen_events") or []
        return any(isinstance(event.event_definition, TimerEventDefinition) for event in seen)
    return False


def timer_fired(state_before, before: dict, task) -> bool:
    """Whether a waiting timer task fired since its state was `state_before` and its internal
    data `before`: it left waiting (a catch event now ready, a boundary event that ran at once),
    was marked fired, or a cycle moved on to its next time."""
    if task.state != state_before and not task.has_state(TaskState.CANCELLED):
        return True
    if task.internal_data == before:
        return False
    old, new = before.get("event_value"), task.internal_data.get("event_value")
    if isinstance(old, dict):  # a repeating timer fires as its next time moves on (not as it ends)
        return isinstance(new, dict) and old.get("next") != new.get("next")
    return bool(task.internal_data.get("event_fired") and not before.get("event_fired"))
