"""The document review process (R4.3.1–R4.3.3): submit → IT review → revise → review again →
archive, with the state saved and restored after every step."""

import json
from pathlib import Path

import pytest
from harness import round_trip

from engine import (
    Actor,
    FormValidationError,
    Instance,
    ManualClock,
    NotAllowed,
    ProcessDefinition,
    load_bundle,
)

AUTHOR = Actor("author", frozenset({"vendor"}))
IT = Actor("reviewer", frozenset({"it"}))
ROOT = Path(__file__).resolve().parents[2]
SUBMISSION = {"project": 7, "document": "implementation_plan", "version": 2, "note": "請審核。"}


@pytest.fixture(scope="module")
def review_definition():
    bundle = load_bundle(ROOT / "processes", ROOT / "forms")
    return ProcessDefinition.load(json.loads(json.dumps(bundle.definitions["document_review"].dump())))


def ready(instance):
    return sorted(t.element_id for t in instance.ready_tasks())


def complete(instance, definition, clock, element_id, actor, **data):
    task = next(t for t in instance.ready_tasks() if t.element_id == element_id)
    instance.complete_task(task.id, data, actor)
    return round_trip(instance, definition, clock)


def test_a_document_returned_for_revision_is_reviewed_again_and_then_archived(review_definition):
    clock = ManualClock()
    instance, _ = Instance.start(review_definition, SUBMISSION, AUTHOR, clock)
    instance = round_trip(instance, review_definition, clock)
    assert ready(instance) == ["document_it_review"]
    with pytest.raises(NotAllowed):  # only IT reviews (R4.3.2)
        complete(instance, review_definition, clock, "document_it_review", AUTHOR, decision="approve")
    instance = complete(
        instance,
        review_definition,
        clock,
        "document_it_review",
        IT,
        decision="revise",
        comment="補充里程碑。",
    )
    assert ready(instance) == ["revise_document"]
    revise = instance.ready_tasks()[0]
    assert revise.assignee == "author"  # back to the one who submitted it
    with pytest.raises(NotAllowed):
        complete(instance, review_definition, clock, "revise_document", IT, revision="x")
    instance = complete(instance, review_definition, clock, "revise_document", AUTHOR, revision="已補充。")
    assert ready(instance) == ["document_it_review"]
    instance = complete(instance, review_definition, clock, "document_it_review", IT, decision="approve")
    assert instance.status == "completed"
    assert instance.data["archived_on"] and "archive_document" in instance.completed_elements


def test_a_review_without_a_decision_is_refused_and_nothing_moves(review_definition):
    clock = ManualClock()
    instance, _ = Instance.start(review_definition, SUBMISSION, AUTHOR, clock)
    task = instance.ready_tasks()[0]
    with pytest.raises(FormValidationError) as refused:
        instance.complete_task(task.id, {"comment": "?"}, IT)
    assert set(refused.value.errors) == {"decision"}
    assert ready(instance) == ["document_it_review"] and "document_it_review" not in instance.data
