"""Submissions are checked against the step's form; a refused one stores nothing.

Each refusal names the fields at fault and leaves the same ready steps and the same data.
"""

import pytest
from harness import MISSING

from engine import FormValidationError


def test_a_missing_required_field_is_named_and_nothing_is_stored(start):
    flow = start()
    flow.reach("requirement_analysis")
    ready, data = flow.ready(), flow.data

    with pytest.raises(FormValidationError) as refused:
        flow.complete("requirement_analysis", technical_feasibility=MISSING, cost_training=MISSING)
    assert set(refused.value.errors) == {"technical_feasibility", "cost_training"}
    assert flow.ready() == ready
    assert flow.data == data
    assert "requirement_analysis" not in flow.data


def test_every_bad_field_is_named_at_once_the_rules_too(start):
    """A form's rules (requiredWhen, validWhen) were not checked while any field failed on its
    own: a refusal named the missing signer, then the next try the acceptance's decision."""
    flow = start()
    flow.reach("acceptance")
    ready, data = flow.ready(), flow.data
    with pytest.raises(FormValidationError) as refused:
        flow.complete("acceptance", decision="accept", security_effective=False, signer=MISSING)
    assert set(refused.value.errors) == {"signer", "decision"}
    assert (flow.ready(), flow.data) == (ready, data)


def test_a_rule_that_reads_a_field_refused_on_its_own_is_not_judged_on_it(start):
    """The end date's rule compares it with the start date: with the start date refused (not a
    date), only the start date is named, not the end date too."""
    flow = start()
    flow.reach("initiation_application")
    with pytest.raises(FormValidationError) as refused:
        flow.complete("initiation_application", start_date="tomorrow", end_date="2026-01-01")
    assert set(refused.value.errors) == {"start_date"}
    with pytest.raises(FormValidationError) as refused:
        flow.complete("initiation_application", start_date="2026-06-01", end_date="2026-01-01", plan=MISSING)
    assert set(refused.value.errors) == {"end_date", "plan"}


def test_a_value_outside_a_select_is_named_and_nothing_is_stored(start):
    flow = start()
    ready, data = flow.ready(), flow.data

    with pytest.raises(FormValidationError) as refused:
        flow.complete("preliminary_review", decision="maybe")
    assert set(refused.value.errors) == {"decision"}
    assert flow.ready() == ready
    assert flow.data == data


def test_an_unknown_field_is_named_and_nothing_is_stored(start):
    flow = start()
    flow.reach("budget_audit")
    ready, data = flow.ready(), flow.data

    with pytest.raises(FormValidationError) as refused:
        flow.complete("budget_audit", decision="approve", approved_by="someone_else")
    assert set(refused.value.errors) == {"approved_by"}
    assert flow.ready() == ready
    assert flow.data == data


def test_numbers_out_of_range_are_refused(start):
    flow = start()
    flow.reach("sign_contract")
    with pytest.raises(FormValidationError) as refused:
        flow.complete("sign_contract", support_months=0, amount=-1)
    assert set(refused.value.errors) == {"support_months", "amount"}
    assert flow.ready() == ["sign_contract"]


def test_a_change_request_without_a_reason_is_refused(start):
    flow = start()
    flow.reach("implement")
    with pytest.raises(FormValidationError) as refused:
        flow.send("change_request", scope_change="增加模塊。")
    assert set(refused.value.errors) == {"reason"}
    assert flow.ready() == ["implement"]
    assert "change_request" not in flow.data


HIGH = [{"title": "審批卡死", "severity": "high", "description": "並發審批時流程卡死。"}]


@pytest.mark.parametrize(
    ("step", "submission", "field", "clause"),
    [
        ("preliminary_review", {"decision": "accept", "in_it_plan": False}, "decision", "R3.1.2"),
        (
            "initiation_application",
            {"start_date": "2026-06-30", "end_date": "2026-02-01"},
            "end_date",
            "R3.3.1",
        ),
        ("self_test", {"passed": False}, "passed", "R3.5.1"),
        ("joint_test", {"decision": "fail", "issues": []}, "decision", "R3.5.3"),
        ("joint_test", {"decision": "pass", "issues": HIGH}, "decision", "R3.5.3"),
        ("joint_test", {"performance_result": MISSING}, "performance_result", None),
        ("acceptance", {"decision": "accept", "security_effective": False}, "decision", "R3.5.4"),
        ("business_acceptance", {"decision": "accept", "business_needs_met": False}, "decision", "R3.5.5"),
        (
            "training_assessment",
            {"decision": "pass", "results": [{"trainee": "陳小明", "result": "fail"}]},
            "decision",
            "R6.2.3",
        ),
    ],
)
def test_a_decision_its_own_record_contradicts_is_refused(start, step, submission, field, clause):
    """A decision must agree with the facts recorded beside it: acceptance with an unmet check,
    a joint test passed with an open high issue or failed with no issue list, a request accepted
    outside the IT plan, a project planned to end before it starts. Each is refused naming the field and the clause; nothing moves."""
    flow = start()
    flow.reach(step)
    ready, data = flow.ready(), flow.data
    with pytest.raises(FormValidationError) as refused:
        flow.complete(step, **submission)
    assert set(refused.value.errors) == {field}
    if clause:
        assert clause in refused.value.errors[field][0]
    assert (flow.ready(), flow.data) == (ready, data)


def test_the_same_decisions_go_through_when_the_record_agrees(start):
    flow = start()
    flow.reach("joint_test")
    flow.complete("joint_test", decision="fail", issues=HIGH)  # a fail with its issue list
    flow.complete("rectify")
    low = [{**HIGH[0], "severity": "low"}]
    flow.complete("joint_test", decision="pass", issues=low)  # a low issue does not hold it up
    assert "acceptance" in flow.ready()


@pytest.mark.parametrize("step", ["requirement_analysis", "initiation_application", "sign_contract"])
def test_an_amount_beyond_what_the_registers_hold_is_refused(start, step):
    """Amounts in 元 stop below 10^12, as the cost and plan registers hold them: 1e28 was taken
    and the document made from it could not be shown."""
    field = {
        "requirement_analysis": "cost_licences",
        "initiation_application": "budget",
        "sign_contract": "amount",
    }[step]
    flow = start()
    flow.reach(step)
    ready, data = flow.ready(), flow.data
    with pytest.raises(FormValidationError) as refused:
        flow.complete(step, **{field: 1e28})
    assert refused.value.errors == {
        field: ["數值須在 0 至 999999999999.99 之間 / Must be between 0 and 999999999999.99."]
    }
    assert (flow.ready(), flow.data) == (ready, data)
    flow.complete(step, **{field: 999999999999.99})
    assert flow.data[step][field] == 999999999999.99
