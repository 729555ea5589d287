"""Server-side validation of Camunda Form submissions: every rule refuses, names the field, keeps nothing."""

from datetime import date

import pytest
from marshmallow import ValidationError

from engine import Form, FormValidationError
from engine.form_fields import FormNumber

SCHEMA = {
    "id": "sample",
    "type": "default",
    "components": [
        {"type": "text", "text": "# heading"},
        {"key": "title", "type": "textfield", "validate": {"required": True, "maxLength": 5}},
        {"key": "code", "type": "textfield", "validate": {"pattern": "^C-[0-9]+$"}},
        {"key": "note", "type": "textarea"},
        {"key": "amount", "type": "number", "validate": {"min": 0, "max": 100}},
        {"key": "months", "type": "number", "decimalDigits": 0},
        {"key": "urgent", "type": "checkbox"},
        {
            "key": "decision",
            "type": "select",
            "values": [{"label": "同意", "value": "approve"}, {"label": "否決", "value": "reject"}],
            "validate": {"required": True},
        },
        {
            "key": "methods",
            "type": "checklist",
            "values": [{"label": "課堂", "value": "classroom"}, {"label": "在線", "value": "online"}],
        },
        {"key": "on", "type": "datetime", "subtype": "date"},
        {"type": "group", "path": "contact", "components": [{"key": "email", "type": "textfield"}]},
        {"key": "meta.source", "type": "textfield"},
        {
            "type": "dynamiclist",
            "path": "risks",
            "components": [
                {
                    "key": "priority",
                    "type": "select",
                    "values": [{"label": "高", "value": "high"}, {"label": "低", "value": "low"}],
                },
                {"key": "measures", "type": "textarea", "properties": {"requiredWhen": "priority == 'high'"}},
            ],
        },
        {
            "key": "shown_later",
            "type": "textfield",
            "validate": {"required": True},
            "conditional": {"hide": "=x"},
        },
    ],
}

VALID = {"title": "升級", "decision": "approve"}


@pytest.fixture
def form():
    return Form(SCHEMA)


def errors_of(form, data):
    with pytest.raises(FormValidationError) as caught:
        form.validate(data)
    return caught.value.errors


def test_a_valid_submission_comes_back_as_submitted(form):
    data = {
        **VALID,
        "code": "C-12",
        "amount": 12.5,
        "months": 6,
        "urgent": True,
        "methods": ["online"],
        "on": "2026-12-01",
        "contact": {"email": "a@b.c"},
        "meta": {"source": "mail"},
        "risks": [{"priority": "high", "measures": "試點"}, {"priority": "low"}],
    }
    assert form.validate(data) == data


def test_keys_are_the_top_level_inputs(form):
    assert form.keys == {
        "title", "code", "note", "amount", "months", "urgent", "decision", "methods", "on",
        "contact", "meta", "risks", "shown_later",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"decision": "approve"}, "title"),
        ({**VALID, "title": ""}, "title"),
        ({**VALID, "title": "too long"}, "title"),
        ({**VALID, "title": 5}, "title"),
        ({"title": "x"}, "decision"),
        ({**VALID, "decision": "maybe"}, "decision"),
        ({**VALID, "code": "X-1"}, "code"),
        ({**VALID, "amount": 101}, "amount"),
        ({**VALID, "amount": "12"}, "amount"),
        ({**VALID, "amount": True}, "amount"),
        ({**VALID, "months": 1.5}, "months"),
        ({**VALID, "amount": float("nan")}, "amount"),  # JSON bodies may carry NaN and Infinity
        ({**VALID, "months": float("inf")}, "months"),
        ({**VALID, "note": None, "amount": float("-inf")}, "amount"),
        ({**VALID, "urgent": "yes"}, "urgent"),
        ({**VALID, "methods": ["fax"]}, "methods.0"),
        ({**VALID, "on": "1 Dec"}, "on"),
        # What `date.fromisoformat` reads but no date picker writes: they compared as text
        # with the dates around them (an end "2026-W01-1" came after a start "2026-12-01").
        ({**VALID, "on": "2026-W01-1"}, "on"),
        ({**VALID, "on": "20261201"}, "on"),
        ({**VALID, "on": "２０２６-12-01"}, "on"),
        ({**VALID, "on": "2026-02-30"}, "on"),
        ({**VALID, "contact": {"phone": "1"}}, "contact.phone"),
        ({**VALID, "risks": [{"priority": "high"}]}, "risks.0.measures"),
        ({**VALID, "risks": [{"priority": "low", "extra": 1}]}, "risks.0.extra"),
        ({**VALID, "bogus": 1}, "bogus"),
    ],
)
def test_each_bad_field_is_named(form, data, field):
    assert field in errors_of(form, data)


