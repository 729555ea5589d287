"""R5 風險管理: identification, the risk matrix (processes/risk_matrix.dmn), response, monitoring."""

import pytest
from harness import MISSING

from engine import FormValidationError

# R5.2.2 風險矩陣: likelihood × impact → priority, as the regulation's table gives it.
MATRIX = {
    ("high", "severe"): "high",
    ("high", "major"): "high",
    ("high", "general"): "medium",
    ("high", "minor"): "medium",
    ("medium", "severe"): "high",
    ("medium", "major"): "medium",
    ("medium", "general"): "medium",
    ("medium", "minor"): "low",
    ("low", "severe"): "medium",
    ("low", "major"): "low",
    ("low", "general"): "low",
    ("low", "minor"): "low",
}


def risk(likelihood, impact, category="technical"):
    return {
        "category": category,
        "description": f"可能性{likelihood}，影響{impact}",
        "likelihood": likelihood,
        "impact": impact,
    }


def test_every_cell_of_the_risk_matrix_gives_its_priority(start):
    flow = start()
    flow.reach("risk_identification")
    flow.complete("risk_identification", risks=[risk(*cell) for cell in MATRIX])

    assert flow.ready() == ["risk_response"]
    assessed = {(r["likelihood"], r["impact"]): r["priority"] for r in flow.data["risks"]}
    assert assessed == MATRIX
    assert len(flow.data["risks"]) == 12


def test_a_high_risk_without_measures_is_refused_and_nothing_is_stored(start):
    flow = start()
    flow.reach("risk_identification")
    flow.complete("risk_identification", risks=[risk("low", "minor"), risk("high", "severe", "security")])
    before = flow.data
    rows = [dict(r) for r in flow.data["risks"]]  # the form shows them read-only, no measures yet

    with pytest.raises(FormValidationError) as refused:
        flow.complete("risk_response", risks=rows)
    assert set(refused.value.errors) == {"risks.1.measures"}
    assert flow.ready() == ["risk_response"]
    assert flow.data == before

    rows[1]["measures"] = "部署前進行安全滲透測試，並制定應急預案。"
    flow.complete("risk_response", risks=rows)
    assert flow.ready() == ["analysis_report"]
    assert flow.data["risks"][1]["measures"] == "部署前進行安全滲透測試，並制定應急預案。"
    assert "measures" not in flow.data["risks"][0]  # low risks need none (R5.3.1)


def test_at_least_the_fields_of_each_identified_risk_are_required(start):
    flow = start()
    flow.reach("risk_identification")
    incomplete = {k: v for k, v in risk("medium", "major").items() if k != "likelihood"}
    with pytest.raises(FormValidationError) as refused:
        flow.complete("risk_identification", risks=[incomplete])
    assert set(refused.value.errors) == {"risks.0.likelihood"}
    assert flow.ready() == ["risk_identification"]
    assert "risks" not in flow.data


def test_a_reassessment_during_implementation_updates_the_risk_register(start):
    flow = start()
    flow.reach("implement")
    flow.advance(days=14)
    reassessed = dict(risk("high", "severe", "cost"), status="open")
    flow.complete("risk_reassessment", risks=[reassessed], effectiveness="原措施不足。")
    shown = flow.instance.form_for(flow.task("reassessment_response").id)[1]["risks"]
    assert [(r["category"], r["priority"]) for r in shown] == [("cost", "high")]
    flow.complete("reassessment_response")

    # the next reassessment starts from the register as last reassessed
    flow.advance(days=14)
    shown = flow.instance.form_for(flow.task("risk_reassessment").id)[1]["risks"]
    assert [(r["category"], r["priority"]) for r in shown] == [("cost", "high")]
    flow.complete("risk_reassessment")
    flow.complete("reassessment_response")

    flow.complete("implement")
    assert flow.ready() == ["self_test"]
    assert [(r["category"], r["likelihood"], r["impact"]) for r in flow.data["risks"]] == [
        ("cost", "high", "severe")
    ]


def test_read_only_fields_keep_what_the_form_showed(start):
    """A client cannot lower a high risk's priority to escape the response it needs (R5.3.1)."""
    flow = start()
    flow.reach("risk_identification")
    flow.complete("risk_identification", risks=[risk("high", "severe")])
    before = flow.data
    lowered = [dict(flow.data["risks"][0], priority="low", likelihood="low")]

    with pytest.raises(FormValidationError) as refused:
        flow.complete("risk_response", risks=lowered)
    assert set(refused.value.errors) == {"risks.0.measures"}
    assert flow.data == before

    flow.complete("risk_response", risks=[dict(lowered[0], measures="雙人複核遷移腳本。")])
    assert (flow.data["risks"][0]["priority"], flow.data["risks"][0]["likelihood"]) == ("high", "high")


def test_the_response_list_keeps_its_rows(start):
    flow = start()
    flow.reach("risk_identification")
    flow.complete("risk_identification", risks=[risk("low", "minor")])
    shown = [dict(r) for r in flow.data["risks"]]
    with pytest.raises(FormValidationError) as refused:
        flow.complete("risk_response", risks=[*shown, risk("low", "minor")])
    assert set(refused.value.errors) == {"risks"}
    assert flow.ready() == ["risk_response"]


@pytest.mark.parametrize("risks", [MISSING, []], ids=["left out", "no rows"])
def test_risks_are_identified_one_at_least(start, risks):
    """R5.1.1: IT identifies the project's risks before initiation; the form says to register
    one at least. A list left out (once a 409: "output mapping failed") or empty is refused,
    naming the list, and the step stays open with nothing stored."""
    flow = start()
    flow.reach("risk_identification")
    with pytest.raises(FormValidationError) as refused:
        flow.complete("risk_identification", risks=risks)
    assert refused.value.errors == {"risks": ["至少須填寫一行 / At least one row is required."]}
    assert flow.ready() == ["risk_identification"]
    assert "risk_identification" not in flow.data


@pytest.mark.parametrize("step", ["risk_response", "risk_reassessment"])
def test_a_list_left_out_is_not_taken_for_no_rows(start, step):
    """Left out, the shown risks became no rows and the output mapping wiped the assessed risks.
    Now the list keeps the rows it was shown with, which still have to be answered."""
    flow = start()
    flow.reach("risk_identification")
    flow.complete("risk_identification", risks=[risk("high", "severe", "security")])
    if step == "risk_reassessment":
        flow.complete("risk_response", risks=[{**r, "measures": "滲透測試。"} for r in flow.data["risks"]])
        flow.reach("implement")
        flow.advance(days=14)
    before = flow.data
    with pytest.raises(FormValidationError) as refused:
        flow.complete(step, risks=MISSING)
    assert all(field.startswith("risks.0.") for field in refused.value.errors)
    assert flow.data == before and step in flow.ready()


def test_a_reassessment_leaving_its_list_out_is_asked_only_what_its_rows_lack(start):
    """The rows kept were the shown rows whole, with keys of earlier steps no row of this form has
    (priority, monitoring): refused for unknown fields the client never sent."""
    flow = start()
    flow.reach("implement")
    flow.advance(days=14)
    before = flow.data
    with pytest.raises(FormValidationError) as refused:
        flow.complete("risk_reassessment", risks=MISSING, effectiveness="持續有效。")
    assert {field.split(".")[-1] for field in refused.value.errors} == {"status"}  # each row's own
    assert flow.data == before
