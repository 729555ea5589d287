"""Migration: instances waiting at different steps move to a version that adds, renames and removes
a step; the one waiting in the removed step is refused with its reason; the others run on to the
end. Bulk migration reports per instance; undo puts an instance back."""

import pytest
from sqlalchemy import func, select

import engine
from engine.admin import replay_instance, undo, verify_instances
from engine.groups import GROUP_IDS
from engine.migration import (
    MigrationRefused,
    instances_to_migrate,
    migrate_instance,
    migrate_instances,
    preview_migration,
)
from engine.models import InstanceRecord, SnapshotRecord
from tests.integration.test_replay import ADMIN, APPLICANT, Driver
from tests.integration.versions_v2 import (
    RENAMED,
    deploy,
    deploy_version_two,
    rename_step,
    version_three,
    version_two,
)
from tests.processes.harness import DEFAULTS

ANALYSIS = ("preliminary_review", "requirement_analysis", "risk_identification", "risk_response")
INITIATION = ("analysis_report", "initiation_application", "budget_audit", "initiation_review")


@pytest.fixture
def instances(Session, clock):
    """Four instances on version 1, waiting at four different steps."""
    at_renamed = Driver(Session, clock)
    at_renamed.complete("preliminary_review")
    at_removed = Driver(Session, clock)
    for element in ANALYSIS:
        at_removed.complete(element)
    past_removed = Driver(Session, clock)
    for element in (*ANALYSIS, "analysis_report"):
        past_removed.complete(element)
    implementing = Driver(Session, clock)
    for element in (
        *ANALYSIS,
        *INITIATION,
        "sign_contract",
        "implementation_plan",
        "plan_review",
        "assign_business_testers",
    ):
        implementing.complete(element)
    return at_renamed, at_removed, past_removed, implementing


def state_of(Session, instance_id):
    with Session() as session:
        record = session.get(InstanceRecord, instance_id)
        return record.process_version.version, record.state, record.waiting_at, record.version_id


def events_of(Session, instance_id):
    with Session() as session:
        return engine.instance_events(session, instance_id)


def complete_task(driver, task):
    actor = engine.Actor(task.assignee or "anyone", GROUP_IDS)
    with driver.Session.begin() as session:
        _, schema, shown = engine.get_task(session, task.id, actor, driver.clock)
        default = DEFAULTS[schema["id"]]
        values = default(shown) if callable(default) else dict(default)
        engine.complete_task(session, task.id, values, actor, driver.clock)
    driver.clock.advance(hours=1)


def run_to_the_end(driver, Session):
    """Complete whatever is ready with the harness's defaults, wait for timers, until it ends."""
    for _ in range(60):
        with Session() as session:
            info = engine.get_instance(session, driver.id, driver.clock)
        if info.status != "running":
            return info
        if info.tasks:
            complete_task(driver, info.tasks[0])
        else:
            driver.wait(days=31)
    raise AssertionError("the instance did not end")


def test_the_preview_names_the_diff_and_refuses_the_instance_in_the_removed_step(Session, instances, clock):
    at_renamed, at_removed, past_removed, implementing = instances
    with Session.begin() as session:
        version = deploy_version_two(session)
    ids = [d.id for d in instances]
    before = [state_of(Session, i) for i in ids]
    with Session() as session:
        preview = preview_migration(session, ids, version, ADMIN, clock)
    [change] = preview.diffs
    [main] = change["diff"].processes
    assert (change["from_version"], main.added, main.removed) == (1, ["kickoff_meeting"], ["analysis_report"])
    assert main.changed["requirement_analysis"] == ["bpmn_id", "name"]  # aligned with its new id
    outcomes = {r.instance_id: (r.ok, r.method) for r in preview.instances}
    assert outcomes == {
        at_renamed.id: (True, "diff"),
        at_removed.id: (False, None),
        past_removed.id: (True, "diff"),
        implementing.id: (True, "diff"),
    }
    refused = next(r for r in preview.instances if not r.ok)
    assert (
        refused.reason
        == "the instance is waiting at analysis_report (編寫需求分析報告), which version 2 removed"
    )
    assert [state_of(Session, i) for i in ids] == before  # a preview changes nothing


