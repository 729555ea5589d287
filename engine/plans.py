"""Annual upgrade plans (年度升級改造計劃, R2.1.1): IT places pool requirements in a year's plan.

A plan is versioned per year. Version 1 starts as a draft; IT places requirements from the pool
in it (target quarter, planned budget) and publishes it. A published version is read-only: any
change is refused (`PlanReadOnly`, 409). To change a published plan IT revises it: a new draft
version of the same year with the items copied, published in its turn. The *current* plan of a
year is its latest published version; `initiation_application` shows whether the requirement is
in the current plan of the clock's year (`plan_status`, a form data provider).

Actual cost: what finance recorded as spent on the project (`project_costs`, issue 6's
`engine.costs`), summed; a project with nothing recorded yet has no actual cost. The contracted
amount (`sign_contract.amount`) is shown beside it.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from .clock import system_clock
from .errors import EngineError, NotAllowed
from .formdata import form_data_provider
from .locking import write_lock
from .models import CostRecord, PlanItemRecord, PlanRecord
from .pool import pool_entries

QUARTERS = ("Q1", "Q2", "Q3", "Q4")
PLAN_EDITORS = {"it"}
PLAN_VIEWERS = {"it", "management"}


class PlanNotFound(EngineError):
    """No plan with that id."""


class PlanReadOnly(EngineError):
    """The plan version is published; it cannot change (revise it to get a new draft)."""


class PlanConflict(EngineError):
    """The operation does not fit the plans as they stand (a year's plan exists, a draft exists)."""


class PlanError(EngineError):
    """The request cannot be placed in a plan (not in the pool, bad quarter or budget)."""


@dataclass
class PlanItemInfo:
    instance_id: int
    quarter: str
    planned_budget: Decimal
    title: str | None = None
    system: str | None = None
    department: str | None = None
    priority: str | None = None
    estimated_cost: float | None = None
    actual_cost: Decimal | None = None  # recorded spending (project_costs), once any
    contract_amount: float | None = None  # sign_contract.amount, once signed
    phase: str | None = None
    status: str | None = None
    waiting_at: list = field(default_factory=list)


@dataclass
class PlanInfo:
    id: int
    year: int
    version: int
    status: str  # draft | published
    budget_ceiling: Decimal
    owner: str
    revision_of_id: int | None
    created_by: str
    created_at: datetime
    published_by: str | None
    published_at: datetime | None
    is_current: bool = False  # the latest published version of its year
    items: list = field(default_factory=list)
    planned_total: Decimal = Decimal(0)
    actual_total: Decimal = Decimal(0)

    @property
    def label(self) -> str:
        return f"{self.year} v{self.version}"


def _require(actor, groups, what):
    if not (actor.is_admin or actor.groups & groups):
        raise NotAllowed(f"{actor.username} may not {what}")


def _plan(session, plan_id, lock=False) -> PlanRecord:
    query = select(PlanRecord).where(PlanRecord.id == plan_id)
    if lock:  # held until the transaction ends: the status checked stays true (engine/locking.py)
        write_lock(session)
        query = query.with_for_update().execution_options(populate_existing=True)
    record = session.scalar(query)
    if record is None:
        raise PlanNotFound(f"沒有計劃 {plan_id} / no plan {plan_id}")
    return record


def _editable(session, plan_id) -> PlanRecord:
    record = _plan(session, plan_id, lock=True)
    if record.status == "published":
        raise PlanReadOnly(
            f"計劃 {record.year} v{record.version} 已發佈，不可修改，請建立修訂版 / "
            f"plan {record.year} v{record.version} is published; revise it to change it"
        )
    return record


def _current_ids(session) -> set[int]:
    latest = (
        select(PlanRecord.year, func.max(PlanRecord.version).label("version"))
        .where(PlanRecord.status == "published")
        .group_by(PlanRecord.year)
        .subquery()
    )
    query = select(PlanRecord.id).join(
        latest, (PlanRecord.year == latest.c.year) & (PlanRecord.version == latest.c.version)
    )
    return set(session.scalars(query))


def _info(session, record: PlanRecord, with_items=True, current=None) -> PlanInfo:
    current = _current_ids(session) if current is None else current
    info = PlanInfo(
        id=record.id,
        year=record.year,
        version=record.version,
        status=record.status,
        budget_ceiling=record.budget_ceiling,
        owner=record.owner,
        revision_of_id=record.revision_of_id,
        created_by=record.created_by,
        created_at=record.created_at,
        published_by=record.published_by,
        published_at=record.published_at,
        is_current=record.id in current,
        planned_total=sum((i.planned_budget for i in record.items), Decimal(0)),
    )
    if with_items:
        ids = [i.instance_id for i in record.items]
        entries = pool_entries(session, ids) if ids else {}
        spent = _spent(session, ids) if ids else {}
        for item in record.items:
            entry = entries.get(item.instance_id)
            row = PlanItemInfo(item.instance_id, item.quarter, item.planned_budget)
            if entry is not None:
                row.title, row.system, row.department = entry.title, entry.system, entry.department
                row.priority, row.estimated_cost = entry.priority, entry.estimated_cost
                row.contract_amount, row.phase = entry.contract_amount, entry.phase
                row.status, row.waiting_at = entry.status, entry.waiting_at
            row.actual_cost = spent.get(item.instance_id)
            info.items.append(row)
        info.items.sort(key=lambda i: (i.quarter, i.instance_id))
        info.actual_total = sum((i.actual_cost or Decimal(0) for i in info.items), Decimal(0))
    return info


def _spent(session, instance_ids) -> dict:
    query = (
        select(CostRecord.instance_id, func.sum(CostRecord.amount))
        .where(CostRecord.instance_id.in_(instance_ids))
        .group_by(CostRecord.instance_id)
    )
    return {instance_id: Decimal(str(total)) for instance_id, total in session.execute(query)}


MONEY_LIMIT = Decimal("1000000000000")


def _money(value, what) -> Decimal:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise PlanError(f"{what} 須為數字 / {what} must be a number") from None
    if not amount.is_finite() or amount < 0:
        raise PlanError(f"{what} 不能為負數 / {what} must be zero or more")
    if amount != amount.quantize(Decimal("0.01")):  # as costs refuse it: never rounded silently
        raise PlanError(f"{what} 最多兩位小數 / {what} takes at most two decimal places")
    amount = amount.quantize(Decimal("0.01"))
    if amount >= MONEY_LIMIT:  # what the columns hold: Numeric(14, 2)
        raise PlanError(f"{what} 須小於 {MONEY_LIMIT:,} / {what} must be less than {MONEY_LIMIT:,}")
    return amount


# -- reading ---------------------------------------------------------------------------------------


def list_plans(session, actor, *, year=None) -> list[PlanInfo]:
    """Every plan version (without items), newest year and version first. Returns [PlanInfo].

    Raises NotAllowed unless the actor is in IT or management (or an admin).
    """
    _require(actor, PLAN_VIEWERS, "see the annual plans")
    query = select(PlanRecord)
    if year is not None:
        query = query.where(PlanRecord.year == year)
    current = _current_ids(session)
    records = session.scalars(query.order_by(PlanRecord.year.desc(), PlanRecord.version.desc()))
    return [_info(session, r, with_items=False, current=current) for r in records]


def get_plan(session, actor, plan_id) -> PlanInfo:
    """One plan version with its items, each with the requirement's phase and planned vs actual
    cost. Returns PlanInfo. Raises NotAllowed, PlanNotFound."""
    _require(actor, PLAN_VIEWERS, "see the annual plans")
    return _info(session, _plan(session, plan_id))


# -- changing ------------------------------------------------------------------------------------


def create_plan(session, actor, *, year, budget_ceiling, owner, clock=system_clock) -> PlanInfo:
    """Start a year's plan: version 1, a draft. Returns PlanInfo.

    Raises NotAllowed (IT only), PlanConflict when the year has a plan already (revise it),
    PlanError for a bad budget or year.
    """
    _require(actor, PLAN_EDITORS, "create annual plans")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise PlanError("年度須在 2000 至 2100 之間 / year must be between 2000 and 2100")
    if not (owner or "").strip():
        raise PlanError("計劃須有負責人 / a plan needs an owner")
    if session.scalar(select(PlanRecord.id).where(PlanRecord.year == year).limit(1)) is not None:
        raise PlanConflict(
            f"{year} 年已有計劃，請修訂其已發佈版本 / {year} has a plan already; revise its published version instead"
        )
    record = PlanRecord(
        year=year,
        version=1,
        status="draft",
        budget_ceiling=_money(budget_ceiling, "budget_ceiling"),
        owner=owner.strip(),
        created_by=actor.username,
        created_at=clock(),
    )
    session.add(record)
    session.flush()
    return _info(session, record)


def place_item(session, actor, plan_id, *, instance_id, quarter, planned_budget) -> PlanInfo:
    """Place a pool requirement in a draft plan (again: change its quarter and budget).
    Returns PlanInfo.

    Raises NotAllowed, PlanNotFound, PlanReadOnly (published), PlanError (not in the pool —
    not accepted at preliminary review — or a bad quarter or budget).
    """
    _require(actor, PLAN_EDITORS, "change annual plans")
    record = _editable(session, plan_id)
    if quarter not in QUARTERS:
        raise PlanError(f"季度須為 {'、'.join(QUARTERS)} / quarter must be one of {', '.join(QUARTERS)}")
    budget = _money(planned_budget, "planned_budget")
    if instance_id not in pool_entries(session, [instance_id]):
        raise PlanError(
            f"需求 #{instance_id} 不在需求管理庫中 / request {instance_id} is not in the requirement pool"
        )
    item = next((i for i in record.items if i.instance_id == instance_id), None)
    if item is None:
        record.items.append(PlanItemRecord(instance_id=instance_id, quarter=quarter, planned_budget=budget))
    else:
        item.quarter, item.planned_budget = quarter, budget
    session.flush()
    return _info(session, record)


def remove_item(session, actor, plan_id, instance_id) -> PlanInfo:
    """Take a requirement out of a draft plan. Returns PlanInfo.

    Raises NotAllowed, PlanNotFound (no such plan, or the requirement is not in it), PlanReadOnly.
    """
    _require(actor, PLAN_EDITORS, "change annual plans")
    record = _editable(session, plan_id)
    item = next((i for i in record.items if i.instance_id == instance_id), None)
    if item is None:
        raise PlanNotFound(f"需求 #{instance_id} 不在此計劃中 / request {instance_id} is not in this plan")
    record.items.remove(item)
    session.flush()
    return _info(session, record)


def publish_plan(session, actor, plan_id, clock=system_clock) -> PlanInfo:
    """Publish a draft plan; from now on it is read-only and the year's current plan.
    Returns PlanInfo.

    Raises NotAllowed, PlanNotFound, PlanReadOnly (published already), PlanConflict when the
    planned budgets exceed the plan's budget ceiling.
    """
    _require(actor, PLAN_EDITORS, "publish annual plans")
    record = _editable(session, plan_id)
    planned = sum((i.planned_budget for i in record.items), Decimal(0))
    if planned > record.budget_ceiling:
        raise PlanConflict(
            f"計劃預算合計 {planned} 超出預算上限 {record.budget_ceiling} / "
            f"the planned budgets ({planned}) exceed the budget ceiling ({record.budget_ceiling})"
        )
    record.status = "published"
    record.published_by = actor.username
    record.published_at = clock()
    session.flush()
    return _info(session, record)


def revise_plan(session, actor, plan_id, clock=system_clock) -> PlanInfo:
    """A new draft version of a published plan, its items copied. Returns the new PlanInfo.

    Raises NotAllowed, PlanNotFound, PlanConflict unless `plan_id` is the latest version of its
    year and published (a draft to work on exists otherwise).
    """
    _require(actor, PLAN_EDITORS, "revise annual plans")
    record = _plan(session, plan_id, lock=True)
    latest = session.scalar(select(func.max(PlanRecord.version)).where(PlanRecord.year == record.year))
    if record.status != "published" or record.version != latest:
        raise PlanConflict(
            f"只能修訂 {record.year} 年計劃最新的已發佈版本 / "
            f"only the latest published version of {record.year}'s plan can be revised"
        )
    revision = PlanRecord(
        year=record.year,
        version=record.version + 1,
        status="draft",
        budget_ceiling=record.budget_ceiling,
        owner=record.owner,
        revision_of_id=record.id,
        created_by=actor.username,
        created_at=clock(),
        items=[
            PlanItemRecord(instance_id=i.instance_id, quarter=i.quarter, planned_budget=i.planned_budget)
            for i in record.items
        ],
    )
    session.add(revision)
    session.flush()
    return _info(session, revision)


# -- the procedure's view of the plan ---------------------------------------------------------------


@form_data_provider("initiation_application")
def plan_status(session, instance_id, clock=system_clock) -> dict:
    """`{"plan_status": {"in_plan", "plan", "quarter"}}`: whether the requirement is in the current
    (latest published) plan of the clock's year. `plan` names that plan ("2026 v2") or is None."""
    year = clock().year
    record = session.scalar(
        select(PlanRecord)
        .where(PlanRecord.year == year, PlanRecord.status == "published")
        .order_by(PlanRecord.version.desc())
        .limit(1)
    )
    item = next((i for i in record.items if i.instance_id == instance_id), None) if record else None
    return {
        "plan_status": {
            "in_plan": item is not None,
            "plan": f"{record.year} v{record.version}" if record else None,
            "quarter": item.quarter if item else None,
        }
    }
