"""Starting an instance: who may start which process, and the first step written.

Only the department whose lane holds a process's start event starts it (or an admin); a process
the engine starts for a record (a document's review) is never started directly.
"""

from .clock import system_clock
from .deployments import definition_of, version_record
from .documents import REVIEW_PROCESS
from .errors import NotAllowed
from .instances import Instance
from .models import InstanceRecord
from .serialization import FORMAT_VERSION
from .tasks import Actor, may_start, starter_group
from .views import InstanceInfo
from .workflows import _info, _save


def _title(instance: Instance) -> str | None:
    start = instance.definition.start_event()
    request = instance.data.get(start.name) if start is not None else None
    return str(request.get("title"))[:300] if isinstance(request, dict) and request.get("title") else None


# Processes started only for a record, by the engine's own call, never directly: a review is
# started from the document version it reviews, after the checks that call makes.
STARTED_BY_ENGINE = {
    REVIEW_PROCESS: "a document review is started from the document it reviews "
    "(POST /api/v1/instances/{id}/documents/{document}/reviews), not directly",
}


def _require_starter(definition, actor: Actor):
    start = definition.start_event()
    if not may_start(actor, start):
        raise NotAllowed(
            f"{actor.username} may not start {definition.process_id}: {starter_group(start)} starts it"
        )


def require_starter(session, process_id, actor: Actor):
    """Raise NotAllowed unless `actor` may start the latest version of the process (the group
    of the lane its start event is drawn in, or an admin); ProcessNotFound if there is none."""
    if process_id in STARTED_BY_ENGINE:
        raise NotAllowed(STARTED_BY_ENGINE[process_id])
    _require_starter(definition_of(version_record(session, process_id)), actor)


def start_instance(
    session, process_id, data, actor: Actor, clock=system_clock, *, by_engine=False
) -> InstanceInfo:
    """Start the latest version of a process with its start form's data. Returns InstanceInfo.

    Raises ProcessNotFound, NotAllowed (the start event is drawn in a department's lane the actor
    is not in, or the process is one the engine starts for a record, `by_engine` then),
    FormValidationError (nothing stored).
    """
    if process_id in STARTED_BY_ENGINE and not by_engine:
        raise NotAllowed(STARTED_BY_ENGINE[process_id])
    version = version_record(session, process_id)
    definition = definition_of(version)
    _require_starter(definition, actor)
    instance, result = Instance.start(definition, data, actor, clock)
    now = clock()
    record = InstanceRecord(
        process_version_id=version.id,
        process_version=version,
        process_id=process_id,
        title=_title(instance),
        status=instance.status,
        initiator=actor.username,
        state={},
        state_format=FORMAT_VERSION,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    session.flush()
    return _info(record, instance, _save(session, record, instance, result, now))
