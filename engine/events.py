"""What engine calls report: the events of a step and the notifications scripts asked for."""

from dataclasses import dataclass, field

# The steps a rewind undoes (admin records and claims between stay as they were).
UNDOABLE = frozenset({"task_completed", "task_skipped", "message_received", "timer_fired"})


@dataclass
class Event:
    """One change of an instance, with everything needed to repeat it (for the event log)."""

    kind: str  # started | task_completed | message_received | timer_fired | ended | error
    at: str
    element_id: str | None = None
    task_id: str | None = None
    actor: str | None = None
    data: dict | None = None


@dataclass
class StepResult:
    """What one engine call did: its events and the notifications scripts asked to send."""

    events: list = field(default_factory=list)
    notifications: list = field(default_factory=list)
