import pytest

from engine.expressions import UntranslatableExpression, feel_unary_to_python, to_python


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


@pytest.mark.parametrize(
    ("cell", "python"),
    [
        ('"High"', '? == "High"'),
        ("< 10", "? < 10"),
        (">= 3.5", "? >= 3.5"),
        ("[1..5]", "1 <= ? <= 5"),
        ("(1..5]", "1 < ? <= 5"),
        ("]1..5[", "1 < ? < 5"),
        ('"a","b"', '(? == "a") or (? == "b")'),
        ('not("x")', 'not (? == "x")'),
        ("not(< 10, > 20)", "not ((? < 10) or (? > 20))"),
        ("true", "? == True"),
        ("null", "? is None"),
        ("limit", "? == limit"),
        ("-", None),
        ("", None),
    ],
)
def test_feel_unary_tests_become_python_tests_of_the_input(cell, python):
    assert feel_unary_to_python(cell) == python


@pytest.mark.parametrize("cell", ['date("2020-01-01")', "count(x) > 1", "[1..]"])
def test_feel_the_engine_cannot_run_is_refused_by_name(cell):
    with pytest.raises(UntranslatableExpression, match="not a literal"):
        feel_unary_to_python(cell)


def test_feel_expressions_compare_with_a_single_equals():
    assert " ".join(to_python('=status = "open" and n >= 2').split()) == 'status == "open" and n >= 2'
