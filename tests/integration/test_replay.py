"""Replay: an instance rebuilt from its event log matches its stored state; a changed version
diverges at a named event; replacing the state keeps the old one for undo."""

import pytest
from sqlalchemy import func, select

import engine
from engine.admin import NothingToUndo, replay_instance, undo, verify_instances
from engine.groups import GROUP_IDS
from engine.models import InstanceRecord, SnapshotRecord
from engine.replay import Renames, translate_events
from engine.views import EventInfo
from tests.processes.harness import DEFAULTS, HAPPY_PATH, REQUEST

ADMIN = engine.Actor("root", frozenset(), is_admin=True)
APPLICANT = engine.Actor("applicant", frozenset({"business"}))


class Driver:
    """Drives one stored instance through engine services, one transaction per step."""

    def __init__(self, Session, clock):
        self.Session, self.clock = Session, clock
        with Session.begin() as session:
            self.id = engine.start_instance(session, "software_upgrade", REQUEST, APPLICANT, clock).id

    def complete(self, element, **data):
        with self.Session.begin() as session:
            anyone = engine.Actor("anyone", GROUP_IDS)
            [task] = [
                t for t in engine.list_tasks(session, anyone, instance_id=self.id) if t.name == element
            ] or [t for t in engine.list_tasks(session, APPLICANT, instance_id=self.id) if t.name == element]
            actor = engine.Actor(task.assignee, GROUP_IDS) if task.assignee else anyone
            _, schema, shown = engine.get_task(session, task.id, actor, self.clock)
            default = DEFAULTS[schema["id"]]
            values = default(shown) if callable(default) else dict(default)
            engine.complete_task(session, task.id, {**values, **data}, actor, self.clock)
        self.clock.advance(hours=1)

    def send(self, message, **payload):
        with self.Session.begin() as session:
            engine.send_message(
                session, self.id, message, payload, engine.Actor("it_user", frozenset({"it"})), self.clock
            )

    def wait(self, days):
        self.clock.advance(days=days)
        with self.Session.begin() as session:
            engine.fire_due_timers(session, self.clock)


def run_procedure(driver):
    driver.complete("preliminary_review", decision="return")
    driver.complete("revise_request", title="辦公自動化系統升級（修訂）")
    for element in ("preliminary_review", "requirement_analysis", "risk_identification", "risk_response"):
        driver.complete(element)
    driver.complete("analysis_report")
    driver.complete("initiation_application")
    driver.complete("budget_audit", decision="revise")
    driver.complete("initiation_review")
    driver.complete("initiation_application")
    driver.complete("budget_audit")
    driver.complete("initiation_review")
    for element in ("sign_contract", "implementation_plan", "plan_review", "assign_business_testers"):
        driver.complete(element)
    driver.send("change_request", reason="增加電子簽章。")
    driver.wait(days=15)  # one risk reassessment
    driver.complete("change_review", decision="reject")
    driver.complete("risk_reassessment")
    driver.complete("reassessment_response")
    driver.complete("implement")
    driver.complete("self_test")
    driver.complete("joint_test", decision="fail")
    driver.complete("rectify")
    driver.complete("joint_test")


@pytest.fixture
def driver(Session):
    return Driver(Session, engine.ManualClock())


def test_a_replay_of_the_procedure_with_loops_matches_the_stored_state(Session, driver):
    run_procedure(driver)
    with Session() as session:
        report = replay_instance(session, driver.id, ADMIN)
        waiting = engine.get_instance(session, driver.id).waiting_at
    assert (report.matches, report.divergence) == (True, None)
    assert report.applied > 25
    assert waiting == ["acceptance", "business_acceptance"]


def test_a_replay_on_a_changed_version_names_the_first_event_that_diverges(Session, driver):
    run_procedure(driver)
    files = engine.bundle_files("processes", "forms")
    # Version 2 sends a returned request straight to rejection: the revision cannot happen.
    changed = files["software_upgrade.bpmn"].replace(
        b'${preliminary_review.decision == "return"}', b'${preliminary_review.decision == "never"}'
    )
    with Session.begin() as session:
        engine.deploy(session, {**files, "software_upgrade.bpmn": changed}, "po")
    with Session() as session:
        report = replay_instance(session, driver.id, ADMIN, version=2)
        events = engine.instance_events(session, driver.id)
    revise = next(e for e in events if e.task == "revise_request")
    assert report.matches is False
    assert (report.divergence["seq"], report.divergence["event"]) == (revise.seq, "task_completed")
    assert "revise_request is not ready" in report.divergence["reason"]


