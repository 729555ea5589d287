"""R3.4.5 變更管理: change requests are reviewed by IT and approved by management during `implement`."""

import json

import pytest

from engine import InstanceStateError, MessageRefused


def change_reviews(flow):
    """The open change reviews, each with the request it shows (what its form page is given)."""
    return {
        flow.instance.form_for(t.id)[1]["change_request"]["reason"]: t for t in flow.tasks("change_review")
    }


def test_two_change_requests_during_implementation_one_approved_one_rejected(start):
    flow = start()
    flow.reach("implement")
    received = flow.send("change_request", reason="增加電子簽章功能。", requested_by="業務部門")
    assert [e.kind for e in received.events] == ["message_received"]
    flow.send("change_request", reason="提前兩週上線。", schedule_change="上線日提前至5月15日。")
    assert flow.ready() == ["change_review", "change_review", "implement"]

    reviews = change_reviews(flow)
    assert set(reviews) == {"增加電子簽章功能。", "提前兩週上線。"}
    flow.complete_task(reviews["增加電子簽章功能。"], decision="approve", impact_analysis="費用增加五萬元。")
    flow.complete_task(reviews["提前兩週上線。"], decision="reject", impact_analysis="測試時間不足。")
    assert flow.ready() == ["change_approval", "implement"]
    form_data = flow.instance.form_for(flow.task("change_approval").id)[1]
    assert form_data["change_request"]["reason"] == "增加電子簽章功能。"
    assert form_data["change_review"]["impact_analysis"] == "費用增加五萬元。"

    flow.complete("change_approval", decision="approve", comment="同意按合同變更。")
    assert flow.ready() == ["implement"]
    done = flow.instance.completed_elements
    assert (done["change_decided"], done["change_rejected"], done["change_approval"]) == (1, 1, 1)

    flow.complete("implement")
    assert flow.ready() == ["self_test"]
    flow.finish()
    assert flow.status == "completed"


def test_implementation_is_not_done_while_a_change_request_is_undecided(start):
    """R3.4.5: a change goes through change control before the work it changes is reported done;
    otherwise it would still be open, and decided, after testing or even the project's end."""
    flow = start()
    flow.reach("implement")
    flow.send("change_request", reason="增加電子簽章功能。")
    with pytest.raises(InstanceStateError, match=r"變更審核.*change_review is open"):
        flow.complete("implement")
    flow.complete("change_review", decision="approve")
    with pytest.raises(InstanceStateError, match=r"變更審批.*change_approval is open"):
        flow.complete("implement")
    assert flow.ready() == ["change_approval", "implement"]  # nothing moved
    flow.complete("change_approval", decision="approve", comment="同意按合同變更。")
    flow.complete("implement")
    assert flow.ready() == ["self_test"]
    with pytest.raises(MessageRefused):
        flow.send("change_request", reason="再改一次。")


def test_management_may_refuse_an_approved_change(start):
    flow = start()
    flow.reach("implement")
    flow.send("change_request", reason="更換數據庫產品。")
    flow.complete("change_review", decision="approve")
    flow.complete("change_approval", decision="reject", comment="風險過高。")
    assert flow.ready() == ["implement"]
    assert flow.instance.completed_elements["change_decided"] == 1
    assert flow.events[-1].data == {"decision": "reject", "comment": "風險過高。"}


def test_a_change_request_is_refused_before_implementation(start):
    flow = start()
    flow.reach("plan_review")
    with pytest.raises(MessageRefused):
        flow.send("change_request", reason="增加電子簽章功能。")
    assert flow.ready() == ["plan_review"]
    assert "change_request" not in flow.data


def test_a_change_request_is_refused_after_the_project_is_closed(start):
    flow = start()
    flow.complete("preliminary_review", decision="reject")
    assert flow.status == "completed"
    with pytest.raises(MessageRefused):
        flow.send("change_request", reason="增加電子簽章功能。")
    assert flow.status == "completed"
    assert flow.ready() == []


def test_a_change_request_in_one_instance_does_not_change_the_definition_others_run_on(start, definition):
    before = json.dumps(definition.dump(), sort_keys=True)
    flow = start()
    flow.reach("implement")
    flow.send("change_request", reason="增加電子簽章功能。")
    flow.complete("change_review", decision="reject")
    assert json.dumps(definition.dump(), sort_keys=True) == before

    other = start()
    other.complete("preliminary_review", decision="reject")
    assert other.status == "completed"