def test_migrated_instances_run_to_completion_and_the_refused_one_stays(Session, instances, clock):
    at_renamed, at_removed, past_removed, implementing = instances
    with Session.begin() as session:
        version = deploy_version_two(session)
    with Session() as session:
        due_before = session.get(InstanceRecord, implementing.id).timer_due_at
    kept = state_of(Session, at_removed.id)
    for driver in (at_renamed, past_removed, implementing):
        with Session.begin() as session:
            result = migrate_instance(session, driver.id, version, ADMIN, clock=clock)
        assert (result.migrated, result.instance.version, result.method) == (True, 2, "diff")
    with Session.begin() as session, pytest.raises(MigrationRefused, match="analysis_report"):
        migrate_instance(session, at_removed.id, version, ADMIN, clock=clock)
    assert state_of(Session, at_removed.id) == kept

    with Session() as session:
        waiting = {d.id: engine.get_instance(session, d.id).waiting_at for d in instances}
        assert session.get(InstanceRecord, implementing.id).timer_due_at == due_before  # timer kept
    assert waiting == {
        at_renamed.id: ["requirement_evaluation"],
        at_removed.id: ["analysis_report"],
        past_removed.id: ["initiation_application"],
        implementing.id: ["implement"],
    }
    migrated = [e for e in events_of(Session, at_renamed.id) if e.type == "migrated"]
    renamed = {"requirement_analysis": "requirement_evaluation"}
    assert [(e.actor, e.data) for e in migrated] == [
        ("root", {"from": 1, "to": 2, "method": "diff", "renamed": renamed})
    ]
    with Session() as session:  # its log names the renamed step by its old id, a replay still matches
        report = replay_instance(session, at_renamed.id, ADMIN, clock=clock)
    assert (report.version, report.matches) == (2, True)

    for driver in (at_renamed, past_removed, implementing):
        info = run_to_the_end(driver, Session)
        assert (info.status, info.version) == ("completed", 2)
    with Session() as session:
        steps = {d.id: engine.get_instance(session, d.id).completed_elements for d in instances}
    assert steps[at_renamed.id]["requirement_evaluation"] == 1
    assert "analysis_report" not in steps[at_renamed.id]
    assert steps[past_removed.id]["kickoff_meeting"] == 1  # the added step, on its way
    assert "kickoff_meeting" not in steps[implementing.id]  # it had passed that point
    # Each replays as it happened: on version 1 to its migration, moved, then on version 2 (a
    # replay on version 2 alone waits at the kick-off the implementing one never had).
    with Session() as session:
        assert verify_instances(session, ADMIN, clock) == []
    # The refused instance still runs on version 1.
    at_removed.complete("analysis_report")
    assert state_of(Session, at_removed.id)[0] == 1


def test_bulk_migration_reports_each_instance_and_a_failure_leaves_that_one_intact(Session, instances, clock):
    with Session.begin() as session:
        version = deploy_version_two(session)
    ids = [d.id for d in instances]
    kept = state_of(Session, instances[1].id)
    results = []
    with Session() as session:
        for result in migrate_instances(session, [*ids, 999], version, ADMIN, clock=clock):
            session.commit() if result.migrated else session.rollback()
            results.append(result)
    assert [(r.instance_id, r.ok, r.migrated) for r in results] == [
        (ids[0], True, True),
        (ids[1], False, False),
        (ids[2], True, True),
        (ids[3], True, True),
        (999, False, False),
    ]
    assert "analysis_report" in results[1].reason and results[4].reason == "no instance 999"
    assert [state_of(Session, i)[0] for i in ids] == [2, 1, 2, 2]
    assert state_of(Session, ids[1]) == kept
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(SnapshotRecord)) == 3
        assert instances_to_migrate(session, "software_upgrade", version, ADMIN) == [ids[1]]


