"""Read-check-writes that the instance's optimistic version does not cover, raced with real
threads on both databases: the second request waits for the first (a row lock on PostgreSQL,
the write lock on SQLite: engine/locking.py) and then sees what the first did."""

import threading
from datetime import date

import pytest
import sqlalchemy as sa

import engine
import engine.costs as costs
import engine.plans as plans
import engine.reviews as reviews
from engine.models import DocumentVersionRecord, InstanceRecord, TaskRecord
from tests.processes.harness import DEFAULTS, HAPPY_PATH, REQUEST

ALICE = engine.Actor("alice", frozenset({"business"}))
FINANCE = engine.Actor("fay", frozenset({"finance"}))
IVY = engine.Actor("ivy", frozenset({"it"}))
VERA = engine.Actor("vera", frozenset({"vendor"}))


@pytest.fixture(autouse=True)
def write_ahead_log(db_engine):
    """SQLite as the app runs it (web/database.py): readers never block the writer."""
    if db_engine.dialect.name == "sqlite":
        with db_engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode=WAL").scalar() == "wal"


def walk(Session, target):
    """A new instance along the happy path until `target` is ready; returns its id."""
    with Session.begin() as session:
        instance_id = engine.start_instance(session, "software_upgrade", REQUEST, ALICE).id
        for _ in range(len(HAPPY_PATH)):
            ready = engine.get_instance(session, instance_id).tasks
            if target in [t.name for t in ready]:
                return instance_id
            task = next(t for step in HAPPY_PATH for t in ready if t.name == step)
            actor = engine.Actor(task.assignee or f"{task.group}1", frozenset(task.groups))
            _, _, values = engine.get_task(session, task.id, actor)
            default = DEFAULTS[task.form]
            engine.complete_task(
                session, task.id, default(values) if callable(default) else dict(default), actor
            )
    raise AssertionError(f"{target} not reached")


def meanwhile(monkeypatch, module, name, first, second):
    """Run `first()`; once its call of `module.name` (its check's read, or a step after it) has
    returned, run `second()` on another thread and give it a moment (it finishes, or it waits
    for `first`'s lock), then let `first` go on. Returns both outcomes: the value, or the
    exception's class name."""
    original = getattr(module, name)
    outcomes = {}
    other = threading.Thread(target=lambda: _outcome(outcomes, "second", second))

    def check_then_let_the_other_in(*args, **kwargs):
        monkeypatch.setattr(module, name, original)  # once
        result = original(*args, **kwargs)
        other.start()
        other.join(timeout=1)
        return result

    monkeypatch.setattr(module, name, check_then_let_the_other_in)
    _outcome(outcomes, "first", first)
    other.join(timeout=60)
    return outcomes["first"], outcomes["second"]


def _outcome(outcomes, key, call):
    try:
        outcomes[key] = call()
    except Exception as error:  # reported by the caller's assertion
        outcomes[key] = type(error).__name__


def test_two_costs_at_once_that_cross_the_level_raise_one_review(Session, monkeypatch):
    """The budget is 180,000 (level 1 at 198,000); 190,000 is spent. Two costs of 5,000 at once:
    the second must count the first, so the overrun is seen and reviewed exactly once."""
    instance_id = walk(Session, "implement")

    def spend(amount):
        with Session.begin() as session:
            recorded = engine.record_cost(
                session, instance_id, "implementation", amount, date(2026, 3, 1), None, FINANCE
            )
            return recorded.overrun_review

    assert spend("190000") is None
    outcomes = meanwhile(monkeypatch, costs, "_costs_of", lambda: spend("5000"), lambda: spend("5000"))
    assert sorted(outcomes, key=str) == [None, costs.RAISED]
    with Session() as session:
        assert engine.project_costs(session, instance_id).actual == 200000
        reviews_open = session.scalar(
            sa.select(sa.func.count()).where(TaskRecord.element_id == "cost_overrun_review")
        )
    assert reviews_open == 1


