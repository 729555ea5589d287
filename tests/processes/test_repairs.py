"""Admins repair instances: suspend/resume/terminate, incidents and retry, skip, edit data, rewind."""

import pytest

from engine import Actor, InstanceStateError, MessageRefused, NotAllowed

ADMIN = Actor("root", frozenset(), is_admin=True)
IT = Actor("it_user", frozenset({"it"}))


def test_a_suspended_instance_does_nothing_until_resumed(start):
    flow = start()
    flow.repair(lambda i: i.suspend(ADMIN, "等待預算確認"))
    assert flow.status == "suspended"
    with pytest.raises(InstanceStateError, match="suspended"):
        flow.complete("preliminary_review")
    assert flow.ready() == ["preliminary_review"]
    flow.repair(lambda i: i.resume(ADMIN, "預算已確認"))
    flow.complete("preliminary_review")
    assert (flow.status, flow.ready()) == ("running", ["requirement_analysis"])
    assert [e.kind for e in flow.events if e.kind in ("suspended", "resumed")] == ["suspended", "resumed"]
    assert next(e for e in flow.events if e.kind == "suspended").data == {"reason": "等待預算確認"}


def test_a_timer_due_while_suspended_fires_on_resume_and_is_logged(start):
    flow = start()
    flow.reach("implement")
    flow.repair(lambda i: i.suspend(ADMIN, "待定"))
    flow.advance(days=15)
    assert flow.ready() == ["implement"]  # nothing moves while suspended
    flow.repair(lambda i: i.resume(ADMIN, "繼續"))
    assert "risk_reassessment" in flow.ready()
    kinds = [e.kind for e in flow.events]
    assert kinds[kinds.index("resumed") :][:2] == ["resumed", "timer_fired"]


def test_a_terminated_instance_takes_no_step_and_no_message(start):
    flow = start()
    flow.reach("implement")
    flow.repair(lambda i: i.terminate(ADMIN, "項目取消"))
    assert (flow.status, flow.ready()) == ("terminated", [])
    with pytest.raises(MessageRefused):
        flow.send("change_request", reason="x")


def test_an_incident_keeps_what_was_done_and_a_retry_after_the_fix_goes_on(start):
    flow = start()
    flow.reach("golive")
    # The contract's support period goes missing: going live cannot start the support period.
    flow.repair(lambda i: i.edit_data(ADMIN, {"sign_contract": {}}, "模擬數據錯誤"))
    flow.complete("golive", decision="success")
    assert flow.status == "error"
    assert flow.instance.error["element"] == "start_support_period"
    assert "support_months" in flow.instance.error["message"]
    assert flow.instance.completed_elements["golive"] == 1
    assert flow.ready() == []
    assert flow.advance(days=60).events == []  # nothing moves while in error

    flow.repair(lambda i: i.edit_data(ADMIN, {"sign_contract": {"support_months": 1}}, "補錄支持期"))
    flow.repair(lambda i: i.retry(ADMIN))
    assert flow.status == "running"
    assert flow.data["support_end"] == "2026-04-06"  # retried on 2026-03-06 (60 days in error), plus a month


def test_a_suspended_instance_in_error_is_not_retried_until_resumed(start):
    """A retry while suspended ran the failed step (the support period started): nothing moves
    until the instance is resumed."""
    flow = start()
    flow.reach("golive")
    flow.repair(lambda i: i.edit_data(ADMIN, {"sign_contract": {}}, "模擬數據錯誤"))
    flow.complete("golive", decision="success")
    flow.repair(lambda i: i.edit_data(ADMIN, {"sign_contract": {"support_months": 1}}, "補錄支持期"))
    flow.repair(lambda i: i.suspend(ADMIN, "待審計"))
    with pytest.raises(InstanceStateError, match="resume it, then retry"):
        flow.repair(lambda i: i.retry(ADMIN))
    assert "support_end" not in flow.data and flow.instance.error is not None
    flow.repair(lambda i: i.resume(ADMIN, "審計完成"))
    flow.repair(lambda i: i.retry(ADMIN))
    assert flow.status == "running" and "support_end" in flow.data


def test_rewind_makes_an_earlier_step_ready_again_and_it_can_be_done_again(start):
    flow = start()
    flow.reach("analysis_report")
    identified = next(
        e for e in flow.events if e.kind == "task_completed" and e.element_id == "risk_identification"
    )
    flow.repair(lambda i: i.rewind(identified.task_id, ADMIN, "風險遺漏"))
    assert flow.ready() == ["risk_identification"]
    flow.complete("risk_identification")
    flow.complete("risk_response")
    assert flow.ready() == ["analysis_report"]
    assert flow.instance.completed_elements["risk_identification"] == 2


