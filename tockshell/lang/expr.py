"""Evaluating tsh expressions against a session.

``evaluate(session, expr)`` turns an AST expression into a value (see
:mod:`tockshell.lang.values`). Names resolve in this order: a bare word that
names a constant (``true``, ``none``, a state such as ``Running``, an error
code such as ``NODEVICE``); then the longest dotted prefix that is a process
(``client.state`` is process ``client``, field ``state``, and a process named
``a.b`` still works); ``now`` is the virtual time in ns. Variables (``$x``)
resolve the same way against the session's variables, ``$_`` (the last
syscall result) and ``$stop`` (the last stop).

Errors are :class:`~tockshell.lang.errors.TshError` at the offending node.
"""

from __future__ import annotations

from typing import Any

from ..kernel import MemoryFault
from . import ast
from .commands import PROCESS_FIELDS, process_field
from .errors import TshError, suggestion
from .values import Pattern, ProcessRef, ResultValue, Symbol, Time, equal, show, truthy, type_name

__all__ = ["evaluate", "evaluate_int", "evaluate_bytes", "expr_text", "CONSTANTS"]

#: Bare words with a fixed meaning in expressions.
CONSTANTS: dict[str, Any] = {"true": True, "false": False, "none": None, "null": None,
                             "Unique": Symbol("Unique")}
for _s in ast.PROCESS_STATES:
    CONSTANTS[_s] = Symbol(_s)
for _e in ast.ERROR_CODES:
    CONSTANTS[_e] = Symbol(_e)
CONSTANTS["INVALID"] = Symbol("INVAL")  # TRD104's spelling of the kernel's INVAL
for _k in ("break", "catch", "watch"):  # the kinds of $stop
    CONSTANTS[_k] = Symbol(_k)


def _err(node, msg: str, pos=None) -> TshError:
    return TshError(msg, getattr(node, "pos", None) or pos)


def evaluate(session, e, pos=None) -> Any:
    """The value of expression ``e``; ``pos`` is used for nodes without a position."""
    m = _DISPATCH.get(type(e))
    if m is None:
        if isinstance(e, (int, str, bytes)) or e is None:
            return e
        raise _err(e, f"cannot evaluate {type(e).__name__} here", pos)
    return m(session, e, getattr(e, "pos", None) or pos)


def evaluate_int(session, e, what: str = "a number", pos=None) -> int:
    """Evaluate and insist on an integer (durations and sizes are integers too)."""
    v = evaluate(session, e, pos)
    if isinstance(v, bool) or not isinstance(v, int):
        raise _err(e, f"expected {what}, got {type_name(v)} ({show(v)})", pos)
    return v


def evaluate_bytes(session, e, pos=None) -> bytes:
    """Evaluate to bytes: a string is its UTF-8, a number list is one byte each."""
    v = evaluate(session, e, pos)
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    raise _err(e, f"expected a string or bytes, got {type_name(v)} ({show(v)})", pos)


# ------------------------------------------------------------------ literals
def _number(s, e, pos):
    return e.value


def _duration(s, e, pos):
    return Time(e.nanoseconds)


def _size(s, e, pos):
    return e.bytes


def _string(s, e, pos):
    # A string with a \xNN escape that is not UTF-8 is bytes; otherwise text.
    if e.data != e.text.encode("utf-8"):
        return e.data
    return e.text


def _bytes(s, e, pos):
    return e.data


def _list(s, e, pos):
    return tuple(evaluate(s, x, pos) for x in e.items)


# ------------------------------------------------------------------ names
def _var(s, e, pos):
    parts = e.parts
    specials = {"_": lambda: s.last_result, "stop": lambda: None if s.last_stop is None
                else s.last_stop.as_record()}
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        if key in s.variables:
            return _fields(s, e, s.variables[key], parts[i:], f"${key}", pos)
        if key in specials and key not in s.variables:
            return _fields(s, e, specials[key](), parts[i:], f"${key}", pos)
    raise _err(e, suggestion("variable", "$" + e.name, ["$" + n for n in (*s.variables, "_", "stop")])
               + (" (set it with `let`)" if not e.name.startswith("_") else ""), pos)


