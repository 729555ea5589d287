"""An instance's event log as it reads: oldest first, each step a rewind undid marked."""

from sqlalchemy import select

from .document_catalog import hidden_keys
from .events import UNDOABLE
from .models import EventRecord, InstanceRecord
from .tasks import Actor
from .views import EventInfo
from .workflows import InstanceNotFound


def instance_events(session, instance_id, actor: Actor | None = None) -> list[EventInfo]:
    """The instance's event log, oldest first; given `actor`, the data of the steps whose data the
    actor may not read is left out (`document_catalog.hidden_keys`). Raises InstanceNotFound."""
    if session.get(InstanceRecord, instance_id) is None:
        raise InstanceNotFound(f"no instance {instance_id}")
    rows = session.scalars(
        select(EventRecord).where(EventRecord.instance_id == instance_id).order_by(EventRecord.seq)
    )
    hidden = hidden_keys(actor) if actor is not None else frozenset()
    events = [
        EventInfo(
            r.seq, r.type, r.element_id, r.task_id, r.actor, r.at, None if r.element_id in hidden else r.data
        )
        for r in rows
    ]
    for rewind in (e for e in events if e.type == "rewound" and (e.data or {}).get("from_seq")):
        for event in events:
            if event.type in UNDOABLE and rewind.data["from_seq"] <= event.seq < rewind.seq:
                event.rewound = True
    return events
