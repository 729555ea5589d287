"""The procedure of the regulation (R3), decision by decision, on the real diagrams."""

from datetime import UTC, datetime

import pytest

from engine import Actor, FormValidationError, NotAllowed

ANALYSIS = ["requirement_analysis", "risk_identification", "risk_response", "analysis_report"]


def test_an_upgrade_goes_from_request_to_project_closure(start):
    flow = start(initiator="alice")
    assert flow.ready() == ["preliminary_review"]
    assert flow.data["requirement_request"]["title"] == "辦公自動化系統升級"
    assert flow.data["initiator"] == "alice"

    # R3.1–R3.2 需求申請與分析
    flow.complete("preliminary_review", decision="accept")
    for step in ANALYSIS:
        assert flow.ready() == [step]
        flow.complete(step)

    # R3.3 立項: finance and management review the application side by side
    flow.complete("initiation_application", budget=200000)
    assert flow.ready() == ["budget_audit", "initiation_review"]
    flow.complete("budget_audit", decision="approve")
    assert flow.ready() == ["initiation_review"]
    approval = flow.complete("initiation_review", decision="approve")
    assert approval.notifications == [
        {"to": "alice", "text": "項目已立項", "at": "2026-01-05T09:00:00+00:00"}
    ]
    # 《立項批復》 carries the budget finance approved (R2.3.1), not the one asked for.
    assert flow.data["initiation_approval"] == {"approved_on": "2026-01-05", "budget": 180000}

    # R3.4 項目實施
    for step in [
        "sign_contract",
        "implementation_plan",
        "plan_review",
        "assign_business_testers",
        "implement",
    ]:
        assert flow.ready() == [step]
        if step == "assign_business_testers":  # R3.4.4: the business department names its testers
            assert flow.task(step).groups == ("business",)
        flow.complete(step, **({"support_months": 2} if step == "sign_contract" else {}))
    assert flow.data["assign_business_testers"]["testers"] == [
        {"name": "陳業務", "functions": "移動端審批、報表查詢"}
    ]

    # R3.5 測試與驗收
    flow.complete("self_test")
    flow.complete("joint_test", decision="pass")
    assert flow.ready() == ["acceptance", "business_acceptance"]
    flow.complete("business_acceptance", decision="accept", signer="李經理")
    flow.complete("acceptance", decision="accept", signer="王主任")
    assert flow.data["acceptance_report"] == {"accepted_on": "2026-01-05", "signed_by": ["王主任", "李經理"]}

    # R6.2 培訓, then R3.6 上線與運維
    flow.complete("training")
    flow.complete("training_assessment", decision="pass")
    flow.clock.advance(days=10)  # go-live on 2026-01-15
    plan = flow.complete("golive_plan", golive_time="2026-01-15")
    assert plan.notifications == [
        {"to": "all", "text": "系統上線計劃：2026-01-15", "at": "2026-01-15T09:00:00+00:00"}
    ]
    flow.complete("golive", decision="success")
    assert flow.data["support_end"] == "2026-03-15"
    assert flow.ready() == []

    flow.advance(days=30)  # 2026-02-14
    flow.complete("inspection")
    flow.advance(days=30)  # 2026-03-16: the two-month support period is over
    flow.complete("inspection")
    assert flow.ready() == ["project_closure"]
    flow.complete("project_closure")

    assert flow.status == "completed"
    assert flow.ready() == []
    assert flow.instance.completed_elements["project_closed"] == 1
    assert [n["text"] for n in flow.notifications] == ["項目已立項", "系統上線計劃：2026-01-15"]
    assert flow.events[-1].kind == "ended"


# -- R3.1.2 需求初審 ----------------------------------------------------------------------------


def test_an_accepted_request_goes_to_requirement_analysis(start):
    flow = start()
    flow.complete("preliminary_review", decision="accept")
    assert flow.ready() == ["requirement_analysis"]
    assert flow.data["preliminary_review"]["decision"] == "accept"


def test_a_returned_request_goes_back_to_its_applicant_and_then_to_review_again(start):
    flow = start(initiator="alice")
    flow.complete("preliminary_review", decision="return", comment="請補充預期效果。")
    assert flow.ready() == ["revise_request"]
    task = flow.task("revise_request")
    assert task.assignee == "alice"

    colleague = Actor("bob", frozenset({"business"}))
    with pytest.raises(NotAllowed):
        flow.complete("revise_request", actor=colleague)
    assert flow.ready() == ["revise_request"]

    flow.complete("revise_request", expected_effect="審批週期由五天縮短到兩天。")
    assert flow.ready() == ["preliminary_review"]
    assert flow.data["requirement_request"]["expected_effect"] == "審批週期由五天縮短到兩天。"

    flow.complete("preliminary_review", decision="accept")
    assert flow.ready() == ["requirement_analysis"]
    assert flow.instance.completed_elements["preliminary_review"] == 2


