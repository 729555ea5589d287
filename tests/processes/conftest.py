"""Fixtures for the process tests: the real bundle, loaded once, and a factory of flows."""

import json
from pathlib import Path

import pytest
from harness import Flow

from engine import ProcessDefinition, load_bundle

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def definition():
    """`software_upgrade` from processes/ and forms/, as it comes back from storage."""
    bundle = load_bundle(ROOT / "processes", ROOT / "forms")
    stored = json.loads(json.dumps(bundle.definitions["software_upgrade"].dump()))
    return ProcessDefinition.load(stored)


@pytest.fixture
def start(definition):
    """Start an instance: `start(initiator="alice", title=...)` returns a `Flow`."""

    def start(initiator="applicant", **request):
        return Flow(definition, initiator, **request)

    return start
