"""Sandboxed evaluation of diagram expressions and scripts (RestrictedPython).

SpiffWorkflow's default script engine runs diagram code with plain `exec`, so a diagram could
import `os` and do anything. Here every expression (gateway conditions, timers, DMN cells,
output mappings) and every script task is compiled by RestrictedPython and run with a small set
of builtins: no `import`, no `open`, no dunder access, no attribute writes on foreign objects.
A script, and an expression that can loop (a comprehension, a lambda), has a budget of
executed steps, so `while True: pass` fails instead of hanging a request; scripts have no `try`,
which could catch the budget's error and run on unbudgeted. `range()` is at most as long as
that budget (a C-level loop over it counts no steps). Work done inside one C call counts no
steps either, so `**`, `pow()`, `<<`, `*`, `round()` and `sum()` are checked before they run
(`engine.limits`): an integer of more than MAX_INT_BITS bits (`10**10**8` would compute for hours), a repeated
string or list longer than MAX_REPEAT (`"x" * 10**10`), a modular power or rounding beyond
their limits, a sum of lists (quadratic) are refused. So is text or a list longer than
MAX_LENGTH made in one step by `+` (`s = s + s`, ten times over), a `%` template or an f-string
format (`f"{'':>999999999}"`), unpacking (`[*a, *a]`, counted over the whole display), padding,
joining, replacing, translating or `list.extend` (read from a value or from its type, `str.ljust`;
an iterator is read only as far as there is room).

A script works on a copy of the instance's data: only what it leaves behind, all checked to be
storable (`engine.limits.require_storable`), goes back, so a script that fails changes nothing.

Not bounded here: a result that grows by a fixed factor in one call (`s.encode().hex()` doubles
its text) repeated in a loop of a few dozen rounds, which the step budget lets through, bounded
by the process's memory; and built-ins nested inside one another over long inputs
(`sum(map(sum, [range(10**6)] * 10**6))`), which run in C without a step to count or a signal
that could stop them. Only process owners deploy diagrams; running diagram code in a child
process with a CPU limit would bound both, and is not done.

Dictionaries are readable with attribute syntax (`risk.likelihood`) as in JUEL and FEEL, which
is how Camunda diagrams write conditions.
"""

import ast
import re
import sys
from calendar import monthrange
from datetime import date, timedelta
from functools import lru_cache

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safer_getattr
from RestrictedPython.PrintCollector import PrintCollector
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .clock import system_clock
from .expressions import to_python
from .limits import (
    MAX_SCRIPT_STEPS,
    SandboxError,
    arith,
    bounded_method,
    bounded_pow,
    bounded_range,
    bounded_round,
    bounded_sum,
    display,
    formatted,
    require_storable,
    require_text,
    unpacked,
)
from .restrictions import Policy
from .serialization import copy_data

MAX_RECIPIENT = 80  # engine/models.py: notifications.recipient

__all__ = [
    "SandboxEnvironment",
    "SandboxError",
    "ScriptEngine",
    "compile_expression",
    "compile_script",
]

_UNSAFE = {"__build_class__", "setattr", "delattr", "id", "_getattr_"}
BUILTINS = {name: value for name, value in safe_builtins.items() if name not in _UNSAFE}
BUILTINS.update(
    dict=dict,
    list=list,
    tuple=tuple,
    set=set,
    min=min,
    max=max,
    sum=sum,
    any=any,
    all=all,
    sorted=sorted,
    enumerate=enumerate,
    zip=zip,
    map=map,
    filter=filter,
    reversed=reversed,
)


BUILTINS.update(range=bounded_range, pow=bounded_pow, round=bounded_round, sum=bounded_sum)


def _getattr(obj, name, default=None):
    # Dictionaries read like objects (`risk.likelihood`), as in JUEL and FEEL.
    if isinstance(obj, dict) and not name.startswith("_"):
        if name in obj:
            return obj[name]
        if not hasattr(dict, name):
            raise AttributeError(f"'{name}' is not set")
    # Padding, joining, replacing text or extending a list: checked like `*` (engine.limits).
    return bounded_method(obj, name) or safer_getattr(obj, name, default)


def _inplacevar(op, x, y):
    operators = {
        "+=": lambda: arith("+", x, y),
        "-=": lambda: x - y,
        "*=": lambda: arith("*", x, y),
        "/=": lambda: x / y,
        "//=": lambda: x // y,
        "%=": lambda: arith("%", x, y),
    }
    if op not in operators:
        raise SandboxError(f"operator {op} is not allowed")
    return operators[op]()


def _apply(function, *args, **kwargs):
    # RestrictedPython turns `f(*args, **kwargs)` into `_apply_(f, *args, **kwargs)`.
    return function(*args, **kwargs)


def _write(obj):
    # Item and attribute writes are allowed on plain data only.
    if isinstance(obj, dict | list):
        return obj
    raise SandboxError(f"cannot modify a {type(obj).__name__}")


GUARDS = {
    "__builtins__": BUILTINS,
    "_getattr_": _getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_inplacevar_": _inplacevar,
    "_apply_": _apply,
    "_arith_": arith,
    "_format_": formatted,
    "_unpack_": unpacked,
    "_display_": display,
    "_write_": _write,
    "_print_": PrintCollector,
}


@lru_cache(maxsize=4096)
def compile_expression(expression: str):
    """Compile a diagram expression (JUEL, FEEL-style or Python). Raises SandboxError."""
    source = to_python(expression)
    if re.search(r"(?<![\w.])execution\s*\.", source):
        raise SandboxError(
            f"expression {expression!r}: JUEL's `execution` object is not available here; "
            "name the process variable itself"
        )
    result = compile_restricted_eval(source, "<expression>", policy=Policy)
    if result.errors or result.code is None:
        raise SandboxError(f"expression {expression!r}: {'; '.join(result.errors)}")
    return result.code


