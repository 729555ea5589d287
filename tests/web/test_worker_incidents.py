"""The worker's incidents (an instance whose timers cannot fire): recorded without reading the
state and without overwriting what a request committed meanwhile; the worker never dies of one."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text

import engine
import engine.due_timers as due_timers
from engine.instances import Instance
from engine.models import EventRecord, InstanceRecord
from web.extensions import db
from web.worker import run_once


def kinds(app, instance_id):
    with app.app_context():
        query = (
            select(EventRecord.type).where(EventRecord.instance_id == instance_id).order_by(EventRecord.seq)
        )
        return list(db.session.scalars(query))


def row(app, instance_id):
    with app.app_context():
        columns = (InstanceRecord.status, InstanceRecord.error, InstanceRecord.timer_due_at)
        return tuple(db.session.execute(select(*columns).where(InstanceRecord.id == instance_id)).one())


def broken(self):
    raise RuntimeError("a script failed")


def test_a_state_that_is_not_json_is_an_incident_and_the_worker_goes_on(
    app, runner, drive, people, clock, request
):
    """Two projects wait for the risk reassessment; one's stored state is cut off mid-way (a disk
    fault, a hand edit). `upgradeflow worker --once` puts that one in error, fires the other's
    timer, and does the same (nothing) in the next round instead of dying on it."""
    if request.config.getoption("--db") == "postgresql":
        pytest.skip("PostgreSQL's json column refuses such a value: only SQLite can hold it")
    business = people["business"].user
    bad, good = drive.start(business), drive.start(business)
    for instance_id in (bad, good):
        drive.reach(instance_id, "implement")
    with app.app_context():
        cut = (
            'UPDATE instances SET state = \'{"format": 1, "x": \', version_id = version_id + 1 WHERE id = :i'
        )
        db.session.execute(text(cut), {"i": bad})
        db.session.commit()
    app.config["ENGINE_CLOCK"] = engine.ManualClock(clock() + timedelta(days=15))
    first = runner.invoke(args=["worker", "--once"])
    second = runner.invoke(args=["worker", "--once"])
    assert (first.exit_code, second.exit_code) == (0, 0), (first.output, second.output)
    status, error, due = row(app, bad)
    assert (status, due) == ("error", None) and "state cannot be read" in error["message"]
    assert kinds(app, bad).count("error") == 1
    assert "risk_reassessment" in [t.name for t in drive.ready(good)]


def test_an_incident_does_not_overwrite_a_termination_committed_meanwhile(
    app, drive, people, clock, monkeypatch
):
    """The timer's step fails and the batch is rolled back; before the worker records the
    incident, an administrator terminates the project. It stays terminated, with no incident."""
    instance_id = drive.start(people["business"].user)
    drive.reach(instance_id, "implement")
    clock.advance(days=14)
    monkeypatch.setattr(Instance, "fire_timers", broken)
    record = due_timers._incident
    admin = engine.Actor("root", frozenset(), is_admin=True)

    def terminated_first(session, failed_id, message, now):
        drive._run(lambda s: engine.terminate_instance(s, failed_id, admin, "項目取消", clock=clock))
        return record(session, failed_id, message, now)

    monkeypatch.setattr(due_timers, "_incident", terminated_first)
    with app.app_context():
        assert run_once()["timers"] == 0
    status, error, due = row(app, instance_id)
    assert (status, error, due) == ("terminated", None, None)
    assert "error" not in kinds(app, instance_id)


def test_a_request_that_commits_while_the_incident_is_recorded_leaves_the_worker_running(
    app, drive, people, clock, monkeypatch
):
    """The timer's step fails; while the incident is being recorded a person's step on the same
    instance commits (and fires the due timer itself). The round ends normally; the instance
    runs on, its reassessment ready, and no incident is recorded over it."""
    instance_id = drive.start(people["business"].user)
    drive.reach(instance_id, "implement")
    clock.advance(days=14)
    fire = Instance.fire_timers
    monkeypatch.setattr(Instance, "fire_timers", broken)
    record = due_timers._incident

    def a_step_first(session, failed_id, message, now):
        monkeypatch.setattr(Instance, "fire_timers", fire)
        drive.send(failed_id, "change_request")
        return record(session, failed_id, message, now)

    monkeypatch.setattr(due_timers, "_incident", a_step_first)
    with app.app_context():
        run_once()
    status, error, _ = row(app, instance_id)
    assert (status, error) == ("running", None)
    assert "risk_reassessment" in [t.name for t in drive.ready(instance_id)]
    assert "error" not in kinds(app, instance_id)
