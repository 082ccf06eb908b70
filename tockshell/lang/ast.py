"""The tsh abstract syntax tree.

Every node is a frozen value class carrying a :class:`Pos` (keyword-only
``pos=``, ignored by ``==`` so that tests and interpreters can compare nodes
built by hand with parsed ones). An interpreter dispatches on the class::

    match stmt:
        case Spawn(name, options): ...
        case Command(process, driver, command_num, arg0, arg1): ...
        case Syscall():  # any other syscall class

Conventions:

* Wherever the language accepts "a number", the node holds an :data:`Expr`
  (a literal :class:`Number`, a :class:`Var`, or any parenthesised
  expression): the interpreter evaluates it. Durations and sizes are
  :class:`Duration` and :class:`Size` literals (or expressions).
* Process names are :class:`Name` nodes, so that "unknown process" can point
  at the name.
* Dotted words stay whole: ``p.state`` is ``Name("p.state")`` and
  ``$_.r0`` is ``Var("_.r0")``; both offer ``.parts``, ``.root`` and
  ``.fields`` for the split. Process names and variables may themselves
  contain dots, so the interpreter resolves the longest known prefix.
* Sequences are tuples; optional parts are ``None``.

Nothing here imports lark: the AST is plain data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:
    from fractions import Fraction

__all__ = [  # noqa: RUF022 - grouped by section, as in the language spec
    "Pos", "Node", "Statement", "Expr",
    # expressions
    "Number", "Duration", "Size", "String", "Bytes", "Var", "Name",
    "BinaryOp", "Comparison", "BoolOp", "Not", "Negate", "Index", "Call",
    "ResultPattern", "ListValue", "KeywordArg",
    # syscall operands
    "Driver", "Label", "Null", "AddressRange",
    # program
    "Program",
    # processes and the kernel
    "Board", "Config", "Policy", "Spawn", "ListProcesses", "Status",
    "ShowKernel", "ProcessDetail", "ProcessControl", "StopProcess",
    "StartProcess", "FaultProcess", "TerminateProcess", "BootProcess",
    "RestartProcess",
    # syscalls
    "Syscall", "Command", "Subscribe", "Allow", "Yield", "Memop", "Exit",
    "RawSyscall",
    # memory and kernel state
    "Alloc", "Write", "ShowMemory", "ShowGrants", "ShowUpcalls",
    "ShowAllows", "ShowSubscriptions", "ShowDescriptors", "ShowServices",
    "ShowMailbox", "Stats", "Trace",
    # time, events, running
    "Step", "Run", "Now", "Inject", "Traffic", "Press", "ConsoleInput",
    "At", "Every", "Timeline",
    # debugging
    "BreakSyscall", "BreakUpcall", "Ignore", "Condition", "Commands",
    "Catch", "Watch", "Display", "Undisplay", "Info", "Delete", "Disable",
    "Enable", "Next", "Continue", "Finish", "Checkpoint", "Restore", "Diff",
    "Rewind", "ReverseStep", "ReverseContinue", "Goto", "Save", "Record",
    "Export",
    # apps, radio, IPC
    "Compare", "Help", "Demo",
    # scripts
    "Let", "Echo", "Print", "Expect", "Include", "Param", "Pause", "Explain",
    "Quit",
    # vocabulary
    "RESULT_VARIANTS", "ERROR_CODES", "PROCESS_STATES", "PROCESS_FIELDS",
    "RESULT_FIELDS", "STOP_FIELDS", "SYSCALL_VERBS", "BUILTIN_FUNCTIONS",
    "walk", "node_fields", "field", "FrozenNodeError",
]


class Pos:
    """A span of source text: 1-based lines and columns, end exclusive.

    ``end_column`` is the column just after the last character, as Lark
    reports it, so ``end_column - column`` is the width on a single line.
    """

    __slots__ = ("file", "line", "column", "end_line", "end_column")
    __match_args__ = __slots__

    def __init__(self, file: str, line: int, column: int, end_line: int, end_column: int):
        _set = object.__setattr__
        _set(self, "file", file)
        _set(self, "line", line)
        _set(self, "column", column)
        _set(self, "end_line", end_line)
        _set(self, "end_column", end_column)

    def _key(self) -> tuple:
        return (self.file, self.line, self.column, self.end_line, self.end_column)

    def __eq__(self, other):
        if other.__class__ is not Pos:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"Pos(file={self.file!r}, line={self.line!r}, column={self.column!r}, "
                f"end_line={self.end_line!r}, end_column={self.end_column!r})")

    def __setattr__(self, name, value=None):
        raise FrozenNodeError(f"Pos is immutable (setting {name})")

    __delattr__ = __setattr__

    def __reduce__(self):
        return (Pos, self._key())

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def text(self, source: str) -> str:
        """The source text this span covers (for messages and tests)."""
        lines = _source_lines(source)
        if not (1 <= self.line <= len(lines)):
            return ""
        if self.end_line == self.line:
            return lines[self.line - 1][self.column - 1:self.end_column - 1]
        parts = [lines[self.line - 1][self.column - 1:]]
        parts += lines[self.line:self.end_line - 1]
        if self.end_line <= len(lines):
            parts.append(lines[self.end_line - 1][:self.end_column - 1])
        return "".join(parts)


_lines_of: tuple[str, list[str]] = ("", [])


def _source_lines(source: str) -> list[str]:
    # The history asks for the text of every statement of a file in turn: splitting the
    # whole file each time made a long script quadratic. One entry suffices for that.
    global _lines_of
    if _lines_of[0] is not source:
        _lines_of = (source, source.splitlines(keepends=True))
    return _lines_of[1]



# ------------------------------------------------------------ node classes
#
# Nodes are frozen value classes declared attrs-style (annotated fields, ``field(...)`` for
# options), but built here rather than by attrs: attrs compiles each class's methods from
# source at import, which for a hundred node classes was a third of ``tockshell run``'s
# start-up. Each class's ``__init__`` is a plain function in the generated module
# ``_ast_init`` (cached as bytecode like any module); a class whose declaration no longer
# matches what was generated gets its ``__init__`` compiled here instead, so editing this
# file never breaks anything, and a test says when to regenerate
# (``python3 -m tockshell.lang.ast --write-init``).


class FrozenNodeError(AttributeError):
    """Raised on an attempt to change a node (nodes are values)."""


class _Field:
    """One declared field of a node class."""

    __slots__ = ("name", "default", "eq", "repr", "kw_only", "default_method")

    def __init__(self, default, eq: bool, repr: bool, kw_only: bool):
        self.name = ""
        self.default = default
        self.eq = eq
        self.repr = repr
        self.kw_only = kw_only
        self.default_method = None

    def default_from(self, method):
        """Decorator: the field's default is ``method(self)``, called once the fields before it are set."""
        self.default_method = method.__name__
        return method

    def spec(self) -> str:
        """The field as the generated module records it (a change means regenerate)."""
        if self.default_method is not None:
            d = f"=self.{self.default_method}()"
        elif self.default is _NOTHING:
            d = ""
        else:
            d = "=" + repr(self.default)
        return f"{'*' if self.kw_only else ''}{self.name}{d}"

    def __repr__(self) -> str:
        return f"<field {self.spec()}>"


