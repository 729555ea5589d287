"""The OpenAPI 3 document of the API, built from the routes themselves and the schemas.

Each handler carries an `@operation(...)` description (request schema, query schema, responses);
`GET /api/v1/openapi.json` walks the blueprint's URL rules, so an endpoint without a
description, or a description without an endpoint, cannot go unnoticed (tests check both).
"""

import inspect
import re
from http import HTTPStatus

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify

from .. import plan_schemas, record_schemas, schemas
from . import bp

ERROR_REF = "Error"
COMPONENTS = {
    ERROR_REF: schemas.ErrorSchema,
    "ValidationError": schemas.ValidationErrorSchema,
    "TokenRequest": schemas.TokenRequestSchema,
    "Token": schemas.TokenSchema,
    "DataRequest": schemas.DataRequestSchema,
    "Process": schemas.ProcessSchema,
    "ProcessDetail": schemas.ProcessDetailSchema,
    "Task": schemas.TaskSchema,
    "TaskDetail": schemas.TaskDetailSchema,
    "InstanceSummary": schemas.InstanceSummarySchema,
    "Instance": schemas.InstanceSchema,
    "InstancePage": schemas.InstancePageSchema,
    "WatchedInstance": schemas.WatchedInstanceSchema,
    "AdminInstancePage": schemas.AdminInstancePageSchema,
    "Event": schemas.EventSchema,
    "PoolEntry": plan_schemas.PoolEntrySchema,
    "ReviewOutcome": plan_schemas.ReviewOutcomeSchema,
    "PlanCreate": plan_schemas.PlanCreateSchema,
    "PlanItemRequest": plan_schemas.PlanItemRequestSchema,
    "PlanItem": plan_schemas.PlanItemSchema,
    "PlanSummary": plan_schemas.PlanSummarySchema,
    "Plan": plan_schemas.PlanSchema,
    "Deployment": schemas.DeploymentSchema,
    "Version": schemas.VersionSchema,
    "SourceFile": schemas.SourceFileSchema,
    "VersionDiff": schemas.VersionDiffSchema,
    "ReasonRequest": schemas.ReasonRequestSchema,
    "RequiredReason": schemas.RequiredReasonSchema,
    "RewindRequest": schemas.RewindRequestSchema,
    "SkipRequest": schemas.SkipRequestSchema,
    "DataEditRequest": schemas.DataEditRequestSchema,
    "ReplayRequest": schemas.ReplayRequestSchema,
    "MigrateRequest": schemas.MigrateRequestSchema,
    "MigrationsRequest": schemas.MigrationsRequestSchema,
    "ReplayReport": schemas.ReplayReportSchema,
    "VersionChange": schemas.VersionChangeSchema,
    "MigrationResult": schemas.MigrationResultSchema,
    "MigrationBatch": schemas.MigrationBatchSchema,
    "Document": record_schemas.DocumentSchema,
    "DocumentDetail": record_schemas.DocumentDetailSchema,
    "RiskRegister": record_schemas.RiskRegisterSchema,
    "Training": record_schemas.TrainingSchema,
    "CostItem": record_schemas.CostItemSchema,
    "CostRecorded": record_schemas.CostRecordedSchema,
    "CostRequest": record_schemas.CostRequestSchema,
    "CostSummary": record_schemas.CostSummarySchema,
    "Dashboard": record_schemas.DashboardSchema,
    "Upload": record_schemas.UploadSchema,
    "ReviewRequest": record_schemas.ReviewRequestSchema,
    "RiskRequest": record_schemas.RiskRequestSchema,
}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
# Request and response bodies that are not JSON, given as OpenAPI `content` objects directly.
FILES_BODY = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["files"],
            "properties": {
                "files": {
                    "type": "array",
                    "items": {"type": "string", "format": "binary"},
                    "description": "One or more .bpmn, .dmn and .form files (one part each).",
                }
            },
        }
    }
}
SOURCE_FILE = {"application/xml": _BINARY, "application/json": _BINARY}
PDF = {"application/pdf": _BINARY}
_NAMES = {cls: name for name, cls in COMPONENTS.items()}


def operation(summary, *, responses, body=None, query=None, public=False, description=None):
    """Describe a handler for the OpenAPI document.

    `responses` maps a status code to a schema class, `[schema class]` for a JSON array, or None
    for an error (the error schema is filled in). `public` handlers need no bearer token.
    """

    def mark(view):
        view.openapi = {
            "summary": summary,
            "description": description or inspect.cleandoc(view.__doc__ or "") or None,
            "responses": responses,
            "body": body,
            "query": query,
            "public": public,
        }
        return view

    return mark


def _content(shape):
    if isinstance(shape, dict):  # already an OpenAPI content object (files, multipart)
        return shape
    many = isinstance(shape, list)
    schema_class = shape[0] if many else shape
    ref = {"$ref": f"#/components/schemas/{_NAMES[schema_class]}"}
    schema = {"type": "array", "items": ref} if many else ref
    return {"application/json": {"schema": schema}}


def _response(status, shape):
    response = {"description": HTTPStatus(status).phrase}
    if shape is None and status >= 400:
        shape = schemas.ValidationErrorSchema if status == 422 else schemas.ErrorSchema
    if shape is not None:
        response["content"] = _content(shape)
    return response


def _path_and_parameters(rule):
    parameters = []
    for converter, _, name in re.findall(r"<(?:(\w+)(\([^)]*\))?:)?(\w+)>", rule.rule):
        kind = "integer" if converter == "int" else "string"
        parameters.append({"in": "path", "name": name, "required": True, "schema": {"type": kind}})
    path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule)
    return path, parameters


def _operation(rule, view, prefix):
    doc = getattr(view, "openapi", None)
    if doc is None:
        raise RuntimeError(f"{rule.endpoint} has no @operation description for the OpenAPI document")
    path, parameters = _path_and_parameters(rule)
    if doc["query"] is not None:
        parameters.append({"in": "query", "schema": doc["query"]})
    responses = dict(doc["responses"])
    if not doc["public"]:
        responses.setdefault(401, None)
    if doc["body"] is not None or doc["query"] is not None:
        responses.setdefault(400, None)
    result = {
        "operationId": rule.endpoint.removeprefix("api."),
        "summary": doc["summary"],
        "tags": [path.removeprefix(prefix).strip("/").split("/")[0]],
        "parameters": parameters,
        "responses": {str(code): _response(code, shape) for code, shape in sorted(responses.items())},
    }
    if doc["description"]:
        result["description"] = doc["description"]
    if doc["body"] is not None:
        result["requestBody"] = {"required": True, "content": _content(doc["body"])}
    result["security"] = [] if doc["public"] else [{"bearerAuth": []}]
    return path, result


def build_spec(app, prefix="/api/v1") -> dict:
    """The OpenAPI 3 document of every route of the `api` blueprint."""
    spec = APISpec(
        title="Upgradeflow API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "The software upgrade regulation's procedure as a service (issue 3)."},
        servers=[{"url": prefix}],
    )
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for name, schema_class in COMPONENTS.items():
        spec.components.schema(name, schema=schema_class)
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api.") or not rule.rule.startswith(prefix):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path, op = _operation(rule, view, prefix)
            paths.setdefault(path.removeprefix(prefix), {})[method.lower()] = op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
@operation("This document (OpenAPI 3)", responses={200: None}, public=True)
def openapi_document():
    """The OpenAPI 3 document of this API."""
    return jsonify(build_spec(current_app))
