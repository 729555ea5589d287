"""The rows a step writes beside the state: its events, its notifications (values for one
INSERT each) and its ready tasks' projection (the inbox reads it; `verify` compares it with the
state). Built from the engine's plain values (`Event`, `HumanTask`, the outbox's notes)."""

from datetime import datetime


def as_time(value):
    """A time the engine gives as ISO text, as a datetime (None and datetimes unchanged)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def projected(task) -> dict:
    """A ready task's row in the projection (the inbox reads it): written by `_save`, compared
    with the state by `verify` (engine/consistency.py)."""
    return {
        "element_id": task.element_id,
        "title": task.name,
        "group_id": task.groups[0] if task.groups else None,
        "groups": list(task.groups),
        "shared": len(task.groups) > 1 or bool(task.users),
        "users": list(task.users),
        "assignee": task.assignee,
        "claimed_by": task.claimed_by,
        "form_id": task.form,
        "due_at": as_time(task.due),
    }


def event_row(instance_id, event) -> dict:
    return {
        "instance_id": instance_id,
        "type": event.kind,
        "element_id": event.element_id,
        "task_id": event.task_id,
        "actor": event.actor,
        "at": as_time(event.at),
        "data": event.data,
    }


def note_row(instance_id, note) -> dict:
    return {
        "instance_id": instance_id,
        "recipient": note["to"],
        "text": note["text"],
        "kind": "message",
        "created_at": as_time(note["at"]),
        "task_id": None,
    }