def _name(s, e, pos):
    word = e.name
    if word in CONSTANTS:
        return CONSTANTS[word]
    parts = e.parts
    k = s.kernel
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        p = _find_process(k, key)
        if p is not None:
            rest = parts[i:]
            if not rest:
                return ProcessRef(p.name)
            return _fields(s, e, ProcessRef(p.name), rest, key, pos)
    if word == "now":
        return Time(k.now)
    if word.startswith(("Success", "Failure")):
        raise _err(e, suggestion("result variant", word, ast.RESULT_VARIANTS), pos)
    known = [p.name for p in k.live_processes()] + list(CONSTANTS)
    if len(parts) > 1:
        raise _err(e, suggestion("process", parts[0], [p.name for p in k.live_processes()]), pos)
    raise _err(e, suggestion("name", word, known), pos)


def _find_process(k, name):
    for p in k.processes:
        if p is not None and p.name == name:
            return p
    return None


def _fields(s, e, value, fields, shown, pos):
    for f in fields:
        value = field_of(s, e, value, f, shown, pos)
        shown = f"{shown}.{f}"
    return value


def field_of(s, node, value, f: str, shown: str, pos=None):
    """``value.f`` for results, records, processes; a clear error otherwise."""
    if isinstance(value, ResultValue):
        try:
            return value.field(f)
        except KeyError:
            raise _err(node, suggestion(f"field of {shown}", f, ResultValue.FIELDS), pos) from None
    if isinstance(value, ProcessRef):
        entry = PROCESS_FIELDS.get(f)
        if entry is None:
            raise _err(node, suggestion("process field", f, list(PROCESS_FIELDS)), pos)
        p = _find_process(s.kernel, value.name)
        if p is None:
            raise _err(node, f"process '{value.name}' no longer exists", pos)
        return entry[0](s, p)
    if isinstance(value, dict):
        if f in value:
            return value[f]
        raise _err(node, suggestion(f"field of {shown}", f, list(value)), pos)
    if value is None:
        raise _err(node, f"{shown} is none, so it has no field '{f}'", pos)
    raise _err(node, f"{shown} is {type_name(value)} ({show(value)}), which has no field '{f}'", pos)


# ------------------------------------------------------------------ operators
def _binary(s, e, pos):
    a = evaluate(s, e.left, pos)
    b = evaluate(s, e.right, pos)
    op = e.op
    if _is_int(a) and _is_int(b):
        if op in ("+", "-"):
            r = a + b if op == "+" else a - b
            # A time plus or minus a duration is still a time.
            return Time(r) if isinstance(a, Time) or isinstance(b, Time) else r
        if op == "*":
            # A duration times a count is still a duration (2 * 1ms prints as 2ms).
            return Time(a * b) if isinstance(a, Time) != isinstance(b, Time) else a * b
        if b == 0:
            raise _err(e, f"division by zero in '{expr_text(e)}'", pos)
        # C and Rust semantics (truncate toward zero), as a Tock developer reads -7 / 2.
        q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
        r = q if op == "/" else a - b * q
        # 10ms / 4 is a duration; 10ms / 1ms is a plain ratio.
        return Time(r) if isinstance(a, Time) and (op == "%" or not isinstance(b, Time)) else r
    if op == "+" and type(a) in (str, Symbol) and type(b) in (str, Symbol):
        return str(a) + str(b)
    if op == "+" and isinstance(a, bytes) and isinstance(b, (bytes, str)):
        return a + (b.encode() if isinstance(b, str) else b)
    raise _err(e, f"cannot apply '{op}' to {type_name(a)} and {type_name(b)}", pos)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _compare(s, e, pos):
    a = evaluate(s, e.left, pos)
    b = evaluate(s, e.right, pos)
    return compare(e, e.op, a, b, pos)


def compare(node, op: str, a, b, pos=None) -> bool:
    """Apply a comparison operator with tsh's rules (patterns, bytes vs strings)."""
    if op == "==":
        return equal(a, b)
    if op == "!=":
        return not equal(a, b)
    if _is_int(a) and _is_int(b) or (isinstance(a, str) and isinstance(b, str)):
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    raise _err(node, f"cannot order {type_name(a)} ({show(a)}) and {type_name(b)} ({show(b)}) with '{op}'",
               pos)


def _boolop(s, e, pos):
    a = truthy(evaluate(s, e.left, pos))
    if e.op == "and":
        return a and truthy(evaluate(s, e.right, pos))
    return a or truthy(evaluate(s, e.right, pos))


def _not(s, e, pos):
    return not truthy(evaluate(s, e.operand, pos))


def _negate(s, e, pos):
    v = evaluate(s, e.operand, pos)
    if not _is_int(v):
        raise _err(e, f"cannot negate {type_name(v)}", pos)
    return Time(-v) if isinstance(v, Time) else -v


