"""Issue 6 (R4.3.5): `upgradeflow backup DEST` taken while the app keeps writing is a snapshot of
one moment, and `upgradeflow restore SRC` brings it back into an empty deployment intact.

A writer thread starts instances, completes their steps and uploads documents, one transaction at
a time, and after each commit records what the database holds (its *signature*: every instance
row's status, ready list and lock version, each instance's event count and last event, the task
projection, document versions, uploads, notifications). The backup runs in the middle of that
stream. A consistent snapshot restores to exactly one recorded signature, one taken while the
backup ran; a torn one (tables read at different moments) matches none: an instance row from
before a step with the step's events, a document without its instance, and so on.
"""

import hashlib
import json
import shutil
import threading
import time
from datetime import UTC
from pathlib import Path
from urllib.parse import quote

import pytest
from apiclient import Driver
from databases import NO_SERVER, migrated_app, pg_available, pg_schema
from sqlalchemy import DateTime, func, select

import engine
from engine.documents import content_hash
from engine.models import (
    DocumentVersionRecord,
    EventRecord,
    InstanceRecord,
    NotificationRecord,
    TaskRecord,
    UploadRecord,
)
from web.extensions import db

PDF = b"%PDF-1.4\n% contract scan "
OPS_BEFORE = 6  # commits before the backup starts (two of each kind)
OPS_AFTER = 3  # and after it ended: the backup ran amid the stream


def signature(app) -> dict:
    """What the database holds now, in the terms a step changes (no times: they differ in form
    between SQLite and PostgreSQL, not in meaning)."""

    def rows(query):
        return sorted(tuple(r) for r in db.session.execute(query))

    with app.app_context():
        found = {
            "instances": rows(
                select(
                    InstanceRecord.id,
                    InstanceRecord.status,
                    InstanceRecord.waiting_at,
                    InstanceRecord.version_id,
                )
            ),
            "events": rows(
                select(EventRecord.instance_id, func.count(), func.max(EventRecord.seq)).group_by(
                    EventRecord.instance_id
                )
            ),
            "tasks": rows(select(TaskRecord.id, TaskRecord.instance_id, TaskRecord.element_id)),
            # Whole rows: a version is created by one step and signed off (reviewer, approval
            # time) by a later one.
            "documents": [
                json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)
                for row in _utc_rows(
                    [_row(d) for d in db.session.scalars(select(DocumentVersionRecord).order_by("id"))],
                    DocumentVersionRecord,
                )
            ],
            "uploads": rows(select(UploadRecord.id, UploadRecord.instance_id, UploadRecord.sha256)),
            "notifications": rows(
                select(NotificationRecord.instance_id, func.count()).group_by(NotificationRecord.instance_id)
            ),
        }
        db.session.rollback()
        return found


class Writer(threading.Thread):
    """Commits one step after another until stopped; `signatures[k]` is the database after k."""

    def __init__(self, app, drive: Driver, initiator, contract_instance):
        super().__init__(daemon=True)
        self.app, self.drive, self.initiator = app, drive, initiator
        self.contract_task = drive.task(contract_instance, "sign_contract")
        self.signatures = [signature(app)]
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.error = None

    def committed(self) -> int:
        with self.lock:
            return len(self.signatures) - 1

    def run(self):
        try:
            for _ in self.steps():
                found = signature(self.app)  # nobody else writes: this is the state after the commit
                with self.lock:
                    self.signatures.append(found)
                if self.stopping.is_set():
                    return
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error

    def steps(self):
        """Each `yield` follows one commit: a new instance, a step of it, an uploaded document."""
        for n in range(1000):  # bounded; the test stops the writer long before
            newest = self.drive.start(self.initiator)
            yield
            self.drive.complete(newest, "preliminary_review")
            yield
            self.upload(f"{n}".encode() * 40)
            yield

    def upload(self, body: bytes):
        task = self.contract_task
        with self.app.app_context():
            engine.store_upload(
                db.session,
                task.id,
                "contract_scan",
                "contract.pdf",
                PDF + body,
                Driver.actor_for(task),
                self.app.config["UPLOAD_DIR"],
                clock=self.drive.clock,
            )
            db.session.commit()


