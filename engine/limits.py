"""What diagram code may compute in one call, where the sandbox's step budget cannot see it:
`range()` at most MAX_SCRIPT_STEPS long, `**`, `pow()`, `<<`, `*`, `round()` and `sum()` checked
before they run, and the values a script may leave in the instance's data (`require_storable`).
Used by `engine.sandbox`, which puts them in diagram code's builtins and operators."""

MAX_SCRIPT_STEPS = 1_000_000
MAX_INT_BITS = 100_000  # about 30,000 decimal digits
MAX_REPEAT = 10_000_000  # items (or characters) one `*` may make
MAX_MODULAR_BITS = 4096  # pow(base, exp, mod): exponent and modulus
MAX_ROUND_DIGITS = 4300  # round(x, n): |n|, as many digits as an int may print


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


def arith(op, x, y):
    """`x op y` for the operators that can make an unbounded result in one C call."""
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
MAX_DEPTH = 100


def require_storable(key, value, depth=0):
    """A script's variable goes into the instance's state, which holds JSON: text, numbers,
    true/false, null, lists and objects (keys become text). Anything else (a set, bytes, a complex
    number) is refused here, naming the variable, instead of failing the save later."""
    if isinstance(value, str):
        require_text(key, value)
        return
    if isinstance(value, STORABLE):
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
