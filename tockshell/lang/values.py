"""Values of the tsh expression language, and how they print and compare.

An expression evaluates to a plain Python value wherever one fits:

* ``int`` for numbers, addresses, durations (nanoseconds) and sizes (bytes);
* ``str`` for strings, ``bytes`` for byte strings, ``bool``, ``None`` (``none``);
* :class:`Symbol` for words that name something (``Running``, ``NODEVICE``,
  ``Unique``): a ``str`` that prints without quotes;
* :class:`ResultValue` for a syscall result (``$_``), which knows the registers
  the kernel wrote;
* :class:`Pattern` for a result pattern (``Success(u32=3)``);
* :class:`ProcessRef` for a bare process name;
* ``tuple`` for lists (``$_.values``), ``dict`` for records such as ``$stop``.

Nothing here prints a Python repr: :func:`show` and :func:`show_echo` give the
TRD104 spelling of every value.
"""

from __future__ import annotations

from typing import Any

from ..abi import ErrorCode, SyscallReturn, Variant, YieldWaitForReturn

__all__ = ["Symbol", "Time", "ResultValue", "Pattern", "ProcessRef", "show", "show_echo", "equal",
           "truthy", "type_name", "format_time", "format_size", "quote_bytes"]


class Symbol(str):
    """A word that names something (a state, an error code, ``Unique``); prints bare."""

    __slots__ = ()


class Time(int):
    """A virtual time or duration in nanoseconds (an int that prints as ``1.5ms``)."""

    __slots__ = ()