def wait_for(writer: Writer, commits: int):
    deadline = time.monotonic() + 60
    while writer.committed() < commits:
        assert writer.error is None, writer.error
        assert writer.is_alive(), "the writer stopped"
        assert time.monotonic() < deadline, f"the writer made {writer.committed()} commits in 60 s"
        time.sleep(0.005)


def source_rows(app, model, key, upto):
    with app.app_context():
        found = [_row(r) for r in db.session.scalars(select(model).where(key <= upto).order_by(key))]
        db.session.rollback()
        return found


def _row(record) -> dict:
    return {c.key: getattr(record, c.key) for c in record.__table__.columns}


def check_restored(target, files: Path):
    """What holds in any consistent snapshot, whoever wrote it: nothing refers to an instance
    that is not there, each instance row agrees with its task projection and has its events,
    each document's hash is its content's, each upload's file is there with its hash."""
    with target.app_context():
        s = db.session
        instances = {r.id: r for r in s.scalars(select(InstanceRecord))}
        tasks = s.execute(select(TaskRecord.instance_id, TaskRecord.element_id)).all()
        for model in (EventRecord, TaskRecord, DocumentVersionRecord, UploadRecord):
            orphans = s.scalars(select(model.instance_id).where(model.instance_id.not_in(instances))).all()
            assert orphans == [], (model.__tablename__, orphans)
        with_events = set(s.scalars(select(EventRecord.instance_id).distinct()))
        assert with_events == set(instances)
        for instance_id, record in instances.items():
            ready = sorted({element for owner, element in tasks if owner == instance_id})
            assert (record.waiting_at or "") == ",".join(ready), (instance_id, record.waiting_at, ready)
        for doc in s.scalars(select(DocumentVersionRecord)):
            assert doc.content is not None and doc.sha256 == content_hash(doc.content), doc.id
        for upload in s.scalars(select(UploadRecord)):
            stored = files / upload.sha256[:2] / upload.sha256
            assert hashlib.sha256(stored.read_bytes()).hexdigest() == upload.sha256, upload.id
        s.rollback()
        return len(instances)


def empty_deployment(database_url, tmp_path, clock):
    return migrated_app(
        database_url, SECRET_KEY="restored", UPLOAD_DIR=str(tmp_path / "restored-files"), ENGINE_CLOCK=clock
    )


def test_a_backup_taken_while_writing_restores_one_moment_intact(
    app, database_url, drive, make_user, runner, tmp_path, request
):
    app.config["UPLOAD_DIR"] = str(tmp_path / "files")
    applicant = make_user("applicant", "business")
    contract = drive.start(applicant)
    drive.walk(contract, "sign_contract")  # a task that takes uploads, for the writer
    writer = Writer(app, drive, applicant, contract)
    writer.start()
    try:
        wait_for(writer, OPS_BEFORE)
        started = writer.committed()
        backup = runner.invoke(args=["backup", str(tmp_path / "snap")])
        ended = writer.committed()
        wait_for(writer, ended + OPS_AFTER)
    finally:
        writer.stopping.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error
    assert backup.exit_code == 0, backup.output

    if request.config.getoption("--db") == "sqlite":
        target = empty_deployment(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path, drive.clock)
        restore_and_compare(app, target, writer, started, ended, tmp_path)
    else:
        with pg_schema("r") as url:
            target = empty_deployment(url, tmp_path, drive.clock)
            restore_and_compare(app, target, writer, started, ended, tmp_path)


