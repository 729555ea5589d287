"""Domain errors raised by the engine. The web layer maps each to one status code."""

from dataclasses import dataclass


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One reason a bundle cannot be deployed, with where it is."""

    file: str
    message: str
    line: int | None = None
    element: str | None = None

    def __str__(self):
        where = self.file + (f":{self.line}" if self.line else "")
        return f"{where}: " + (f"{self.element}: " if self.element else "") + self.message


class DeploymentError(EngineError):
    """A bundle of diagrams, decisions and forms failed its checks; nothing was deployed.

    `problems` lists every problem found, each a `Problem` naming file, line and element.
    """

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "deployment refused")


class FormValidationError(EngineError):
    """Submitted data does not match the task's form. `errors` maps a field path to its messages."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__(", ".join(f"{path}: {' '.join(msgs)}" for path, msgs in errors.items()))


class TaskNotFound(EngineError):
    """No ready human task with that id is waiting in the instance."""


class NotAllowed(EngineError):
    """The acting user may not do this (not in the task's groups, not its assignee)."""


class TaskClaimed(EngineError):
    """Someone else has claimed the task; only they may complete it until they give it back."""


class MessageRefused(EngineError):
    """The instance does not accept this message now (unknown, completed, or guard not met)."""


class InstanceStateError(EngineError):
    """The instance is not in a state that allows the operation (completed, in error)."""


class TaskSetupError(EngineError):
    """A ready user task's assignee or due date cannot be worked out from the data (its
    expression fails, or names no possible user). `task` is the SpiffWorkflow task."""

    def __init__(self, task, message):
        super().__init__(message)
        self.task = task


class StateFormatError(EngineError):
    """Serialized state has a format version this engine cannot read."""


class StateNotStorable(EngineError):
    """A step left a value in the instance's data that its state cannot keep (a diagram fault, not
    the request's: a script changed a list in place to hold a set, say). Nothing was saved."""


class InstanceConflict(EngineError):
    """Someone else changed the instance or the task first (lost race, claimed, no longer ready)."""


class InstanceChanged(InstanceConflict):
    """The instance row changed between this transaction's read and its write (a lost optimistic
    lock). Unlike a task that is gone, this may succeed when the whole transaction is tried again."""
