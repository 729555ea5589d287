"""A timer that fell due before the next step: whichever comes first, the worker's round or a
person's step on the same instance, fires it, logs `timer_fired` and runs what follows it."""

from bundles import NOTE_FORM, bpmn
from sqlalchemy import select

import engine
from engine.models import EventRecord, InstanceRecord
from web.extensions import db
from web.worker import run_once


def fired(app, instance_id):
    with app.app_context():
        query = select(EventRecord.element_id).where(
            EventRecord.instance_id == instance_id, EventRecord.type == "timer_fired"
        )
        return list(db.session.scalars(query))


def test_the_monthly_inspection_due_before_a_support_request_comes_with_it(app, drive, people, clock):
    """R3.7: after go-live the system is inspected monthly. The month is up and no worker ran yet
    when a user reports a problem: the inspection is due at once, beside the support request, and
    the worker finds nothing left to fire."""
    instance_id = drive.start(people["business"].user)
    drive.walk(instance_id, "golive")
    drive.complete(instance_id, "golive")
    clock.advance(days=31)
    drive.send(instance_id, "support_request")
    assert {"inspection", "resolve_support_request"} <= {t.name for t in drive.ready(instance_id)}
    assert fired(app, instance_id) == ["inspection_timer"]
    with app.app_context():
        assert run_once()["timers"] == 0
    assert fired(app, instance_id) == ["inspection_timer"]


def test_the_risk_reassessment_due_before_a_change_request_is_logged_once(app, drive, people, clock):
    instance_id = drive.start(people["business"].user)
    drive.reach(instance_id, "implement")
    clock.advance(days=15)
    drive.send(instance_id, "change_request")
    assert "risk_reassessment" in {t.name for t in drive.ready(instance_id)}
    assert fired(app, instance_id) == ["risk_reassessment_timer"]
    with app.app_context():
        assert run_once()["timers"] == 0


BOUNDARY = bpmn(
    """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="answer"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="other"/>
    <bpmn:userTask id="answer" name="Answer" camunda:candidateGroups="it" camunda:formRef="check"/>
    <bpmn:boundaryEvent id="late" attachedToRef="answer"><bpmn:timerEventDefinition>
      <bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="late" targetRef="escalated"/>
    <bpmn:userTask id="escalated" name="Escalated" camunda:candidateGroups="it" camunda:formRef="check"/>
    <bpmn:sequenceFlow id="f5" sourceRef="escalated" targetRef="e1"/>
    <bpmn:endEvent id="e1"/>
    <bpmn:sequenceFlow id="f6" sourceRef="answer" targetRef="e2"/>
    <bpmn:endEvent id="e2"/>
    <bpmn:userTask id="other" name="Other" camunda:candidateGroups="it" camunda:formRef="check"/>
    <bpmn:sequenceFlow id="f7" sourceRef="other" targetRef="e3"/>
    <bpmn:endEvent id="e3"/>""",
    process_id="boundary",
)


def test_a_boundary_timer_due_when_another_branch_completes_interrupts_its_task(app, people, clock):
    it = people["it"].user
    with app.app_context():
        engine.deploy(db.session, {"boundary.bpmn": BOUNDARY, "check.form": NOTE_FORM}, deployed_by="t")
        instance_id = engine.start_instance(db.session, "boundary", {}, it.actor, clock=clock).id
        db.session.commit()
    clock.advance(hours=2)  # the hour is up; no worker has run yet
    with app.app_context():
        [other] = [t for t in engine.get_instance(db.session, instance_id).tasks if t.name == "other"]
        after = engine.complete_task(db.session, other.id, {}, it.actor, clock=clock)
        db.session.commit()
        assert [t.name for t in after.tasks] == ["escalated"]
        assert db.session.get(InstanceRecord, instance_id).timer_due_at is None
        assert run_once()["timers"] == 0
    assert fired(app, instance_id) == ["late"]


GATEWAY = bpmn(
    """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:eventBasedGateway id="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="hour"/>
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="day"/>
    <bpmn:intermediateCatchEvent id="hour"><bpmn:timerEventDefinition>
      <bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="day"><bpmn:timerEventDefinition>
      <bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="hour" targetRef="after"/>
    <bpmn:userTask id="after" name="After" camunda:candidateGroups="it" camunda:formRef="check"/>
    <bpmn:sequenceFlow id="f5" sourceRef="after" targetRef="e1"/>
    <bpmn:endEvent id="e1"/>
    <bpmn:sequenceFlow id="f6" sourceRef="day" targetRef="e2"/>
    <bpmn:endEvent id="e2"/>""",
    process_id="gateway",
)

TWICE = bpmn(
    """
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:userTask id="work" name="Work" camunda:candidateGroups="it" camunda:formRef="check"/>
    <bpmn:boundaryEvent id="tick" attachedToRef="work" cancelActivity="false"><bpmn:timerEventDefinition>
      <bpmn:timeCycle>R2/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="tick" targetRef="remind"/>
    <bpmn:scriptTask id="remind" scriptFormat="python"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f5" sourceRef="remind" targetRef="e1"/>
    <bpmn:endEvent id="e1"/>
    <bpmn:sequenceFlow id="f6" sourceRef="work" targetRef="e2"/>
    <bpmn:endEvent id="e2"/>""",
    process_id="twice",
)


def started(app, people, clock, source, process_id):
    it = people["it"].user
    with app.app_context():
        engine.deploy(db.session, {f"{process_id}.bpmn": source, "check.form": NOTE_FORM}, deployed_by="t")
        instance_id = engine.start_instance(db.session, process_id, {}, it.actor, clock=clock).id
        db.session.commit()
    return instance_id


def test_an_event_based_gateway_decided_by_a_timer_is_logged_at_the_gateway(app, people, clock):
    admin = people["admin"].user.actor
    instance_id = started(app, people, clock, GATEWAY, "gateway")
    clock.advance(hours=2)
    with app.app_context():
        assert run_once()["timers"] == 1
        assert [t.name for t in engine.get_instance(db.session, instance_id).tasks] == ["after"]
        assert engine.verify_instances(db.session, admin) == []
    assert fired(app, instance_id) == ["wait"]


def test_a_timer_repeating_twice_is_logged_and_counted_twice(app, people, clock):
    """`R2/PT1H`: two firings, two reminders; the end of its repetitions is no third firing."""
    instance_id = started(app, people, clock, TWICE, "twice")
    for _ in range(4):
        clock.advance(hours=1, minutes=1)
        with app.app_context():
            run_once()
    with app.app_context():
        counts = engine.get_instance(db.session, instance_id).completed_elements
    assert fired(app, instance_id) == ["tick", "tick"]
    assert (counts["tick"], counts["remind"]) == (2, 2)
