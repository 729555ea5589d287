"""State carries its format version; unknown versions are refused, not misread."""

import json

import pytest

from engine import Actor, Instance, ManualClock, StateFormatError, load_bundle
from engine.serialization import FORMAT_VERSION, upgrade_state

START = {
    "system": "oa",
    "title": "OA 升級",
    "content": "增加審批流程",
    "background": "現有流程效率低",
    "expected_effect": "縮短審批時間",
    "department": "行政部",
}


@pytest.fixture(scope="module")
def definition():
    return load_bundle("processes", "forms").definitions["software_upgrade"]


def test_state_has_format_version_and_no_spec(definition):
    instance, _ = Instance.start(definition, START, Actor("alice", frozenset({"business"})), ManualClock())
    state = json.loads(json.dumps(instance.dump()))
    assert state["format"] == FORMAT_VERSION
    assert "spec" not in state["workflow"] and "subprocess_specs" not in state["workflow"]
    restored = Instance.restore(definition, state, ManualClock())
    assert [t.element_id for t in restored.ready_tasks()] == ["preliminary_review"]
    assert restored.data["requirement_request"]["title"] == "OA 升級"


@pytest.mark.parametrize("version", [None, 0, FORMAT_VERSION + 1, "1"])
def test_unknown_format_versions_are_refused(version):
    with pytest.raises(StateFormatError):
        upgrade_state({"format": version, "serializer": "1.5", "workflow": {}})


def test_the_spec_round_trips_once_per_version(definition):
    from engine import ProcessDefinition

    again = ProcessDefinition.load(json.loads(json.dumps(definition.dump())))
    assert sorted(again.subprocess_specs) == sorted(definition.subprocess_specs)
    assert again.form_for(again.start_event()).id == "requirement_request"


def test_copied_data_shares_nothing_that_can_change():
    from datetime import date

    from engine.serialization import copy_data

    inner = {"risks": [{"level": "high", "tags": ["a"]}], "when": [date(2026, 1, 5)], "n": 1.5}
    data = {"step": inner, "again": inner, "flag": True, "none": None}
    copied = copy_data(data)
    assert copied == data
    copied["step"]["risks"][0]["tags"].append("b")
    copied["again"]["risks"].append({})
    copied["step"]["when"].append(None)
    assert data["step"] == {"risks": [{"level": "high", "tags": ["a"]}], "when": [date(2026, 1, 5)], "n": 1.5}
    assert copied["step"] is not copied["again"]  # no memo: what appears twice is copied twice