def test_a_plan_published_while_an_item_goes_in_is_published_with_it(Session, monkeypatch):
    """Placing checks the plan is a draft; a publication at that moment waits for the placing,
    so the published plan holds the item, and nothing changes a published plan afterwards."""
    instance_id = walk(Session, "requirement_analysis")  # accepted into the pool
    with Session.begin() as session:
        plan_id = plans.create_plan(session, IVY, year=2027, budget_ceiling=100000, owner="ivy").id

    def place():
        with Session.begin() as session:
            plans.place_item(
                session, IVY, plan_id, instance_id=instance_id, quarter="Q1", planned_budget=5000
            )
            return "placed"

    def publish():
        with Session.begin() as session:
            published = plans.publish_plan(session, IVY, plan_id)
            return published.status, [item.instance_id for item in published.items]

    placed, published = meanwhile(monkeypatch, plans, "_money", place, publish)
    assert (placed, published) == ("placed", ("published", [instance_id]))  # published with it
    with Session() as session:
        plan = engine.get_plan(session, IVY, plan_id)
    assert (plan.status, [item.instance_id for item in plan.items]) == ("published", [instance_id])


def test_two_revisions_of_a_plan_at_once_make_one_and_refuse_the_other(Session, monkeypatch):
    with Session.begin() as session:
        plan_id = plans.create_plan(session, IVY, year=2027, budget_ceiling=100, owner="ivy").id
        plans.publish_plan(session, IVY, plan_id)

    def revise():
        with Session.begin() as session:
            return plans.revise_plan(session, IVY, plan_id).version

    first, second = meanwhile(monkeypatch, plans, "_info", revise, revise)
    assert (first, second) == (2, "PlanConflict")
    with Session() as session:
        versions = session.scalars(sa.text("SELECT version FROM plans ORDER BY version")).all()
    assert versions == [1, 2]


def test_one_document_version_submitted_twice_at_once_gets_one_review(Session, monkeypatch):
    instance_id = walk(Session, "plan_review")

    def submit():
        with Session.begin() as session:
            return reviews.submit_for_review(session, instance_id, "implementation_plan", VERA).id

    first, second = meanwhile(monkeypatch, reviews, "start_instance", submit, submit)
    assert second == "InstanceStateError"  # waited, then found the version under review
    with Session() as session:
        row = session.scalar(
            sa.select(DocumentVersionRecord).where(DocumentVersionRecord.document_id == "implementation_plan")
        )
        started = session.scalars(
            sa.select(InstanceRecord.id).where(InstanceRecord.process_id == "document_review")
        ).all()
    assert started == [first] == [row.review_instance_id]


def test_an_undo_racing_a_step_is_a_conflict_never_a_crash(Session, monkeypatch):
    """An admin undoes a replay while someone completes a task. PostgreSQL: the undo holds the
    row; the step waits, then finds its task gone with the replayed state (a 409). SQLite: the
    step commits first and the undo is refused, since work happened after the replay
    (InstanceStateError, a 409), never a raw StaleDataError (a 500)."""
    import engine.admin as admin

    root = engine.Actor("root", frozenset(), is_admin=True)
    with Session.begin() as session:
        instance_id = engine.start_instance(session, "software_upgrade", REQUEST, ALICE).id
        engine.replay_instance(session, instance_id, root, dry_run=False)  # keeps a snapshot
        [task] = engine.get_instance(session, instance_id).tasks

    def undo():
        with Session.begin() as session:
            return engine.undo(session, instance_id, root).status

    def step():
        with Session.begin() as session:
            engine.complete_task(session, task.id, {"decision": "accept", "in_it_plan": True}, IVY)
            return "completed"

    first, second = meanwhile(monkeypatch, admin, "_record", undo, step)
    if Session.kw["bind"].dialect.name == "postgresql":
        assert (first, second) == ("running", "InstanceConflict")
    else:
        assert (first, second) == ("InstanceStateError", "completed")
