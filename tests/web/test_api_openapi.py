"""The OpenAPI 3 document lists every endpoint with its schemas and status codes, and is valid."""

import re

import pytest
from apiclient import API, OPERATIONS, PUBLIC
from openapi_spec_validator import validate

# Status codes issue 3 promises per operation (beyond 401 for a missing token and 400 for a
# malformed body, which the document adds wherever they apply).
PROMISED = {
    ("POST", "/auth/token"): {200, 401},
    ("POST", "/processes/{process_id}/instances"): {201, 404, 422},
    ("GET", "/instances/{instance_id}"): {200, 404},
    ("POST", "/instances/{instance_id}/messages/{message_name}"): {202, 403, 409},
    ("GET", "/tasks/{task_id}"): {200, 403, 404},
    ("POST", "/tasks/{task_id}/complete"): {200, 403, 404, 409, 422},
    ("POST", "/tasks/{task_id}/claim"): {200, 403, 404, 409},
    ("POST", "/deployments"): {201, 400, 403},
    ("GET", "/processes/{process_id}/versions/{version}/sources/{filename}"): {200, 403, 404},
    ("GET", "/processes/{process_id}/diff"): {200, 400, 403, 404},
    ("POST", "/instances/{instance_id}/replay"): {200, 403},
    ("POST", "/instances/{instance_id}/migrate"): {200, 403, 409},
    ("POST", "/migrations"): {200, 403},
    ("POST", "/instances/{instance_id}/undo"): {200, 403, 409},
    ("GET", "/pool"): {200, 400, 403},
    ("GET", "/plans"): {200, 403},
    ("POST", "/plans"): {201, 400, 403, 409},
    ("POST", "/plans/{plan_id}/items"): {200, 400, 403, 404, 409},
    ("POST", "/plans/{plan_id}/publish"): {200, 403, 404, 409},
}


@pytest.fixture
def document(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def operations(document):
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def resolve(document, ref):
    assert ref.startswith("#/components/schemas/"), ref
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_the_document_is_valid_openapi_3(document):
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": API}]
    validate(document)


def test_the_document_lists_every_route_of_the_api_and_nothing_else(app, document):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).removeprefix(API)
            routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert set(operations(document)) == routes == OPERATIONS


def test_every_operation_has_its_status_codes_and_security(document):
    for key, operation in operations(document).items():
        codes = {int(code) for code in operation["responses"]}
        assert PROMISED.get(key, set()) <= codes, key
        assert key in PUBLIC or 401 in codes, key
        assert operation["security"] == ([] if key in PUBLIC else [{"bearerAuth": []}]), key
        takes_input = "requestBody" in operation or any(p["in"] == "query" for p in operation["parameters"])
        assert takes_input == (400 in codes), key
        for code, response in operation["responses"].items():
            if int(code) >= 400:
                schema = response["content"]["application/json"]["schema"]
                expected = "ValidationError" if code == "422" else "Error"
                assert schema == {"$ref": f"#/components/schemas/{expected}"}, (key, code)


def test_request_and_response_schemas_are_the_contracts_fields(document):
    ops = operations(document)

    def body_of(key):
        ref = ops[key]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return resolve(document, ref)

    def answer_of(key, code):
        schema = ops[key]["responses"][str(code)]["content"]["application/json"]["schema"]
        return resolve(document, schema["items"]["$ref"] if schema.get("type") == "array" else schema["$ref"])

    assert set(body_of(("POST", "/auth/token"))["required"]) == {"username", "password"}
    assert body_of(("POST", "/tasks/{task_id}/complete"))["required"] == ["data"]
    assert set(answer_of(("POST", "/auth/token"), 200)["properties"]) == {"token"}
    instance = set(answer_of(("GET", "/instances/{instance_id}"), 200)["properties"])
    assert {
        "id",
        "process_id",
        "version",
        "status",
        "initiator",
        "data",
        "tasks",
        "created_at",
        "ended_at",
    } <= instance
    assert answer_of(("POST", "/processes/{process_id}/instances"), 201) == answer_of(
        ("GET", "/instances/{instance_id}"), 200
    )
    page = answer_of(("GET", "/instances"), 200)
    assert set(page["required"]) == {"items", "total", "page", "per_page"}
    event = set(answer_of(("GET", "/instances/{instance_id}/events"), 200)["properties"])
    assert {"seq", "type", "task", "actor", "at", "data"} <= event
    task = set(answer_of(("GET", "/tasks"), 200)["properties"])
    assert {"id", "instance_id", "name", "title", "group", "assignee", "form", "created_at", "due_at"} <= task
    assert {"schema", "data"} <= set(answer_of(("GET", "/tasks/{task_id}"), 200)["properties"]) - task
    assert "start_form" in answer_of(("GET", "/processes/{process_id}"), 200)["properties"]
    status = resolve(document, "#/components/schemas/Instance")["properties"]["status"]
    assert status["enum"] == ["running", "completed", "error", "suspended", "terminated"]
    for key, names in {
        ("GET", "/instances"): {"status", "process_id", "page", "per_page"},
        ("GET", "/tasks"): {"instance_id", "assigned"},
    }.items():
        assert {p["name"] for p in ops[key]["parameters"] if p["in"] == "query"} == names


def test_the_deployment_endpoints_are_described_as_issue_4_has_them(document):
    ops = operations(document)
    deploy = ops[("POST", "/deployments")]
    assert list(deploy["requestBody"]["content"]) == ["multipart/form-data"]
    answer = resolve(document, deploy["responses"]["201"]["content"]["application/json"]["schema"]["$ref"])
    assert answer["required"] == ["processes"]
    item = answer["properties"]["processes"]["items"]
    assert set(resolve(document, item["$ref"])["properties"]) == {"id", "version"}
    assert "problems" in resolve(document, "#/components/schemas/Error")["properties"]
    download = ops[("GET", "/processes/{process_id}/versions/{version}/sources/{filename}")]
    assert set(download["responses"]["200"]["content"]) == {"application/xml", "application/json"}
    assert {
        p["name"] for p in ops[("GET", "/processes/{process_id}/diff")]["parameters"] if p["in"] == "query"
    } == {
        "from",
        "to",
    }
