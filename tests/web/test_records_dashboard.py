"""The dashboard (issue 6): projects by phase, average time per phase, overdue tasks by group,
open high risks, budget vs actual; each figure links to the list behind it, which shows exactly
the rows it counts; the figures as CSV; IT, management and admins only."""

import csv
import html
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from apiclient import HAPPY_PATH
from bundles import NOTE_FORM, bpmn, user_task
from conftest_pages import Browser

import engine
from web.extensions import db


# One-step processes whose task is due a day after it is ready, for `it` and for `qa` (the
# regulation's diagrams set no due dates).
def due_bpmn(group):
    return bpmn(user_task("Timed check", group, "check", 'camunda:dueDate="P1D"'), process_id=f"due_{group}")


FIGURE = re.compile(r'data-figure="([^"]+)" href="([^"]+)">([^<]+)<')
INSTANCE_ROW = re.compile(r'<td data-label="編號">#(\d+)</td>')


def figures(page: str) -> dict:
    """data-figure -> (href, the figure shown)."""
    return {name: (html.unescape(href), text.strip()) for name, href, text in FIGURE.findall(page)}


def through(drive, instance_id, until, hours):
    """Complete the happy path's steps `hours` apart until `until` is ready; returns the time."""
    spent = timedelta()
    while until not in [t.name for t in drive.ready(instance_id)]:
        ready = [t.name for t in drive.ready(instance_id)]
        drive.clock.advance(hours=hours)
        spent += timedelta(hours=hours)
        drive.complete(instance_id, next(s for s in HAPPY_PATH if s in ready))
    return spent


def test_average_time_per_phase_counts_each_phase_a_project_has_left(app, drive, clock, make_user, people):
    applicant = make_user("applicant", "business")
    # A: returned once, revised, accepted: the request phase runs to the last review, 2 days.
    a = drive.start(applicant)
    clock.advance(days=1)
    drive.complete(a, "preliminary_review", decision="return", comment="請補充範圍。")
    clock.advance(hours=12)
    drive.complete(a, "revise_request")
    clock.advance(hours=12)
    drive.complete(a, "preliminary_review")
    # Four analysis steps 6 hours apart: 24 hours, and A now waits in initiation.
    assert through(drive, a, "initiation_application", hours=6) == timedelta(hours=24)
    # B: accepted after 4 days; one analysis step done, still analysing: analysis not counted.
    b = drive.start(applicant)
    clock.advance(days=4)
    drive.complete(b, "preliminary_review")
    clock.advance(days=3)
    drive.complete(b, "requirement_analysis")
    # C: rejected after 6 days: it ended, so its request phase counts.
    c = drive.start(applicant)
    clock.advance(days=6)
    drive.complete(c, "preliminary_review", decision="reject", comment="不符合信息化規劃。")
    # D: still waiting for its first review after 30 days: not counted.
    drive.start(applicant)
    # E: reviewed once (returned) after 20 days, then terminated while revising: not counted.
    e = drive.start(applicant)
    clock.advance(days=20)
    drive.complete(e, "preliminary_review", decision="return", comment="請補充範圍。")
    with app.app_context():
        engine.terminate_instance(
            db.session, e, engine.Actor("root", frozenset(), is_admin=True), "撤回", clock
        )
        db.session.commit()
    clock.advance(days=30)

    body = people["management"].get("/dashboard").get_json()
    times = {t["phase"]: t for t in body["phase_times"]}
    assert [t["phase"] for t in body["phase_times"]] == list(engine.PHASE_NAMES)
    assert times["request"] == {"phase": "request", "count": 3, "average_seconds": 4 * 86400}  # (2+4+6)/3
    assert times["analysis"] == {"phase": "analysis", "count": 1, "average_seconds": 86400}
    assert all(times[p]["count"] == 0 and times[p]["average_seconds"] is None for p in engine.PHASE_NAMES[2:])
    assert body["phases"] == {
        "request": 1,
        "analysis": 1,
        "initiation": 1,
        "implementation": 0,
        "testing": 0,
        "training": 0,
        "operation": 0,
    }

    page = Browser(app, people["it"].user.username).get("/dashboard").text
    assert '<td class="num" data-average="request">4.0 天</td>' in page
    assert '<td class="num" data-average="analysis">1.0 天</td>' in page
    assert '<td class="num" data-average="initiation">—</td>' in page
    assert "只計已完成的階段" in page  # the page says what it counts


