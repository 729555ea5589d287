"""R3.6.4 技術支持: during the support period problems are reported, the vendor resolves them and
IT confirms; the project is not closed while one is open."""

from datetime import UTC, date, datetime, timedelta

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
    reported = False
    while "project_closure" not in flow.ready():
        flow.advance(days=30)
        if "project_closure" not in flow.ready() and flow.tasks("inspection"):
            support_end = date.fromisoformat(flow.instance.data["support_end"])
            last = support_end <= flow.clock.now.date() + timedelta(days=30)
            if last and not reported:  # the last inspection inside the support period
                flow.send("support_request", problem="結項前發現報表錯誤。", severity="low")
                reported = True
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


def twelve_months_of_support(start):
    flow = start()
    flow.reach("sign_contract")
    flow.complete("sign_contract", support_months=12)
    flow.reach("golive")
    flow.complete("golive", decision="success")  # 2026-01-05
    assert flow.data["support_end"] == "2027-01-05"
    return flow


def test_the_last_inspection_is_on_the_day_support_ends_and_closure_follows(start):
    """R3.6.4: the vendor supports for the contract's period. Inspections come every 30 days,
    the last on the day the period ends (not up to 29 days after it); closure follows it."""
    flow = twelve_months_of_support(start)
    inspections = []
    while "project_closure" not in flow.ready():
        while "inspection" not in flow.ready():
            flow.advance(days=1)
        inspections.append(flow.clock.now.date().isoformat())
        flow.complete("inspection")
    assert len(inspections) == 13 and inspections[-2:] == ["2026-12-31", "2027-01-05"]
    assert flow.ready() == ["project_closure"]


def test_the_last_inspection_is_due_at_the_start_of_the_last_day_in_utc(start):
    """Due at 00:00 UTC of the day the period ends, the day `today()` (UTC) names: a date alone
    would be read in the server's zone, and east of UTC the last inspection came while today()
    still named the day before, so the period had not ended and it came again."""
    flow = twelve_months_of_support(start)
    for _ in range(12):
        flow.advance(days=30)
        flow.complete("inspection")
    assert flow.instance.next_timer_due() == datetime(2027, 1, 5, tzinfo=UTC)


def test_a_problem_is_not_taken_once_the_support_period_has_ended(start):
    """On the day the period ends its last inspection is open; a problem reported then (or
    later) is refused, saying why, and nothing reaches the vendor."""
    flow = twelve_months_of_support(start)
    for _ in range(12):
        flow.advance(days=30)
        flow.complete("inspection")
    flow.send("support_request", **REPORT)  # 2026-12-31: still in the period
    flow.complete("resolve_support_request")
    flow.complete("confirm_support_resolution")
    flow.advance(days=5)  # 2027-01-05: the last inspection
    assert flow.ready() == ["inspection"]
    with pytest.raises(MessageRefused, match="today\\(\\) < support_end"):
        flow.send("support_request", **REPORT)
    assert flow.ready() == ["inspection"]
