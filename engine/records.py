"""What people submitted at each step, read from the event log (no workflow is deserialized).

The risk register, the costs and the training record read submissions, not live process data:
the log has every submission with who made it and when, so history comes for free, and a
dashboard over many projects stays one query.
"""

from sqlalchemy import select

from .deployments import definition_of
from .errors import InstanceStateError
from .models import EventRecord

STEP_EVENTS = ("started", "task_completed")
PROJECT_STEP = "risk_identification"  # a process with this step runs projects (R5.1.1)


def require_project(record):
    """Raise InstanceStateError unless the instance runs an upgrade project: its process has
    the step that identifies risks (R5.1.1). A document review, say, has no risks or costs."""
    if definition_of(record.process_version).task_spec(PROJECT_STEP) is None:
        raise InstanceStateError(
            f"instance {record.id} is a {record.process_id}, not an upgrade project: "
            "it has no risk register and no costs"
        )


def submissions(session, instance_ids, elements) -> dict:
    """{instance id: {element id: [event rows, oldest first]}} of the given steps."""
    ids = list(instance_ids)
    if not ids:
        return {}
    rows = session.scalars(
        select(EventRecord)
        .where(
            EventRecord.instance_id.in_(ids),
            EventRecord.type.in_(STEP_EVENTS),
            EventRecord.element_id.in_(sorted(elements)),
        )
        .order_by(EventRecord.seq)
    )
    found = {}
    for row in rows:
        found.setdefault(row.instance_id, {}).setdefault(row.element_id, []).append(row)
    return found


def latest(found: dict, element) -> dict:
    """The latest submission's data of `element` in one instance's `submissions`, or {}."""
    rows = found.get(element) or []
    return dict(rows[-1].data or {}) if rows else {}
