"""R2.3.2 費用超支審核: a recorded cost that takes spending to the approved budget × (1 + threshold)
gives finance a review in the running instance, beside whatever else is open.

The diagram part runs on the harness (the message `cost_overrun`, caught by a top-level
non-interrupting event subprocess); the rule that decides when the engine sends it runs against a
real database (`record_cost` on a SQLite file), because the sums are read from stored costs.
"""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from harness import DEFAULTS, HAPPY_PATH, MISSING, REQUEST
from sqlalchemy.orm import sessionmaker

import engine
from engine import Actor, FormValidationError, MessageRefused, NotAllowed
from engine.costs import MAX_OVERRUN_LEVEL, overrun_level
from engine.models import CostRecord, EventRecord, TaskRecord

FINANCE = Actor("finance_user", frozenset({"finance"}))
REVIEW = {"decision": "corrective_action", "comment": "實施費用超出合同，要求供應商提交整改方案。"}


# -- the diagram ------------------------------------------------------------------------------


def test_an_overrun_gives_finance_a_review_beside_the_work_in_progress(start):
    flow = start()
    flow.reach("implement")
    received = flow.send("cost_overrun", actor=FINANCE)
    assert [(e.kind, e.element_id) for e in received.events] == [
        ("message_received", "cost_overrun_received")
    ]
    assert flow.ready() == ["cost_overrun_review", "implement"]
    review = flow.task("cost_overrun_review")
    assert (review.groups, review.form, review.name) == (("finance",), "cost_overrun_review", "費用超支審核")

    flow.complete("cost_overrun_review", **REVIEW)
    assert flow.ready() == ["implement"]
    assert flow.instance.completed_elements["cost_overrun_reviewed"] == 1
    assert flow.data["cost_overrun_review"] == REVIEW
    flow.complete("implement")
    flow.finish()
    assert flow.status == "completed"


def test_more_budget_needs_its_amount_and_every_review_a_comment(start):
    flow = start()
    flow.reach("sign_contract")
    flow.send("cost_overrun", actor=FINANCE)
    with pytest.raises(FormValidationError) as refused:
        flow.complete("cost_overrun_review", decision="approve_additional_budget", comment="同意追加。")
    assert set(refused.value.errors) == {"additional_budget"}
    with pytest.raises(FormValidationError) as refused:
        flow.complete("cost_overrun_review", decision="corrective_action", comment=MISSING)
    assert set(refused.value.errors) == {"comment"}
    assert flow.ready() == ["cost_overrun_review", "sign_contract"]
    assert "cost_overrun_review" not in flow.data

    flow.complete(
        "cost_overrun_review",
        decision="approve_additional_budget",
        additional_budget=20000,
        comment="同意追加。",
    )
    assert flow.data["cost_overrun_review"]["additional_budget"] == 20000
    assert flow.ready() == ["sign_contract"]


def test_only_finance_sends_and_reviews_an_overrun(start):
    flow = start()
    flow.reach("implement")
    with pytest.raises(NotAllowed):
        flow.send("cost_overrun", actor=Actor("vendor_user", frozenset({"vendor"})))
    assert flow.ready() == ["implement"]
    flow.send("cost_overrun", actor=FINANCE)
    with pytest.raises(NotAllowed):
        flow.complete("cost_overrun_review", actor=Actor("it_user", frozenset({"it"})), **REVIEW)
    assert flow.ready() == ["cost_overrun_review", "implement"]


def test_while_a_review_is_open_no_second_overrun_is_taken(start):
    """Sent by hand through the message API too: one review at a time (`refusedWhile`)."""
    flow = start()
    flow.reach("implement")
    flow.send("cost_overrun", actor=FINANCE)
    with pytest.raises(MessageRefused, match="refused while cost_overrun_review is open"):
        flow.send("cost_overrun", actor=FINANCE)
    assert flow.ready() == ["cost_overrun_review", "implement"]
    flow.complete("cost_overrun_review", **REVIEW)
    flow.send("cost_overrun", actor=FINANCE)  # the next one, once the first is reviewed
    assert flow.ready() == ["cost_overrun_review", "implement"]


def test_an_ended_instance_takes_no_overrun(start):
    flow = start()
    flow.complete("preliminary_review", decision="reject")
    assert flow.status == "completed"
    with pytest.raises(MessageRefused):
        flow.send("cost_overrun", actor=FINANCE)
    assert flow.ready() == [] and "cost_overrun" not in flow.data


# -- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "level"),
    [("197999.99", 0), ("198000.00", 1), ("215999.99", 1), ("216000.00", 2), ("250000", 3)],
)
def test_the_overrun_level_starts_at_the_threshold(actual, level):
    assert overrun_level(Decimal(actual), Decimal(180000), Decimal("0.10")) == level


def test_a_budget_too_small_for_the_arithmetic_has_the_highest_level_not_an_error():
    # An approved budget of 1e-30 once made every dashboard and cost page a 500.
    assert overrun_level(Decimal(100), Decimal("1E-30"), Decimal("0.10")) == MAX_OVERRUN_LEVEL
    assert overrun_level(Decimal(100), Decimal("0.01"), Decimal("0.10")) == MAX_OVERRUN_LEVEL


