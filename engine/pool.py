"""The requirement pool (需求管理庫, R2.1.1, R3.1.2): the requests IT accepted at preliminary review.

The pool is derived on read from the instance rows and the event log; there is no projection
table. Every submission is logged with its data under its element id (`task_completed`,
`started`), so two queries give everything the pool shows: the request (or its latest revision),
the latest preliminary review, the requirement analysis's costs, the report's priority, the
contract's amount, and — from the instance row — where the instance stands. Steps undone by an
admin rewind and variables an admin edited are applied as the event log records them.

Why not a projection kept in `workflows._save`, measured with bench/pool.py on SQLite: deriving
the pool of 500 instances takes 40-150 ms (a projection's read: ~5 ms); of 5000, ~1.1 s (~50
ms). At the size a company's upgrade portfolio reaches (hundreds of requests) the derived view
is fast enough, and it cannot disagree with the log after an admin's rewind, replay or data
edit, nor does it need a backfill for the instances that already exist. A projection would add a
write to every step of every instance to save ~0.1 s on a page a few people open. Should the
pool grow past a few thousand requests, `_fold` is what a projection updated from `_save` would
run, per instance.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select

from .document_catalog import hidden_keys
from .errors import NotAllowed
from .events import UNDOABLE
from .models import EventRecord, InstanceRecord

POOL_PROCESS = "software_upgrade"
REQUEST = "requirement_request"
TRACKED = (REQUEST, "revise_request", "preliminary_review", "requirement_analysis", "analysis_report")
# sign_contract runs in the called implementation process; its events are logged on the instance.
TRACKED_ALL = (*TRACKED, "sign_contract")
COSTS = ("cost_licences", "cost_implementation", "cost_training")
PRIORITY_RANK = {"high": 0, "medium": 1, "low": 2}

# The regulation's phases, in order; an instance is in the phase of the steps it waits at.
PHASES = (
    ("request", {"requirement_request", "preliminary_review", "revise_request"}),
    ("analysis", {"requirement_analysis", "risk_identification", "risk_response", "analysis_report"}),
    ("initiation", {"initiation_application", "budget_audit", "initiation_review"}),
    (
        "implementation",
        {
            "sign_contract",
            "implementation_plan",
            "plan_review",
            "assign_business_testers",
            "implement",
            "risk_reassessment",
            "reassessment_response",
            "change_review",
            "change_approval",
        },
    ),
    ("testing", {"self_test", "joint_test", "rectify", "acceptance", "business_acceptance"}),
    ("training", {"training", "training_assessment"}),
    (
        "operation",
        {
            "golive_plan",
            "golive",
            "inspection",
            "resolve_support_request",
            "confirm_support_resolution",
            "project_closure",
        },
    ),
)
PHASE_NAMES = tuple(name for name, _ in PHASES)
SORTS = ("accepted_at", "requested_at", "priority", "estimated_cost", "title", "department", "system", "id")
POOL_VIEWERS = {"it", "management"}  # everyone's requests; `business` sees its own
# The figures an entry takes from a step's data: left empty for a reader who may not read that
# step's data (R4.3.4; business reads the requirement documents, not the contract).
_SOURCES = {
    "priority": "analysis_report",
    "estimated_cost": "requirement_analysis",
    "contract_amount": "sign_contract",
}


@dataclass
class PoolEntry:
    """One accepted requirement and where its instance stands."""

    instance_id: int
    title: str | None
    system: str | None
    department: str | None
    initiator: str
    requested_at: datetime
    accepted_at: datetime | None
    accepted_by: str | None
    priority: str | None  # analysis_report.priority, once written
    estimated_cost: float | None  # sum of requirement_analysis's costs, once analysed
    contract_amount: float | None  # sign_contract.amount, once signed
    status: str
    waiting_at: list = field(default_factory=list)
    phase: str | None = None  # one of PHASE_NAMES, "closed", "terminated", or None
    ended_at: datetime | None = None


@dataclass
class ReviewOutcome:
    """A request whose latest preliminary review returned or rejected it, with the reason."""

    instance_id: int
    title: str | None
    system: str | None
    department: str | None
    initiator: str
    requested_at: datetime
    decision: str  # "return" or "reject"
    reason: str | None
    decided_by: str | None
    decided_at: datetime
    status: str
    waiting_at: list = field(default_factory=list)


@dataclass
class _History:
    values: dict = field(default_factory=dict)  # element id -> latest submitted data
    review_actor: str | None = None
    review_at: datetime | None = None


def phase_of(status: str, waiting_at: list) -> str | None:
    """The regulation's phase an instance is in: the latest phase among the steps it waits at."""
    if status == "completed":
        return "closed"
    if status == "terminated":
        return "terminated"
    found = [index for index, (_, steps) in enumerate(PHASES) if steps & set(waiting_at)]
    return PHASES[max(found)][0] if found else None


