"""Deploying versions: byte-for-byte sources, new versions only on change, running instances untouched."""

import json
import re

import pytest
from sqlalchemy import func, select, update

import engine
from engine.models import ProcessVersionRecord

REQUEST = {
    "system": "oa",
    "title": "OA 升級",
    "content": "增加審批",
    "background": "效率低",
    "expected_effect": "更快",
    "department": "行政部",
}
ALICE = engine.Actor("alice", frozenset({"business"}))


def renamed(files, old="需求初審", new="需求初步審核"):
    changed = dict(files)
    changed["software_upgrade.bpmn"] = files["software_upgrade.bpmn"].replace(old.encode(), new.encode())
    return changed


@pytest.fixture
def files():
    return engine.bundle_files("processes", "forms")


def test_sources_come_back_byte_for_byte(Session, files):
    with Session() as session:
        sources = engine.process_sources(session, "software_upgrade", 1)
    assert {name: text.encode("utf-8") for name, text in sources.items()} == files


def test_an_unchanged_bundle_keeps_its_version_and_a_changed_one_gets_the_next(Session, files):
    with Session.begin() as session:
        # processes/ holds other top-level processes too (document_review): they stay unchanged.
        unchanged = engine.deploy(session, files, "po")
        assert engine.DeployedProcess("software_upgrade", 1, False) in unchanged
        assert not any(d.created for d in unchanged)
        changed = engine.deploy(session, renamed(files), "po")
        assert [d for d in changed if d.created] == [engine.DeployedProcess("software_upgrade", 2, True)]
    with Session() as session:
        versions = engine.list_versions(session, "software_upgrade")
        assert [(v.version, v.deployed_by) for v in versions] == [(2, "po"), (1, "tests")]
        diff = engine.diff_versions(session, "software_upgrade", 1, 2)
        assert [(p.process_id, p.changed) for p in diff.processes] == [
            ("software_upgrade", {"preliminary_review": ["bpmn_name"]})
        ]


def test_a_form_saved_unchanged_by_another_editor_keeps_its_version(Session, files):
    """form-js raises `schemaVersion` in every form it saves (16 -> 19 for ours); an exporter may
    sign it. Neither is a change; a changed label is."""
    form = json.loads(files["preliminary_review.form"])
    resaved = {**form, "schemaVersion": form.get("schemaVersion", 0) + 3, "exporter": {"name": "form-js"}}
    relabelled = json.loads(json.dumps(form))
    relabelled["components"][0]["label"] = "另一個標籤"
    with Session.begin() as session:
        kept = engine.deploy(
            session, {**files, "preliminary_review.form": json.dumps(resaved).encode()}, "po"
        )
        assert engine.DeployedProcess("software_upgrade", 1, False) in kept
        moved = engine.deploy(
            session, {**files, "preliminary_review.form": json.dumps(relabelled).encode()}, "po"
        )
        assert engine.DeployedProcess("software_upgrade", 2, True) in moved
    with Session() as session:
        assert [v.version for v in engine.list_versions(session, "software_upgrade")] == [2, 1]


def test_a_version_stored_with_the_old_digest_is_still_recognised(Session, files):
    """Versions deployed before editor marks were left out of the digest keep theirs; the same
    bundle deployed again is still no new version."""
    with Session.begin() as session:
        session.execute(
            update(ProcessVersionRecord)
            .where(ProcessVersionRecord.process_id == "software_upgrade")
            .values(content_hash="0" * 64)
        )
    with Session.begin() as session:
        assert engine.DeployedProcess("software_upgrade", 1, False) in engine.deploy(session, files, "po")


def test_diagrams_deploy_without_their_forms_once_those_are_deployed(Session, files):
    """Every form the diagrams link, the message start of the change request included, may come
    from an earlier deployment (before, that one was refused as neither in the bundle nor
    deployed); the new version carries the forms it links. The same diagrams without their forms
    are no change (they made a version 2 before: the bundle's forms counted)."""
    diagrams = {name: text for name, text in files.items() if not name.endswith(".form")}
    with Session.begin() as session:
        unchanged = {d.id: d for d in engine.deploy(session, diagrams, "po")}
        assert (unchanged["software_upgrade"].version, unchanged["software_upgrade"].created) == (1, False)
        deployed = {d.id: d for d in engine.deploy(session, renamed(diagrams), "po")}
    assert deployed["software_upgrade"].version == 2
    with Session() as session:
        from engine.deployments import definition_of, version_record

        definition = definition_of(version_record(session, "software_upgrade", 2))
    change_request = definition.task_spec("change_request_received")
    assert definition.form_for(change_request).id == "change_request"
    assert all(definition.form_for(step) is not None for step in definition.user_tasks())


