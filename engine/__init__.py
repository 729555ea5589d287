"""Upgradeflow's engine: the regulation's diagrams run on SpiffWorkflow, with no web in sight.

The web layer and the CLI use only the names exported here.
"""

from .clock import ManualClock, system_clock
from .errors import (
    DeploymentError,
    EngineError,
    FormValidationError,
    InstanceStateError,
    MessageRefused,
    NotAllowed,
    Problem,
    StateFormatError,
    TaskNotFound,
)
from .forms import Form
from .groups import GROUPS, LANE_GROUPS
from .instances import Event, Instance, StepResult
from .specs import Bundle, ProcessDefinition, load_bundle
from .tasks import Actor, HumanTask, may_complete

__all__ = [
    "GROUPS",
    "LANE_GROUPS",
    "Actor",
    "Bundle",
    "DeploymentError",
    "EngineError",
    "Event",
    "Form",
    "FormValidationError",
    "HumanTask",
    "Instance",
    "InstanceStateError",
    "ManualClock",
    "MessageRefused",
    "NotAllowed",
    "Problem",
    "ProcessDefinition",
    "StateFormatError",
    "StepResult",
    "TaskNotFound",
    "load_bundle",
    "may_complete",
    "system_clock",
]
