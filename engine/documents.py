"""The regulation's documents (R4): produced from the data entered at their steps, kept in every
version, readable by the groups whose duties need them, and destroyed when their time is up.

A document's content is the data of the steps it is made from (`Spec.sources`), copied when the
step completes; its SHA-256 is over that content as canonical JSON, so a changed submission (a
revised plan, a repeated acceptance) makes a new version and an unchanged one does not. Versions
are never overwritten: destruction (R4.3.5) empties the content but keeps the row, its hash and
who destroyed it, and logs `document_destroyed` in the instance's event log.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update

from .clock import aware_utc
from .document_catalog import CATEGORY, SPEC, SPECS, Spec, may_read
from .errors import EngineError, NotAllowed
from .models import DocumentVersionRecord, EventRecord, InstanceRecord
from .step_rows import as_time
from .tasks import Actor


class DocumentNotFound(EngineError):
    """No such document (or version) in the instance, or it has been destroyed."""


REVIEW_PROCESS = "document_review"  # processes/document_review.bpmn (R4.3.1–R4.3.3)
# A reviewer's decision that sends the document back is not an approval.
NOT_APPROVED = {"return", "reject", "revise", "fail"}


@dataclass
class DocumentInfo:
    """One stored version of one document (content is None once destroyed or when not asked)."""

    id: int
    instance_id: int
    document_id: str
    title: str
    category: str
    clause: str
    version: int
    sha256: str
    author: str | None
    reviewer: str | None
    approved_at: datetime | None
    created_at: datetime
    signoffs: list
    destroyed_at: datetime | None = None
    destroyed_by: str | None = None
    content: dict | None = None
    instance_title: str | None = None
    status: str = "draft"  # draft | in_review | archived (final, R4.3.3) | destroyed
    review_instance_id: int | None = None
    archived_at: datetime | None = None
    archived_by: str | None = None
    process_id: str | None = None  # of the instance (set when read with content)
    process_version: int | None = None


def content_hash(content: dict) -> str:
    """SHA-256 (hex) of content as canonical JSON (sorted keys, UTF-8)."""
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _content(spec: Spec, data: dict) -> dict | None:
    first = data.get(spec.sources[0])
    if not isinstance(first, dict) or not first:
        return None
    return {key: data[key] for key in spec.sources if data.get(key) not in (None, "", [], {})}


@dataclass(frozen=True)
class _Completion:
    """What a document needs of a step's latest completion (or of the start)."""

    order: int  # a later completion has a greater one
    actor: str | None
    at: datetime
    decision: str | None


def _completions(session, instance_id) -> dict:
    """element id -> _Completion: the latest of each step a document names."""
    return {
        row.element_id: _Completion(row.seq, row.actor, aware_utc(row.at), (row.data or {}).get("decision"))
        for row in session.connection().execute(_COMPLETIONS, {"instance_id": instance_id})
    }


def _with_step(done: dict, events) -> dict:
    """`done` after this step's completions (each later than any before it)."""
    done = dict(done)
    order = max((c.order for c in done.values()), default=0)
    for event in events:
        if event.kind in STEP_EVENTS and event.element_id in DOCUMENT_STEPS:
            order += 1
            decision = (event.data or {}).get("decision")
            done[event.element_id] = _Completion(order, event.actor, aware_utc(as_time(event.at)), decision)
    return done


def _approval(spec: Spec, done: dict):
    """The completion that approved the document: every reviewer's latest decision approves (a
    project application needs finance and management both, R3.3.2), made after the version was
    written (a decision on an earlier version approves none of a revised one), the last of them;
    else None."""
    events = [done.get(element) for element in spec.reviewers]
    # Written by its authors; one that decides on it too (IT signs the acceptance report it
    # writes) wrote it no later than the decisions beside its own.
    written = max((done[a].order for a in spec.authors if a in done and a not in spec.reviewers), default=0)
    if not events or any(e is None or e.decision in NOT_APPROVED or e.order < written for e in events):
        return None
    return max(events, key=lambda event: event.order)


def _signoffs(spec: Spec, data: dict, done: dict) -> list:
    return [
        {
            "step": element,
            "signer": (data.get(element) or {}).get("signer") or done[element].actor,
            "user": done[element].actor,
            "at": done[element].at.isoformat(),
            "decision": done[element].decision,
        }
        for element in spec.signoffs
        if element in done
    ]


