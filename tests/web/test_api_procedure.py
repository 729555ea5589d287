"""The whole procedure through the REST API, as six users, one per group, through every loop."""

from apiclient import REQUEST


def ready(instance):
    return sorted(t["name"] for t in instance["tasks"])


def test_an_upgrade_goes_through_every_loop_to_project_closure(people, drive):
    business, it, finance, management, vendor, qa = (
        people[g] for g in ("business", "it", "finance", "management", "vendor", "qa")
    )
    instance = business.start()
    iid = instance["id"]
    assert (instance["status"], instance["initiator"], ready(instance)) == (
        "running",
        "business1",
        ["preliminary_review"],
    )
    assert instance["data"]["requirement_request"]["title"] == REQUEST["title"]

    done = []  # (task, user) of every completion, to compare with the event log

    def step(caller, name, expect_ready, **data):
        response = caller.complete(iid, name, **data)
        done.append((name, caller.user.username))
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert (body["status"], ready(body)) == ("running", sorted(expect_ready)), name
        return body

    # R3.1.2 returned for revision; only the applicant may revise it, then it is reviewed again
    step(it, "preliminary_review", ["revise_request"], decision="return", comment="請補充業務背景。")
    revise = it.task(iid, "revise_request")
    assert revise["assignee"] == "business1"
    assert people["business2"].submit(revise["id"], REQUEST).status_code == 403
    body = step(business, "revise_request", ["preliminary_review"], background="補充：移動辦公需求迫切。")
    assert body["data"]["requirement_request"]["background"] == "補充：移動辦公需求迫切。"
    step(it, "preliminary_review", ["requirement_analysis"], decision="accept")

    # R3.2 and R5: analysis and risks
    step(it, "requirement_analysis", ["risk_identification"])
    step(it, "risk_identification", ["risk_response"])
    body = step(it, "risk_response", ["analysis_report"])
    assert [r["priority"] for r in body["data"]["risks"]] == ["high"]
    step(it, "analysis_report", ["initiation_application"])

    # R3.3 initiation: finance asks for a revision, the application is made again, then approved
    step(it, "initiation_application", ["budget_audit", "initiation_review"])
    step(finance, "budget_audit", ["initiation_review"], decision="revise")
    step(management, "initiation_review", ["initiation_application"], decision="approve")
    step(it, "initiation_application", ["budget_audit", "initiation_review"], budget=150000)
    step(finance, "budget_audit", ["initiation_review"], decision="approve", approved_budget=140000)
    body = step(management, "initiation_review", ["sign_contract"], decision="approve")
    assert body["data"]["initiation_approval"]["budget"] == 140000  # as finance approved it (R2.3.1)

    # R3.4 implementation: the plan is sent back once
    step(it, "sign_contract", ["implementation_plan"], support_months=2)
    step(vendor, "implementation_plan", ["plan_review"])
    step(it, "plan_review", ["implementation_plan"], decision="revise")
    step(vendor, "implementation_plan", ["plan_review"])
    step(it, "plan_review", ["assign_business_testers"], decision="approve")
    # R3.4.4 the business department names its testers and a contact before the vendor implements
    step(business, "assign_business_testers", ["implement"])

    # R3.4.5 a change request while `implement` is open, reviewed and approved beside it
    response = vendor.post(
        f"/instances/{iid}/messages/change_request", {"data": {"reason": "增加電子簽章。"}}
    )
    assert response.status_code == 202, response.get_json()
    assert ready(response.get_json()) == ["change_review", "implement"]
    step(
        it,
        "change_review",
        ["change_approval", "implement"],
        decision="approve",
        impact_analysis="延期兩週。",
    )
    step(management, "change_approval", ["implement"], decision="approve")

    # R5.4 the risk reassessment timer (every 14 days while implementing): the API cannot move
    # time, so the test moves the engine's clock and fires due timers as the worker would
    assert drive.wait(14) == 1
    assert ready(it.get(f"/instances/{iid}").get_json()) == ["implement", "risk_reassessment"]
    step(it, "risk_reassessment", ["implement", "reassessment_response"])
    step(it, "reassessment_response", ["implement"])
    step(vendor, "implement", ["self_test"])

    # R3.5 testing: joint test fails once, acceptance rejects once; both go back to rectification
    step(vendor, "self_test", ["joint_test"])
    step(qa, "joint_test", ["rectify"], decision="fail")
    step(vendor, "rectify", ["joint_test"])
    step(qa, "joint_test", ["acceptance", "business_acceptance"], decision="pass")
    step(it, "acceptance", ["business_acceptance"], decision="reject")
    step(business, "business_acceptance", ["rectify"], decision="accept")
    step(vendor, "rectify", ["joint_test"])
    step(qa, "joint_test", ["acceptance", "business_acceptance"], decision="pass")
    step(business, "business_acceptance", ["acceptance"], decision="accept")
    body = step(it, "acceptance", ["training"], decision="accept")
    assert body["data"]["acceptance_report"]["signed_by"] == ["王主任", "李經理"]

    # R6.2 training, once more after a failed assessment
    step(vendor, "training", ["training_assessment"])
    step(it, "training_assessment", ["training"], decision="retrain")
    step(vendor, "training", ["training_assessment"])
    step(it, "training_assessment", ["golive_plan"], decision="pass")

    # R3.6 go-live, rolled back once; then inspections every 30 days until support ends
    step(it, "golive_plan", ["golive"])
    step(it, "golive", ["golive_plan"], decision="rollback")
    step(it, "golive_plan", ["golive"])
    body = step(it, "golive", [], decision="success")
    assert body["data"]["support_end"] == "2026-03-19"  # two months from 2026-01-19
    assert drive.wait(30) == 1  # 2026-02-18
    step(it, "inspection", [])  # support continues: the next inspection in 30 days
    assert drive.wait(30) == 1  # 2026-03-20
    step(it, "inspection", ["project_closure"])
    response = it.complete(iid, "project_closure")
    done.append(("project_closure", "it1"))
    assert response.status_code == 200, response.get_json()
    final = response.get_json()
    assert (final["status"], final["tasks"], final["ended_at"]) == (
        "completed",
        [],
        "2026-03-20T09:00:00+00:00",
    )

    events = it.get(f"/instances/{iid}/events").get_json()
    completed = [(e["task"], e["actor"]) for e in events if e["type"] == "task_completed"]
    assert completed == done
    group_of = {"business1": "business", "it1": "it", "finance1": "finance"}
    group_of |= {"management1": "management", "vendor1": "vendor", "qa1": "qa"}
    by_group = {}
    for task, actor in completed:
        by_group.setdefault(group_of[actor], set()).add(task)
    assert by_group == {
        "business": {"revise_request", "assign_business_testers", "business_acceptance"},
        "finance": {"budget_audit"},
        "management": {"initiation_review", "change_approval"},
        "qa": {"joint_test"},
        "vendor": {"implementation_plan", "implement", "self_test", "rectify", "training"},
        "it": {
            "preliminary_review",
            "requirement_analysis",
            "risk_identification",
            "risk_response",
            "analysis_report",
            "initiation_application",
            "sign_contract",
            "plan_review",
            "change_review",
            "risk_reassessment",
            "reassessment_response",
            "acceptance",
            "training_assessment",
            "golive_plan",
            "golive",
            "inspection",
            "project_closure",
        },
    }
    kinds = [e["type"] for e in events]
    assert (kinds[0], kinds[-1]) == ("started", "ended")
    assert kinds.count("timer_fired") == 3
    assert [(e["task"], e["actor"]) for e in events if e["type"] == "message_received"] == [
        ("change_request_received", "vendor1")
    ]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    listed = it.get("/instances", status="completed").get_json()
    assert [i["id"] for i in listed["items"]] == [iid]
