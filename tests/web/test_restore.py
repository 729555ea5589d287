"""`upgradeflow restore SRC` restores a snapshot whole into a database just migrated, or refuses in
one line and writes nothing: a snapshot it cannot read, rows the database refuses, a target
that holds anything, an uploads folder that is not one."""

import pytest
from databases import migrated_app
from sqlalchemy import func, select

from engine.models import GroupRecord, ProcessVersionRecord, UserRecord
from web.extensions import db


def counts(app):
    with app.app_context():
        return [
            db.session.scalar(select(func.count()).select_from(m))
            for m in (GroupRecord, ProcessVersionRecord, UserRecord)
        ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # A copy that stopped part-way: a JSONDecodeError traceback.
        ('{"users": [{"id": 1, "username": "x"', "is not a whole JSON snapshot (cut short?): Expecting"),
        ('{"users": [\n', "is not a whole JSON snapshot (cut short?): Expecting value: line 2"),
        # Not an export at all: an AttributeError traceback.
        ("[1,2]", "is no snapshot: it must hold an object of tables, each a list of rows"),
        ('{"users": 5}', "is no snapshot"),
        ('{"users": [1]}', "is no snapshot"),
        ('{"users": [{"id": 1, "created_at": "yesterday"}]}', "holds a value that cannot be restored"),
        # A newer version's snapshot, or an edited one: its values were dropped without a word.
        (
            '{"users": [{"id": 1, "username": "x", "nickname": "y"}]}',
            "holds columns this database has not in table users: nickname",
        ),
        ('{"users": [], "badges": [{"id": 1}]}', "holds tables this database has not: badges"),
    ],
)
def test_a_snapshot_that_cannot_be_read_is_one_line_and_nothing_is_written(
    app, runner, make_user, tmp_path, text, said
):
    make_user("kept", "it")
    (tmp_path / "snap").mkdir()
    (tmp_path / "snap" / "database.json").write_text(text, encoding="utf-8")
    before = counts(app)
    result = runner.invoke(args=["restore", str(tmp_path / "snap")])
    assert result.exit_code == 1, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: {tmp_path / 'snap' / 'database.json'} ") and said in line
    assert counts(app) == before  # the seeded groups, the deployed versions, the user: all kept


@pytest.fixture
def empty_target(tmp_path):
    """A database just migrated, as restore wants it: (app, runner)."""
    target = migrated_app(f"sqlite:///{tmp_path / 'target.db'}", UPLOAD_DIR=str(tmp_path / "uploads"))
    yield target, target.test_cli_runner()
    with target.app_context():
        db.engine.dispose()


def snapshot(tmp_path, text=None, sqlite=None):
    folder = tmp_path / "snap"
    folder.mkdir()
    if text is not None:
        (folder / "database.json").write_text(text, encoding="utf-8")
    if sqlite is not None:
        (folder / "database.sqlite3").write_bytes(sqlite)
    return folder


def test_restore_refuses_a_database_holding_users_and_deployments(app, runner, make_user, tmp_path):
    """Only instances were counted: an empty snapshot replaced the users and the deployed
    versions with none, exit 0."""
    make_user("kept", "it")
    before = counts(app)
    result = runner.invoke(args=["restore", str(snapshot(tmp_path, text="{}"))])
    assert result.exit_code == 1, result.output
    [line] = result.stderr.splitlines()
    assert "the target database is not empty (it holds " in line and "users" in line
    assert counts(app) == before


USER = '{"id": 1, "username": "a", "password_hash": "x", "created_at": "2026-01-01T00:00:00"}'


@pytest.mark.parametrize(
    "text",
    [
        '{"users": [{"id": 1}]}',  # a NOT NULL column without a value
        '{"users": [' + USER + ", " + USER.replace('"a"', '"b"') + "]}",  # one id twice
        '{"users": [' + USER.replace('"id": 1', '"id": "abc"') + "]}",  # an id that is no number
    ],
)
def test_a_snapshot_whose_rows_the_database_refuses_is_one_line(empty_target, tmp_path, text):
    target, target_runner = empty_target
    result = target_runner.invoke(args=["restore", str(snapshot(tmp_path, text=text))])
    assert result.exit_code == 1, result.output
    [line] = result.stderr.splitlines()
    assert "the snapshot holds rows this database refuses" in line
    assert counts(target) == [0, 0, 0]


def test_a_sqlite_snapshot_that_is_no_database_is_one_line(empty_target, tmp_path):
    target, target_runner = empty_target
    result = target_runner.invoke(args=["restore", str(snapshot(tmp_path, sqlite=b"not a database"))])
    assert result.exit_code == 1, result.output
    [line] = result.stderr.splitlines()
    assert "database.sqlite3 cannot be read as a snapshot of this version" in line
    assert counts(target) == [0, 0, 0]


def test_a_snapshot_of_an_older_version_names_the_snapshot_not_this_database(empty_target, tmp_path):
    """It said "the database is not set up for this version: run upgradeflow db upgrade" of a
    database that is."""
    target, target_runner = empty_target
    old = tmp_path / "old.db"
    with migrated_app(f"sqlite:///{old}", revision="0110").app_context():
        db.engine.dispose()
    folder = snapshot(tmp_path)
    (folder / "database.sqlite3").write_bytes(old.read_bytes())
    result = target_runner.invoke(args=["restore", str(folder)])
    assert result.exit_code == 1, result.output
    [line] = result.stderr.splitlines()
    assert "database.sqlite3 cannot be read as a snapshot of this version" in line
    assert "db upgrade" not in line
    assert counts(target) == [0, 0, 0]


def test_restore_into_an_uploads_setting_that_is_no_folder_writes_nothing(empty_target, tmp_path):
    """The rows were committed, then copying the files failed (a traceback), and restoring again
    was refused: "the target database is not empty"."""
    target, target_runner = empty_target
    folder = snapshot(tmp_path, text='{"users": [' + USER + "]}")
    (folder / "files" / "aa").mkdir(parents=True)
    (folder / "files" / "aa" / ("a" * 64)).write_bytes(b"x")
    (tmp_path / "uploads").write_text("a file, not a folder")
    result = target_runner.invoke(args=["restore", str(folder)])
    assert result.exit_code == 1, result.output
    [line] = result.stderr.splitlines()
    assert "is not a folder: nothing restored" in line
    assert counts(target) == [0, 0, 0]