def test_a_diagram_laid_out_anew_is_a_new_version_downloaded_as_deployed(Session, files):
    """A shape moved and nothing else: the deployment answered with the old version and threw
    the new layout away, so the download was not what the process owner deployed."""
    text = files["software_upgrade.bpmn"].decode()
    first = re.search(r'<dc:Bounds x="(\d+)"', text)
    moved = text[: first.start(1)] + str(int(first.group(1)) + 40) + text[first.end(1) :]
    with Session.begin() as session:
        deployed = {
            d.id: d for d in engine.deploy(session, {**files, "software_upgrade.bpmn": moved.encode()}, "po")
        }
    assert (deployed["software_upgrade"].version, deployed["software_upgrade"].created) == (2, True)
    assert (deployed["document_review"].version, deployed["document_review"].created) == (1, False)
    with Session() as session:
        assert engine.process_sources(session, "software_upgrade", 2)["software_upgrade.bpmn"] == moved


def test_a_note_or_a_flows_label_changed_is_a_new_version(Session, files):
    """Neither changes a spec: the deployment kept the old version and threw the text away."""
    text = files["software_upgrade.bpmn"].decode()
    flow_name = re.search(r'<bpmn:sequenceFlow id="[^"]+" name="([^"]+)"', text)
    relabelled = text[: flow_name.start(1)] + "改過的標籤" + text[flow_name.end(1) :]
    with Session.begin() as session:
        deployed = {
            d.id: d
            for d in engine.deploy(session, {**files, "software_upgrade.bpmn": relabelled.encode()}, "po")
        }
    assert (deployed["software_upgrade"].version, deployed["software_upgrade"].created) == (2, True)
    with Session() as session:
        assert "改過的標籤" in engine.process_sources(session, "software_upgrade", 2)["software_upgrade.bpmn"]


def test_the_same_files_again_are_no_change_after_another_process_changed_a_form_they_carry(Session):
    """A bundle carrying a form another process later changed made a new version when sent again."""
    from tests.web.bundles import FORM, NOTE_FORM, bpmn, user_task

    a_files = {"a.bpmn": bpmn(user_task(form="f"), "a_proc"), "f.form": FORM, "check.form": NOTE_FORM}
    with Session.begin() as session:
        engine.deploy(
            session, {"b.bpmn": bpmn(user_task(form="check"), "b_proc"), "check.form": NOTE_FORM}, "po"
        )
        assert [d.version for d in engine.deploy(session, a_files, "po") if d.id == "a_proc"] == [1]
        changed = NOTE_FORM.replace(b'"Note"', b'"Remark"')
        engine.deploy(
            session, {"b.bpmn": bpmn(user_task(form="check"), "b_proc"), "check.form": changed}, "po"
        )
        again = {d.id: d for d in engine.deploy(session, a_files, "po")}
    assert (again["a_proc"].version, again["a_proc"].created) == (1, False)


def test_a_running_instance_stays_on_its_version(Session, files):
    with Session.begin() as session:
        old = engine.start_instance(session, "software_upgrade", REQUEST, ALICE)
        engine.deploy(session, renamed(files), "po")
        new = engine.start_instance(session, "software_upgrade", REQUEST, ALICE)
    with Session() as session:
        assert (
            engine.get_instance(session, old.id).version,
            engine.get_instance(session, new.id).version,
        ) == (1, 2)
        [task] = engine.list_tasks(session, engine.Actor("ivy", frozenset({"it"})), instance_id=old.id)
        assert task.title == "需求初審"
        assert engine.waiting_counts(session, "software_upgrade", 1) == {"preliminary_review": 1}
        versions = {
            v.version: (v.running, v.total) for v in engine.list_versions(session, "software_upgrade")
        }
        assert versions == {1: (1, 1), 2: (1, 1)}


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">&lol3;</bpmn:definitions>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">&x;</bpmn:definitions>"""


@pytest.mark.parametrize(
    "bad",
    [
        {"evil.bpmn": XXE},
        {"lol.bpmn": BILLION_LAUGHS},
        {"x.bpmn": b"\xff\xfe not utf-8"},
        {"notes.txt": b"hello"},
    ],
)
def test_a_refused_bundle_stores_nothing(Session, files, bad):
    with Session() as session:
        before = session.scalar(select(func.count()).select_from(ProcessVersionRecord))
    with Session() as session, pytest.raises(engine.DeploymentError) as caught:
        engine.deploy(session, {**renamed(files), **bad}, "po")
    assert caught.value.problems
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(ProcessVersionRecord)) == before
        assert [v.version for v in engine.list_versions(session, "software_upgrade")] == [1]
