"""What diagram code may compute in one call, where the sandbox's step budget cannot see it:
`range()` at most MAX_SCRIPT_STEPS long, `**`, `pow()`, `<<`, `*`, `round()` and `sum()` checked
before they run; text and lists that one step makes (`+`, `%` templates, f-string formats,
unpacking, padding, joining, replacing) at most MAX_LENGTH long; and the values a script may
leave in the instance's data (`require_storable`). Used by `engine.sandbox`, which puts them in
diagram code's builtins, operators and methods."""

import math
import re
from itertools import islice

MAX_SCRIPT_STEPS = 1_000_000
MAX_INT_BITS = 100_000  # about 30,000 decimal digits
MAX_REPEAT = 10_000_000  # items (or characters) one `*` may make
MAX_MODULAR_BITS = 4096  # pow(base, exp, mod): exponent and modulus
MAX_ROUND_DIGITS = 4300  # round(x, n): |n|, as many digits as an int may print
MAX_LENGTH = MAX_REPEAT  # characters or items one joined, padded or formatted result may hold


class SandboxError(Exception):
    """Diagram code that does not compile under the sandbox, or that broke one of its rules."""


def bounded_range(*args):
    """`range`, at most MAX_SCRIPT_STEPS long: the step budget counts the script's own bytecode,
    and `sum(range(10**15))` loops inside C without one step of it."""
    numbers = range(*args)
    try:
        size = len(numbers)
    except OverflowError:  # longer than any list could be
        size = MAX_SCRIPT_STEPS + 1
    if size > MAX_SCRIPT_STEPS:
        raise SandboxError(f"range() of more than {MAX_SCRIPT_STEPS} numbers")
    return numbers


def _size(number) -> str:
    """A number as a message may show it: its digits when short, else how many bits it has (a
    number of more than 4,300 digits cannot even be turned into text)."""
    return str(number) if number.bit_length() < 64 else f"a {number.bit_length()}-bit number"


def _ints(*values) -> bool:
    return all(isinstance(v, int) for v in values)


def _too_big(bits, what):
    if bits > MAX_INT_BITS:
        raise SandboxError(f"{what} would be a number of more than {MAX_INT_BITS} bits")


def _checked_power(x, y):
    # At least y * log2(|x|) bits: bit_length() - 1 is log2's whole part.
    if _ints(x, y) and y > 0 and abs(x) > 1:
        _too_big(y * (abs(x).bit_length() - 1), f"{_size(x)} ** {_size(y)}")


def _checked_repeat(x, y):
    for sequence, times in ((x, y), (y, x)):
        repeated = isinstance(sequence, str | bytes | list | tuple) and isinstance(times, int)
        if repeated and len(sequence) * times > MAX_REPEAT:
            raise SandboxError(f"repeating a {type(sequence).__name__} {_size(times)} times is too long")


def _too_long(size, what):
    if size > MAX_LENGTH:
        raise SandboxError(f"{what} would be longer than {MAX_LENGTH} characters or items")


SEQUENCES = (str, bytes, list, tuple)


def arith(op, x, y):
    """`x op y` for the operators that can make an unbounded result in one C call."""
    if op == "+":
        # `s = s + s` ten times over doubles inside C each time.
        if isinstance(x, SEQUENCES) and isinstance(y, SEQUENCES):
            _too_long(len(x) + len(y), f"adding a {type(x).__name__} to a {type(y).__name__}")
        return x + y
    if op == "%":
        if isinstance(x, str | bytes):
            check_template(x)
        return x % y
    if op == "**":
        _checked_power(x, y)
        return x**y
    if op == "<<":
        if _ints(x, y) and x:
            _too_big(y + abs(x).bit_length(), f"{_size(x)} << {_size(y)}")
        return x << y
    if _ints(x, y):  # multiplying two huge numbers again and again
        _too_big(abs(x).bit_length() + abs(y).bit_length(), f"{_size(x)} * {_size(y)}")
    _checked_repeat(x, y)
    return x * y


