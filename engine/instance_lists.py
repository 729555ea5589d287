"""The instance list: instances newest first, filtered, without their state."""

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from .models import InstanceRecord
from .phases import phase_clause, waits_at_clause
from .views import Page
from .workflows import _info


def list_instances(
    session, *, status=None, process_id=None, initiator=None, waiting_at=None, phase=None, page=1, per_page=50
) -> Page:
    """Instances newest first, filtered; without their data (their state is not even read).
    `phase` is one of the regulation's phases (`pool.PHASE_NAMES`) or `phases.NO_PHASE`, as the
    dashboard counts them from `waiting_at`."""
    query = select(InstanceRecord).options(defer(InstanceRecord.state))
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
    rows = session.scalars(
        query.order_by(InstanceRecord.id.desc()).offset((page - 1) * per_page).limit(per_page)
    )
    return Page([_info(r) for r in rows], total, page, per_page)
