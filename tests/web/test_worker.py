"""`upgradeflow worker`: timers fire once however many workers run, due dates escalate once per
task, the outbox is shown in the web UI and e-mailed after commit when SMTP is configured."""

import threading
from datetime import datetime, timedelta

from bundles import NOTE_FORM, bpmn
from conftest_pages import Browser
from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import select, update

import engine
from engine.clock import naive_utc
from engine.models import EventRecord, InstanceRecord, NotificationRecord, TaskRecord
from web.extensions import db
from web.worker import run_once


def rounds_at_once(app, workers):
    """`workers` worker rounds started together, each in its own app context (own session)."""
    barrier = threading.Barrier(workers)
    results = []

    def work():
        with app.app_context():
            barrier.wait()
            results.append(run_once())

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def rows(app, query):
    with app.app_context():
        return db.session.execute(query).all()


def test_a_due_timer_fires_once_with_three_workers_at_once(app, drive, people, clock):
    instance_id = drive.start(people["business"].user)
    drive.reach(instance_id, "implement")
    clock.advance(days=14)  # the risk reassessment timer fell due while no worker ran
    results = rounds_at_once(app, 3)
    assert sum(r["timers"] for r in results) == 1, results
    fired = rows(app, select(EventRecord.element_id).where(EventRecord.type == "timer_fired"))
    assert [f.element_id for f in fired] == ["risk_reassessment_timer"]
    assert "risk_reassessment" in [t.name for t in drive.ready(instance_id)]
    with app.app_context():
        assert run_once()["timers"] == 0


def test_a_ready_task_is_announced_to_its_group_in_the_steps_transaction(app, drive, people):
    instance_id = drive.start(people["business"].user)
    notes = rows(
        app, select(NotificationRecord.recipient, NotificationRecord.kind, NotificationRecord.task_id)
    )
    task = drive.task(instance_id, "preliminary_review")
    assert [(n.recipient, n.kind, n.task_id) for n in notes] == [("group:it", "task_assigned", task.id)]


def test_an_overdue_task_is_escalated_once_however_many_workers_run(app, drive, people, clock):
    instance_id = drive.start(people["business"].user)
    task = drive.task(instance_id, "preliminary_review")
    with app.app_context():
        db.session.execute(update(TaskRecord).values(due_at=clock() - timedelta(hours=1)))
        db.session.commit()
    results = rounds_at_once(app, 3)
    assert sum(r["escalated"] for r in results) == 1, results  # counted by the one that recorded it
    with app.app_context():
        assert run_once()["escalated"] == 0
    overdue = rows(app, select(NotificationRecord.recipient).where(NotificationRecord.kind == "overdue"))
    assert [o.recipient for o in overdue] == ["group:it"]
    assert not rows(app, select(NotificationRecord.id).where(NotificationRecord.kind == "due_soon"))
    assert task.id


def test_notifications_page_and_header_count(app, make_user, drive):
    alice = make_user("alice", "business")
    drive.start(alice)
    with app.app_context():
        note = "項目已立項 / Approved"
        db.session.add(
            NotificationRecord(recipient="alice", kind="message", text=note, created_at=drive.clock())
        )
        db.session.commit()
    browser = Browser(app, "alice")
    html = browser.get("/notifications").get_data(as_text=True)
    assert "項目已立項" in html
    assert '<span class="badge"><span class="visually-hidden">(</span>1<' in html
    assert browser.post_form("/notifications/read").status_code == 302
    read = rows(app, select(NotificationRecord.read_at).where(NotificationRecord.recipient == "alice"))
    assert [r.read_at is not None for r in read] == [True]
    assert (
        '<span class="badge"><span class="visually-hidden">(</span>1<'
        not in browser.get("/notifications").text
    )


