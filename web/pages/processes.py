"""Process owners' pages: processes and their versions, a version's diagram with the instances
waiting at each task, downloads, diffs, uploading a bundle, the diagram/form/decision editors,
and a viewer that opens any BPMN file without deploying it.

Only administrators and process owners see these (403 otherwise). Deploying from a page makes the
same engine call as `POST /api/v1/deployments`, so the same checks refuse the same bundles.
"""

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

import engine

from ..auth import process_owner_required
from ..bundles import source_response, uploaded_bundle
from ..extensions import db
from . import bp
from .refusals import FILTER, refused
from .sources import Sources

EDITORS = {".bpmn": "bpmn", ".dmn": "dmn", ".form": "form"}


class DiffQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    old = fields.Integer(required=True, data_key="from", validate=validate.Range(min=1))
    new = fields.Integer(required=True, data_key="to", validate=validate.Range(min=1))


def _problems(error: engine.DeploymentError) -> list[dict]:
    return [
        {"file": p.file, "line": p.line, "element": p.element, "message": p.message} for p in error.problems
    ]


@bp.get("/processes")
@process_owner_required
def processes():
    """Every process with its versions: who deployed which when, and the instances on each."""
    listed = [(p, engine.list_versions(db.session, p.id)) for p in engine.list_processes(db.session)]
    return render_template("pages/processes.html", processes=listed)


@bp.get("/processes/<process_id>/versions/<int:version>")
@process_owner_required
def process_version(process_id, version):
    """One version's diagram with how many instances wait at each task, and its files."""
    info = engine.get_process(db.session, process_id, version)
    sources = Sources(engine.process_sources(db.session, process_id, version))
    waiting = engine.waiting_counts(db.session, process_id, version)
    versions = engine.list_versions(db.session, process_id)
    filename = sources.process_files.get(process_id)
    diagram = None
    if filename:
        diagram = {
            "url": url_for("pages.process_file", process_id=process_id, version=version, filename=filename),
            "completed": [],
            "counts": {},
            "waiting": sorted(waiting),
            "error": None,
            "waiting_counts": waiting,
        }
    return render_template(
        "pages/process_version.html",
        process=info,
        version=next(v for v in versions if v.version == version),
        versions=versions,
        files=sorted(sources.files),
        editors=EDITORS,
        diagram=diagram,
        waiting=sorted(((sources.name(e), e, n) for e, n in waiting.items()), key=lambda row: -row[2]),
    )


@bp.get("/processes/<process_id>/versions/<int:version>/sources/<filename>")
@process_owner_required
def download_source(process_id, version, filename):
    """A deployed file as an attachment, byte for byte (for Camunda Modeler)."""
    response = source_response(
        engine.process_sources(db.session, process_id, version), filename, download=True
    )
    if response is None:
        abort(404, description=f"no file {filename!r} in {process_id} version {version}")
    return response


@bp.get("/processes/<process_id>/diff")
@process_owner_required
def process_diff(process_id):
    """Elements added, removed and changed per diagram between two versions, and the forms."""
    versions = engine.list_versions(db.session, process_id)
    newest = versions[0].version
    try:
        query = DiffQuerySchema().load(
            {"from": request.args.get("from", max(1, newest - 1)), "to": request.args.get("to", newest)}
        )
    except ValidationError as error:
        abort(400, description=refused(FILTER, error.messages))
    diff = engine.diff_versions(db.session, process_id, query["old"], query["new"])
    old_names = Sources(engine.process_sources(db.session, process_id, query["old"]))
    new_names = Sources(engine.process_sources(db.session, process_id, query["new"]))
    return render_template(
        "pages/process_diff.html",
        process_id=process_id,
        versions=versions,
        old=query["old"],
        new=query["new"],
        diff=diff,
        name_of=lambda element: (
            new_names.name(element) if element in new_names.elements else old_names.name(element)
        ),
    )


@bp.route("/processes/deploy", methods=["GET", "POST"])
@process_owner_required
def deploy_upload():
    """Upload a bundle (multipart, with the CSRF token); a refused bundle shows every problem."""
    problems = None
    if request.method == "POST":
        try:
            deployed = engine.deploy_bundle(db.session, uploaded_bundle(request.files), current_user.actor)
        except engine.DeploymentError as error:
            db.session.rollback()
            problems = _problems(error)
        else:
            db.session.commit()
            for item in deployed:
                if item.created:
                    flash(
                        gettext("%(id)s 已部署為第 %(version)s 版。", id=item.id, version=item.version),
                        "success",
                    )
                else:
                    flash(
                        gettext("%(id)s 沒有變更，仍為第 %(version)s 版。", id=item.id, version=item.version),
                        "info",
                    )
            return redirect(url_for("pages.processes"))
    return render_template("pages/process_upload.html", problems=problems), 400 if problems else 200


@bp.get("/processes/<process_id>/edit/<filename>")
@process_owner_required
def edit_source(process_id, filename):
    """The modeller (bpmn-js), the form editor (form-js) or the DMN editor (dmn-js) on a file of
    the latest version; saving deploys it with the version's other files."""
    info = engine.get_process(db.session, process_id)
    sources = engine.current_sources(db.session, process_id)
    kind = EDITORS.get("." + filename.rsplit(".", 1)[-1])
    if filename not in sources or kind is None:
        abort(404, description=f"no file {filename!r} in {process_id} version {info.version}")
    # The newest copy of the file, which another process's version may hold.
    owner, version, _ = sources[filename]
    return render_template(
        "pages/process_editor.html",
        process=info,
        filename=filename,
        kind=kind,
        config={
            "kind": kind,
            "filename": filename,
            "url": url_for("pages.process_file", process_id=owner, version=version, filename=filename),
            "deploy_url": url_for("pages.deploy_edited", process_id=process_id),
        },
    )


@bp.post("/processes/<process_id>/edit")
@process_owner_required
def deploy_edited(process_id):
    """Deploy edited files (multipart, CSRF header) together with the latest version's other
    files, each as most recently deployed (a diagram replaced since with another process is not
    brought back). Answers 201 {"processes": [...]} or 400 {"problems": [...]}, then nothing is
    stored."""
    edited = uploaded_bundle(request.files)
    latest = engine.current_sources(db.session, process_id)
    bundle = {**{name: text.encode("utf-8") for name, (_, _, text) in latest.items()}, **edited}
    try:
        deployed = engine.deploy_bundle(db.session, bundle, current_user.actor)
    except engine.DeploymentError as error:
        db.session.rollback()
        return jsonify(error="deployment_refused", message=str(error), problems=_problems(error)), 400
    db.session.commit()
    return jsonify(
        processes=[{"id": d.id, "version": d.version} for d in deployed],
        redirect=url_for("pages.processes"),
    ), 201


@bp.get("/processes/viewer")
@process_owner_required
def diagram_viewer():
    """Open any BPMN file in the viewer without deploying it (it never leaves the browser)."""
    return render_template("pages/process_viewer.html")
