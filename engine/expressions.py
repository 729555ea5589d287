"""Expressions as process owners write them in Camunda Modeler, translated to the Python the engine runs.

Camunda 7 diagrams write JUEL (`${approved}`, `${amount > 1000 && urgent}`); Camunda 8 writes FEEL
(`=approved`). SpiffWorkflow evaluates Python. `to_python` translates the common forms and leaves
plain Python alone; what it cannot translate is caught when the diagram is checked, because the
result must compile (see `engine.sandbox.compile_expression`).
"""

import re

# Strings are copied through untouched; everything else is rewritten token by token.
_STRING = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_TOKENS = re.compile(rf"(?P<string>{_STRING})|(?P<other>[^'\"]+)")

_JUEL_WORDS = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "and": "and",
    "or": "or",
    "not": "not",
    "null": "None",
    "true": "True",
    "false": "False",
    "div": "/",
    "mod": "%",
}
_WORD = re.compile(r"(?<![\w.])(" + "|".join(_JUEL_WORDS) + r")(?![\w])")
_WRAPPED = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.S)


# JUEL's `empty x`: x is null, "" or an empty collection (0 and false are not empty). Strings
# are matched to be passed over (`"empty x"` stays text).
_EMPTY = re.compile(
    rf"(?P<string>{_STRING})"
    rf"|(?<![\w.])empty(?:\s+(?P<name>[A-Za-z_][\w.]*(?:\[(?:{_STRING}|[^\]'\"])*\])*)|\s*(?P<open>\())"
)


def _empty(match) -> str:
    if match["string"] is not None:
        return match["string"]
    return f"isempty({match['name']})" if match["name"] else "isempty("


def _translate_code(code: str) -> str:
    code = code.replace("&&", " and ").replace("||", " or ")
    code = re.sub(r"!(?!=)", " not ", code)
    return _WORD.sub(lambda m: _JUEL_WORDS[m.group(1)], code)


def _rewrite(text: str, translate) -> str:
    parts = []
    for match in _TOKENS.finditer(text):
        if match.group("string") is not None:
            parts.append(match.group("string"))
        else:
            parts.append(translate(match.group("other")))
    return "".join(parts).strip()


def _translate_feel(code: str) -> str:
    # FEEL compares with a single `=`; Python needs `==` (and `<=`, `>=`, `!=` stay as they are).
    code = re.sub(r"(?<![<>=!])=(?!=)", "==", code)
    return _translate_code(code)


# JUEL's common Java method calls, as Python: `execution.getVariable('x')` is the variable,
# `x.size()` / `x.length()` its length, `x.isEmpty()`, `x.contains(v)`, `x.equals(v)`, and the
# string tests `startsWith` / `endsWith`. Another `execution.` call is refused at deploy.
_NAME = r"[A-Za-z_][\w.]*"
_ARGUMENT = rf"(?:{_STRING}|-?\d+(?:\.\d+)?|{_NAME})"
_JUEL_CALLS = [
    (re.compile(r"\bexecution\.getVariable\(\s*(['\"])([A-Za-z_]\w*)\1\s*\)"), r"\2"),
    (re.compile(rf"({_NAME})\.(?:size|length)\(\s*\)"), r"len(\1)"),
    (re.compile(rf"({_NAME})\.isEmpty\(\s*\)"), r"(len(\1) == 0)"),
    (re.compile(rf"({_NAME})\.contains\(\s*({_ARGUMENT})\s*\)"), r"(\2 in \1)"),
    (re.compile(rf"({_NAME})\.equals\(\s*({_ARGUMENT})\s*\)"), r"(\1 == \2)"),
    (re.compile(r"\.startsWith\("), ".startswith("),
    (re.compile(r"\.endsWith\("), ".endswith("),
]


def _juel_calls(body: str) -> str:
    for pattern, replacement in _JUEL_CALLS:
        body = pattern.sub(replacement, body)
    return body


