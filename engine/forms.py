"""Camunda Forms (form-js JSON) and the server-side validation of what is submitted through them.

The browser renders a form with form-js and checks it there, but the server trusts nothing it
receives: `Form.validate` builds a marshmallow schema from the form's components and refuses
unknown keys, missing required values, values outside a select's options, numbers out of range,
text that is too long or does not match its pattern, malformed dates, and bad rows of dynamic
lists. The messages are Chinese first, with the English after them.

One extension beyond form-js: a component may carry the custom property
`"requiredWhen": "<expression>"`, evaluated in the sandbox against its row (or the whole form),
for rules such as "response measures are required for every high-priority risk" (R5.3.1). A
top-level rule also sees the values the form was shown (submitted values win), so it may read
a shown fact that is no field, e.g. `not plan_status.in_plan` on `initiation_application`.

A second: `"validWhen": "<expression>"` with `"invalidMessage"`, a rule a given value must
satisfy, read the same way: acceptance may only be `accept` when its four checks are confirmed
(R3.5.4). A rule it cannot read (a field left out) counts as not met.
"""

import ast
import json
import math
import re
from contextvars import ContextVar
from copy import deepcopy
from datetime import date
from functools import cached_property, lru_cache
from typing import ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .errors import FormValidationError
from .expressions import to_python
from .form_fields import (
    DISPLAY_ONLY,
    INPUT_TYPES,
    MAX_SAFE_INTEGER,
    MSG_A_ROW,
    MSG_REQUIRED,
    MSG_UNKNOWN,
    TODAY,
    _field,
    slow_pattern,
)
from .sandbox import SandboxEnvironment, SandboxError, compile_expression
from .shown_values import protect, rows_as_sent, shown_lists

_SHOWN: ContextVar[dict] = ContextVar("shown_values", default={})  # noqa: B039 - never mutated


class FormSchema(Schema):
    """Base of the schemas built from forms: unknown keys refused, `requiredWhen` applied."""

    class Meta:
        unknown = RAISE

    conditional_rules: ClassVar[dict] = {}  # field -> requiredWhen expression
    validity_rules: ClassVar[dict] = {}  # field -> (validWhen expression, message)
    # The values the form was shown, for the top-level schema only (`Form.validate` marks it): a
    # rule may read a shown value that is not a field, e.g. `plan_status` given by a form data
    # provider. Submitted values win. Per call (a context variable), so one schema serves all.
    reads_shown = False

    @property
    def shown_values(self) -> dict:
        return _SHOWN.get() if self.reads_shown else {}

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _rules(self, data, original, **kwargs):
        # Run beside the fields' own errors, so that a refusal names every bad field; a rule
        # that reads a field refused already is left for the next try (it cannot be judged).
        refused = self._refused(data, original)
        errors = {}
        values = {**self.shown_values, **data}
        for key, expression in self.conditional_rules.items():
            if key in refused or refused & _names(expression):
                continue
            if data.get(key) in (None, "", []) and _holds(expression, values):
                errors[key] = [MSG_REQUIRED]
        for key, (expression, message) in self.validity_rules.items():
            # A value given must satisfy its rule; one the rule cannot read (a field left out)
            # does not, so the rule cannot be passed by leaving things out.
            if key in refused or refused & _names(expression):
                continue
            if data.get(key) not in (None, "", []) and not _holds(expression, values):
                errors.setdefault(key, []).append(message)
        if errors:
            raise ValidationError(errors)

    def _refused(self, data, original) -> set:
        """The fields this submission fails on their own: given but not loaded, or required and
        left out."""
        if not isinstance(original, dict):
            return set()
        given = {key for key in original if key in self.fields and key not in data}
        missing = {key for key, field in self.fields.items() if field.required and key not in original}
        return given | missing


def _holds(expression, values) -> bool:
    """Whether a rule holds; one it cannot read (a value left out, a text where a number was
    meant, a division by a zero given) does not."""
    try:
        return bool(SandboxEnvironment().evaluate(expression, values))
    except (SandboxError, NameError, AttributeError, LookupError, TypeError, ValueError, ArithmeticError):
        return False


@lru_cache(maxsize=1024)
def _names(expression) -> frozenset:
    """The names a rule reads."""
    try:
        tree = ast.parse(to_python(expression), mode="eval")
    except SyntaxError:
        return frozenset()
    return frozenset(node.id for node in ast.walk(tree) if isinstance(node, ast.Name))


_TEMPLATE_NAME = re.compile(r"\{\{\s*#?(?:each\s+|if\s+)?([A-Za-z_]\w*)")


def _build_schema(components, name="Form"):
    tree, rules, checks = {}, {}, {}
    _collect(components, tree, rules, checks)
    return _schema_from_tree(tree, rules, name, checks)


