"""Optimistic locking on the instance row, raced with real threads on a real database."""

import threading

import pytest

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
        engine.complete_task(session, task_id, {"decision": "accept"}, IAN)
    with Session.begin() as session:
        engine.unclaim_task(session, task_id, IVY)
        engine.complete_task(session, task_id, {"decision": "accept"}, IAN)
    with Session() as session:
        kinds = [e.type for e in engine.instance_events(session, instance_id)]
    assert kinds[:4] == ["started", "task_claimed", "task_unclaimed", "task_completed"]