# A `%` conversion's width and precision: `%-10.2f`, `%(name)5s`, `%*d`.
# After a `%` (and its mapping key): flags, width, precision.
_PERCENT = re.compile(r"[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_NUMBER = re.compile(r"\d+")


def _width(digits: str, what: str):
    if len(digits) > len(str(MAX_LENGTH)) or int(digits) > MAX_LENGTH:
        raise SandboxError(f"{what} asks for a width or precision of more than {MAX_LENGTH}")


def check_template(template):
    """A `%` template's widths and precisions (`'%999999999s' % ''` pads inside C)."""
    text = template.decode("latin-1") if isinstance(template, bytes) else template
    at = text.find("%")
    while at != -1:
        at += 1
        if text.startswith("%", at):  # `%%`
            at = text.find("%", at + 1)
            continue
        if text.startswith("(", at):  # a mapping key, whose own parentheses pair up
            depth = 0
            for index in range(at, len(text)):
                depth += {"(": 1, ")": -1}.get(text[index], 0)
                if depth == 0:
                    at = index + 1
                    break
            else:
                return  # unbalanced: `%` itself refuses the template
        for number in _PERCENT.match(text, at).groups():
            if number == "*":
                raise SandboxError("a `%` template takes no `*` width or precision: write it in the template")
            if number:
                _width(number, "a `%` template")
        at = text.find("%", at)


def formatted(value, conversion, spec):
    """An f-string's `{value!conversion:spec}`, its spec's numbers checked first: the spec may be
    computed (`f'{x:>{n}}'`)."""
    if conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("s"):
        value = str(value)
    elif conversion == ord("a"):
        value = ascii(value)
    for number in _NUMBER.findall(spec):
        _width(number, f"the format {spec[:40]!r}")
    return format(value, spec)


def unpacked(value):
    """What `*value` spreads into a call (`f(*a)`), at most MAX_LENGTH items."""
    if isinstance(value, (*SEQUENCES, dict, set, frozenset)):
        _too_long(len(value), f"unpacking a {type(value).__name__}")
    return value


def _items(value, room, what):
    """`value`'s items, at most `room` of them (an iterator is read only that far)."""
    if isinstance(value, (*SEQUENCES, dict, set, frozenset, range)):
        _too_long(len(value) + (MAX_LENGTH - room), what)
        return value
    taken = list(islice(iter(value), room + 1))
    _too_long(len(taken) + (MAX_LENGTH - room), what)
    return taken


def display(kind, *pieces):
    """A list, tuple or set display with `*` in it (`[1, *a, *b]`), its pieces each a tuple of
    plain items or a starred value: at most MAX_LENGTH items in all (each `*` alone was checked,
    so `[*a, *a, *a]` made three times as many)."""
    made = set() if kind == "set" else []
    for starred, piece in pieces:
        # A set's pieces may overlap: each is checked alone, then what the set holds.
        room = MAX_LENGTH if kind == "set" else MAX_LENGTH - len(made)
        part = _items(piece, room, f"a {kind} of unpacked items") if starred else piece
        if kind == "set":
            made.update(part)  # a set holds each item once: only those count
        else:
            made.extend(part)
        _too_long(len(made), f"a {kind} of unpacked items")
    return tuple(made) if kind == "tuple" else made


def _length(value) -> int:
    return len(value) if isinstance(value, SEQUENCES) else 0


def _padded(method, width, *rest):
    if isinstance(width, int):
        _too_long(width, "padding text")
    return method(width, *rest)


def _tabs_expanded(text, tabsize=8):
    if isinstance(tabsize, int):
        _too_long(
            len(text) + text.count("\t" if isinstance(text, str) else b"\t") * tabsize, "expanding tabs"
        )
    return text.expandtabs(tabsize)


def _replaced(text, old, new, count=-1):
    if isinstance(old, str | bytes) and isinstance(new, str | bytes) and isinstance(count, int):
        found = len(text) + 1 if not old else text.count(old)
        times = found if count < 0 else min(found, count)
        _too_long(len(text) + times * (len(new) - len(old)), "replacing text")
    return text.replace(old, new, count)


def _joined(separator, items):
    items = list(items)
    _too_long(len(separator) * max(len(items) - 1, 0) + sum(map(_length, items)), "joining text")
    return separator.join(items)


def _translated(text, table):
    values = table.values() if isinstance(table, dict) else table if isinstance(table, list | tuple) else ()
    longest = max((_length(v) for v in values), default=1)
    _too_long(len(text) * max(longest, 1), "translating text")
    return text.translate(table)


def _extended(items, more):
    # An iterator is read only as far as there is room (`a.extend(map(int, a))` never ends in C).
    items.extend(_items(more, MAX_LENGTH - len(items), "extending a list"))


_BOUNDED = {
    "ljust": lambda obj: lambda width, *rest: _padded(obj.ljust, width, *rest),
    "rjust": lambda obj: lambda width, *rest: _padded(obj.rjust, width, *rest),
    "center": lambda obj: lambda width, *rest: _padded(obj.center, width, *rest),
    "zfill": lambda obj: lambda width: _padded(obj.zfill, width),
    "expandtabs": lambda obj: lambda tabsize=8: _tabs_expanded(obj, tabsize),
    "replace": lambda obj: lambda old, new, count=-1: _replaced(obj, old, new, count),
    "join": lambda obj: lambda items: _joined(obj, items),
    "translate": lambda obj: lambda table: _translated(obj, table),
}


def _to_bytes(number, length=1, *args, **kwargs):
    # (0).to_bytes(2 * 10**9) allocated 2 GB in one C call.
    if isinstance(length, int) and length > MAX_LENGTH:
        raise SandboxError(f"to_bytes() of more than {MAX_LENGTH} bytes")
    return number.to_bytes(length, *args, **kwargs)


def _from_bytes(kind, data, *args, **kwargs):
    # int.from_bytes made numbers of millions of bits, past what `**` and `<<` may make.
    if not isinstance(data, bytes | bytearray | str):  # a list of byte values, or an iterator
        data = list(islice(iter(data), MAX_INT_BITS // 8 + 1))
    _too_big(len(data) * 8, "from_bytes()")
    return kind.from_bytes(data, *args, **kwargs)


def bounded_method(obj, name):
    """The method `name` of text, a list or a number, checked as `arith` checks operators, or None
    where it needs no check. The result of a method that grows its text by a bounded factor
    (`encode`, `hex`, `repr`) is not checked: only a loop repeats it, and the step budget counts
    loops."""
    if isinstance(obj, str | bytes) and name in _BOUNDED:
        return _BOUNDED[name](obj)
    if isinstance(obj, list) and name == "extend":
        return lambda more: _extended(obj, more)
    if name == "from_bytes" and (obj is int or isinstance(obj, int)):
        kind = obj if isinstance(obj, type) else type(obj)
        return lambda data, *args, **kwargs: _from_bytes(kind, data, *args, **kwargs)
    if name == "to_bytes" and isinstance(obj, int):
        return lambda *args, **kwargs: _to_bytes(obj, *args, **kwargs)
    # The same method read from the type (`str.ljust('', n)`, `map(str.center, ...)`).
    if (obj in (str, bytes) and name in _BOUNDED) or (obj is list and name == "extend"):
        return lambda own, *args, **kwargs: _unbound(obj, name, own, args, kwargs)
    if obj is int and name == "to_bytes":  # int.to_bytes(n, length)
        return lambda own, *args, **kwargs: (
            _to_bytes(own, *args, **kwargs) if isinstance(own, int) else int.to_bytes(own, *args, **kwargs)
        )
    return None


def _unbound(kind, name, own, args, kwargs):
    if not isinstance(own, kind):
        return getattr(kind, name)(own, *args, **kwargs)  # raises as Python does
    return bounded_method(own, name)(*args, **kwargs)


def bounded_pow(base, exp, mod=None):
    if mod is None:
        _checked_power(base, exp)
    elif _ints(base, exp, mod) and max(exp.bit_length(), mod.bit_length()) > MAX_MODULAR_BITS:
        raise SandboxError(f"pow() with an exponent or modulus of more than {MAX_MODULAR_BITS} bits")
    return pow(base, exp, mod)


def bounded_round(number, ndigits=None):
    # round(7, -10**8) computes 10**(10**8) inside C.
    if isinstance(ndigits, int) and abs(ndigits) > MAX_ROUND_DIGITS:
        raise SandboxError(f"round() to more than {MAX_ROUND_DIGITS} digits")
    return round(number, ndigits)


def bounded_sum(iterable, start=0):
    # sum(lists, []) copies the growing list at every item: quadratic inside one C call.
    if not isinstance(start, int | float):
        raise SandboxError("sum() adds numbers only; join lists with a comprehension")
    return sum(iterable, start)


STORABLE = (str, int, float, bool, type(None))
STORED_INT_LIMIT = 2**63  # whole numbers the data keeps exactly (web.jsontext: orjson's, a request's)
MAX_DEPTH = 100


def require_storable(key, value, depth=0):
    """A script's variable goes into the instance's state, which holds JSON: text, numbers,
    true/false, null, lists and objects (keys become text). Anything else (a set, bytes, a complex
    number) is refused here, naming the variable, instead of failing the save later."""
    if isinstance(value, str):
        require_text(key, value)
        return
    if isinstance(value, STORABLE):
        if type(value) is int and not -STORED_INT_LIMIT <= value < STORED_INT_LIMIT:
            # Written as text past 64 bits, it read back as a float (rounded), or could not be
            # written at all past 4,300 digits: every later save of the instance failed.
            raise SandboxError(
                f"`{key}` holds {_size(value)}, beyond the 64 bits the instance's data keeps exactly"
            )
        if type(value) is float and not math.isfinite(value):
            raise SandboxError(
                f"`{key}` holds {value}, which is no number JSON can keep (it was stored as null)"
            )
        return
    if depth > MAX_DEPTH:
        raise SandboxError(f"`{key}` is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, list | tuple):
        for item in value:
            require_storable(key, item, depth + 1)
    elif isinstance(value, dict):
        for name, item in value.items():
            if not isinstance(name, STORABLE):  # a number's key is kept as its text, as JSON does
                raise SandboxError(f"`{key}` has a key that cannot be kept: {name!r}")
            if isinstance(name, str):
                require_text(key, name)
            require_storable(key, item, depth + 1)
    else:
        raise SandboxError(
            f"`{key}` holds a {type(value).__name__}, which the instance's data cannot keep: "
            "use text, numbers, true/false, lists or objects"
        )


def require_text(key, text: str):
    # A lone surrogate (`chr(0xD800)`) is no character: no page or answer could show it.
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise SandboxError(
                f"`{key}` holds text that is no character ({error.object[error.start]!r})"
            ) from None
