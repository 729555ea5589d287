"""Retention and destruction of the library's documents (R4.3.5: "cleaned up and destroyed in
time per the company's archive rules"). A version is due when its project ended longer ago than
its category's retention period; destroying it empties its content and keeps the row, its hash
and who destroyed it, and logs `document_destroyed` in the project's event log. Uploaded files
(test cases, a contract's scan, manuals) are due by their category alike: their row and hash
stay, `upload_destroyed` is logged, and the file is deleted once no upload in force uses it."""

from datetime import timedelta

from sqlalchemy import select

from .clock import aware_utc, system_clock
from .document_catalog import CATEGORY, SPEC
from .documents import DocumentInfo, _info
from .errors import NotAllowed
from .models import DocumentVersionRecord, EventRecord, InstanceRecord, UploadRecord
from .tasks import Actor
from .uploads import UploadInfo
from .uploads import _info as _upload_info


def expire_documents(session, actor: Actor, clock=system_clock, confirm=False) -> list[DocumentInfo]:
    """Document versions past their category's retention, counted from their project's end.
    With `confirm`, destroys them: content emptied, row and hash kept, `document_destroyed`
    logged in the instance's event log. Returns the versions due (destroyed when confirmed).

    Raises NotAllowed unless the actor is an administrator.
    """
    if not actor.is_admin:
        raise NotAllowed(f"{actor.username} may not destroy documents")
    now = clock()
    rows = session.execute(
        select(DocumentVersionRecord, InstanceRecord.ended_at, InstanceRecord.title)
        .join(InstanceRecord, DocumentVersionRecord.instance_id == InstanceRecord.id)
        .where(InstanceRecord.ended_at.is_not(None), DocumentVersionRecord.destroyed_at.is_(None))
        .order_by(DocumentVersionRecord.id)
    )
    due = []
    for row, ended_at, title in rows:
        if not _due(ended_at, row.category, now):
            continue
        if confirm:
            row.content = None
            row.destroyed_at = now
            row.destroyed_by = actor.username
            session.add(
                EventRecord(
                    instance_id=row.instance_id,
                    type="document_destroyed",
                    # Its step: the log shows the entry to whoever may read that step's data.
                    element_id=SPEC[row.document_id].sources[0] if row.document_id in SPEC else None,
                    actor=actor.username,
                    at=now,
                    data={"document": row.document_id, "version": row.version, "sha256": row.sha256},
                )
            )
        due.append(_info(row, title=title))
    session.flush()
    return due


def expire_uploads(session, actor: Actor, clock=system_clock, confirm=False) -> list[UploadInfo]:
    """Uploads past their category's retention, counted from their project's end. With
    `confirm`, marks them destroyed (row and hash kept, `upload_destroyed` logged); the caller
    deletes the files after committing (`uploads.delete_unused_files`). Returns the uploads due.

    Raises NotAllowed unless the actor is an administrator.
    """
    if not actor.is_admin:
        raise NotAllowed(f"{actor.username} may not destroy documents")
    now = clock()
    rows = session.execute(
        select(UploadRecord, InstanceRecord.ended_at)
        .join(InstanceRecord, UploadRecord.instance_id == InstanceRecord.id)
        .where(InstanceRecord.ended_at.is_not(None), UploadRecord.destroyed_at.is_(None))
        .order_by(UploadRecord.id)
    )
    due = []
    for row, ended_at in rows:
        if not _due(ended_at, row.category, now):
            continue
        if confirm:
            row.destroyed_at = now
            row.destroyed_by = actor.username
            data = {"upload": row.id, "kind": row.kind, "filename": row.filename, "sha256": row.sha256}
            # At the step it was uploaded at: only who may read that step's data reads the entry.
            session.add(
                EventRecord(
                    instance_id=row.instance_id,
                    type="upload_destroyed",
                    element_id=row.element_id,
                    actor=actor.username,
                    at=now,
                    data=data,
                )
            )
        due.append(_upload_info(row))
    session.flush()
    return due


def _due(ended_at, category, now) -> bool:
    """Whether a project's `category` records are past their retention, counted from its end."""
    return aware_utc(ended_at) + timedelta(days=CATEGORY[category].retention_days) <= aware_utc(now)
