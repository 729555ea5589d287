"""Instance state and process specs as JSON-ready dicts, each carrying its format version.

The spec of a process version is serialized once (`dump_specs`) and stored with the version; an
instance's state (`dump_state`) holds only its tasks and data, so a thousand instances do not
carry a thousand copies of the diagram. Old state is upgraded by `upgrade_state`: an ordered list
of integer-numbered steps applied in a loop, so no step can be skipped.
"""

from copy import deepcopy
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnStartTaskConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG

from .errors import StateFormatError
from .parser import EventTriggerStart
from .timers import CLOCK_TIMERS

FORMAT_VERSION = 1


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow without its specs and restores it onto specs the caller provides."""

    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None, script_engine=None):
        workflow = self.target_class(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _config():
    config = dict(CAMUNDA_CONFIG)
    config[BpmnWorkflow] = SpecFreeWorkflowConverter
    config[EventTriggerStart] = BpmnStartTaskConverter
    for twin in CLOCK_TIMERS.values():
        config[twin] = TimerConditionalEventDefinitionConverter
    return config


_REGISTRY = BpmnWorkflowSerializer.configure(_config())
_SERIALIZER = BpmnWorkflowSerializer(_REGISTRY)


def registry():
    """The serializer registry (SpiffWorkflow's spec diff compares specs through it)."""
    return _REGISTRY


def dump_specs(spec, subprocess_specs) -> dict:
    """The process spec and the specs it calls, as a dict to store once per version."""
    return {
        "format": FORMAT_VERSION,
        "spec": _REGISTRY.convert(spec),
        "subprocess_specs": {name: _REGISTRY.convert(s) for name, s in subprocess_specs.items()},
    }


def load_specs(dct: dict):
    """Return (spec, subprocess_specs) from `dump_specs` output. Raises StateFormatError."""
    if dct.get("format") != FORMAT_VERSION:
        raise StateFormatError(f"spec format {dct.get('format')!r} is not {FORMAT_VERSION}")
    spec = _REGISTRY.restore(deepcopy(dct["spec"]))
    subs = {name: _REGISTRY.restore(deepcopy(s)) for name, s in dct["subprocess_specs"].items()}
    return spec, subs


def dump_state(workflow, extra: dict) -> dict:
    """The instance's state without specs: {'format', 'serializer', 'workflow', 'engine'}."""
    return {
        "format": FORMAT_VERSION,
        "serializer": _SERIALIZER.VERSION,
        "workflow": _REGISTRY.convert(workflow),
        "engine": deepcopy(extra),
    }


def load_state(state: dict, spec, subprocess_specs, script_engine):
    """Return (workflow, extra) from `dump_state` output. Raises StateFormatError."""
    state = upgrade_state(state)
    # Restoring builds new containers for all data; it only pops entries off the subprocess
    # mapping, so a shallow copy of that keeps the caller's state intact (a deep copy of a
    # long-running instance's state costs more than the restore itself).
    dct = dict(state["workflow"])
    dct["subprocesses"] = dict(dct.get("subprocesses", {}))
    workflow = _REGISTRY.restore(
        dct, spec=spec, subprocess_specs=subprocess_specs, script_engine=script_engine
    )
    return workflow, deepcopy(state.get("engine", {}))


# Steps that bring state of format N to N + 1, in order. Format 1 is the first; a step is added
# here (never edited) whenever the shape of dump_state changes, with a saved fixture of the old
# format in tests/fixtures that includes subprocesses.
UPGRADES: list = []


def upgrade_state(state: dict) -> dict:
    """Bring state of any known older format to FORMAT_VERSION. Raises StateFormatError."""
    version = state.get("format")
    if not isinstance(version, int) or version < 1 or version > FORMAT_VERSION:
        raise StateFormatError(f"state format {version!r} is not one this engine reads (1..{FORMAT_VERSION})")
    if state.get("serializer") != _SERIALIZER.VERSION:
        raise StateFormatError(
            f"state written by SpiffWorkflow serializer {state.get('serializer')!r}, "
            f"this engine writes {_SERIALIZER.VERSION!r}"
        )
    for step in UPGRADES[version - 1 :]:
        state = step(deepcopy(state))
    return state
