"""Deploying bundles as versioned processes, and finding the definition an instance runs on.

A process gets a new version only when its content changed (its parsed spec, the forms its steps
link and the text of its diagram's file, layout included, hashed); redeploying the same files keeps
the latest version, whatever other files came with them. Sources are kept exactly as deployed so a
process owner can download them back into Camunda Modeler. Parsed definitions are cached per
version in this process: a version never changes once stored.
"""

import logging
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .errors import DeploymentError, EngineError, NotAllowed, Problem
from .groups import PROCESS_OWNER
from .identities import content_hash, diagrams_of, file_identity, new_forms
from .models import InstanceRecord, ProcessVersionRecord, TaskRecord
from .specs import Bundle, ProcessDefinition
from .tasks import Actor
from .versions import VersionDiff, diff_definitions
from .views import DeployedProcess, ProcessInfo, VersionInfo


class ProcessNotFound(EngineError):
    """No deployed process (or version) with that id."""


class DeploymentConflict(EngineError):
    """Another deployment stored the same version number of the process first: both read the
    latest version before either stored the next one (the process_id/version unique key kept
    the first). Nothing of this deployment is kept once the caller rolls back; deploying again
    makes the next version."""

    def __init__(self, process_id: str, version: int):
        self.process_id, self.version = process_id, version
        super().__init__(
            f"another deploy of {process_id} stored version {version} at the same time; "
            "nothing was stored: deploy again"
        )


def _version_hash(record: ProcessVersionRecord) -> str:
    """A stored version's hash as `content_hash` makes it now (versions stored before took in
    every form of their bundle, and no layout)."""
    definition = definition_of(record)
    return content_hash(record.definition, definition.linked_forms(), diagrams_of(definition, record.sources))


def _decode_sources(files: dict[str, bytes]) -> tuple[dict[str, str], list[Problem]]:
    """({file name: text} of the UTF-8 files, a problem for each other one)."""
    sources, problems = {}, []
    for name, content in sorted(files.items()):
        try:
            sources[name] = content.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(name, "the file is not UTF-8 text"))
    return sources, problems


def may_own_processes(actor: Actor) -> bool:
    """Whether the actor may deploy, download and edit processes: an admin or a process owner."""
    return actor.is_admin or PROCESS_OWNER in actor.groups


def deploy_bundle(session, files: dict[str, bytes], actor: Actor) -> list[DeployedProcess]:
    """`deploy` on behalf of a person. Returns one DeployedProcess per executable process.

    Raises NotAllowed unless the actor is an admin or a process owner; DeploymentError with
    every problem of the bundle. Either way nothing is stored.
    """
    if not may_own_processes(actor):
        raise NotAllowed(f"{actor.username} is neither an administrator nor a process owner")
    return deploy(session, files, actor.username)


def _deployed_forms(session) -> dict[str, dict]:
    # The forms of every process's latest version, for diagrams that link a form already deployed.
    forms = {}
    for info in list_processes(session):
        forms.update(version_record(session, info.id, info.version).definition.get("forms", {}))
    return forms


def deploy(session, files: dict[str, bytes], deployed_by: str | None) -> list[DeployedProcess]:
    """Check and deploy a bundle. Returns one DeployedProcess per executable process.

    A user task may link a form from the bundle or one already deployed with another process.
    Raises DeploymentError with every problem; then nothing is stored. Raises
    DeploymentConflict when another deployment stored the same version first; the session then
    needs a rollback.
    """
    sources, undecodable = _decode_sources(files)
    try:  # the other files are checked too, so that the answer names every problem
        deployed_forms = _deployed_forms(session)
        bundle = Bundle({name: files[name] for name in sources}, deployed_forms)
    except DeploymentError as error:
        raise DeploymentError(undecodable + error.problems) from None
    if undecodable:
        raise DeploymentError(undecodable)
    if not bundle.definitions:
        raise DeploymentError([Problem(", ".join(sorted(files)), "the bundle has no executable process")])
    deployed = []
    for process_id, definition in sorted(bundle.definitions.items()):
        dumped = definition.dump()
        latest = _latest(session, process_id)
        # The forms it links, and those of the bundle neither its latest version nor any process
        # holds as they are here: a form sent to be linked later is kept (a version), the same
        # again is none.
        held = latest.definition.get("forms", {}) if latest is not None else {}
        kept = definition.linked_forms() | new_forms(dumped, held, deployed_forms)
        digest = content_hash(dumped, kept, diagrams_of(definition, sources))
        # The latest's own definition, hashed now: versions stored before carry a digest made
        # another way (of every form in their bundle, with the editor marks, without layout).
        if latest is not None and (digest == latest.content_hash or digest == _version_hash(latest)):
            deployed.append(DeployedProcess(process_id, latest.version, created=False))
            continue
        version = (latest.version if latest else 0) + 1
        _store_version(
            session,
            ProcessVersionRecord(
                process_id=process_id,
                version=version,
                name=definition.name,
                content_hash=digest,
                sources=sources,
                definition=dumped,
                deployed_by=deployed_by,
                deployed_at=datetime.now(UTC),
            ),
        )
        deployed.append(DeployedProcess(process_id, version, created=True))
    return deployed


def _store_version(session, record: ProcessVersionRecord):
    # Flushed here, one version at a time, so that a lost race names its process (at the
    # commit, or at the next query's autoflush, it was an IntegrityError about some version).
    session.add(record)
    try:
        session.flush()
    except IntegrityError as error:
        if not _unique_violation(error):
            raise
        raise DeploymentConflict(record.process_id, record.version) from None


