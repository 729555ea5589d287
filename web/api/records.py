"""The regulation's records of a project: documents (R4), risks (R5), training (R6), costs
(R2.3.2), and the dashboard."""

import io

from flask import Response, g, request, send_file

import engine

from .. import record_schemas as rs
from .. import schemas
from ..auth import token_required
from ..extensions import db
from ..extensions import engine_clock as clock
from ..pages.dashboard import dashboard_csv
from ..pages.documents import document_pdf
from ..pages.records import cost_threshold
from ..transactions import committed
from ..uploads import max_bytes, upload_dir
from . import bp
from .http import dump, dump_instance, parse_body, parse_query
from .openapi import PDF, operation

BINARY = {"schema": {"type": "string", "format": "binary"}}


@bp.get("/instances/<int:instance_id>/documents")
@token_required
@operation("List a project's documents", responses={200: [rs.DocumentSchema], 404: None})
def list_documents(instance_id):
    """The latest version of each document the caller's groups may read (R4.3.4)."""
    return dump(rs.DocumentSchema(many=True), engine.list_documents(db.session, instance_id, g.user.actor))


def _document(instance_id, document_id):
    query = parse_query(rs.DocumentQuerySchema())
    return engine.get_document(db.session, instance_id, document_id, g.user.actor, query["version"])


@bp.get("/instances/<int:instance_id>/documents/<document_id>")
@token_required
@operation(
    "Get a document",
    query=rs.DocumentQuerySchema,
    responses={200: rs.DocumentDetailSchema, 403: None, 404: None},
)
def get_document(instance_id, document_id):
    """One version (`version`, default the latest) with its content, and every version."""
    doc, versions = _document(instance_id, document_id)
    return dump(rs.DocumentDetailSchema(), {"document": doc, "content": doc.content, "versions": versions})


@bp.get("/instances/<int:instance_id>/documents/<document_id>/pdf")
@token_required
@operation(
    "Download a document as PDF",
    query=rs.DocumentQuerySchema,
    responses={200: PDF, 403: None, 404: None},
)
def download_document(instance_id, document_id):
    """The document laid out for printing, as a PDF (its SHA-256 is printed in it)."""
    doc, versions = _document(instance_id, document_id)
    return Response(document_pdf(doc, versions), mimetype="application/pdf")


@bp.get("/instances/<int:instance_id>/risks")
@token_required
@operation("Get a project's risk register", responses={200: rs.RiskRegisterSchema, 403: None, 404: None})
def risks(instance_id):
    """Risks now, each rating as history, and the likelihood × impact matrix of open risks."""
    register = engine.risk_register(db.session, instance_id, clock=clock(), actor=g.user.actor)
    return dump(rs.RiskRegisterSchema(), register)


@bp.get("/instances/<int:instance_id>/training")
@token_required
@operation("Get a project's training record", responses={200: rs.TrainingSchema, 403: None, 404: None})
def training(instance_id):
    """The training plan, the sessions held and each assessment (R6)."""
    return dump(rs.TrainingSchema(), engine.training_record(db.session, instance_id, actor=g.user.actor))


@bp.get("/instances/<int:instance_id>/costs")
@token_required
@operation("Get a project's costs", responses={200: rs.CostSummarySchema, 403: None, 404: None})
def costs(instance_id):
    """Estimated, budgeted, approved, contracted and actual costs, and whether spending reached
    the budget × (1 + `COST_OVERRUN_THRESHOLD`)."""
    summary = engine.project_costs(db.session, instance_id, threshold=cost_threshold(), actor=g.user.actor)
    return dump(rs.CostSummarySchema(), summary)


@bp.post("/instances/<int:instance_id>/costs")
@token_required
@operation(
    "Record an actual cost",
    body=rs.CostRequestSchema,
    responses={201: rs.CostRecordedSchema, 403: None, 404: None, 422: None},
)
def record_cost(instance_id):
    """Finance records money spent on the project (R2.3.2); others get 403. A cost that takes a
    running instance's spending to a new overrun level (at the budget × (1 + threshold), then
    each further threshold) raises the task `cost_overrun_review` for finance in the same
    transaction; `overrun_review` says what was done and `overrun_note` why."""
    body = parse_body(rs.CostRequestSchema())
    recorded = committed(
        lambda: engine.record_cost(
            db.session, instance_id, actor=g.user.actor, clock=clock(), threshold=cost_threshold(), **body
        )
    )
    return dump(rs.CostRecordedSchema(), recorded, 201)


