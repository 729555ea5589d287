"""The instance list: instances newest first, filtered, without reading their state."""

from sqlalchemy import func, select
from sqlalchemy.orm import defer, undefer

from .errors import StateFormatError
from .models import InstanceRecord, TaskRecord
from .phases import phase_clause, waits_at_clause
from .tasks import Actor
from .views import Page
from .workflows import _info, _task_info, get_instance, shown_to


def list_instances(
    session,
    *,
    status=None,
    process_id=None,
    initiator=None,
    waiting_at=None,
    phase=None,
    page=1,
    per_page=50,
    actor: Actor | None = None,
) -> Page:
    """Instances newest first, filtered (their state is not read). Given `actor`, each comes with
    its ready tasks and its data, holding what the actor's groups may read (as `get_instance`);
    without, with neither (the pages' lists). `phase` is one of the regulation's phases
    (`pool.PHASE_NAMES`) or `phases.NO_PHASE`, as the dashboard counts them from `waiting_at`."""
    query = select(InstanceRecord).options(defer(InstanceRecord.state))
    if actor is not None:
        query = query.options(undefer(InstanceRecord.data))
    if status:
        query = query.where(InstanceRecord.status == status)
    if process_id:
        query = query.where(InstanceRecord.process_id == process_id)
    if initiator:
        query = query.where(InstanceRecord.initiator == initiator)
    if waiting_at:
        query = query.where(waits_at_clause(waiting_at))
    if phase:
        query = query.where(phase_clause(phase))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = list(
        session.scalars(
            query.order_by(InstanceRecord.id.desc()).offset((page - 1) * per_page).limit(per_page)
        )
    )
    if actor is None:
        return Page([_info(r) for r in rows], total, page, per_page)
    tasks = {}
    found = (
        select(TaskRecord)
        .where(TaskRecord.instance_id.in_([r.id for r in rows]))
        .order_by(TaskRecord.created_at)
    )
    for task in session.scalars(found):
        tasks.setdefault(task.instance_id, []).append(_task_info(task))
    items = []
    for record in rows:
        data = record.data
        if data is None:  # saved before instances kept their data (revision 0119): from the state
            try:
                data = get_instance(session, record.id).data
            except StateFormatError:
                data = None  # a state that cannot be read: the list still answers (replay repairs)
        items.append(shown_to(actor, _info(record, tasks=tasks.get(record.id, []), data=data)))
    return Page(items, total, page, per_page)