def _index(s, e, pos):
    target = evaluate(s, e.target, pos)
    i = evaluate(s, e.index, pos)
    if not isinstance(target, (tuple, list, bytes, str)):
        raise _err(e, f"cannot index {type_name(target)} ({show(target)})", pos)
    if not _is_int(i):
        raise _err(e.index, f"an index must be a number, not {type_name(i)}", pos)
    if not -len(target) <= i < len(target):
        raise _err(e, f"index {i} is out of range: {show(target)} has {len(target)} item"
                      f"{'s' if len(target) != 1 else ''}", pos)
    return target[i]


def _pattern(s, e, pos):
    if e.variant not in ast.RESULT_VARIANTS:
        raise _err(e, suggestion("result variant", e.variant, ast.RESULT_VARIANTS), pos)
    args = tuple(evaluate(s, a, pos) for a in e.args)
    kwargs = {}
    for kv in e.kwargs:
        if kv.key not in ("u32", "u64", "error"):
            raise _err(kv, suggestion("pattern keyword", kv.key, ("u32", "u64", "error")), pos)
        kwargs[kv.key] = evaluate(s, kv.value, pos)
    return Pattern(e.variant, args, kwargs, e.called)


# ------------------------------------------------------------------ functions
def _call(s, e, pos):
    fn = FUNCTIONS.get(e.func)
    if fn is None:
        raise _err(e, suggestion("function", e.func, list(FUNCTIONS)), pos)
    if e.kwargs:
        raise _err(e.kwargs[0], f"{e.func}() takes no keyword arguments", pos)
    return fn(s, e, pos)


def _fn_mem(s, e, pos):
    if len(e.args) not in (2, 3):
        raise _err(e, "mem() takes a process, an address and a length: mem(p, ADDR, LEN)", pos)
    p = process_arg(s, e.args[0], pos)
    addr = evaluate_int(s, e.args[1], "an address", pos)
    n = evaluate_int(s, e.args[2], "a length", pos) if len(e.args) == 3 else 4
    if n < 0 or n > 1 << 20:
        raise _err(e.args[-1], f"a length of {n} bytes is out of range", pos)
    try:
        return p.read(addr, n)
    except MemoryFault as exc:
        raise _err(e, str(exc), pos) from None


def _fn_len(s, e, pos):
    if len(e.args) != 1:
        raise _err(e, "len() takes one value", pos)
    v = evaluate(s, e.args[0], pos)
    if not isinstance(v, (str, bytes, tuple, list, dict)):
        raise _err(e, f"len() of {type_name(v)}", pos)
    return len(v.encode() if isinstance(v, str) else v)


def _fn_hex(s, e, pos):
    if len(e.args) != 1:
        raise _err(e, "hex() takes one number", pos)
    return Symbol(f"{evaluate_int(s, e.args[0], 'a number', pos):#x}")


FUNCTIONS = {"mem": _fn_mem, "len": _fn_len, "hex": _fn_hex}


def process_arg(s, e, pos=None):
    """A process operand written as a name (or an expression giving a process or its name)."""
    if isinstance(e, ast.Name):
        p = _find_process(s.kernel, e.name)
        if p is not None:
            return p
        raise _err(e, suggestion("process", e.name, [p.name for p in s.kernel.live_processes()]), pos)
    v = evaluate(s, e, pos)
    name = v.name if isinstance(v, ProcessRef) else v if isinstance(v, str) else None
    p = _find_process(s.kernel, name) if name is not None else None
    if p is None:
        raise _err(e, f"expected a process, got {type_name(v)} ({show(v)})", pos)
    return p


_DISPATCH = {
    ast.Number: _number, ast.Duration: _duration, ast.Size: _size, ast.String: _string,
    ast.Bytes: _bytes, ast.Var: _var, ast.Name: _name, ast.BinaryOp: _binary,
    ast.Comparison: _compare, ast.BoolOp: _boolop, ast.Not: _not, ast.Negate: _negate,
    ast.Index: _index, ast.Call: _call, ast.ResultPattern: _pattern, ast.ListValue: _list,
}


# ------------------------------------------------------------------ text
_PREC = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6, "neg": 7}


