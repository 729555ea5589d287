"""The schema comes from Alembic revisions, and they match the models."""

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from werkzeug.security import generate_password_hash

import engine
from tests.processes.harness import REQUEST
from web import create_app
from web.extensions import db


@pytest.fixture(params=["sqlite", "postgresql"])
def app_on(request, tmp_path):
    options = {}
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'mig.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        schema = f"m_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        options = {"connect_args": {"options": f"-csearch_path={schema}"}, "poolclass": sa.pool.NullPool}
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options, "SECRET_KEY": "t"}
    )
    yield app
    with app.app_context():
        db.engine.dispose()
    if request.param == "postgresql":
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_upgrade_from_empty_gives_exactly_the_models(app_on):
    with app_on.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), engine.Base.metadata)
        assert diff == []


def test_upgrade_written_as_sql_offline_gives_exactly_the_models(app_on, capsys):
    """`upgrade --sql` (for a DBA to read and run) writes every revision without asking the
    database anything, touches nothing, and the script run by hand gives the same schema."""
    with app_on.app_context():
        upgrade(sql=True)
        script = capsys.readouterr().out
        assert sa.inspect(db.engine).get_table_names() == []  # offline: nothing was run
        assert "UPDATE instances SET phase" in script  # 0111's fill, done by the database
        if db.engine.dialect.name == "postgresql":
            assert "SET COMPRESSION lz4" in script  # 0112, guarded by the server's abilities
            with db.engine.begin() as conn:
                conn.exec_driver_sql(script)
        else:
            raw = db.engine.raw_connection()
            raw.driver_connection.executescript(script)
            raw.close()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), engine.Base.metadata)
            revision = conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
        assert diff == []
        assert revision == ScriptDirectory("migrations").get_current_head()


def test_upgrade_from_the_first_revision_keeps_rows(app_on):
    with app_on.app_context():
        upgrade(revision="0001")
        # As the first revision's tables hold them (the models have grown columns since).
        db.session.execute(
            sa.text("INSERT INTO groups (id, name_zh, name_en) VALUES ('it', '信息化管理部門', 'IT')")
        )
        db.session.execute(
            sa.text(
                "INSERT INTO users (id, username, password_hash, is_admin, is_demo, created_at)"
                " VALUES (1, 'keeper', :hash, false, false, '2026-01-01 00:00:00')"
            ),
            {"hash": generate_password_hash("long-enough-pw")},
        )
        db.session.execute(sa.text("INSERT INTO memberships (user_id, group_id) VALUES (1, 'it')"))
        db.session.commit()
        upgrade()
        assert engine.authenticate(db.session, "keeper", "long-enough-pw").groups == {"it"}


def test_downgrade_to_base_and_back(app_on):
    with app_on.app_context():
        upgrade()
        downgrade(revision="base")
        assert "instances" not in sa.inspect(db.engine).get_table_names()
        upgrade()
        assert "instances" in sa.inspect(db.engine).get_table_names()


def test_the_phase_revision_fills_existing_rows(app_on):
    """0111 gives existing instances their phase: from the steps they wait at (the latest phase
    among several), else from the last phase step they completed (one waiting for a timer), else
    none. A step is matched whole: `_` in its id is no wildcard."""
    with app_on.app_context():
        upgrade(revision="0110")
        engine.deploy(db.session, engine.bundle_files("processes", "forms"), deployed_by="tests")
        db.session.commit()
        version = db.session.execute(sa.text("SELECT id FROM process_versions LIMIT 1")).scalar()
        now = "2026-01-01 00:00:00"
        rows = {
            1: "self_test",
            2: None,
            3: None,
            4: "cost_overrun_review",
            5: "budget_audit,initiation_review",
            6: "golive,rectify",
            7: "selfXtest",
        }
        for instance_id, waiting_at in rows.items():
            db.session.execute(
                sa.text(
                    "INSERT INTO instances (id, process_version_id, process_id, status, initiator, state,"
                    " state_format, waiting_at, created_at, updated_at, version_id) VALUES"
                    " (:id, :version, 'software_upgrade', 'running', 'a', '{}', 1, :waiting, :now, :now, 1)"
                ),
                {"id": instance_id, "version": version, "waiting": waiting_at, "now": now},
            )
        for instance_id, element in (
            (2, "risk_response"),
            (2, "golive"),
            (2, "inspection"),
            (4, "budget_audit"),
        ):
            db.session.execute(
                sa.text(
                    "INSERT INTO events (instance_id, type, element_id, at) VALUES (:id, 'task_completed', :el, :now)"
                ),
                {"id": instance_id, "el": element, "now": now},
            )
        db.session.commit()
        upgrade()
        phases = dict(db.session.execute(sa.text("SELECT id, phase FROM instances ORDER BY id")).all())
    assert phases == {
        1: "testing",
        2: "operation",
        3: None,
        4: "initiation",
        5: "initiation",
        6: "operation",
        7: None,
    }


