"""Registries that let other modules add to the language without editing the interpreter.

Plugin modules are imported by :class:`~tockshell.lang.session.Session` when
they exist (see ``PLUGIN_MODULES`` there: ``tockshell.lang.cmd_ipc``,
``tockshell.debugger.commands``, ``tockshell.userland.commands``, ...). At
import they register what they provide here. The hooks:

Statements
    ``@statement(ast.ShowMailbox)`` on ``def handler(session, node) -> value | None``.
    The interpreter dispatches every statement through :data:`STATEMENTS`
    (subclasses resolve to the nearest registered base class). A handler
    prints through ``session.say(text)``, raises ``session.error(node, msg)``
    for user errors, and returns the statement's value (what ``let`` stores)
    or None. A later registration for the same class replaces the earlier
    one, so a plugin can take over a statement the core only stubs.

Spawn keys
    ``@spawn_key("app")`` on ``def handler(session, ctx: SpawnContext) -> None``.
    The handler reads ``ctx.options`` (evaluated values by key), marks the
    keys it used with ``ctx.use(key)`` and fills ``ctx.kwargs`` (keyword
    arguments of ``Kernel.create_process``) or ``ctx.program``. The core
    handles ``ram grant flash short_id package raw``; ``app`` and ``tbf``
    (and ``tab``) are handled by the userland and TBF plugins when present.

Config keys
    ``config_key("name", getter, setter, help)``: ``getter(session) -> str``,
    ``setter(session, value)`` raising ValueError with a clear message.
    Capsule keys ``NAME.KEY`` need no registration: they go to the driver's
    ``config_keys()`` / ``set_config(key, value)``. The value handed to a
    setter is a :class:`ConfigValue`: ``.word`` (a bare word such as
    ``restart``, or None), ``.number`` (an int: numbers, durations in ns,
    sizes in bytes), ``.text`` (a string literal), ``.call`` (``("threshold",
    3)`` for ``threshold(3)``), ``.flag`` (True/False for on/off/true/false)
    and ``.value`` (the plain Python value, what drivers' ``set_config`` get).

Process fields
    ``@process_field("descriptors", "the process-descriptor table")`` on
    ``def field(session, process) -> value``: read in expressions as
    ``p.descriptors``.

Statistics and explanations (duck-typed, no registration)
    A driver may define ``stats() -> dict[str, int | str]``: ``stats`` prints
    those grouped under the driver's name; ``stats reset`` calls
    ``driver.reset_stats()`` when present. ``explain`` uses the kernel's
    "note" records, so a capsule explains a refusal with ``kernel.note(text, p)``.

Run hooks
    ``session.stop_checks`` (callables ``(session) -> Stop | None`` run after
    every event of ``run``/``step``) and ``session.request_stop(stop)`` (from a
    kernel listener or hook) end a run; ``session.last_stop`` is ``$stop``.

Board hooks
    ``@board_hook`` on ``def hook(session) -> None``: called for every new
    board of every session (the first one, and each ``board NAME`` or
    ``demo``), after ``session.kernel`` is set: the place to attach kernel
    listeners or per-session state (``session.plugin_state[key]``).

Names for completion
    ``session.name_sources[kind] = callable`` (kinds as in
    :mod:`tockshell.lang.completion`: ``breakpoints``, ``checkpoints``,
    ``services``, ``displays``...) lets the REPL complete a plugin's names.

Help
    A plugin module may define ``HELP = {"word": (synopsis, summary,
    example[, details[, setup]])}``; ``help`` lists those entries and ``help word``
    shows one. ``setup`` is what the example needs first (``spawn client``);
    tests/test_usability.py runs every setup + example on a fresh session.
"""

from __future__ import annotations

from typing import Any, Callable

from ..records import Record

__all__ = ["STATEMENTS", "CORE_STATEMENTS", "SPAWN_KEYS", "CONFIG_KEYS", "PROCESS_FIELDS", "statement", "spawn_key",
           "config_key", "process_field", "handler_for", "BOARD_HOOKS", "board_hook", "STATEMENT_OPTIONS", "SpawnContext", "ConfigKey", "ConfigValue",
           "Stop"]

#: AST statement class -> handler(session, node), registered by plugins (consulted first).
STATEMENTS: dict[type, Callable[[Any, Any], Any]] = {}
#: The interpreter's own handlers (so a plugin's registration wins whatever the import order).
CORE_STATEMENTS: dict[type, Callable[[Any, Any], Any]] = {}
#: spawn option -> handler(session, ctx).
SPAWN_KEYS: dict[str, Callable[[Any, "SpawnContext"], None]] = {}
#: config key -> ConfigKey.
CONFIG_KEYS: dict[str, "ConfigKey"] = {}
#: process field -> (getter(session, process), one-line description).
PROCESS_FIELDS: dict[str, tuple[Callable[[Any, Any], Any], str]] = {}
#: Called with the session after each new board (see "Board hooks").
BOARD_HOOKS: list[Callable[[Any], None]] = []
#: statement keyword -> {option: description}: the ``key=value`` options the completer offers
#: (:mod:`tockshell.lang.completion` adds the core's).
STATEMENT_OPTIONS: dict[str, dict[str, str]] = {}