def test_replacing_the_state_keeps_the_old_one_for_undo(Session, driver):
    driver.complete("preliminary_review")
    with Session.begin() as session:
        report = replay_instance(session, driver.id, ADMIN, dry_run=False)
    assert report.replaced and report.matches
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(SnapshotRecord)) == 1
        assert [e.type for e in engine.instance_events(session, driver.id)][-1] == "replayed"
    with Session.begin() as session:
        undo(session, driver.id, ADMIN)
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(SnapshotRecord)) == 0
        assert engine.get_instance(session, driver.id).waiting_at == ["requirement_analysis"]
        with pytest.raises(NothingToUndo):
            undo(session, driver.id, ADMIN)


def test_verify_reports_only_instances_whose_state_differs(Session, driver):
    other = Driver(Session, driver.clock)
    with Session() as session:
        state_at_start = session.get(InstanceRecord, driver.id).state
    driver.complete("preliminary_review")
    other.complete("preliminary_review")
    with Session() as session:
        assert verify_instances(session, ADMIN) == []
    with Session.begin() as session:  # the stored state loses the step its log records
        session.get(InstanceRecord, driver.id).state = state_at_start
    with Session() as session:
        [report] = verify_instances(session, ADMIN)
    assert report.instance_id == driver.id
    assert "waiting at ['preliminary_review'] in the stored state" in report.divergence["reason"]


def test_an_admin_giving_back_someone_elses_claim_replays_and_verifies(Session, driver):
    with Session.begin() as session:
        [task] = engine.get_instance(session, driver.id).tasks
        engine.claim_task(session, task.id, engine.Actor("it1", frozenset({"it"})), driver.clock)
        engine.unclaim_task(session, task.id, ADMIN, driver.clock)
    driver.complete("preliminary_review")
    with Session() as session:
        kinds = [e.type for e in engine.instance_events(session, driver.id)]
        assert kinds[1:3] == ["task_claimed", "task_unclaimed"]
        assert verify_instances(session, ADMIN) == []
        assert replay_instance(session, driver.id, ADMIN).matches


def test_an_instance_waiting_at_a_timer_after_go_live_verifies_and_replays_as_it_was(Session, driver):
    """The log's times come back from SQLite without their zone (UTC); the replay's clock must
    still compare with the timers' aware times, or every instance waiting at a timer diverged,
    and a replay that replaced the state put it in error."""
    for element in HAPPY_PATH:
        driver.complete(element, **({"decision": "success"} if element == "golive" else {}))
    driver.wait(days=31)  # one inspection falls due
    driver.complete("inspection")
    with Session() as session:
        assert engine.get_instance(session, driver.id).status == "running"
        assert verify_instances(session, ADMIN) == []
    with Session.begin() as session:
        report = replay_instance(session, driver.id, ADMIN, dry_run=False)
    assert (report.matches, report.replaced) == (True, True)
    with Session() as session:
        info = engine.get_instance(session, driver.id)
        assert (info.status, info.error) == ("running", None)


def test_a_replay_that_ends_in_error_does_not_replace_a_healthy_state(Session, driver):
    driver.complete("preliminary_review", decision="reject")  # notifies the applicant, then ends
    files = engine.bundle_files("processes", "forms")
    failing = files["software_upgrade.bpmn"].replace(
        b'notify(initiator, "\xe9\x9c\x80', b'notify(initiator, 1 / 0, "\xe9\x9c\x80'
    )
    assert failing != files["software_upgrade.bpmn"]
    with Session.begin() as session:
        engine.deploy(session, {**files, "software_upgrade.bpmn": failing}, "po")
    with Session.begin() as session:
        report = replay_instance(session, driver.id, ADMIN, version=2, dry_run=False)
    assert (report.matches, report.replaced) == (False, False)
    assert "error in the replay" in report.divergence["reason"]
    with Session() as session:
        info = engine.get_instance(session, driver.id)
        assert (info.status, info.version) == ("completed", 1)
        assert session.scalar(select(func.count()).select_from(SnapshotRecord)) == 0


