"""The notification outbox: who is told what, written in the same transaction as the step.

Kinds: `message` (a script's `notify(...)`), `task_assigned` (a task became ready for a user or
a group), `due_soon` and `overdue` (a ready task's due date; recorded by the worker, once per
task), `ended` (the instance completed, or an administrator terminated it; to its initiator).
A recipient is a user name, `group:<id>` (every member) or `all`; a task's notes go to its
assignee, else to each of its groups and candidate users, and to `all` only when it names none. Rows are shown in the web UI; the worker e-mails the unsent ones after
commit when SMTP is configured, so a rolled-back step sends nothing.

E-mail is delivered at least once: `claim_unsent` leases a row to one worker (`claimed_at`), the
worker commits, sends, and records the outcome (`mark_sent`, `release_unsent`, `mark_failed`,
`mark_undeliverable`). A worker killed after its claim leaves a lease that runs out
(MAIL_LEASE), and the next round claims the row again. A message the server refused for good,
or that cannot be written for it, is marked undeliverable with the reason (`mail_error`) and is
not tried again; one that failed for the time being is tried again later, behind the others, at
most MAX_MAIL_ATTEMPTS times.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .clock import naive_utc, system_clock
from .models import InstanceRecord, MembershipRecord, NotificationRecord, TaskRecord, UserRecord
from .tasks import Actor

DUE_SOON = timedelta(days=2)
MAIL_LEASE = timedelta(minutes=10)  # a claim older than this belonged to a worker that died
MAX_MAIL_ATTEMPTS = 5  # sends that failed for the time being, before the note is given up

TEXTS = {
    "task_assigned": "新任務：{title}（{instance}） / New task: {title} ({instance})",
    "due_soon": "任務即將到期：{title}（{instance}） / Task due soon: {title} ({instance})",
    "overdue": "任務已逾期：{title}（{instance}） / Task overdue: {title} ({instance})",
    "ended": "流程已結束：{instance} / Procedure ended: {instance}",
    "terminated": "流程已終止：{instance}（{reason}） / Procedure terminated: {instance} ({reason})",
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


# The texts read "Chinese / English" (the web UI shows the reader's half, e-mail subjects the
# first): a slash beside a space in what a user typed (a title such as "ERP / CRM", or ending
# in " /") is written full-width, so that the two languages still part where they should.
_LOOSE_SLASH = re.compile(r"(?:^|(?<=\s))/|/(?=\s|$)")


def _text(kind, title, instance_title, instance_id, reason=None):
    return TEXTS[kind].format(
        title=_inline(title or ""),
        instance=_inline(instance_title or f"#{instance_id}"),
        reason=_inline(reason or ""),
    )


def _inline(value: str) -> str:
    return _LOOSE_SLASH.sub("／", str(value))


def recipients_of(assignee, groups, users) -> list[str]:
    """Who is told about a task: its assignee; else each of its groups and each of the users it
    is offered to (candidate users); `all` only for a task offered to no one in particular."""
    if assignee:
        return [assignee]
    return [f"group:{g}" for g in groups or []] + [u for u in users or [] if u] or ["all"]


def step_notifications(record: InstanceRecord, before: set, ready, events, now) -> list[dict]:
    """The rows a step adds besides its scripts' messages (as values for one INSERT): a task
    assigned for every task that became ready (`before`: the ready task ids before the step), and
    `ended` when it ended."""
    notes = []
    for task in ready:
        if task.id in before:
            continue
        recipients = recipients_of(task.assignee, task.groups, task.users)
        for recipient in recipients:
            notes.append(
                {
                    "instance_id": record.id,
                    "recipient": recipient,
                    "text": _text("task_assigned", task.name, record.title, record.id),
                    "kind": "task_assigned",
                    "created_at": now,
                    "task_id": task.id,
                }
            )
    ended = next((e for e in events if e.kind in ("ended", "terminated")), None)
    if ended is not None:  # completed, or terminated by an administrator: the initiator is told
        reason = (ended.data or {}).get("reason") if ended.kind == "terminated" else None
        notes.append(
            {
                "instance_id": record.id,
                "recipient": record.initiator,
                "text": _text(ended.kind, None, record.title, record.id, reason),
                "kind": "ended",
                "created_at": now,
                "task_id": None,
            }
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
        # Once per task and kind since the task became ready: a task an administrator rewound
        # (the same id, ready again, due again) is escalated again.
        escalated_since_ready = exists().where(
            NotificationRecord.task_id == TaskRecord.id,
            NotificationRecord.kind == kind,
            NotificationRecord.created_at >= TaskRecord.created_at,
        )
        query = (
            select(TaskRecord, InstanceRecord.title)
            .join(InstanceRecord, TaskRecord.instance_id == InstanceRecord.id)
            .where(TaskRecord.due_at <= now + soon, window)
            .where(~escalated_since_ready)
            .where(InstanceRecord.status == "running")  # a suspended one's, once it is resumed
            .order_by(TaskRecord.due_at)
            .limit(limit)
        )
        for task, instance_title in session.execute(query).all():
            recipients = recipients_of(task.assignee, task.groups, task.users)
            text = _text(kind, task.title or task.element_id, instance_title, task.instance_id)
            rows = [
                {
                    "instance_id": task.instance_id,
                    "recipient": recipient,
                    "kind": kind,
                    "task_id": task.id,
                    "text": text,
                    "created_at": now,
                    # The key makes the escalation one row however many workers record it at
                    # once; only the first recipient's row carries it.
                    "key": f"{kind}:{task.id}:{naive_utc(task.created_at).isoformat()}" if i == 0 else None,
                }
                for i, recipient in enumerate(recipients)
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


def _waiting(now):
    """Rows waiting for e-mail: not sent, not given up, and not leased (or the lease ran out)."""
    return (
        NotificationRecord.sent_at.is_(None),
        NotificationRecord.mail_error.is_(None),
        or_(NotificationRecord.claimed_at.is_(None), NotificationRecord.claimed_at < now - MAIL_LEASE),
    )


def claim_unsent(session, clock=system_clock, limit=50) -> list[Outgoing]:
    """Lease up to `limit` notifications waiting for e-mail to this worker and return them, those
    tried least often first (a note that keeps failing does not hold up the rest).

    Each row is claimed by an UPDATE that repeats the waiting condition: of several workers
    exactly one changes a row (PostgreSQL re-checks the condition after a row lock, SQLite runs
    one writer at a time). The caller commits, sends, and records each outcome.
    """
    now = clock()
    candidates = session.execute(
        select(NotificationRecord.id, NotificationRecord.recipient, NotificationRecord.text)
        .where(*_waiting(now))
        .order_by(NotificationRecord.attempts, NotificationRecord.id)
        .limit(limit)
    ).all()
    claimed = []
    for row in candidates:
        won = session.execute(
            update(NotificationRecord)
            .where(NotificationRecord.id == row.id, *_waiting(now))
            .values(claimed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won:
            claimed.append(Outgoing(row.id, _usernames(session, row.recipient), row.text))
    return claimed


def _settle(session, ids, **values):
    if ids:
        session.execute(
            update(NotificationRecord)
            .where(NotificationRecord.id.in_(list(ids)))
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def mark_sent(session, ids, clock=system_clock) -> None:
    """The server accepted these (or they had nobody with an address): sent."""
    _settle(session, ids, sent_at=clock())


def mark_partly_sent(session, reasons: dict) -> None:
    """These were sent (`mark_sent`) to some of their recipients only ({id: who was not reached,
    and why}): the reason is kept (`mail_error`) beside the time they were sent."""
    for note_id, reason in reasons.items():
        _settle(session, [note_id], mail_error=str(reason)[:2000])


def release_unsent(session, ids) -> None:
    """Give claimed notifications back unsent, not counted as an attempt (the mail server could
    not be reached): the next round tries them again."""
    _settle(session, ids, claimed_at=None)


def mark_failed(session, reasons: dict, clock=system_clock) -> None:
    """These failed for the time being ({id: why}): tried again later, behind the others; given
    up (undeliverable) at the MAX_MAIL_ATTEMPTS-th failure."""
    for note_id, reason in reasons.items():
        session.execute(
            update(NotificationRecord)
            .where(NotificationRecord.id == note_id)
            .values(claimed_at=None, attempts=NotificationRecord.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(NotificationRecord)
            .where(NotificationRecord.id == note_id, NotificationRecord.attempts >= MAX_MAIL_ATTEMPTS)
            .values(mail_error=f"gave up after {MAX_MAIL_ATTEMPTS} attempts: {reason}"[:2000])
            .execution_options(synchronize_session=False)
        )


def mark_undeliverable(session, reasons: dict) -> None:
    """These can never be e-mailed ({id: why}): not tried again; the web UI still shows them."""
    for note_id, reason in reasons.items():
        _settle(session, [note_id], claimed_at=None, mail_error=str(reason)[:2000])


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
