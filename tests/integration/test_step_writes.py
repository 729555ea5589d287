"""A step writes the instance row, its task rows and its documents with plain statements, and its
cached instance keeps what they hold. The session that made the step reads what it wrote, and a
cached instance writes exactly what a freshly restored one would, through every administrator's
operation as through the procedure."""

import pytest
from sqlalchemy import select

import engine
from engine import cache
from engine.admin import (
    edit_instance_data,
    replay_instance,
    resume_instance,
    rewind_instance,
    skip_task,
    suspend_instance,
    undo,
)
from engine.consistency import row_disagreement
from engine.models import DocumentVersionRecord, InstanceRecord, NotificationRecord, TaskRecord
from engine.step_writes import _ROWS_WRITTEN
from tests.integration.conftest import deployed_sessions, pg_schema, skip_without_savepoint_rollback
from tests.integration.test_instance_cache import ANYONE, started, values_for
from tests.integration.test_replay import ADMIN, Driver
from tests.processes.harness import HAPPY_PATH, REQUEST


@pytest.fixture
def empty_cache():
    cache.INSTANCES.clear()
    yield
    cache.INSTANCES.resize(cache.DEFAULT_SIZE)
    cache.INSTANCES.clear()


def test_a_claim_is_seen_by_the_task_objects_the_session_holds(Session, empty_cache):
    info = started(Session)
    task = info.tasks[0]
    claimer = engine.Actor("alice2", frozenset(task.groups))
    with Session.begin() as session:
        held = session.get(TaskRecord, task.id)  # a list the caller read before the step
        claimed = engine.claim_task(session, task.id, claimer)
        assert [t.assignee for t in claimed.tasks] == ["alice2"]
        assert [t.assignee for t in engine.get_instance(session, info.id).tasks] == ["alice2"]
        assert held.assignee == "alice2"


def test_a_completed_task_is_gone_for_the_session_that_completed_it(Session, empty_cache):
    info = started(Session)
    task = info.tasks[0]
    with Session.begin() as session:
        values = values_for(session, task)
        held = session.get(TaskRecord, task.id)  # a list the caller read before the step
        engine.complete_task(session, task.id, values, ANYONE)
        assert session.get(TaskRecord, task.id) is None
        assert held not in session
        with pytest.raises(engine.InstanceConflict, match="someone else just completed it"):
            engine.complete_task(session, task.id, values, ANYONE)


def test_a_step_rolled_back_with_its_savepoint_leaves_the_row_as_it_was(Session, empty_cache):
    skip_without_savepoint_rollback(Session)
    info = started(Session)
    with Session() as session, session.begin():
        record = session.get(InstanceRecord, info.id)  # held, as a page's list would
        savepoint = session.begin_nested()
        suspend_instance(session, info.id, ADMIN, "tried")
        savepoint.rollback()
        assert [i.status for i in engine.list_instances(session).items] == ["running"]
        assert record.status == "running"


def test_task_objects_read_in_a_rolled_back_savepoint_are_read_again(Session, empty_cache):
    """The statements wrote the task rows around the session: a task object it read after the
    step, inside the SAVEPOINT, must not keep the step's values once the SAVEPOINT rolls back."""
    skip_without_savepoint_rollback(Session)
    info = started(Session)
    task = info.tasks[0]
    claimer = engine.Actor("alice2", frozenset(task.groups))
    with Session() as session, session.begin():
        savepoint = session.begin_nested()
        engine.claim_task(session, task.id, claimer)
        held = session.get(TaskRecord, task.id)  # read after the step, as a page's list would
        assert held.assignee == "alice2"
        savepoint.rollback()
        assert [t.assignee for t in engine.get_instance(session, info.id).tasks] == [None]
        assert held.assignee is None


def written(Session, driver) -> tuple:
    """What the instance's rows hold beside its state (checked against it first)."""
    with Session() as session:
        assert row_disagreement(session, driver.id, driver.clock) is None
        documents = session.scalars(
            select(DocumentVersionRecord)
            .where(DocumentVersionRecord.instance_id == driver.id)
            .order_by(DocumentVersionRecord.id)
        )
        notes = session.scalars(
            select(NotificationRecord)
            .where(NotificationRecord.instance_id == driver.id)
            .order_by(NotificationRecord.id)
        )
        return (
            [(d.document_id, d.version, d.sha256, d.author, d.reviewer, d.approved_at) for d in documents],
            [(n.recipient, n.kind, n.text, n.task_id is not None) for n in notes],
            [(t.name, t.assignee, t.created_at) for t in engine.get_instance(session, driver.id).tasks],
        )


