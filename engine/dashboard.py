"""The figures IT and management watch: projects by phase, average time per phase, overdue tasks,
open high risks, projects over budget, documents awaiting review; and the lists behind them.

Projects by phase, average time per phase and overdue tasks are aggregate queries over the
instance, task and event rows (no workflow is deserialized); open high risks and projects over
budget come from `risks` and `costs`. Each list behind a figure uses the same filter as its
count, so the figure and the list cannot disagree.

Average time per phase (the regulation's phases, `pool.PHASES`) counts completed phases only: a
project's time in a phase runs from when it entered the phase — when the last step of the phase
before it was completed, or, for its first phase, when the request was submitted — to when the
last step of the phase was completed; it counts once the project has left the phase (it waits at
or completed a step of a later phase, or it has ended normally). A phase a project is still in,
or was in when it was terminated, is not counted. Times come from the event log as it happened:
steps an admin rewound still count where they were completed.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import case, extract, false, func, not_, or_, select

from .clock import system_clock
from .costs import DEFAULT_THRESHOLD, over_budget_projects
from .errors import NotAllowed
from .models import EventRecord, InstanceRecord, TaskRecord
from .phases import NO_PHASE, PHASE_INDEX, PHASE_STEPS, count_by_phase
from .pool import PHASE_NAMES, PHASES, POOL_PROCESS
from .reviews import reviews_waiting
from .risks import open_high_risks
from .tasks import Actor
from .views import Page
from .workflows import _task_info

VIEWERS = frozenset({"it", "management"})
NO_GROUP = "-"  # the key of tasks that name no group


@dataclass
class PhaseTime:
    """How long projects stayed in one phase, over the projects that left it."""

    phase: str
    count: int = 0  # projects that went through the phase and left it
    average: timedelta | None = None  # None when no project has left it yet


@dataclass
class HighRisk:
    """One open high risk of a running project."""

    instance_id: int
    title: str | None
    risk: dict


@dataclass
class Dashboard:
    # phase (PHASE_NAMES, then NO_PHASE when any) -> running projects in it
    phases: dict = field(default_factory=dict)
    phase_times: list = field(default_factory=list)  # PhaseTime per phase, in PHASE_NAMES order
    by_phase: dict = field(default_factory=dict)  # element id where running instances wait -> count
    overdue: dict = field(default_factory=dict)  # group (NO_GROUP for none) -> ready tasks past due
    high_risks: list = field(default_factory=list)  # RiskRegister of projects with open high risks
    over_budget: list = field(default_factory=list)  # CostSummary of projects over budget
    # (project id, document id, version, review instance id) submitted and not yet archived
    awaiting_review: list = field(default_factory=list)

    @property
    def high_risk_count(self) -> int:
        return sum(len(register.open_high) for register in self.high_risks)


def may_view_dashboard(actor: Actor) -> bool:
    """IT, management and administrators see the dashboard."""
    return actor.is_admin or bool(actor.groups & VIEWERS)


def _require_viewer(actor: Actor):
    if not may_view_dashboard(actor):
        raise NotAllowed(f"{actor.username} may not see the dashboard")


def dashboard(session, actor: Actor, clock=system_clock, threshold=DEFAULT_THRESHOLD) -> Dashboard:
    """The dashboard's figures now; over budget means spending reached the budget × (1 +
    `threshold`), as on the cost page. Raises NotAllowed for anyone but IT, management, admins."""
    _require_viewer(actor)
    now = clock()
    board = Dashboard()
    board.phases = projects_by_phase(session)
    board.phase_times = phase_times(session)
    board.by_phase = _by_step(session)
    overdue = session.execute(
        select(TaskRecord.group_id, func.count()).where(_overdue(now)).group_by(TaskRecord.group_id)
    )
    board.overdue = dict(sorted((group or NO_GROUP, count) for group, count in overdue))
    board.high_risks = open_high_risks(session, clock)
    board.over_budget = over_budget_projects(session, threshold)
    board.awaiting_review = reviews_waiting(session)
    return board


def projects_by_phase(session) -> dict:
    """Running projects (instances of the procedure) per phase: every phase in order, with 0
    where none is, then NO_PHASE when some wait at no phase's step. `list_instances(
    status="running", process_id=POOL_PROCESS, phase=...)` lists the same rows."""
    counts = count_by_phase(
        session, InstanceRecord.status == "running", InstanceRecord.process_id == POOL_PROCESS
    )
    found = {name: counts.get(name, 0) for name in PHASE_NAMES}
    if counts.get(NO_PHASE):
        found[NO_PHASE] = counts[NO_PHASE]
    return found


def _by_step(session) -> dict:
    """Running instances of any process per element they wait at ("-" when at none)."""
    steps = Counter()
    rows = session.execute(
        select(InstanceRecord.waiting_at, func.count())
        .where(InstanceRecord.status == "running")
        .group_by(InstanceRecord.waiting_at)
    )
    for waiting, count in rows:
        for element in waiting.split(",") if waiting else ["-"]:
            steps[element] += count
    return dict(sorted(steps.items()))


def _epoch(column):
    return extract("epoch", column)


def phase_times(session) -> list[PhaseTime]:
    """Average time per phase over the projects that left it (see the module's docstring), one
    PhaseTime per phase in order.

    One aggregate query in two levels: the last completion in each phase per project (one row per
    project, in seconds since the epoch), then, per status and phase, the projects and seconds of
    each phase, split by whether a later phase has a completion. A project with none has left its
    latest phase only if it completed or is now in a later phase; that is decided here on the few
    grouped rows. A phase
    starts at the end of the nearest earlier phase the project went through: the procedure's
    phases follow one another."""
    ends = (
        select(
            EventRecord.instance_id.label("instance_id"),
            *(
                func.max(case((EventRecord.element_id.in_(sorted(steps)), _epoch(EventRecord.at)))).label(
                    f"end{i}"
                )
                for i, (_, steps) in enumerate(PHASES)
            ),
        )
        .where(EventRecord.type == "task_completed", EventRecord.element_id.in_(sorted(PHASE_STEPS)))
        .group_by(EventRecord.instance_id)
        .subquery()
    )
    end = [ends.c[f"end{i}"] for i in range(len(PHASES))]
    created = _epoch(InstanceRecord.created_at)
    columns = []
    for i, ended in enumerate(end):
        seconds = ended - (func.coalesce(*reversed(end[:i]), created) if i else created)  # NULL: never in it
        later = or_(false(), *(e.is_not(None) for e in end[i + 1 :]))
        for moved_on in (later, not_(later)):
            columns += [func.count(case((moved_on, seconds))), func.sum(case((moved_on, seconds)))]
    rows = session.execute(
        select(InstanceRecord.status, InstanceRecord.phase, *columns)
        .join(ends, ends.c.instance_id == InstanceRecord.id)
        .where(InstanceRecord.process_id == POOL_PROCESS)
        .group_by(InstanceRecord.status, InstanceRecord.phase)
    )
    totals = [[0, 0.0] for _ in PHASES]  # per phase: projects, seconds
    for status, phase, *figures in rows:
        for i in range(len(PHASES)):
            moved_on, moved_seconds, last, last_seconds = figures[4 * i : 4 * i + 4]
            totals[i][0] += moved_on
            totals[i][1] += float(moved_seconds or 0)
            if status == "completed" or PHASE_INDEX.get(phase, -1) > i:
                totals[i][0] += last
                totals[i][1] += float(last_seconds or 0)
    return [
        PhaseTime(name, count, timedelta(seconds=round(total / count)) if count else None)
        for name, (count, total) in zip(PHASE_NAMES, totals, strict=True)
    ]


def _overdue(now):
    return TaskRecord.due_at < now


def overdue_tasks(
    session, actor: Actor, group: str | None = None, clock=system_clock, page=1, per_page=50
) -> Page:
    """The ready tasks of `group` (NO_GROUP: of no group; None: of every group) past their due
    time, the most overdue first, with their instance's title: the tasks the dashboard counts for
    that group. Returns a Page of TaskInfo. Raises NotAllowed for anyone who may not see the
    dashboard."""
    _require_viewer(actor)
    query = (
        select(TaskRecord, InstanceRecord.title)
        .join(InstanceRecord, TaskRecord.instance_id == InstanceRecord.id)
        .where(_overdue(clock()))
    )
    if group is not None:
        query = query.where(
            TaskRecord.group_id.is_(None) if group == NO_GROUP else TaskRecord.group_id == group
        )
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(
        query.order_by(TaskRecord.due_at, TaskRecord.id).offset((page - 1) * per_page).limit(per_page)
    )
    return Page([_task_info(row, title) for row, title in rows], total, page, per_page)


def open_high_risk_list(session, actor: Actor, instance_id=None, clock=system_clock) -> list[HighRisk]:
    """Every open high risk of the running projects (of one project when `instance_id` is
    given), newest project first: the risks the dashboard counts. Raises NotAllowed for anyone
    who may not see the dashboard."""
    _require_viewer(actor)
    return [
        HighRisk(register.instance_id, register.title, risk)
        for register in open_high_risks(session, clock)
        if instance_id is None or register.instance_id == instance_id
        for risk in register.open_high
    ]
