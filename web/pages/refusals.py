"""What a page says when it refuses what someone sent: each problem named by its field, in the
reader's language (the API answers the same problems in English, for programs).

Marshmallow words its problems in English only ("Not a valid integer."); the engine words its own
"中文 / English". A page showed either raw, and a dict as Python prints it
(`{'page': ['Not a valid integer.']}`), to Chinese readers."""

import re

from flask_babel import gettext, lazy_gettext

from .layout import split_message

FILTER = lazy_gettext("篩選條件有誤")
FORM = lazy_gettext("輸入有誤")

# Marshmallow's own messages, as a Chinese reader reads them.
_MARSHMALLOW = [
    (re.compile(r"^Not a valid integer\.$"), lazy_gettext("請輸入整數")),
    (re.compile(r"^Not a valid number\.$"), lazy_gettext("請輸入數字")),
    (re.compile(r"^Not a valid date\.$"), lazy_gettext("請輸入有效日期（YYYY-MM-DD）")),
    (re.compile(r"^Not a valid boolean\.$"), lazy_gettext("請選擇是或否")),
    (re.compile(r"^Not a valid string\.$"), lazy_gettext("請輸入文字")),
    (re.compile(r"^Missing data for required field\.$"), lazy_gettext("此欄位為必填項")),
    (re.compile(r"^Field may not be null\.$"), lazy_gettext("此欄位為必填項")),
    (re.compile(r"^Unknown field\.$"), lazy_gettext("不認識此欄位")),
    (re.compile(r"^Must be one of: (?P<x>.+)\.$"), lazy_gettext("須為以下之一：%(x)s")),
    (  # before the single bounds, whose patterns would take its first half
        re.compile(r"^Must be greater than or equal to (?P<x>.+) and less than or equal to (?P<y>.+)\.$"),
        lazy_gettext("須在 %(x)s 至 %(y)s 之間"),
    ),
    (re.compile(r"^Must be greater than or equal to (?P<x>.+)\.$"), lazy_gettext("須大於或等於 %(x)s")),
    (re.compile(r"^Must be less than or equal to (?P<x>.+)\.$"), lazy_gettext("須小於或等於 %(x)s")),
    (re.compile(r"^Longer than maximum length (?P<x>\d+)\.$"), lazy_gettext("長度不能超過 %(x)s")),
    (re.compile(r"^Shorter than minimum length (?P<x>\d+)\.$"), lazy_gettext("長度不能少於 %(x)s")),
]


def message_text(message) -> str:
    """One problem in the reader's language: the engine's 'Chinese / English' split, marshmallow's
    translated where it is known (as written otherwise)."""
    text = str(message)
    for pattern, words in _MARSHMALLOW:
        found = pattern.match(text)
        if found:
            return str(words) % found.groupdict() if found.groupdict() else str(words)
    return split_message(text)


def problems_text(errors, labels=None) -> str:
    """`{field: [messages]}` (nested for lists and objects) as one line, each field by its label
    where `labels` has one: "金額(元)：請輸入數字；支出日期：請輸入有效日期"."""
    lines = []

    def walk(value, path):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, [*path, str(key)])
        elif isinstance(value, list | tuple) and all(isinstance(m, str) for m in value):
            name = ".".join(path)
            label = str((labels or {}).get(name, name))
            said = " ".join(message_text(m) for m in value)
            lines.append(gettext("%(field)s：%(problem)s", field=label, problem=said) if label else said)
        else:
            lines.append(message_text(value))

    walk(errors, [])
    return gettext("；").join(lines)


def refused(what, errors, labels=None) -> str:
    """ "篩選條件有誤：頁碼：請輸入整數": `what` (a lazy text) and the problems."""
    return gettext("%(what)s：%(problems)s", what=str(what), problems=problems_text(errors, labels))
