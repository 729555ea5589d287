"""The fields of Camunda Form components: what each form-js type accepts from a submission
(numbers, text, dates, options), with the rules of its `validate` block checked when the form is
deployed (`forms.Form.check`) and applied to every submission. Messages are Chinese first."""

import math
import re
import re._constants as re_constants
import re._parser as re_parser
from contextvars import ContextVar
from datetime import date, datetime, time
from decimal import Decimal
from typing import ClassVar

from marshmallow import ValidationError, fields, validate

MSG_REQUIRED = "此欄位為必填項 / This field is required."
MSG_UNKNOWN = "表單中沒有此欄位 / Unknown field."
MSG_CHOICE = "不是可選的值：{input} / Not one of the allowed values: {choices}."
MSG_NUMBER = "請輸入數字 / Not a valid number."
MSG_WHOLE = "請輸入整數 / Not a whole number."
MSG_DECIMALS = "小數位數不能超過 {digits} 位 / At most {digits} decimal places."
MSG_RANGE = "數值須在 {min} 至 {max} 之間 / Must be between {min} and {max}."
MSG_LENGTH = "長度須在 {min} 至 {max} 之間 / Length must be between {min} and {max}."
MSG_PATTERN = "格式不正確 / Does not match the required format."
MSG_DATE = "日期格式不正確（YYYY-MM-DD） / Not a valid date (YYYY-MM-DD)."
MSG_TIME = "時間格式不正確（HH:MM） / Not a valid time (HH:MM)."
MSG_DATETIME = "日期時間格式不正確（YYYY-MM-DDTHH:MM） / Not a valid date and time (YYYY-MM-DDTHH:MM)."
MSG_PASSED = "日期不能早於今天（{today}） / The date cannot be before today ({today})."
MSG_TYPE = "類型不正確 / Invalid type."
MSG_ROWS = "不能增加或刪除行 / Rows cannot be added or removed here."
MSG_A_ROW = "至少須填寫一行 / At least one row is required."

DISPLAY_ONLY = {
    "text",
    "html",
    "spacer",
    "separator",
    "image",
    "iframe",
    "button",
    "table",
    "documentPreview",
}
INPUT_TYPES = {
    "textfield",
    "textarea",
    "number",
    "checkbox",
    "select",
    "radio",
    "checklist",
    "taglist",
    "datetime",
    "expression",
    "filepicker",
}
CONTAINERS = {"group", "dynamiclist"}


class FormNumber(fields.Field):
    """A form-js number: int or float (never bool); a numeric string only if the form says so."""

    def __init__(self, *, decimals=None, accept_string=False, **kwargs):
        super().__init__(**kwargs)
        self.decimals = decimals  # form-js's decimalDigits: at most so many places (None: any)
        self.accept_string = accept_string

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and self.accept_string:
            try:
                value = float(value) if "." in value else int(value)
            except ValueError:
                raise ValidationError(MSG_NUMBER) from None
        if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
            raise ValidationError(MSG_NUMBER)  # NaN, Infinity, 10**400: no numbers a form can show
        if self.decimals == 0 and value != int(value):
            raise ValidationError(MSG_WHOLE)
        if self.decimals and isinstance(value, float) and _places(value) > self.decimals:
            raise ValidationError(MSG_DECIMALS.format(digits=self.decimals))
        return value


def _places(value: float) -> int:
    """Decimal places of the shortest text that reads back as `value` (12.5 -> 1, 0.1 + 0.2 -> 17)."""
    exponent = Decimal(repr(value)).as_tuple().exponent
    return max(0, -exponent)


def _finite(value) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond any float
        return False


class FormText(fields.String):
    """Text that refuses non-strings instead of converting them."""

    default_error_messages: ClassVar = {"invalid": MSG_TYPE}


# What form-js's date and time pickers write (its `subtype`s), nothing else: Python's
# `fromisoformat` also reads week dates (2026-W01-1) and basic forms (20260101), which no
# picker writes and which other rules (an end after a start) would compare as text.
_CLOCK = r"[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
DATE_FORMATS = {
    "date": (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), date.fromisoformat, MSG_DATE),
    "time": (re.compile(_CLOCK), time.fromisoformat, MSG_TIME),
    "datetime": (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T" + _CLOCK), datetime.fromisoformat, MSG_DATETIME),
}


# The day a submission is made, as the instance's clock tells it (`forms.Form.validate`): what
# `disallowPassedDates` compares with. None: no day is known, and no date is refused as passed.
TODAY: ContextVar[date | None] = ContextVar("today", default=None)