def test_without_a_budget_there_is_no_overrun_and_a_zero_budget_has_one_level():
    assert overrun_level(Decimal(10**9), None, Decimal("0.10")) == 0
    assert overrun_level(Decimal(0), Decimal(0), Decimal("0.10")) == 0
    assert overrun_level(Decimal(1), Decimal(0), Decimal("0.10")) == 1
    assert overrun_level(Decimal(100), Decimal(100), Decimal(0)) == 1


# -- the engine raising it --------------------------------------------------------------------


@pytest.fixture
def Session(tmp_path):
    bind = sa.create_engine(f"sqlite:///{tmp_path / 'costs.db'}")
    engine.Base.metadata.create_all(bind)
    factory = sessionmaker(bind, expire_on_commit=False)
    with factory.begin() as session:
        engine.deploy(session, engine.bundle_files("processes", "forms"), deployed_by="tests")
    yield factory
    bind.dispose()


def _actor(task):
    return Actor(task.assignee or f"{task.group}_user", frozenset(task.groups))


def _walk(session, instance_id, target, clock):
    """The happy path with the harness's data until `target` is ready."""
    for _ in range(len(HAPPY_PATH)):
        ready = engine.get_instance(session, instance_id, clock=clock).tasks
        if target in [t.name for t in ready]:
            return
        task = next(t for step in HAPPY_PATH for t in ready if t.name == step)
        _, _, values = engine.get_task(session, task.id, _actor(task), clock=clock)
        default = DEFAULTS[task.form]
        data = default(values) if callable(default) else dict(default)
        engine.complete_task(session, task.id, data, _actor(task), clock=clock)
    raise AssertionError(f"{target} not reached")


@pytest.fixture
def implementing(Session):
    """An instance waiting at `implement` with 180,000 approved; returns (Session, id, clock)."""
    clock = engine.ManualClock()
    with Session.begin() as session:
        applicant = Actor("applicant", frozenset({"business"}))
        instance_id = engine.start_instance(session, "software_upgrade", REQUEST, applicant, clock=clock).id
        _walk(session, instance_id, "implement", clock)
    return Session, instance_id, clock


def _spend(Session, instance_id, clock, amount, threshold=engine.costs.DEFAULT_THRESHOLD):
    with Session.begin() as session:
        return engine.record_cost(
            session, instance_id, "implementation", amount, date(2026, 3, 1), None, FINANCE, clock, threshold
        )


def _reviews(Session, instance_id):
    with Session() as session:
        tasks = session.scalars(
            sa.select(TaskRecord).where(
                TaskRecord.instance_id == instance_id, TaskRecord.element_id == "cost_overrun_review"
            )
        )
        return [(t.group_id, t.form_id) for t in tasks]


def _messages(Session, instance_id):
    with Session() as session:
        return session.scalar(
            sa.select(sa.func.count()).where(
                EventRecord.instance_id == instance_id, EventRecord.type == "message_received"
            )
        )


def test_the_review_is_raised_at_the_threshold_and_not_below_it(implementing):
    Session, instance_id, clock = implementing
    below = _spend(Session, instance_id, clock, "197999.99")
    assert (below.over_budget, below.overrun_review) == (False, None)
    assert _reviews(Session, instance_id) == [] and _messages(Session, instance_id) == 0

    at = _spend(Session, instance_id, clock, "0.01")
    assert (at.actual, at.budget, at.over_budget, at.overrun_review) == (
        Decimal("198000.00"),
        Decimal(180000),
        True,
        "raised",
    )
    assert _reviews(Session, instance_id) == [("finance", "cost_overrun_review")]
    assert _messages(Session, instance_id) == 1
    with Session() as session:
        instance = engine.get_instance(session, instance_id, clock=clock)
        assert sorted(instance.waiting_at) == ["cost_overrun_review", "implement"]


def test_one_review_at_a_time_then_the_next_level_raises_again(implementing):
    Session, instance_id, clock = implementing
    assert _spend(Session, instance_id, clock, "200000").overrun_review == "raised"
    # 20% over while the review is open: no second review.
    assert _spend(Session, instance_id, clock, "20000").overrun_review == "already_open"
    assert len(_reviews(Session, instance_id)) == 1
    clock.advance(hours=1)  # the review is done later, and it sees the costs recorded by then
    with Session.begin() as session:
        [task] = engine.list_tasks(session, FINANCE, instance_id=instance_id)
        engine.complete_task(session, task.id, REVIEW, FINANCE, clock=clock)
    assert _reviews(Session, instance_id) == []
    clock.advance(hours=1)
    # Still at 20% over (level 2, reached while the review was open and seen by it): nothing new.
    assert _spend(Session, instance_id, clock, "1000").overrun_review == "no_crossing"
    assert _reviews(Session, instance_id) == []
    # 30% over is the next level (234,000).
    assert _spend(Session, instance_id, clock, "13000").overrun_review == "raised"
    assert len(_reviews(Session, instance_id)) == 1 and _messages(Session, instance_id) == 2