try:
    from . import _ast_init as _generated
except ImportError:  # only while the generated module is being (re)written
    _generated = None
if not isinstance(getattr(_generated, "NOTHING", None), getattr(_generated, "Nothing", ())):
    _generated = None  # not a module this version of the generator wrote: compile every __init__ here


class _Nothing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOTHING"


#: "No value given" for a field whose default is computed; the generated functions' own.
_NOTHING = _generated.NOTHING if _generated is not None else _Nothing()
_LITERAL_DEFAULTS = (type(None), bool, int, str, bytes)


def field(default=_NOTHING, *, eq: bool = True, repr: bool = True, kw_only: bool = False) -> _Field:
    """Declare a node field with options: ``eq=False`` leaves it out of ``==`` and hashing,
    ``repr=False`` out of ``repr``, ``kw_only=True`` out of positional construction and
    pattern matching. Defaults are literals (None, numbers, strings, ``()``); a computed
    default is a method decorated with ``@<field>.default_from``."""
    if default is not _NOTHING and not (isinstance(default, _LITERAL_DEFAULTS) or default == ()):
        raise TypeError(f"a node field's default must be a literal, not {default!r}")
    return _Field(default, eq, repr, kw_only)


def node_fields(cls) -> tuple:
    """The fields of a node class, in construction order (each has ``.name``)."""
    return cls.__node_fields__


