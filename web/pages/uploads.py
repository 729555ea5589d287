"""Uploading a file to the task that asks for it, and downloading it (R4.1, R4.3.4)."""

import io

from flask import flash, redirect, request, send_file, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user

import engine

from ..extensions import db
from ..extensions import engine_clock as clock
from ..uploads import max_bytes, upload_dir
from . import bp
from .refusals import refused

NOT_UPLOADED = lazy_gettext("文件未上傳")
UPLOAD_FIELDS = {"kind": lazy_gettext("文件類別"), "file": lazy_gettext("文件")}


@bp.app_context_processor
def _upload_helpers():
    def task_uploads(task):
        return engine.kinds_for(task.name), engine.ready_task_uploads(db.session, task.id)

    return {"task_uploads": task_uploads}


@bp.post("/tasks/<task_id>/uploads")
def upload(task_id):
    """Attach the posted file; a refused file is named in a message and nothing is stored."""
    sent = request.files.get("file")
    content = sent.read() if sent else b""
    try:
        engine.store_upload(
            db.session,
            task_id,
            request.form.get("kind", ""),
            sent.filename if sent else "",
            content,
            current_user.actor,
            upload_dir(),
            clock=clock(),
            max_bytes=max_bytes(),
        )
    except engine.FormValidationError as error:
        db.session.rollback()
        flash(refused(NOT_UPLOADED, error.errors, UPLOAD_FIELDS), "error")
        return redirect(url_for("pages.task", task_id=task_id) + "#uploads"), 303
    db.session.commit()
    flash(gettext("文件已上傳。"), "success")
    return redirect(url_for("pages.task", task_id=task_id) + "#uploads"), 303


@bp.get("/uploads/<int:upload_id>")
def upload_content(upload_id):
    """The file as uploaded (403 when the reader's groups may not read its category)."""
    info, path = engine.open_upload(db.session, upload_id, current_user.actor, upload_dir())
    # Read whole (uploads are small, at most UPLOAD_MAX_BYTES): no file handle outlives the request.
    content = io.BytesIO(path.read_bytes())
    return send_file(content, mimetype=info.media_type, as_attachment=True, download_name=info.filename)
