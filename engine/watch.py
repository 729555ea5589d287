"""What admins watch: every instance across processes, filtered, and the incidents (issue 5).

Reads only the instance rows (no workflow is deserialized), like `workflows.list_instances`.
"""

from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from .admin import require_admin
from .clock import system_clock
from .models import InstanceRecord, ProcessVersionRecord
from .phases import waits_at_clause
from .tasks import Actor
from .views import Page
from .workflows import _info


def admin_instances(session, actor: Actor, *, page=1, per_page=50, clock=system_clock, **filters) -> Page:
    """Instances of every process, oldest first, filtered (`_filtered`'s keywords) by process,
    version, status, a step they wait at, age (started more than `older_than_days` ago) and
    initiator. Returns Page of InstanceInfo (with `error` for incidents, without data). Raises
    NotAllowed; TypeError for a filter there is not."""
    require_admin(actor)
    query = _filtered(clock=clock, **filters)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(InstanceRecord.id).offset((page - 1) * per_page).limit(per_page))
    return Page([_info(r) for r in rows], total, page, per_page)


def every_admin_instance(session, actor: Actor, *, batch=1000, clock=system_clock, **filters) -> Iterator:
    """Every instance `admin_instances` would list under the same `filters` (its keywords),
    oldest first, however many: an iterator of InstanceInfo that reads `batch` rows at a time
    (each batch one query, from the last id on, so a later batch costs no more than the first),
    and keeps none it has handed out (the session holds rows weakly). For a listing of them all
    (`upgradeflow instances list`), where one page of 10,000 stopped at 10,000. Raises NotAllowed,
    at once; TypeError for a filter there is not."""
    require_admin(actor)
    query = _filtered(clock=clock, **filters)
    return _in_batches(session, query, batch)


def _in_batches(session, query, batch) -> Iterator:
    after = 0
    while True:
        rows = session.scalars(
            query.where(InstanceRecord.id > after).order_by(InstanceRecord.id).limit(batch)
        ).all()
        for row in rows:
            yield _info(row)
        if len(rows) < batch:
            return
        after = rows[-1].id


def _filtered(
    *,
    process_id=None,
    version=None,
    status=None,
    waiting_at=None,
    older_than_days=None,
    initiator=None,
    clock=system_clock,
):
    # The rows without their state (the list shows none of it; a state is ~0.3 MB).
    query = (
        select(InstanceRecord)
        .join(ProcessVersionRecord, InstanceRecord.process_version_id == ProcessVersionRecord.id)
        .options(defer(InstanceRecord.state))
    )
    if process_id:
        query = query.where(InstanceRecord.process_id == process_id)
    if version:
        query = query.where(ProcessVersionRecord.version == version)
    if status:
        query = query.where(InstanceRecord.status == status)
    if waiting_at:
        query = query.where(waits_at_clause(waiting_at))
    if older_than_days:
        query = query.where(InstanceRecord.created_at < clock() - timedelta(days=older_than_days))
    if initiator:
        query = query.where(InstanceRecord.initiator == initiator)
    return query


def list_incidents(session, actor: Actor, limit=200) -> list:
    """Instances in `error`, oldest first: InstanceInfo with `error` {element, message, data, at}.

    Raises NotAllowed."""
    return admin_instances(session, actor, status="error", per_page=limit).items