def _class_fields(cls) -> tuple:
    inherited = {f.name: f for f in getattr(cls, "__node_fields__", ())}
    for name in cls.__dict__.get("__annotations__", {}):
        value = cls.__dict__.get(name, _NOTHING)
        f = value if isinstance(value, _Field) else field(value)
        f.name = name
        inherited.pop(name, None)
        inherited[name] = f
        if value is not _NOTHING:
            delattr(cls, name)
    fields = tuple(inherited.values())
    seen_default = False
    for f in fields:
        if f.kw_only:
            continue
        if f.default is not _NOTHING or f.default_method is not None:
            seen_default = True
        elif seen_default:
            raise TypeError(f"{cls.__name__}: field {f.name} without a default follows one with a default")
    return fields


def init_spec(fields) -> str:
    """The signature the generated module records for a class with these fields."""
    return ",".join(f.spec() for f in fields)


def init_source(name: str, fields) -> str:
    """The source of the ``__init__`` of node class ``name`` (a function called ``name``)."""
    params, kw = ["self"], []
    body = ["    d = self.__dict__"]
    for f in fields:
        if f.default_method is not None:
            p = f"{f.name}=NOTHING"
            body.append(f"    d[{f.name!r}] = self.{f.default_method}() if {f.name} is NOTHING else {f.name}")
        else:
            p = f.name if f.default is _NOTHING else f"{f.name}={f.default!r}"
            body.append(f"    d[{f.name!r}] = {f.name}")
        (kw if f.kw_only else params).append(p)
    if kw:
        params += ["*"] + kw
    return f"def {name}({', '.join(params)}):\n" + "\n".join(body) + "\n"




def _node(cls):
    """Make ``cls`` a node class: fields from its annotations, ``__init__``, ``__match_args__``."""
    fields = _class_fields(cls)
    cls.__node_fields__ = fields
    cls.__match_args__ = tuple(f.name for f in fields if not f.kw_only)
    cls._eq_names = tuple(f.name for f in fields if f.eq)
    cls._repr_names = tuple(f.name for f in fields if f.repr)
    spec = init_spec(fields)
    if _generated is not None and _generated.SPECS.get(cls.__name__) == spec:
        init = getattr(_generated, cls.__name__)
    else:
        ns = {"NOTHING": _NOTHING}
        exec(compile(init_source(cls.__name__, fields), f"<tsh node {cls.__name__}>", "exec"), ns)
        init = ns[cls.__name__]
    init.__name__ = "__init__"
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init
    _NODE_CLASSES.append(cls)
    return cls


_NODE_CLASSES: list[type] = []


def generated_init_module() -> str:
    """The text of ``_ast_init.py`` for the node classes declared now."""
    out = ['"""The ``__init__`` of every tsh AST node class: generated from the declarations in',
           '``ast.py`` by ``python3 -m tockshell.lang.ast --write-init``; do not edit."""',
           "",
           "",
           "class Nothing:",
           '    """The default of a field computed from the others."""',
           "",
           "    __slots__ = ()",
           "",
           "    def __repr__(self):",
           '        return "NOTHING"',
           "",
           "",
           "NOTHING = Nothing()",
           "",
           "SPECS = {"]
    out += [f"    {c.__name__!r}: {init_spec(c.__node_fields__)!r}," for c in _NODE_CLASSES]
    out.append("}")
    for c in _NODE_CLASSES:
        out += ["", "", init_source(c.__name__, c.__node_fields__).rstrip("\n")]
    return "\n".join(out) + "\n"


@_node
class Node:
    """Base of every AST node."""

    pos: Optional[Pos] = field(None, eq=False, repr=False, kw_only=True)

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._eq_names)

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self):
        return hash((self.__class__.__name__,) + tuple(getattr(self, n) for n in self._eq_names))

    def __repr__(self):
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._repr_names)
        return f"{self.__class__.__name__}({shown})"

    def __setattr__(self, name, value=None):
        raise FrozenNodeError(f"{self.__class__.__name__} nodes are immutable (setting {name})")

    __delattr__ = __setattr__

    def __reduce__(self):
        return (_rebuild, (self.__class__, dict(self.__dict__)))


def _rebuild(cls, state: dict):
    node = cls.__new__(cls)
    node.__dict__.update(state)
    return node


@_node
class Statement(Node):
    """Base of every statement."""


@_node
class Expr(Node):
    """Base of every expression."""


# ----------------------------------------------------------------- literals

@_node
class Number(Expr):
    """An integer literal (``42``, ``0x1F``, ``1_000``, ``0b101``); ``text``
    is the spelling, kept so that output can echo hex as hex."""

    value: int
    text: str = field("", eq=False)


_NS_PER_UNIT = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
                "min": 60_000_000_000}