def test_the_outbox_is_mailed_once_after_commit(app, drive, people, smtp):
    people["it"]  # a member of `it`, so the group's notification has an address
    drive.start(people["business"].user)
    results = rounds_at_once(app, 2)
    assert sum(r["mailed"] for r in results) == 1, results
    assert len(smtp.received) == 1
    assert "To: it1@example.com" in smtp.received[0]
    with app.app_context():
        assert run_once()["mailed"] == 0
    sent = rows(app, select(NotificationRecord.sent_at))
    assert all(s.sent_at is not None for s in sent)


def test_mail_the_server_accepted_is_not_sent_again_when_the_session_ends_badly(app, drive, people, smtp):
    """The server takes both messages, then answers QUIT with an error: both were delivered, so
    both are marked sent and the next round sends nothing again."""
    people["it"]
    drive.start(people["business"].user)
    drive.start(people["business"].user)
    smtp.quit_reply = b"421 closing"
    with app.app_context():
        assert run_once()["mailed"] == 2
        assert run_once()["mailed"] == 0
    assert len(smtp.received) == 2
    assert all(s.sent_at is not None for s in rows(app, select(NotificationRecord.sent_at)))


def test_an_ended_instance_is_announced_to_its_initiator(app, drive, people):
    instance_id = drive.start(people["business"].user)
    drive.complete(instance_id, "preliminary_review", decision="reject", comment="不在規劃內。")
    ended = rows(
        app,
        select(NotificationRecord.recipient, NotificationRecord.instance_id).where(
            NotificationRecord.kind == "ended"
        ),
    )
    assert [(e.recipient, e.instance_id) for e in ended] == [("business1", instance_id)]


def test_the_worker_command_runs_one_round(app, runner, drive, people, clock):
    instance_id = drive.start(people["business"].user)
    drive.reach(instance_id, "implement")
    app.config["ENGINE_CLOCK"] = engine.ManualClock(clock() + timedelta(days=15))
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "timers=1 escalated=0 mailed=0"
    assert "risk_reassessment" in [t.name for t in drive.ready(instance_id)]


def test_an_instance_whose_timers_cannot_fire_is_an_incident_and_the_others_fire(
    app, drive, people, clock, monkeypatch
):
    """Three projects wait for the fortnightly risk reassessment. One's stored state cannot be
    read, one's timer cannot be evaluated: each becomes an incident (status `error`, with the
    message) and the worker goes on; the third's timer fires. The next round leaves the two
    alone."""
    business = people["business"].user
    unreadable, healthy = drive.start(business), drive.start(business)
    unevaluable = drive.start(business, title="計時器無法計算")
    for instance_id in (unreadable, unevaluable, healthy):
        drive.reach(instance_id, "implement")
    with app.app_context():
        db.session.execute(
            update(InstanceRecord)
            .where(InstanceRecord.id == unreadable)
            .values(state={"format": 1}, version_id=InstanceRecord.version_id + 1)
        )
        db.session.commit()
    refresh = BpmnWorkflow.refresh_timers

    def refresh_unless_marked(workflow):
        if any("計時器無法計算" in repr(task.data) for task in workflow.tasks.values()):
            raise ValueError("the timer's cycle has no duration")
        return refresh(workflow)

    monkeypatch.setattr(BpmnWorkflow, "refresh_timers", refresh_unless_marked)
    app.config["ENGINE_CLOCK"] = engine.ManualClock(clock() + timedelta(days=15))
    with app.app_context():
        assert run_once()["timers"] == 1
        assert run_once()["timers"] == 0  # the two incidents are not picked again
        found = {i: db.session.get(InstanceRecord, i) for i in (unreadable, unevaluable, healthy)}
        states = {i: (r.status, (r.error or {}).get("message")) for i, r in found.items()}
        admin = engine.Actor("root", frozenset(), is_admin=True)
        incidents = {i.id for i in engine.list_incidents(db.session, admin)}
    assert states[healthy] == ("running", None)
    assert "risk_reassessment" in [t.name for t in drive.ready(healthy)]
    assert states[unreadable][0] == "error" and "state cannot be read" in states[unreadable][1]
    assert states[unevaluable] == ("error", "the timer's cycle has no duration")
    assert incidents == {unreadable, unevaluable}


