"""Helpers of the page tests: a logged-in browser-like client that sends the CSRF token the way
the pages do (a hidden field in forms, `X-CSRFToken` in fetch), and quick ways to reach a task.

Test modules import what they use from here (`from conftest_pages import ...`); importing
`browser_fixture` makes the `browser` fixture available to a module. The fixtures of
tests/conftest.py (app, client, make_user) are used as they are.
"""

import re
import sys
from pathlib import Path

import pytest

import engine
from web.extensions import db

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "processes"))
from harness import DEFAULTS, REQUEST  # found through the path above

PASSWORD = "correct-horse-battery"  # tests/conftest.py's make_user password
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

__all__ = ["DEFAULTS", "REQUEST", "Browser", "browser_fixture", "csrf_from", "start_request"]


def csrf_from(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


class Browser:
    """One person's session: logs in through the login form, then gets and posts pages."""

    def __init__(self, app, username, password=PASSWORD):
        self.app = app
        self.username = username
        self.client = app.test_client()
        page = self.client.get("/login")
        response = self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
        )
        assert response.status_code == 302, response.text

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def token(self) -> str:
        return csrf_from(self.client.get("/instances").text)

    def post_form(self, path, data=None, csrf=True):
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.token()
        return self.client.post(path, data=data)

    def post_json(self, path, payload, csrf=True):
        headers = {"Accept": "application/json"}
        if csrf:
            headers["X-CSRFToken"] = self.token()
        return self.client.post(path, json=payload, headers=headers)

    def actor(self) -> engine.Actor:
        with self.app.app_context():
            return engine.get_user_by_name(db.session, self.username).actor

    def tasks(self, assigned="any"):
        with self.app.app_context():
            return engine.list_tasks(db.session, self.actor(), assigned=assigned)


@pytest.fixture(name="browser")
def browser_fixture(app, make_user):
    """browser("alice", "it") -> a Browser logged in as a new user in the given groups."""

    def make(username, *groups, admin=False):
        make_user(username, *groups, admin=admin)
        return Browser(app, username)

    return make


def start_request(app, username, **overrides) -> int:
    """Start `software_upgrade` as `username` (engine call); returns the instance id."""
    with app.app_context():
        actor = engine.get_user_by_name(db.session, username).actor
        info = engine.start_instance(db.session, "software_upgrade", {**REQUEST, **overrides}, actor)
        db.session.commit()
        return info.id
