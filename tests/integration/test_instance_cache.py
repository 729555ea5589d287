"""The cache of restored instances (engine/cache.py) serves only committed state.

A hit must be exactly what the row holds: after a commit in this process it skips the restore;
after a rollback, a refused submission or a change by another process it restores from the row.
And a whole procedure walked with the cache gives the same result as one walked without it.
"""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

import engine
from engine import cache
from engine.consistency import row_disagreement
from engine.groups import GROUP_IDS
from engine.instances import Instance
from engine.migration import migrate_instance
from engine.models import InstanceRecord, TaskRecord
from tests.integration.conftest import skip_without_savepoint_rollback
from tests.integration.test_replay import ADMIN, Driver
from tests.integration.versions_v2 import deploy
from tests.processes.harness import DEFAULTS, HAPPY_PATH, REQUEST

ALICE = engine.Actor("alice", frozenset({"business"}))
ANYONE = engine.Actor("anyone", GROUP_IDS)


@pytest.fixture
def restores(monkeypatch):
    """Counts restores from stored state; starts with an empty cache."""
    cache.INSTANCES.clear()
    counted = []
    original = Instance.restore.__func__

    def counting(cls, *args, **kwargs):
        counted.append(1)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Instance, "restore", classmethod(counting))
    yield counted
    cache.INSTANCES.clear()


@pytest.fixture
def other_process(monkeypatch):
    """A context in which the engine uses its own, empty cache, as another process would."""

    class Other:
        def __enter__(self):
            self.mine = cache.INSTANCES
            monkeypatch.setattr(cache, "INSTANCES", cache.InstanceCache())

        def __exit__(self, *exc):
            monkeypatch.setattr(cache, "INSTANCES", self.mine)

    return Other()


def stopped():
    """A clock that stands still: a step taken again, elsewhere, gets the same row identity."""
    return datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def started(Session):
    with Session.begin() as session:
        return engine.start_instance(session, "software_upgrade", REQUEST, ALICE)


def values_for(session, task):
    _, schema, shown = engine.get_task(session, task.id, ANYONE)
    default = DEFAULTS[schema["id"]]
    return default(shown) if callable(default) else dict(default)


def ready(Session, instance_id):
    with Session() as session:
        return [t.name for t in engine.get_instance(session, instance_id).tasks]


def test_a_committed_step_is_served_from_the_cache(Session, restores):
    info = started(Session)
    with Session.begin() as session:
        task = info.tasks[0]
        engine.complete_task(session, task.id, values_for(session, task), ANYONE)
    restores.clear()
    with Session() as session:
        after = engine.get_instance(session, info.id)
    assert restores == []  # the step's own instance, filed at commit
    assert [t.name for t in after.tasks] == ["requirement_analysis"]


def test_a_rolled_back_step_is_never_served(Session, restores):
    info = started(Session)
    task = info.tasks[0]
    with Session() as session:
        engine.complete_task(session, task.id, values_for(session, task), ANYONE)
        session.rollback()
    restores.clear()
    assert ready(Session, info.id) == ["preliminary_review"]
    assert len(restores) == 1  # from the row: the rolled-back instance was dropped


def test_a_rolled_back_step_is_not_served_even_when_its_row_identity_recurs(Session, restores, other_process):
    """With a stopped clock, another process's commit of the same step gets the same version and
    update time as the rolled-back attempt here; only the other's state may be served."""
    info = started(Session)
    task = info.tasks[0]
    with Session() as session:
        values = {**values_for(session, task), "comment": "mine, rolled back"}
        engine.complete_task(session, task.id, values, ANYONE, stopped)
        session.rollback()
    assert served_after_theirs(Session, other_process, info, task, stopped) == "theirs, committed"


def test_a_step_saved_in_a_savepoint_waits_for_the_outer_commit(Session, restores, other_process):
    """Releasing a SAVEPOINT is no commit: if the outer transaction rolls back, the step is gone."""
    skip_without_savepoint_rollback(Session)
    info = started(Session)
    task = info.tasks[0]
    with Session() as session:
        values = {**values_for(session, task), "comment": "mine, in a savepoint"}
        with session.begin_nested():
            engine.complete_task(session, task.id, values, ANYONE, stopped)
        session.rollback()
    assert served_after_theirs(Session, other_process, info, task, stopped) == "theirs, committed"


