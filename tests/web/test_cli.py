"""The `upgradeflow` command: deploy, users add, demo."""

import engine
from web.extensions import db


def test_deploy_reports_versions_and_keeps_an_unchanged_one(runner):
    result = runner.invoke(args=["deploy", "processes", "forms"])
    assert result.exit_code == 0
    assert result.output.strip().splitlines() == [
        "document_review version 1 (unchanged)",
        "software_upgrade version 1 (unchanged)",
    ]


def test_deploy_of_a_bad_bundle_names_each_problem_and_stores_nothing(app, runner, tmp_path):
    (tmp_path / "bad.bpmn").write_text("<a>\n<b>\n</a>", encoding="utf-8")
    result = runner.invoke(args=["deploy", str(tmp_path)])
    assert result.exit_code == 1
    assert "bad.bpmn:3: not well-formed XML" in result.output
    with app.app_context():
        assert [p.version for p in engine.list_processes(db.session)] == [1, 1]  # both as before


def test_users_add_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(
        args=["users", "add", "alice", "--group", "business", "--group", "it"], input="s3cret-pass\n"
    )
    assert result.exit_code == 0, result.output
    assert "s3cret-pass" not in result.output
    with app.app_context():
        user = engine.authenticate(db.session, "alice", "s3cret-pass")
        assert (user.groups, user.is_admin) == ({"business", "it"}, False)


def test_users_add_refuses_bad_input_and_stores_nothing(app, runner):
    unknown = runner.invoke(args=["users", "add", "bob", "--group", "sales"], input="long-enough\n")
    short = runner.invoke(args=["users", "add", "bob", "--group", "it"], input="short\n")
    assert unknown.exit_code != 0 and "unknown group(s): sales" in unknown.output
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    with app.app_context():
        assert engine.get_user_by_name(db.session, "bob") is None


def test_users_add_refuses_a_duplicate(app, runner):
    runner.invoke(args=["users", "add", "carol", "--admin"], input="long-enough\n")
    again = runner.invoke(args=["users", "add", "carol"], input="other-password\n")
    assert again.exit_code != 0 and "already exists" in again.output
    with app.app_context():
        assert engine.authenticate(db.session, "carol", "long-enough").is_admin


def test_demo_creates_marked_users_once_per_group_and_an_admin(app, runner):
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "demo_it / demo-password" in first.output
    with app.app_context():
        users = [engine.get_user_by_name(db.session, f"demo_{g.id}") for g in engine.GROUPS]
        admin = engine.get_user_by_name(db.session, "demo_admin")
    assert all(u.is_demo for u in users) and admin.is_admin and admin.is_demo
    assert [sorted(u.groups) for u in users] == [[g.id] for g in engine.GROUPS]
