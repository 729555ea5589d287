import pytest

from engine.expressions import DMN_INPUT, UntranslatableExpression, feel_unary_to_python, to_python


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
        ("${empty list}", "isempty(list)"),
        ('${not empty d["k"] && "empty x" != s}', 'not isempty(d["k"])  and  "empty x" != s'),
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
    # `?` here is the input, which the engine names DMN_INPUT.
    assert feel_unary_to_python(cell) == (python.replace("?", DMN_INPUT) if python else python)


@pytest.mark.parametrize("cell", ['date("2020-01-01")', "count(x) > 1", "[1..]"])
def test_feel_the_engine_cannot_run_is_refused_by_name(cell):
    with pytest.raises(UntranslatableExpression, match="not a literal"):
        feel_unary_to_python(cell)


def test_feel_expressions_compare_with_a_single_equals():
    assert " ".join(to_python('=status = "open" and n >= 2').split()) == 'status == "open" and n >= 2'


@pytest.mark.parametrize(
    ("written", "data", "value"),
    [
        ("${execution.getVariable('x') == 1}", {"x": 1}, True),
        ("${x.size() > 0}", {"x": []}, False),
        ("${x.contains(1)}", {"x": [1, 2]}, True),
        ("${y.length() > 0}", {"y": "abc"}, True),
        ("${y.startsWith('b')}", {"y": "abc"}, False),
        ('${y.endsWith("c")}', {"y": "abc"}, True),
        ("${risks.isEmpty()}", {"risks": []}, True),
        ('${a.equals("b") && !c.contains("z")}', {"a": "b", "c": "xyz"}, False),
        ("${plan.items.size() == 2}", {"plan": {"items": [1, 2]}}, True),
    ],
)
def test_common_juel_method_calls_run_as_camunda_runs_them(written, data, value):
    """Camunda Modeler users write Java's methods on variables; each deployed and then put the
    instance in error at the gateway."""
    from engine.sandbox import SandboxEnvironment, compile_expression

    compile_expression(written)
    assert SandboxEnvironment().evaluate(to_python(written), data) is value


def test_another_use_of_juels_execution_object_is_refused_naming_it():
    from engine.sandbox import SandboxError, compile_expression

    with pytest.raises(SandboxError, match="`execution` object is not available"):
        compile_expression("${execution.getProcessInstanceId() != null}")


def test_juel_empty_is_null_blank_or_no_items_but_zero_and_false_are_values():
    """`empty` was translated to `not`: a count of 0 or a `false` answer took the empty branch."""
    from engine.sandbox import SandboxEnvironment

    env = SandboxEnvironment()
    for value, empty in (
        (None, True),
        ("", True),
        ([], True),
        ({}, True),
        (0, False),
        (False, False),
        ("x", False),
    ):
        assert env.evaluate("${empty start.n}", {"start": {"n": value}}) is empty, value
        assert env.evaluate("${not empty start.n}", {"start": {"n": value}}) is not empty, value
