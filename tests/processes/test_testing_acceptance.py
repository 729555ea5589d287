"""R3.5 測試與驗收: joint test, rectification, acceptance by IT and by the business."""

import pytest
from harness import MISSING


def test_a_passed_joint_test_goes_to_both_acceptances(start):
    flow = start()
    flow.reach("joint_test")
    flow.complete("joint_test", decision="pass")
    assert flow.ready() == ["acceptance", "business_acceptance"]


def test_a_pass_with_no_issue_list_sent_passes_and_a_fail_without_one_is_refused(start):
    """A list left out is no rows, as form-js sends it: a clean pass sent by an API client
    without `issues` was refused as if a high-severity issue were open."""
    flow = start()
    flow.reach("joint_test")
    with pytest.raises(Exception, match="issue list") as refused:
        flow.complete("joint_test", decision="fail", issues=MISSING)
    assert set(refused.value.errors) == {"decision"} and flow.ready() == ["joint_test"]
    flow.complete("joint_test", decision="pass", issues=MISSING)
    assert flow.ready() == ["acceptance", "business_acceptance"]
    assert flow.data["joint_test"]["issues"] == []


def test_a_failed_joint_test_is_rectified_and_tested_again(start):
    flow = start()
    flow.reach("joint_test")
    issue = {"title": "移動端登錄失敗", "severity": "high", "description": "iOS 客戶端無法登錄。"}
    flow.complete("joint_test", decision="fail", issues=[issue])
    assert flow.ready() == ["rectify"]
    assert flow.data["joint_test"]["issues"] == [issue]
    flow.complete("rectify", fixed_issues="移動端登錄失敗")
    assert flow.ready() == ["joint_test"]


def test_the_rectification_loop_can_be_taken_three_times(start):
    flow = start()
    flow.reach("joint_test")
    for round_ in range(1, 4):
        flow.complete("joint_test", decision="fail")
        flow.complete("rectify", rectification=f"第{round_}輪整改。")
    flow.complete("joint_test", decision="pass")
    assert flow.ready() == ["acceptance", "business_acceptance"]
    assert flow.instance.completed_elements["rectify"] == 3
    assert flow.instance.completed_elements["joint_test"] == 4
    assert flow.data["rectify"]["rectification"] == "第3輪整改。"


@pytest.mark.parametrize(
    ("it_decision", "business_decision", "accepted"),
    [
        ("accept", "accept", True),
        ("accept", "reject", False),
        ("reject", "accept", False),
        ("reject", "reject", False),
    ],
)
def test_acceptance_needs_both_it_and_the_business(start, it_decision, business_decision, accepted):
    flow = start()
    flow.reach("acceptance")
    flow.complete("acceptance", decision=it_decision)
    flow.complete("business_acceptance", decision=business_decision)
    if accepted:
        assert flow.ready() == ["training"]
        assert flow.data["acceptance_report"]["signed_by"] == ["王主任", "李經理"]
    else:
        assert flow.ready() == ["rectify"]
        assert "acceptance_report" not in flow.data


def test_after_a_rejected_acceptance_the_second_round_decides_on_its_own_answers(start):
    flow = start()
    flow.reach("acceptance")
    flow.complete("acceptance", decision="reject", comment="文檔不全。")
    flow.complete("business_acceptance", decision="accept")
    flow.complete("rectify")
    flow.complete("joint_test", decision="pass")
    # the business answers first this time: the gateway waits for IT's new answer, and IT's
    # earlier "reject" (and its comment) play no part in the second round
    flow.complete("business_acceptance", decision="accept")
    assert flow.ready() == ["acceptance"]
    flow.complete("acceptance", decision="accept")
    assert flow.ready() == ["training"]
    assert "comment" not in flow.data["acceptance"]


def test_three_hundred_rectification_rounds_still_run_and_complete(start):
    flow = start()
    flow.reach("joint_test")
    for _ in range(300):
        flow.complete("joint_test", decision="fail")
        flow.complete("rectify")
    assert flow.ready() == ["joint_test"]
    flow.finish()

    assert flow.status == "completed"
    assert flow.instance.completed_elements["rectify"] == 300
    assert flow.instance.completed_elements["joint_test"] == 301
    assert "acceptance_report" in flow.data