def at_revision_with_an_instance_row(revision, **row):
    """The schema at `revision`, the procedure deployed, and instance 1 inserted with `row`."""
    upgrade(revision=revision)
    engine.deploy(db.session, engine.bundle_files("processes", "forms"), deployed_by="tests")
    db.session.commit()
    insert_instance(1, row["status"], row["created"], row["updated"])


def insert_instance(instance_id, status, created, updated, ended=None):
    """An instance row as an older revision holds it (the columns every revision since 0001 has)."""
    version = db.session.execute(sa.text("SELECT id FROM process_versions LIMIT 1")).scalar()
    db.session.execute(
        sa.text(
            "INSERT INTO instances (id, process_version_id, process_id, status, initiator, state,"
            " state_format, created_at, updated_at, ended_at, version_id) VALUES (:id, :version,"
            " 'software_upgrade', :status, 'a', '{}', 1, :created, :updated, :ended, 1)"
        ),
        {
            "id": instance_id,
            "version": version,
            "status": status,
            "created": created,
            "updated": updated,
            "ended": ended,
        },
    )


def test_instances_terminated_before_0113_get_their_end(app_on):
    with app_on.app_context():
        at_revision_with_an_instance_row(
            "0112", status="terminated", created="2026-01-01 00:00:00", updated="2026-01-02 00:00:00"
        )
        for instance_id, status, ended in ((2, "running", None), (3, "completed", "2026-01-03 00:00:00")):
            insert_instance(instance_id, status, "2026-01-01 00:00:00", "2026-01-02 00:00:00", ended=ended)
        db.session.commit()
        upgrade()
        ended = db.session.execute(sa.text("SELECT id, ended_at FROM instances ORDER BY id")).all()
    days = {i: (at if isinstance(at, str) else at.strftime("%Y-%m-%d")) if at else None for i, at in ended}
    assert {i: d[:10] if d else None for i, d in days.items()} == {1: "2026-01-02", 2: None, 3: "2026-01-03"}


def test_tasks_open_to_several_groups_or_people_are_marked_shared_by_0117(app_on):
    with app_on.app_context():
        at_revision_with_an_instance_row("0116", status="running", created="2026-01-01", updated="2026-01-01")
        for task_id, groups, users in (
            ("one", '["it"]', "[]"),
            ("two", '["it", "business"]', "[]"),
            ("named", '["it"]', '["fiona"]'),
            ("person", "[]", '["carol"]'),
        ):
            db.session.execute(
                sa.text(
                    "INSERT INTO tasks (id, instance_id, element_id, groups, users, created_at)"
                    " VALUES (:id, 1, 't', :groups, :users, '2026-01-01')"
                ),
                {"id": task_id, "groups": groups, "users": users},
            )
        db.session.commit()
        upgrade()
        shared = dict(db.session.execute(sa.text("SELECT id, shared FROM tasks")).all())
    assert {task: bool(flag) for task, flag in shared.items()} == {
        "one": False,
        "two": True,
        "named": True,
        "person": True,
    }


def test_postgresql_compresses_instance_state_with_lz4(app_on):
    """0112: a step's rewritten state is stored lz4-compressed on PostgreSQL; SQLite is unchanged."""
    with app_on.app_context():
        upgrade()
        if db.engine.dialect.name != "postgresql":
            assert db.engine.dialect.name == "sqlite"  # nothing to check: SQLite does not compress
            return
        setting = db.session.scalar(
            sa.text(
                "SELECT attcompression FROM pg_attribute "
                "WHERE attrelid = 'instances'::regclass AND attname = 'state'"
            )
        )
        assert setting == "l"
        engine.deploy(db.session, engine.bundle_files("processes", "forms"), deployed_by="t")
        started = engine.start_instance(
            db.session, "software_upgrade", REQUEST, engine.Actor("b", frozenset({"business"}))
        )
        db.session.commit()
        stored = db.session.scalar(
            sa.text("SELECT pg_column_compression(state) FROM instances WHERE id = :id"), {"id": started.id}
        )
        assert stored == "lz4"
        db.session.close()  # the downgrade's ALTER TABLE waits for no read of ours
        downgrade(revision="0111")
        assert db.session.scalar(
            sa.text(
                "SELECT attcompression FROM pg_attribute "
                "WHERE attrelid = 'instances'::regclass AND attname = 'state'"
            )
        ) in ("p", "")
