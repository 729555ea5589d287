"""Human tasks as the rest of the system sees them, and who may complete them."""

from dataclasses import dataclass, field, replace
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .clock import ReplayClock
from .errors import TaskSetupError
from .groups import LANE_GROUPS
from .specs import form_reference
from .timers import _ISO_LITERAL


@dataclass(frozen=True)
class Actor:
    """The person acting: passed in by the caller; the engine never looks up users itself."""

    username: str
    groups: frozenset = field(default_factory=frozenset)
    is_admin: bool = False


@dataclass
class HumanTask:
    """A ready user task: what an inbox shows and what a form page needs."""

    id: str
    element_id: str
    name: str | None
    process_id: str
    groups: tuple
    users: tuple
    assignee: str | None
    form: str | None
    due: str | None
    ready_at: str | None
    documentation: str | None = None
    claimed_by: str | None = None
    designated: str | None = None  # the assignee the diagram names (before any claim)
    # Who may not take it whatever their groups (`notBy`: the four-eyes rule, e.g. the author of
    # what the task reviews).
    excluded: tuple = ()


def _evaluate(task, engine, text):
    text = text.strip()
    if text.startswith(("${", "#{", "=")):
        return engine.evaluate(task, text)
    return text


# A user name's length as the users table holds it (engine/models.py): a longer assignee can be
# no one, and no task row could hold it.
MAX_USERNAME = 80


def _user_names(task, engine, text, what) -> list[str]:
    """The user names an `assignee` or `candidateUsers` entry gives: a plain name, or what its
    expression gives (a name, a list of names, or nothing). Raises TaskSetupError."""
    try:
        value = _evaluate(task, engine, text)
    except Exception as error:  # a missing variable, a sandbox refusal: the data does not fit
        raise TaskSetupError(task, f"{task.task_spec.name}: {what} {text.strip()!r}: {error}") from None
    names = []
    for name in value if isinstance(value, list | tuple) else [value]:
        if name is None or name == "":
            continue
        name = str(name)
        if len(name) > MAX_USERNAME or not name.strip():
            raise TaskSetupError(
                task,
                f"{task.task_spec.name}: {what} {text.strip()!r} gives {name[:40]!r}, which can be no "
                f"user name (1 to {MAX_USERNAME} characters)",
            )
        names.append(name)
    return names


def _assignee(task, engine, text) -> str | None:
    """The user an `assignee` expression names; None (the candidates decide) when it gives
    nothing. Raises TaskSetupError."""
    names = _user_names(task, engine, text, "assignee")
    if len(names) > 1:
        raise TaskSetupError(
            task, f"{task.task_spec.name}: assignee {text.strip()!r} gives more than one user"
        )
    return names[0] if names else None


def _candidate_users(task, engine, items) -> tuple:
    """The users `candidateUsers` names (`${initiator}` evaluated). Raises TaskSetupError."""
    users = [name for text in items for name in _user_names(task, engine, text, "candidate users")]
    return tuple(dict.fromkeys(users))


def _due(task, engine, ready_at):
    text = (task.task_spec.extensions or {}).get("dueDate")
    if not text or not ready_at:
        return None
    try:
        return _due_date(task, engine, text, ready_at)
    except Exception as error:  # a missing variable, a value that is no date or duration
        raise TaskSetupError(task, f"{task.task_spec.name}: due date {text.strip()!r}: {error}") from None


def _due_date(task, engine, text, ready_at):
    value = text.strip() if _ISO_LITERAL.match(text.strip()) else _evaluate(task, engine, text)
    if isinstance(value, datetime):
        value = value.isoformat()
    value = str(value)
    if value.upper().startswith("P"):
        start = datetime.fromisoformat(ready_at)
        duration = TimerEventDefinition.parse_iso_duration(value)
        return (start + TimerEventDefinition.get_timedelta_from_start(duration, start)).isoformat()
    # As a timer reads a date (no zone: the server's local time), in UTC: SQLite keeps no offset.
    return TimerEventDefinition.get_datetime(value).isoformat()


def describe_task(task, engine) -> HumanTask:
    """The HumanTask for a SpiffWorkflow user task (group from candidateGroups or the lane).
    Raises TaskSetupError when its assignee or due date cannot be worked out."""
    spec = task.task_spec
    ext = spec.extensions or {}
    groups = tuple(ext.get("candidateGroups") or ())
    if not groups and spec.lane in LANE_GROUPS:
        groups = (LANE_GROUPS[spec.lane],)
    assignee = ext.get("assignee")
    if assignee:
        assignee = _assignee(task, engine, assignee)
    claimed_by = task.internal_data.get("claimed_by")
    ready_at = task.internal_data.get("ready_at")
    # A replay repeats what was allowed when it happened (its actors have every group), as it
    # does not judge a date again: an author's approval logged before `notBy` still replays.
    replaying = isinstance(getattr(engine.environment, "clock", None), ReplayClock)
    return HumanTask(
        excluded=() if replaying else _excluded(task, ext),
        id=str(task.id),
        element_id=element_of(spec),
        name=spec.bpmn_name,
        process_id=task.workflow.spec.name,
        groups=groups,
        users=_candidate_users(task, engine, ext.get("candidateUsers") or ()),
        assignee=claimed_by or assignee,
        form=form_reference(ext),
        due=_due(task, engine, ready_at),
        ready_at=ready_at,
        documentation=spec.documentation,
        claimed_by=claimed_by,
        designated=assignee,
    )


def may_take(actor: Actor, task: HumanTask) -> bool:
    """Whether the actor is a candidate for the task at all, whoever has claimed it; never one the
    task's `notBy` names."""
    if actor.username in task.excluded:
        return False
    return may_complete(actor, replace(task, assignee=task.designated))


def _excluded(task, ext) -> tuple:
    """The users a task's `notBy` property names through process variables ("initiator, author"):
    each variable's value, where it is a user name."""
    names = ((ext.get("properties") or {}).get("notBy") or "").split(",")
    values = (task.data.get(name.strip()) for name in names if name.strip())
    return tuple(value for value in values if isinstance(value, str) and value)


def element_of(spec) -> str:
    """The BPMN element id of a task spec: SpiffWorkflow names the inner task of a multi-instance
    or loop activity `<id> [child]`, which no diagram holds."""
    if spec.bpmn_id is not None and spec.name.endswith(" [child]"):
        return spec.bpmn_id
    return spec.name


def may_complete(actor: Actor, task: HumanTask) -> bool:
    """An assigned task belongs to its assignee alone; otherwise a candidate group or user may."""
    if task.assignee:
        return actor.username == task.assignee
    return bool(set(task.groups) & set(actor.groups)) or actor.username in task.users


def starter_group(start_spec) -> str | None:
    """The department a process's start event is drawn in (its lane, when the lane names a
    group): only its members start the process, as only a candidate group completes a task.
    None when the start event is in no such lane (anyone may start)."""
    return LANE_GROUPS.get(getattr(start_spec, "lane", None) or "")


def may_start(actor: Actor, start_spec) -> bool:
    """Whether the actor may start a process whose none start event is `start_spec`."""
    group = starter_group(start_spec)
    return group is None or actor.is_admin or group in actor.groups