def test_undo_puts_back_the_version_and_state_before_the_migration(Session, instances, clock):
    driver = instances[0]
    with Session.begin() as session:
        version = deploy_version_two(session)
    before = state_of(Session, driver.id)
    with Session.begin() as session:
        migrate_instance(session, driver.id, version, ADMIN, clock=clock)
    with Session.begin() as session:
        undo(session, driver.id, ADMIN, clock)
    version_after, state_after, waiting_after, _ = state_of(Session, driver.id)
    assert (version_after, state_after, waiting_after) == before[:3]
    assert [e.type for e in events_of(Session, driver.id)][-2:] == ["migrated", "undone"]
    driver.complete("requirement_analysis")  # on version 1 again, under its old name
    assert state_of(Session, driver.id)[2] == "risk_identification"
    with Session() as session:  # the undone migration's renames no longer apply to the log
        assert verify_instances(session, ADMIN, clock) == []


def test_migration_by_replay_when_the_diff_cannot_carry_the_instance(Session, instances, clock):
    driver = instances[0]
    files = engine.bundle_files("processes", "forms")
    # Version 2 calls the implementation under another process id: the diff has no subprocess
    # to align the running one with, the replay simply calls the new one.
    renamed = {
        name: content.replace(b"software_implementation", b"software_implementation_v2")
        for name, content in files.items()
    }
    implementing = instances[3]
    with Session.begin() as session:
        engine.deploy(session, renamed, "po")
        vendor = engine.Actor("vera", frozenset({"vendor"}))
        [task] = [
            t
            for t in engine.list_tasks(session, vendor, instance_id=implementing.id)
            if t.name == "implement"
        ]
        engine.claim_task(session, task.id, vendor, clock)  # logged under its id before the migration
    with Session.begin() as session:
        result = migrate_instance(session, implementing.id, 2, ADMIN, clock=clock)
        assert (result.method, result.instance.waiting_at) == ("replay", ["implement"])
    assert driver.id != implementing.id
    info = run_to_the_end(implementing, Session)
    assert (info.status, info.version) == ("completed", 2)
    # `implement` was done under the id the replay gave it: a later replay did not know it for
    # the task claimed under its old id, and `verify` reported the instance.
    with Session() as session:
        assert verify_instances(session, ADMIN, clock) == []


def test_migration_is_for_admins_and_for_instances_still_running(Session, instances, clock):
    with Session.begin() as session:
        version = deploy_version_two(session)
    with Session() as session:
        with pytest.raises(engine.NotAllowed):
            migrate_instance(session, instances[0].id, version, APPLICANT, clock=clock)
        with pytest.raises(engine.NotAllowed):
            list(migrate_instances(session, [instances[0].id], version, APPLICANT, clock=clock))
        with pytest.raises(MigrationRefused, match="already on version 1"):
            migrate_instance(session, instances[0].id, 1, ADMIN, clock=clock)
        with pytest.raises(engine.ProcessNotFound):
            migrate_instance(session, instances[0].id, 7, ADMIN, clock=clock)
    assert state_of(Session, instances[0].id)[0] == 1


