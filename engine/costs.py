"""Project costs (R2.3.2): estimated, budgeted, approved, contracted and actually spent.

The first four come from what was submitted at their steps (`requirement_analysis`,
`initiation_application`, `budget_audit`, `sign_contract`); actual spending is recorded by
finance, one row per payment, never edited. A project is over budget when what it spent exceeds
the approved budget by more than the threshold (default 10%).
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from .clock import system_clock
from .errors import FormValidationError, NotAllowed
from .models import CostRecord, InstanceRecord
from .records import latest, submissions
from .tasks import Actor

COST_CATEGORIES = ("licences", "implementation", "training", "other")
ESTIMATE_FIELDS = ("cost_licences", "cost_implementation", "cost_training")
COST_STEPS = ("requirement_analysis", "initiation_application", "budget_audit", "sign_contract")
RECORDERS = frozenset({"finance"})  # R2.3.2: finance accounts for project costs
DEFAULT_THRESHOLD = Decimal("0.10")


@dataclass
class CostItem:
    id: int
    category: str
    amount: Decimal
    spent_on: date
    description: str | None
    recorded_by: str
    recorded_at: datetime


@dataclass
class CostSummary:
    """A project's money. `over_budget`: actual > approved (or budgeted) × (1 + threshold)."""

    instance_id: int
    title: str | None
    estimated: Decimal | None = None
    budgeted: Decimal | None = None
    approved: Decimal | None = None
    contracted: Decimal | None = None
    actual: Decimal = Decimal(0)
    threshold: Decimal = DEFAULT_THRESHOLD
    items: list = field(default_factory=list)

    @property
    def budget(self) -> Decimal | None:
        return self.approved if self.approved is not None else self.budgeted

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.actual > self.budget * (1 + self.threshold)


def _money(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _summary(record, found, rows, threshold) -> CostSummary:
    analysis = latest(found, "requirement_analysis")
    estimates = [_money(analysis.get(f)) for f in ESTIMATE_FIELDS if analysis.get(f) is not None]
    summary = CostSummary(
        record.id,
        record.title,
        estimated=sum(estimates, Decimal(0)) if estimates else None,
        budgeted=_money(latest(found, "initiation_application").get("budget")),
        approved=_money(latest(found, "budget_audit").get("approved_budget")),
        contracted=_money(latest(found, "sign_contract").get("amount")),
        threshold=threshold,
    )
    summary.items = [
        CostItem(r.id, r.category, r.amount, r.spent_on, r.description, r.recorded_by, r.recorded_at)
        for r in rows
    ]
    summary.actual = sum((item.amount for item in summary.items), Decimal(0))
    return summary


def _record(session, instance_id) -> InstanceRecord:
    from .workflows import InstanceNotFound

    record = session.get(InstanceRecord, instance_id)
    if record is None:
        raise InstanceNotFound(f"no instance {instance_id}")
    return record


def project_costs(session, instance_id, threshold=DEFAULT_THRESHOLD) -> CostSummary:
    """A project's estimated, budgeted, approved, contracted and actual costs, with its items.
    Raises InstanceNotFound."""
    record = _record(session, instance_id)
    found = submissions(session, [instance_id], COST_STEPS).get(instance_id, {})
    rows = session.scalars(
        select(CostRecord).where(CostRecord.instance_id == instance_id).order_by(CostRecord.id)
    )
    return _summary(record, found, rows, threshold)


def record_cost(
    session, instance_id, category, amount, spent_on, description, actor: Actor, clock=system_clock
) -> CostItem:
    """Record money spent on a project. Returns the item.

    Raises InstanceNotFound, NotAllowed (only finance records costs), FormValidationError
    (category unknown, amount not positive, date missing; nothing stored).
    """
    _record(session, instance_id)
    if not (actor.groups & RECORDERS):
        raise NotAllowed(f"{actor.username} may not record costs: finance does (R2.3.2)")
    errors = {}
    if category not in COST_CATEGORIES:
        errors["category"] = [f"must be one of {', '.join(COST_CATEGORIES)}"]
    money = _money(amount)
    if money is None or not money.is_finite() or money <= 0 or money >= Decimal("1e12"):
        errors["amount"] = ["must be a positive amount"]
    if not isinstance(spent_on, date):
        errors["spent_on"] = ["must be a date"]
    if errors:
        raise FormValidationError(errors)
    row = CostRecord(
        instance_id=instance_id,
        category=category,
        amount=money.quantize(Decimal("0.01")),
        spent_on=spent_on,
        description=(description or None) and str(description)[:300],
        recorded_by=actor.username,
        recorded_at=clock(),
    )
    session.add(row)
    session.flush()
    return CostItem(
        row.id, row.category, row.amount, row.spent_on, row.description, row.recorded_by, row.recorded_at
    )


def over_budget_projects(session, threshold=DEFAULT_THRESHOLD) -> list[CostSummary]:
    """Cost summaries of the projects whose spending exceeds their budget by more than the
    threshold, newest first."""
    ids = list(session.scalars(select(CostRecord.instance_id).distinct()))
    if not ids:
        return []
    records = session.scalars(
        select(InstanceRecord).where(InstanceRecord.id.in_(ids)).order_by(InstanceRecord.id.desc())
    )
    found = submissions(session, ids, COST_STEPS)
    rows = {}
    for row in session.scalars(
        select(CostRecord).where(CostRecord.instance_id.in_(ids)).order_by(CostRecord.id)
    ):
        rows.setdefault(row.instance_id, []).append(row)
    summaries = [_summary(r, found.get(r.id, {}), rows.get(r.id, []), threshold) for r in records]
    return [s for s in summaries if s.over_budget]
