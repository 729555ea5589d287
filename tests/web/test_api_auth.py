"""Bearer tokens: issued for a right password, required on every endpoint, revocable."""

import pytest
from apiclient import API, OPERATIONS, PUBLIC
from sqlalchemy import text

import engine
from web.extensions import db

# Values for the path parameters of every endpoint (their existence does not matter: the token
# is checked first).
PATH_VALUES = {
    "process_id": "software_upgrade",
    "instance_id": "1",
    "task_id": "00000000-0000-0000-0000-000000000000",
    "message_name": "change_request",
    "plan_id": "1",
    "document_id": "requirement_request",
    "upload_id": "1",
    "version": "1",
    "filename": "software_upgrade.bpmn",
}


def protected_endpoints(client):
    """(method, URL) of every operation the OpenAPI document says needs a bearer token; the
    document must say so of exactly the API's operations that are not public."""
    document = client.get(f"{API}/openapi.json").get_json()
    protected = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation["security"]
    }
    assert protected == OPERATIONS - PUBLIC
    return [(method, API + path.format(**PATH_VALUES)) for method, path in sorted(protected)]


def call(client, method, path, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.open(path, method=method, headers=headers, json={"data": {}})


def test_passwords_are_stored_with_scrypt_and_checked_for_unknown_names_too(app, monkeypatch):
    assert engine.users.STORED_PASSWORD_METHOD == "scrypt"  # outside this suite, which sets a cheap one
    monkeypatch.setattr(engine.users, "PASSWORD_METHOD", engine.users.STORED_PASSWORD_METHOD)
    checked = []
    real_check = engine.users.check_password_hash
    monkeypatch.setattr(
        engine.users,
        "check_password_hash",
        lambda stored, given: checked.append(stored) or real_check(stored, given),
    )
    with app.app_context():
        engine.create_user(db.session, "ivy", "correct-horse-battery", ["it"])
        stored = db.session.execute(text("SELECT password_hash FROM users")).scalar_one()
        assert stored.startswith("scrypt:") and "correct-horse-battery" not in stored
        assert engine.authenticate(db.session, "ivy", "correct-horse-battery").username == "ivy"
        # A name no one has costs a hash check too: how long the answer takes tells nothing.
        assert engine.authenticate(db.session, "nobody", "correct-horse-battery") is None
    assert checked[0] == stored and checked[1].startswith("scrypt:") and checked[1] != stored


def test_a_right_password_gets_a_token_that_works_and_is_stored_hashed(app, client, make_user):
    make_user("ivy", "it")
    response = client.post(f"{API}/auth/token", json={"username": "ivy", "password": "correct-horse-battery"})
    assert response.status_code == 200
    token = response.get_json()["token"]
    assert call(client, "GET", f"{API}/processes", token).status_code == 200
    with app.app_context():
        stored = db.session.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert len(stored) == 1 and token not in stored[0]


@pytest.mark.parametrize(
    ("username", "password"), [("ivy", "wrong-password"), ("nobody", "correct-horse-battery"), ("ivy", "")]
)
def test_a_wrong_password_or_unknown_user_is_401_without_saying_which(client, make_user, username, password):
    make_user("ivy", "it")
    response = client.post(f"{API}/auth/token", json={"username": username, "password": password})
    expected = 400 if not password else 401  # an empty password is a malformed request
    assert response.status_code == expected
    body = response.get_json()
    assert "token" not in body
    if expected == 401:
        assert body == {"error": "unauthorized", "message": "unknown user name or wrong password"}


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"username": "ivy"},
        {"username": "ivy", "password": 5},
        {"username": "ivy", "password": "x", "admin": True},
    ],
)
def test_a_malformed_token_request_is_400_naming_the_problem(client, make_user, body):
    make_user("ivy", "it")
    response = client.post(f"{API}/auth/token", json=body)
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["error"] == "bad_request"
    assert answer["message"].startswith("invalid request: ")


def test_every_protected_endpoint_answers_401_without_a_token_or_with_a_bad_one(client, make_user, token_for):
    for method, path in protected_endpoints(client):
        for token in (None, "not-a-token"):
            response = call(client, method, path, token)
            assert response.status_code == 401, (method, path, token)
            assert response.get_json()["error"] == "unauthorized"
    for header in ("Basic abc", "Bearer", "Bearer  ", "Token " + token_for(make_user("ivy", "it"))):
        response = client.get(f"{API}/processes", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_the_token_endpoint_and_the_openapi_document_need_no_token(client):
    assert client.get(f"{API}/openapi.json").status_code == 200
    assert client.post(f"{API}/auth/token", json={"username": "x", "password": "y"}).status_code == 401


def test_a_revoked_token_is_401_everywhere_and_other_tokens_still_work(client, make_user, token_for):
    user = make_user("ivy", "it")
    revoked, kept = token_for(user), token_for(user)
    assert call(client, "DELETE", f"{API}/auth/token", revoked).status_code == 204
    for method, path in protected_endpoints(client):
        assert call(client, method, path, revoked).status_code == 401, (method, path)
    assert call(client, "GET", f"{API}/processes", kept).status_code == 200


def test_a_token_revoked_in_the_engine_is_refused(app, client, make_user, token_for):
    token = token_for(make_user("ivy", "it"))
    with app.app_context():
        assert engine.revoke_token(db.session, token) is True
        db.session.commit()
    assert call(client, "GET", f"{API}/tasks", token).status_code == 401
