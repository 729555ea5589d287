"""The risk register (R5): risks as identified and reassessed, rated by the deployed risk_matrix.

Priorities come from the `risk_matrix` decision of the instance's own version, run by
SpiffWorkflow's DMN engine with the engine's sandboxed script engine: the same table, the same
cells, as `assess_risks` in the diagram. Each submission at a risk step is one rating in the
history; the latest one is the register.
"""

from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import defer

from .clock import aware_utc, system_clock
from .deployments import definition_of
from .document_catalog import require_register
from .errors import FormValidationError, InstanceStateError, NotAllowed
from .groups import GROUP_IDS, PROCESS_OWNER
from .models import InstanceRecord, RaisedRiskRecord
from .records import require_project, submissions
from .sandbox import ScriptEngine
from .tasks import Actor

DECISION = "risk_matrix"
ASSESSORS = ("assess_risks", "reassess_risks")  # business rule tasks that run risk_matrix
LIKELIHOODS = ("high", "medium", "low")
IMPACTS = ("severe", "major", "general", "minor")
CATEGORIES = ("technical", "business", "security", "schedule", "cost")  # R5.1.1
DEPARTMENTS = GROUP_IDS - {PROCESS_OWNER}
RAISED = "raised"  # the history entry of a risk raised outside the risk steps
# The steps where risks are entered or rated, in the procedure's order.
RISK_STEPS = ("risk_identification", "risk_response", "risk_reassessment", "reassessment_response")


@dataclass
class Rating:
    """One submission of the risk list: who rated, when, at which step."""

    element_id: str
    actor: str | None
    at: object
    risks: list


@dataclass
class RiskRegister:
    """A project's risks now (latest rating), how they were rated over time, and the matrix."""

    instance_id: int
    title: str | None
    risks: list = field(default_factory=list)
    history: list = field(default_factory=list)
    matrix: dict = field(default_factory=dict)  # (likelihood, impact) -> open risks in the cell

    @property
    def open_high(self) -> list:
        return [r for r in self.risks if r.get("priority") == "high" and r.get("status") != "closed"]

    @property
    def high_without_plan(self) -> list:
        return [r for r in self.open_high if not str(r.get("measures") or "").strip()]


def _decision(definition):
    # The DMN engine of the diagram's own rating step (`assess_risks`, or `reassess_risks`).
    for _, spec in definition.all_specs():
        for task_spec in spec.task_specs.values():
            engine = getattr(task_spec, "dmnEngine", None)
            if engine is not None and task_spec.bpmn_id in ASSESSORS:
                return engine
    return None


def rate_risk(definition, likelihood, impact, clock=system_clock) -> str | None:
    """The priority the definition's risk_matrix gives a likelihood and an impact (None when the
    definition has no risk matrix or no rule matches)."""
    engine = _decision(definition)
    if engine is None:
        return None
    task = SimpleNamespace(
        data={"risk": {"likelihood": likelihood, "impact": impact}},
        workflow=SimpleNamespace(script_engine=ScriptEngine(clock)),
    )
    return (engine.result(task).get("risk") or {}).get("priority")


def _rated(definition, risks, clock) -> list:
    rated = []
    for risk in risks or []:
        risk = dict(risk)
        risk["priority"] = rate_risk(definition, risk.get("likelihood"), risk.get("impact"), clock)
        rated.append(risk)
    return rated


def _raised_row(row) -> dict:
    return {
        "category": row.category,
        "description": row.description,
        "likelihood": row.likelihood,
        "impact": row.impact,
        "priority": row.priority,
        "measures": row.measures,
        "status": "open",
        "raised_by": row.raised_by,
    }


def _register(record, found, raised, clock) -> RiskRegister:
    """Ratings at the risk steps and risks raised in between, in the order they happened. The
    register is the latest step rating plus every raised risk: the reassessment form lists the
    process's own risks only, so a raised risk stays until the project ends."""
    definition = definition_of(record.process_version)
    ratings = [(row.at, "step", row) for element in RISK_STEPS for row in found.get(element, [])]
    ratings += [(row.raised_at, "raised", row) for row in raised]
    register = RiskRegister(record.id, record.title)
    rated_list, extra = [], []
    for _, kind, row in sorted(ratings, key=lambda item: (aware_utc(item[0]), item[1] == "raised")):
        if kind == "step":
            rated_list = _rated(definition, (row.data or {}).get("risks"), clock)
            register.history.append(Rating(row.element_id, row.actor, row.at, rated_list))
        else:
            extra.append(_raised_row(row))
            register.history.append(Rating(RAISED, row.raised_by, row.raised_at, [_raised_row(row)]))
    register.risks = rated_list + extra
    register.matrix = {(lk, im): 0 for lk in LIKELIHOODS for im in IMPACTS}
    for risk in register.risks:
        cell = (risk.get("likelihood"), risk.get("impact"))
        if cell in register.matrix and risk.get("status") != "closed":
            register.matrix[cell] += 1
    return register