def _collect(components, tree, rules, checks, hidden=False):
    """Fields of `components` into `tree`. `hidden`: they sit in a group a condition may hide
    (form-js leaves out what a hidden group holds), so none of them is required."""
    if components is not None and not isinstance(components, list):
        raise ValueError(f"'components' must be a list, not {type(components).__name__}")
    for component in components or []:
        if not isinstance(component, dict):
            raise ValueError(f"a component must be an object, not {component!r}")
        for name in ("key", "path"):
            if name in component and not isinstance(component[name], str):
                raise ValueError(f"a component's {name} must be text, not {component[name]!r}")
        kind = component.get("type")
        if kind in DISPLAY_ONLY:
            continue
        # form-js leaves a hidden field out; its condition runs in the browser
        hides = hidden or bool((component.get("conditional") or {}).get("hide"))
        if kind == "group":
            path = component.get("path")
            target = _subtree(tree, path.split(".")) if path else tree
            _collect(component.get("components"), target, rules, checks, hides)
        elif kind == "dynamiclist":
            path = component.get("path") or component.get("key")
            item_tree, item_rules, item_checks = {}, {}, {}
            _collect(component.get("components"), item_tree, item_rules, item_checks)
            item_schema = _schema_from_tree(item_tree, item_rules, f"Row_{path}", item_checks)
            parts = path.split(".")
            _subtree(tree, parts[:-1])[parts[-1]] = _list_field(component, fields.Nested(item_schema), hides)
        elif kind in INPUT_TYPES and component.get("key"):
            required = bool((component.get("validate") or {}).get("required")) and not hides
            parts = component["key"].split(".")
            _subtree(tree, parts[:-1])[parts[-1]] = _field(component, required)
            if len(parts) == 1:
                _collect_rules(component, rules, checks)


def _collect_rules(component, rules, checks):
    """A top-level field's `requiredWhen` and `validWhen` (with `invalidMessage`) properties."""
    key, properties = component["key"], component.get("properties") or {}
    if properties.get("requiredWhen"):
        rules[key] = _runnable(key, properties["requiredWhen"], "requiredWhen")
    if properties.get("validWhen"):
        valid = properties["validWhen"]
        message = str(properties.get("invalidMessage") or f"不符合規則 / Does not meet: {valid}")
        checks[key] = (_runnable(key, valid, "validWhen"), message)


def _runnable(key, condition, kind):
    """A requiredWhen or validWhen rule that compiles in the sandbox; a ValueError naming the field
    if not (a rule that cannot run would quietly never require, or always refuse, anything)."""
    try:
        compile_expression(str(condition))
    except SandboxError as error:
        raise ValueError(f"{key}: {kind} cannot be evaluated: {error}") from None
    return condition


def _subtree(tree, parts):
    for part in parts:
        tree = tree.setdefault(part, {})
    return tree


def _schema_from_tree(tree, rules, name, checks=None):
    attrs = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            attrs[key] = fields.Nested(_schema_from_tree(value, {}, f"{name}_{key}"), required=False)
        else:
            attrs[key] = value
    attrs["conditional_rules"] = dict(rules)
    attrs["validity_rules"] = dict(checks or {})
    return type(name, (FormSchema,), attrs)


def _flatten(messages, prefix=""):
    flat = {}
    for key, value in messages.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, path + "."))
        else:
            msgs = [MSG_UNKNOWN if m == "Unknown field." else m for m in value]
            flat[path] = msgs
    return flat


def _list_field(component, rows, hidden=False):
    """A dynamic list's field. Left out: a list a condition may hide (its own, or its group's)
    stays out (form-js does not send it; the data keeps its rows), a fixed list is required (its
    rows are the ones shown; `Form.validate` fills them in), a required one (`validate.required`)
    needs a row at least, another is no rows, as form-js sends []."""
    if hidden:
        return fields.List(rows)
    if component.get("allowAddRemove") is False:
        return fields.List(rows, required=True, error_messages={"required": MSG_REQUIRED})
    if (component.get("validate") or {}).get("required"):
        # Ours: form-js has no rule for a list; `validate.required` here means one row at least.
        at_least_one = validate.Length(min=1, error=MSG_A_ROW)
        return fields.List(rows, required=True, validate=at_least_one, error_messages={"required": MSG_A_ROW})
    return fields.List(rows, load_default=list)


MAX_FORM_ID = 200  # engine/models.py: tasks.form_id
EDITOR_MARKS = ("schemaVersion", "exporter")  # what a modeller writes anew at each save


def plain_form(schema) -> dict:
    """A form-js schema without its editor marks: the form itself, as a deployment compares it."""
    return {key: value for key, value in (schema or {}).items() if key not in EDITOR_MARKS}


MAX_FORM_DEPTH = 64  # levels of objects and lists in a form's JSON (a group in a group is two)


def _depth(value) -> int:
    """How many levels of objects and lists `value` holds, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_FORM_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def _unsafe_number(value, path="form") -> str | None:
    """The path of the first number in a form's JSON that JavaScript (and the JSON the API
    answers with) cannot keep: NaN, Infinity, or a whole number beyond 2^53 - 1."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        unsafe = isinstance(value, float) and not math.isfinite(value)
        unsafe |= isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER
        return path if unsafe else None
    for key, item in items:
        found = _unsafe_number(item, f"{path}.{key}")
        if found is not None:
            return found
    return None