def test_an_incident_is_fixed_by_a_new_version_then_retried(Session, clock):
    from engine.admin import edit_instance_data, retry_instance

    driver = Driver(Session, clock)
    for element in (
        *ANALYSIS,
        *INITIATION,
        "sign_contract",
        "implementation_plan",
        "plan_review",
        "assign_business_testers",
        "implement",
    ):
        driver.complete(element)
    for element in ("self_test", "joint_test", "acceptance", "business_acceptance", "training"):
        driver.complete(element)
    driver.complete("training_assessment")
    driver.complete("golive_plan")
    with Session.begin() as session:  # the contract's support period goes missing
        edit_instance_data(session, driver.id, ADMIN, {"sign_contract": {}}, "模擬", clock)
    driver.complete("golive", decision="success")
    with Session() as session:
        failed = engine.get_instance(session, driver.id)
    assert (failed.status, failed.error["element"]) == ("error", "start_support_period")
    files = engine.bundle_files("processes", "forms")
    # Version 2 falls back to three months when the contract names no support period.
    fixed = files["golive_operation.bpmn"].replace(
        b"sign_contract.support_months)", b'sign_contract.get("support_months", 3))'
    )
    with Session.begin() as session:
        engine.deploy(session, {**files, "golive_operation.bpmn": fixed}, "po")
        result = migrate_instance(session, driver.id, 2, ADMIN, clock=clock)
    assert (result.method, result.instance.status) == ("diff", "error")  # moved, still failed
    [migrated] = [e for e in events_of(Session, driver.id) if e.type == "migrated"]
    assert migrated.data == {"from": 1, "to": 2, "method": "diff"}  # nothing renamed, no "renamed"
    with Session.begin() as session:
        info = retry_instance(session, driver.id, ADMIN, clock)
    assert (info.status, info.version, info.error) == ("running", 2, None)
    assert clock().date().isoformat() == "2026-01-06"
    assert info.data["support_end"] == "2026-04-06"  # retried today, plus the default three months


def test_an_instance_neither_the_diff_nor_the_replay_carries_is_refused_and_left_as_it_was(Session, clock):
    driver = Driver(Session, clock)
    driver.complete("preliminary_review", decision="return")
    driver.complete("revise_request")
    for element in (
        *ANALYSIS,
        *INITIATION,
        "sign_contract",
        "implementation_plan",
        "plan_review",
        "assign_business_testers",
    ):
        driver.complete(element)
    files = engine.bundle_files("processes", "forms")
    # Version 2 calls the implementation under another id (the diff cannot align it) and no
    # longer returns a request for revision (the replay cannot repeat the log).
    changed = {
        name: content.replace(b"software_implementation", b"software_implementation_v2")
        for name, content in files.items()
    }
    changed["software_upgrade.bpmn"] = changed["software_upgrade.bpmn"].replace(
        b'${preliminary_review.decision == "return"}', b'${preliminary_review.decision == "never"}'
    )
    with Session.begin() as session:
        engine.deploy(session, changed, "po")
    before = state_of(Session, driver.id)
    revise = next(e for e in events_of(Session, driver.id) if e.task == "revise_request")
    with Session.begin() as session, pytest.raises(MigrationRefused) as refused:
        migrate_instance(session, driver.id, 2, ADMIN, clock=clock)
    assert f"the replay diverges at event {revise.seq} (task_completed)" in str(refused.value)
    assert "revise_request is not ready" in str(refused.value)
    assert state_of(Session, driver.id) == before


def analysed(Session, clock):
    """An instance on version 1 that passed requirement_analysis (renamed by version 2)."""
    driver = Driver(Session, clock)
    for element in ("preliminary_review", "requirement_analysis"):
        driver.complete(element)
    return driver


def migrated_events(Session, instance_id):
    return [e.data for e in events_of(Session, instance_id) if e.type == "migrated"]


def verified(Session, driver, version):
    """Replay every running instance; the driver's on `version` matches its stored state."""
    with Session() as session:
        assert verify_instances(session, ADMIN, driver.clock) == []
        report = replay_instance(session, driver.id, ADMIN, clock=driver.clock)
    assert (report.version, report.matches, report.divergence) == (version, True, None)


def test_an_instance_migrated_past_a_renamed_step_verifies_as_consistent(Session, clock):
    driver = analysed(Session, clock)
    with Session.begin() as session:
        version = deploy_version_two(session)
        result = migrate_instance(session, driver.id, version, ADMIN, clock=clock)
    renamed = {"requirement_analysis": "requirement_evaluation"}
    assert (result.method, result.diff.renamed) == ("diff", renamed)
    with Session() as session:  # by diff, the submission stays under the id it was made at
        data = engine.get_instance(session, driver.id).data
    assert "requirement_analysis" in data and "requirement_evaluation" not in data
    verified(Session, driver, 2)
    driver.complete("risk_identification")  # on version 2 now
    verified(Session, driver, 2)
    assert migrated_events(Session, driver.id) == [{"from": 1, "to": 2, "method": "diff", "renamed": renamed}]


