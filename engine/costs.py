"""Project costs (R2.3.2): estimated, budgeted, approved, contracted and actually spent, and the
finance review of an overrun.

The first four come from what was submitted at their steps (`requirement_analysis`,
`initiation_application`, `budget_audit`, `sign_contract`); actual spending is recorded by
finance, one row per payment, never edited.

**The budget** a project is held to is the budget approved at initiation (`budget_audit`'s
`approved_budget`; an audit that approved without a figure approved the budget applied for),
plus the additional budget finance approved in overrun reviews. A project without an approved
budget is never over budget and raises nothing.

**Overrun levels.** Spending is at level n when it is at least budget × (1 + n × threshold):
level 1 is *at* the threshold (default 10%), level 2 at twice it, and so on. `over_budget` is
level ≥ 1, the same rule that raises the review, so the records page, the dashboard and the
finance inbox agree.

**The review.** When a recorded cost finds a *running* instance at a higher level than the last
finished review saw (a crossing; none seen: level 0), the engine sends the message `cost_overrun`
to the instance in the same transaction; the diagram catches it in a top-level, non-interrupting message-start event
subprocess (`cost_overrun_handling`), which gives finance the task `cost_overrun_review`, as a
change request gives IT `change_review`. Nothing else is raised:

- while a review is open, further costs raise no second one: the open review shows the figures as
  they are when it is done (a form data provider, not a copy taken when it was raised);
- after a review, the next one comes at the next crossing: of the next level (10% → 20% over), or
  of the first level of the new budget once additional budget was approved. Costs that keep the
  project at a level already reviewed raise nothing. This is what a Camunda user would model with
  a non-interrupting event subprocess fed by a threshold check: one token per crossing, never one
  per payment;
- an instance that is not running (completed, terminated, suspended, in error) records the cost
  and raises nothing; `CostRecorded.overrun_review` says so, as it says why in every other case.

Whether a review is open is read from the ready-task projection. The instance row is locked (FOR
UPDATE where the database has it) before the sums are read, so two costs recorded at once are
counted one after the other and a crossing is never missed or raised twice.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from .clock import system_clock
from .document_catalog import require_register
from .errors import FormValidationError, MessageRefused, NotAllowed
from .formdata import form_data_provider
from .locking import write_lock
from .models import CostRecord, EventRecord, InstanceRecord, TaskRecord
from .plans import MONEY_LIMIT  # what the amount columns hold
from .records import latest, require_project, submissions
from .tasks import Actor
from .workflows import InstanceNotFound, send_message

log = logging.getLogger(__name__)

COST_CATEGORIES = ("licences", "implementation", "training", "other")
ESTIMATE_FIELDS = ("cost_licences", "cost_implementation", "cost_training")
REVIEW_MESSAGE = "cost_overrun"  # the message the diagram's event subprocess starts with
REVIEW_TASK = "cost_overrun_review"  # finance's review task in that subprocess
MORE_BUDGET = "approve_additional_budget"  # the review's decision that raises the budget
COST_STEPS = ("requirement_analysis", "initiation_application", "budget_audit", "sign_contract", REVIEW_TASK)
RECORDERS = frozenset({"finance"})  # R2.3.2: finance accounts for project costs
DEFAULT_THRESHOLD = Decimal("0.10")
MAX_OVERRUN_LEVEL = 1000  # spent a hundred times the budget and more: one level, not a number

# CostRecorded.overrun_review: what recording a cost did about an overrun (None: not over budget).
RAISED = "raised"  # a review task was raised in the instance
ALREADY_OPEN = "already_open"  # a review is open; it shows the new figures
NO_CROSSING = "no_crossing"  # still at a level an earlier cost reached; the next level raises
NOT_RUNNING = "not_running"  # the instance is completed, terminated, suspended or in error
NOT_ACCEPTED = "not_accepted"  # the instance's diagram version does not take `cost_overrun`
NO_BUDGET = "no_budget"  # nothing approved yet (budget_audit): no spending is over budget


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
class CostRecorded(CostItem):
    """A recorded cost and what it did: the spending after it, whether the project is over
    budget, and `overrun_review` (one of RAISED, ALREADY_OPEN, NO_CROSSING, NOT_RUNNING,
    NOT_ACCEPTED, NO_BUDGET; None when within the budget) with `overrun_note` saying why."""

    actual: Decimal = Decimal(0)
    budget: Decimal | None = None
    over_budget: bool = False
    overrun_review: str | None = None
    overrun_note: str | None = None


def overrun_level(actual: Decimal, budget: Decimal | None, threshold: Decimal) -> int:
    """0 below budget × (1 + threshold); n ≥ 1 from budget × (1 + n × threshold) on. A budget or
    threshold of zero has one level: anything spent at or above the budget."""
    if budget is None or actual <= 0 or actual < budget * (1 + threshold):
        return 0
    if budget <= 0 or threshold <= 0:
        return 1
    try:  # a budget of 1E-30 makes a quotient longer than Decimal's 28 digits
        return min(int((actual - budget) // (budget * threshold)), MAX_OVERRUN_LEVEL)
    except InvalidOperation:
        return MAX_OVERRUN_LEVEL


@dataclass
class CostSummary:
    """A project's money. `budget`: approved at initiation plus `additional` approved in overrun
    reviews; `over_budget`: actual ≥ budget × (1 + threshold)."""

    instance_id: int
    title: str | None
    estimated: Decimal | None = None
    budgeted: Decimal | None = None
    approved: Decimal | None = None
    contracted: Decimal | None = None
    additional: Decimal = Decimal(0)
    actual: Decimal = Decimal(0)
    threshold: Decimal = DEFAULT_THRESHOLD
    items: list = field(default_factory=list)

    @property
    def budget(self) -> Decimal | None:
        return None if self.approved is None else self.approved + self.additional

    @property
    def level(self) -> int:
        return overrun_level(self.actual, self.budget, self.threshold)

    @property
    def over_budget(self) -> bool:
        return self.level >= 1

    @property
    def overrun(self) -> Decimal | None:
        """What was spent beyond the budget (negative while under it)."""
        return None if self.budget is None else self.actual - self.budget


def _money(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _threshold(value) -> Decimal:
    threshold = _money(value)
    if threshold is None or not threshold.is_finite() or threshold < 0:
        raise ValueError(f"the cost overrun threshold must be a fraction ≥ 0 (0.10 is 10%), not {value!r}")
    return threshold


def _approved(found) -> Decimal | None:
    """The budget finance's latest audit approved: its approved amount, else the one applied
    for. An audit that asked for a revision or refused approved none, whatever amount it named."""
    audit = latest(found, "budget_audit")
    if audit.get("decision") != "approve":
        return None
    approved = _money(audit.get("approved_budget"))
    if approved is None:
        approved = _money(latest(found, "initiation_application").get("budget"))
    return approved


def _additional(found) -> Decimal:
    reviews = [row.data or {} for row in found.get(REVIEW_TASK) or []]
    amounts = [_money(r.get("additional_budget")) for r in reviews if r.get("decision") == MORE_BUDGET]
    return sum((a for a in amounts if a is not None and a.is_finite()), Decimal(0))


def _summary(record, found, rows, threshold) -> CostSummary:
    analysis = latest(found, "requirement_analysis")
    estimates = [_money(analysis.get(f)) for f in ESTIMATE_FIELDS if analysis.get(f) is not None]
    summary = CostSummary(
        record.id,
        record.title,
        estimated=sum(estimates, Decimal(0)) if estimates else None,
        budgeted=_money(latest(found, "initiation_application").get("budget")),
        approved=_approved(found),
        contracted=_money(latest(found, "sign_contract").get("amount")),
        additional=_additional(found),
        threshold=_threshold(threshold),
    )
    summary.items = [
        CostItem(r.id, r.category, r.amount, r.spent_on, r.description, r.recorded_by, r.recorded_at)
        for r in rows
    ]
    summary.actual = sum((item.amount for item in summary.items), Decimal(0))
    return summary


def _record(session, instance_id, lock=False) -> InstanceRecord:
    query = select(InstanceRecord).where(InstanceRecord.id == instance_id)
    if lock:
        # Fresh from the database, and held until the transaction ends (the row on PostgreSQL,
        # the database on SQLite): the sums below then include every earlier cost.
        write_lock(session)
        query = query.with_for_update(of=InstanceRecord).execution_options(populate_existing=True)
    record = session.scalar(query)
    if record is None:
        raise InstanceNotFound(f"no instance {instance_id}")
    return record


def _costs_of(session, record, threshold) -> CostSummary:
    found = submissions(session, [record.id], COST_STEPS).get(record.id, {})
    rows = session.scalars(
        select(CostRecord).where(CostRecord.instance_id == record.id).order_by(CostRecord.id)
    )
    return _summary(record, found, rows, threshold)


def project_costs(
    session, instance_id, threshold=DEFAULT_THRESHOLD, actor: Actor | None = None
) -> CostSummary:
    """A project's estimated, budgeted, approved, contracted and actual costs, with its items.
    Raises InstanceNotFound; NotAllowed when `actor` is given and may not read them
    (`document_catalog.REGISTERS`); ValueError for a negative threshold."""
    require_register(actor, "costs")
    return _costs_of(session, _record(session, instance_id), threshold)


CENT = Decimal("0.01")


def _validated(category, amount, spent_on) -> Decimal:
    errors = {}
    if category not in COST_CATEGORIES:
        listed = ", ".join(COST_CATEGORIES)
        errors["category"] = [f"須為以下之一：{listed} / must be one of {listed}"]
    money = _money(amount)
    if money is None or not money.is_finite() or money <= 0:
        errors["amount"] = ["金額須大於零 / must be a positive amount"]
    elif money >= MONEY_LIMIT:
        errors["amount"] = [f"金額須小於 {MONEY_LIMIT:,} 元 / must be less than {MONEY_LIMIT:,} yuan"]
    elif money != money.quantize(CENT):
        errors["amount"] = [
            "最多兩位小數（分） / at most two decimal places (fen)"
        ]  # not rounded away silently
    if not isinstance(spent_on, date):
        errors["spent_on"] = ["須為日期 / must be a date"]
    if errors:
        raise FormValidationError(errors)
    return money.quantize(CENT)


def record_cost(
    session,
    instance_id,
    category,
    amount,
    spent_on,
    description,
    actor: Actor,
    clock=system_clock,
    threshold=DEFAULT_THRESHOLD,
) -> CostRecorded:
    """Record money spent on a project; raise a finance review in the running instance when this
    cost crosses an overrun level (see the module's docstring). Returns CostRecorded.

    Raises InstanceNotFound, NotAllowed (only finance records costs), FormValidationError
    (category unknown, amount not positive, date missing; nothing stored), InstanceChanged (the
    instance changed under the review's message: nothing stored, try the whole call again),
    ValueError for a negative threshold.
    """
    record = _record(session, instance_id, lock=True)
    if not (actor.groups & RECORDERS):
        raise NotAllowed(f"{actor.username} may not record costs: finance does (R2.3.2)")
    require_project(record)
    money = _validated(category, amount, spent_on)
    before = _costs_of(session, record, threshold)
    row = CostRecord(
        instance_id=instance_id,
        category=category,
        amount=money,
        spent_on=spent_on,
        description=(description or None) and str(description)[:300],
        recorded_by=actor.username,
        recorded_at=clock(),
    )
    session.add(row)
    session.flush()
    item = CostItem(
        row.id, row.category, row.amount, row.spent_on, row.description, row.recorded_by, row.recorded_at
    )
    after = CostSummary(
        before.instance_id,
        before.title,
        approved=before.approved,
        additional=before.additional,
        actual=before.actual + money,
        threshold=before.threshold,
    )
    review, note = _overrun_review(session, record, before, after, actor, clock)
    if review is not None and review != RAISED:
        log.info("instance %s: cost %s recorded, no overrun review raised: %s", instance_id, row.id, note)
    return CostRecorded(
        **vars(item),
        actual=after.actual,
        budget=after.budget,
        over_budget=after.over_budget,
        overrun_review=review,
        overrun_note=note,
    )


def _overrun_review(session, record, before, after, actor, clock) -> tuple[str | None, str | None]:
    """(code, note) of what an overrun after this cost calls for; sends the message if a review
    is due."""
    if after.budget is None:
        return NO_BUDGET, f"spent {after.actual}; no budget is approved yet, so no overrun can be judged"
    if not after.over_budget:
        return None, None
    spent = f"spent {after.actual} of a budget of {after.budget}, level {after.level}"
    if record.status != "running":
        return NOT_RUNNING, f"{spent}; the instance is {record.status}, so no review is raised"
    review_open = session.scalar(
        select(TaskRecord.id).where(TaskRecord.instance_id == record.id, TaskRecord.element_id == REVIEW_TASK)
    )
    if review_open is not None:
        return ALREADY_OPEN, f"{spent}; the open review {REVIEW_TASK} covers it"
    if after.level <= _reviewed_level(session, record, after):
        return NO_CROSSING, f"{spent}; a review saw this level, the next level raises one"
    try:
        send_message(session, record.id, REVIEW_MESSAGE, {}, actor, clock=clock)
    except (MessageRefused, NotAllowed) as refused:
        # An instance on a diagram version without the review (deployed before it) still
        # records its costs; the refusal changed nothing.
        log.warning("instance %s: %s refused: %s", record.id, REVIEW_MESSAGE, refused)
        return NOT_ACCEPTED, f"{spent}; the instance's diagram does not take {REVIEW_MESSAGE}: {refused}"
    return RAISED, f"{spent}; finance review {REVIEW_TASK} raised"


def _reviewed_level(session, record, now: CostSummary) -> int:
    """The overrun level the last review finished saw: what was spent by the time it was done,
    against the budget now (approved at initiation plus what reviews added). 0 without one. A
    level reached while no review could be raised (the instance suspended, no budget approved
    yet) was seen by none: the next cost raises it. It was compared with the level before the
    cost instead, and such an overrun was never reviewed. Costs and reviews take the instance's
    row lock, so their times are in the order they happened; a cost stamped with the very instant
    of a review (a clock that stands still) counts as after it: one review more, never one less."""
    done = session.scalar(
        select(func.max(EventRecord.at)).where(
            EventRecord.instance_id == record.id,
            EventRecord.type.in_(("task_completed", "task_skipped")),  # an admin's skip finished it too
            EventRecord.element_id == REVIEW_TASK,
        )
    )
    if done is None:
        return 0
    spent = session.scalar(
        select(func.coalesce(func.sum(CostRecord.amount), 0)).where(
            CostRecord.instance_id == record.id, CostRecord.recorded_at < done
        )
    )
    return overrun_level(Decimal(spent), now.budget, now.threshold)


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:,.2f}"


@form_data_provider(REVIEW_TASK)
def _review_figures(session, instance_id, clock) -> dict:
    """What the review form shows (`cost_status`): the figures now, not when it was raised."""
    costs = project_costs(session, instance_id)
    percent = None
    if costs.budget:
        percent = f"{(costs.actual - costs.budget) * 100 / costs.budget:.1f}"
    return {
        "cost_status": {
            "approved": _amount(costs.approved),
            "additional": _amount(costs.additional),
            "budget": _amount(costs.budget),
            "actual": _amount(costs.actual),
            "overrun": _amount(costs.overrun),
            "overrun_percent": percent,
            "payments": len(costs.items),
        }
    }


def over_budget_projects(session, threshold=DEFAULT_THRESHOLD) -> list[CostSummary]:
    """Cost summaries of the projects whose spending reached their budget × (1 + threshold),
    newest first."""
    ids = list(session.scalars(select(CostRecord.instance_id).distinct()))
    if not ids:
        return []
    records = session.scalars(
        select(InstanceRecord)
        .options(defer(InstanceRecord.state))
        .where(InstanceRecord.id.in_(ids))
        .order_by(InstanceRecord.id.desc())
    )
    found = submissions(session, ids, COST_STEPS)
    rows = {}
    for row in session.scalars(
        select(CostRecord).where(CostRecord.instance_id.in_(ids)).order_by(CostRecord.id)
    ):
        rows.setdefault(row.instance_id, []).append(row)
    summaries = [_summary(r, found.get(r.id, {}), rows.get(r.id, []), threshold) for r in records]
    return [s for s in summaries if s.over_budget]
