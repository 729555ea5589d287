"""The diagrams are complete for a modeller: every element drawn, named in Chinese, routed to its
department's lane and group, and every gate's `decision` field has exactly the contract's values."""

import json
import re
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
NODES = (
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "scriptTask", "businessRuleTask", "serviceTask", "callActivity", "subProcess",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
)  # fmt: skip
LANES = {"business": "業務部門", "it": "信息化管理部門", "finance": "財務部門", "management": "公司管理層",
         "vendor": "軟件供應商", "qa": "質量保證"}  # fmt: skip
CJK = re.compile(r"[\u4e00-\u9fff]")

# Issue 2's contract: each gate task's `decision` values.
GATES = {
    "preliminary_review": {"accept", "return", "reject"},
    "budget_audit": {"approve", "revise", "reject"},
    "initiation_review": {"approve", "revise", "reject"},
    "plan_review": {"approve", "revise"},
    "change_review": {"approve", "reject"},
    "change_approval": {"approve", "reject"},
    "joint_test": {"pass", "fail"},
    "acceptance": {"accept", "reject"},
    "business_acceptance": {"accept", "reject"},
    "training_assessment": {"pass", "retrain"},
    "golive": {"success", "rollback"},
}

DIAGRAMS = sorted(ROOT.glob("processes/*.bpmn"))


def q(tag, ns=BPMN):
    return f"{{{ns}}}{tag}"


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_every_element_is_drawn(path):
    tree = etree.parse(str(path))
    drawn = {s.get("bpmnElement") for s in tree.iter(q("BPMNShape", DI))}
    edges = {e.get("bpmnElement") for e in tree.iter(q("BPMNEdge", DI))}
    nodes = [n.get("id") for tag in NODES for n in tree.iter(q(tag))]
    assert [n for n in nodes if n not in drawn] == []
    assert [f.get("id") for f in tree.iter(q("sequenceFlow")) if f.get("id") not in edges] == []
    lanes = [lane.get("id") for lane in tree.iter(q("lane"))]
    assert lanes and [lane for lane in lanes if lane not in drawn] == []
    assert [p.get("id") for p in tree.iter(q("participant")) if p.get("id") not in drawn] == []


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_user_tasks_are_named_in_chinese_and_sit_in_their_groups_lane(path):
    tree = etree.parse(str(path))
    lane_of = {
        ref.text: lane.get("name") for lane in tree.iter(q("lane")) for ref in lane.iter(q("flowNodeRef"))
    }
    for task in tree.iter(q("userTask")):
        group = task.get(q("candidateGroups", CAMUNDA))
        if group is None and task.get(q("assignee", CAMUNDA)) == "${initiator}":
            # Given back to whoever started it, of any department (document_review's author).
            assert task.get(q("formRef", CAMUNDA)) and CJK.search(task.get("name") or ""), task.get("id")
            continue
        assert group in LANES, task.get("id")
        assert task.get(q("formRef", CAMUNDA)), task.get("id")
        assert CJK.search(task.get("name") or ""), task.get("id")
        inside_subprocess = task.getparent().tag == q("subProcess")
        assert inside_subprocess or lane_of.get(task.get("id")) == LANES[group], task.get("id")


def test_each_gate_has_a_required_decision_with_exactly_the_contracts_values():
    forms = {}
    for path in DIAGRAMS:
        for task in etree.parse(str(path)).iter(q("userTask")):
            forms[task.get("id")] = task.get(q("formRef", CAMUNDA))
    for gate, values in GATES.items():
        schema = json.loads((ROOT / "forms" / f"{forms[gate]}.form").read_text(encoding="utf-8"))
        [decision] = [c for c in schema["components"] if c.get("key") == "decision"]
        assert decision["type"] in ("select", "radio"), gate
        assert decision["validate"]["required"] is True, gate
        assert {v["value"] for v in decision["values"]} == values, gate
