"""Timers, fired by moving the instance's clock: risk monitoring (R5.4) and inspections (R3.6.3)."""


def fired(result):
    return [e.element_id for e in result.events if e.kind == "timer_fired"]


def test_risks_are_reassessed_every_fourteen_days_while_implementing(start):
    flow = start()
    flow.reach("sign_contract")
    assert fired(flow.advance(days=14)) == []  # not before implementation
    flow.reach("implement")

    assert fired(flow.advance(days=13)) == []
    assert flow.ready() == ["implement"]
    assert fired(flow.advance(days=1)) == ["risk_reassessment_timer"]
    assert flow.ready() == ["implement", "risk_reassessment"]

    # a reassessment nobody has done yet does not stop the next one
    assert fired(flow.advance(days=14)) == ["risk_reassessment_timer"]
    assert flow.ready() == ["implement", "risk_reassessment", "risk_reassessment"]
    for task in flow.tasks("risk_reassessment"):
        flow.complete_task(task)
    for task in flow.tasks("reassessment_response"):
        flow.complete_task(task)
    assert flow.ready() == ["implement"]
    assert flow.instance.completed_elements["risk_reassessed"] == 2

    assert fired(flow.advance(days=14)) == ["risk_reassessment_timer"]
    flow.complete("risk_reassessment")
    flow.complete("reassessment_response")

    flow.complete("implement")
    assert flow.ready() == ["self_test"]
    assert fired(flow.advance(days=14)) == []
    assert fired(flow.advance(days=60)) == []
    assert flow.ready() == ["self_test"]
    assert flow.instance.completed_elements["risk_reassessment_timer"] == 3


def test_an_open_reassessment_keeps_implementation_open_until_it_is_done(start):
    flow = start()
    flow.reach("implement")
    flow.advance(days=14)
    flow.complete("implement")
    assert flow.ready() == ["risk_reassessment"]
    assert fired(flow.advance(days=14)) == []  # implement is done: no new reassessment
    reassessed = {"category": "schedule", "description": "上線延期。", "likelihood": "low", "impact": "minor"}
    flow.complete("risk_reassessment", risks=[dict(reassessed, status="open")])
    flow.complete("reassessment_response")
    assert flow.ready() == ["self_test"]
    assert [r["category"] for r in flow.data["risks"]] == ["schedule"]
    assert "implement" in flow.data


def test_inspections_come_every_thirty_days_until_the_support_period_ends(start):
    flow = start()
    flow.reach("sign_contract")
    flow.complete("sign_contract", support_months=4)
    flow.reach("golive")
    flow.clock.advance(days=26)  # go-live on 2026-01-31
    flow.complete("golive", decision="success")
    assert flow.data["support_end"] == "2026-05-31"  # four months, to the same day
    assert flow.ready() == []

    inspections = []
    while "project_closure" not in flow.ready():
        assert fired(flow.advance(days=29)) == []
        assert fired(flow.advance(days=1)) == ["inspection_timer"]
        inspections.append(flow.clock.now.date().isoformat())
        flow.complete("inspection", findings=f"第{len(inspections)}次巡檢正常。")

    # 2026-05-31 is not yet reached at the fourth inspection (05-31 09:00 is, at the fifth)
    assert inspections == ["2026-03-02", "2026-04-01", "2026-05-01", "2026-05-31"]
    assert flow.ready() == ["project_closure"]
    flow.complete("project_closure", closed_on="2026-05-31")
    assert flow.status == "completed"
    assert fired(flow.advance(days=30)) == []