def test_messages_are_chinese_first_with_english(form):
    [message] = errors_of(form, {"decision": "approve"})["title"]
    assert message.startswith("此欄位為必填項") and "required" in message


def test_a_submission_must_be_an_object(form):
    assert "_schema" in errors_of(form, ["title"])


def test_all_problems_are_reported_together(form):
    assert set(errors_of(form, {"bogus": 1})) == {"title", "decision", "bogus"}


def test_a_form_file_must_be_json_with_components():
    with pytest.raises(ValueError, match="invalid JSON at line 1"):
        Form.from_json("{", "x.form")
    with pytest.raises(ValueError, match="components"):
        Form.from_json('{"id": "x"}', "x.form")
    with pytest.raises(ValueError, match="no character"):  # was a 500 at deploy
        Form.from_json('{"components": [{"type": "text", "text": "\\ud800"}]}', "x.form")


def test_a_form_without_id_takes_its_file_name():
    assert Form.from_json('{"components": []}', "forms/start-form.form").id == "start-form"


def test_a_whole_number_beyond_any_float_is_no_number():
    """10**400 is an int JSON may carry, but no number a form can show (nor compare): refused
    like NaN, not a crash."""
    field = FormNumber()
    with pytest.raises(ValidationError):
        field.deserialize(10**400)


def test_times_and_date_times_are_what_the_pickers_write():
    form = Form(
        {
            "components": [
                {"key": "at", "type": "datetime", "subtype": "time"},
                {"key": "when", "type": "datetime", "subtype": "datetime"},
            ]
        },
        "times.form",
    )
    good = {"at": "09:30", "when": "2026-12-01T09:30+08:00"}
    assert form.validate(good) == good
    assert form.validate({"at": "09:30:15Z", "when": "2026-12-01T09:30:00.5Z"})
    for bad in ({"at": "0930"}, {"at": "25:00"}, {"when": "2026-12-01 09:30"}, {"when": "2026-12-01"}):
        (field,) = bad
        assert "時間" in errors_of(form, bad)[field][0]


def test_a_date_its_picker_offers_from_today_on_is_refused_before_today():
    """form-js's `disallowPassedDates`: the picker offers no day before today, and the server takes
    none either (a client need not use the picker). Today is the day the caller gives; a date-time
    is judged by its day; a time has no day (form-js ignores the property there)."""
    form = Form(
        {
            "components": [
                {"key": "on", "type": "datetime", "subtype": "date", "disallowPassedDates": True},
                {"key": "at", "type": "datetime", "subtype": "datetime", "disallowPassedDates": True},
                {"key": "time", "type": "datetime", "subtype": "time", "disallowPassedDates": True},
                {"key": "held", "type": "datetime", "subtype": "date"},
            ]
        },
        "days.form",
    )
    today = date(2026, 3, 10)
    good = {"on": "2026-03-10", "at": "2026-03-10T00:00", "time": "00:00", "held": "2020-01-01"}
    assert form.validate(good, today=today) == good
    with pytest.raises(FormValidationError) as refused:
        form.validate({**good, "on": "2026-03-09", "at": "2026-03-09T23:59+08:00"}, today=today)
    assert set(refused.value.errors) == {"on", "at"}
    assert refused.value.errors["on"] == [
        "日期不能早於今天（2026-03-10） / The date cannot be before today (2026-03-10)."
    ]
    # Without a day to compare with (a caller with no clock), no date is refused as passed.
    assert form.validate({**good, "on": "2020-01-01"}) == {**good, "on": "2020-01-01"}


