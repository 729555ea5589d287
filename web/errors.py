"""One place that maps domain errors to HTTP status codes, for the API (JSON) and the pages."""

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException

import engine

STATUS = {
    engine.FormValidationError: (422, "validation_failed"),
    engine.NotAllowed: (403, "forbidden"),
    engine.TaskNotFound: (404, "task_not_found"),
    engine.InstanceNotFound: (404, "instance_not_found"),
    engine.ProcessNotFound: (404, "process_not_found"),
    engine.TaskClaimed: (409, "task_claimed"),
    engine.InstanceConflict: (409, "conflict"),
    engine.MessageRefused: (409, "message_refused"),
    engine.InstanceStateError: (409, "instance_state"),
    engine.DeploymentError: (400, "deployment_refused"),
    engine.UserError: (400, "invalid_user"),
}


def wants_json():
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(status, code, message, **extra):
    if wants_json():
        return jsonify({"error": code, "message": message, **extra}), status
    return render_template("error.html", status=status, code=code, message=message, **extra), status


def _engine_error(error):
    status, code = next(
        (value for cls, value in STATUS.items() if isinstance(error, cls)), (500, "engine_error")
    )
    extra = {}
    if isinstance(error, engine.FormValidationError):
        extra["errors"] = error.errors
    if isinstance(error, engine.DeploymentError):
        extra["problems"] = [
            {"file": p.file, "line": p.line, "element": p.element, "message": p.message}
            for p in error.problems
        ]
    return error_response(status, code, str(error), **extra)


def _http_error(error: HTTPException):
    return error_response(error.code, error.name.lower().replace(" ", "_"), error.description)


def register(app):
    app.register_error_handler(engine.EngineError, _engine_error)
    app.register_error_handler(HTTPException, _http_error)