def test_a_read_after_a_rolled_back_savepoint_files_nothing_uncommitted(Session, restores, other_process):
    """A SAVEPOINT that rolls back drops what the transaction staged, its earlier step too: a read
    after it restores that uncommitted step, and must not file it in the cache, for the
    transaction may still roll back (and another process commit the same row identity)."""
    skip_without_savepoint_rollback(Session)
    info = started(Session)
    task = info.tasks[0]
    with Session() as session:
        values = {**values_for(session, task), "comment": "mine, rolled back"}
        engine.complete_task(session, task.id, values, ANYONE, stopped)  # staged
        savepoint = session.begin_nested()
        engine.suspend_instance(session, info.id, ADMIN, "tried", stopped)
        savepoint.rollback()
        engine.get_instance(session, info.id, stopped)  # restored from the uncommitted row
        session.rollback()
    assert served_after_theirs(Session, other_process, info, task, stopped) == "theirs, committed"


def served_after_theirs(Session, other_process, info, task, clock) -> str:
    """Another process commits the same step ("theirs, committed"); the comment then served."""
    with other_process, Session.begin() as session:
        values = {**values_for(session, task), "comment": "theirs, committed"}
        engine.complete_task(session, task.id, values, ANYONE, clock)
    with Session() as session:
        served = engine.get_instance(session, info.id, clock)
    return served.data["preliminary_review"]["comment"]


def test_an_entry_belongs_to_the_engine_that_read_it(Session, restores):
    """Two engines may reach different databases through one URL (a schema chosen in
    connect_args), so an entry is never served to another engine, even one on the same database."""
    info = started(Session)
    assert ready(Session, info.id) == ["preliminary_review"]  # cached for this engine
    bind = Session.kw["bind"]
    options = {}
    if bind.dialect.name == "postgresql":
        with bind.connect() as connection:
            schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
        options = {"connect_args": {"options": f"-csearch_path={schema}"}}
    other = sa.create_engine(bind.url, **options)
    restores.clear()
    try:
        with sessionmaker(other)() as session:
            assert [t.name for t in engine.get_instance(session, info.id).tasks] == ["preliminary_review"]
    finally:
        other.dispose()
    assert len(restores) == 1
    assert ready(Session, info.id) == ["preliminary_review"]
    assert len(restores) == 1  # this engine's entry is still there


def test_a_refused_submission_leaves_the_cached_instance_as_stored(Session, restores):
    info = started(Session)
    task = info.tasks[0]
    with Session() as session, pytest.raises(engine.FormValidationError):
        engine.complete_task(session, task.id, {"decision": "no such decision"}, ANYONE)
    assert ready(Session, info.id) == ["preliminary_review"]
    with Session() as session:
        assert engine.instance_events(session, info.id)[-1].type == "started"


OLD_TITLE = "需求分析與評估".encode()
NEW_TITLE = "需求分析（第二版）"


def retitled(files):
    """The bundle with requirement_analysis titled NEW_TITLE (nothing else changes)."""
    bpmn = files["software_upgrade.bpmn"]
    assert bpmn.count(b'name="' + OLD_TITLE + b'"') == 1
    return {**files, "software_upgrade.bpmn": bpmn.replace(OLD_TITLE, NEW_TITLE.encode())}


def test_a_miss_restores_the_state_on_the_version_the_row_now_holds(Session, restores):
    """A session that read the instance row before a migration committed elsewhere still holds
    the old process version: restored on it, the migrated state would be filed under the
    migrated row, and the next step, served from the cache, would write the old version's task
    title back."""
    clock = engine.ManualClock()
    driver = Driver(Session, clock)
    driver.complete("preliminary_review")  # waiting at requirement_analysis
    with Session.begin() as session:
        deploy(session, retitled(engine.bundle_files("processes", "forms")))
    with Session() as reader:
        held = reader.get(InstanceRecord, driver.id)  # a page that read the row first, and holds it
        assert held.process_version.version == 1
        with Session.begin() as session:
            migrate_instance(session, driver.id, 2, ADMIN, clock=clock)
        with Session() as session:
            [task] = session.scalars(sa.select(TaskRecord).where(TaskRecord.instance_id == driver.id))
            assert task.title == NEW_TITLE
        engine.get_instance(reader, driver.id, clock)  # a miss: restored, and filed in the cache
    with Session.begin() as session:
        engine.claim_task(session, task.id, ANYONE, clock)  # a hit
    with Session() as session:
        assert row_disagreement(session, driver.id, clock) is None
        assert session.get(TaskRecord, task.id).title == NEW_TITLE