def _nested(groups):
    component = {"key": "deep", "type": "textfield"}
    for _ in range(groups):
        component = {"type": "group", "components": [component]}
    return component


@pytest.mark.parametrize(
    ("component", "words"),
    [
        ({"key": "on", "type": "datetime", "subtype": ["date"]}, "subtype must be one of date, time"),
        ({"key": "on", "type": "datetime", "subtype": "week"}, "subtype must be one of"),
        (
            {"key": "on", "type": "datetime", "disallowPassedDates": "yes"},
            "disallowPassedDates must be true or false",
        ),
        # Deployed, these made every opening of the task a 500 (no JSON answer holds them).
        ({"key": "t", "type": "textfield", "validate": {"maxLength": 2**64}}, "validate.maxLength"),
        ({"key": "n", "type": "number", "validate": {"max": float("inf")}}, "validate.max"),
        ({"key": "n", "type": "number", "decimalDigits": -(2**60)}, "components.0.decimalDigits"),
        # Deployed, no submission could ever pass these: the task could never be completed.
        ({"key": "t", "type": "textfield", "validate": {"minLength": 5, "maxLength": 2}}, "above"),
        ({"key": "t", "type": "textfield", "validate": {"maxLength": -1}}, "0 or more"),
        ({"key": "n", "type": "number", "validate": {"min": 10, "max": 1}}, "above"),
        (
            {"key": "s", "type": "select", "values": [{"label": "一", "value": 1}]},
            "option values must be text",
        ),
        # `^(a+)+$` took 4 s on 26 characters, twice as long with each more: a worker tied up.
        ({"key": "t", "type": "textfield", "validate": {"pattern": "^(a+)+$"}}, "repeats a repetition"),
        ({"key": "t", "type": "textfield", "validate": {"pattern": "^(\\w+\\s?)*$"}}, "repeats a repetition"),
        # 26 characters took 6.8 s, 2.2 s and as long: a bounded outer repeat, overlapping branches.
        (
            {"key": "t", "type": "textfield", "validate": {"pattern": "^(\\w+\\s?){1,50}$"}},
            "repeats a repetition",
        ),
        ({"key": "t", "type": "textfield", "validate": {"pattern": "^(a|a)*$"}}, "branches may begin alike"),
        ({"key": "t", "type": "textfield", "validate": {"pattern": "^(a+){2,100}$"}}, "repeats a repetition"),
        # Deeper, the stored definition could not be written: a 500 at deploy.
        (_nested(40), "nested more than 64 levels deep"),
    ],
)
def test_a_rule_no_submission_or_browser_could_meet_is_refused_when_checked(component, words):
    form = Form({"components": [component]}, "bad.form")
    with pytest.raises(ValueError, match=words.replace(".", r"\.")):
        form.check()


def test_a_checkbox_takes_true_or_false_only():
    """1 and 0 were taken as true and false (`1 in {True}` holds in Python) and stored so."""
    form = Form({"components": [{"key": "ok", "type": "checkbox"}]}, "c.form")
    assert form.validate({"ok": True}) == {"ok": True} and form.validate({"ok": False}) == {"ok": False}
    for wrong in (1, 0, "true", None):
        assert errors_of(form, {"ok": wrong})["ok"], wrong