@lru_cache(maxsize=1024)
def compile_script(script: str):
    """Compile a script task's body. Raises SandboxError naming what is not allowed."""
    try:
        tree = ast.parse(script)
    except SyntaxError as error:
        raise SandboxError(f"line {error.lineno}: {error.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise SandboxError(f"line {node.lineno}: import is not allowed in diagram scripts")
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "execution"
        ):
            raise SandboxError(
                f"line {node.lineno}: JUEL's `execution` object is not available here; "
                "assign the process variable itself (`a = 1`)"
            )
    result = compile_restricted_exec(script, "<script>", policy=Policy)
    if result.errors or result.code is None:
        raise SandboxError("; ".join(result.errors))
    return result.code


def _add_months(iso_date: str, months: int) -> str:
    day = date.fromisoformat(str(iso_date)[:10])
    index = day.month - 1 + int(months)
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1])).isoformat()


def _is_empty(value) -> bool:
    # JUEL's `empty`: null, "" or an empty collection; 0 and false are values.
    return value is None or (isinstance(value, str | list | tuple | dict | set) and len(value) == 0)


def _add_days(iso_date: str, days: int) -> str:
    return (date.fromisoformat(str(iso_date)[:10]) + timedelta(days=int(days))).isoformat()


_BUDGETED = frozenset({"<script>", "<expression>"})  # the code the budget counts


def _within_budget(run):
    """`run()` with the step budget counting the diagram code it runs."""
    previous = sys.gettrace()
    sys.settrace(_StepBudget(MAX_SCRIPT_STEPS))
    try:
        return run()
    finally:
        sys.settrace(previous)


@lru_cache(maxsize=4096)
def _loops(expression: str) -> bool:
    """Whether an expression can loop (a comprehension, a generator, a lambda handed to map or
    sorted): only those run under the step budget, which makes every step slower."""
    tree = ast.parse(to_python(expression), mode="eval")
    return any(isinstance(node, ast.comprehension | ast.Lambda) for node in ast.walk(tree))


class _StepBudget:
    """A trace function that stops a script after MAX_SCRIPT_STEPS bytecode steps.

    Opcodes, not lines, are counted: `while True: pass` is one line that never emits a second
    line event.
    """

    def __init__(self, limit):
        self.left = limit

    def __call__(self, frame, event, arg):
        if frame.f_code.co_filename not in _BUDGETED:
            return None
        if event == "call":
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
        elif event == "opcode":
            self.left -= 1
            if self.left < 0:
                raise SandboxError(f"diagram code ran more than {MAX_SCRIPT_STEPS} steps")
        return self


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates and executes diagram code for one instance, with its clock and outbox."""

    def __init__(self, clock=system_clock, outbox=None):
        super().__init__()
        self.clock = clock
        self.outbox = outbox if outbox is not None else []
        self.helpers = {
            "today": lambda: self.clock().date().isoformat(),
            "now": lambda: self.clock().isoformat(),
            "add_days": _add_days,
            "add_months": _add_months,
            "isempty": _is_empty,
            "notify": self._notify,
        }

    def _notify(self, to, text):
        to, text = str(to), str(text)
        # A recipient is a user name or a group (a notifications row holds 80 characters).
        if not to.strip() or len(to) > MAX_RECIPIENT:
            raise SandboxError(f"notify(): {to[:40]!r} can be no recipient (1 to {MAX_RECIPIENT} characters)")
        for value in (to, text):
            if "\x00" in value:
                raise SandboxError("notify(): the text holds NUL, which no message can carry")
            require_text("notify()", value)
        self.outbox.append({"to": to, "text": text, "at": self.clock().isoformat()})

    def _globals(self, context, external_context):
        scope = dict(GUARDS)
        scope.update(self.helpers)
        scope.update(external_context or {})
        scope.update(context)
        return scope

    def evaluate(self, expression, context, external_context=None):
        code = compile_expression(expression)
        scope = self._globals(context, external_context)
        if _loops(expression):
            return _within_budget(lambda: eval(code, scope))
        return eval(code, scope)

    def execute(self, script, context, external_context=None):
        code = compile_script(script)
        # The script works on a copy of the data: one that fails, or that leaves something the
        # data cannot keep, changes nothing, not even a list it appended to before that.
        scope = self._globals(copy_data(context), external_context)
        fixed = set(GUARDS) | set(self.helpers) | set(external_context or {})
        _within_budget(lambda: exec(code, scope))
        kept = {
            key: value
            for key, value in scope.items()
            if key not in fixed and not callable(value) and not key.startswith("_")
        }
        for key, value in kept.items():
            # New or assigned again, or a list or object the script may have changed in place
            # (`items.append({1, 2})`, copies all): it goes into the state.
            if context.get(key) is not value or isinstance(value, list | dict | tuple):
                require_storable(key, value)
        for key in list(context):
            if key not in scope:
                del context[key]
        context.update(kept)
        return True


# The helpers diagram code may call, by name (engine.code_checks).
HELPERS = frozenset(SandboxEnvironment().helpers)


class ScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine over the sandbox; knows the instance's clock."""

    def __init__(self, clock=system_clock, outbox=None):
        super().__init__(environment=SandboxEnvironment(clock, outbox))

    @property
    def clock(self):
        return self.environment.clock

    @property
    def outbox(self):
        return self.environment.outbox

    def validate(self, expression):
        # The DMN engine asks whether a cell parses (expecting SyntaxError); answer for the sandbox.
        try:
            compile_expression(expression)
        except SandboxError as error:
            raise SyntaxError(str(error)) from None