@_node
class Duration(Expr):
    """A virtual-time literal (``10us``, ``5ms``, ``1.5ms``, ``2s``, ``1min``),
    held exactly in nanoseconds."""

    nanoseconds: int
    text: str = field("", eq=False)

    @property
    def microseconds(self) -> Fraction:
        """The duration in microseconds, exactly (an integer-valued Fraction
        unless the literal was finer than 1us)."""
        from fractions import Fraction  # not at import: it brings in decimal, a cost at every start

        return Fraction(self.nanoseconds, 1_000)

    @classmethod
    def unit_nanoseconds(cls, unit: str) -> int:
        """Nanoseconds in one ``unit`` (``ns us ms s min``)."""
        return _NS_PER_UNIT[unit]

    @classmethod
    def nanoseconds_of(cls, number: str, unit: str) -> Optional[int]:
        """Exactly how many nanoseconds ``number`` (digits, ``_``, at most one decimal point)
        ``unit`` is; None when that is finer than 1ns (``1.5ns``)."""
        whole, _, frac = number.replace("_", "").partition(".")
        q, r = divmod(int(whole + frac) * _NS_PER_UNIT[unit], 10 ** len(frac))
        return None if r else q


@_node
class Size(Expr):
    """A size literal with a unit: ``4k`` and ``4K`` are 4096 bytes, ``1M`` is
    1 MiB. A plain number is a :class:`Number`, not a Size."""

    bytes: int
    text: str = field("", eq=False)


@_node
class String(Expr):
    """A string literal. ``text`` is the decoded text; ``data`` its exact
    bytes (UTF-8 of the characters, and a ``\\xNN`` escape is the one byte
    NN). Allows, writes and comparisons with bytes use ``data``."""

    text: str
    data: bytes = field(eq=False)

    @data.default_from
    def _data_default(self) -> bytes:
        return self.text.encode("utf-8")


@_node
class Bytes(Expr):
    """A bytes literal ``x"de ad be ef"``."""

    data: bytes


def _split(name: str) -> tuple[str, ...]:
    return tuple(name.split("."))


class _Dotted:
    """``name`` read as dotted parts: ``client.state`` is root ``client``, fields ``("state",)``."""

    __slots__ = ()

    @property
    def parts(self) -> tuple[str, ...]:
        return _split(self.name)

    @property
    def root(self) -> str:
        return self.parts[0]

    @property
    def fields(self) -> tuple[str, ...]:
        return self.parts[1:]


@_node
class Var(_Dotted, Expr):
    """A variable read, ``$name``, with its dotted fields kept in ``name``:
    ``$_.r0`` is ``Var("_.r0")``, whose ``root`` is ``"_"`` and ``fields``
    ``("r0",)``. An index (``$_.values[1]``) is an :class:`Index` around it."""

    name: str


@_node
class Name(_Dotted, Expr):
    """A bare word: a process name, a dotted process field (``p.state``), or a
    word such as ``Running``, ``none``, ``true``, ``NODEVICE``, ``on``.
    Used for process operands of statements as well, for its position."""

    name: str


# --------------------------------------------------------------- operators

@_node
class BinaryOp(Expr):
    """Arithmetic: ``op`` is one of ``+ - * / %``."""

    op: str
    left: Expr
    right: Expr


@_node
class Comparison(Expr):
    """``left op right`` with ``op`` one of ``== != < <= > >=``. A result
    pattern on either side of ``==``/``!=`` matches as the spec says."""

    op: str
    left: Expr
    right: Expr


@_node
class BoolOp(Expr):
    """``left and right`` / ``left or right`` (``op`` is ``"and"`` or ``"or"``)."""

    op: str
    left: Expr
    right: Expr


@_node
class Not(Expr):
    """``not operand``."""

    operand: Expr


@_node
class Negate(Expr):
    """Unary minus."""

    operand: Expr


@_node
class Index(Expr):
    """``target[index]``, e.g. ``$_.values[1]``."""

    target: Expr
    index: Expr


@_node
class KeywordArg(Node):
    """``key=value``: an option of a statement (``ram=4k``) or a keyword
    argument of a call or result pattern (``u32=3``)."""

    key: str
    value: Expr


@_node
class Call(Expr):
    """``func(args)``: a function such as ``mem(p, ADDR, LEN)`` or a policy
    value such as ``threshold(3)``, ``fixed(8)``, ``round_robin(10ms)``."""

    func: str
    args: tuple[Expr, ...] = ()
    kwargs: tuple[KeywordArg, ...] = ()


