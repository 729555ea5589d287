"""The figures IT and management watch: projects by phase, overdue tasks, open high risks,
projects over budget, documents awaiting review."""

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from .clock import system_clock
from .costs import over_budget_projects
from .errors import NotAllowed
from .models import InstanceRecord, TaskRecord
from .reviews import reviews_waiting
from .risks import open_high_risks
from .tasks import Actor

VIEWERS = frozenset({"it", "management"})


@dataclass
class Dashboard:
    by_phase: dict = field(default_factory=dict)  # element id where running projects wait -> count
    overdue: dict = field(default_factory=dict)  # group -> ready tasks past their due time
    high_risks: list = field(default_factory=list)  # RiskRegister of projects with open high risks
    over_budget: list = field(default_factory=list)  # CostSummary of projects over budget
    # (project id, document id, version, review instance id) submitted and not yet archived
    awaiting_review: list = field(default_factory=list)


def may_view_dashboard(actor: Actor) -> bool:
    """IT, management and administrators see the dashboard."""
    return actor.is_admin or bool(actor.groups & VIEWERS)


def dashboard(session, actor: Actor, clock=system_clock) -> Dashboard:
    """The dashboard's figures now. Raises NotAllowed for anyone but IT, management, admins."""
    if not may_view_dashboard(actor):
        raise NotAllowed(f"{actor.username} may not see the dashboard")
    now = clock()
    board = Dashboard()
    phases = Counter()
    for waiting in session.scalars(
        select(InstanceRecord.waiting_at).where(InstanceRecord.status == "running")
    ):
        phases.update((waiting or "").split(",") if waiting else ["-"])
    board.by_phase = dict(sorted(phases.items()))
    overdue = session.execute(
        select(TaskRecord.group_id, func.count()).where(TaskRecord.due_at < now).group_by(TaskRecord.group_id)
    )
    board.overdue = {group or "-": count for group, count in overdue}
    board.high_risks = open_high_risks(session, clock)
    board.over_budget = over_budget_projects(session)
    board.awaiting_review = reviews_waiting(session)
    return board