class ProcessRef:
    """A process named in an expression by its bare name (prints the name)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ProcessRef):
            return other.name == self.name
        if isinstance(other, str):
            return other == self.name
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)


class ResultValue:
    """A syscall result as ``$_`` holds it: the kernel's return and the registers it wrote.

    ``ret`` is a :class:`~tockshell.abi.SyscallReturn` or a
    :class:`~tockshell.abi.YieldWaitForReturn`; ``regs`` are r0..r3 after the
    kernel wrote the return value over the caller's argument registers.
    """

    __slots__ = ("ret", "regs")

    def __init__(self, ret, args: tuple[int, int, int, int] = (0, 0, 0, 0)):
        self.ret = ret
        self.regs = ret.registers(tuple(args))

    @property
    def is_wait_for(self) -> bool:
        return isinstance(self.ret, YieldWaitForReturn)

    def field(self, name: str) -> Any:
        """``$_.r0`` ... ``$_.r3``, ``$_.error``, ``$_.value``, ``$_.values``; KeyError if unknown."""
        if name in ("r0", "r1", "r2", "r3"):
            return self.regs[int(name[1])]
        r = self.ret
        if isinstance(r, YieldWaitForReturn):
            if name == "error":
                return None
            if name == "value":
                return r.args[0]
            if name == "values":
                return tuple(r.args)
            if name == "args":
                return tuple(r.args)
            raise KeyError(name)
        if name == "error":
            return None if r.error is None else Symbol(r.error.name)
        if name == "value":
            return r.value
        if name == "values":
            return tuple(r.values)
        if name == "variant":
            return Symbol(r.kind)
        if name == "ok" or name == "success":
            return r.is_success
        raise KeyError(name)

    FIELDS = ("r0", "r1", "r2", "r3", "error", "value", "values", "variant", "ok")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ResultValue):
            return self.ret == other.ret if type(self.ret) is type(other.ret) and not self.is_wait_for \
                else self.regs[:3] == other.regs[:3]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.regs)

    def __str__(self) -> str:
        return str(self.ret)


class Pattern:
    """A result pattern: ``Success``, ``Failure(NODEVICE)``, ``Success(u32=3)``, ``SuccessU32``.

    It compares only what it names. ``args`` are evaluated positional values
    (for a Failure the first one is the error code), ``kwargs`` a dict such as
    ``{"u32": 3}``.
    """

    __slots__ = ("variant", "args", "kwargs", "called")

    _VARIANTS = {
        "SuccessU32": Variant.SUCCESS_U32, "SuccessU32U32": Variant.SUCCESS_2_U32,
        "SuccessU32U32U32": Variant.SUCCESS_3_U32, "SuccessU64": Variant.SUCCESS_U64,
        "SuccessU32U64": Variant.SUCCESS_U32_U64, "FailureU32": Variant.FAILURE_U32,
        "FailureU32U32": Variant.FAILURE_2_U32, "FailureU64": Variant.FAILURE_U64,
    }

    def __init__(self, variant: str, args: tuple = (), kwargs: dict | None = None, called: bool = False):
        self.variant = variant
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        self.called = called

    @property
    def is_success(self) -> bool:
        return self.variant.startswith("Success")

    def matches(self, value: Any) -> bool:
        """True if ``value`` (a ResultValue or a SyscallReturn) is what the pattern names."""
        if isinstance(value, ResultValue):
            value = value.ret
        if not isinstance(value, SyscallReturn):
            return False
        if value.is_success != self.is_success:
            return False
        want = self._VARIANTS.get(self.variant)
        if want is not None and value.variant != want:
            return False
        args = list(self.args)
        if not self.is_success and args:
            code = args.pop(0)
            if not _error_matches(code, value.error):
                return False
        if len(args) > len(value.values):
            return False
        for a, v in zip(args, value.values):
            if not equal(a, v):
                return False
        for key, expected in self.kwargs.items():
            if not _keyword_matches(key, expected, value):
                return False
        return True

    def __str__(self) -> str:
        parts = [show(a) for a in self.args] + [f"{k}={show(v)}" for k, v in self.kwargs.items()]
        if parts or self.called:
            return f"{self.variant}({', '.join(parts)})"
        return self.variant


def _error_matches(code: Any, error: ErrorCode | None) -> bool:
    if error is None:
        return False
    if isinstance(code, str):
        return code.upper() == error.name or (code.upper() == "INVALID" and error is ErrorCode.INVAL)
    if isinstance(code, int) and not isinstance(code, bool):
        return int(error) == code
    return False


_KEYWORD_VARIANTS = {
    "u32": (Variant.SUCCESS_U32, Variant.FAILURE_U32, Variant.SUCCESS_U32_U64),
    "u64": (Variant.SUCCESS_U64, Variant.FAILURE_U64, Variant.SUCCESS_U32_U64),
}


def _keyword_matches(key: str, expected: Any, r: SyscallReturn) -> bool:
    if key == "error":
        return _error_matches(expected, r.error)
    variants = _KEYWORD_VARIANTS.get(key)
    if variants is None or r.variant not in variants:
        return False
    if r.variant == Variant.SUCCESS_U32_U64:
        actual = r.values[0] if key == "u32" else r.values[1]
    else:
        actual = r.values[0]
    return equal(expected, actual)


# ----------------------------------------------------------------- comparisons
def equal(a: Any, b: Any) -> bool:
    """tsh equality: patterns match results, bytes equal the UTF-8 of a string, words are case-exact."""
    if isinstance(a, Pattern):
        return a.matches(b)
    if isinstance(b, Pattern):
        return b.matches(a)
    if isinstance(a, bytes) and isinstance(b, str):
        return a == b.encode("utf-8")
    if isinstance(b, bytes) and isinstance(a, str):
        return b == a.encode("utf-8")
    if isinstance(a, ProcessRef) or isinstance(b, ProcessRef):
        return a == b
    if isinstance(a, bool) != isinstance(b, bool):
        # true == 1 is a type confusion in a test script; say no rather than guess.
        return False
    if isinstance(a, SyscallReturn) and isinstance(b, ResultValue):
        return a == b.ret
    if isinstance(b, SyscallReturn) and isinstance(a, ResultValue):
        return b == a.ret
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - incomparable values are simply unequal
        return False


def truthy(v: Any) -> bool:
    """Truth of a value in ``and``/``or``/``not``/``expect``/``until``."""
    if isinstance(v, ResultValue):
        # A wait-for result is a delivered upcall: it happened, so it is true.
        return v.is_wait_for or v.ret.is_success
    if isinstance(v, Pattern):
        return True
    return bool(v)


#: The kind of a value in words; the first match wins (a bool is an int, a Symbol a str).
_TYPE_NAMES = ((bool, "a boolean"), (int, "a number"), (Symbol, "a word"), (str, "a string"), (bytes, "bytes"),
               (ResultValue, "a syscall result"), (Pattern, "a result pattern"), (ProcessRef, "a process"),
               (tuple, "a list"), (dict, "a record"))


def type_name(v: Any) -> str:
    """The kind of a value in words, for error messages."""
    if v is None:
        return "none"
    for cls, name in _TYPE_NAMES:
        if isinstance(v, cls):
            return name
    return "a value"


# ------------------------------------------------------------------- printing
def quote_bytes(data: bytes, limit: int = 64) -> str:
    """Bytes as a tsh literal: a string if it is printable UTF-8, else ``x"de ad"``."""
    try:
        text = data.decode("utf-8")
        printable = all(c.isprintable() or c in "\n\t" for c in text)
        # Two random bytes are often valid UTF-8 (x"de ad" is one Thaana letter): only text that
        # is mostly ASCII reads better as a string than as the bytes a test wrote.
        printable = printable and 2 * sum(not c.isascii() for c in text) < len(text)
    except UnicodeDecodeError:
        printable = False
    if printable:
        return quote_str(text if len(text) <= limit else text[:limit] + "…")
    shown = data[:limit]
    body = " ".join(f"{b:02x}" for b in shown)
    return f'x"{body}"' + ("…" if len(data) > limit else "")


def quote_str(text: str) -> str:
    """A string as a tsh literal; control characters as escapes (never raw bytes to the terminal)."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    if not out.isprintable():
        out = "".join(c if c.isprintable() else _escape(c) for c in out)
    return f'"{out}"'