def test_an_instance_whose_step_fails_while_it_is_saved_is_an_incident_and_nothing_of_it_is_kept(
    app, drive, people, clock, monkeypatch
):
    """Its step fails part-way through the save (here: the state, once written, cannot be
    stored). Nothing of that step is kept, it becomes an incident in a transaction of its own,
    and the other instances' timers fire in the same round; the next round leaves it alone.
    (It once stopped every worker for good: the same instance came first in every round.)"""
    business = people["business"].user
    first, failing, last = drive.start(business), drive.start(business), drive.start(business)
    for instance_id in (first, failing, last):
        drive.reach(instance_id, "implement")
    save = engine.due_timers._save

    def save_then_fail(session, record, *args):
        tasks = save(session, record, *args)
        if record.id == failing:
            raise TypeError("Object of type set is not JSON serializable")
        return tasks

    monkeypatch.setattr(engine.due_timers, "_save", save_then_fail)
    app.config["ENGINE_CLOCK"] = engine.ManualClock(clock() + timedelta(days=15))
    with app.app_context():
        assert run_once()["timers"] == 2
        assert run_once()["timers"] == 0
        record = db.session.get(InstanceRecord, failing)
        fired = db.session.scalars(
            select(EventRecord.instance_id).where(EventRecord.type == "timer_fired")
        ).all()
    assert (record.status, record.timer_due_at) == ("error", None)
    assert "could not fire" in record.error["message"] and "not JSON serializable" in record.error["message"]
    assert sorted(fired) == [first, last]  # nothing of the failed step
    assert "risk_reassessment" not in [t.name for t in drive.ready(failing)]

    # Once the cause is gone, an administrator's retry lets its timers fire: it answered that the
    # instance was not in error (the incident is on the row alone).
    monkeypatch.setattr(engine.due_timers, "_save", save)
    retried = people["admin"].post(f"/instances/{failing}/retry", {"reason": "已修復"})
    assert retried.status_code == 200, retried.get_json()
    assert (retried.get_json()["status"], retried.get_json()["error"]) == ("running", None)
    with app.app_context():
        assert run_once()["timers"] == 1
    assert "risk_reassessment" in [t.name for t in drive.ready(failing)]
    replay = people["admin"].post(f"/instances/{failing}/replay", {"dry_run": True}).get_json()
    assert (replay["matches"], replay["divergence"]) == (True, None)


def test_an_escalation_reaches_every_group_of_the_task(app, drive, people, clock):
    """Only the first recipient's row carries the once-only key; the others are added when that
    row was inserted (on PostgreSQL they never were: the insert's row count reads -1)."""
    drive.start(people["business"].user)
    with app.app_context():
        db.session.execute(
            update(TaskRecord).values(due_at=clock() - timedelta(hours=1), groups=["it", "qa"])
        )
        db.session.commit()
        assert run_once()["escalated"] == 1
    overdue = rows(app, select(NotificationRecord.recipient).where(NotificationRecord.kind == "overdue"))
    assert sorted(o.recipient for o in overdue) == ["group:it", "group:qa"]


OFFSET_TIMER = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="http://x">
  <bpmn:process id="opening" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>
      <bpmn:timeDate xsi:type="bpmn:tFormalExpression">2026-01-06T09:00:00+08:00</bpmn:timeDate>
    </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_timer_dated_in_another_zone_fires_at_that_instant(app, clock):
    """09:00 in Hong Kong is 01:00 UTC. SQLite keeps no offset, and the due time was once stored
    as 09:00, so the worker picked the instance eight hours late (PostgreSQL fired on time)."""
    root = engine.Actor("root", frozenset(), is_admin=True)
    clock.now = clock.now.replace(year=2026, month=1, day=6, hour=0, minute=30)
    with app.app_context():
        engine.deploy(db.session, {"opening.bpmn": OFFSET_TIMER}, deployed_by="tests")
        instance_id = engine.start_instance(db.session, "opening", {}, root, clock=clock).id
        db.session.commit()
        due = db.session.get(InstanceRecord, instance_id).timer_due_at
        assert naive_utc(due) == datetime(2026, 1, 6, 1, 0)
        assert run_once()["timers"] == 0  # 00:30 UTC: not yet
    clock.advance(hours=1)
    with app.app_context():
        assert run_once()["timers"] == 1  # 01:30 UTC: half an hour past due
        assert db.session.get(InstanceRecord, instance_id).status == "completed"


