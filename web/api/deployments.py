"""Deployments (process owners): upload a bundle, list versions, download sources, compare versions.

Issue 4 is the contract: `POST /deployments` answers 201 `{"processes": [{"id", "version"}]}`, or
400 with every problem and nothing stored; only administrators and process owners may call these.
"""

from flask import abort, g, request, url_for

import engine

from .. import schemas
from ..auth import owner_token_required
from ..bundles import content_type, source_response, uploaded_bundle
from ..extensions import db
from . import bp
from .http import dump, parse_query
from .openapi import FILES_BODY, SOURCE_FILE, operation


@bp.post("/deployments")
@owner_token_required
@operation(
    "Deploy a bundle of diagrams, decisions and forms",
    body=FILES_BODY,
    responses={201: schemas.DeploymentSchema, 403: None},
)
def create_deployment():
    """Check every file, then store a new version of each process whose content changed (an
    unchanged process keeps its version). A refused bundle is a 400 whose `problems` name the
    file, line and element of every problem; then nothing is stored."""
    bundle = uploaded_bundle(request.files)
    deployed = engine.deploy_bundle(db.session, bundle, g.user.actor)
    db.session.commit()
    return dump(schemas.shared(schemas.DeploymentSchema), {"processes": deployed}, 201)


@bp.get("/processes/<process_id>/versions")
@owner_token_required
@operation("List a process's versions", responses={200: [schemas.VersionSchema], 403: None, 404: None})
def list_versions(process_id):
    """Every version, newest first: who deployed it when, and how many instances run on it."""
    return dump(
        schemas.shared(schemas.VersionSchema, many=True), engine.list_versions(db.session, process_id)
    )


@bp.get("/processes/<process_id>/versions/<int:version>/sources")
@owner_token_required
@operation(
    "List the files deployed with a version",
    responses={200: [schemas.SourceFileSchema], 403: None, 404: None},
)
def list_sources(process_id, version):
    """The files of the bundle the version was deployed from, with their download URLs."""
    sources = engine.process_sources(db.session, process_id, version)
    files = [
        {
            "filename": name,
            "size": len(text.encode("utf-8")),
            "content_type": content_type(name),
            "url": url_for(".get_source", process_id=process_id, version=version, filename=name),
        }
        for name, text in sorted(sources.items())
    ]
    return dump(schemas.shared(schemas.SourceFileSchema, many=True), files)


@bp.get("/processes/<process_id>/versions/<int:version>/sources/<filename>")
@owner_token_required
@operation("Download a deployed file", responses={200: SOURCE_FILE, 403: None, 404: None})
def get_source(process_id, version, filename):
    """The file exactly as deployed, byte for byte (open it in Camunda Modeler)."""
    response = source_response(
        engine.process_sources(db.session, process_id, version), filename, download=True
    )
    if response is None:
        abort(404, description=f"no file {filename!r} in {process_id} version {version}")
    return response


@bp.get("/processes/<process_id>/diff")
@owner_token_required
@operation(
    "Compare two versions",
    query=schemas.DiffQuerySchema,
    responses={200: schemas.VersionDiffSchema, 403: None, 404: None},
)
def diff_versions(process_id):
    """Elements added, removed and changed per diagram, and forms added, removed and changed,
    from version `from` to version `to`."""
    query = parse_query(schemas.shared(schemas.DiffQuerySchema))
    diff = engine.diff_versions(db.session, process_id, query["old"], query["new"])
    return dump(schemas.shared(schemas.VersionDiffSchema), diff)
