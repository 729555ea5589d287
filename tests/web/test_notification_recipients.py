"""Who the outbox tells, and in which words: a task offered to candidate users tells them (not
everyone); the end of a terminated instance tells its initiator why; a title with " / " in it
still reads in one language."""

from bundles import NOTE_FORM, bpmn
from flask import session
from sqlalchemy import select

import engine
from engine.models import NotificationRecord
from web import mail
from web.extensions import db
from web.pages.layout import split_message
from web.worker import run_once

OFFERED = bpmn(
    """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <bpmn:userTask id="check" name="Check" camunda:candidateUsers="it1, finance1"
        camunda:dueDate="PT1H" camunda:formRef="check"/>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end"/>
    <bpmn:endEvent id="end"/>""",
    process_id="offered",
)


def notes(app, kind=None):
    with app.app_context():
        query = select(NotificationRecord.kind, NotificationRecord.recipient, NotificationRecord.text)
        if kind is not None:
            query = query.where(NotificationRecord.kind == kind)
        return db.session.execute(query.order_by(NotificationRecord.id)).all()


def test_a_task_offered_to_named_users_tells_them_and_no_one_else(app, people, clock):
    it = people["it"].user
    with app.app_context():
        engine.deploy(db.session, {"offered.bpmn": OFFERED, "check.form": NOTE_FORM}, deployed_by="t")
        engine.start_instance(db.session, "offered", {}, it.actor, clock=clock)
        db.session.commit()
    assert [(n.kind, n.recipient) for n in notes(app)] == [
        ("task_assigned", "it1"),
        ("task_assigned", "finance1"),
    ]
    clock.advance(hours=2)
    with app.app_context():
        assert run_once()["escalated"] == 1
    assert [n.recipient for n in notes(app, "overdue")] == ["it1", "finance1"]
    assert not [n for n in notes(app) if n.recipient == "all"]


def test_a_terminated_instance_tells_its_initiator_why(app, drive, people, clock):
    instance_id = drive.start(people["business"].user, title="ERP 升級")
    admin = engine.Actor("root", frozenset(), is_admin=True)
    drive._run(lambda s: engine.terminate_instance(s, instance_id, admin, "預算取消", clock=clock))
    [ended] = notes(app, "ended")
    assert ended.recipient == "business1"
    assert ended.text == "流程已終止：ERP 升級（預算取消） / Procedure terminated: ERP 升級 (預算取消)"


def test_a_title_with_a_slash_still_reads_in_one_language(app, drive, people):
    drive.start(people["business"].user, title="ERP / CRM 升級")
    [assigned] = notes(app, "task_assigned")
    chinese, english = assigned.text.split(" / ")
    assert chinese.startswith("新任務：") and chinese.endswith("（ERP ／ CRM 升級）")
    assert english.startswith("New task: ") and english.endswith("(ERP ／ CRM 升級)")
    assert mail.subject(assigned.text) == chinese
    with app.test_request_context():
        session["locale"] = "en"
        assert split_message(assigned.text) == english


def test_a_slash_at_either_end_of_a_title_does_not_split_the_languages_either():
    from engine.notifications import _text

    for title in ("升級 ERP /", "/ 升級 ERP", "ERP/CRM"):
        text = _text("task_assigned", title, "項目", 1)
        assert len(text.split(" / ")) == 2, text
    assert _text("task_assigned", "ERP/CRM", "項目", 1).startswith("新任務：ERP/CRM（")