def test_a_rejected_request_ends_the_procedure_and_tells_the_applicant(start):
    flow = start(initiator="alice")
    result = flow.complete("preliminary_review", decision="reject", comment="不符合信息化規劃。")
    assert flow.status == "completed"
    assert flow.ready() == []
    assert flow.instance.completed_elements["request_rejected"] == 1
    assert [(n["to"], n["text"]) for n in result.notifications] == [
        ("alice", "需求申請已駁回：不符合信息化規劃。")
    ]


# -- R3.3 立項: 預算審核 × 立項評審 -------------------------------------------------------------

DECISIONS = ["approve", "revise", "reject"]


def outcome(budget, review):
    if budget == review == "approve":
        return "approved"
    if "reject" in (budget, review):
        return "rejected"
    return "revise"


@pytest.mark.parametrize("budget", DECISIONS)
@pytest.mark.parametrize("review", DECISIONS)
def test_initiation_is_decided_by_budget_audit_and_initiation_review(start, budget, review):
    flow = start(initiator="alice")
    flow.reach("budget_audit")
    flow.complete("budget_audit", decision=budget)
    result = flow.complete("initiation_review", decision=review)

    expected = outcome(budget, review)
    if expected == "approved":
        assert flow.ready() == ["sign_contract"]
        assert "initiation_approval" in flow.data
        assert [n["text"] for n in result.notifications] == ["項目已立項"]
    elif expected == "rejected":
        assert flow.status == "completed"
        assert flow.ready() == []
        assert flow.instance.completed_elements["initiation_rejected"] == 1
        assert [(n["to"], n["text"]) for n in result.notifications] == [("alice", "立項未獲批准")]
    else:
        assert flow.ready() == ["initiation_application"]
        assert "initiation_approval" not in flow.data
        assert result.notifications == []


@pytest.mark.parametrize("first", ["budget_audit", "initiation_review"])
def test_a_revised_initiation_application_is_reviewed_again_by_both(start, first):
    flow = start()
    flow.reach("budget_audit")
    flow.complete("budget_audit", decision="revise", comment="預算偏高。")
    flow.complete("initiation_review", decision="approve")
    flow.complete("initiation_application", budget=150000)
    assert flow.ready() == ["budget_audit", "initiation_review"]

    # Whoever answers first, the second round waits for the other's new answer.
    second = "initiation_review" if first == "budget_audit" else "budget_audit"
    flow.complete(first, decision="approve")
    assert flow.ready() == [second]
    flow.complete(second, decision="approve")
    assert flow.ready() == ["sign_contract"]
    assert flow.data["budget_audit"] == {"decision": "approve", "approved_budget": 180000}
    assert flow.data["initiation_approval"]["budget"] == 180000  # as finance approved it


# -- R3.4 實施計劃審核 · R6.2 培訓考核 · R3.6 上線 ------------------------------------------------


def test_a_plan_sent_back_for_revision_is_reviewed_again(start):
    flow = start()
    flow.reach("plan_review")
    flow.complete("plan_review", decision="revise", comment="里程碑不夠具體。")
    assert flow.ready() == ["implementation_plan"]
    flow.complete("implementation_plan")
    flow.complete("plan_review", decision="approve")
    assert flow.ready() == ["assign_business_testers"]


def test_users_who_fail_the_training_assessment_are_trained_again(start):
    flow = start()
    flow.reach("training_assessment")
    flow.complete("training_assessment", decision="retrain", pass_rate=60)
    assert flow.ready() == ["training"]
    flow.complete("training")
    flow.complete("training_assessment", decision="pass")
    assert flow.ready() == ["golive_plan"]
    assert flow.instance.completed_elements["training"] == 2


def test_a_rolled_back_golive_is_planned_and_announced_again(start):
    flow = start()
    flow.reach("golive")
    flow.complete("golive", decision="rollback", problems="數據遷移校驗失敗。")
    assert flow.ready() == ["golive_plan"]
    assert "support_end" not in flow.data
    again = flow.complete("golive_plan", golive_time="2026-06-08")
    assert [n["text"] for n in again.notifications] == ["系統上線計劃：2026-06-08"]
    flow.complete("golive", decision="success")
    assert flow.ready() == []
    assert flow.data["support_end"] == "2026-04-05"  # 3 months (sign_contract) from 2026-01-05


