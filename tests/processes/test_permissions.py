"""Who may complete a step: a member of its group (or its assignee), nobody else.

A refusal must leave the instance as it was: the same ready steps and the same data.
"""

import pytest

from engine import Actor, NotAllowed


def someone(group, username=None):
    return Actor(username or f"{group}_someone", frozenset({group}))


@pytest.mark.parametrize(
    ("element_id", "outsider"),
    [
        ("preliminary_review", someone("business")),  # the applicant's department may not review
        ("budget_audit", someone("it")),
        ("initiation_review", someone("finance")),
        ("implement", someone("it")),
        ("joint_test", someone("vendor")),  # the vendor may not pass its own work
        ("business_acceptance", someone("it")),
    ],
)
def test_only_the_tasks_group_may_complete_it(start, element_id, outsider):
    flow = start()
    flow.reach(element_id)
    ready, data = flow.ready(), flow.data

    with pytest.raises(NotAllowed):
        flow.complete(element_id, actor=outsider)
    assert flow.ready() == ready
    assert flow.data == data
    assert flow.instance.completed_elements.get(element_id, 0) == 0

    flow.complete(element_id, actor=someone(flow.task(element_id).groups[0]))
    assert element_id not in flow.ready()


def test_a_member_of_several_departments_may_act_for_each(start):
    flow = start()
    flow.reach("budget_audit")
    both = Actor("chen", frozenset({"finance", "management"}))
    flow.complete("budget_audit", actor=both)
    flow.complete("initiation_review", actor=both)
    assert flow.ready() == ["sign_contract"]