def test_a_change_by_another_process_is_a_miss(Session, restores, other_process):
    info = started(Session)
    assert ready(Session, info.id) == ["preliminary_review"]  # now cached here
    with other_process, Session.begin() as session:
        task = info.tasks[0]
        engine.complete_task(session, task.id, values_for(session, task), ANYONE)
    restores.clear()
    assert ready(Session, info.id) == ["requirement_analysis"]
    assert len(restores) == 1


def test_a_lost_race_is_retried_on_the_winners_state(Session, restores, other_process):
    """This process read the instance; another completed a step before this one wrote."""
    info = started(Session)
    task = info.tasks[0]
    with Session() as session:
        engine.get_instance(session, info.id)
        with other_process, Session.begin() as other:
            engine.complete_task(other, task.id, values_for(other, task), ANYONE)
        with pytest.raises(engine.InstanceConflict):
            engine.complete_task(session, task.id, values_for(session, task), ANYONE)
        session.rollback()
    assert ready(Session, info.id) == ["requirement_analysis"]
    with Session() as session:
        completions = [e for e in engine.instance_events(session, info.id) if e.type == "task_completed"]
    assert [e.task for e in completions] == ["preliminary_review"]


def walk(Session, size):
    """The happy path to its end with a cache of `size`; returns what an auditor would compare."""
    cache.INSTANCES.clear()
    cache.INSTANCES.resize(size)
    info = started(Session)
    for _ in range(len(HAPPY_PATH) + 5):
        with Session() as session:
            current = engine.get_instance(session, info.id)
        task = next((t for name in HAPPY_PATH for t in current.tasks if t.name == name), None)
        if task is None:
            break
        with Session.begin() as session:  # the task's row changes (claimed), then goes
            engine.claim_task(session, task.id, ANYONE)
        assert rows_as_state_says(Session, info.id)
        with Session.begin() as session:
            engine.complete_task(session, task.id, values_for(session, task), ANYONE)
        assert rows_as_state_says(Session, info.id)
    with Session() as session:
        final = engine.get_instance(session, info.id)
        events = [(e.type, e.task) for e in engine.instance_events(session, info.id)]
        documents = [
            (
                d.document_id,
                d.version,
                d.sha256,
                d.author,
                d.reviewer,
                d.approved_at is not None,
                [(s["step"], s["signer"], s["user"], s["decision"], bool(s["at"])) for s in d.signoffs],
            )
            for d in engine.list_documents(session, info.id, ANYONE)
        ]
    return (final.status, final.data, final.completed_elements, events, documents), cache.INSTANCES.hits


def rows_as_state_says(Session, instance_id) -> bool:
    """The instance's row and task rows agree with its state (written from what the cached
    instance kept of them, when it was a hit)."""
    with Session() as session:
        return row_disagreement(session, instance_id, engine.system_clock) is None


def test_a_procedure_walked_with_the_cache_ends_as_one_walked_without(Session):
    try:
        without, _ = walk(Session, 0)
        cached, hits = walk(Session, cache.DEFAULT_SIZE)
    finally:
        cache.INSTANCES.resize(cache.DEFAULT_SIZE)
        cache.INSTANCES.clear()
    assert cached == without  # the documents too: a cached instance keeps their latest hashes
    status, _, completed, _, documents = cached
    assert status == "running"  # in operation: the repeating inspection keeps it open
    assert all(completed.get(name) for name in HAPPY_PATH)
    assert len(documents) >= 8 and any(reviewer for *_, reviewer, _, _ in documents)
    assert any(signoffs for *_, signoffs in documents)
    assert hits > len(HAPPY_PATH)  # the cached walk did read from the cache