# Statements of every step, built once. The latest version of each document of an instance, with
# what the comparison and the approval need (not the content of every document), as plain rows:
_LATEST = select(
    DocumentVersionRecord.document_id,
    DocumentVersionRecord.version,
    DocumentVersionRecord.sha256,
).where(
    DocumentVersionRecord.instance_id == bindparam("instance_id"),
    DocumentVersionRecord.id.in_(
        select(func.max(DocumentVersionRecord.id))
        .where(DocumentVersionRecord.instance_id == bindparam("instance_id"))
        .group_by(DocumentVersionRecord.document_id)
    ),
)
_VERSIONS = DocumentVersionRecord.__table__
_INSERT_VERSIONS = insert(_VERSIONS)
_APPROVE = (
    update(_VERSIONS)
    .where(
        _VERSIONS.c.instance_id == bindparam("of_instance"),
        _VERSIONS.c.document_id == bindparam("of_document"),
        _VERSIONS.c.version == bindparam("of_version"),
    )
    .values(reviewer=bindparam("reviewer"), approved_at=bindparam("approved_at"))
)
# The events after which a document's content or approval may have changed: a step, or an
# administrator's edit of the data (its version is the editor's).
STEP_EVENTS = frozenset({"task_completed", "started"})
DOCUMENT_EVENTS = STEP_EVENTS | {"data_edited", "terminated"}
# The steps whose completions the documents name (author, reviewer, sign-off).
DOCUMENT_STEPS = frozenset(e for spec in SPECS for e in (*spec.authors, *spec.reviewers, *spec.signoffs))
# Their completions (and the start) in an instance, oldest first.
_COMPLETIONS = (
    select(EventRecord.seq, EventRecord.element_id, EventRecord.actor, EventRecord.at, EventRecord.data)
    .where(
        EventRecord.instance_id == bindparam("instance_id"),
        EventRecord.type.in_(sorted(STEP_EVENTS)),
        EventRecord.element_id.in_(sorted(DOCUMENT_STEPS)),
    )
    .order_by(EventRecord.seq)
)


@dataclass
class Known:
    """What `record_documents` knows of an instance's documents after a step, for its next step
    (kept with the cached instance: only steps write versions, always with the instance row)."""

    latest: dict  # document id -> (version, SHA-256) of its latest version
    done: dict | None = None  # element id -> _Completion (None: not read yet)


def record_documents(
    session, record: InstanceRecord, data: dict, events, now: datetime, known: Known | None = None
) -> Known | None:
    """Store a new version of every document whose content changed with this step, and mark
    the latest version approved when its reviewer approved in this step; in a `document_review`
    instance, archive the version under review once the review has archived it. The step's
    events are in the log already.

    `known`: what this returned for the instance's last step, if the caller kept it (saves
    reading the latest versions and the completions). Returns what it knows now, or None.
    Called by `workflows._save` after every change; cheap when nothing changed.
    """
    if record.process_id == REVIEW_PROCESS and any(e.kind == "terminated" for e in events):
        _release_review(session, record)
        return None
    completed = {e.element_id for e in events if e.kind in STEP_EVENTS}
    edited_by = next((e.actor for e in events if e.kind == "data_edited"), None)
    if not completed and edited_by is None:
        return known
    if record.process_id == REVIEW_PROCESS:
        _record_review(session, record, data, events, now)
        return None
    instance_id = record.id
    if known is None:
        latest = {
            row.document_id: (row.version, row.sha256)
            for row in session.connection().execute(_LATEST, {"instance_id": instance_id})
        }
        known = Known(latest)
    else:  # the completions read before this step, and this step's
        known = Known(dict(known.latest), _with_step(known.done, events) if known.done is not None else None)
    latest = known.latest
    changed, approved = [], []
    for spec in SPECS:
        content = _content(spec, data)
        previous = latest.get(spec.id)
        digest = content_hash(content) if content is not None else None
        if digest is not None and (previous is None or previous[1] != digest):
            changed.append((spec, content, digest, previous[0] if previous else 0))
            latest[spec.id] = (previous[0] + 1 if previous else 1, digest)
        elif previous is not None and completed & set(spec.reviewers):
            approved.append((spec, previous[0]))
    if (changed or approved) and known.done is None:
        known.done = _completions(session, instance_id)  # this step's among them
    for spec, version in approved:
        approval = _approval(spec, known.done)
        session.connection().execute(
            _APPROVE,
            {
                "of_instance": instance_id,
                "of_document": spec.id,
                "of_version": version,
                "reviewer": approval.actor if approval else None,
                "approved_at": approval.at if approval else None,
            },
        )
    if changed:  # one INSERT for the step's new versions, without the unit of work
        session.connection().execute(
            _INSERT_VERSIONS,
            [_new_version(instance_id, *change, data, known.done, now, edited_by) for change in changed],
        )
    return known


def _release_review(session, record):
    """A review ended without archiving its version (an administrator terminated it): the version
    is no longer under review, and may be submitted again. It stayed "in review" for good: no
    second review could start, and the dashboard listed it as waiting."""
    session.execute(
        update(DocumentVersionRecord)
        .where(
            DocumentVersionRecord.review_instance_id == record.id, DocumentVersionRecord.archived_at.is_(None)
        )
        .values(review_instance_id=None)
        .execution_options(synchronize_session="fetch")
    )


