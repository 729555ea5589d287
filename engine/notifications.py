"""The notification outbox: who is told what, written in the same transaction as the step.

Kinds: `message` (a script's `notify(...)`), `task_assigned` (a task became ready for a user or
a group), `due_soon` and `overdue` (a ready task's due date; recorded by the worker, once per
task), `ended` (the instance completed; to its initiator). A recipient is a user name, `group:<id>`
(every member) or `all`. Rows are shown in the web UI; the worker e-mails the unsent ones after
commit when SMTP is configured (`claim_unsent` / `release`), so a rolled-back step sends nothing.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .clock import system_clock
from .models import InstanceRecord, MembershipRecord, NotificationRecord, TaskRecord, UserRecord
from .tasks import Actor

DUE_SOON = timedelta(days=2)

TEXTS = {
    "task_assigned": "新任務：{title}（{instance}） / New task: {title} ({instance})",
    "due_soon": "任務即將到期：{title}（{instance}） / Task due soon: {title} ({instance})",
    "overdue": "任務已逾期：{title}（{instance}） / Task overdue: {title} ({instance})",
    "ended": "流程已結束：{instance} / Procedure ended: {instance}",
}


@dataclass
class NotificationInfo:
    id: int
    instance_id: int | None
    kind: str
    recipient: str
    text: str
    created_at: datetime
    read_at: datetime | None


@dataclass
class Outgoing:
    """A claimed notification to e-mail, with the user names it goes to."""

    id: int
    usernames: list[str]
    text: str


def _text(kind, title, instance_title, instance_id):
    return TEXTS[kind].format(title=title or "", instance=instance_title or f"#{instance_id}")


def step_notifications(record: InstanceRecord, before: set, ready, events, now) -> list[NotificationRecord]:
    """The rows a step adds besides its scripts' messages: a task assigned for every task that
    became ready (`before`: the ready task ids before the step), and `ended` when it ended."""
    notes = []
    for task in ready:
        if task.id in before:
            continue
        recipients = [task.assignee] if task.assignee else [f"group:{g}" for g in task.groups] or ["all"]
        for recipient in recipients:
            notes.append(
                NotificationRecord(
                    instance_id=record.id,
                    recipient=recipient,
                    kind="task_assigned",
                    task_id=task.id,
                    text=_text("task_assigned", task.name, record.title, record.id),
                    created_at=now,
                )
            )
    if any(e.kind == "ended" for e in events):
        notes.append(
            NotificationRecord(
                instance_id=record.id,
                recipient=record.initiator,
                kind="ended",
                text=_text("ended", None, record.title, record.id),
                created_at=now,
            )
        )
    return notes


def _insert_once(session, row: dict) -> bool:
    """Insert `row` unless its key exists (ON CONFLICT DO NOTHING: two workers escalating at once
    record one row). Returns whether this call inserted it."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(NotificationRecord)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(NotificationRecord.id)
    )
    # The id it returns, not the row count: psycopg reports -1 rows for this statement, so every
    # escalation looked like another worker's and its other recipients were never notified.
    return session.execute(statement).scalar() is not None


def escalate_due_tasks(session, clock=system_clock, soon=DUE_SOON, limit=500) -> int:
    """Record `due_soon` (due within `soon`) and `overdue` notifications of ready tasks, once per
    task and kind, to the assignee or the task's groups. Returns how many tasks were escalated."""
    now = clock()
    escalated = 0
    for kind, window in (("overdue", TaskRecord.due_at < now), ("due_soon", TaskRecord.due_at >= now)):
        key = literal(f"{kind}:") + TaskRecord.id
        query = (
            select(TaskRecord, InstanceRecord.title)
            .join(InstanceRecord, TaskRecord.instance_id == InstanceRecord.id)
            .where(TaskRecord.due_at <= now + soon, window)
            .where(~exists().where(NotificationRecord.key == key))
            .order_by(TaskRecord.due_at)
            .limit(limit)
        )
        for task, instance_title in session.execute(query).all():
            recipients = [task.assignee] if task.assignee else [f"group:{g}" for g in task.groups or []]
            text = _text(kind, task.title or task.element_id, instance_title, task.instance_id)
            rows = [
                {
                    "instance_id": task.instance_id,
                    "recipient": recipient,
                    "kind": kind,
                    "task_id": task.id,
                    "text": text,
                    "created_at": now,
                    # The key marks the task escalated; only the first recipient's row carries it.
                    "key": f"{kind}:{task.id}" if i == 0 else None,
                }
                for i, recipient in enumerate(recipients or ["all"])
            ]
            if _insert_once(session, rows[0]):  # another worker may have escalated it just now
                session.add_all(NotificationRecord(**row) for row in rows[1:])
                escalated += 1
    session.flush()
    return escalated