def expr_text(e, parent: int = 0) -> str:
    """Source-like text for an expression (for messages when the source is not at hand)."""
    t = type(e)
    if t is ast.Number:
        return e.text or str(e.value)
    if t is ast.Duration:
        return e.text or f"{e.nanoseconds}ns"
    if t is ast.Size:
        return e.text or str(e.bytes)
    if t is ast.String:
        return show(e.text)
    if t is ast.Bytes:
        return 'x"' + " ".join(f"{b:02x}" for b in e.data) + '"'
    if t is ast.Var:
        return "$" + e.name
    if t is ast.Name:
        return e.name
    if t is ast.BinaryOp or t is ast.BoolOp:
        p = _PREC[e.op]
        s = f"{expr_text(e.left, p)} {e.op} {expr_text(e.right, p + 1)}"
    elif t is ast.Comparison:
        p = _PREC["cmp"]
        s = f"{expr_text(e.left, p + 1)} {e.op} {expr_text(e.right, p + 1)}"
    elif t is ast.Not:
        p = _PREC["not"]
        s = f"not {expr_text(e.operand, p)}"
    elif t is ast.Negate:
        p = _PREC["neg"]
        s = f"-{expr_text(e.operand, p)}"
    elif t is ast.Index:
        return f"{expr_text(e.target, 9)}[{expr_text(e.index)}]"
    elif t in (ast.Call, ast.ResultPattern):
        name = e.func if t is ast.Call else e.variant
        parts = [expr_text(a) for a in e.args] + [f"{kv.key}={expr_text(kv.value)}" for kv in e.kwargs]
        if t is ast.ResultPattern and not parts and not e.called:
            return name
        return f"{name}({', '.join(parts)})"
    elif t is ast.ListValue:
        return ", ".join(expr_text(x) for x in e.items)
    else:
        return type(e).__name__
    return f"({s})" if p < parent else s


# ------------------------------------------------------------------ process fields
def _console_field(s, p):
    c = s.board.console
    return c.output_of(p) if c is not None else b""


def _register_core_fields() -> None:
    core = {
        "state": (lambda s, p: Symbol(p.state.name), "Running, Yielded, YieldedFor, Stopped, Faulted, Terminated"),
        "queue": (lambda s, p: len(p.tasks), "pending tasks, null-upcall events included"),
        "dropped": (lambda s, p: p.dropped_upcalls, "dropped upcall count"),
        "restarts": (lambda s, p: p.restart_count, "restart count"),
        "syscalls": (lambda s, p: p.syscall_count, "syscall count (since the last restart)"),
        "pid": (lambda s, p: p.identifier, "the ProcessId identifier, the [pid] of traces"),
        "console": (_console_field, "bytes the process wrote to the console"),
        "break": (lambda s, p: p.app_break, "the app break"),
        "grant_bytes": (lambda s, p: p.grant_bytes, "bytes of grant region in use"),
        "completion": (lambda s, p: p.completion_code if p.has_terminated else None,
                       "completion code, or none"),
        "name": (lambda s, p: p.name, "the process name"),
        "package": (lambda s, p: p.package, "the TBF package name"),
        "short_id": (lambda s, p: Symbol("Unique") if p.short_id.value is None else p.short_id.value,
                     "the ShortId: Unique or a number"),
        "slot": (lambda s, p: p.index, "the process-array slot"),
        "quanta": (lambda s, p: p.timeslice_expirations, "timeslice expirations"),
        "grants": (lambda s, p: p.grants_allocated, "number of grants allocated"),
        "faulted_reason": (lambda s, p: p.fault_reason, "why it last faulted, or none"),
        "fault_reason": (lambda s, p: p.fault_reason, "why it last faulted, or none"),
        "memory_start": (lambda s, p: p.memory_start, "start of its RAM block (memop ram_start)"),
        "memory_end": (lambda s, p: p.memory_end, "end of its RAM block (memop ram_end)"),
        "flash_start": (lambda s, p: p.flash_start, "start of its flash (memop flash_start)"),
        "flash_end": (lambda s, p: p.flash_end, "end of its flash (memop flash_end)"),
        "kernel_break": (lambda s, p: p.kernel_memory_break, "the kernel memory break (memop grant_start)"),
        "allow_hwm": (lambda s, p: p.allow_high_water_mark, "the allow high-water mark"),
        "heap": (lambda s, p: s.heap_next(p), "the next address `alloc` hands out"),
        "sentence": (lambda s, p: s.kernel.state_sentence(p), "the state in words"),
        "alive": (lambda s, p: p.alive, "Running, Yielded, YieldedFor or Stopped"),
    }
    for name, (fn, text) in core.items():
        process_field(name, text)(fn)


_register_core_fields()
