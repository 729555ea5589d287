"""The `upgradeflow` command: deploy, users add, demo."""

from pathlib import Path

import pytest
from flask_migrate import upgrade

import engine
from web import create_app
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


def test_deploy_of_the_processes_folder_reads_the_forms_beside_it_on_a_new_database(tmp_path):
    """`upgradeflow deploy processes/` as the README and issue 3 write it: on a new database it
    was refused (every form "neither in the bundle nor deployed": they are in forms/), and once
    the forms were there it made a version 2 of unchanged processes."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new.db'}"})
    with app.app_context():
        upgrade()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["deploy", "processes/"])
    assert first.exit_code == 0, first.output
    lines = first.output.strip().splitlines()
    assert lines[0].startswith("forms from ") and lines[0].endswith("forms (beside processes/)")
    assert lines[1:] == ["document_review version 1 (deployed)", "software_upgrade version 1 (deployed)"]
    for again in (["deploy", "processes/"], ["deploy", "processes", "forms"]):
        result = runner.invoke(args=again)
        assert result.output.strip().splitlines()[-2:] == [
            "document_review version 1 (unchanged)",
            "software_upgrade version 1 (unchanged)",
        ]
    with app.app_context():
        db.engine.dispose()


def test_deploy_refuses_two_files_of_one_name(app, runner, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.form").write_text('{"components": [], "type": "default"}')
    result = runner.invoke(args=["deploy", str(tmp_path / "a"), str(tmp_path / "b")])
    assert result.exit_code == 1
    assert "x.form: two files of that name" in result.output
    with app.app_context():
        assert [p.version for p in engine.list_processes(db.session)] == [1, 1]


def test_deploy_names_a_diagram_that_is_no_regular_file(app, runner, tmp_path):
    """A broken link or a named pipe called *.bpmn was skipped without a word (and the rest of
    the folder deployed without it)."""
    import os
    import shutil

    shutil.copytree("processes", tmp_path / "processes")
    shutil.copytree("forms", tmp_path / "forms")
    (tmp_path / "processes" / "gone.bpmn").symlink_to(tmp_path / "nowhere.bpmn")
    os.mkfifo(tmp_path / "processes" / "pipe.dmn")
    result = runner.invoke(args=["deploy", str(tmp_path / "processes")])
    assert result.exit_code == 1
    assert (
        "gone.bpmn: is no regular file" in result.output and "pipe.dmn: is no regular file" in result.output
    )
    with app.app_context():
        assert [p.version for p in engine.list_processes(db.session)] == [1, 1]  # nothing new stored


def test_users_add_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(
        args=["users", "add", "alice", "--group", "business", "--group", "it"], input="s3cret-pass\n"
    )
    assert result.exit_code == 0, result.output
    assert "s3cret-pass" not in result.output
    with app.app_context():
        user = engine.authenticate(db.session, "alice", "s3cret-pass")
        assert (user.groups, user.is_admin) == ({"business", "it"}, False)


def test_users_add_takes_a_password_piped_with_a_windows_line_ending(app):
    """The `\r` of CRLF stayed in the password: the user could never log in. (A real process:
    the test runner's stdin turns CRLF into LF itself.)"""
    import os
    import subprocess
    import sys
    from pathlib import Path

    command = [str(Path(sys.executable).parent / "upgradeflow"), "users", "add", "carol", "--group", "qa"]
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "t"}
    result = subprocess.run(command, env=env, input=b"s3cret-pass\r\n", capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    with app.app_context():
        assert engine.authenticate(db.session, "carol", "s3cret-pass") is not None


def test_users_add_refuses_bad_input_and_stores_nothing(app, runner):
    unknown = runner.invoke(args=["users", "add", "bob", "--group", "sales"], input="long-enough\n")
    short = runner.invoke(args=["users", "add", "bob", "--group", "it"], input="short\n")
    assert unknown.exit_code != 0 and "unknown group(s): sales" in unknown.output
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    with app.app_context():
        assert engine.get_user_by_name(db.session, "bob") is None


@pytest.mark.parametrize(("name", "why"), [("all", "notifications to everyone"), ("CLI", "the command line")])
def test_users_add_refuses_a_name_the_app_uses_for_someone_else(app, runner, name, why):
    """A user named `all` read every notification meant for everyone and had their own (a
    termination's reason) shown to everyone; `cli` is the command line's actor in the log."""
    result = runner.invoke(args=["users", "add", name, "--group", "business"], input="long-enough\n")
    assert result.exit_code != 0 and f"the user name {name!r} is reserved: {why}" in result.output
    with app.app_context():
        assert engine.get_user_by_name(db.session, name) is None


def test_users_add_refuses_text_that_is_not_utf8_and_stores_nothing(app, runner):
    """Bytes that were not UTF-8 (a terminal in Big5, say) ended in a traceback."""
    password = runner.invoke(args=["users", "add", "bob"], input=b"\xff\xfepassword\n")
    name = runner.invoke(args=["users", "add", "b\udcffob"], input="long-enough\n")
    group = runner.invoke(args=["users", "add", "bob", "--group", "\udcff"], input="long-enough\n")
    assert password.exit_code == 1 and "not UTF-8" in password.output
    for refused in (name, group):
        assert refused.exit_code == 2 and "is not UTF-8 text" in refused.output
    assert "Traceback" not in password.output + name.output + group.output
    with app.app_context():
        assert engine.get_user_by_name(db.session, "bob") is None


def test_users_add_refuses_a_password_line_that_is_not_utf8_in_a_utf8_locale(app):
    """Under LANG=C.UTF-8 Python reads stdin with surrogateescape: the bytes arrived as lone
    surrogates and failed at hashing, a UnicodeEncodeError traceback. (A real process: the test
    runner's stdin decodes by itself.)"""
    import os
    import subprocess
    import sys
    from pathlib import Path

    command = [str(Path(sys.executable).parent / "upgradeflow"), "users", "add", "bob"]
    env = {
        **os.environ,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "t",
    }
    result = subprocess.run(command, env=env, input=b"\xff\xfepassword\n", capture_output=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert result.stderr.decode().splitlines() == [
        "Error: the password is not UTF-8 text (is the terminal's encoding UTF-8?)"
    ]
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


def _upgradeflow(*args, url, unprivileged=False, **settings):
    """The installed `upgradeflow` command, in its own process (DATABASE_URL is read at start);
    `settings`: more environment variables (None: not set). `unprivileged`: as root, without the
    capabilities that let root read and enter what its mode forbids (as any other user runs)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    command = [str(Path(sys.executable).parent / "upgradeflow"), *args]
    if unprivileged and os.geteuid() == 0:
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--", *command]
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "t", **settings}
    env = {name: value for name, value in env.items() if value is not None}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        # Read when web/config.py was imported: a ValueError traceback before any command ran.
        ("SMTP_PORT", "abc", "SMTP_PORT must be a whole number from 1 to 65535, not 'abc'"),
        ("UPGRADEFLOW_INSTANCE_CACHE", "abc", "UPGRADEFLOW_INSTANCE_CACHE must be a whole number"),
        # Out of range: psycopg waits for ever on a timeout of 0 or less; a port past 65535 was
        # tried and reported as "connection refused"; the others failed pages later with a 500.
        ("UPGRADEFLOW_DB_CONNECT_TIMEOUT", "-5", "UPGRADEFLOW_DB_CONNECT_TIMEOUT must be a whole number"),
        ("SMTP_PORT", "99999", "SMTP_PORT must be a whole number from 1 to 65535, not 99999"),
        ("COST_OVERRUN_THRESHOLD", "nan", "COST_OVERRUN_THRESHOLD must be a fraction of at least 0"),
        ("COST_OVERRUN_THRESHOLD", "-1", "COST_OVERRUN_THRESHOLD must be a fraction of at least 0"),
        ("UPGRADEFLOW_TIMEZONE", "Nowhere/Zone", "UPGRADEFLOW_TIMEZONE names no time zone: 'Nowhere/Zone'"),
    ],
)
def test_a_setting_it_cannot_use_is_refused_at_start_in_one_line(tmp_path, name, value, said):
    result = _upgradeflow("instances", "list", url=f"sqlite:///{tmp_path}/x.db", **{name: value})
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"error: {said}" + result.stderr.split(said, 1)[1]
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "x.db").exists()  # nothing was opened, let alone written


@pytest.mark.parametrize(
    ("url", "settings", "said"),
    [
        ("sqlite:///{tmp}/x.db", {"SMTP_PORT": "abc"}, "SMTP_PORT must be a whole number from 1 to 65535"),
        ("sqlite://", {}, "DATABASE_URL names an in-memory SQLite database"),
        ("postgresql+psycopg://postgres@127.0.0.1:99999/test", {}, "DATABASE_URL has a port out of range"),
        ("garbage", {}, "DATABASE_URL names no database Upgradeflow can use"),
    ],
)
def test_help_with_a_setting_it_cannot_use_says_so_in_one_line(tmp_path, url, settings, said):
    """Flask builds the app to list its commands, and printed the traceback when it could not."""
    result = _upgradeflow("--help", url=url.format(tmp=tmp_path), **settings)
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {said}")
    assert "Usage: upgradeflow" in result.stdout


def test_serve_on_a_database_a_newer_version_migrated_serves_with_a_warning(tmp_path):
    """It said to run `upgradeflow db upgrade`, which cannot go from a revision it does not
    know: a host not yet upgraded, in a rolling upgrade, could not start."""
    import socket
    import sqlite3

    url = f"sqlite:///{tmp_path}/x.db"
    assert _upgradeflow("db", "upgrade", url=url).returncode == 0
    with sqlite3.connect(tmp_path / "x.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    with socket.socket() as taken:  # gunicorn then gives up binding it: it went on to serve
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = _upgradeflow("serve", "--port", str(taken.getsockname()[1]), url=url)
    assert "run `upgradeflow db upgrade`" not in result.stderr
    assert "warning: the database is at revision 9999, which this version does not know" in result.stderr


def test_an_env_file_sets_the_database_url(tmp_path):
    """Settings were read when web/config.py was imported, before `-e FILE` was loaded: the
    command ran on the default database (and `db upgrade` migrated that one)."""
    settings = tmp_path / "settings.env"
    settings.write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'chosen.db'}\nSECRET_KEY=t\n")
    result = _upgradeflow("-e", str(settings), "db", "upgrade", url=None)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "chosen.db").exists()


def _closed_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "url", ["garbage", "postgres://u@h/db", "postgresql+psycopg://postgres@127.0.0.1:abc/test"]
)
def test_a_database_url_that_names_no_database_is_one_clear_line(url):
    result = _upgradeflow("db", "upgrade", url=url)
    assert result.returncode == 2
    assert result.stderr.startswith("error: DATABASE_URL names no database Upgradeflow can use")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["upgrade", "downgrade", "stamp"])
def test_db_commands_refuse_an_empty_revision(tmp_path, command):
    """Alembic asserted on it: a traceback."""
    result = _upgradeflow("db", command, "", url=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "a revision is a name such as head or 0119, not empty text" in result.stderr


def test_a_database_url_with_a_port_out_of_range_is_a_setting_not_an_outage():
    """It was exit 3, "the database is unavailable: invalid port number"."""
    result = _upgradeflow("db", "upgrade", url="postgresql+psycopg://postgres@127.0.0.1:99999/test")
    assert result.returncode == 2
    assert result.stderr == "error: DATABASE_URL has a port out of range (1 to 65535): 99999\n"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:"])
def test_an_in_memory_database_is_refused_by_the_commands(url):
    """Each command got a new empty database: `db upgrade` said nothing was wrong and kept
    nothing, and the next command said to run `db upgrade`."""
    result = _upgradeflow("db", "upgrade", url=url)
    assert result.returncode == 2
    assert result.stderr.startswith("error: DATABASE_URL names an in-memory SQLite database")


def test_the_worker_on_a_database_never_upgraded_says_to_upgrade_it(tmp_path):
    """SQLite's "no such table" is an OperationalError, which the worker took for an outage (and
    without --once would have said so every round, for ever)."""
    result = _upgradeflow("worker", "--once", url=f"sqlite:///{tmp_path}/empty.db")
    assert result.returncode == 3
    assert result.stderr == (
        "error: the database is not set up for this version (no such table: instances): "
        "run `upgradeflow db upgrade`\n"
    )


def test_serve_refuses_a_database_never_upgraded(tmp_path):
    """It started, each worker logging a warning, and every page failed."""
    result = _upgradeflow("serve", "--port", str(_closed_port()), url=f"sqlite:///{tmp_path}/empty.db")
    assert result.returncode == 3
    assert result.stderr.startswith("error: the database is not set up for this version (at no revision, ")
    assert result.stderr.endswith("run `upgradeflow db upgrade`\n")


def test_deploy_of_a_folder_holding_a_file_it_may_not_read_names_the_file(tmp_path):
    """A PermissionError traceback."""
    url = f"sqlite:///{tmp_path}/x.db"
    assert _upgradeflow("db", "upgrade", url=url).returncode == 0
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "document_review.bpmn").write_bytes(Path("processes/document_review.bpmn").read_bytes())
    (folder / "document_review.bpmn").chmod(0)
    try:
        result = _upgradeflow("deploy", str(folder), url=url, unprivileged=True)
    finally:
        (folder / "document_review.bpmn").chmod(0o644)
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert (
        f"{folder / 'document_review.bpmn'}: cannot be read: Permission denied"
        in result.stderr + result.stdout
    )


def test_backup_into_a_folder_it_may_not_enter_is_one_line(tmp_path):
    """A PermissionError traceback: the destination was looked at before any error was caught."""
    url = f"sqlite:///{tmp_path}/x.db"
    assert _upgradeflow("db", "upgrade", url=url).returncode == 0
    closed = tmp_path / "closed"
    closed.mkdir()
    closed.chmod(0)
    try:
        result = _upgradeflow("backup", str(closed / "snap"), url=url, unprivileged=True)
    finally:
        closed.chmod(0o755)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [f"Error: cannot write to {closed / 'snap'}: Permission denied"]
    assert list(closed.iterdir()) == []


def test_a_backup_into_no_folder_named_says_so(runner, tmp_path, monkeypatch):
    """`backup ''` read "" as the current folder and said ". is not an empty folder"."""
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    for blank in ("", "  "):
        result = runner.invoke(args=["backup", blank])
        assert result.exit_code == 2 and "name the folder to write the backup into" in result.output
    assert list(here.iterdir()) == []


@pytest.mark.parametrize("command", [["verify"], ["db", "upgrade"]])
def test_an_unreachable_database_is_exit_status_3_not_a_traceback(command):
    result = _upgradeflow(*command, url=f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/test")
    assert result.returncode == 3  # verify's 1 means "instances differ": an outage is told apart
    assert result.stderr.startswith("error: the database is unavailable: ")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "option",
    [
        ["--port", "70000"],
        ["--port", "0"],
        ["--workers", "0"],
        ["--timeout", "-5"],  # gunicorn's "Value must be positive", the option unnamed
        ["--timeout", "99999999999999999999"],  # each worker died in select(), restarted forever
    ],
)
def test_serve_refuses_a_port_worker_count_or_timeout_it_cannot_use(option, tmp_path):
    result = _upgradeflow("serve", *option, url=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2 and option[0] in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["replay", "99999999999999999999"],
        ["replay", "1", "--version", "99999999999"],
        ["migrate", "--process", "p", "--to", "0"],
    ],
)
def test_admin_commands_refuse_ids_no_row_can_have(runner, args):
    result = runner.invoke(args=args)
    assert result.exit_code == 2 and "is not in the range 1<=x<=2147483647" in result.output


def test_a_database_without_tables_says_to_upgrade_it(tmp_path):
    result = _upgradeflow("verify", url=f"sqlite:///{tmp_path}/empty.db")
    assert result.returncode == 3
    assert "the database is not set up" in result.stderr and "upgradeflow db upgrade" in result.stderr


def test_a_deploy_that_loses_the_version_number_to_another_says_so_and_stores_nothing(
    app, runner, tmp_path, monkeypatch
):
    """Two `upgradeflow deploy` at once both read version 1 as the latest; the database keeps the
    first one's version 2. The other crashed with an IntegrityError traceback."""
    import shutil

    from sqlalchemy.orm import Session

    import engine.deployments as deployments

    shutil.copytree("processes", tmp_path / "processes")
    shutil.copytree("forms", tmp_path / "forms")
    diagram = tmp_path / "processes" / "software_upgrade.bpmn"
    diagram.write_bytes(diagram.read_bytes().replace("需求初審".encode(), "需求初步審核".encode()))
    latest = deployments._latest

    def the_other_deploy_commits_right_after(session, process_id):
        found = latest(session, process_id)
        if process_id == "software_upgrade":
            monkeypatch.setattr(deployments, "_latest", latest)
            with Session(db.engine) as other, other.begin():
                files = engine.bundle_files(str(tmp_path / "processes"), str(tmp_path / "forms"))
                engine.deploy(other, files, deployed_by="other")
        return found

    monkeypatch.setattr(deployments, "_latest", the_other_deploy_commits_right_after)
    result = runner.invoke(args=["deploy", str(tmp_path / "processes")])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        "error: another deploy of software_upgrade stored version 2 at the same time; "
        "nothing was stored: deploy again"
    ]
    with app.app_context():
        versions = engine.list_versions(db.session, "software_upgrade")
        assert [(v.version, v.deployed_by) for v in versions] == [(2, "other"), (1, "tests")]
