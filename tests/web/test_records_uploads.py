"""Uploaded documents: attached to the task that asks for them, type and size checked, stored
content-addressed, nothing stored on refusal; read by category (R4.3.4); backed up and restored."""

import hashlib
import io
import pathlib
import zipfile

import pytest
from conftest_pages import Browser
from databases import migrated_app
from sqlalchemy import func, select

import engine
from engine.models import UploadRecord
from web.extensions import db

PDF = b"%PDF-1.4\n% test cases\n" + b"x" * 200


def zipped(*names):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


DOCX = zipped("[Content_Types].xml", "word/document.xml")


@pytest.fixture
def uploads(app, tmp_path):
    folder = tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = str(folder)
    app.config["UPLOAD_MAX_BYTES"] = 4096
    return folder


@pytest.fixture
def at_sign_contract(app, drive, make_user, uploads):
    instance_id = drive.start(make_user("applicant", "business"))
    task = drive.reach(instance_id, "sign_contract")
    return instance_id, task


def post(caller, task_id, kind, name, content):
    return caller.client.post(
        f"/api/v1/tasks/{task_id}/uploads",
        headers=caller.headers,
        data={"kind": kind, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(UploadRecord))


def files(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.parametrize(
    ("kind", "name", "content", "field"),
    [
        ("contract_scan", "contract.exe", b"MZ\x90\x00" * 10, "file"),  # type not allowed
        ("contract_scan", "contract.pdf", b"MZ\x90\x00" * 10, "file"),  # not a PDF inside
        ("contract_scan", "contract.pdf", b"", "file"),  # empty
        ("contract_scan", "contract.pdf", b"%PDF-" + b"x" * 5000, "file"),  # over 4096 bytes
        ("test_cases", "cases.pdf", PDF, "kind"),  # not what sign_contract asks for
        ("contract_scan", "c.docx", zipped("a.txt"), "file"),  # a zip, but no Word document
        ("contract_scan", "c.docx", zipped("[Content_Types].xml", "xl/workbook.xml"), "file"),  # a workbook
        ("contract_scan", "c.docx", b"PK\x03\x04" + b"x" * 100, "file"),  # zip's first bytes only
        ("contract_scan", "c\r\nx.pdf", PDF, "file"),  # a line break: no download header could hold it
        ("contract_scan", "c" * 200 + ".pdf", PDF, "file"),  # was cut to 200, losing its .pdf
    ],
)
def test_a_refused_file_stores_nothing(app, people, at_sign_contract, uploads, kind, name, content, field):
    _, task = at_sign_contract
    response = post(people["it"], task.id, kind, name, content)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert count(app) == 0 and files(uploads) == []


def test_nothing_is_attached_to_a_task_of_a_suspended_instance(app, people, at_sign_contract, uploads):
    """A suspended instance's tasks cannot be claimed or completed (409); a file was attached to
    them all the same (201, stored). Resumed, the file is taken."""
    instance_id, task = at_sign_contract
    admin, it = people["admin"], people["it"]
    assert admin.post(f"/instances/{instance_id}/suspend", {"reason": "等待預算"}).status_code == 200
    refused = post(it, task.id, "contract_scan", "c.pdf", PDF)
    assert (refused.status_code, refused.get_json()["error"]) == (409, "instance_state")
    assert "suspended" in refused.get_json()["message"]
    ivan = Browser(app, people["it"].user.username)
    page = ivan.client.post(
        f"/tasks/{task.id}/uploads",
        data={"kind": "contract_scan", "file": (io.BytesIO(PDF), "c.pdf"), "csrf_token": ivan.token()},
        content_type="multipart/form-data",
    )
    # The page says why, in the reader's language (the engine's message was English only).
    assert page.status_code == 409 and "流程實例狀態為 suspended，不能附加文件" in page.text
    assert "nothing can be attached" not in page.text.split("技術細節")[0]
    assert count(app) == 0 and files(uploads) == []
    assert admin.post(f"/instances/{instance_id}/resume", {"reason": "預算已批"}).status_code == 200
    assert post(it, task.id, "contract_scan", "c.pdf", PDF).status_code == 201
    assert count(app) == 1


def test_an_upload_is_stored_by_its_hash_and_read_by_category(app, people, at_sign_contract, uploads):
    instance_id, task = at_sign_contract
    assert post(people["vendor"], task.id, "contract_scan", "c.pdf", PDF).status_code == 403  # not IT's task
    response = post(people["it"], task.id, "contract_scan", "../../合同.pdf", PDF)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    sha = hashlib.sha256(PDF).hexdigest()
    assert body["sha256"] == sha and body["filename"] == "合同.pdf" and body["category"] == "project"
    assert (uploads / sha[:2] / sha).read_bytes() == PDF
    again = post(people["it"], task.id, "contract_scan", "again.pdf", PDF)  # same content: one file
    assert again.status_code == 201 and files(uploads) == [sha]
    # Project documents: finance reads them, QA does not (R4.3.4).
    download = people["finance"].get(f"/uploads/{body['id']}")
    assert download.status_code == 200 and download.data == PDF
    assert people["qa"].get(f"/uploads/{body['id']}").status_code == 403
    missing = people["finance"].get(f"/uploads/{body['id'] + 100}")
    assert (missing.status_code, missing.get_json()["error"]) == (404, "upload_not_found")
    (uploads / sha[:2] / sha).unlink()  # the stored content lost (a disk restored without it)
    gone = people["finance"].get(f"/uploads/{body['id']}")
    assert (gone.status_code, gone.get_json()["error"]) == (404, "upload_not_found")
    assert "is missing" in gone.get_json()["message"]
    assert [u["id"] for u in people["qa"].get(f"/instances/{instance_id}/uploads").get_json()] == []
    assert len(people["finance"].get(f"/instances/{instance_id}/uploads").get_json()) == 2


def test_the_task_page_uploads_with_csrf(app, people, at_sign_contract, uploads):
    _, task = at_sign_contract
    it = Browser(app, people["it"].user.username)
    page = it.get(f"/tasks/{task.id}")
    assert 'name="kind"' in page.text and "contract_scan" in page.text
    refused = it.client.post(
        f"/tasks/{task.id}/uploads",
        data={"kind": "contract_scan", "file": (io.BytesIO(PDF), "c.pdf")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400 and count(app) == 0  # no CSRF token
    sent = it.client.post(
        f"/tasks/{task.id}/uploads",
        data={"kind": "contract_scan", "file": (io.BytesIO(PDF), "c.pdf"), "csrf_token": it.token()},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303 and count(app) == 1
    assert "c.pdf" in it.get(f"/tasks/{task.id}").text


def test_backup_and_restore_carry_the_uploaded_files(
    app, people, at_sign_contract, uploads, runner, tmp_path
):
    _, task = at_sign_contract
    upload_id = post(people["it"], task.id, "contract_scan", "c.pdf", PDF).get_json()["id"]
    assert runner.invoke(args=["backup", str(tmp_path / "snap")]).exit_code == 0
    target = migrated_app(f"sqlite:///{tmp_path / 'empty.db'}", UPLOAD_DIR=str(tmp_path / "restored"))
    result = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "snap")])
    assert result.exit_code == 0, result.output
    sha = hashlib.sha256(PDF).hexdigest()
    assert (tmp_path / "restored" / sha[:2] / sha).read_bytes() == PDF
    with target.app_context():
        assert db.session.get(UploadRecord, upload_id).sha256 == sha
        db.engine.dispose()


def test_a_word_document_is_taken(app, people, at_sign_contract, uploads):
    _, task = at_sign_contract
    response = post(people["it"], task.id, "contract_scan", "合同.docx", DOCX)
    assert response.status_code == 201, response.get_json()
    assert count(app) == 1


def test_retention_destroys_an_uploaded_file_whose_category_is_due(app, people, drive, runner, uploads):
    """`documents expire` destroyed the test report's versions and left the uploaded test cases
    (the same test category, R4.3.5) listed and downloadable."""
    instance_id = drive.start(people["business"].user)
    contract = drive.reach(instance_id, "sign_contract")
    scan = post(people["it"], contract.id, "contract_scan", "合同.pdf", PDF).get_json()
    drive.complete(instance_id, "sign_contract")
    self_test = drive.reach(instance_id, "self_test")
    other = PDF + b" cases"
    cases = post(people["vendor"], self_test.id, "test_cases", "用例.pdf", other).get_json()
    drive.walk(instance_id, "golive")
    drive.complete(instance_id, "golive")
    drive.wait(100)
    drive.complete(instance_id, "inspection")
    drive.complete(instance_id, "project_closure")
    drive.clock.advance(days=3 * 365 + 1)  # past test documents' 3 years, not the project's 10
    dry = runner.invoke(args=["documents", "expire"])
    assert f"due: instance {instance_id} upload {cases['id']} test_cases 用例.pdf" in dry.output
    assert "1 uploaded file(s) due" in dry.output and scan["filename"] not in dry.output
    assert people["qa"].get(f"/uploads/{cases['id']}").status_code == 200  # a dry run keeps it
    done = runner.invoke(args=["documents", "expire", "--confirm"])
    assert "1 uploaded file(s) destroyed" in done.output
    gone = people["qa"].get(f"/uploads/{cases['id']}")
    assert (gone.status_code, gone.get_json()["error"]) == (404, "upload_not_found")
    assert "destroyed" in gone.get_json()["message"]
    listed = {
        u["id"]: u["destroyed_at"] for u in people["it"].get(f"/instances/{instance_id}/uploads").get_json()
    }
    assert listed[scan["id"]] is None and listed[cases["id"]] is not None
    assert files(uploads) == [hashlib.sha256(PDF).hexdigest()]  # the contract's scan is kept
    assert people["finance"].get(f"/uploads/{scan['id']}").data == PDF
    with app.app_context():
        row = db.session.get(UploadRecord, cases["id"])
        assert (row.destroyed_by, row.sha256) == ("cli", hashlib.sha256(other).hexdigest())
        logged = [e for e in engine.instance_events(db.session, instance_id) if e.type == "upload_destroyed"]
    assert [(e.actor, e.data["upload"]) for e in logged] == [("cli", cases["id"])]
    assert runner.invoke(args=["documents", "expire"]).output.endswith("0 uploaded file(s) due\n")
    # The entry is read only by who may read the step's data (finance may not read test documents).
    assert "用例.pdf" not in people["finance"].get(f"/instances/{instance_id}/events").get_data(as_text=True)
    assert "用例.pdf" in people["qa"].get(f"/instances/{instance_id}/events").get_data(as_text=True)


def test_a_file_a_run_could_not_delete_goes_at_the_next(app, people, drive, runner, uploads, monkeypatch):
    instance_id = drive.start(people["business"].user)
    self_test = drive.reach(instance_id, "self_test")
    post(people["vendor"], self_test.id, "test_cases", "用例.pdf", PDF)
    drive.walk(instance_id, "golive")
    drive.complete(instance_id, "golive")
    drive.wait(100)
    drive.complete(instance_id, "inspection")
    drive.complete(instance_id, "project_closure")
    drive.clock.advance(days=3 * 365 + 1)
    real_unlink = pathlib.Path.unlink

    def refuse(path, *args, **kwargs):
        raise PermissionError(f"cannot delete {path}")

    monkeypatch.setattr(pathlib.Path, "unlink", refuse)
    failed = runner.invoke(args=["documents", "expire", "--confirm"])
    assert "1 uploaded file(s) destroyed" in failed.output  # said before the deletion failed
    assert files(uploads) == [hashlib.sha256(PDF).hexdigest()]
    monkeypatch.setattr(pathlib.Path, "unlink", real_unlink)
    again = runner.invoke(args=["documents", "expire", "--confirm"])
    assert "0 uploaded file(s) destroyed" in again.output and files(uploads) == []


def test_a_file_written_just_now_is_left_for_a_later_run(app, people, at_sign_contract, uploads):
    """Its content may belong to an upload of the same file not yet committed (which finds the
    file there and does not write it again): deleting it would lose that upload's content."""
    from datetime import UTC, datetime, timedelta

    _, task = at_sign_contract
    scan = post(people["it"], task.id, "contract_scan", "c.pdf", PDF).get_json()
    with app.app_context():
        db.session.get(UploadRecord, scan["id"]).destroyed_at = datetime.now(UTC)
        db.session.commit()
        now = datetime.now(UTC)
        assert engine.delete_unused_files(db.session, str(uploads), now) == 0
        assert files(uploads) == [scan["sha256"]]
        assert engine.delete_unused_files(db.session, str(uploads), now + timedelta(hours=2)) == 1
    assert files(uploads) == []
