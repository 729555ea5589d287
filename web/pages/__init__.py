"""Server-rendered pages: inbox, new requests, task forms, instances, account.

Every page needs a logged-in user except the language switch (the login page has it too). The
pages make the same engine calls as the REST API and commit once, at the end of the request; a
domain error raised by the engine becomes an error page in `web.errors`.
"""

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

bp = Blueprint("pages", __name__)


PUBLIC_ENDPOINTS = {"pages.set_language"}


@bp.before_request
def _require_login():
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target))
    return None


# The views register themselves on `bp`; the layout helpers are Jinja filters and globals.
from . import (  # noqa: E402, F401 - the views register themselves on `bp`
    account,
    admin,
    dashboard,
    documents,
    inbox,
    instances,
    layout,
    messages,
    notifications,
    plans,
    pool,
    processes,
    records,
    requests,
    tasks,
    uploads,
)