def _unique_violation(error: IntegrityError) -> bool:
    code = getattr(error.orig, "sqlstate", None)  # psycopg: unique_violation; SQLite: in words
    return code == "23505" or (code is None and "UNIQUE constraint failed" in str(error.orig))


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


log = logging.getLogger(__name__)

DEFINITION_CACHE_SIZE = 64  # parsed versions kept per process
_DEFINITIONS: dict = {}  # (version id, content hash) -> ProcessDefinition; a version never changes


def definition_of(record: ProcessVersionRecord) -> ProcessDefinition:
    """The parsed definition of a stored version (cached per version)."""
    cached = _DEFINITIONS.get((record.id, record.content_hash))
    if cached is None:
        cached = ProcessDefinition.load(record.definition)
        if len(_DEFINITIONS) >= DEFINITION_CACHE_SIZE:
            _DEFINITIONS.clear()
        _DEFINITIONS[(record.id, record.content_hash)] = cached
    return cached


def load_definitions(session) -> int:
    """Parse ahead of time the definitions requests will need: the latest version of every
    process and every version that still has running instances (the newest, up to half of what
    the definition cache holds). A server calls this once per process before it serves. A
    version that does not parse is skipped (and logged): its own requests report the problem.
    Returns how many parsed."""
    latest = select(func.max(ProcessVersionRecord.id)).group_by(ProcessVersionRecord.process_id)
    running = select(InstanceRecord.process_version_id).where(InstanceRecord.status == "running").distinct()
    records = session.scalars(
        select(ProcessVersionRecord)
        .where(ProcessVersionRecord.id.in_(latest.union(running)))
        .order_by(ProcessVersionRecord.id.desc())
        .limit(DEFINITION_CACHE_SIZE // 2)  # room for what requests parse later
    ).all()
    loaded = 0
    for record in records:
        try:
            definition_of(record)
            loaded += 1
        except Exception as error:  # ahead of time only: its own requests will say why
            log.warning("version %s of %s not parsed ahead: %s", record.version, record.process_id, error)
    return loaded


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


def process_sources(session, process_id, version=None) -> dict[str, str]:
    """{file name: text} of every file deployed with a process version (latest when version is
    None), exactly as deployed: the diagrams a viewer draws and the forms that label its data.

    Raises ProcessNotFound.
    """
    return dict(version_record(session, process_id, version).sources)


def current_sources(session, process_id) -> dict[str, tuple[str, int, str]]:
    """The files of a process's latest version, each as most recently deployed: {file name:
    (process id, version, text)} of the latest version that holds the newest copy. A diagram or
    form deployed since with another process replaces the copy stored with this one, so that an
    edit in the modeller, sent back with these, never brings back an older file.

    Raises ProcessNotFound.
    """
    own = version_record(session, process_id)
    identities = {name: file_identity(name, text) for name, text in own.sources.items()}
    newest: dict[str, ProcessVersionRecord] = {name: own for name in own.sources}
    for info in list_processes(session):
        record = version_record(session, info.id, info.version)
        for name, text in record.sources.items():
            # The same file: its name and what it defines (two processes' `diagram_1.bpmn` are not).
            same = name in identities and file_identity(name, text) == identities[name]
            if same and record.id > newest[name].id:
                newest[name] = record
    return {
        name: (newest[name].process_id, newest[name].version, newest[name].sources[name])
        for name in own.sources
    }


def list_versions(session, process_id) -> list[VersionInfo]:
    """Every version of a process, newest first, with how many instances run on each.

    Raises ProcessNotFound.
    """
    records = list(
        session.scalars(
            select(ProcessVersionRecord)
            .where(ProcessVersionRecord.process_id == process_id)
            .order_by(ProcessVersionRecord.version.desc())
        )
    )
    if not records:
        raise ProcessNotFound(f"no process {process_id!r}")
    counts = {}
    rows = session.execute(
        select(InstanceRecord.process_version_id, InstanceRecord.status, func.count())
        .where(InstanceRecord.process_id == process_id)
        .group_by(InstanceRecord.process_version_id, InstanceRecord.status)
    )
    for version_id, status, count in rows:
        counts.setdefault(version_id, {})[status] = count
    return [
        VersionInfo(
            r.process_id,
            r.name,
            r.version,
            r.deployed_at,
            r.deployed_by,
            counts.get(r.id, {}).get("running", 0),
            sum(counts.get(r.id, {}).values()),
        )
        for r in records
    ]


def diff_versions(session, process_id, old_version, new_version) -> VersionDiff:
    """Elements and forms added, removed or changed from one version to another.

    Raises ProcessNotFound.
    """
    old = definition_of(version_record(session, process_id, old_version))
    new = definition_of(version_record(session, process_id, new_version))
    return diff_definitions(old, new)


def waiting_counts(session, process_id, version=None) -> dict[str, int]:
    """{element id: ready tasks} over the running instances of a version (latest when None).

    Raises ProcessNotFound.
    """
    record = version_record(session, process_id, version)
    rows = session.execute(
        select(TaskRecord.element_id, func.count())
        .join(InstanceRecord, TaskRecord.instance_id == InstanceRecord.id)
        .where(InstanceRecord.process_version_id == record.id)
        .group_by(TaskRecord.element_id)
    )
    return dict(rows.all())
