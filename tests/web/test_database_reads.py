"""PostgreSQL: read requests run without a transaction, so psycopg keeps the statements it has
prepared. A ROLLBACK at the end of each read made it forget them, and PostgreSQL parsed and
planned every statement of every request again."""

import pytest
import sqlalchemy as sa
from apiclient import REQUEST
from flask_migrate import upgrade

import engine
from web import create_app
from web.extensions import db

PASSWORD = "long-enough-password"


@pytest.fixture
def one_connection_app(database_url):
    """The app over one pooled connection, so the statements of every request meet on it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite: a read keeps its transaction (one snapshot, and no round trip to save)")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "t",
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0},
        }
    )
    with app.app_context():
        upgrade()
        engine.deploy(db.session, engine.bundle_files("processes", "forms"), deployed_by="tests")
        user = engine.create_user(db.session, "bea", PASSWORD, ["business"], is_admin=True)
        token = engine.issue_token(db.session, user)
        db.session.commit()
    yield app, {"Authorization": f"Bearer {token}"}
    with app.app_context():
        db.engine.dispose()


def prepared(app) -> list[str]:
    with app.app_context():
        statements = db.session.scalars(sa.text("SELECT statement FROM pg_prepared_statements")).all()
        db.session.commit()  # a ROLLBACK here would clear them
        return statements


def test_reading_a_task_again_and_again_uses_prepared_statements(one_connection_app):
    app, headers = one_connection_app
    client = app.test_client()
    started = client.post(
        "/api/v1/processes/software_upgrade/instances", json={"data": REQUEST}, headers=headers
    )
    assert started.status_code == 201
    task_id = started.get_json()["tasks"][0]["id"]
    for _ in range(8):  # psycopg prepares a statement on its sixth use
        response = client.get(f"/api/v1/tasks/{task_id}", headers=headers)
        assert response.status_code == 200
        assert response.get_json()["id"] == task_id
    statements = prepared(app)
    assert any("JOIN api_tokens" in s for s in statements), statements  # the token's user
    assert any("FROM tasks JOIN instances" in s for s in statements), statements  # the task and its row


def test_a_read_request_holds_no_transaction_open_on_postgresql(one_connection_app):
    app, headers = one_connection_app
    client = app.test_client()
    seen = {}

    @app.after_request
    def look(response):
        psycopg = db.session.connection().connection.driver_connection
        seen.update(autocommit=psycopg.autocommit, status=psycopg.info.transaction_status.name)
        return response

    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    assert seen == {"autocommit": True, "status": "IDLE"}  # no BEGIN was sent: nothing to roll back
    started = client.post(
        "/api/v1/processes/software_upgrade/instances", json={"data": REQUEST}, headers=headers
    )
    assert started.status_code == 201
    assert seen == {"autocommit": False, "status": "IDLE"}  # a write has its transaction (committed)