@bp.get("/dashboard")
@token_required
@operation(
    "Get the dashboard",
    query=rs.DashboardQuerySchema,
    responses={200: rs.DashboardSchema, 403: None},
)
def dashboard():
    """Projects by phase, average time per phase, overdue tasks by group, open high risks,
    projects over budget and documents awaiting review. IT and management only. `format=csv`
    answers every figure as a row of a CSV file (section, key, name, value, unit, count, budget)."""
    export = parse_query(rs.DashboardQuerySchema())["format"] == "csv"
    board = engine.dashboard(db.session, g.user.actor, clock=clock(), threshold=cost_threshold())
    return dashboard_csv(board) if export else dump(rs.DashboardSchema(), board)


UPLOAD_BODY = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["kind", "file"],
            "properties": {
                "kind": {"type": "string", "enum": [k.id for k in engine.UPLOAD_KINDS]},
                "file": {"type": "string", "format": "binary", "description": "PDF, DOCX, XLSX, PNG or JPG"},
            },
        }
    }
}


@bp.post("/tasks/<task_id>/uploads")
@token_required
@operation(
    "Attach a file to a task",
    body=UPLOAD_BODY,
    responses={201: rs.UploadSchema, 403: None, 404: None, 409: None, 422: None},
)
def upload(task_id):
    """Attach a file the task's step asks for (e.g. `contract_scan` at `sign_contract`); type,
    content and size are checked, and nothing is stored when the file is refused (422)."""
    sent = request.files.get("file")
    info = engine.store_upload(
        db.session,
        task_id,
        request.form.get("kind", ""),
        sent.filename if sent else "",
        sent.read() if sent else b"",
        g.user.actor,
        upload_dir(),
        clock=clock(),
        max_bytes=max_bytes(),
    )
    db.session.commit()
    return dump(rs.UploadSchema(), info, 201)


@bp.get("/instances/<int:instance_id>/uploads")
@token_required
@operation("List a project's uploaded files", responses={200: [rs.UploadSchema]})
def list_uploads(instance_id):
    """The uploads the caller's groups may read (R4.3.4)."""
    return dump(rs.UploadSchema(many=True), engine.list_uploads(db.session, instance_id, g.user.actor))


@bp.get("/uploads/<int:upload_id>")
@token_required
@operation(
    "Download an uploaded file", responses={200: {"application/octet-stream": BINARY}, 403: None, 404: None}
)
def upload_content(upload_id):
    """The file as uploaded."""
    info, path = engine.open_upload(db.session, upload_id, g.user.actor, upload_dir())
    # Read whole (uploads are small, at most UPLOAD_MAX_BYTES): no file handle outlives the request.
    content = io.BytesIO(path.read_bytes())
    return send_file(content, mimetype=info.media_type, as_attachment=True, download_name=info.filename)


@bp.post("/instances/<int:instance_id>/documents/<document_id>/reviews")
@token_required
@operation(
    "Submit a document for review",
    body=rs.ReviewRequestSchema,
    responses={201: schemas.InstanceSchema, 403: None, 404: None, 409: None},
)
def submit_for_review(instance_id, document_id):
    """Start a `document_review` instance for the document's latest version (R4.3.1): IT
    reviews it, the author revises, and the version is archived, which makes it final."""
    body = parse_body(rs.ReviewRequestSchema())
    review = engine.submit_for_review(
        db.session, instance_id, document_id, g.user.actor, note=body["note"], clock=clock()
    )
    db.session.commit()
    return dump_instance(review, 201)


@bp.post("/instances/<int:instance_id>/risks")
@token_required
@operation(
    "Raise a risk",
    body=rs.RiskRequestSchema,
    responses={201: rs.RiskRegisterSchema, 403: None, 404: None, 409: None, 422: None},
)
def raise_risk(instance_id):
    """Raise a new risk while the project runs (R5.4.3), rated by its risk matrix; a high risk
    needs `measures` (R5.3.1). Returns the register."""
    body = parse_body(rs.RiskRequestSchema())
    register = engine.raise_risk(db.session, instance_id, body, g.user.actor, clock=clock())
    db.session.commit()
    return dump(rs.RiskRegisterSchema(), register, 201)
