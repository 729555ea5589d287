"""`upgradeflow restore SRC` from a snapshot it cannot read: one line, nothing written."""

import pytest
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
