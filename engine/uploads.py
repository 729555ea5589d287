"""Uploaded documents (R4.1.3, R4.1.5, the signed contract): attached to the ready task that asks
for them, checked, and stored content-addressed on disk.

A file is accepted when its kind is one the task's step asks for, its name ends in an allowed
extension, its first bytes match that type (a renamed executable is refused) and it is not
empty or too large. It is written as `<upload dir>/<sha[:2]>/<sha>`, so the same content is
stored once and a file never changes after it is written; the row keeps who, when, what and
which task. Nothing is written, on disk or in the database, when a file is refused.
"""

import hashlib
import io
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from .clock import aware_utc, system_clock
from .document_catalog import may_read
from .errors import EngineError, FormValidationError, InstanceStateError, NotAllowed
from .models import InstanceRecord, TaskRecord, UploadRecord
from .tasks import Actor, may_complete
from .workflows import InstanceNotFound, _task_and_row, _task_info

DEFAULT_MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class UploadKind:
    id: str
    title: str
    category: str
    steps: tuple  # the steps whose task asks for it


UPLOAD_KINDS = (
    UploadKind("contract_scan", "《軟件升級改造項目合同》簽署掃描件", "project", ("sign_contract",)),
    UploadKind("test_plan", "《軟件升級改造測試計劃》", "test", ("self_test", "joint_test")),
    UploadKind("test_cases", "《軟件升級改造測試用例》", "test", ("self_test", "joint_test")),
    UploadKind("operation_manual", "操作手冊", "operation", ("golive_plan",)),
    UploadKind("maintenance_manual", "維護手冊", "operation", ("golive_plan",)),
    UploadKind("emergency_plan", "應急預案", "operation", ("golive_plan",)),
)
KIND = {k.id: k for k in UPLOAD_KINDS}

# Allowed extensions and the first bytes their content must start with.
_ZIP = (b"PK\x03\x04",)  # .docx / .xlsx are zip containers
SIGNATURES = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}


@dataclass
class UploadInfo:
    id: int
    instance_id: int
    element_id: str
    kind: str
    title: str
    category: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    destroyed_at: datetime | None = None


def kinds_for(element_id) -> list[UploadKind]:
    """The upload kinds a step asks for (empty for most steps)."""
    return [k for k in UPLOAD_KINDS if element_id in k.steps]


def _info(row: UploadRecord) -> UploadInfo:
    kind = KIND.get(row.kind)
    return UploadInfo(
        row.id,
        row.instance_id,
        row.element_id,
        row.kind,
        kind.title if kind else row.kind,
        row.category,
        row.filename,
        row.media_type,
        row.size,
        row.sha256,
        row.uploaded_by,
        row.uploaded_at,
        row.destroyed_at,
    )


# An Office Open XML file is a zip whose parts say what it is: its content types, and the main
# part of a document or a workbook. Any zip starts with the same four bytes.
_OFFICE_PARTS = {".docx": "word/document.xml", ".xlsx": "xl/workbook.xml"}


def _office_parts_match(suffix, content) -> bool:
    main = _OFFICE_PARTS.get(suffix)
    if main is None:
        return True
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())  # the central directory only: nothing is unpacked
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return "[Content_Types].xml" in names and main in names


MAX_NAME = 200  # characters of a stored file name (its column)


def unsendable_name(name: str) -> bool:
    """Whether a file name could not be stored or sent back in a download's header: control
    characters (a line break made every download a 500) or longer than its column."""
    return any(ord(c) < 32 or ord(c) == 127 for c in name) or len(name) > MAX_NAME


def _check(kind_id, element_id, filename, content, max_bytes) -> str:
    errors = {}
    kind = KIND.get(kind_id)
    if kind is None or element_id not in kind.steps:
        allowed = ", ".join(k.id for k in kinds_for(element_id)) or "none"
        errors["kind"] = [f"此步驟要求的文件：{allowed} / this step asks for: {allowed}"]
    suffix = Path(filename or "").suffix.lower()
    media_type, magic = SIGNATURES.get(suffix, (None, ()))
    name = Path(filename or "").name
    if unsendable_name(name):
        errors["file"] = [
            f"文件名不能包含控制字符或超過 {MAX_NAME} 個字符 / "
            f"the file name may not hold control characters or exceed {MAX_NAME} characters"
        ]
    elif media_type is None:
        listed = ", ".join(sorted(SIGNATURES))
        errors["file"] = [f"不允許此文件類型；允許：{listed} / type not allowed; allowed: {listed}"]
    elif not content:
        errors["file"] = ["文件是空的 / the file is empty"]
    elif len(content) > max_bytes:
        errors["file"] = [f"文件超過 {max_bytes} 字節 / larger than {max_bytes} bytes"]
    elif not content.startswith(magic) or not _office_parts_match(suffix, content):
        errors["file"] = [f"內容不是 {suffix} 文件 / the content is not a {suffix} file"]
    if errors:
        raise FormValidationError(errors)
    return media_type