def _undone(events) -> set[int]:
    rewinds = [e for e in events if e.type == "rewound" and (e.data or {}).get("from_seq")]
    return {
        e.seq for e in events for r in rewinds if e.type in UNDOABLE and r.data["from_seq"] <= e.seq < r.seq
    }


def _fold(events) -> _History:
    history = _History()
    undone = _undone(events)
    for event in events:
        if event.seq in undone:
            continue
        data = event.data or {}
        if event.type == "task_skipped":
            data = data.get("data") or {}
        if event.type in ("started", "task_completed", "task_skipped") and event.element_id in TRACKED_ALL:
            element = REQUEST if event.element_id == "revise_request" else event.element_id
            history.values[element] = dict(data)
            if element == "preliminary_review":
                history.review_actor, history.review_at = event.actor, event.at
        elif event.type == "data_edited":
            for key, change in (data.get("changes") or {}).items():
                if key in TRACKED_ALL and isinstance(change.get("new"), dict):
                    history.values[key] = dict(change["new"])
    return history


def _histories(session, instance_ids=None) -> list[tuple]:
    # Plain columns, not ORM rows: an instance row carries its whole serialized state, and
    # loading it for every instance made the pool ~30x slower (bench/pool.py).
    instances = select(
        InstanceRecord.id,
        InstanceRecord.title,
        InstanceRecord.initiator,
        InstanceRecord.status,
        InstanceRecord.waiting_at,
        InstanceRecord.phase,
        InstanceRecord.created_at,
        InstanceRecord.ended_at,
    ).where(InstanceRecord.process_id == POOL_PROCESS)
    events = (
        select(
            EventRecord.instance_id,
            EventRecord.seq,
            EventRecord.type,
            EventRecord.element_id,
            EventRecord.actor,
            EventRecord.at,
            EventRecord.data,
        )
        .join(InstanceRecord, InstanceRecord.id == EventRecord.instance_id)
        .where(
            InstanceRecord.process_id == POOL_PROCESS,
            EventRecord.element_id.in_(TRACKED_ALL) | EventRecord.type.in_(("rewound", "data_edited")),
        )
    )
    if instance_ids is not None:
        instances = instances.where(InstanceRecord.id.in_(list(instance_ids)))
        events = events.where(EventRecord.instance_id.in_(list(instance_ids)))
    records = list(session.execute(instances.order_by(InstanceRecord.id)))
    found: dict[int, list] = {r.id: [] for r in records}
    for row in session.execute(events.order_by(EventRecord.seq)):
        found[row.instance_id].append(row)
    return [(record, _fold(found[record.id])) for record in records]


def _cost(analysis: dict) -> float | None:
    numbers = [analysis.get(key) for key in COSTS if isinstance(analysis.get(key), int | float)]
    return float(sum(numbers)) if numbers else None


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _waiting(record) -> list:
    return record.waiting_at.split(",") if record.waiting_at else []


def _entry(record, history: _History) -> PoolEntry:
    request = history.values.get(REQUEST, {})
    return PoolEntry(
        instance_id=record.id,
        title=request.get("title") or record.title,
        system=request.get("system"),
        department=request.get("department"),
        initiator=record.initiator,
        requested_at=record.created_at,
        accepted_at=history.review_at,
        accepted_by=history.review_actor,
        priority=history.values.get("analysis_report", {}).get("priority"),
        estimated_cost=_cost(history.values.get("requirement_analysis", {})),
        contract_amount=_number(history.values.get("sign_contract", {}).get("amount")),
        status=record.status,
        waiting_at=_waiting(record),
        phase=phase_of(record.status, _waiting(record)) or record.phase,  # waiting for a timer: as it was
        ended_at=record.ended_at,
    )


def _decision(history: _History):
    return history.values.get("preliminary_review", {}).get("decision")


def pool_entries(session, instance_ids=None) -> dict[int, PoolEntry]:
    """Instance id -> PoolEntry of every accepted requirement (optionally only of `instance_ids`).

    No permission check: for other services (plans) that have checked their caller already.
    """
    return {
        record.id: _entry(record, history)
        for record, history in _histories(session, instance_ids)
        if _decision(history) == "accept"
    }