def _raised(session, ids) -> dict:
    found = {}
    rows = session.scalars(
        select(RaisedRiskRecord)
        .where(RaisedRiskRecord.instance_id.in_(list(ids)))
        .order_by(RaisedRiskRecord.id)
    )
    for row in rows:
        found.setdefault(row.instance_id, []).append(row)
    return found


def _record(session, instance_id) -> InstanceRecord:
    from .workflows import InstanceNotFound

    record = session.get(InstanceRecord, instance_id)
    if record is None:
        raise InstanceNotFound(f"no instance {instance_id}")
    return record


def risk_register(session, instance_id, clock=system_clock, actor: Actor | None = None) -> RiskRegister:
    """A project's risk register. Raises InstanceNotFound, or NotAllowed when `actor` is given
    and may not read it (`document_catalog.REGISTERS`)."""
    require_register(actor, "risks")
    record = _record(session, instance_id)
    found = submissions(session, [instance_id], RISK_STEPS).get(instance_id, {})
    return _register(record, found, _raised(session, [instance_id]).get(instance_id, []), clock)


def raise_risk(session, instance_id, risk: dict, actor: Actor, clock=system_clock) -> RiskRegister:
    """Raise a new risk in a running project at any time (R5.4.3), rated by the project's own
    risk_matrix; a high risk needs its response measures at once (R5.3.1). Returns the register.

    Raises InstanceNotFound, NotAllowed (not a member of a department, or one that may not read
    the register), InstanceStateError (the project is not running, or the instance is no
    project), FormValidationError (naming each bad field; nothing stored).
    """
    record = _record(session, instance_id)
    if not (actor.groups & DEPARTMENTS):
        raise NotAllowed(f"{actor.username} is in no department and may not raise risks")
    require_register(actor, "risks")  # a risk joins the register, which the answer shows
    require_project(record)
    if record.status != "running":
        raise InstanceStateError(f"instance {instance_id} is {record.status}: risks are raised while it runs")
    errors = {}
    for key, allowed in (("category", CATEGORIES), ("likelihood", LIKELIHOODS), ("impact", IMPACTS)):
        if risk.get(key) not in allowed:
            errors[key] = [f"須為以下之一：{', '.join(allowed)} / must be one of {', '.join(allowed)}"]
    description = str(risk.get("description") or "").strip()
    if not description or len(description) > 2000:
        errors["description"] = ["必填，最多 2000 字 / required, at most 2000 characters"]
    priority = (
        None
        if errors
        else rate_risk(definition_of(record.process_version), risk["likelihood"], risk["impact"], clock)
    )
    measures = str(risk.get("measures") or "").strip()
    if len(measures) > 2000:
        errors["measures"] = ["最多 2000 字 / at most 2000 characters"]
    elif priority == "high" and not measures:
        errors["measures"] = [
            "高風險須填寫應對措施（R5.3.1） / a high risk needs its response measures (R5.3.1)"
        ]
    if errors:
        raise FormValidationError(errors)
    session.add(
        RaisedRiskRecord(
            instance_id=instance_id,
            category=risk["category"],
            description=description,
            likelihood=risk["likelihood"],
            impact=risk["impact"],
            priority=priority,
            measures=measures or None,
            raised_by=actor.username,
            raised_at=clock(),
        )
    )
    session.flush()
    return risk_register(session, instance_id, clock)


def open_high_risks(session, clock=system_clock) -> list[RiskRegister]:
    """Registers of running projects that have open high risks, newest project first."""
    records = list(
        session.scalars(
            select(InstanceRecord)
            .options(defer(InstanceRecord.state))  # the log has the ratings: no state is read
            .where(InstanceRecord.status == "running")
            .order_by(InstanceRecord.id.desc())
        )
    )
    ids = [r.id for r in records]
    found = submissions(session, ids, RISK_STEPS)
    raised = _raised(session, ids)
    registers = (
        _register(r, found.get(r.id, {}), raised.get(r.id, []), clock)
        for r in records
        if r.id in found or r.id in raised
    )
    return [register for register in registers if register.open_high]
