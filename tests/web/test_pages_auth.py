"""Logging in and out of the pages, and CSRF on every form."""

import re
from pathlib import Path

import pytest
from conftest_pages import Browser, browser_fixture, csrf_from, start_request  # noqa: F401 - the browser fixture

import engine
from web.extensions import db

PASSWORD = "correct-horse-battery"


def login_form(client):
    return csrf_from(client.get("/login").text)


def test_pages_need_a_login(client):
    for path in ("/", "/requests/new", "/instances", "/instances/1"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_login_then_logout(app, client, make_user):
    make_user("alice", "business")
    token = login_form(client)
    response = client.post(
        "/login?next=/instances", data={"username": "alice", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/instances"
    page = client.get("/")
    assert page.status_code == 200
    assert "alice" in page.text

    response = client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # logged out: back to the login page


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_a_bad_login_stays_on_the_form_and_says_the_same_for_unknown_users(client, make_user, username):
    make_user("alice", "business")
    response = client.post(
        "/login",
        data={"username": username, "password": "wrong-password-123", "csrf_token": login_form(client)},
    )
    assert response.status_code == 200
    assert 'id="login-error"' in response.text
    assert "用戶名或密碼不正確" in response.text
    assert "wrong-password-123" not in response.text  # the password is never echoed back
    assert client.get("/").status_code == 302  # not logged in


def test_login_refuses_to_redirect_to_another_site(client, make_user):
    make_user("alice", "business")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            "/login",
            data={
                "username": "alice",
                "password": PASSWORD,
                "next": target,
                "csrf_token": login_form(client),
            },
        )
        assert response.headers["Location"] == "/"
        client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})


def test_a_post_without_the_csrf_token_is_refused(app, browser):
    alice = browser("alice", "business")
    response = alice.client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert response.status_code == alice.post_form("/logout", csrf=False).status_code
    assert alice.post_form("/language", {"language": "en"}, csrf=False).status_code == 400
    assert alice.post_form("/tasks/x/claim", csrf=False).status_code == 400
    assert alice.post_form("/tasks/x/unclaim", csrf=False).status_code == 400
    response = alice.post_json("/requests/new", {"data": {}}, csrf=False)
    assert response.status_code == 400
    assert alice.post_json("/tasks/x/complete", {"data": {}}, csrf=False).status_code == 400
    with app.app_context():
        assert engine.list_instances(db.session).total == 0
        assert engine.get_user_by_name(db.session, "alice").locale is None


def test_a_bad_csrf_token_is_refused_with_a_readable_page(browser):
    alice = browser("alice", "business")
    response = alice.client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert "安全令牌" in response.text
    assert alice.get("/").status_code == 200  # still logged in


def test_every_post_form_on_the_pages_carries_the_token(app, browser):
    alice = browser("alice", "business")
    browser("ivan", "it")
    start_request(app, "alice")
    ivan = Browser(app, "ivan")
    for page in (alice.get("/"), ivan.get("/"), ivan.get("/instances/1")):
        html = page.text
        forms = html.count('method="post"')
        assert forms >= 2  # the language switch and logout at least
        assert html.count('name="csrf_token"') == forms


@pytest.mark.parametrize(
    "target", ["//evil.example", "/\t/evil.example", "/\\evil.example", "/\r/x", "https://e.x"]
)
def test_login_never_redirects_off_the_site(app, client, make_user, target):
    """A browser drops a tab in a URL, so `/<tab>/evil.example` is `//evil.example`; a line break
    made a 500. Each goes to the inbox instead."""
    make_user("alice", "business")
    token = login_form(client)
    response = client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    again = client.get("/login", query_string={"next": target})  # logged in already
    assert (again.status_code, again.headers["Location"]) == (302, "/")


def test_a_session_cookie_copied_before_logout_is_refused_after_it(app, client, make_user):
    """The session lives in a signed cookie; logging out used to forget it only in the browser
    that logged out, so a copy of the cookie stayed logged in."""
    make_user("alice", "business")
    token = login_form(client)
    client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token})
    page = client.get("/")
    assert page.status_code == 200
    copied = client.get_cookie("session").value
    assert client.post("/logout", data={"csrf_token": csrf_from(page.text)}).status_code == 302
    client.set_cookie("session", copied)
    assert client.get("/").status_code == 302  # to the login page
    token = login_form(client)
    client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token})
    assert client.get("/").status_code == 200  # a new login works


def test_every_answer_forbids_framing_type_sniffing_and_foreign_or_inline_script(client):
    for path in ("/login", "/api/v1/openapi.json", "/static/favicon.svg"):
        response = client.get(path)
        headers = response.headers
        response.close()  # a static file's response holds the file open
        assert (headers["X-Frame-Options"], headers["X-Content-Type-Options"]) == ("DENY", "nosniff"), path
        assert headers["Referrer-Policy"] == "same-origin"
        policy = dict(part.split(" ", 1) for part in headers["Content-Security-Policy"].split("; "))
        assert policy["script-src"] == "'self'", path  # no inline script, no eval, no other origin
        assert (policy["object-src"], policy["frame-ancestors"]) == ("'none'", "'none'"), path


def test_no_template_holds_script_the_content_policy_would_stop():
    """Handlers in the markup (onclick=…) and javascript: addresses are inline script: the
    policy stops them, and the button does nothing (the document page's Print did that)."""
    templates = Path(__file__).resolve().parents[2] / "web" / "templates"
    inline = re.compile(r"""\son[a-z]+\s*=|javascript:""", re.IGNORECASE)
    found = [
        f"{path.relative_to(templates)}:{number}"
        for path in sorted(templates.rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if inline.search(line)
    ]
    assert found == []