@_node
class ResultPattern(Expr):
    """A TRD104 result pattern: a word starting with ``Success`` or
    ``Failure`` (``Success``, ``SuccessU32``, ``Failure``...), bare or with
    arguments: ``Failure(NODEVICE)``, ``Success(u32=3)``,
    ``Failure(INVAL, 0x20001000, 16)``. ``called`` tells ``Success`` from
    ``Success()``. Patterns compare only what they name."""

    variant: str
    args: tuple[Expr, ...] = ()
    kwargs: tuple[KeywordArg, ...] = ()
    called: bool = False

    @property
    def is_success(self) -> bool:
        return self.variant.startswith("Success")


@_node
class ListValue(Expr):
    """A comma list in an option value: ``ports=1,2,4``."""

    items: tuple[Expr, ...]


# --------------------------------------------------------- syscall operands

@_node
class Driver(Node):
    """A driver operand: by name (``name``, e.g. ``"console"``) or by number
    (``number``, an Expr). Exactly one of the two is set."""

    name: Optional[str] = None
    number: Optional[Expr] = None


@_node
class Label(Node):
    """An upcall handler written ``@label``: the interpreter gives it a stable
    address in the process's flash."""

    name: str


@_node
class Null(Node):
    """``null``: the null upcall (subscribe) or the empty buffer (allow)."""


@_node
class AddressRange(Node):
    """A buffer given as ``ADDR LEN``."""

    address: Expr
    length: Expr


Handler = Union[Label, Null, Expr]
Buffer = Union[AddressRange, Null, String, Bytes]


# ------------------------------------------------------------------ program

@_node
class Program(Node):
    """The root: a file's or an input line's statements, in order."""

    statements: tuple[Statement, ...]


# ------------------------------------------------------ processes, kernel

@_node
class Board(Statement):
    """``board [NAME]``: show the board, or switch to a board profile."""

    name: Optional[str] = None


@_node
class Config(Statement):
    """``config KEY = VALUE``; ``key`` may be dotted (``ipcmgr.descriptors``).
    The value is an Expr: a Name (``restart``, ``on``), a Number, a Call
    (``threshold(3)``), a ListValue, ..."""

    key: str
    value: Expr


@_node
class Policy(Statement):
    """``policy register NAME allow LIST`` (``kind="register"``) or ``policy
    clients NAME allow LIST`` (``kind="clients"``). ``allow`` holds Names
    (package names or ``any``), Numbers (ShortIds) and Strings."""

    kind: str
    service: str
    allow: tuple[Expr, ...]


@_node
class Spawn(Statement):
    """``spawn NAME [key=value ...]``: options in the order written."""

    name: Name
    options: tuple[KeywordArg, ...] = ()

    def option(self, key: str) -> Optional[Expr]:
        """The value of the last option called ``key``, or None."""
        found = None
        for kv in self.options:
            if kv.key == key:
                found = kv.value
        return found


@_node
class ListProcesses(Statement):
    """``list``: the process table."""


@_node
class Status(Statement):
    """``status``: kernel counters."""


@_node
class ShowKernel(Statement):
    """``kernel``: kernel version and memory map."""


@_node
class ProcessDetail(Statement):
    """``process NAME``: one process in detail."""

    process: Name


@_node
class ProcessControl(Statement):
    """Base of the process-console verbs that act on one process."""

    process: Name


@_node
class StopProcess(ProcessControl):
    """``stop NAME``."""


@_node
class StartProcess(ProcessControl):
    """``start NAME``: resume a stopped process."""


@_node
class FaultProcess(ProcessControl):
    """``fault NAME``, or its alias ``crash NAME`` (``alias="crash"``)."""

    alias: Optional[str] = field(None, eq=False)


@_node
class TerminateProcess(ProcessControl):
    """``terminate NAME``."""


@_node
class BootProcess(ProcessControl):
    """``boot NAME``: start a terminated process."""


@_node
class RestartProcess(ProcessControl):
    """``restart NAME``: Tock's try_restart."""


# ----------------------------------------------------------------- syscalls

@_node
class Syscall(Statement):
    """Base of the syscalls issued on behalf of ``process`` (``NAME: ...``).
    One subclass per TRD104 class; :attr:`verb` is the word written."""

    process: Name

    verb = "syscall"


@_node
class Command(Syscall):
    """``p: command DRIVER CMD [ARG0 [ARG1]]``."""

    driver: Driver
    command_num: Expr
    arg0: Optional[Expr] = None
    arg1: Optional[Expr] = None

    verb = "command"