def _write(upload_dir, sha, content) -> None:
    path = Path(upload_dir) / sha[:2] / sha
    if path.exists():
        # The same content is stored already (stored files never change). Touched: a file a new
        # upload relies on is fresh, which `delete_unused_files` leaves alone.
        try:
            os.utime(path)
            return
        except FileNotFoundError:
            pass  # deleted just now: written again below
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename: a reader (or a backup) never sees half a file.
    handle, temporary = tempfile.mkstemp(dir=path.parent)
    with os.fdopen(handle, "wb") as out:
        out.write(content)
    os.replace(temporary, path)


def store_upload(
    session,
    task_id,
    kind,
    filename,
    content: bytes,
    actor: Actor,
    upload_dir,
    clock=system_clock,
    max_bytes=DEFAULT_MAX_BYTES,
) -> UploadInfo:
    """Attach a file to a ready task that asks for it. Returns its UploadInfo.

    Raises TaskNotFound / InstanceConflict (no such ready task), NotAllowed (the actor may not
    complete the task), InstanceStateError (its instance is suspended or in error: its tasks
    cannot be worked on), FormValidationError (kind not asked for by the step, type not allowed,
    content not of that type, empty or too large; nothing stored).
    """
    # The instance row locked, as a completion locks it: a suspension cannot slip in between.
    row, instance = _task_and_row(session, task_id, lock=True)
    if not may_complete(actor, _task_info(row)):
        raise NotAllowed(f"{actor.username} may not act on task {row.element_id}")
    if instance.status != "running":
        raise InstanceStateError(
            f"流程實例狀態為 {instance.status}，不能附加文件 / "
            f"the instance is {instance.status}: nothing can be attached to its tasks"
        )
    media_type = _check(kind, row.element_id, filename, content, max_bytes)
    sha = hashlib.sha256(content).hexdigest()
    record = UploadRecord(
        instance_id=row.instance_id,
        task_id=row.id,
        element_id=row.element_id,
        kind=kind,
        category=KIND[kind].category,
        filename=Path(filename).name,
        media_type=media_type,
        size=len(content),
        sha256=sha,
        uploaded_by=actor.username,
        uploaded_at=clock(),
    )
    session.add(record)
    session.flush()
    _write(upload_dir, sha, content)  # after the row is accepted; content-addressed, so idempotent
    return _info(record)


def list_uploads(session, instance_id, actor: Actor) -> list[UploadInfo]:
    """The instance's uploads the actor may read (R4.3.4), oldest first. Raises InstanceNotFound
    (there was an empty list for an instance that is not there, as for one with no uploads)."""
    if session.get(InstanceRecord, instance_id) is None:
        raise InstanceNotFound(f"no instance {instance_id}")
    rows = session.scalars(
        select(UploadRecord).where(UploadRecord.instance_id == instance_id).order_by(UploadRecord.id)
    )
    return [_info(r) for r in rows if may_read(actor, r.category)]


class UploadNotFound(EngineError):
    """No such upload, or its stored content is gone."""


def open_upload(session, upload_id, actor: Actor, upload_dir) -> tuple[UploadInfo, Path]:
    """(the upload, the path of its content). Raises UploadNotFound when there is no such
    upload (or its file is gone), NotAllowed when the actor may not read its category."""
    row = session.get(UploadRecord, upload_id)
    if row is None:
        raise UploadNotFound(f"no upload {upload_id}")
    if not may_read(actor, row.category):
        raise NotAllowed(f"{actor.username} may not read {row.category} documents")
    if row.destroyed_at is not None:
        raise UploadNotFound(f"upload {upload_id} was destroyed, its retention being up (R4.3.5)")
    path = content_path(upload_dir, row.sha256)
    if not path.is_file():
        raise UploadNotFound(f"the content of upload {upload_id} is missing")
    return _info(row), path


def content_path(upload_dir, sha256) -> Path:
    """Where an upload's content is kept: by its SHA-256 (one file for equal contents)."""
    return Path(upload_dir) / sha256[:2] / sha256


# A file written (or touched) this recently may belong to an upload not yet committed.
FRESH = timedelta(hours=1)


def delete_unused_files(session, upload_dir, now: datetime) -> int:
    """Delete the stored file of every destroyed upload that no upload in force uses (call it
    after their destruction is committed; a file a run could not delete goes at the next). A
    file written within FRESH of `now` is left for a later run: an upload of the same content
    may be on its way. Returns how many were deleted."""
    destroyed = set(
        session.scalars(select(UploadRecord.sha256).where(UploadRecord.destroyed_at.is_not(None)))
    )
    used = set(session.scalars(select(UploadRecord.sha256).where(UploadRecord.destroyed_at.is_(None))))
    deleted = 0
    for sha in sorted(destroyed - used):
        path = content_path(upload_dir, sha)
        if path.is_file() and datetime.fromtimestamp(path.stat().st_mtime, UTC) <= aware_utc(now) - FRESH:
            path.unlink()
            deleted += 1
    return deleted


def ready_task_uploads(session, task_id) -> list[UploadInfo]:
    """Uploads already attached to a ready task (for its form page)."""
    task = session.get(TaskRecord, str(task_id))
    if task is None:
        return []
    rows = session.scalars(
        select(UploadRecord).where(UploadRecord.task_id == task.id).order_by(UploadRecord.id)
    )
    return [_info(r) for r in rows]