def world(app, drive, clock, make_user, people) -> dict:
    """Projects in several phases, overdue tasks of two groups, open high risks, one project over
    budget, and what is not counted: a task not yet due, other processes' instances."""
    applicant = make_user("applicant", "business")
    with app.app_context():
        for group in ("it", "qa"):
            files = {f"due_{group}.bpmn": due_bpmn(group), "check.form": NOTE_FORM}
            engine.deploy(db.session, files, deployed_by="tests")
        actor = engine.Actor("ivan", frozenset({"it", "qa"}))
        late = [
            engine.start_instance(db.session, f"due_{g}", {}, actor, clock=clock).id
            for g in ("it", "it", "qa")
        ]
        db.session.commit()
    clock.advance(hours=25)
    with app.app_context():
        engine.start_instance(db.session, "due_it", {}, actor, clock=clock)  # due tomorrow
        db.session.commit()
    requested = [drive.start(applicant), drive.start(applicant)]
    analysing = drive.start(applicant)  # waits at risk_response with one open high risk
    drive.walk(analysing, "risk_response")
    spending = drive.start(applicant)  # approved 180,000; spends 200,000 at sign_contract
    drive.walk(spending, "sign_contract")
    recorded = people["finance"].post(
        f"/instances/{spending}/costs",
        {"category": "implementation", "amount": "200000", "spent_on": "2026-03-01"},
    )
    assert recorded.status_code == 201, recorded.get_json()
    return {"late": late, "requested": requested, "analysing": analysing, "spending": spending}


def test_every_figure_links_to_a_list_of_exactly_the_rows_it_counts(app, drive, clock, make_user, people):
    made = world(app, drive, clock, make_user, people)
    viewer = Browser(app, people["management"].user.username)
    page = viewer.get("/dashboard")
    assert page.status_code == 200
    shown = figures(page.text)

    # Projects by phase -> the instance list filtered to running projects in that phase.
    expected = {"request": set(made["requested"]), "analysis": {made["analysing"]}}
    expected["implementation"] = {made["spending"]}
    for phase in engine.PHASE_NAMES:
        href, count = shown[f"phase-{phase}"]
        listed = viewer.get(href)
        assert listed.status_code == 200
        ids = {int(i) for i in INSTANCE_ROW.findall(listed.text)}
        assert ids == expected.get(phase, set()), phase
        assert int(count) == len(ids)
    assert "phase-none" not in shown  # the due_* instances are no projects

    # Overdue tasks by group -> those tasks; the one due tomorrow is in neither.
    assert {k: v[1] for k, v in shown.items() if k.startswith("overdue-")} == {
        "overdue-it": "2",
        "overdue-qa": "1",
    }
    for group, instances in (("it", made["late"][:2]), ("qa", made["late"][2:])):
        href, count = shown[f"overdue-{group}"]
        listed = viewer.get(href).text
        rows = re.findall(r'<tr data-task="[^"]+">.*?href="/instances/(\d+)"', listed, re.S)
        assert sorted(int(i) for i in rows) == sorted(instances)
        assert int(count) == len(rows)
    every = viewer.get("/dashboard/overdue").text  # no group: every group's overdue tasks
    rows = re.findall(r'<tr data-task="[^"]+">.*?href="/instances/(\d+)"', every, re.S)
    assert sorted(int(i) for i in rows) == sorted(made["late"])

    # Open high risks -> the risk list, in all and per project (the default rating is high).
    href, total = shown["risks"]
    listed = viewer.get(href).text
    assert sorted(int(i) for i in re.findall(r'<tr data-risk="(\d+)">', listed)) == sorted(
        [made["analysing"], made["spending"]]
    )
    assert int(total) == 2
    for instance_id in (made["analysing"], made["spending"]):
        href, count = shown[f"risks-{instance_id}"]
        rows = re.findall(r'<tr data-risk="(\d+)">', viewer.get(href).text)
        assert rows == [str(instance_id)] and int(count) == 1

    # Budget vs actual -> the project's cost page, which shows the same amounts.
    href, _ = shown[f"costs-{made['spending']}"]
    assert href == f"/instances/{made['spending']}/records#costs"
    costs = viewer.get(href.split("#")[0]).text
    assert "200,000.00" in costs and 'id="over-budget"' in costs
    assert [k for k in shown if k.startswith("costs-")] == [f"costs-{made['spending']}"]