@_node
class Subscribe(Syscall):
    """``p: subscribe DRIVER NUM HANDLER [APPDATA]``; the handler is a
    :class:`Label`, :class:`Null` or an address Expr."""

    driver: Driver
    subscribe_num: Expr
    handler: Handler
    appdata: Optional[Expr] = None

    verb = "subscribe"


@_node
class Allow(Syscall):
    """``p: allow-rw|allow-ro|allow-ur DRIVER NUM BUFFER``. ``kind`` is
    ``"rw"`` (read-write), ``"ro"`` (read-only) or ``"ur"`` (userspace
    readable). The buffer is an :class:`AddressRange`, :class:`Null`, or a
    :class:`String`/:class:`Bytes` literal to place in the heap first."""

    kind: str
    driver: Driver
    allow_num: Expr
    buffer: Buffer

    @property
    def verb(self) -> str:  # type: ignore[override]
        return "allow-" + self.kind


@_node
class Yield(Syscall):
    """``p: yield [wait | no-wait | wait-for DRIVER NUM]``; ``mode`` is
    ``"wait"`` (also for a bare ``yield``), ``"no-wait"`` or ``"wait-for"``
    (then ``driver`` and ``upcall_num`` are set)."""

    mode: str = "wait"
    driver: Optional[Driver] = None
    upcall_num: Optional[Expr] = None

    verb = "yield"


@_node
class Memop(Syscall):
    """``p: memop OP [ARG]``; ``op`` is an operation name (``"brk"``,
    ``"sbrk"``, ``"ram_start"`` ...) or a number Expr."""

    op: Union[str, Expr]
    arg: Optional[Expr] = None

    verb = "memop"


@_node
class Exit(Syscall):
    """``p: exit terminate [CODE]`` / ``p: exit restart [CODE]``."""

    kind: str
    code: Optional[Expr] = None

    verb = "exit"


@_node
class RawSyscall(Syscall):
    """``p: syscall CLASS R0 [R1 [R2 [R3]]]``: raw registers; ``cls`` is a
    class name (as in :data:`SYSCALL_VERBS`) or a number Expr. Missing
    registers are None (the interpreter passes 0)."""

    cls: Union[str, Expr]
    r0: Expr
    r1: Optional[Expr] = None
    r2: Optional[Expr] = None
    r3: Optional[Expr] = None

    verb = "syscall"


# ------------------------------------------------- memory and kernel state

@_node
class Alloc(Statement):
    """``alloc p LEN``: bump-allocate in the process's heap; yields the
    address (usable on the right of ``let``)."""

    process: Name
    length: Expr


@_node
class Write(Statement):
    """``write p ADDR BYTES``; ``data`` is a String, a Bytes, or a tuple of
    number Exprs (one byte each)."""

    process: Name
    address: Expr
    data: Union[String, Bytes, tuple[Expr, ...]]


@_node
class ShowMemory(Statement):
    """``mem p ADDR [LEN]``: hexdump; as a value, the bytes."""

    process: Name
    address: Expr
    length: Optional[Expr] = None


@_node
class ShowGrants(Statement):
    """``grants p``."""

    process: Name


@_node
class ShowUpcalls(Statement):
    """``upcalls p``: the pending task queue, oldest first."""

    process: Name


@_node
class ShowAllows(Statement):
    """``allows p``."""

    process: Name


@_node
class ShowSubscriptions(Statement):
    """``subscriptions p``."""

    process: Name


@_node
class ShowDescriptors(Statement):
    """``descriptors p``: the process-descriptor table (IPC Manager)."""

    process: Name


@_node
class ShowServices(Statement):
    """``services``: IPC Manager registrations and their policies."""


@_node
class ShowMailbox(Statement):
    """``mailbox [p]``: messages in flight."""

    process: Optional[Name] = None


@_node
class Stats(Statement):
    """``stats [reset]``."""

    reset: bool = False


@_node
class Trace(Statement):
    """``trace [on | off | N]``: ``setting`` is ``"on"``, ``"off"`` or None;
    ``lines`` the N of ``trace N``."""

    setting: Optional[str] = None
    lines: Optional[Expr] = None


# --------------------------------------------------- time, events, running

@_node
class Step(Statement):
    """``step [N]``."""

    count: Optional[Expr] = None


@_node
class Run(Statement):
    """``run [for DURATION] [until EXPR]``."""

    duration: Optional[Expr] = None
    until: Optional[Expr] = None


@_node
class Now(Statement):
    """``now``: the virtual time (a value for ``let``)."""


