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
    actor may not read is left out (`document_catalog.hidden_keys`), and so are an administrator's
    edits of such data. Raises InstanceNotFound."""
    if session.get(InstanceRecord, instance_id) is None:
        raise InstanceNotFound(f"no instance {instance_id}")
    rows = session.scalars(
        select(EventRecord).where(EventRecord.instance_id == instance_id).order_by(EventRecord.seq)
    )
    hidden = hidden_keys(actor) if actor is not None else frozenset()
    events = [
        EventInfo(r.seq, r.type, r.element_id, r.task_id, r.actor, r.at, _readable(r, hidden)) for r in rows
    ]
    for rewind in (e for e in events if e.type == "rewound" and (e.data or {}).get("from_seq")):
        for event in events:
            if event.type in UNDOABLE and rewind.data["from_seq"] <= event.seq < rewind.seq:
                event.rewound = True
    return events


def _readable(row: EventRecord, hidden: frozenset):
    """The event's data as a reader who may not read the `hidden` keys of the process data sees it:
    a step's data by its element, an administrator's edit (`data_edited`: the old and the new
    value of each key changed) by the keys it changed."""
    if row.element_id in hidden:
        return None
    changes = (row.data or {}).get("changes") if row.type == "data_edited" else None
    if hidden and isinstance(changes, dict):
        return {**row.data, "changes": {key: value for key, value in changes.items() if key not in hidden}}
    return row.data