def to_python(expression: str) -> str:
    """Return the Python form of a JUEL (`${...}`), FEEL (`=...`) or Python expression.

    Raises nothing; an untranslatable expression comes back as it was and fails to compile later.
    """
    text = expression.strip()
    wrapped = _WRAPPED.match(text)
    if wrapped:
        return _rewrite(_EMPTY.sub(_empty, _juel_calls(wrapped.group("body"))), _translate_code)
    if text.startswith("=") and not text.startswith("=="):
        return feel_to_python(text[1:])
    return text


def feel_to_python(expression: str) -> str:
    """A FEEL expression (as in DMN input expressions and output entries) as Python."""
    return _rewrite(expression, _translate_feel)


# -- FEEL unary tests (DMN input entries) ---------------------------------------------------------
# Camunda Modeler's decision tables hold unary tests: "High", < 10, [1..5], "a","b", not("x"), -.
# They become Python tests of `?`, which SpiffWorkflow's DMN engine replaces by the input value.

_LITERAL = re.compile(rf"^(?:{_STRING}|-?\d+(?:\.\d+)?|true|false|null|[A-Za-z_][\w.]*)$")
_RANGE = re.compile(r"^(?P<open>[\[(\]])\s*(?P<low>.+?)\s*\.\.\s*(?P<high>.+?)\s*(?P<close>[\])\[])$")
_COMPARISON = re.compile(r"^(?P<op><=|>=|<|>)\s*(?P<value>.+)$")


class UntranslatableExpression(ValueError):
    """A FEEL construct the engine does not run (named in the message)."""


def _literal(text: str) -> str:
    text = text.strip()
    if not _LITERAL.match(text):
        raise UntranslatableExpression(f"{text!r} is not a literal or a variable")
    if text[:1] in "\"'":
        # SpiffWorkflow replaces a `?` in a test wherever the quotes after it pair up, inside a
        # text too (`"Really? It's fine"`): written as an escape, the text keeps it.
        return text.replace("?", "\\x3f")
    return {"true": "True", "false": "False", "null": "None"}.get(text, text)


def _split_top_level(text: str) -> list[str]:
    items, depth, quote, current = [], 0, None, ""
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]" and depth:
            depth -= 1
        elif char == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        current += char
    items.append(current)
    return [item.strip() for item in items]


# The name SpiffWorkflow's DMN engine gives the input a test reads. A test written with it, not
# with `?`, which SpiffWorkflow replaces only where the quotes after it pair up (`"it's"` did not).
DMN_INPUT = "dmninputexpr"


def _unary(test: str) -> str:
    ranged = _RANGE.match(test)
    if ranged:
        low_op = "<=" if ranged["open"] == "[" else "<"
        high_op = "<=" if ranged["close"] == "]" else "<"
        return f"{_literal(ranged['low'])} {low_op} {DMN_INPUT} {high_op} {_literal(ranged['high'])}"
    compared = _COMPARISON.match(test)
    if compared:
        return f"{DMN_INPUT} {compared['op']} {_literal(compared['value'])}"
    value = _literal(test)
    return f"{DMN_INPUT} is None" if value == "None" else f"{DMN_INPUT} == {value}"


def feel_unary_to_python(text: str | None) -> str | None:
    """A DMN input entry as a Python test of the input (DMN_INPUT); None for "any" (`-` or empty).

    Raises UntranslatableExpression naming what cannot be run.
    """
    text = (text or "").strip()
    if text in ("", "-"):
        return None
    negated = re.fullmatch(r"not\s*\((?P<inner>.*)\)", text, re.S)
    if negated:
        inner = feel_unary_to_python(negated["inner"])
        return "True" if inner is None else f"not ({inner})"
    tests = [_unary(item) for item in _split_top_level(text)]
    return tests[0] if len(tests) == 1 else " or ".join(f"({t})" for t in tests)