def test_replay_and_undo_are_for_admins_only(Session, driver):
    with Session() as session:
        with pytest.raises(engine.NotAllowed):
            replay_instance(session, driver.id, APPLICANT)
        with pytest.raises(engine.NotAllowed):
            undo(session, driver.id, APPLICANT)


def test_after_repairs_the_replay_still_matches_and_rewound_events_are_marked(Session, driver):
    from engine.admin import edit_instance_data, resume_instance, rewind_instance, skip_task, suspend_instance

    driver.complete("preliminary_review")
    driver.complete("requirement_analysis")
    with Session() as session:
        events = engine.instance_events(session, driver.id)
    analysis = next(e for e in events if e.task == "requirement_analysis")
    with Session.begin() as session:
        suspend_instance(session, driver.id, ADMIN, "暫停", driver.clock)
        resume_instance(session, driver.id, ADMIN, "繼續", driver.clock)
        rewind_instance(session, driver.id, analysis.task_id, ADMIN, "分析有誤", driver.clock)
    driver.complete("requirement_analysis", cost_training=20000)
    with Session.begin() as session:
        edit_instance_data(session, driver.id, ADMIN, {"note": "已複核"}, "備註", driver.clock)
        [task] = engine.get_instance(session, driver.id).tasks
        skip_task(session, driver.id, task.id, ADMIN, "線下識別", {"risks": []}, driver.clock)
    with Session() as session:
        events = engine.instance_events(session, driver.id)
        report = replay_instance(session, driver.id, ADMIN)
    assert [e.type for e in events if e.rewound] == ["task_completed"]  # the first analysis
    assert (report.matches, report.divergence) == (True, None)


def logged(seq, kind, task=None, data=None):
    return EventInfo(seq, kind, task, f"t{seq}" if task else None, "someone", "2026-01-05T09:00:00", data)


def test_renames_apply_in_the_order_of_the_migrations_and_skip_an_undone_one():
    events = [
        logged(1, "started", "requirement_request"),
        logged(2, "task_completed", "a"),
        logged(3, "data_edited", data={"changes": {"a": {"old": {}, "new": {"x": 1}}, "note": {"new": 1}}}),
        logged(4, "migrated", data={"from": 1, "to": 2, "method": "diff", "renamed": {"a": "b"}}),
        logged(5, "task_completed", "b"),
        logged(6, "migrated", data={"from": 2, "to": 3, "method": "diff", "renamed": {"b": "c"}}),
        logged(7, "undone", data={"snapshot": 2, "reason": "migration"}),
        logged(8, "task_completed", "b"),
    ]
    translated, renames = translate_events(events, {"b": "d"})
    assert [e.task for e in translated] == ["requirement_request", "d", None, None, "d", None, None, "d"]
    assert set(translated[2].data["changes"]) == {"d", "note"}  # an edit of the step's data
    assert events[1].task == "a" and "a" in events[2].data["changes"]  # the log itself is untouched
    assert renames.maps == ({"a": "b"}, {"b": "d"})  # the undone migration's renames are not there


def test_a_rename_back_cancels_and_a_key_written_under_the_new_id_wins():
    there_and_back = Renames([{"a": "b"}, {"b": "a"}])
    assert [there_and_back.element(e) for e in ("a", "b", "x")] == ["a", "a", "x"]
    # `a` submitted before the first migration, `b` again after it (a loop): the later one wins.
    assert Renames([{"a": "b"}, {"b": "c"}]).keys({"a": 1, "b": 2, "x": 3}) == {"c": 2, "x": 3}
    assert Renames([{"a": "b", "b": "a"}]).keys({"a": 1, "b": 2}) == {"b": 1, "a": 2}  # swapped ids
    assert not Renames([{}, None])
