"""Upgradeflow's engine: the regulation's diagrams run on SpiffWorkflow, with no web in sight.

The web layer and the CLI use only the names exported here. Services take the caller's
SQLAlchemy session and flush; the caller (one request, command or job) commits.
"""

from .clock import ManualClock, system_clock
from .deployments import ProcessNotFound, deploy, get_process, list_processes
from .errors import (
    DeploymentError,
    EngineError,
    FormValidationError,
    InstanceStateError,
    MessageRefused,
    NotAllowed,
    Problem,
    StateFormatError,
    TaskClaimed,
    TaskNotFound,
)
from .forms import Form
from .groups import GROUPS, LANE_GROUPS
from .instances import Event, Instance, StepResult
from .models import Base
from .specs import Bundle, ProcessDefinition, bundle_files, load_bundle
from .tasks import Actor, HumanTask, may_complete
from .users import (
    DEMO_PASSWORD,
    User,
    UserError,
    authenticate,
    create_demo_users,
    create_user,
    ensure_groups,
    get_user,
    get_user_by_name,
    issue_token,
    revoke_token,
    set_locale,
    user_for_token,
)
from .views import DeployedProcess, EventInfo, InstanceInfo, Page, ProcessInfo, TaskInfo
from .workflows import (
    InstanceConflict,
    InstanceNotFound,
    claim_task,
    complete_task,
    fire_due_timers,
    get_instance,
    get_task,
    instance_events,
    list_instances,
    list_tasks,
    send_message,
    start_instance,
    unclaim_task,
)

__all__ = [
    "DEMO_PASSWORD",
    "GROUPS",
    "LANE_GROUPS",
    "Actor",
    "Base",
    "Bundle",
    "DeployedProcess",
    "DeploymentError",
    "EngineError",
    "Event",
    "EventInfo",
    "Form",
    "FormValidationError",
    "HumanTask",
    "Instance",
    "InstanceConflict",
    "InstanceInfo",
    "InstanceNotFound",
    "InstanceStateError",
    "ManualClock",
    "MessageRefused",
    "NotAllowed",
    "Page",
    "Problem",
    "ProcessDefinition",
    "ProcessInfo",
    "ProcessNotFound",
    "StateFormatError",
    "StepResult",
    "TaskClaimed",
    "TaskInfo",
    "TaskNotFound",
    "User",
    "UserError",
    "authenticate",
    "bundle_files",
    "claim_task",
    "complete_task",
    "create_demo_users",
    "create_user",
    "deploy",
    "ensure_groups",
    "fire_due_timers",
    "get_instance",
    "get_process",
    "get_task",
    "get_user",
    "get_user_by_name",
    "instance_events",
    "issue_token",
    "list_instances",
    "list_processes",
    "list_tasks",
    "load_bundle",
    "may_complete",
    "revoke_token",
    "send_message",
    "set_locale",
    "start_instance",
    "system_clock",
    "unclaim_task",
    "user_for_token",
]