def test_an_instance_migrated_past_a_removed_step_verifies_and_replays(Session, instances, clock):
    """Version 2 removes analysis_report, which this instance finished on version 1: the log
    keeps that completion, and a replay repeats it on version 1, where it was done, before it
    moves the instance as the migration did; every step of the log is repeated."""
    _, _, past_removed, _ = instances
    with Session.begin() as session:
        version = deploy_version_two(session)
        migrate_instance(session, past_removed.id, version, ADMIN, clock=clock)
    verified(Session, past_removed, 2)
    past_removed.complete("initiation_application")  # on version 2 now
    verified(Session, past_removed, 2)
    with Session() as session:
        report = replay_instance(session, past_removed.id, ADMIN, clock=clock)
        events = engine.instance_events(session, past_removed.id)
    assert report.applied == len([e for e in events if e.type not in ("migrated", "ended")])


def test_a_migration_by_replay_carries_an_instance_past_a_renamed_step(Session, clock):
    driver = analysed(Session, clock)
    for element in ("risk_identification", "risk_response", *INITIATION):
        driver.complete(element)
    # Version 2 renames requirement_analysis and calls the implementation under another process
    # id, so the diff cannot align the running call: the replay carries it, renaming the step.
    files = engine.bundle_files("processes", "forms")
    changed = {
        name: content.replace(b"software_implementation", b"software_implementation_v2")
        for name, content in files.items()
    }
    changed["software_upgrade.bpmn"] = rename_step(changed["software_upgrade.bpmn"], *RENAMED)
    with Session.begin() as session:
        version = deploy(session, changed)
        result = migrate_instance(session, driver.id, version, ADMIN, clock=clock)
    assert (result.method, result.instance.waiting_at) == ("replay", ["sign_contract"])
    assert result.diff.renamed == {"requirement_analysis": "requirement_evaluation"}
    renamed = {"requirement_analysis": "requirement_evaluation"}
    [moved] = migrated_events(Session, driver.id)
    task_ids = moved.pop("task_ids")  # logged id -> the id the replay gave the task
    assert moved == {"from": 1, "to": 2, "method": "replay", "renamed": renamed}
    assert task_ids and all(old != new for old, new in task_ids.items())
    data = result.instance.data  # a replay stores the submission under the new id
    assert "requirement_evaluation" in data and "requirement_analysis" not in data
    verified(Session, driver, 2)
    driver.complete("sign_contract")
    verified(Session, driver, 2)


def test_renames_of_successive_migrations_compose_and_a_rename_back_cancels(Session, clock):
    driver = analysed(Session, clock)
    files = engine.bundle_files("processes", "forms")
    with Session.begin() as session:
        two, three = deploy(session, version_two(files)), deploy(session, version_three(files))
        four = deploy(session, files)  # the first version again: the step gets its first id back
    with Session.begin() as session:
        migrate_instance(session, driver.id, two, ADMIN, clock=clock)
    driver.complete("risk_identification")
    with Session.begin() as session:
        assert migrate_instance(session, driver.id, three, ADMIN, clock=clock).method == "diff"
    verified(Session, driver, 3)  # requirement_analysis -> requirement_evaluation -> requirement_assessment
    with Session.begin() as session:
        assert migrate_instance(session, driver.id, four, ADMIN, clock=clock).method == "diff"
    verified(Session, driver, 4)  # ... -> requirement_analysis
    assert [e["renamed"] for e in migrated_events(Session, driver.id)] == [
        {"requirement_analysis": "requirement_evaluation"},
        {"requirement_evaluation": "requirement_assessment"},
        {"requirement_assessment": "requirement_analysis"},
    ]
    with Session.begin() as session:  # back on version 3: the last renames no longer count
        undo(session, driver.id, ADMIN, clock)
    verified(Session, driver, 3)
    driver.complete("risk_response")
    verified(Session, driver, 3)