def may_see_pool(actor) -> bool:
    """True when the actor may open the pool (IT, management, business — who sees their own)."""
    return actor.is_admin or bool(actor.groups & (POOL_VIEWERS | {"business"}))


def _matches(entry: PoolEntry, filters: dict) -> bool:
    for key in ("system", "priority", "phase", "initiator"):
        if filters.get(key) and getattr(entry, key) != filters[key]:
            return False
    if filters.get("department") and filters["department"].lower() not in (entry.department or "").lower():
        return False
    text = (filters.get("q") or "").strip().lower()
    if text.lstrip("#").isdigit():  # a request number ("12" or "#12") finds that request
        return entry.instance_id == int(text.lstrip("#"))
    if text:
        haystack = " ".join(
            str(v or "") for v in (entry.title, entry.system, entry.department, entry.initiator)
        )
        return text in haystack.lower()
    return True


def _sort_value(entry: PoolEntry, sort: str):
    if sort == "priority":
        return PRIORITY_RANK.get(entry.priority) if entry.priority else None
    if sort == "id":
        return entry.instance_id
    value = getattr(entry, sort)
    return value.lower() if isinstance(value, str) else value


def _sorted(entries, sort, descending):
    # Empty values (not yet analysed, not yet reported) go last whichever way the list runs.
    filled = [e for e in entries if _sort_value(e, sort) is not None]
    empty = [e for e in entries if _sort_value(e, sort) is None]
    filled.sort(key=lambda e: (_sort_value(e, sort), e.instance_id), reverse=descending)
    return filled + sorted(empty, key=lambda e: e.instance_id)


def requirement_pool(
    session,
    actor,
    *,
    system=None,
    department=None,
    priority=None,
    phase=None,
    initiator=None,
    q=None,
    sort="accepted_at",
    descending=False,
) -> list[PoolEntry]:
    """The accepted requirements the actor may see, filtered and sorted. Returns [PoolEntry].

    IT, management and admins see every requirement; a business user sees the requests they
    raised (another initiator's: none), without the figures of steps they may not read (the
    contract's amount). `department` and `q` (title, system, department, initiator) match parts of text, a
    number in `q` (`12`, `#12`) the request with that number;
    the other filters match exactly. Sorting by `sort` (one of SORTS) puts empty values last.
    Raises NotAllowed for anyone else, ValueError for an unknown sort.
    """
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; one of {', '.join(SORTS)}")
    if not may_see_pool(actor):
        raise NotAllowed(f"{actor.username} may not see the requirement pool")
    own_only = not (actor.is_admin or actor.groups & POOL_VIEWERS)
    if own_only and initiator and initiator != actor.username:
        return []  # someone else's requests: none this reader may see
    filters = {
        "system": system,
        "department": department,
        "priority": priority,
        "phase": phase,
        "initiator": actor.username if own_only else initiator,
        "q": q,
    }
    hidden = hidden_keys(actor)
    unread = {name: None for name, key in _SOURCES.items() if key in hidden}
    entries = [replace(e, **unread) if unread else e for e in pool_entries(session).values()]
    entries = [e for e in entries if _matches(e, filters)]
    return _sorted(entries, sort, descending)


def review_outcomes(session, actor) -> list[ReviewOutcome]:
    """Requests returned for revision or rejected at preliminary review, newest decision first,
    each with the reviewer's comment as its reason. Returns [ReviewOutcome].

    Only IT (who reviews them) and admins see these. Raises NotAllowed.
    """
    if not (actor.is_admin or "it" in actor.groups):
        raise NotAllowed(f"{actor.username} may not see returned and rejected requests")
    outcomes = []
    for record, history in _histories(session):
        decision = _decision(history)
        if decision not in ("return", "reject"):
            continue
        request = history.values.get(REQUEST, {})
        outcomes.append(
            ReviewOutcome(
                instance_id=record.id,
                title=request.get("title") or record.title,
                system=request.get("system"),
                department=request.get("department"),
                initiator=record.initiator,
                requested_at=record.created_at,
                decision=decision,
                reason=history.values["preliminary_review"].get("comment"),
                decided_by=history.review_actor,
                decided_at=history.review_at,
                status=record.status,
                waiting_at=_waiting(record),
            )
        )
    outcomes.sort(key=lambda o: (o.decided_at, o.instance_id), reverse=True)
    return outcomes