@_node
class Inject(Statement):
    """``inject radio BYTES [lqi=N ...]``: a received frame. ``data`` is a
    Bytes, String or Var."""

    device: str
    data: Expr
    options: tuple[KeywordArg, ...] = ()


@_node
class Traffic(Statement):
    """``traffic radio rate=R [ports=LIST] [for DURATION]``."""

    device: str
    options: tuple[KeywordArg, ...] = ()
    duration: Optional[Expr] = None


@_node
class Press(Statement):
    """``press button N``."""

    button: Expr


@_node
class ConsoleInput(Statement):
    """``console input "text"`` (or bytes, or a $var)."""

    data: Expr


@_node
class At(Statement):
    """``at TIME { ... }``; ``relative`` for ``at +TIME`` (from now)."""

    time: Expr
    body: tuple[Statement, ...]
    relative: bool = False


@_node
class Every(Statement):
    """``every PERIOD [for DURATION] { ... }``."""

    period: Expr
    body: tuple[Statement, ...]
    duration: Optional[Expr] = None


@_node
class Timeline(Statement):
    """``timeline [for DURATION]``."""

    duration: Optional[Expr] = None


# --------------------------------------------------------------- debugging

@_node
class BreakSyscall(Statement):
    """``break syscall [p] [CLASS] [DRIVER] [if EXPR]`` (``tbreak``:
    ``temporary``). ``cls`` is a class name (``"command"``, ``"allow-rw"``
    ...), a number Expr, or None for any class."""

    process: Optional[Name] = None
    cls: Union[str, Expr, None] = None
    driver: Optional[Driver] = None
    condition: Optional[Expr] = None
    temporary: bool = False


@_node
class BreakUpcall(Statement):
    """``break upcall [p] [DRIVER NUM] [if EXPR]`` (``tbreak``: temporary)."""

    process: Optional[Name] = None
    driver: Optional[Driver] = None
    upcall_num: Optional[Expr] = None
    condition: Optional[Expr] = None
    temporary: bool = False


@_node
class Ignore(Statement):
    """``ignore N COUNT``."""

    number: Expr
    count: Expr


@_node
class Condition(Statement):
    """``condition N [EXPR]``; no expression removes the condition."""

    number: Expr
    condition: Optional[Expr] = None


@_node
class Commands(Statement):
    """``commands [N] { ... }``: statements to run when breakpoint N (or the
    last one set) stops."""

    number: Optional[Expr]
    body: tuple[Statement, ...]


@_node
class Catch(Statement):
    """``catch fault|restart|dropped|ipc [p]`` or ``catch error CODE [p]``;
    ``code`` is an error name (``"NODEVICE"``) or an int."""

    kind: str
    code: Union[str, int, None] = None
    process: Optional[Name] = None


@_node
class Watch(Statement):
    """``watch EXPR``."""

    expr: Expr


@_node
class Display(Statement):
    """``display [EXPR]``; without an expression, show every display now."""

    expr: Optional[Expr] = None


@_node
class Undisplay(Statement):
    """``undisplay [N]``; without N, all."""

    number: Optional[Expr] = None


@_node
class Info(Statement):
    """``info breakpoints|display|checkpoints|watchpoints``."""

    topic: str


@_node
class Delete(Statement):
    """``delete [N ...]``; no numbers means every breakpoint."""

    numbers: tuple[Expr, ...] = ()


@_node
class Disable(Statement):
    """``disable [N ...]``; no numbers means every breakpoint."""

    numbers: tuple[Expr, ...] = ()


@_node
class Enable(Statement):
    """``enable [N ...]``; no numbers means every breakpoint."""

    numbers: tuple[Expr, ...] = ()


@_node
class Next(Statement):
    """``next p``: run until p's next syscall."""

    process: Name


@_node
class Continue(Statement):
    """``continue``."""


@_node
class Finish(Statement):
    """``finish``."""


@_node
class Checkpoint(Statement):
    """``checkpoint [NAME]``; ``name`` is a str, an int, or None."""

    name: Union[str, int, None] = None


@_node
class Restore(Statement):
    """``restore NAME`` (a checkpoint's name or number)."""

    name: Union[str, int]


@_node
class Diff(Statement):
    """``diff A B``: what changed between two checkpoints."""

    a: Union[str, int]
    b: Union[str, int]


@_node
class Rewind(Statement):
    """``rewind [N]``."""

    count: Optional[Expr] = None


@_node
class ReverseStep(Statement):
    """``reverse-step [N]``."""

    count: Optional[Expr] = None


