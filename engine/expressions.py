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
    "empty": "not",
    "div": "/",
    "mod": "%",
}
_WORD = re.compile(r"(?<![\w.])(" + "|".join(_JUEL_WORDS) + r")(?![\w])")
_WRAPPED = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.S)


def _translate_code(code: str) -> str:
    code = code.replace("&&", " and ").replace("||", " or ")
    code = re.sub(r"!(?!=)", " not ", code)
    return _WORD.sub(lambda m: _JUEL_WORDS[m.group(1)], code)


def to_python(expression: str) -> str:
    """Return the Python form of a JUEL (`${...}`), FEEL-style (`=...`) or Python expression.

    Raises nothing; an untranslatable expression comes back as it was and fails to compile later.
    """
    text = expression.strip()
    wrapped = _WRAPPED.match(text)
    if wrapped:
        text = wrapped.group("body")
    elif text.startswith("=") and not text.startswith("=="):
        text = text[1:]
    else:
        return text
    parts = []
    for match in _TOKENS.finditer(text):
        if match.group("string") is not None:
            parts.append(match.group("string"))
        else:
            parts.append(_translate_code(match.group("other")))
    return "".join(parts).strip()
