"""Fixtures for the API tests: a movable clock, one user per group, an engine-level driver."""

import fake_smtp
import pytest
from apiclient import Driver, People

import engine


@pytest.fixture
def clock(app):
    """The engine's clock for this app, standing still until moved (API calls use it too)."""
    clock = engine.ManualClock()
    app.config["ENGINE_CLOCK"] = clock
    return clock


@pytest.fixture
def people(make_user, token_for, client):
    return People(make_user, token_for, client)


@pytest.fixture
def drive(app, clock):
    return Driver(app, clock)


@pytest.fixture
def smtp(app):
    """A fake SMTP server the app mails to (addresses `<user>@example.com`)."""
    server = fake_smtp.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.server_address[1], MAIL_DOMAIN="example.com")
    yield server
    fake_smtp.stop(server)
