"""REST API v1 (JSON). Issue 3's "REST API" section is the contract; `GET /api/v1/openapi.json`
describes every endpoint from the same schemas the handlers use.

A handler parses its input through a schema (`parse_body`, `parse_query`: a malformed request is a
400 naming the problem), makes one engine call, commits, and dumps the result through a schema.
Domain errors become status codes in `web/errors.py` only. Whatever a failed request did to the
session is rolled back at teardown, so a refused request leaves nothing behind.
"""

from flask import Blueprint, current_app, request
from werkzeug.exceptions import BadRequest

from ..extensions import db

bp = Blueprint("api", __name__)


@bp.before_request
def _no_query_where_none_is_read():
    """A query parameter sent to an endpoint that reads none (`@operation` without `query`) is a
    400 naming it, as a misspelt one is where a query is read: `?verison=2` or `?since=5` was
    ignored without a word, and the answer looked like what was asked for."""
    view = current_app.view_functions.get(request.endpoint)
    described = getattr(view, "openapi", None)
    if described is not None and described["query"] is None and request.args:
        names = ", ".join(sorted(request.args))
        raise BadRequest(f"invalid request: {names}: no such query parameter here (this endpoint takes none)")


@bp.teardown_request
def _rollback(error=None):
    # After a commit this is a no-op; after an engine error (handled or not) it throws away
    # whatever the engine flushed, so the database holds exactly what it held before.
    db.session.rollback()


from . import admin, deployments, instances, openapi, plans, pool, processes, records, tasks, tokens  # noqa: E402, F401 - routes register on bp
