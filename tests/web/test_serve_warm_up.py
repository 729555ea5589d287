"""A worker of `upgradeflow serve` parses the definitions it will need before it serves, and
freezes what it loaded out of the garbage collector's sight (web/serve.py: warm_up)."""

import gc
import logging

import pytest
from bundles import FORM, bpmn, user_task

import engine
from engine import deployments
from engine.models import ProcessVersionRecord
from web import create_app
from web.extensions import db
from web.serve import warm_up

BUSINESS = engine.Actor("business1", frozenset({"business"}))
IT = engine.Actor("it1", frozenset({"it"}))


def deploy(name):
    engine.deploy(db.session, {"p.bpmn": bpmn(user_task(name=name)), "f.form": FORM}, deployed_by="tests")
    db.session.commit()


def parsed_versions() -> set:
    ids = {version_id for version_id, _ in deployments._DEFINITIONS}
    return {
        (r.process_id, r.version)
        for r in db.session.query(ProcessVersionRecord).filter(ProcessVersionRecord.id.in_(ids))
    }


@pytest.fixture
def no_parsed_definitions():
    deployments._DEFINITIONS.clear()
    yield
    deployments._DEFINITIONS.clear()


def test_the_latest_versions_and_those_with_running_instances_are_parsed(app, no_parsed_definitions):
    with app.app_context():
        deploy("First")
        running = engine.start_instance(db.session, "p", {}, IT)  # stays on version 1
        deploy("Second")
        ended = engine.start_instance(db.session, "p", {}, IT)
        engine.complete_task(db.session, ended.tasks[0].id, {"decision": "a"}, IT)
        deploy("Third")  # version 2 now has only an ended instance
        db.session.commit()
        deployments._DEFINITIONS.clear()

        loaded = engine.load_definitions(db.session)

        latest = {(p.id, p.version) for p in engine.list_processes(db.session)}
        assert ("p", 3) in latest
        assert parsed_versions() == latest | {("p", 1)}
        assert loaded == len(latest) + 1
        assert engine.get_instance(db.session, running.id).version == 1


def test_warm_up_parses_and_freezes(app, no_parsed_definitions):
    try:
        warm_up(app)
        assert gc.get_freeze_count() > 0
        with app.app_context():
            assert ("software_upgrade", 1) in parsed_versions()
    finally:
        gc.unfreeze()


def test_a_database_that_is_down_only_skips_the_parsing(tmp_path, caplog, no_parsed_definitions):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/db.sqlite", "SECRET_KEY": "t"}
    )
    try:
        with caplog.at_level(logging.WARNING, logger="web.serve"):
            warm_up(app)
        assert "definitions not loaded ahead" in caplog.text
        assert deployments._DEFINITIONS == {}
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        with app.app_context():
            db.engine.dispose()


def test_a_version_that_does_not_parse_is_skipped_not_fatal(app, caplog, no_parsed_definitions):
    with app.app_context():
        deploy("First")
        record = db.session.query(ProcessVersionRecord).filter_by(process_id="p").one()
        broken = dict(record.definition)
        broken["specs"] = {**broken["specs"], "format": 99}  # written by some future engine
        record.definition = broken
        db.session.commit()
        latest = {(p.id, p.version) for p in engine.list_processes(db.session)}
        with caplog.at_level(logging.WARNING, logger="engine.deployments"):
            loaded = engine.load_definitions(db.session)
        assert loaded == len(latest) - 1
        assert ("p", 1) not in parsed_versions()
        assert "version 1 of p not parsed ahead" in caplog.text
    try:
        warm_up(app)  # the server still starts
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
