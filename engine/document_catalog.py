"""The regulation's document catalogue (R4.1, R4.3.4): categories, who may read each, and which
steps' data each named document is made from. Plain data; `engine.documents` stores versions."""

from dataclasses import dataclass

from .errors import NotAllowed
from .tasks import Actor


@dataclass(frozen=True)
class Category:
    id: str
    clause: str
    name_zh: str
    name_en: str
    retention_days: int  # counted from the end of the project (R4.3.5)


# Retention per the company's archive rules (R4.3.5 names none): contracts, initiation and
# acceptance records 10 years as accounting-relevant records; the rest 5 years, tests 3.
CATEGORIES = (
    Category("requirement", "R4.1.1", "需求文檔", "Requirement documents", 5 * 365),
    Category("project", "R4.1.2", "項目文檔", "Project documents", 10 * 365),
    Category("test", "R4.1.3", "測試文檔", "Test documents", 3 * 365),
    Category("acceptance", "R4.1.4", "驗收文檔", "Acceptance documents", 10 * 365),
    Category("operation", "R4.1.5", "運維文檔", "Operation documents", 5 * 365),
)
CATEGORY = {c.id: c for c in CATEGORIES}

# Who may see and download which categories (R4.3.4: "the documents their duties allow").
# IT keeps the library (R2.1.4) and management approves the projects: everything. Business
# raises requirements, accepts and runs the system (R2.2). Finance audits budgets and costs
# (R2.3): project documents (initiation, approval, contract). The vendor writes plans, tests and
# manuals and signs the contract (R2.4). QA joins the joint test and acceptance (R3.5.2).
# Process owners edit diagrams, not projects: none. Administrators read everything.
READERS = {
    "it": frozenset(CATEGORY),
    "management": frozenset(CATEGORY),
    "business": frozenset({"requirement", "acceptance", "operation"}),
    "finance": frozenset({"project"}),
    "vendor": frozenset({"project", "test", "operation"}),
    "qa": frozenset({"test", "acceptance"}),
    "process_owner": frozenset(),
}


@dataclass(frozen=True)
class Spec:
    id: str
    title: str  # the regulation's name, canonical in Chinese
    category: str
    clause: str  # where the procedure asks for it
    sources: tuple  # data keys the content is made of; the first one must be present
    authors: tuple  # steps whose completer wrote it (latest wins)
    reviewers: tuple = ()  # steps whose completer reviewed/approved it
    signoffs: tuple = ()  # steps whose sign-off is part of the document (who, when)


SPECS = (
    Spec(
        "requirement_request",
        "《軟件升級改造需求申請表》",
        "requirement",
        "R3.1.1",
        ("requirement_request",),
        ("requirement_request", "revise_request"),
        ("preliminary_review",),
    ),
    Spec(
        "analysis_report",
        "《軟件升級改造需求分析報告》",
        "requirement",
        "R3.2.4",
        # The risks as responded to before the report (not the live `risks`, which each
        # reassessment during implementation changes: the report is not rewritten by them).
        ("analysis_report", "requirement_analysis", "risk_response"),
        ("analysis_report",),
    ),
    Spec(
        "initiation_application",
        "《軟件升級改造項目立項申請表》",
        "project",
        "R3.3.1",
        ("initiation_application",),
        ("initiation_application",),
        ("budget_audit", "initiation_review"),
    ),
    Spec(
        "initiation_approval",
        "《軟件升級改造項目立項批復》",
        "project",
        "R3.3.3",
        ("initiation_approval", "budget_audit", "initiation_review"),
        ("initiation_review",),
        ("initiation_review",),
        ("budget_audit", "initiation_review"),
    ),
    Spec("contract", "《軟件升級改造項目合同》", "project", "R3.4.1", ("sign_contract",), ("sign_contract",)),
    Spec(
        "implementation_plan",
        "《軟件升級改造項目實施計劃》",
        "project",
        "R3.4.2",
        ("implementation_plan",),
        ("implementation_plan",),
        ("plan_review",),
    ),
    Spec(
        "test_report",
        "《軟件升級改造測試報告》",
        "test",
        "R3.5.1",
        ("self_test", "joint_test"),
        ("self_test",),
        ("joint_test",),
    ),
    Spec(
        "acceptance_report",
        "《軟件升級改造項目驗收報告》",
        "acceptance",
        "R3.5.5",
        ("acceptance_report", "acceptance", "business_acceptance"),
        ("acceptance",),
        ("acceptance", "business_acceptance"),
        ("acceptance", "business_acceptance"),
    ),
    Spec(
        "golive_plan",
        "上線計劃及應急預案",
        "operation",
        "R3.6.1",
        ("golive_plan",),
        ("golive_plan",),
    ),
)
SPEC = {s.id: s for s in SPECS}


def may_read(actor: Actor, category: str) -> bool:
    """Whether the actor's groups (or admin) allow reading documents of `category`."""
    return actor.is_admin or any(category in READERS.get(g, ()) for g in actor.groups)


# Data key -> the categories of the documents made from it or written at it. A step's data is
# the content of those documents (a revised request is the request again), so it is shown to
# whoever may read one of them (R4.3.4), and to nobody else.
_KEY_CATEGORIES: dict = {}
for _spec in SPECS:
    for _key in (*_spec.sources, *_spec.authors):
        _KEY_CATEGORIES.setdefault(_key, set()).add(_spec.category)


def hidden_keys(actor: Actor) -> frozenset:
    """The process data keys `actor` may not read: those every document made from them is of a
    category the actor's groups do not read, and the steps of a register they may not read (the
    risk assessments, the training and its assessments, the overrun reviews). Other keys are not
    hidden."""
    documents = {
        key for key, categories in _KEY_CATEGORIES.items() if not any(may_read(actor, c) for c in categories)
    }
    registers = {
        key
        for register, keys in REGISTER_KEYS.items()
        if not may_read_register(actor, register)
        for key in keys
    }
    return frozenset(documents | registers)


def readable(actor: Actor, data: dict | None, shown=frozenset()) -> dict | None:
    """`data` without what `actor` may not read (a new dict; None stays None); the keys in
    `shown` (what a task's form puts before its user, `Form.shows`) are kept."""
    if data is None:
        return None
    hidden = hidden_keys(actor) - shown
    return {key: value for key, value in data.items() if key not in hidden} if hidden else data


# A project's registers are read by whoever reads the documents they go with (R4.3.4): risks with
# the analysis and the implementation (R5), training with going live and acceptance (R6), costs
# with the project documents (R2.3.2).
REGISTERS = {
    "risks": ("requirement", "project"),
    "training": ("operation", "acceptance"),
    "costs": ("project",),
}


# The steps whose data makes up each register (their submissions are the register's entries).
REGISTER_KEYS = {
    "risks": ("risks", "risk_identification", "risk_response", "risk_reassessment", "reassessment_response"),
    "training": ("training", "training_assessment"),
    "costs": ("cost_overrun_review",),
}


def may_read_register(actor: Actor, register: str) -> bool:
    """Whether the actor's groups (or admin) may read a project's `register` (REGISTERS)."""
    return any(may_read(actor, category) for category in REGISTERS[register])


def require_register(actor: Actor | None, register: str):
    """Raise NotAllowed unless `actor` (None: the engine itself) may read `register`."""
    if actor is not None and not may_read_register(actor, register):
        raise NotAllowed(f"{actor.username} may not read the project's {register}")
