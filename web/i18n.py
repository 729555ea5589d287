"""Language: the user's remembered choice, else the session's, else Chinese (the regulation's)."""

from flask import current_app, session
from flask_login import current_user


def select_locale():
    languages = current_app.config["LANGUAGES"]
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]