def test_additional_budget_moves_the_threshold(implementing):
    Session, instance_id, clock = implementing
    assert _spend(Session, instance_id, clock, "198000").overrun_review == "raised"
    with Session.begin() as session:
        [task] = engine.list_tasks(session, FINANCE, instance_id=instance_id)
        more = {"decision": "approve_additional_budget", "additional_budget": 40000, "comment": "追加。"}
        engine.complete_task(session, task.id, more, FINANCE, clock=clock)
        costs = engine.project_costs(session, instance_id)
    assert (costs.approved, costs.additional, costs.budget, costs.over_budget) == (
        Decimal(180000),
        Decimal(40000),
        Decimal(220000),
        False,
    )
    # 10% over 220,000 is 242,000.
    assert _spend(Session, instance_id, clock, "43999.99").overrun_review is None
    assert _spend(Session, instance_id, clock, "0.01").overrun_review == "raised"


def test_a_configured_threshold_is_respected(implementing):
    Session, instance_id, clock = implementing
    threshold = Decimal("0.2")
    assert _spend(Session, instance_id, clock, "215999.99", threshold).overrun_review is None
    assert _reviews(Session, instance_id) == []
    assert _spend(Session, instance_id, clock, "0.01", threshold).overrun_review == "raised"
    with pytest.raises(ValueError, match="threshold"):
        _spend(Session, instance_id, clock, "1", Decimal("-0.1"))
    with Session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(CostRecord)) == 2


def test_an_ended_instance_records_the_cost_and_raises_nothing(implementing):
    Session, instance_id, clock = implementing
    admin = Actor("admin", frozenset(), is_admin=True)
    with Session.begin() as session:
        engine.terminate_instance(session, instance_id, admin, "項目取消", clock=clock)
    recorded = _spend(Session, instance_id, clock, "250000")
    assert (recorded.over_budget, recorded.overrun_review) == (True, "not_running")
    assert "terminated" in recorded.overrun_note
    assert _reviews(Session, instance_id) == [] and _messages(Session, instance_id) == 0
    with Session() as session:
        assert engine.project_costs(session, instance_id).actual == Decimal("250000.00")


def test_an_instance_without_an_approved_budget_raises_nothing(Session):
    clock = engine.ManualClock()
    with Session.begin() as session:
        applicant = Actor("applicant", frozenset({"business"}))
        instance_id = engine.start_instance(session, "software_upgrade", REQUEST, applicant, clock=clock).id
    recorded = _spend(Session, instance_id, clock, "1000000")
    assert (recorded.budget, recorded.over_budget, recorded.overrun_review) == (None, False, "no_budget")
    assert _reviews(Session, instance_id) == [] and _messages(Session, instance_id) == 0


def test_no_overrun_is_taken_before_a_budget_is_approved(start):
    """An overrun is of the budget finance approved (R2.3.1, R2.3.2; `costs._approved` reads the
    same): before the audit approves one, a `cost_overrun` is refused, saying why, and nothing is
    opened for finance; once it has, even while management still reviews the initiation, it is
    taken."""
    flow = start()
    with pytest.raises(MessageRefused, match="budget_audit is not set yet"):
        flow.send("cost_overrun", actor=FINANCE)
    flow.reach("budget_audit")
    flow.complete("budget_audit", decision="revise")
    with pytest.raises(MessageRefused, match="does not hold"):
        flow.send("cost_overrun", actor=FINANCE)
    assert "cost_overrun_review" not in flow.ready()
    flow.complete("initiation_review")
    flow.complete("initiation_application")
    flow.complete("budget_audit", decision="approve")
    assert flow.ready() == ["initiation_review"]
    flow.send("cost_overrun", actor=FINANCE)
    assert flow.ready() == ["cost_overrun_review", "initiation_review"]


def test_a_cost_recorded_while_management_still_reviews_the_initiation_raises_the_review(Session):
    """Finance approved 180,000 and management has not decided yet: a cost that takes spending
    past the threshold gives finance its review at once (the message was once refused until the
    initiation was approved, and the level, already crossed, was never raised again)."""
    clock = engine.ManualClock()
    with Session.begin() as session:
        applicant = Actor("applicant", frozenset({"business"}))
        instance_id = engine.start_instance(session, "software_upgrade", REQUEST, applicant, clock=clock).id
        _walk(session, instance_id, "budget_audit", clock)
        audit = next(
            t
            for t in engine.get_instance(session, instance_id, clock=clock).tasks
            if t.name == "budget_audit"
        )
        engine.complete_task(session, audit.id, DEFAULTS["budget_audit"], _actor(audit), clock=clock)
    spent = _spend(Session, instance_id, clock, "250000")
    assert spent.overrun_review == "raised"
    assert _reviews(Session, instance_id) == [("finance", "cost_overrun_review")]