TWO_DUE_STEPS = bpmn(
    """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t"/>
    <bpmn:userTask id="t" name="Check" camunda:candidateGroups="it" camunda:formRef="check"
        camunda:dueDate="P1D"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="t2"/>
    <bpmn:userTask id="t2" name="Then" camunda:candidateGroups="it" camunda:formRef="check"/>
    <bpmn:sequenceFlow id="f3" sourceRef="t2" targetRef="end"/>
    <bpmn:endEvent id="end"/>""",
    process_id="due_twice",
)


def test_a_rewound_task_is_escalated_again_when_it_is_overdue_again(app, people, clock):
    """An administrator rewinds a step that was overdue once: it is ready again under its own id
    and due a day later, and becomes overdue again. It was never escalated a second time (the
    once-only mark was per task id)."""
    it = people["it"].user
    root = engine.Actor("root", frozenset(), is_admin=True)
    with app.app_context():
        engine.deploy(db.session, {"due_twice.bpmn": TWO_DUE_STEPS, "check.form": NOTE_FORM}, deployed_by="t")
        instance_id = engine.start_instance(db.session, "due_twice", {}, it.actor, clock=clock).id
        db.session.commit()
    clock.advance(days=2)
    with app.app_context():
        assert run_once()["escalated"] == 1
        [task] = engine.get_instance(db.session, instance_id).tasks
        engine.complete_task(db.session, task.id, {}, it.actor, clock=clock)
        db.session.commit()
    clock.advance(days=10)
    with app.app_context():
        engine.rewind_instance(db.session, instance_id, task.id, root, "checked again", clock=clock)
        db.session.commit()
        assert run_once()["escalated"] == 1  # ready again, due tomorrow: due soon
    clock.advance(days=2)
    with app.app_context():
        assert run_once()["escalated"] == 1  # overdue again
        assert run_once()["escalated"] == 0  # once
    overdue = rows(app, select(NotificationRecord.task_id).where(NotificationRecord.kind == "overdue"))
    assert [o.task_id for o in overdue] == [task.id, task.id]


def test_a_suspended_instances_tasks_leave_the_inbox_and_are_escalated_once_it_is_resumed(app, people, clock):
    """They stayed in the inbox and its count, opened, could not be completed (409), and were
    escalated as overdue while nobody could act on them."""
    it = people["it"]
    root = engine.Actor("root", frozenset(), is_admin=True)
    with app.app_context():
        engine.deploy(db.session, {"due_twice.bpmn": TWO_DUE_STEPS, "check.form": NOTE_FORM}, deployed_by="t")
        instance_id = engine.start_instance(db.session, "due_twice", {}, it.user.actor, clock=clock).id
        engine.suspend_instance(db.session, instance_id, root, "待確認預算", clock=clock)
        db.session.commit()
    clock.advance(days=2)  # the task's day has passed
    assert it.get("/tasks").get_json() == []
    with app.app_context():
        assert engine.count_tasks(db.session, it.user.actor) == 0
        assert run_once()["escalated"] == 0
        engine.resume_instance(db.session, instance_id, root, "已確認", clock=clock)
        db.session.commit()
    assert [t["name"] for t in it.get("/tasks").get_json()] == ["t"]
    with app.app_context():
        assert run_once()["escalated"] == 1  # overdue, now that someone can act on it