def administered(Session, cache_size) -> list:
    """Steps and every administrator's operation on one instance, with the cache of that size;
    what its rows hold after each."""
    cache.INSTANCES.clear()
    cache.INSTANCES.resize(cache_size)
    driver = Driver(Session, engine.ManualClock())
    clock = driver.clock
    seen = []
    driver.complete("preliminary_review")
    driver.complete("requirement_analysis")
    seen.append(written(Session, driver))
    with Session() as session:
        analysis = next(
            e for e in engine.instance_events(session, driver.id) if e.task == "requirement_analysis"
        )
    with Session.begin() as session:
        suspend_instance(session, driver.id, ADMIN, "paused", clock)
        resume_instance(session, driver.id, ADMIN, "resumed", clock)
        rewind_instance(session, driver.id, analysis.task_id, ADMIN, "again", clock)
    seen.append(written(Session, driver))
    driver.complete("requirement_analysis", cost_training=20000)
    seen.append(written(Session, driver))
    with Session.begin() as session:
        edit_instance_data(session, driver.id, ADMIN, {"note": "checked"}, "a note", clock)
        [task] = engine.get_instance(session, driver.id).tasks
        skip_task(session, driver.id, task.id, ADMIN, "skipped", {"risks": []}, clock)
    seen.append(written(Session, driver))
    with Session.begin() as session:
        replay_instance(session, driver.id, ADMIN, dry_run=False)
    seen.append(written(Session, driver))
    with Session.begin() as session:
        undo(session, driver.id, ADMIN)
    seen.append(written(Session, driver))
    with Session.begin() as session:
        [task] = engine.get_instance(session, driver.id).tasks
        engine.claim_task(session, task.id, ANYONE, clock)
        engine.unclaim_task(session, task.id, ANYONE, clock)
        engine.claim_task(session, task.id, ANYONE, clock)
    seen.append(written(Session, driver))
    return seen


def test_administered_with_the_cache_writes_what_it_writes_without(Session, empty_cache):
    without = administered(Session, 0)
    cached = administered(Session, cache.DEFAULT_SIZE)
    assert cached == without
    documents, notes, tasks = cached[-1]
    assert documents and notes and [assignee for _, assignee, _ in tasks] == ["anyone"]


def test_what_a_transaction_wrote_is_forgotten_when_it_ends_without_a_commit(Session, empty_cache):
    """The rows a transaction wrote are kept to be read again if a SAVEPOINT rolls back; a
    session closed (or rolled back) keeps none of them, as one committed does."""
    info = started(Session)
    session = Session()
    engine.claim_task(session, info.tasks[0].id, ANYONE)
    assert session.info[_ROWS_WRITTEN]
    session.close()
    assert not session.info.get(_ROWS_WRITTEN)


@pytest.fixture
def TaipeiSession():
    """Sessions on a PostgreSQL schema whose connections read times in Asia/Taipei (UTC+8)."""
    with pg_schema("-ctimezone=Asia/Taipei") as bind:
        yield deployed_sessions(bind)


def sign_off_times(Session, cache_size) -> list:
    cache.INSTANCES.clear()
    cache.INSTANCES.resize(cache_size)
    clock = engine.ManualClock()
    with Session.begin() as session:
        info = engine.start_instance(session, "software_upgrade", REQUEST, ANYONE, clock)
    for _ in range(len(HAPPY_PATH) + 5):
        with Session() as session:
            ready = engine.get_instance(session, info.id, clock).tasks
        task = next((t for name in HAPPY_PATH for t in ready if t.name == name), None)
        if task is None:
            break
        with Session.begin() as session:
            engine.complete_task(session, task.id, values_for(session, task), ANYONE, clock)
    with Session() as session:
        documents = engine.list_documents(session, info.id, ANYONE)
        return sorted((d.document_id, d.version, s["step"], s["at"]) for d in documents for s in d.signoffs)


def test_sign_off_times_are_utc_whatever_the_servers_time_zone(TaipeiSession, empty_cache):
    without = sign_off_times(TaipeiSession, 0)
    cached = sign_off_times(TaipeiSession, cache.DEFAULT_SIZE)
    assert without and cached == without
    assert all(at.endswith("+00:00") for *_, at in without)
