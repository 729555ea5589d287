"""Submitting a document version for review (R4.3.1): one small `document_review` instance per
version, started by its author; the diagram takes it through IT review, revision and archival,
and `documents.record_documents` marks the version archived when the instance archives it."""

from sqlalchemy import select

from .clock import system_clock
from .documents import REVIEW_PROCESS, get_document
from .errors import InstanceStateError
from .locking import write_lock
from .models import DocumentVersionRecord, InstanceRecord
from .starts import start_instance
from .tasks import Actor
from .views import InstanceInfo


def submit_for_review(
    session, instance_id, document_id, actor: Actor, note="", clock=system_clock
) -> InstanceInfo:
    """Start the review of the latest version of a document. Returns the review instance.

    Raises InstanceNotFound, DocumentNotFound, NotAllowed (the actor may not read the
    document's category), InstanceStateError (that version is already under review or archived).
    """
    doc, _ = get_document(session, instance_id, document_id, actor)
    # Locked, and read fresh: two submissions at once start one review; the second waits, then
    # finds it (engine/locking.py).
    write_lock(session)
    row = session.scalar(
        select(DocumentVersionRecord)
        .where(DocumentVersionRecord.id == doc.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row.review_instance_id is not None:
        state = "archived" if row.archived_at is not None else "under review"
        raise InstanceStateError(f"version {row.version} of {document_id} is already {state}")
    data = {"project": instance_id, "document": document_id, "version": row.version, "note": note or ""}
    if row.author:  # who may not approve it (the review's notBy)
        data["author"] = row.author
    review = start_instance(session, REVIEW_PROCESS, data, actor, clock=clock, by_engine=True)
    row.review_instance_id = review.id
    # Named after what it reviews: the inbox and the instance list called it "untitled request".
    review.title = f"{row.title} 第 {row.version} 版 · #{instance_id}"[:300]
    session.get(InstanceRecord, review.id).title = review.title
    session.flush()
    return review


def reviews_waiting(session) -> list[tuple[int, str, int, int]]:
    """(project instance id, document id, version, review instance id) of every version under
    review and not yet archived, oldest submission first."""
    rows = session.scalars(
        select(DocumentVersionRecord)
        .where(
            DocumentVersionRecord.review_instance_id.is_not(None), DocumentVersionRecord.archived_at.is_(None)
        )
        .order_by(DocumentVersionRecord.review_instance_id)
    )
    return [(r.instance_id, r.document_id, r.version, r.review_instance_id) for r in rows]