def listing(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def restore_and_compare(app, target, writer, started, ended, tmp_path):
    try:
        snapshot = listing(tmp_path / "snap")
        assert {"database.sqlite3", "database.json"} & set(snapshot) and "files" in snapshot
        assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]
        restored = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "snap")])
        assert restored.exit_code == 0, restored.output
        assert listing(tmp_path / "snap") == snapshot  # read, never written to (no -wal, -shm)

        # One moment, and one while the backup ran (the commit under way when it started at
        # the earliest, the one under way when it returned at the latest).
        found = signature(target)
        moments = [k for k, seen in enumerate(writer.signatures) if seen == found]
        assert moments, "the snapshot matches no moment the database was in: it is torn"
        assert started <= moments[0] <= ended + 1, (started, moments, ended)
        assert writer.committed() > moments[0]  # and the source moved on after it

        assert check_restored(target, tmp_path / "restored-files") == len(found["instances"])
        # Every event of the snapshot intact, as the source holds it (the log is append-only;
        # documents, which later steps sign off, were compared whole in the signature).
        assert found["documents"] and found["uploads"]
        last_event = max(seq for _, _, seq in found["events"])
        with target.app_context():
            events = [_row(e) for e in db.session.scalars(select(EventRecord).order_by(EventRecord.seq))]
            db.session.rollback()
        assert events == source_rows(app, EventRecord, EventRecord.seq, last_event)

        verify = target.test_cli_runner().invoke(args=["verify"])
        assert verify.exit_code == 0, verify.output
        assert verify.output.strip().splitlines()[-1] == "0 instance(s) differ from their replay"
    finally:
        with target.app_context():
            db.engine.dispose()


def test_a_backup_that_fails_half_way_leaves_no_snapshot(
    app, drive, make_user, runner, tmp_path, monkeypatch
):
    app.config["UPLOAD_DIR"] = str(tmp_path / "files")
    (tmp_path / "files").mkdir()
    drive.start(make_user("applicant", "business"))

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copytree", disk_full)  # after the database, before the files
    failed = runner.invoke(args=["backup", str(tmp_path / "snap")])
    assert failed.exit_code == 1 and "No space left on device" in failed.output, failed.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files", *sorted(_app_files(tmp_path))]
    monkeypatch.undo()
    assert runner.invoke(args=["backup", str(tmp_path / "snap")]).exit_code == 0  # the name is free
    assert (tmp_path / "snap" / "files").is_dir()


def _app_files(tmp_path):
    return [p.name for p in tmp_path.iterdir() if p.name.startswith("test.db")]  # the SQLite source


def _utc_rows(rows, model):
    times = [c.key for c in model.__table__.columns if isinstance(c.type, DateTime)]
    return [
        {
            k: (v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)) if k in times and v else v
            for k, v in row.items()
        }
        for row in rows
    ]


def test_a_snapshot_restores_into_the_other_kind_of_database(
    app, drive, make_user, runner, tmp_path, request
):
    """SQLite's snapshot into PostgreSQL, PostgreSQL's (JSON) into SQLite: same rows, same times."""
    if not pg_available():
        pytest.skip(NO_SERVER)
    app.config["UPLOAD_DIR"] = str(tmp_path / "files")
    instance_id = drive.start(make_user("applicant", "business"))
    drive.walk(instance_id, "sign_contract")
    assert runner.invoke(args=["backup", str(tmp_path / "snap")]).exit_code == 0

    def compare(target):
        try:
            restored = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "snap")])
            assert restored.exit_code == 0, restored.output
            for model, key in ((InstanceRecord, InstanceRecord.id), (EventRecord, EventRecord.seq)):
                with target.app_context():
                    rows = [_row(r) for r in db.session.scalars(select(model).order_by(key))]
                source = source_rows(app, model, key, rows[-1][key.key])
                assert _utc_rows(rows, model) == _utc_rows(source, model)
            with target.app_context():
                assert engine.get_instance(db.session, instance_id).waiting_at == ["sign_contract"]
        finally:
            with target.app_context():
                db.engine.dispose()

    if request.config.getoption("--db") == "sqlite":
        with pg_schema("x") as url:  # a server in another zone: naive times would move by 8 h
            compare(empty_deployment(url + quote(" -ctimezone=Asia/Hong_Kong"), tmp_path, drive.clock))
    else:
        compare(empty_deployment(f"sqlite:///{tmp_path / 'other.db'}", tmp_path, drive.clock))