@_node
class ReverseContinue(Statement):
    """``reverse-continue``."""


@_node
class Goto(Statement):
    """``goto EVENT``."""

    event: Expr


@_node
class Save(Statement):
    """``save FILE``: this session as a replayable .tsh."""

    path: str


@_node
class Record(Statement):
    """``record FILE``; ``record off`` has ``path=None``."""

    path: Optional[str] = None


@_node
class Export(Statement):
    """``export perfetto FILE`` / ``export mermaid FILE``."""

    format: str
    path: str


# ----------------------------------------------------- apps, radio, IPC

@_node
class Compare(Statement):
    """``compare [key=value ...]``."""

    options: tuple[KeywordArg, ...] = ()


@_node
class Help(Statement):
    """``help [TOPIC ...]``; the topic words joined by one space, or None."""

    topic: Optional[str] = None


@_node
class Demo(Statement):
    """``demo [NAME]``."""

    name: Optional[str] = None


# ---------------------------------------------------------------- scripts

@_node
class Let(Statement):
    """``let NAME = EXPR``, or ``let NAME = STATEMENT`` where the statement
    yields a value: a :class:`Syscall`, :class:`Alloc`, :class:`ShowMemory`
    or :class:`Now`."""

    name: str
    value: Union[Expr, Syscall, Alloc, ShowMemory, Now]


@_node
class Echo(Statement):
    """``echo [EXPR ...]``: the values printed on one line, separated by a
    space (strings without quotes)."""

    args: tuple[Expr, ...] = ()


@_node
class Print(Statement):
    """``print EXPR``: the value, formatted as the shell shows values."""

    expr: Expr


@_node
class Expect(Statement):
    """``expect EXPR``."""

    expr: Expr


@_node
class Include(Statement):
    """``include FILE`` (alias ``source FILE``); resolved by the interpreter,
    relative to the including file."""

    path: str


@_node
class Param(Statement):
    """``param NAME = DEFAULT``."""

    name: str
    default: Expr


@_node
class Pause(Statement):
    """``pause``."""


@_node
class Explain(Statement):
    """``explain``."""


@_node
class Quit(Statement):
    """``quit`` (or ``exit`` at the start of a statement)."""


# -------------------------------------------------------------- vocabulary

#: TRD104 return variants, as result patterns spell them.
RESULT_VARIANTS = (
    "Success", "SuccessU32", "SuccessU32U32", "SuccessU32U32U32",
    "SuccessU64", "SuccessU32U64",
    "Failure", "FailureU32", "FailureU32U32", "FailureU64",
)

#: Tock's ErrorCode names.
ERROR_CODES = (
    "FAIL", "BUSY", "ALREADY", "OFF", "RESERVE", "INVAL", "SIZE", "CANCEL",
    "NOMEM", "NOSUPPORT", "NODEVICE", "UNINSTALLED", "NOACK",
)

PROCESS_STATES = (
    "Running", "Yielded", "YieldedFor", "Stopped", "Faulted", "Terminated",
)

#: Fields of a process in expressions (``p.state``).
PROCESS_FIELDS = (
    "state", "queue", "dropped", "restarts", "syscalls", "pid", "console",
    "break", "grant_bytes", "completion",
)

#: Fields of a syscall result (``$_.r0``); ``values`` is indexed.
RESULT_FIELDS = ("r0", "r1", "r2", "r3", "error", "value", "values")

#: Fields of ``$stop``.
STOP_FIELDS = ("kind", "process", "number")

#: The words that may follow ``NAME:``.
SYSCALL_VERBS = (
    "command", "subscribe", "allow-rw", "allow-ro", "allow-ur", "yield",
    "memop", "exit", "syscall",
)

#: Functions the language documents for expressions.
BUILTIN_FUNCTIONS = ("mem",)


def walk(node):
    """Yield ``node`` and every node below it, depth first, in source order
    (handy for interpreters and tests)."""
    yield node
    for f in getattr(type(node), "__node_fields__", ()):
        if f.name == "pos":
            continue
        value = getattr(node, f.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, Node):
                yield from walk(item)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    if sys.argv[1:] != ["--write-init"]:
        sys.exit("usage: python3 -m tockshell.lang.ast --write-init")
    from tockshell.lang import ast as _module  # the imported module, not this __main__ copy of it

    target = Path(_module.__file__).with_name("_ast_init.py")
    target.write_text(_module.generated_init_module())
    print(f"wrote {target}")