class Form:
    """One Camunda Form: its id, the file it came from and its form-js schema."""

    def __init__(self, schema: dict, filename: str | None = None):
        if not isinstance(schema, dict) or not isinstance(schema.get("components"), list):
            raise ValueError("not a form-js form: no 'components' list")
        self.schema = schema
        self.filename = filename
        self.id = schema.get("id") or (
            filename.rsplit("/", 1)[-1].removesuffix(".form") if filename else None
        )
        if not self.id:
            raise ValueError("the form has no id")
        if not isinstance(self.id, str):
            raise ValueError(f"the form's id must be text, not {self.id!r}")

    @classmethod
    def from_json(cls, text: bytes | str, filename: str | None = None) -> "Form":
        """Parse a `.form` file. Raises ValueError naming what is wrong."""
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"invalid JSON at line {error.lineno}: {error.msg}") from None
        except RecursionError:
            raise ValueError("invalid JSON: nested too deeply") from None
        try:  # "\ud800" is valid JSON but no character: nothing could store or show it
            json.dumps(schema, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(f"text that is no character ({error.object[error.start]!r})") from None
        return cls(schema, filename)

    def check(self, new=True):
        """Build the form's validation now (on deploy). Raises ValueError naming a rule it cannot
        apply (a pattern that is no regular expression, a bound that is no number, a key that
        is no text), which would otherwise fail every submission, and, for a `new` form (not one
        deployed already, unchanged), a pattern that can take exponential time."""
        if len(self.id) > MAX_FORM_ID:  # a task row holds its form's id
            raise ValueError(f"the form's id is {len(self.id)} characters long; at most {MAX_FORM_ID}")
        if _depth(self.schema) > MAX_FORM_DEPTH:
            # Deeper, the stored definition could not be written (a 500), or read back.
            raise ValueError(f"the form is nested more than {MAX_FORM_DEPTH} levels deep")
        try:
            where = _unsafe_number(self.schema)
        except RecursionError:
            raise ValueError("the form is nested too deeply") from None
        if where is not None:
            raise ValueError(
                f"{where}: a number no browser can hold (at most {MAX_SAFE_INTEGER} in size, finite)"
            )
        try:
            self._marshmallow  # noqa: B018 - built and kept for the submissions
        except (TypeError, AttributeError) as error:
            raise ValueError(f"the form's components cannot be read: {error}") from None
        slow = slow_pattern(self.schema["components"]) if new else None
        if slow:
            raise ValueError(slow)

    @cached_property
    def shows(self) -> frozenset:
        """The process data the form puts before its user: the top-level names its text, labels
        and descriptions read (`{{requirement_analysis.cost_licences}}`), and its own fields. A
        task's user needs these to do the task, whatever documents their groups may read."""
        names = set()

        def walk(components):
            for component in components or []:
                if not isinstance(component, dict):
                    continue
                for field in ("text", "label", "description"):
                    if isinstance(component.get(field), str):
                        names.update(_TEMPLATE_NAME.findall(component[field]))
                for field in ("key", "path"):
                    if isinstance(component.get(field), str):
                        names.add(component[field].split(".")[0])
                walk(component.get("components"))

        walk(self.schema.get("components"))
        return frozenset(names)

    @cached_property
    def _marshmallow(self):
        # One schema per form, built once (building one copies every field) and shared by every
        # validation: what varies per call (the shown values) is in a context variable.
        name = "Form_" + re.sub(r"\W", "_", self.id)
        schema = _build_schema(self.schema["components"], name)()
        schema.reads_shown = True
        return schema

    @cached_property
    def keys(self) -> frozenset:
        """The top-level keys a submission of this form may carry."""
        return frozenset(self._marshmallow.fields)

    def validate(self, data, shown: dict | None = None, today: date | None = None) -> dict:
        """Return the submission as accepted. Raises FormValidationError naming each bad field.

        With `shown` (the values the form was opened with), read-only and disabled fields keep
        the shown values whatever the client sent, and fixed lists keep their number of rows.
        `today`: the day it is submitted, before which a date field with `disallowPassedDates`
        takes no date (without it no date is refused as passed).
        """
        if not isinstance(data, dict):
            raise FormValidationError(
                {"_schema": ["提交的數據必須是對象 / The submission must be an object."]}
            )
        if shown is not None:
            data = deepcopy(data)
            for path, keys in shown_lists(self.schema["components"]):
                # A list left out keeps the rows it was shown with, as the form would send them
                # back (else it is no rows).
                if path not in data and isinstance(shown.get(path), list):
                    data[path] = rows_as_sent(shown[path], keys)
            problems = protect(self.schema["components"], data, shown)
            if problems:
                raise FormValidationError(problems)
        schema = self._marshmallow
        # A copy, for the rules' expressions only: the shown values may be the instance's own data.
        token = _SHOWN.set(deepcopy(shown) if shown and schema.conditional_rules else {})
        day = TODAY.set(today)
        try:
            return schema.load(data)
        except ValidationError as error:
            raise FormValidationError(_flatten(error.normalized_messages())) from None
        finally:
            TODAY.reset(day)
            _SHOWN.reset(token)
