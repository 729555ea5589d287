"""Who is acting: session login for pages (Flask-Login), bearer tokens for the API."""

from functools import wraps

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import UserMixin, current_user, login_user, logout_user

import engine

from .extensions import db, login_manager

bp = Blueprint("auth", __name__)


class SessionUser(UserMixin):
    """An engine User as Flask-Login wants it."""

    def __init__(self, user: engine.User):
        self.user = user
        self.id = f"{user.id}:{user.session_epoch}"  # what the session keeps (Flask-Login's get_id)
        self.username = user.username
        self.groups = user.groups
        self.is_admin = user.is_admin
        self.locale = user.locale

    @property
    def actor(self) -> engine.Actor:
        return self.user.actor


@login_manager.user_loader
def load_user(session_id):
    """The session's user, unless they logged out since it was signed (its epoch is older)."""
    user_id, _, epoch = str(session_id).partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    user = engine.get_user(db.session, int(user_id))
    return SessionUser(user) if user and user.session_epoch == int(epoch) else None


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


def owner_token_required(view):
    """API views: 401 without a valid token, 403 unless an admin or a process owner."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        user = bearer_user()
        if user is None:
            abort(401, description="a valid bearer token is required")
        if not engine.may_own_processes(user.actor):
            abort(403, description="only administrators and process owners may do this")
        g.user = user
        return view(*args, **kwargs)

    return wrapper


def process_owner_required(view):
    """Pages: 403 unless the logged-in user is an admin or a process owner."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect("/login")
        if not engine.may_own_processes(current_user.actor):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def bearer_token():
    """The request's bearer token text, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


# -- pages: log in and out ----------------------------------------------------------------------


def N_(text):
    """Marks text for extraction (pybabel -k N_); it is translated where it is shown."""
    return text


login_manager.login_view = "auth.login"
login_manager.login_message = N_("請先登入。")  # localize_callback translates it when flashed
login_manager.login_message_category = "info"
login_manager.localize_callback = gettext


def safe_next(target):
    """Only a path on this site: an absolute or scheme-relative URL would be an open redirect. No
    control characters or spaces either: a browser drops a tab (`/\t/evil.example` is
    `//evil.example`), and a line break would break the header."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in target):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form. A wrong name or password gets one message for both, so it does not tell
    which user names exist; the password is never echoed back."""
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("pages.inbox"))
    error = None
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        user = engine.authenticate(db.session, username, request.form.get("password") or "")
        if user is not None:
            locale = session.get("locale")
            session.clear()  # nothing from before the login survives but the language choice
            if locale:
                session["locale"] = locale
            login_user(SessionUser(user))
            if locale and not user.locale:
                engine.set_locale(db.session, user.id, locale)
                db.session.commit()
            return redirect(next_url or url_for("pages.inbox"))
        error = gettext("用戶名或密碼不正確。")
    return render_template("login.html", error=error, username=username, next_url=next_url)


@bp.post("/logout")
def logout():
    """Log out (a POST with the CSRF token, so another site cannot log a user out)."""
    locale = session.get("locale")
    if current_user.is_authenticated:
        engine.end_sessions(db.session, current_user.user.id)
        db.session.commit()
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    flash(gettext("已登出。"), "info")
    return redirect(url_for("auth.login"))
