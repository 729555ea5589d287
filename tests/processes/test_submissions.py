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
