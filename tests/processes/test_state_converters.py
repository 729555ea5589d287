"""engine/serialization.py writes and restores tasks and (sub)workflows with converters of its own,
made for speed. They must write exactly what SpiffWorkflow's own converters write, and restore
what those restore, at every point of the procedure: start, each step, the rectification loop,
timers, the inspections after go-live and the end."""

import pytest
from harness import REQUEST, Flow
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.task import Task

from engine import serialization
from engine.sandbox import ScriptEngine


class StockSpecFreeConverter(BpmnWorkflowConverter):
    """SpiffWorkflow's workflow converter, leaving the specs out as engine/serialization.py does."""

    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None, script_engine=None):
        workflow = self.target_class(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], serialization.UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(serialization.UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def stock_registry():
    config = serialization._config()
    config[BpmnWorkflow] = StockSpecFreeConverter
    config[Task] = TaskConverter
    config[BpmnSubWorkflow] = BpmnSubWorkflowConverter
    return BpmnWorkflowSerializer.configure(config)


STOCK = stock_registry()


def restored(registry, dct, definition):
    return registry.restore(
        dct,
        spec=definition.spec,
        subprocess_specs=definition.subprocess_specs,
        script_engine=ScriptEngine(),
    )


class LiveFlow(Flow):
    """A flow whose instance is never saved between steps (Flow round-trips it through our own
    converters, which would hide anything they lose): each comparison sees the workflow as
    SpiffWorkflow ran it, nested data shared between tasks included."""

    def _restore(self):
        pass


@pytest.fixture
def start(definition):
    return lambda: LiveFlow(definition)


def assert_same_as_stock(flow):
    workflow = flow.instance._workflow
    ours = serialization._REGISTRY.convert(workflow)
    stock = STOCK.convert(workflow)
    assert ours == stock
    assert len(ours["subprocesses"]) == len(workflow.subprocesses)
    # Either converter restores what the other wrote, to the same workflow.
    definition = flow.definition
    by_ours = restored(serialization._REGISTRY, stock, definition)
    by_stock = restored(STOCK, STOCK.convert(workflow), definition)
    assert STOCK.convert(by_ours) == STOCK.convert(by_stock) == stock
    for task_id, task in by_ours.tasks.items():
        twin = by_stock.tasks[task_id]
        assert (task.state, task.data, task.internal_data) == (twin.state, twin.data, twin.internal_data)
    assert stock == STOCK.convert(workflow), "restoring changed the state it read"


def test_every_step_of_the_procedure_is_written_and_restored_as_spiffworkflow_does(start):
    flow = start()
    assert_same_as_stock(flow)
    steps = ["preliminary_review", "requirement_analysis", "risk_identification", "risk_response"]
    steps += ["analysis_report", "initiation_application", "budget_audit", "initiation_review"]
    steps += ["sign_contract", "implementation_plan", "plan_review", "implement", "self_test"]
    for step in steps:
        flow.reach(step)
        assert_same_as_stock(flow)
        flow.complete(step)
    flow.reach("joint_test")
    for round in range(3):  # the rectification loop: the same elements again, with changed data
        flow.complete("joint_test", decision="fail", functional_result=f"第{round}輪未通過。")
        assert_same_as_stock(flow)
        flow.complete("rectify", rectification=f"第{round}輪已修復。")
    flow.advance(days=40)  # timers: the repeating risk reassessment
    assert_same_as_stock(flow)
    flow.finish()  # go-live, inspections every 30 days, closure
    assert flow.status == "completed"
    assert_same_as_stock(flow)


def test_deleted_keys_and_typed_values_survive_as_with_spiffworkflow(start):
    flow = start()
    flow.reach("requirement_analysis")
    task = next(t for t in flow.instance._workflow.get_tasks() if t.task_spec.name == "requirement_analysis")
    parent_keys = set(task.parent.data)
    del task.data["initiator"]  # a deletion against the parent's data
    task.data["when"] = serialization.UUID(int=7)  # a value the registry converts by type
    task.internal_data["marker"] = {"nested": [1, {"a": None, "left out": len}]}
    flow.instance._workflow.data.update(helper=len, module=serialization, kept={"f": len, "x": [1.5]})
    assert "initiator" in parent_keys
    assert_same_as_stock(flow)
    back = restored(serialization._REGISTRY, STOCK.convert(flow.instance._workflow), flow.definition)
    twin = back.tasks[task.id]
    assert "initiator" not in twin.data and twin.data["when"] == serialization.UUID(int=7)
    assert twin.internal_data["marker"] == {"nested": [1, {"a": None}]}
    assert back.data == {"kept": {"x": [1.5]}}
    # A task's data is its own: containers taken from the parent are copies, as SpiffWorkflow's.
    twin.data["requirement_request"]["title"] = "changed"
    assert twin.parent.data["requirement_request"]["title"] == REQUEST["title"]
