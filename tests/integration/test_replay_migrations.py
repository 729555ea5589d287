"""Replay (and so `verify`) of instances migrated by diff, as the migrations happened: the log
to each migration on the version of that time, moved by the same diff, then on. Version 2 adds
`kickoff_meeting` before the contract, which an instance moved while implementing never had."""

import pytest

import engine
from engine.admin import replay_instance, undo, verify_instances
from engine.migration import migrate_instance
from tests.integration.test_migration import ANALYSIS, INITIATION, state_of
from tests.integration.test_replay import ADMIN, Driver
from tests.integration.versions_v2 import deploy, deploy_version_two, version_three, version_two


@pytest.fixture
def implementing(Session, clock):
    """On version 1, waiting at `implement` (past where version 2 adds the kick-off)."""
    driver = Driver(Session, clock)
    steps = (
        *ANALYSIS,
        *INITIATION,
        "sign_contract",
        "implementation_plan",
        "plan_review",
        "assign_business_testers",
    )
    for element in steps:
        driver.complete(element)
    return driver


def differing(Session, clock):
    with Session() as session:
        return [(r.instance_id, r.divergence) for r in verify_instances(session, ADMIN, clock)]


def migrated(Session, driver, version, clock):
    with Session.begin() as session:
        return migrate_instance(session, driver.id, version, ADMIN, clock=clock)


def test_its_own_version_named_replays_as_it_happened(Session, implementing, clock):
    with Session.begin() as session:
        two = deploy_version_two(session)
    migrated(Session, implementing, two, clock)
    with Session() as session:
        named = replay_instance(session, implementing.id, ADMIN, version=two, clock=clock)
        unnamed = replay_instance(session, implementing.id, ADMIN, clock=clock)
    assert (named.matches, unnamed.matches) == (True, True)


def test_a_written_replay_taken_back_leaves_the_migration_counting(Session, implementing, clock):
    with Session.begin() as session:
        two = deploy_version_two(session)
    migrated(Session, implementing, two, clock)
    with Session.begin() as session:
        assert replay_instance(session, implementing.id, ADMIN, dry_run=False, clock=clock).replaced
    with Session.begin() as session:
        undo(session, implementing.id, ADMIN, clock)  # the replay, not the migration
    assert differing(Session, clock) == []


def test_a_migration_taken_back_and_made_again_replays(Session, implementing, clock):
    with Session.begin() as session:
        two = deploy_version_two(session)
    migrated(Session, implementing, two, clock)
    with Session.begin() as session:
        undo(session, implementing.id, ADMIN, clock)
    assert migrated(Session, implementing, two, clock).method == "diff"
    assert differing(Session, clock) == []
    implementing.complete("implement")
    assert differing(Session, clock) == []


def test_a_written_replay_onto_another_version_is_replayed_on_that_version(Session, clock):
    """Moved to version 2 by diff, then rebuilt from its log on version 3 by a written replay:
    it replays on version 3 (it was once replayed on version 2, and a second written replay put
    that state on the version-3 row, which then could not be read)."""
    driver = Driver(Session, clock)
    driver.complete("preliminary_review")
    files = engine.bundle_files("processes", "forms")
    with Session.begin() as session:
        two, three = deploy(session, version_two(files)), deploy(session, version_three(files))
    migrated(Session, driver, two, clock)
    with Session.begin() as session:
        assert replay_instance(session, driver.id, ADMIN, version=three, dry_run=False, clock=clock).replaced
    assert (state_of(Session, driver.id)[0], state_of(Session, driver.id)[2]) == (3, "requirement_assessment")
    assert differing(Session, clock) == []
    with Session.begin() as session:
        again = replay_instance(session, driver.id, ADMIN, dry_run=False, clock=clock)
    assert again.matches
    driver.complete("requirement_assessment")
    assert differing(Session, clock) == []