def test_the_golive_plan_names_a_day_still_ahead(start):
    """R3.6.1: the go-live is planned and announced in advance, so its day is today or later (the
    form's picker offers no earlier day, `disallowPassedDates`; the server takes none either).
    A refused plan stores nothing and announces nothing."""
    flow = start()
    flow.reach("golive_plan")
    flow.clock.advance(days=10)  # 2026-01-15
    ready, data = flow.ready(), flow.data
    with pytest.raises(FormValidationError) as refused:
        flow.complete("golive_plan", golive_time="2026-01-14")
    assert refused.value.errors == {
        "golive_time": ["日期不能早於今天（2026-01-15） / The date cannot be before today (2026-01-15)."]
    }
    assert (flow.ready(), flow.data) == (ready, data) and "golive_plan" not in flow.data
    plan = flow.complete("golive_plan", golive_time="2026-01-15")
    assert [n["text"] for n in plan.notifications] == ["系統上線計劃：2026-01-15"]


def test_the_go_live_day_is_counted_where_the_company_is(start):
    """At 01:30 on 2 May in Hong Kong it is still 1 May in UTC: a server on UTC took 1 May as
    today, a day already passed where the departments are (UPGRADEFLOW_TIMEZONE, which the app
    gives its clock: engine.CompanyClock)."""
    import pytz

    from engine import CompanyClock

    flow = start()
    flow.reach("golive_plan")
    manual = flow.clock
    manual.now = datetime(2026, 5, 1, 17, 30, tzinfo=UTC)
    flow.clock = CompanyClock(manual, pytz.timezone("Asia/Hong_Kong"))
    flow.instance.set_clock(flow.clock)
    with pytest.raises(FormValidationError) as refused:
        flow.complete("golive_plan", golive_time="2026-05-01")
    assert "（2026-05-02）" in refused.value.errors["golive_time"][0]
    flow.complete("golive_plan", golive_time="2026-05-02")


def test_a_replay_does_not_judge_a_logged_date_again_by_the_day_it_is_repeated_in(start):
    """A go-live day taken when it was planned (by the day where the company was) failed a replay
    made later, or counted in another zone: every replay, `verify` and migration by replay of
    such an instance stopped at it."""
    from engine.replay import replay
    from engine.views import EventInfo

    flow = start()
    flow.reach("golive_plan")
    flow.clock.advance(days=10)  # 2026-01-15
    flow.complete("golive_plan", golive_time="2026-01-15")
    logged = [
        EventInfo(seq, e.kind, e.element_id, e.task_id, e.actor, e.at, e.data)
        for seq, e in enumerate(flow.events, 1)
    ]
    for event in logged:
        if event.task == "golive_plan":
            # As it was taken at 01:30 on 16 January in Hong Kong, logged at 17:30 UTC on the 15th
            # by a server that counted days in UTC: the day before the event's day.
            event.data = {**event.data, "golive_time": "2026-01-14"}
    result = replay(flow.definition, logged)
    assert result.divergence is None
    assert result.instance.data["golive_plan"]["golive_time"] == "2026-01-14"


def test_training_is_recorded_session_by_session(start):
    """R6.2.1: training runs per plan; a record with no session is refused, naming the list."""
    flow = start()
    flow.reach("training")
    with pytest.raises(FormValidationError) as refused:
        flow.complete("training", sessions=[])
    assert refused.value.errors == {"sessions": ["至少須填寫一行 / At least one row is required."]}
    assert flow.ready() == ["training"] and "training" not in flow.data


def test_training_passes_only_on_every_trainees_recorded_result(start):
    """R6.2.3: trainees are assessed; training passes only when each one's result is recorded
    and passed (no result at all is no pass)."""
    flow = start()
    flow.reach("training_assessment")
    for results in ([], [{"trainee": "陳大文", "result": "pass"}, {"trainee": "李小明", "result": "fail"}]):
        with pytest.raises(FormValidationError) as refused:
            flow.complete("training_assessment", decision="pass", pass_rate=50, results=results)
        assert set(refused.value.errors) <= {"results", "decision"} and refused.value.errors
    assert flow.ready() == ["training_assessment"]
    flow.complete("training_assessment", decision="pass", results=[{"trainee": "陳大文", "result": "pass"}])
    assert flow.ready() == ["golive_plan"]