def _escape(c: str) -> str:
    # tsh's \xNN is a byte, so a character beyond ASCII is escaped as its UTF-8 bytes.
    try:
        data = c.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 exists for it
        data = c.encode("utf-8", "surrogateescape") if 0xDC80 <= ord(c) <= 0xDCFF else b"?"
    return "".join(f"\\x{b:02x}" for b in data)


def show(v: Any) -> str:
    """A value as the shell shows it (``print``, expect messages): strings quoted."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Symbol):
        return str(v)
    if isinstance(v, Time):
        return format_time(int(v))
    if isinstance(v, int):
        return _show_int(v)
    if isinstance(v, str):
        return quote_str(v)
    if isinstance(v, (bytes, bytearray)):
        return quote_bytes(bytes(v))
    if isinstance(v, ResultValue):
        return str(v.ret)
    if isinstance(v, (SyscallReturn, YieldWaitForReturn, Pattern)):
        return str(v)
    if isinstance(v, ProcessRef):
        return v.name
    if isinstance(v, tuple) or isinstance(v, list):
        return "[" + ", ".join(show(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {show(x)}" for k, x in v.items()) + "}"
    if hasattr(v, "describe"):
        return v.describe()
    return str(v)


def _show_int(v: int) -> str:
    # Addresses read better in hex; small counts in decimal.
    if v >= 0x1000:
        return f"{v:#x}"
    return str(v)


def show_echo(v: Any) -> str:
    """A value as ``echo`` prints it: strings bare, bytes as text when they are text."""
    if isinstance(v, int) and not isinstance(v, (bool, Time)):
        return str(v)
    if isinstance(v, str):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        # Bytes from a process's memory go out as text only when they are text: a stray ESC or
        # NUL must not reach the terminal.
        quoted = quote_bytes(bytes(v), limit=len(v))
        return bytes(v).decode("utf-8") if quoted.startswith('"') else quoted
    return show(v)


def format_time(ns: int) -> str:
    """Virtual time for people: ``0us``, ``11.718us``, ``1.007ms``, ``2.5s``."""
    if ns < 0:
        return "-" + format_time(-ns)
    if ns < 1_000_000:
        return _trim(ns / 1_000, 3) + "us"
    if ns < 1_000_000_000:
        return _trim(ns / 1_000_000, 3) + "ms"
    return _trim(ns / 1_000_000_000, 6) + "s"


def _trim(x: float, digits: int) -> str:
    s = f"{x:.{digits}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def format_size(n: int) -> str:
    """``76 B``, ``2 KiB``, ``1.9 KiB``."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return _trim(n / 1024, 1) + " KiB"
    return _trim(n / (1024 * 1024), 1) + " MiB"
