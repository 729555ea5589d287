"""The database unreachable: requests answer 503 with a clear message; work resumes when it returns."""

import contextlib
import gc
import os
import socket
import threading

import pytest
from databases import NO_SERVER, PG_URL, pg_available, pg_schema
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

import engine
from web import create_app
from web.extensions import db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.fixture
def unreachable_app():
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test"
    return create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False}
    )


def test_an_api_request_answers_503_with_a_json_message(unreachable_app):
    response = unreachable_app.test_client().get("/api/v1/tasks", headers={"Authorization": "Bearer x"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = response.get_json()
    assert body["error"] == "database_unavailable"
    assert "The database is unavailable; nothing was saved." in body["message"]


def test_a_page_answers_503_with_a_plain_page(unreachable_app):
    client = unreachable_app.test_client()
    response = client.post("/login", data={"username": "alice", "password": "whatever-long"})
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "資料庫暫時無法連線" in page and "The database is unavailable" in page


def test_the_worker_says_the_database_is_unavailable_and_once_exits_3(unreachable_app):
    result = unreachable_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 3
    assert "database unavailable, nothing done this round" in result.output
    assert "timers=" not in result.output  # not a round that found nothing to do


@pytest.mark.parametrize("interval", ["-1", "0", "nan", "inf"])
def test_the_worker_refuses_an_interval_it_cannot_wait(unreachable_app, interval):
    result = unreachable_app.test_cli_runner().invoke(args=["worker", "--interval", interval])
    assert result.exit_code == 2 and "--interval" in result.output


def test_a_server_that_never_answers_gives_a_503_after_the_connect_timeout():
    """A listener that takes the connection and says nothing (a hung server): without a connect
    timeout the request waited until gunicorn killed the worker (an HTML 500)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"postgresql+psycopg://postgres@127.0.0.1:{silent.getsockname()[1]}/test"
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "t",
                "DATABASE_CONNECT_TIMEOUT": 1,
            }
        )
        response = app.test_client().get("/api/v1/tasks", headers={"Authorization": "Bearer x"})
    assert response.status_code == 503
    assert response.get_json()["error"] == "database_unavailable"


@pytest.mark.parametrize("path", ["/", "/notifications", "/instances", "/login"])
def test_a_logged_in_user_gets_the_503_page_too(unreachable_app, path):
    """The page is plain, but templates are given the current user, whom a logged-in session
    would load from the database: that must not turn the 503 into a 500."""
    client = unreachable_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1"
        session["_fresh"] = True
    response = client.get(path)
    assert response.status_code == 503
    assert "The database is unavailable" in response.get_data(as_text=True)


class Outage:
    """A TCP relay in front of PostgreSQL that can be cut (every connection dropped, the port
    closed) and put back on the same port: the database going away and coming back."""

    def __init__(self, target):
        self.target = target
        self.port = closed_port()
        self.sockets = []
        self.listener = None

    def up(self):
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.sockets.append(self.listener)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def down(self):
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.sockets = []

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: down()
            server = socket.create_connection(self.target, timeout=10)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def app_with_a_user(url):
    """(app, API headers): an app on `url`, migrated, and one user's bearer token."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t"})
    with app.app_context():
        upgrade()
        user = engine.create_user(db.session, "alice", "long-enough-pw", ["business"])
        token = engine.issue_token(db.session, user)
        db.session.commit()
    return app, {"Authorization": f"Bearer {token}"}


@contextlib.contextmanager
def behind_a_relay(schema_prefix):
    """(outage, app client, API headers): an app on a fresh PostgreSQL schema reached through an
    `Outage` relay, migrated, with one user's token."""
    if not pg_available():
        pytest.skip(NO_SERVER)
    target = make_url(PG_URL)
    outage = Outage((target.host, target.port or 5432))
    outage.up()
    with pg_schema(schema_prefix) as url:
        relayed = url.replace(f"{target.host}:{target.port or 5432}", f"127.0.0.1:{outage.port}")
        app, headers = app_with_a_user(relayed)
        try:
            yield outage, app.test_client(), headers
        finally:
            with app.app_context():
                db.engine.dispose()
            outage.down()


def test_work_resumes_when_the_database_returns():
    with behind_a_relay("o") as (outage, client, headers):
        assert client.get("/api/v1/tasks", headers=headers).status_code == 200
        outage.down()
        assert client.get("/api/v1/tasks", headers=headers).status_code == 503
        outage.up()
        response = client.get("/api/v1/tasks", headers=headers)
        assert response.status_code == 200, response.get_json()
        assert response.get_json() == []


def test_a_database_restarted_while_idle_costs_no_request():
    """The server went away and came back between two requests: the pooled connection it dropped
    is replaced before use (its socket reads as closed), so the next request simply works."""
    with behind_a_relay("r") as (outage, client, headers):
        assert client.get("/api/v1/tasks", headers=headers).status_code == 200
        outage.down()  # no request while it is down
        outage.up()
        for _ in range(3):
            response = client.get("/api/v1/tasks", headers=headers)
            assert response.status_code == 200, response.get_json()


def test_a_connection_on_a_high_descriptor_is_checked_too(tmp_path):
    """Past descriptor 1023 (a busy process), where select() cannot look, the check still works."""
    if not pg_available():
        pytest.skip(NO_SERVER)
    import resource

    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 1200:
        pytest.skip("this process may not open 1,200 files (ulimit -n)")
    gc.collect()  # garbage holding a descriptor would free a low one while the test runs
    filler = [open(os.devnull) for _ in range(1100)]  # noqa: SIM115 - held open on purpose
    try:
        with pg_schema("h") as url:
            app, headers = app_with_a_user(url)
            with app.app_context():
                assert db.session.connection().connection.dbapi_connection.fileno() > 1023
            client = app.test_client()
            for _ in range(2):  # the second request checks the pooled connection out again
                assert client.get("/api/v1/tasks", headers=headers).status_code == 200
            with app.app_context():
                db.engine.dispose()
    finally:
        for handle in filler:
            handle.close()


def test_the_worker_says_an_unreachable_database_in_one_line_in_the_log_and_on_stderr(
    unreachable_app, caplog
):
    """psycopg's reason is two lines (what failed, then "Is the server running …?"): each round
    was two lines in the log and two more on stderr."""
    result = unreachable_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 3
    [said] = result.stderr.splitlines()
    assert said.startswith("database unavailable, nothing done this round: connection failed: ")
    assert said.endswith("; Is the server running on that host and accepting TCP/IP connections?")
    [logged] = [r.getMessage() for r in caplog.records if "worker round skipped" in r.getMessage()]
    assert "\n" not in logged and logged.endswith("accepting TCP/IP connections?")