def test_a_rewind_while_suspended_moves_nothing_until_resumed(start):
    """The rewind ran the engine: the inspection timer that fell due while suspended fired then,
    and `inspection` was ready in a suspended instance. It fires on resume, as any due timer."""
    flow = start()
    flow.reach("golive")
    flow.complete("golive", decision="success")
    flow.send(
        "support_request", Actor("b", frozenset({"business"})), problem="附件無法下載。", severity="high"
    )
    flow.complete("resolve_support_request")
    assert flow.ready() == ["confirm_support_resolution"]
    flow.repair(lambda i: i.suspend(ADMIN, "暫停核查"))
    flow.advance(days=31)  # the monthly inspection falls due
    resolved = [e for e in flow.events if e.element_id == "resolve_support_request"][-1].task_id
    flow.repair(lambda i: i.rewind(resolved, ADMIN, "重做"))
    assert (flow.status, flow.ready()) == ("suspended", ["resolve_support_request"])
    assert [e.kind for e in flow.events][-2:] == ["suspended", "rewound"]
    flow.repair(lambda i: i.resume(ADMIN, "繼續"))
    assert flow.ready() == ["inspection", "resolve_support_request"]
    assert [e.kind for e in flow.events][-2:] == ["resumed", "timer_fired"]


def completed(flow, element_id):
    """The task id of the latest completion of `element_id`."""
    return [e for e in flow.events if e.kind == "task_completed" and e.element_id == element_id][-1].task_id


def test_rewind_into_a_called_process_while_its_timer_waits_leaves_no_stale_timer(start):
    """`implement`'s risk timer stayed registered after the rewind removed it: the next engine
    step read a task with no parent, and the instance was in error for good."""
    flow = start()
    flow.reach("implement")
    flow.repair(lambda i: i.rewind(completed(flow, "sign_contract"), ADMIN, "合同須重簽"))
    assert (flow.status, flow.ready()) == ("running", ["sign_contract"])
    flow.advance(days=30)  # no timer of the undone implementation fires
    assert flow.ready() == ["sign_contract"]
    flow.reach("implement")
    flow.advance(days=14)
    assert flow.ready() == ["implement", "risk_reassessment"]


def test_rewind_of_an_ended_instance_into_a_called_process_reopens_it(start):
    """The called process stayed `completed`: its next step sat in the inbox and every
    completion of it answered that the instance had ended."""
    flow = start()
    flow.finish()
    flow.repair(lambda i: i.rewind(completed(flow, "golive"), ADMIN, "上線後發現問題"))
    assert (flow.status, flow.ready()) == ("running", ["golive"])
    flow.complete("golive", decision="success")
    flow.advance(days=200)
    while "inspection" in flow.ready():
        flow.complete("inspection")
        flow.advance(days=30)
    flow.complete("project_closure")
    assert flow.status == "completed"


def test_rewind_to_a_branch_whose_work_went_on_in_the_other_is_refused(start):
    """`budget_audit` joined `initiation_review`'s branch: a rewind to it left the
    implementation running beside it, and the instance failed later."""
    flow = start()
    flow.reach("implement")
    before = flow.ready()
    with pytest.raises(InstanceStateError, match="went on from initiation_join"):
        flow.repair(lambda i: i.rewind(completed(flow, "budget_audit"), ADMIN, "預算重審"))
    assert flow.ready() == before
    # Before the split both branches are undone together.
    flow.repair(lambda i: i.rewind(completed(flow, "initiation_application"), ADMIN, "重新申請"))
    assert flow.ready() == ["initiation_application"]


def test_skip_completes_a_task_without_its_form_with_a_reason(start):
    flow = start()
    flow.repair(
        lambda i: i.skip(flow.task("preliminary_review").id, ADMIN, "線下已審核", {"decision": "accept"})
    )
    assert flow.ready() == ["requirement_analysis"]
    skipped = next(e for e in flow.events if e.kind == "task_skipped")
    assert skipped.data == {"reason": "線下已審核", "data": {"decision": "accept"}}


def test_edited_data_logs_old_and_new_values(start):
    flow = start()
    flow.repair(lambda i: i.edit_data(ADMIN, {"requirement_request": {"title": "新標題"}}, "更正標題"))
    edited = next(e for e in flow.events if e.kind == "data_edited")
    assert edited.data["changes"]["requirement_request"]["new"] == {"title": "新標題"}
    assert edited.data["changes"]["requirement_request"]["old"]["title"] == "辦公自動化系統升級"
    assert flow.data["requirement_request"] == {"title": "新標題"}


@pytest.mark.parametrize(
    "repair",
    [
        lambda i, t: i.suspend(IT, "r"),
        lambda i, t: i.terminate(IT, "r"),
        lambda i, t: i.retry(IT),
        lambda i, t: i.skip(t, IT, "r"),
        lambda i, t: i.edit_data(IT, {"x": 1}, "r"),
        lambda i, t: i.rewind(t, IT, "r"),
    ],
)
def test_every_repair_is_for_admins_only(start, repair):
    flow = start()
    task_id = flow.task("preliminary_review").id
    before = flow.data
    with pytest.raises(NotAllowed):
        flow.repair(lambda i: repair(i, task_id))
    assert (flow.status, flow.ready(), flow.data) == ("running", ["preliminary_review"], before)


def test_a_repair_needs_a_reason(start):
    flow = start()
    with pytest.raises(InstanceStateError, match="reason"):
        flow.repair(lambda i: i.suspend(ADMIN, "  "))
    assert flow.status == "running"
