"""R3.6.4 技術支持: during the support period problems are reported, the vendor resolves them and
IT confirms; the project is not closed while one is open."""

import pytest

from engine import Actor, FormValidationError, InstanceStateError, MessageRefused, NotAllowed

BUSINESS = Actor("business_user", frozenset({"business"}))
REPORT = {"problem": "報表導出亂碼。", "severity": "medium"}


def in_support_period(start):
    flow = start()
    flow.reach("golive")
    flow.complete("golive", decision="success")
    return flow


def test_a_reported_problem_goes_back_to_the_vendor_until_it_confirms_resolved(start):
    flow = in_support_period(start)
    flow.send("support_request", BUSINESS, problem="附件無法下載。", severity="high")
    assert flow.ready() == ["resolve_support_request"]
    assert flow.task("resolve_support_request").groups == ("vendor",)

    flow.complete("resolve_support_request", resolution="已修復下載鏈接。")
    assert flow.task("confirm_support_resolution").groups == ("it",)
    shown = flow.instance.form_for(flow.task("confirm_support_resolution").id)[1]
    assert shown["support_request"]["problem"] == "附件無法下載。"
    assert shown["resolve_support_request"]["resolution"] == "已修復下載鏈接。"

    flow.complete("confirm_support_resolution", decision="reopen", comment="部分附件仍無法下載。")
    assert flow.ready() == ["resolve_support_request"]
    flow.complete("resolve_support_request", resolution="已修復全部附件鏈接。")
    flow.complete("confirm_support_resolution", decision="resolved")
    assert flow.ready() == []  # the inspection timer waits
    assert flow.instance.completed_elements["support_request_resolved"] == 1


def test_reopening_needs_a_comment(start):
    flow = in_support_period(start)
    flow.send("support_request", **REPORT)
    flow.complete("resolve_support_request")
    with pytest.raises(FormValidationError, match="comment"):
        flow.complete("confirm_support_resolution", decision="reopen")


def test_the_project_is_not_closed_while_a_reported_problem_is_open(start):
    flow = in_support_period(start)
    while "project_closure" not in flow.ready():
        flow.advance(days=30)
        if "project_closure" not in flow.ready() and flow.tasks("inspection"):
            if flow.instance.data["support_end"] <= flow.clock.now.date().isoformat():
                flow.send(
                    "support_request", problem="結項前發現報表錯誤。", severity="low"
                )  # during the last inspection
            flow.complete("inspection")
    assert flow.ready() == ["project_closure", "resolve_support_request"]
    with pytest.raises(InstanceStateError, match="解決問題"):
        flow.complete("project_closure")
    flow.complete("resolve_support_request")
    with pytest.raises(InstanceStateError, match="確認解決"):
        flow.complete("project_closure")
    flow.complete("confirm_support_resolution")
    flow.complete("project_closure")
    assert flow.status == "completed"


@pytest.mark.parametrize("stage", ["before go-live", "after closure"])
def test_problems_are_reported_only_in_the_support_period(start, stage):
    flow = start()
    if stage == "before go-live":
        flow.reach("golive")
    else:
        flow.finish()
    with pytest.raises(MessageRefused):
        flow.send("support_request", **REPORT)
    assert "support_request" not in flow.data


@pytest.mark.parametrize("group", ["vendor", "finance"])
def test_the_vendor_and_finance_do_not_report_problems_for_the_users(start, group):
    flow = in_support_period(start)
    with pytest.raises(NotAllowed, match="may not send"):
        flow.send("support_request", Actor(f"{group}_user", frozenset({group})), **REPORT)