class StrictBoolean(fields.Boolean):
    """JSON's true and false only: 1 and 0 are no booleans (`1 in {True}` holds in Python, so
    marshmallow's truthy set took them)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is not bool:
            raise self.make_error("invalid", input=value)
        return value


class FormDate(fields.Field):
    """A form-js datetime value kept as its ISO text: date, time or date-time by subtype. With
    `disallow_passed` (form-js's `disallowPassedDates`: its picker offers no day before today), a
    date, or a date-time's day, before `TODAY` is refused."""

    def __init__(self, *, subtype="date", disallow_passed=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(subtype, str) or subtype not in DATE_FORMATS:
            raise ValueError(f"subtype must be one of {', '.join(DATE_FORMATS)}, not {subtype!r}")
        if not isinstance(disallow_passed, bool):
            raise ValueError(f"disallowPassedDates must be true or false, not {disallow_passed!r}")
        self.form, self.parse, self.message = DATE_FORMATS[subtype]
        self.disallow_passed = disallow_passed and subtype != "time"  # form-js: a time has no day

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not self.form.fullmatch(value):
            raise ValidationError(self.message)
        try:
            parsed = self.parse(value)
        except ValueError:  # 2026-02-30, 25:00
            raise ValidationError(self.message) from None
        today = TODAY.get()
        if self.disallow_passed and today is not None:
            day = parsed.date() if isinstance(parsed, datetime) else parsed
            if day < today:
                raise ValidationError(MSG_PASSED.format(today=today.isoformat()))
        return value


def _options(component):
    values = component.get("values")
    if isinstance(values, list):
        options = [v.get("value") for v in values if isinstance(v, dict)]
        odd = [option for option in options if not isinstance(option, str)]
        if odd:  # a submission is text: 1 is no text, and "1" is not the option 1
            raise ValueError(f"option values must be text, not {odd[0]!r}")
        return options
    return None  # options from data (valuesKey / valuesExpression) cannot be checked here


# The largest whole number a browser's form keeps exactly (JavaScript's Number.MAX_SAFE_INTEGER).
MAX_SAFE_INTEGER = 2**53 - 1


def _rule(rules, name, kinds=(int, float)):
    """A `validate` entry of a component, checked when the form is deployed: a number where a
    number belongs (one a browser can hold), so that no submission meets a rule it cannot apply."""
    value = rules.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
        raise ValueError(
            f"validate.{name} must be a {'number' if kinds != (str,) else 'text'}, not {value!r}"
        )
    if isinstance(value, int | float) and not (_finite(value) and abs(value) <= MAX_SAFE_INTEGER):
        raise ValueError(f"validate.{name} must be at most {MAX_SAFE_INTEGER} in size, not {value!r}")
    return value


def _text_validators(component, required):
    rules = component.get("validate") or {}
    checks = []
    low, high = _rule(rules, "minLength", (int,)), _rule(rules, "maxLength", (int,))
    _ordered("minLength", low, "maxLength", high, lowest=0)
    if required and not low:
        low = 1
    if low or high:
        message = MSG_LENGTH.format(min=low or 0, max=high if high is not None else "∞")
        checks.append(validate.Length(min=low, max=high, error=message))
    pattern = _rule(rules, "pattern", (str,))
    if pattern:
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            raise ValueError(f"validate.pattern {pattern!r} is not a regular expression: {error}") from None
        checks.append(lambda v, c=compiled: bool(c.search(v)) or _fail(MSG_PATTERN))
    if rules.get("validationType") == "email":
        checks.append(validate.Email(error=MSG_PATTERN))
    return checks


def _ordered(low_name, low, high_name, high, lowest=None):
    """Bounds no value could meet are refused when the form is deployed."""
    for name, value in ((low_name, low), (high_name, high)):
        if lowest is not None and value is not None and value < lowest:
            raise ValueError(f"validate.{name} must be {lowest} or more, not {value!r}")
    if low is not None and high is not None and low > high:
        raise ValueError(
            f"validate.{low_name} {low!r} is above validate.{high_name} {high!r}: no value could meet both"
        )


_REPEATS = (re_constants.MAX_REPEAT, re_constants.MIN_REPEAT, re_constants.POSSESSIVE_REPEAT)


def _parts(op, value) -> list:
    """The sub-patterns of a parsed pattern's node: a group's, each branch's, a lookaround's."""
    if op is re_constants.SUBPATTERN:
        return [value[3]]
    if op is re_constants.BRANCH:
        return list(value[1])
    if op in (re_constants.ASSERT, re_constants.ASSERT_NOT):
        return [value[1]]
    return []


def slow_pattern(components) -> str | None:
    """The first `validate.pattern` of these components (groups and lists included) whose
    matching can take exponential time on a short text, as a message, or None. Checked when a
    form is deployed only (`forms.Form.check`): a form deployed before a shape was known to be
    slow still validates as it did, rather than failing every submission."""
    for component in components or []:
        if not isinstance(component, dict):
            continue
        pattern = (component.get("validate") or {}).get("pattern")
        if isinstance(pattern, str) and pattern:
            try:
                slow = _nested_repeat(re_parser.parse(pattern))
            except re.error:
                slow = False  # no regular expression at all: named where the field is built
            if slow:
                # `^(a+)+$` takes twice as long with each character of "aaaa…!": 26 took 4 s.
                return (
                    f"validate.pattern {pattern!r} repeats a repetition, or a choice whose branches "
                    "may begin alike, which can take exponential time on a short text: write it "
                    "without a repeat inside a repeat (or with a character class instead of the choice)"
                )
        found = slow_pattern(component.get("components"))
        if found:
            return found
    return None


def _nested_repeat(pattern, inside=False) -> bool:
    """Whether a parsed pattern has an open-ended repeat inside another repeat (`(a+)+`,
    `(\\w+\\s?)*`, `(\\w+\\s?){1,50}`: an outer repeat of more than once counts), or a choice
    between branches that may begin alike inside a repeat (`(a|a)*`, `(\\w|\\d)+`): the shapes
    whose matching can backtrack exponentially."""
    for op, value in pattern:
        if op in _REPEATS:
            _, high, body = value
            open_ended = high == re_constants.MAXREPEAT or high > 100
            if (inside and open_ended) or _nested_repeat(body, inside or high > 1):
                return True
        else:
            overlapping = op is re_constants.BRANCH and inside and _overlapping(value[1])
            if overlapping or any(_nested_repeat(part, inside) for part in _parts(op, value)):
                return True
    return False


def _first(pattern):
    """What a parsed pattern begins with: a literal character's code, or None when it may begin
    with more than one character (a class, any character, an optional part) or with nothing."""
    for op, value in pattern:
        if op is re_constants.LITERAL:
            return value
        if op is re_constants.SUBPATTERN:
            return _first(value[3])
        if op in (re_constants.AT,):  # ^, $, \b: no character
            continue
        return None
    return None


def _overlapping(branches) -> bool:
    """Whether two branches may begin with the same character (told apart only when each begins
    with a different literal one)."""
    firsts = [_first(branch) for branch in branches]
    return None in firsts or len(set(firsts)) < len(firsts)


def _bound(value, default):
    return default if value is None else value


def _fail(message):
    raise ValidationError(message)


def _field(component, required):
    kind = component["type"]
    rules = component.get("validate") or {}
    common = {"required": required, "error_messages": {"required": MSG_REQUIRED, "null": MSG_REQUIRED}}
    if kind in ("textfield", "textarea"):
        return FormText(validate=_text_validators(component, required), **common)
    if kind == "number":
        checks = []
        if rules.get("min") is not None or rules.get("max") is not None:
            low, high = _rule(rules, "min"), _rule(rules, "max")
            _ordered("min", low, "max", high)
            message = MSG_RANGE.format(min=_bound(low, "-∞"), max=_bound(high, "∞"))
            checks.append(validate.Range(min=low, max=high, error=message))
        decimals = component.get("decimalDigits")
        if decimals is not None and (
            isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0
        ):
            raise ValueError(f"decimalDigits must be a whole number, 0 or more, not {decimals!r}")
        return FormNumber(
            decimals=decimals,
            accept_string=bool(component.get("serializeToString")),
            validate=checks,
            **common,
        )
    if kind == "checkbox":
        return StrictBoolean(error_messages={**common.pop("error_messages"), "invalid": MSG_TYPE}, **common)
    if kind in ("select", "radio"):
        options = _options(component)
        checks = [validate.OneOf(options, error=MSG_CHOICE)] if options is not None else []
        return FormText(validate=checks, **common)
    if kind in ("checklist", "taglist"):
        options = _options(component)
        inner = FormText(validate=[validate.OneOf(options, error=MSG_CHOICE)] if options else [])
        return fields.List(
            inner, validate=[validate.Length(min=1, error=MSG_REQUIRED)] if required else [], **common
        )
    if kind == "datetime":
        return FormDate(
            subtype=component.get("subtype", "date"),
            disallow_passed=component.get("disallowPassedDates", False),
            **common,
        )
    # expression (computed in the browser) and filepicker (documents, handled elsewhere)
    return fields.Raw(required=False)
