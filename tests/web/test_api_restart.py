"""A restart loses nothing: a second app over the same database continues the instance."""

from apiclient import API, REQUEST, form_data

from web import create_app
from web.extensions import db


def test_a_new_app_over_the_same_database_continues_the_instance(app, database_url, people):
    business, it = people["business"], people["it"]
    iid = business.start()["id"]
    assert it.complete(iid, "preliminary_review", decision="accept").status_code == 200

    restarted = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "other"})
    client = restarted.test_client()
    headers = {"Authorization": f"Bearer {it.token}"}  # tokens live in the database too
    instance = client.get(f"{API}/instances/{iid}", headers=headers).get_json()
    assert [t["name"] for t in instance["tasks"]] == ["requirement_analysis"]
    assert instance["data"]["requirement_request"] == REQUEST
    task = instance["tasks"][0]
    opened = client.get(f"{API}/tasks/{task['id']}", headers=headers).get_json()
    assert opened["schema"]["id"] == "requirement_analysis"

    response = client.post(
        f"{API}/tasks/{task['id']}/complete", headers=headers, json={"data": form_data(task, opened["data"])}
    )
    assert response.status_code == 200, response.get_json()
    assert [t["name"] for t in response.get_json()["tasks"]] == ["risk_identification"]
    events = client.get(f"{API}/instances/{iid}/events", headers=headers).get_json()
    assert [e["task"] for e in events if e["type"] == "task_completed"] == [
        "preliminary_review",
        "requirement_analysis",
    ]
    with restarted.app_context():
        db.engine.dispose()
