"""Who is acting: session login for pages (Flask-Login), bearer tokens for the API."""

from functools import wraps

from flask import Blueprint, abort, g, redirect, request
from flask_login import UserMixin, current_user

import engine

from .extensions import db, login_manager

bp = Blueprint("auth", __name__)


class SessionUser(UserMixin):
    """An engine User as Flask-Login wants it."""

    def __init__(self, user: engine.User):
        self.user = user
        self.id = str(user.id)
        self.username = user.username
        self.groups = user.groups
        self.is_admin = user.is_admin
        self.locale = user.locale

    @property
    def actor(self) -> engine.Actor:
        return self.user.actor


@login_manager.user_loader
def load_user(user_id):
    user = engine.get_user(db.session, int(user_id))
    return SessionUser(user) if user else None


def bearer_user():
    """The user of the request's bearer token, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return engine.user_for_token(db.session, token.strip())


def token_required(view):
    """API views: 401 without a valid token; the user is in `g.user`."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        user = bearer_user()
        if user is None:
            abort(401, description="a valid bearer token is required")
        g.user = user
        return view(*args, **kwargs)

    return wrapper


def admin_required(view):
    """Pages: 403 unless the logged-in user is an admin."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect("/login")
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper
