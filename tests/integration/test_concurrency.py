"""Optimistic locking on the instance row, raced with real threads on a real database."""

import threading
import time

import pytest
import sqlalchemy as sa

import engine

REQUEST = {
    "system": "crm",
    "title": "CRM 報表",
    "content": "新增銷售報表",
    "background": "手工統計",
    "expected_effect": "自動出表",
    "department": "銷售部",
}
ALICE = engine.Actor("alice", frozenset({"business"}))
IVY = engine.Actor("ivy", frozenset({"it"}))
IAN = engine.Actor("ian", frozenset({"it"}))


def started(Session):
    with Session.begin() as session:
        instance = engine.start_instance(session, "software_upgrade", REQUEST, ALICE)
    return instance.id, instance.tasks[0].id


def race(Session, task_id, actors):
    barrier = threading.Barrier(len(actors))
    outcomes = {}

    def complete(actor):
        barrier.wait()
        try:
            with Session.begin() as session:
                engine.complete_task(session, task_id, {"decision": "accept", "in_it_plan": True}, actor)
            outcomes[actor.username] = "ok"
        except engine.InstanceConflict:  # InstanceChanged (a lost race) is one too
            outcomes[actor.username] = "InstanceConflict"
        except engine.TaskClaimed as error:
            outcomes[actor.username] = type(error).__name__
        except Exception as error:  # reported by the assertion, not lost in the thread
            outcomes[actor.username] = repr(error)

    threads = [threading.Thread(target=complete, args=(a,)) for a in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_completions_of_one_task_one_wins_and_one_event_is_recorded(Session):
    instance_id, task_id = started(Session)
    outcomes = race(Session, task_id, [IVY, IAN])
    assert sorted(outcomes.values()) == ["InstanceConflict", "ok"]
    with Session() as session:
        events = engine.instance_events(session, instance_id)
        completed = [e for e in events if e.type == "task_completed"]
        assert [e.task for e in completed] == ["preliminary_review"]
        assert [t.name for t in engine.get_instance(session, instance_id).tasks] == ["requirement_analysis"]


def test_a_lost_race_leaves_state_projection_and_log_as_the_winner_wrote_them(Session):
    instance_id, task_id = started(Session)
    race(Session, task_id, [IVY, IAN])
    with Session() as session:
        info = engine.get_instance(session, instance_id)
        assert info.data["preliminary_review"] == {"decision": "accept", "in_it_plan": True}
        assert info.waiting_at == ["requirement_analysis"]


@pytest.mark.parametrize("rounds", [3])
def test_sequential_steps_each_bump_the_version(Session, rounds):
    instance_id, task_id = started(Session)
    with Session.begin() as session:
        engine.claim_task(session, task_id, IVY)
    with Session.begin() as session, pytest.raises(engine.TaskClaimed):
        engine.complete_task(session, task_id, {"decision": "accept", "in_it_plan": True}, IAN)
    with Session.begin() as session:
        engine.unclaim_task(session, task_id, IVY)
        engine.complete_task(session, task_id, {"decision": "accept", "in_it_plan": True}, IAN)
    with Session() as session:
        kinds = [e.type for e in engine.instance_events(session, instance_id)]
    assert kinds[:4] == ["started", "task_claimed", "task_unclaimed", "task_completed"]


def _waiting_on_a_lock(Session) -> bool:
    with Session() as session:
        return bool(
            session.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
        )


def test_a_step_that_waited_for_the_lock_writes_the_projection_the_winner_left(Session, request):
    """PostgreSQL: a claim reads its task row, then waits for the instance lock while an unclaim
    commits. The claim then applies on the unclaimed state; the projection must show the claim."""
    if Session.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks to wait for: a writer there retries on the fresh row")
    instance_id, task_id = started(Session)
    with Session.begin() as session:
        engine.claim_task(session, task_id, IVY)
    unclaiming = Session()
    engine.unclaim_task(unclaiming, task_id, IVY)  # written, holding the row lock, not committed
    outcome = {}

    def claim_again():
        try:
            with Session.begin() as session:
                engine.claim_task(session, task_id, IVY)  # reads the task row, then waits
            outcome["ok"] = True
        except Exception as error:  # reported by the assertion below
            outcome["error"] = repr(error)

    thread = threading.Thread(target=claim_again)
    thread.start()
    deadline = time.monotonic() + 30
    while not _waiting_on_a_lock(Session):
        assert time.monotonic() < deadline, "the claim never waited for the lock"
        time.sleep(0.02)
    unclaiming.commit()
    unclaiming.close()
    thread.join(timeout=60)
    assert outcome == {"ok": True}
    with Session() as session:
        [mine] = engine.list_tasks(session, IVY, assigned="me")
        info = engine.get_instance(session, instance_id)
    assert (mine.id, mine.assignee, mine.claimed_by) == (task_id, "ivy", "ivy")
    assert [(t.assignee, t.claimed_by) for t in info.tasks] == [("ivy", "ivy")]


def test_a_task_completed_while_it_is_being_opened_is_a_conflict_not_missing(Session, monkeypatch):
    """Opening a task reads its row, then its instance. When someone completes it in between
    (the instance read sees their commit: each statement has its own snapshot), the task existed
    and is gone: a 409 (InstanceConflict), as for the second of two completions, never a 404."""
    instance_id, task_id = started(Session)
    load = engine.workflows._load

    def completed_by_someone_else_first(*args, **kwargs):
        monkeypatch.setattr(engine.workflows, "_load", load)  # once: their step loads too
        with Session.begin() as other:
            engine.complete_task(other, task_id, {"decision": "accept", "in_it_plan": True}, IAN)
        engine.cache.INSTANCES.clear()  # this process restores the instance from its row
        return load(*args, **kwargs)

    monkeypatch.setattr(engine.workflows, "_load", completed_by_someone_else_first)
    with Session() as session, pytest.raises(engine.InstanceConflict, match="no longer ready"):
        engine.get_task(session, task_id, IVY)
    with Session() as session:
        completed = [e for e in engine.instance_events(session, instance_id) if e.type == "task_completed"]
    assert [(e.task_id, e.actor) for e in completed] == [(task_id, "ian")]


def test_an_instance_read_while_it_moves_reports_its_row_and_state_from_one_moment(Session, monkeypatch):
    """Reading an instance reads its row, then (not cached) its state. When a step commits in
    between, where the instance waits (row) and what it holds (state) must both be after it."""
    instance_id, task_id = started(Session)
    take = engine.cache.INSTANCES.take

    def a_step_commits_first(key):
        monkeypatch.setattr(engine.cache.INSTANCES, "take", take)
        with Session.begin() as other:
            engine.complete_task(other, task_id, {"decision": "accept", "in_it_plan": True}, IAN)
        return None  # not cached: restored from the row

    monkeypatch.setattr(engine.cache.INSTANCES, "take", a_step_commits_first)
    with Session() as session:
        info = engine.get_instance(session, instance_id)
    assert info.data["preliminary_review"]["decision"] == "accept"  # the state after the step
    assert "preliminary_review" not in info.waiting_at  # and the row after it too
    assert info.waiting_at == sorted(t.name for t in info.tasks)


def test_verifying_a_live_instance_compares_its_log_with_the_state_of_the_same_moment(Session, monkeypatch):
    """`verify` reads an instance's event log and its state; a step committing between the two
    used to look like a divergence. Both are read again until they belong together."""
    import engine.admin as admin

    instance_id, task_id = started(Session)
    definition_of = admin.definition_of

    def a_step_commits_after_the_row_is_read(*args, **kwargs):
        monkeypatch.setattr(admin, "definition_of", definition_of)
        with Session.begin() as other:
            engine.complete_task(other, task_id, {"decision": "accept", "in_it_plan": True}, IAN)
        return definition_of(*args, **kwargs)

    monkeypatch.setattr(admin, "definition_of", a_step_commits_after_the_row_is_read)
    root = engine.Actor("root", frozenset(), is_admin=True)
    with Session() as session:
        report = engine.replay_instance(session, instance_id, root, dry_run=True)
    assert report.matches, report.divergence
