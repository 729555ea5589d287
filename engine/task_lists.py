"""Task lists: the ready tasks an actor may act on, listed and counted from the projection (of
running instances: a suspended one's tasks wait until it is resumed).

Read only the `tasks` table (and each instance's title), never a workflow: an inbox may hold
thousands of tasks and its count is on every page.
"""

from itertools import islice

from sqlalchemy import func, or_, select

from .instance_lists import list_instances
from .models import InstanceRecord, TaskRecord
from .tasks import Actor, may_complete
from .views import Inbox, TaskInfo

# Only a running instance's tasks can be done: a suspended one (or one in error) answers 409.
# Those are few, found through the status index once, so no task needs its instance row read.
HELD = ("suspended", "error")
NOT_HELD = TaskRecord.instance_id.not_in(select(InstanceRecord.id).where(InstanceRecord.status.in_(HELD)))


# Unassigned tasks only `may_complete` can settle: those with no group (candidate users only)
# and those open to more than one group or to candidate users (`shared`).
_TO_CHECK = TaskRecord.assignee.is_(None) & or_(TaskRecord.group_id.is_(None), TaskRecord.shared.is_(True))


def _open_to(actor: Actor, assigned: str):
    """The projection rows `actor` may act on, as SQL, before `may_complete` settles the tasks
    of `_TO_CHECK`."""
    mine = TaskRecord.assignee == actor.username
    open_to_groups = TaskRecord.assignee.is_(None) & or_(
        TaskRecord.group_id.in_(sorted(actor.groups)),
        TaskRecord.group_id.is_(None),
        TaskRecord.shared.is_(True),
    )
    return {"me": mine, "group": open_to_groups}.get(assigned, or_(mine, open_to_groups))


def list_tasks(
    session, actor: Actor, *, instance_id=None, assigned="any", limit=None, offset=0
) -> list[TaskInfo]:
    """Ready tasks the actor may act on: `me` (assigned to them), `group` (unassigned, their
    groups) or `any` (both), the most urgent first (due soonest, then waiting longest; undated
    after dated); `limit` of them from `offset` when given. Reads only the projection, as plain
    rows (an inbox may hold thousands)."""
    query = select(
        TaskRecord.id,
        TaskRecord.instance_id,
        TaskRecord.element_id,
        TaskRecord.title,
        TaskRecord.group_id,
        TaskRecord.groups,
        TaskRecord.users,
        TaskRecord.assignee,
        TaskRecord.form_id,
        TaskRecord.created_at,
        TaskRecord.due_at,
        InstanceRecord.title,
        TaskRecord.claimed_by,
    ).join(InstanceRecord, TaskRecord.instance_id == InstanceRecord.id)
    if instance_id is not None:
        query = query.where(TaskRecord.instance_id == instance_id)
    query = query.where(_open_to(actor, assigned), NOT_HELD).order_by(
        TaskRecord.due_at.is_(None),
        TaskRecord.due_at,
        TaskRecord.created_at,
        TaskRecord.instance_id,
        TaskRecord.id,
    )
    tasks = (task for task in _task_rows(session, query, limit) if may_complete(actor, task))
    return list(islice(tasks, offset, offset + limit if limit else None))


def _task_rows(session, query, limit):
    """TaskInfo of the query's rows, fetched in batches when only some are wanted: `may_complete`
    drops rows after the SQL (tasks for candidate users), so a batch may yield fewer than asked."""
    if not limit:
        # Positional, in TaskInfo's order: an inbox may hold thousands of rows.
        yield from (TaskInfo(*row) for row in session.execute(query))
        return
    size, start = max(2 * limit, 100), 0
    while True:
        rows = session.execute(query.limit(size).offset(start)).all()
        yield from (TaskInfo(*row) for row in rows)
        if len(rows) < size:
            return
        start += size


def count_tasks(session, actor: Actor, *, assigned="any", due_before=None) -> int:
    """How many tasks `list_tasks` would list (only those due before `due_before` when given),
    counted by the database (the inbox badge on every page asks)."""
    query = select(func.count()).where(_open_to(actor, assigned), NOT_HELD)
    # The tasks `may_complete` settles are read and asked, below; the rest are counted.
    candidates = select(TaskRecord.groups, TaskRecord.users).where(
        _open_to(actor, assigned), _TO_CHECK, NOT_HELD
    )
    if due_before is not None:
        query = query.where(TaskRecord.due_at < due_before)
        candidates = candidates.where(TaskRecord.due_at < due_before)
    counted = session.scalar(query.select_from(TaskRecord).where(~_TO_CHECK))
    return counted + sum(
        bool(set(groups or ()) & actor.groups) or actor.username in (users or ())
        for groups, users in session.execute(candidates)
    )


def inbox(session, actor: Actor, now, groups_shown=None, requests_shown=10) -> Inbox:
    """The actor's inbox at `now`: every task assigned to them, their groups' open tasks (the
    most urgent `groups_shown`, all when None) with their count, the overdue count of both, and
    their first `requests_shown` running requests."""
    return Inbox(
        mine=list_tasks(session, actor, assigned="me"),
        groups=list_tasks(session, actor, assigned="group", limit=groups_shown),
        groups_total=count_tasks(session, actor, assigned="group"),
        overdue=count_tasks(session, actor, due_before=now),
        requests=list_instances(session, initiator=actor.username, status="running", per_page=requests_shown),
    )