def board_hook(fn):
    """Register ``fn(session)`` to run for every new board of every session."""
    if fn not in BOARD_HOOKS:
        BOARD_HOOKS.append(fn)
    return fn


def statement(*classes: type, core: bool = False):
    """Register a handler for one or more AST statement classes (``core`` is for the interpreter)."""

    def deco(fn):
        for cls in classes:
            (CORE_STATEMENTS if core else STATEMENTS)[cls] = fn
        return fn

    return deco


def handler_for(cls: type) -> Callable | None:
    """The handler for ``cls`` (or its nearest base): a plugin's first, then the core's."""
    for table in (STATEMENTS, CORE_STATEMENTS):
        for klass in cls.__mro__:
            fn = table.get(klass)
            if fn is not None:
                return fn
    return None


def spawn_key(*keys: str, core: bool = False):
    """Register a handler for ``spawn`` options (``app=``, ``tbf=``...); a core one never replaces a plugin's."""

    def deco(fn):
        for k in keys:
            if core:
                SPAWN_KEYS.setdefault(k, fn)
            else:
                SPAWN_KEYS[k] = fn
        return fn

    return deco


class ConfigKey(Record):
    """A ``config`` key: how to read it back and how to set it."""

    __slots__ = ("name", "getter", "setter", "help")

    def __init__(self, name: str, getter: Callable[[Any], str], setter: Callable[[Any, "ConfigValue"], None],
                 help: str = ""):
        self.name = name
        self.getter = getter
        self.setter = setter
        self.help = help


def config_key(name: str, getter: Callable[[Any], str], setter: Callable[[Any, "ConfigValue"], None],
               help: str = "") -> None:
    """Register a ``config NAME = VALUE`` key."""
    CONFIG_KEYS[name] = ConfigKey(name, getter, setter, help)


def process_field(name: str, help: str = ""):
    """Register ``p.NAME`` in expressions."""

    def deco(fn):
        PROCESS_FIELDS[name] = (fn, help)
        return fn

    return deco


class ConfigValue(Record):
    """The right-hand side of ``config KEY = VALUE``, in every form a setter may want."""

    __slots__ = ("source", "word", "number", "text", "call", "items")

    def __init__(self, source: str, word: str | None = None, number: int | None = None, text: str | None = None,
                 call: tuple | None = None, items: tuple | None = None):
        self.source = source
        self.word = word
        self.number = number
        self.text = text
        self.call = call
        self.items = items

    @property
    def flag(self) -> bool | None:
        """on/off, true/false, yes/no, 1/0 as a bool; None if the value is not one of those."""
        w = (self.word or "").lower()
        if w in ("on", "true", "yes") or self.number == 1:
            return True
        if w in ("off", "false", "no") or self.number == 0:
            return False
        return None

    @property
    def value(self) -> Any:
        """The plain value: a word or text as str, a number as int, a call as a tuple, on/off as bool."""
        if self.word is not None:
            f = self.flag
            return f if f is not None else self.word
        if self.number is not None:
            return self.number
        if self.text is not None:
            return self.text
        if self.call is not None:
            return self.call
        return self.items

    def __str__(self) -> str:
        return self.source


class SpawnContext(Record):
    """What a ``spawn`` statement is building: options by key, create_process kwargs, the program;
    ``kinds`` is the AST class of each option's value (a plugin can tell ``250ms`` from ``250``)."""

    __slots__ = ("name", "options", "kwargs", "program", "used", "node", "kinds")

    def __init__(self, name: str, options: dict[str, Any], kwargs: dict[str, Any] | None = None, program: Any = None,
                 used: set | None = None, node: Any = None, kinds: dict | None = None):
        self.name = name
        self.options = options
        self.kwargs = {} if kwargs is None else kwargs
        self.program = program
        self.used = set() if used is None else used
        self.node = node
        self.kinds = {} if kinds is None else kinds

    def use(self, *keys: str) -> None:
        """Mark options as consumed (anything left unconsumed is reported as unknown)."""
        self.used.update(keys)

    def unused(self) -> dict[str, Any]:
        return {k: v for k, v in self.options.items() if k not in self.used}


class Stop(Record):
    """Why a run or step stopped early: ``$stop`` (kind, process, number) plus a sentence."""

    __slots__ = ("kind", "process", "number", "message")

    def __init__(self, kind: str, process: str | None = None, number: int | None = None, message: str = ""):
        self.kind = kind
        self.process = process
        self.number = number
        self.message = message

    def as_record(self) -> dict:
        from .values import Symbol
        return {"kind": Symbol(self.kind), "process": self.process, "number": self.number}
