"""JSON text through orjson: instance state and events as the database stores them, and the
API's answers. Several times faster than the standard library (a 40 KB state: 0.2 ms -> 0.03 ms
to write, 0.17 -> 0.07 ms to read) and more compact. Whatever orjson refuses (an integer past
64 bits, say) goes through the standard library exactly as before, so nothing that was accepted
is now refused."""

import json

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_NON_STR_KEYS
# The database takes JSON's own types only, as before: a datetime or dataclass that strayed into
# state is refused (by the standard library) rather than stored as text that reads back as a str.
_COLUMN_OPTIONS = _OPTIONS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
COMPACT = {"separators": (",", ":")}  # what Flask asks for outside debug mode: orjson's own output


def dumps(value) -> str:
    """`value` as JSON text (the database's JSON columns)."""
    try:
        return orjson.dumps(value, option=_COLUMN_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value)


def loads(text):
    """The value of JSON text (bytes or str); NaN and Infinity, which the standard library wrote
    and reads, too. Text that escapes half a UTF-16 pair ("\\ud800") is refused (ValueError):
    it is no character, and stored it made every later page of the instance fail."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _standard_loads(text)


def loads_exact(text):
    """`loads` for JSON someone sent (API and page bodies, the CLI's --set and --data), exact in
    its whole numbers, so that `problem` sees one beyond 64 bits and refuses it. orjson reads such
    a number as a float (2**64 as 1.8446744073709552e+19), which `problem` cannot tell from a
    float, and it was stored rounded. Any number beyond 64 bits is written with at least 19 digits
    (2**63 has 19): text holding 19 digits in a row (rare: a number that large, or a string of
    digits) is read by the standard library, whose integers are exact; all other text by orjson
    as `loads` reads it. The check is a translation and a search in C, well under half of what
    orjson takes to parse the same text; the database's columns (`loads`) skip it."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    if _NINETEEN_DIGITS not in raw.translate(_DIGITS_AS_ZERO):
        return loads(text)
    return _standard_loads(text)


_DIGITS_AS_ZERO = bytes(ord("0") if ord("0") <= byte <= ord("9") else ord(" ") for byte in range(256))
_NINETEEN_DIGITS = b"0" * 19


def _standard_loads(text):
    # The standard library's reading: NaN and Infinity, exact integers; no lone surrogate.
    try:
        value = json.loads(text)
    except RecursionError:  # deeper than orjson's 1024 levels: a 400, not a crash
        raise ValueError("nested too deeply") from None
    _refuse_lone_surrogates(value)
    return value


MAX_NESTING = 64  # levels of lists and objects in what a request may store
INT_LIMIT = 2**63  # what a number column or orjson holds


def problem(value, path="", depth=0) -> str | None:
    """What in a request's JSON value cannot be stored as it came, with where (a dotted path),
    or None: text holding NUL (PostgreSQL's text cannot), NaN or Infinity (no JSON), an integer
    beyond 64 bits, nesting deeper than MAX_NESTING levels."""
    where = path or "the body"
    if isinstance(value, str):
        return f"{where}: text may not contain the NUL character (\\u0000)" if "\x00" in value else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return f"{where}: a whole number beyond 64 bits" if not -INT_LIMIT <= value < INT_LIMIT else None
    if isinstance(value, float):
        return f"{where}: NaN and Infinity are no numbers" if value != value or value in (INF, -INF) else None
    if depth >= MAX_NESTING:
        return f"{where}: nested more than {MAX_NESTING} levels deep"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        inner = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and "\x00" in key:
            return f"{inner}: text may not contain the NUL character (\\u0000)"
        found = problem(item, inner, depth + 1)
        if found is not None:
            return found
    return None


INF = float("inf")


def _refuse_lone_surrogates(value):
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"text with a lone surrogate (not a character): {value[:40]!r}") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_lone_surrogates(key)
            _refuse_lone_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_lone_surrogates(item)


class Provider(DefaultJSONProvider):
    """Flask's JSON (jsonify, request.get_json) through orjson, with Flask's own conversions:
    keys sorted, dates as HTTP dates, dataclasses, decimals and UUIDs as Flask writes them."""

    def dumps(self, obj, **kwargs):
        if kwargs and kwargs != COMPACT:  # other json.dumps options (indent in debug): as asked
            return super().dumps(obj, **kwargs)
        try:
            return orjson.dumps(
                obj,
                default=self.default,
                option=_OPTIONS
                | orjson.OPT_SORT_KEYS
                | orjson.OPT_PASSTHROUGH_DATETIME
                | orjson.OPT_PASSTHROUGH_DATACLASS,
            ).decode()
        except TypeError:
            return super().dumps(obj)

    def loads(self, s, **kwargs):
        return super().loads(s, **kwargs) if kwargs else loads_exact(s)  # what a request sent