def test_a_stored_form_with_a_pattern_refused_since_still_validates():
    """A version deployed before a pattern's shape was refused keeps validating its submissions:
    the check, made when the field was built, failed every submission of it (a 500)."""
    form = Form(
        {"components": [{"key": "t", "type": "textfield", "validate": {"pattern": "^(\\w+\\s?){1,50}$"}}]},
        "p.form",
    )
    assert form.validate({"t": "two words"}) == {"t": "two words"}
    assert errors_of(form, {"t": "no!"})["t"]
    with pytest.raises(ValueError, match="repeats a repetition"):
        form.check()  # a new deploy of it is refused


def test_patterns_without_nested_or_overlapping_repeats_are_taken():
    for pattern in (
        "^(foo|bar)+$",
        "^(\\d{3}-){2}\\d{4}$",
        "^(\\+|-)?\\d+$",
        "^[\\w.]+@[\\w-]+\\.[a-z]{2,}$",
    ):
        Form(
            {"components": [{"key": "t", "type": "textfield", "validate": {"pattern": pattern}}]}, "p.form"
        ).check()
    Form({"components": [_nested(30)]}, "deep.form").check()


def test_a_number_takes_at_most_its_decimal_digits():
    form = Form({"components": [{"key": "price", "type": "number", "decimalDigits": 2}]}, "p.form")
    for good in (12, 12.5, 12.25, 1e22):
        assert form.validate({"price": good}) == {"price": good}
    for bad in (12.255, 0.1 + 0.2, 1e-7):
        assert "2" in errors_of(form, {"price": bad})["price"][0]
    with pytest.raises(ValueError, match="decimalDigits"):
        Form({"components": [{"key": "n", "type": "number", "decimalDigits": "2"}]}, "p.form").check()


ROW = {"components": [{"key": "name", "type": "textfield", "validate": {"required": True}}]}


def listed(path, **options):
    return {"type": "dynamiclist", "path": path, **ROW, **options}


def test_a_list_left_out_is_no_rows_the_rows_shown_or_left_alone_when_hidden():
    form = Form(
        {
            "components": [
                listed("free"),
                listed("fixed", allowAddRemove=False),
                listed("hidden", conditional={"hide": "=true"}),
            ]
        },
        "lists.form",
    )
    shown = {"fixed": [{"name": "a"}], "hidden": [{"name": "h"}]}
    accepted = form.validate({}, shown)
    assert accepted == {"free": [], "fixed": [{"name": "a"}]}  # `hidden` stays out: the data keeps it
    with pytest.raises(FormValidationError) as refused:
        form.validate({}, {})  # a fixed list with no rows shown and none sent
    assert set(refused.value.errors) == {"fixed"}


def test_a_conditionally_required_field_given_a_bad_value_is_named_once():
    form = Form(
        {
            "components": [
                {"key": "kind", "type": "textfield"},
                {"key": "amount", "type": "number", "properties": {"requiredWhen": "kind == 'b'"}},
            ]
        },
        "amount.form",
    )
    with pytest.raises(FormValidationError) as refused:
        form.validate({"kind": "b", "amount": "lots"})
    assert refused.value.errors == {"amount": [refused.value.errors["amount"][0]]}
    assert "required" not in refused.value.errors["amount"][0]


def test_what_a_hidden_group_holds_is_never_required():
    """form-js leaves out what a group hidden by a condition holds: its fixed list and its
    required field were refused as missing though the user never saw them."""
    form = Form(
        {
            "components": [
                {
                    "type": "group",
                    "label": "Details",
                    "conditional": {"hide": "=kind != 'b'"},
                    "components": [
                        listed("fixed", allowAddRemove=False),
                        {"key": "reason", "type": "textfield", "validate": {"required": True}},
                    ],
                },
                {"key": "kind", "type": "textfield"},
            ]
        },
        "hidden.form",
    )
    assert form.validate({"kind": "a"}, {}) == {"kind": "a"}
    accepted = form.validate(
        {"kind": "b", "fixed": [{"name": "x"}], "reason": "因為"}, {"fixed": [{"name": "x"}]}
    )
    assert accepted["reason"] == "因為" and accepted["fixed"] == [{"name": "x"}]