def _record_review(session, record, data, events, now):
    if "archived_on" not in data:
        return
    row = session.scalar(
        select(DocumentVersionRecord).where(DocumentVersionRecord.review_instance_id == record.id)
    )
    if row is None or row.archived_at is not None:
        return
    review = next((e for e in events if e.element_id == "document_it_review"), None)
    row.archived_at = now
    row.archived_by = review.actor if review is not None else None
    session.flush()


def _new_version(instance_id, spec, content, digest, before, data, done, now, edited_by=None) -> dict:
    """The row of a new version of `spec`'s document after version `before` (0: the first);
    `done`: the latest completion of each step it names."""
    author = edited_by or next((done[e].actor for e in reversed(spec.authors) if e in done), None)
    # Content an administrator changed was approved by no one, whatever was approved before.
    approval = None if edited_by else _approval(spec, done)
    return {
        "instance_id": instance_id,
        "document_id": spec.id,
        "category": spec.category,
        "version": before + 1,
        "title": spec.title,
        "content": content,
        "sha256": digest,
        "author": author,
        "reviewer": approval.actor if approval else None,
        "approved_at": approval.at if approval else None,
        "signoffs": _signoffs(spec, data, done),
        "created_at": now,
    }


def _info(row: DocumentVersionRecord, with_content=False, title=None) -> DocumentInfo:
    return DocumentInfo(
        id=row.id,
        instance_id=row.instance_id,
        document_id=row.document_id,
        title=row.title,
        category=row.category,
        clause=SPEC[row.document_id].clause if row.document_id in SPEC else CATEGORY[row.category].clause,
        version=row.version,
        sha256=row.sha256,
        author=row.author,
        reviewer=row.reviewer,
        approved_at=row.approved_at,
        created_at=row.created_at,
        signoffs=list(row.signoffs or []),
        destroyed_at=row.destroyed_at,
        destroyed_by=row.destroyed_by,
        content=row.content if with_content else None,
        instance_title=title,
        status=_status(row),
        review_instance_id=row.review_instance_id,
        archived_at=row.archived_at,
        archived_by=row.archived_by,
    )


def _status(row) -> str:
    if row.destroyed_at is not None:
        return "destroyed"
    if row.archived_at is not None:
        return "archived"
    return "in_review" if row.review_instance_id is not None else "draft"


def _instance(session, instance_id) -> InstanceRecord:
    from .workflows import InstanceNotFound  # services depend on each other one way: here only

    record = session.get(InstanceRecord, instance_id)
    if record is None:
        raise InstanceNotFound(f"no instance {instance_id}")
    return record


def list_documents(session, instance_id: int, actor: Actor) -> list[DocumentInfo]:
    """The latest version of each document of the instance that the actor may read, in the
    regulation's order (without content). Raises InstanceNotFound."""
    _instance(session, instance_id)
    rows = session.scalars(
        select(DocumentVersionRecord)
        .where(DocumentVersionRecord.instance_id == instance_id)
        .order_by(DocumentVersionRecord.version)
    )
    latest = {row.document_id: row for row in rows}
    order = {s.id: i for i, s in enumerate(SPECS)}
    return [
        _info(row)
        for row in sorted(latest.values(), key=lambda r: order.get(r.document_id, len(order)))
        if may_read(actor, row.category)
    ]


def get_document(session, instance_id: int, document_id: str, actor: Actor, version=None):
    """(the version asked for, or the latest, with content; every version without content).

    Raises InstanceNotFound, DocumentNotFound (also when destroyed), NotAllowed (the actor's
    groups may not read the document's category).
    """
    record = _instance(session, instance_id)
    rows = list(
        session.scalars(
            select(DocumentVersionRecord)
            .where(
                DocumentVersionRecord.instance_id == instance_id,
                DocumentVersionRecord.document_id == document_id,
            )
            .order_by(DocumentVersionRecord.version)
        )
    )
    if not rows:
        raise DocumentNotFound(f"no document {document_id!r} in instance {instance_id}")
    if not may_read(actor, rows[0].category):
        raise NotAllowed(f"{actor.username} may not read {rows[0].category} documents")
    chosen = rows[-1] if version is None else next((r for r in rows if r.version == version), None)
    if chosen is None or chosen.destroyed_at is not None:
        raise DocumentNotFound(f"no version {version} of {document_id!r} in instance {instance_id}")
    info = _info(chosen, with_content=True, title=record.title)
    info.process_id, info.process_version = record.process_id, record.process_version.version
    return info, [_info(r) for r in rows]
