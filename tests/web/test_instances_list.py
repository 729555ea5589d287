"""`upgradeflow instances list` and the admin list's filters, on the app's database
(`--db=sqlite|postgresql`)."""

from datetime import UTC, datetime

from sqlalchemy import select

import engine
from engine.models import InstanceRecord, ProcessVersionRecord
from web.extensions import db

ADMIN = engine.Actor("root", frozenset(), is_admin=True)


def bare_instances(app, count, **columns) -> list[int]:
    """`count` instance rows of software_upgrade v1 written straight to the table (no state a
    step could read: the list reads none), ids in order."""
    now = datetime.now(UTC)
    with app.app_context():
        version = db.session.scalar(
            select(ProcessVersionRecord.id).where(ProcessVersionRecord.process_id == "software_upgrade")
        )
        row = {
            "process_version_id": version,
            "process_id": "software_upgrade",
            "status": "running",
            "initiator": "alice",
            "state": {},
            "state_format": 1,
            "waiting_at": "preliminary_review",
            "created_at": now,
            "updated_at": now,
            "version_id": 1,
            **columns,
        }
        before = db.session.scalar(select(InstanceRecord.id).order_by(InstanceRecord.id.desc()).limit(1)) or 0
        db.session.execute(InstanceRecord.__table__.insert(), [row] * count)
        db.session.commit()
        return list(
            db.session.scalars(
                select(InstanceRecord.id).where(InstanceRecord.id > before).order_by(InstanceRecord.id)
            )
        )


def test_instances_list_lists_every_instance_past_ten_thousand(app, runner):
    """Its help says every instance: it stopped at 10,000 (one page of 10,000) and said so in
    its count only."""
    ids = bare_instances(app, 10_003)
    result = runner.invoke(args=["instances", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [int(line.split("\t")[0]) for line in lines[:-1]] == ids
    assert lines[-1] == "10003 instance(s)"


def test_every_admin_instance_reads_in_batches_and_keeps_none_it_handed_out(app):
    """However many instances there are, the session holds one batch of rows (two while the
    next is read), not all of them."""
    ids = bare_instances(app, 1_050)
    bare_instances(app, 3, status="completed")
    held = []
    with app.app_context():
        listed = []
        for info in engine.every_admin_instance(db.session, ADMIN, status="running", batch=100):
            listed.append(info.id)
            held.append(len(db.session.identity_map))
    assert listed == ids
    assert max(held) <= 2 * 100 + 1  # the rows of at most two batches and their process version


def test_waiting_at_matches_the_element_id_exactly_in_the_cli_and_the_api(
    app, runner, client, make_user, token_for
):
    """An element id is case-sensitive (the diagram's): SQLite's LIKE found `preliminary_review`
    for `PRELIMINARY_REVIEW` where PostgreSQL did not. Neither a part of an id nor LIKE's
    wildcards find one."""
    [waiting] = bare_instances(app, 1, waiting_at="budget_audit,preliminary_review")
    bare_instances(app, 1, waiting_at="implementation_plan")
    headers = {"Authorization": f"Bearer {token_for(make_user('root', admin=True))}"}
    for given, found in [
        ("preliminary_review", [waiting]),
        ("Preliminary_Review", []),
        ("PRELIMINARY_REVIEW", []),
        ("preliminary_revie", []),
        ("preliminary%", []),
        ("preliminary_revie_", []),
    ]:
        listed = runner.invoke(args=["instances", "list", "--waiting-at", given])
        assert listed.exit_code == 0, listed.output
        assert [int(line.split("\t")[0]) for line in listed.output.splitlines()[:-1]] == found, given
        answer = client.get("/api/v1/admin/instances", query_string={"waiting_at": given}, headers=headers)
        assert [item["id"] for item in answer.get_json()["items"]] == found, given