def _visible_to(actor: Actor):
    names = [actor.username, "all", *(f"group:{g}" for g in sorted(actor.groups))]
    return NotificationRecord.recipient.in_(names)


def list_notifications(session, actor: Actor, limit=100) -> list[NotificationInfo]:
    """The actor's notifications (theirs, their groups', everyone's), newest first."""
    rows = session.scalars(
        select(NotificationRecord)
        .where(_visible_to(actor))
        .order_by(NotificationRecord.created_at.desc(), NotificationRecord.id.desc())
        .limit(limit)
    )
    return [
        NotificationInfo(
            r.id, r.instance_id, r.kind or "message", r.recipient, r.text, r.created_at, r.read_at
        )
        for r in rows
    ]


def unread_count(session, actor: Actor) -> int:
    """How many of the actor's own (not group or everyone's) notifications are unread."""
    return session.scalar(
        select(func.count())
        .select_from(NotificationRecord)
        .where(NotificationRecord.recipient == actor.username, NotificationRecord.read_at.is_(None))
    )


def mark_notifications_read(session, actor: Actor, clock=system_clock) -> int:
    """Mark the actor's own unread notifications read. Returns how many."""
    result = session.execute(
        update(NotificationRecord)
        .where(NotificationRecord.recipient == actor.username, NotificationRecord.read_at.is_(None))
        .values(read_at=clock())
    )
    return result.rowcount


def claim_unsent(session, clock=system_clock, limit=50) -> list[Outgoing]:
    """Claim up to `limit` unsent notifications for e-mailing (marks them sent) and return them.

    Each row is claimed by an UPDATE ... WHERE sent_at IS NULL: of several workers exactly one
    changes a row (PostgreSQL re-checks the condition after a row lock, SQLite runs one writer at
    a time), so each notification is e-mailed once. The caller commits, then sends, and calls
    `release` for what could not be sent.
    """
    now = clock()
    candidates = session.scalars(
        select(NotificationRecord)
        .where(NotificationRecord.sent_at.is_(None))
        .order_by(NotificationRecord.id)
        .limit(limit)
    ).all()
    claimed = []
    for row in candidates:
        won = session.execute(
            update(NotificationRecord)
            .where(NotificationRecord.id == row.id, NotificationRecord.sent_at.is_(None))
            .values(sent_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won:
            claimed.append(Outgoing(row.id, _usernames(session, row.recipient), row.text))
    return claimed


def release_unsent(session, ids) -> None:
    """Mark claimed notifications unsent again (their e-mail failed); the next round retries."""
    session.execute(
        update(NotificationRecord)
        .where(NotificationRecord.id.in_(list(ids)))
        .values(sent_at=None)
        .execution_options(synchronize_session=False)
    )


def _usernames(session, recipient: str) -> list[str]:
    if recipient == "all":
        return list(session.scalars(select(UserRecord.username).order_by(UserRecord.username)))
    if recipient.startswith("group:"):
        return list(
            session.scalars(
                select(UserRecord.username)
                .join(MembershipRecord, MembershipRecord.user_id == UserRecord.id)
                .where(MembershipRecord.group_id == recipient.removeprefix("group:"))
                .order_by(UserRecord.username)
            )
        )
    return [recipient]
