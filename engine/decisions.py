"""DMN decision tables as the engine runs them: their FEEL cells translated into Python (the
input read by name), and the deploy checks of a table (hit policy, aggregation, cells)."""

from .errors import Problem
from .expressions import UntranslatableExpression, feel_to_python, feel_unary_to_python
from .sandbox import SandboxError, compile_expression

# DMN 1.3, 1.2 and 1.1: every version SpiffWorkflow reads (a table of one left out went unchecked
# and untranslated, and failed at run time).
DMN_NS = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
)


def dmn_cells(tree):
    """(element, kind, text) of every expression cell of a DMN tree: kind is 'input', 'test', 'output'."""
    for ns in DMN_NS:
        for tag, kind in (("inputExpression", "input"), ("inputEntry", "test"), ("outputEntry", "output")):
            for entry in tree.iter(f"{{{ns}}}{tag}"):
                text_node = entry.find(f"{{{ns}}}text")
                if text_node is not None:
                    yield entry, kind, text_node


def translate_cell(kind, text):
    """The Python the engine runs for a DMN cell (None: any value). Raises UntranslatableExpression."""
    if kind == "test":
        return feel_unary_to_python(text)
    text = (text or "").strip()
    return feel_to_python(text) if text else None


# Hit policies the engine runs as DMN means them: UNIQUE and ANY (the first match, as all agree),
# FIRST, and COLLECT without an aggregation (a list of every match).
HIT_POLICIES = {"UNIQUE", "ANY", "FIRST", "COLLECT"}


def _check_hit_policies(name, tree):
    problems = []
    for ns in DMN_NS:
        for table in tree.iter(f"{{{ns}}}decisionTable"):
            owner = table.getparent().get("id") or table.get("id")
            policy = (table.get("hitPolicy") or "UNIQUE").upper()
            if policy not in HIT_POLICIES:
                problems.append(
                    Problem(
                        name,
                        f"hit policy {policy} is not run here (only {', '.join(sorted(HIT_POLICIES))})",
                        table.sourceline,
                        owner,
                    )
                )
            if table.get("aggregation"):
                problems.append(
                    Problem(
                        name,
                        f"aggregation {table.get('aggregation')} is not run here: COLLECT gives the list "
                        "of every match; add them up in the process (a script or an expression)",
                        table.sourceline,
                        owner,
                    )
                )
    return problems


def check_decisions(name, tree) -> list[Problem]:
    """Where a .dmn file's tables would not run as they say: a hit policy or aggregation the
    engine does not run, a cell that cannot be translated or does not compile."""
    problems = _check_hit_policies(name, tree)
    for entry, kind, text_node in dmn_cells(tree):
        owner = entry.getparent().get("id") or entry.get("id")
        try:
            python = translate_cell(kind, text_node.text)
            if python is not None:
                compile_expression(python.replace("?", "dmninputexpr"))
        except (UntranslatableExpression, SandboxError) as error:
            problems.append(
                Problem(name, f"cell {text_node.text!r} cannot be run: {error}", text_node.sourceline, owner)
            )
    return problems
