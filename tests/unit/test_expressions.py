import pytest

from engine.expressions import to_python


@pytest.mark.parametrize(
    ("written", "python"),
    [
        ("${approved}", "approved"),
        ("#{approved}", "approved"),
        ("=approved", "approved"),
        ("${amount > 1000 && urgent}", "amount > 1000  and  urgent"),
        ("${a || b}", "a  or  b"),
        ("${!done}", "not  done"),
        ("${a != b}", "a != b"),
        ("${x eq 'y' and z ne null}", "x == 'y' and z != None"),
        ("${empty list}", "not list"),
        ('${decision == "a && b"}', 'decision == "a && b"'),
        ("preliminary_review.decision == 'accept'", "preliminary_review.decision == 'accept'"),
    ],
)
def test_juel_and_feel_forms_become_python(written, python):
    assert " ".join(to_python(written).split()) == " ".join(python.split())


def test_plain_python_is_left_alone():
    assert to_python("x == 1 and not y") == "x == 1 and not y"