def test_the_csv_export_has_every_figure_as_a_row(app, drive, clock, make_user, people):
    made = world(app, drive, clock, make_user, people)
    viewer = Browser(app, people["it"].user.username)
    assert 'href="/dashboard.csv"' in viewer.get("/dashboard").text
    response = viewer.get("/dashboard.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=dashboard.csv"
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert list(rows[0]) == ["section", "key", "name", "value", "unit", "count", "budget"]

    def section(name):
        return {r["key"]: r for r in rows if r["section"] == name}

    phases = section("projects_by_phase")
    assert {k: int(r["value"]) for k, r in phases.items()} == {
        "request": 2,
        "analysis": 1,
        "initiation": 0,
        "implementation": 1,
        "testing": 0,
        "training": 0,
        "operation": 0,
    }
    assert phases["implementation"]["name"] == "項目實施"  # Chinese, read back through the BOM
    times = section("average_time_per_phase")
    assert list(times) == list(engine.PHASE_NAMES)
    # Two projects left the request phase the moment they were started (clock standing still).
    assert times["request"]["value"] == "0.00" and times["request"]["count"] == "2"
    assert times["testing"]["value"] == "" and times["testing"]["count"] == "0"
    overdue = section("overdue_tasks")
    assert {k: r["value"] for k, r in overdue.items()} == {"it": "2", "qa": "1"}
    assert overdue["qa"]["name"] == next(g.name_zh for g in engine.GROUPS if g.id == "qa")
    risks = section("open_high_risks")
    assert {k: r["value"] for k, r in risks.items()} == {
        "total": "2",
        str(made["analysing"]): "1",
        str(made["spending"]): "1",
    }
    budget = section("budget_vs_actual")
    assert list(budget) == [str(made["spending"])]
    assert Decimal(budget[str(made["spending"])]["value"]) == Decimal(200000)
    assert Decimal(budget[str(made["spending"])]["budget"]) == Decimal(180000)

    # The API gives the same file.
    api = people["it"].get("/dashboard", format="csv")
    assert api.status_code == 200 and api.data == response.data
    assert people["it"].get("/dashboard", format="xml").status_code == 400


@pytest.mark.parametrize("group", ["business", "finance"])
def test_the_dashboard_its_lists_and_its_csv_are_for_it_management_and_admins(app, drive, people, group):
    drive.start(people["business"].user)
    outsider = Browser(app, people[group].user.username)
    for path in ("/dashboard", "/dashboard.csv", "/dashboard/overdue?group=it", "/dashboard/risks"):
        response = outsider.get(path)
        assert response.status_code == 403, path
        assert b"section,key" not in response.data
    assert people[group].get("/dashboard", format="csv").status_code == 403
    admin = Browser(app, people["admin"].user.username)
    assert admin.get("/dashboard.csv").status_code == 200
    assert admin.get("/dashboard/overdue?group=it").status_code == 200


def test_bad_filters_are_refused(app, people):
    viewer = Browser(app, people["it"].user.username)
    assert viewer.get("/instances?phase=somewhere").status_code == 400
    assert viewer.get("/dashboard/overdue?group=" + "x" * 41).status_code == 400
    assert viewer.get("/dashboard/risks?instance=x").status_code == 400
    assert viewer.get("/instances?phase=analysis").status_code == 200


def test_a_project_waiting_for_its_inspection_timer_is_still_in_operation(app, drive, make_user, people):
    """After go-live nothing is ready until the monthly inspection falls due: the project stays
    in operation (it does not drop out of the phases), and the phase's list shows it."""
    applicant = make_user("applicant", "business")
    live = drive.start(applicant)
    drive.walk(live, "golive")
    drive.complete(live, "golive", decision="success")
    assert drive.ready(live) == []
    analysing = drive.start(applicant)
    drive.walk(analysing, "requirement_analysis")

    body = people["management"].get("/dashboard").get_json()
    assert (body["phases"]["operation"], body["phases"]["analysis"]) == (1, 1)
    assert "none" not in body["phases"]
    viewer = Browser(app, people["it"].user.username)
    listed = viewer.get("/instances?status=running&process=software_upgrade&phase=operation").text
    assert [int(i) for i in INSTANCE_ROW.findall(listed)] == [live]
    pool = {row["instance_id"]: row for row in people["it"].get("/pool").get_json()}
    assert (pool[live]["phase"], pool[analysing]["phase"]) == ("operation", "analysis")

    drive.wait(days=31)  # the inspection is due: it waits at a step of operation again
    assert [t.name for t in drive.ready(live)] == ["inspection"]
    assert people["management"].get("/dashboard").get_json()["phases"]["operation"] == 1
