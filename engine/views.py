"""What engine services return: plain data for the web layer to serialize (no ORM, no SpiffWorkflow)."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ProcessInfo:
    id: str
    name: str
    version: int
    deployed_at: datetime
    deployed_by: str | None
    start_form: dict | None = None


@dataclass
class VersionInfo:
    id: str
    name: str
    version: int
    deployed_at: datetime
    deployed_by: str | None
    running: int  # instances running on this version
    total: int  # instances ever started on it


@dataclass
class DeployedProcess:
    id: str
    version: int
    created: bool  # False when the content was unchanged and the latest version was kept


@dataclass
class TaskInfo:
    id: str
    instance_id: int
    name: str  # the BPMN element id, e.g. "preliminary_review"
    title: str | None  # the element's name in the diagram
    group: str | None
    groups: list
    users: list
    assignee: str | None
    form: str | None
    created_at: datetime
    due_at: datetime | None
    instance_title: str | None = None
    claimed_by: str | None = None  # the assignee took it by claiming (else the diagram assigned it)


@dataclass
class InstanceInfo:
    id: int
    process_id: str
    version: int
    status: str
    initiator: str
    title: str | None
    created_at: datetime
    ended_at: datetime | None
    waiting_at: list = field(default_factory=list)
    tasks: list = field(default_factory=list)
    data: dict | None = None
    error: dict | None = None
    completed_elements: dict = field(default_factory=dict)
    # Messages the instance takes now, whoever may send them (`get_instance(messages=True)`).
    accepted_messages: list = field(default_factory=list)


@dataclass
class EventInfo:
    seq: int
    type: str
    task: str | None  # element id
    task_id: str | None
    actor: str | None
    at: datetime
    data: dict | None
    rewound: bool = False  # undone by a later rewind (kept in the log, marked)


@dataclass
class Inbox:
    """What a user's inbox shows: their tasks, their groups' open tasks (the most urgent
    `shown` of `groups_total`), how many of all those are overdue, their running requests."""

    mine: list
    groups: list
    groups_total: int
    overdue: int
    requests: "Page"


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int
