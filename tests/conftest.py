"""Shared fixtures: an app on a fresh database (migrated with Alembic), clients and user factories."""

import pytest

import engine
from web import create_app
from web.extensions import db

PASSWORD = "correct-horse-battery"


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def app(database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        engine.deploy(db.session, engine.bundle_files("processes", "forms"), deployed_by="tests")
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """make_user("alice", "business", admin=False) -> engine.User (password: PASSWORD)."""

    def make(username, *groups, admin=False):
        with app.app_context():
            user = engine.create_user(db.session, username, PASSWORD, groups, is_admin=admin)
            db.session.commit()
            return user

    return make


@pytest.fixture
def token_for(app, client):
    """token_for(user) -> a bearer token obtained through POST /api/v1/auth/token."""

    def token(user):
        response = client.post("/api/v1/auth/token", json={"username": user.username, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["token"]

    return token
