"""`requiredWhen` may read what the form was shown, not only what was submitted (issue 9)."""

import json
from pathlib import Path

import pytest

from engine import Form, FormValidationError

FORMS = Path(__file__).resolve().parents[2] / "forms"


@pytest.fixture
def form():
    return Form(
        {
            "id": "f",
            "components": [
                {"type": "textfield", "key": "plan", "validate": {"required": True}},
                {
                    "type": "textarea",
                    "key": "justification",
                    "properties": {"requiredWhen": "not plan_status.in_plan"},
                },
            ],
        }
    )


def test_a_rule_reads_a_shown_value_that_is_no_field(form):
    with pytest.raises(FormValidationError) as refused:
        form.validate({"plan": "x"}, shown={"plan_status": {"in_plan": False}})
    assert refused.value.errors == {"justification": ["此欄位為必填項 / This field is required."]}
    assert form.validate({"plan": "x"}, shown={"plan_status": {"in_plan": True}}) == {"plan": "x"}
    assert form.validate({"plan": "x", "justification": "因為"}, shown={"plan_status": {"in_plan": False}})


def test_without_the_shown_value_the_rule_does_not_apply(form):
    # No provider (e.g. replaying the log): the expression cannot be evaluated, nothing is required.
    assert form.validate({"plan": "x"}) == {"plan": "x"}
    assert form.validate({"plan": "x"}, shown={}) == {"plan": "x"}


def test_submitted_values_win_over_shown_ones():
    form = Form(
        {
            "id": "g",
            "components": [
                {"type": "checkbox", "key": "urgent"},
                {"type": "textarea", "key": "reason", "properties": {"requiredWhen": "urgent"}},
            ],
        }
    )
    assert form.validate({"urgent": False}, shown={"urgent": True}) == {"urgent": False}
    with pytest.raises(FormValidationError):
        form.validate({"urgent": True}, shown={"urgent": False})


def test_the_rows_of_a_list_still_see_only_their_row():
    form = Form(
        {
            "id": "h",
            "components": [
                {
                    "type": "dynamiclist",
                    "path": "rows",
                    "components": [
                        {"type": "textfield", "key": "priority"},
                        {
                            "type": "textarea",
                            "key": "measures",
                            "properties": {"requiredWhen": "priority == 'high'"},
                        },
                    ],
                }
            ],
        }
    )
    # A shown top-level `priority` does not leak into the rows.
    assert form.validate({"rows": [{"priority": "low"}]}, shown={"priority": "high"})
    with pytest.raises(FormValidationError) as refused:
        form.validate({"rows": [{"priority": "high"}]}, shown={})
    assert list(refused.value.errors) == ["rows.0.measures"]


def test_the_initiation_application_asks_for_a_justification_when_unplanned():
    form = Form.from_json((FORMS / "initiation_application.form").read_text(), "initiation_application.form")
    data = {"budget": 1, "start_date": "2026-02-01", "end_date": "2026-06-30", "plan": "p"}
    with pytest.raises(FormValidationError) as refused:
        form.validate(data, shown={"plan_status": {"in_plan": False, "plan": None, "quarter": None}})
    assert list(refused.value.errors) == ["justification"]
    assert (
        form.validate(data, shown={"plan_status": {"in_plan": True, "plan": "2026 v1", "quarter": "Q1"}})
        == data
    )
    review = json.loads((FORMS / "initiation_review.form").read_text())
    assert any("{{initiation_application.justification}}" in c.get("text", "") for c in review["components"])


@pytest.mark.parametrize(
    "rule", ["int(text) > 0", "100 / amount > 1", "[1][amount] == 1", "amount ** 10 ** 8 > 0"]
)
def test_a_rule_that_cannot_be_worked_out_does_not_hold_and_is_no_crash(rule):
    """A text where a number was meant, a division by zero, an index out of range, a number too
    big: the rule does not hold (the field is refused with its message), never a 500."""
    form = Form(
        {
            "id": "h",
            "components": [
                {"type": "textfield", "key": "text"},
                {"type": "number", "key": "amount"},
                {
                    "type": "textfield",
                    "key": "note",
                    "properties": {"validWhen": rule, "invalidMessage": "不符"},
                },
            ],
        }
    )
    amount = {"100 / amount > 1": 0, "[1][amount] == 1": 5}.get(rule, 10)
    with pytest.raises(FormValidationError) as refused:
        form.validate({"text": "abc", "amount": amount, "note": "x"})
    assert refused.value.errors == {"note": ["不符"]}
