"""Deploying bundles as versioned processes, and finding the definition an instance runs on.

A process gets a new version only when its content changed (its parsed spec and forms, hashed);
redeploying the same files keeps the latest version. Sources are kept exactly as deployed so a
process owner can download them back into Camunda Modeler. Parsed definitions are cached per
version in this process: a version never changes once stored.
"""

import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from .errors import DeploymentError, EngineError, Problem
from .models import ProcessVersionRecord
from .specs import Bundle, ProcessDefinition
from .views import DeployedProcess, ProcessInfo


class ProcessNotFound(EngineError):
    """No deployed process (or version) with that id."""


def _content_hash(definition: ProcessDefinition) -> str:
    canonical = json.dumps(definition.dump(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _decode_sources(files: dict[str, bytes]) -> dict[str, str]:
    sources = {}
    for name, content in files.items():
        try:
            sources[name] = content.decode("utf-8")
        except UnicodeDecodeError:
            raise DeploymentError([Problem(name, "the file is not UTF-8 text")]) from None
    return sources


def deploy(session, files: dict[str, bytes], deployed_by: str | None) -> list[DeployedProcess]:
    """Check and deploy a bundle. Returns one DeployedProcess per executable process.

    Raises DeploymentError with every problem; then nothing is stored.
    """
    sources = _decode_sources(files)
    bundle = Bundle(files)
    if not bundle.definitions:
        raise DeploymentError([Problem(", ".join(sorted(files)), "the bundle has no executable process")])
    deployed = []
    for process_id, definition in sorted(bundle.definitions.items()):
        digest = _content_hash(definition)
        latest = _latest(session, process_id)
        if latest is not None and latest.content_hash == digest:
            deployed.append(DeployedProcess(process_id, latest.version, created=False))
            continue
        version = (latest.version if latest else 0) + 1
        session.add(
            ProcessVersionRecord(
                process_id=process_id,
                version=version,
                name=definition.name,
                content_hash=digest,
                sources=sources,
                definition=definition.dump(),
                deployed_by=deployed_by,
                deployed_at=datetime.now(UTC),
            )
        )
        deployed.append(DeployedProcess(process_id, version, created=True))
    session.flush()
    return deployed


def _latest(session, process_id) -> ProcessVersionRecord | None:
    return session.scalar(
        select(ProcessVersionRecord)
        .where(ProcessVersionRecord.process_id == process_id)
        .order_by(ProcessVersionRecord.version.desc())
        .limit(1)
    )


def version_record(session, process_id, version=None) -> ProcessVersionRecord:
    """The stored version (latest when version is None). Raises ProcessNotFound."""
    if version is None:
        record = _latest(session, process_id)
    else:
        record = session.scalar(
            select(ProcessVersionRecord).where(
                ProcessVersionRecord.process_id == process_id, ProcessVersionRecord.version == version
            )
        )
    if record is None:
        raise ProcessNotFound(f"no process {process_id!r}" + (f" version {version}" if version else ""))
    return record


_DEFINITIONS: dict = {}  # (version id, content hash) -> ProcessDefinition; a version never changes


def definition_of(record: ProcessVersionRecord) -> ProcessDefinition:
    """The parsed definition of a stored version (cached per version)."""
    cached = _DEFINITIONS.get((record.id, record.content_hash))
    if cached is None:
        cached = ProcessDefinition.load(record.definition)
        if len(_DEFINITIONS) > 64:
            _DEFINITIONS.clear()
        _DEFINITIONS[(record.id, record.content_hash)] = cached
    return cached


def _info(record: ProcessVersionRecord, with_form=False) -> ProcessInfo:
    info = ProcessInfo(record.process_id, record.name, record.version, record.deployed_at, record.deployed_by)
    if with_form:
        definition = definition_of(record)
        form = definition.form_for(definition.start_event())
        info.start_form = form.schema if form is not None else None
    return info


def list_processes(session) -> list[ProcessInfo]:
    """The latest version of every deployed process, by id."""
    latest = (
        select(ProcessVersionRecord.process_id, func.max(ProcessVersionRecord.version).label("version"))
        .group_by(ProcessVersionRecord.process_id)
        .subquery()
    )
    records = session.scalars(
        select(ProcessVersionRecord)
        .join(
            latest,
            (ProcessVersionRecord.process_id == latest.c.process_id)
            & (ProcessVersionRecord.version == latest.c.version),
        )
        .order_by(ProcessVersionRecord.process_id)
    )
    return [_info(r) for r in records]


def get_process(session, process_id, version=None) -> ProcessInfo:
    """One process version with its start form's schema. Raises ProcessNotFound."""
    return _info(version_record(session, process_id, version), with_form=True)
