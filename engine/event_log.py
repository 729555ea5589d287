"""An instance's event log as it reads: oldest first, each step a rewind undid marked."""

from sqlalchemy import select

from .events import UNDOABLE
from .models import EventRecord, InstanceRecord
from .views import EventInfo
from .workflows import InstanceNotFound


def instance_events(session, instance_id) -> list[EventInfo]:
    """The instance's event log, oldest first. Raises InstanceNotFound."""
    if session.get(InstanceRecord, instance_id) is None:
        raise InstanceNotFound(f"no instance {instance_id}")
    rows = session.scalars(
        select(EventRecord).where(EventRecord.instance_id == instance_id).order_by(EventRecord.seq)
    )
    events = [EventInfo(r.seq, r.type, r.element_id, r.task_id, r.actor, r.at, r.data) for r in rows]
    for rewind in (e for e in events if e.type == "rewound" and (e.data or {}).get("from_seq")):
        for event in events:
            if event.type in UNDOABLE and rewind.data["from_seq"] <= event.seq < rewind.seq:
                event.rewound = True
    return events
