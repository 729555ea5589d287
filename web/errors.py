"""One place that maps domain errors to HTTP status codes, for the API (JSON) and the pages."""

from flask import current_app, g, jsonify, render_template, request
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

import engine

from .extensions import db

STATUS = {
    engine.FormValidationError: (422, "validation_failed"),
    engine.NotAllowed: (403, "forbidden"),
    engine.TaskNotFound: (404, "task_not_found"),
    engine.InstanceNotFound: (404, "instance_not_found"),
    engine.DocumentNotFound: (404, "document_not_found"),
    engine.UploadNotFound: (404, "upload_not_found"),
    engine.ProcessNotFound: (404, "process_not_found"),
    engine.TaskClaimed: (409, "task_claimed"),
    engine.InstanceConflict: (409, "conflict"),
    engine.MessageRefused: (409, "message_refused"),
    engine.NothingToUndo: (409, "nothing_to_undo"),
    engine.MigrationRefused: (409, "migration_refused"),
    engine.InstanceStateError: (409, "instance_state"),
    engine.DeploymentConflict: (409, "conflict"),
    engine.DeploymentError: (400, "deployment_refused"),
    engine.UserError: (400, "invalid_user"),
    engine.PlanNotFound: (404, "plan_not_found"),
    engine.PlanReadOnly: (409, "plan_published"),
    engine.PlanConflict: (409, "plan_conflict"),
    engine.PlanError: (400, "invalid_plan"),
    engine.StateNotStorable: (500, "state_not_storable"),  # the diagram's fault: say so
}


def wants_json():
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(status, code, message, **extra):
    if wants_json():
        return jsonify({"error": code, "message": message, **extra}), status
    return render_template("error.html", status=status, code=code, message=message, **extra), status


DEPLOYED_AT_ONCE = (
    "另一個部署剛同時建立了 {error.process_id} 的版本 {error.version}，您的部署沒有被保存，請再部署一次。 / "
    "Another deploy of {error.process_id} stored version {error.version} at the same moment; nothing "
    "of yours was saved. Deploy again."
)


def _engine_error(error):
    # Nothing of a refused request is kept, and the error page (its layout reads the inbox) may
    # use the session again: a step that lost a race leaves it needing a rollback.
    db.session.rollback()
    status, code = next(
        (value for cls, value in STATUS.items() if isinstance(error, cls)), (500, "engine_error")
    )
    extra = {}
    if isinstance(error, engine.FormValidationError):
        extra["errors"] = error.errors
    if isinstance(error, engine.DeploymentConflict):  # Chinese first, as the other 409s
        return error_response(status, code, DEPLOYED_AT_ONCE.format(error=error))
    if isinstance(error, engine.DeploymentError):
        extra["problems"] = [
            {"file": p.file, "line": p.line, "element": p.element, "message": p.message}
            for p in error.problems
        ]
    return error_response(status, code, str(error), **extra)


def _http_error(error: HTTPException):
    return error_response(error.code, error.name.lower().replace(" ", "_"), error.description)


UNAVAILABLE = (
    "資料庫暫時無法連線，您的操作沒有被保存，請稍後再試。 / "
    "The database is unavailable; nothing was saved. Please try again shortly."
)


def _database_unavailable(error: DBAPIError):
    """503 when the database cannot be reached (down, restarting, refused the connection). Work
    resumes by itself when it returns: the pool checks connections before use (web/database.py).

    The page is plain on purpose: the usual layout reads the user and the inbox from the database.
    """
    if not (isinstance(error, OperationalError) or error.connection_invalidated):
        raise error  # a bug (bad SQL, a constraint), not an outage: the usual 500
    current_app.logger.warning("database unavailable: %s", error.orig)
    if wants_json():
        response = jsonify({"error": "database_unavailable", "message": UNAVAILABLE})
    else:
        # Templates are given `current_user`, which for a logged-in session asks the database.
        g._login_user = current_app.login_manager.anonymous_user()
        response = current_app.response_class(
            render_template("unavailable.html", message=UNAVAILABLE), mimetype="text/html"
        )
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    return response


CONFLICT = (
    "同一筆資料剛被別人同時建立或更改，您的操作沒有被保存，請重新整理後再試。 / "
    "Someone created or changed the same thing at the same moment; nothing of yours was saved. "
    "Reload and try again."
)


def _unique_violation(error: IntegrityError) -> bool:
    code = getattr(error.orig, "sqlstate", None)  # psycopg
    return code == "23505" or (code is None and "UNIQUE constraint failed" in str(error.orig))


def _constraint_conflict(error: IntegrityError):
    """409 when two requests created the same thing at once (a plan for one year, a process
    version, a user name): both checked it was free, the database kept the first. Any other
    constraint failing is a bug: the usual 500."""
    if not _unique_violation(error):
        raise error
    db.session.rollback()
    current_app.logger.info("refused by a unique constraint: %s", error.orig)
    return error_response(409, "conflict", CONFLICT)


OUT_OF_RANGE = (
    "請求中的數字超出範圍，沒有被保存。 / A number in the request is out of range (ids and counts "
    "are at most 2147483647); nothing was saved."
)


NUL_TEXT = (
    "請求中的文字含有 NUL 字元（\\u0000），沒有被保存。 / A text in the request holds the NUL "
    "character (\\u0000), which cannot be stored; nothing was saved."
)


def _out_of_range(error):
    """400 for a number too large for its column (a page, an id in a query or a body): SQLite
    cannot bind it (OverflowError), PostgreSQL refuses it (numeric value out of range); and for a
    text holding NUL, which PostgreSQL's driver refuses (a form field, say). Any other data error
    is a bug: the usual 500."""
    if isinstance(error, DataError) and "NUL" in str(error.orig) and "0x00" in str(error.orig):
        db.session.rollback()
        return error_response(400, "invalid_text", NUL_TEXT)
    if isinstance(error, DataError) and getattr(error.orig, "sqlstate", None) != "22003":
        raise error
    db.session.rollback()
    return error_response(400, "out_of_range", OUT_OF_RANGE)


def register(app):
    app.register_error_handler(OverflowError, _out_of_range)
    app.register_error_handler(DataError, _out_of_range)
    app.register_error_handler(IntegrityError, _constraint_conflict)
    app.register_error_handler(DBAPIError, _database_unavailable)
    app.register_error_handler(engine.EngineError, _engine_error)
    app.register_error_handler(HTTPException, _http_error)
