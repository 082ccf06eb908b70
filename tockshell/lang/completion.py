"""What may come next at the cursor: completion candidates for tsh.

A pure module (no UI import), in the manner of pgcli's ``suggest_type``: the
shell's prompt_toolkit completer calls :func:`complete` with the text before
the cursor and an object that knows the live names (processes, variables,
labels ...), and turns the answers into its own completions.

The grammar decides what may come next: the text is fed to Lark's
interactive LALR parser and ``accepts()`` gives the terminals allowed at the
cursor. Keyword terminals become keywords; NAME, VAR, LABEL, NUMBER and
PROCESS_PREFIX become live names of the kind the statement calls for.

The names provider may offer any of these attributes (a collection, a
mapping name -> description, or a method returning one; missing ones count
as empty):

``processes``, ``drivers`` (name -> number/description), ``variables``
(without ``$``), ``config_keys``, ``breakpoints`` (numbers), ``displays``,
``checkpoints``, ``scenarios``, ``boards``, ``apps``, ``services``,
``help_topics``, and the methods ``labels(process)`` and
``config_values(key)``. Variables and labels may be given with or without
their ``$``/``@``. :class:`StaticNames` is a ready-made holder.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, Optional

import attrs

from . import ast as A
from .commands import STATEMENT_OPTIONS as _PLUGIN_OPTIONS

__all__ = ["Completion", "StaticNames", "complete", "SPAWN_OPTIONS", "STATEMENT_OPTIONS"]


class Completion(NamedTuple):
    """One candidate. ``start_offset`` is the index in the text before the
    cursor where the replaced word begins (prompt_toolkit's
    ``start_position`` is ``start_offset - len(text)``)."""

    text: str
    start_offset: int
    kind: str
    description: str = ""


@attrs.define
class StaticNames:
    """A names provider holding plain data (for tests and simple shells)."""

    processes: Any = ()
    drivers: Any = ()
    variables: Any = ()
    config_keys: Any = ()
    breakpoints: Any = ()
    displays: Any = ()
    checkpoints: Any = ()
    scenarios: Any = ()
    boards: Any = ()
    apps: Any = ()
    services: Any = ()
    help_topics: Any = ()
    process_labels: dict = attrs.Factory(dict)
    values_by_key: dict = attrs.Factory(dict)

    def labels(self, process: str):
        return self.process_labels.get(process, ())

    def config_values(self, key: str):
        return self.values_by_key.get(key, ())


#: Options of `spawn` the language defines (apps add their own parameters).
SPAWN_OPTIONS = {
    "ram": "app memory (TBF minimum RAM)", "grant": "room left for grants",
    "flash": "flash size", "short_id": "ShortId", "package": "package name",
    "app": "built-in app to run", "raw": "leave it as Tock creates it",
    "tbf": "a Tock binary file to load (\"path.tbf\")", "tab": "a Tock application bundle (\"path.tab\")",
    "arch": "which TBF of a tab= bundle",
}
#: key=value options of every statement that has them: the core's here, a plugin's added
#: through the registry in :mod:`tockshell.lang.commands` (so a plugin need not import this module).
STATEMENT_OPTIONS = _PLUGIN_OPTIONS
for _kw, _opts in (("spawn", SPAWN_OPTIONS), ("inject", {"lqi": "link quality indicator"}),
                   ("traffic", {"rate": "frames per second", "ports": "destination ports"})):
    STATEMENT_OPTIONS.setdefault(_kw, {}).update(_opts)

# NAME after these keywords names ... (a kind of live name).
_NAME_KIND = {
    **{kw: "process" for kw in (
        "process", "stop", "start", "fault", "crash", "terminate", "boot", "restart",
        "alloc", "write", "mem", "grants", "upcalls", "allows", "subscriptions",
        "descriptors", "mailbox", "next", "syscall", "upcall", "dropped", "ipc", "allow")},
    "config": "config", "board": "board", "demo": "scenario", "checkpoint": "checkpoint",
    "restore": "checkpoint", "diff": "checkpoint", "help": "topic", "error": "error",
    "register": "service", "clients": "service",
}
_BREAKPOINT_AFTER = {"delete", "disable", "enable", "ignore", "condition", "commands"}

_SCAN = re.compile(r'(?P<str>x?"(?:[^"\\\n]|\\.)*(?P<close>")?)|#[^\n]*|\\[ \t]*\r?\n|[;{}\n]')
_WORD = re.compile(r"[$@]?[A-Za-z0-9_.\-]*\Z")
_KIND_ORDER = {k: i for i, k in enumerate((
    "field", "label", "process", "option", "syscall", "driver", "statement", "keyword",
    "breakpoint", "checkpoint", "config", "value", "scenario", "board", "service", "topic",
    "result", "state", "error", "function", "variable"))}


def _items(names, attr: str, *args) -> dict[str, str]:
    """A provider's names of one kind as {text: description}."""
    value = getattr(names, attr, None) if names is not None else None
    if callable(value):
        try:
            value = value(*args)
        except Exception:  # a provider's failure must not break typing
            value = None
    if not value:
        return {}
    if isinstance(value, dict):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    if isinstance(value, (str, bytes)):
        return {str(value): ""}
    return {str(v): "" for v in value}


def _statement_start(text: str) -> Optional[int]:
    """Index where the statement under the cursor starts, or None when the
    cursor is inside a comment or a string."""
    start = 0
    for m in _SCAN.finditer(text):
        tok = m.group()
        if m.group("str") is not None:
            if m.group("close") is None and m.end() == len(text):
                return None
        elif tok.startswith("#"):
            if m.end() == len(text):
                return None
        elif tok[0] in ";{}\n":
            start = m.end()
    return start


def complete(text_before_cursor: str, names=None) -> list[Completion]:
    """Candidates for the word at the cursor, best first."""
    from lark.exceptions import LarkError

    from .parser import get_parser, grammar_info

    text = text_before_cursor
    start = _statement_start(text)
    if start is None:
        return []
    fragment = text[start:]
    word = _WORD.search(fragment)
    prefix = word.group()
    offset = start + word.start()
    head = fragment[:word.start()]

    info = grammar_info()
    try:
        ip = get_parser().parse_interactive(head, start="start")
        tokens = ip.exhaust_lexer()
        acc = info.accepts(ip)
    except LarkError:
        return []
    except Exception:  # the completer must never take the shell down
        return []

    out: list[Completion] = []

    def add(candidate: str, kind: str, description: str = "") -> None:
        if candidate.lower().startswith(prefix.lower()):
            out.append(Completion(candidate, offset, kind, description))

    first = tokens[0].value if tokens else None
    prev = tokens[-1] if tokens else None
    prev_text = prev.value if prev is not None else None
    process = next((t.value[:-1].rstrip() for t in tokens if t.type == "PROCESS_PREFIX"), None)

    # A `$var.` or `name.` being typed: offer fields.
    if "." in prefix and ("VAR" in acc or "NAME" in acc):
        root = prefix.rsplit(".", 1)[0]
        fields = ()
        if root == "$_":
            fields = A.RESULT_FIELDS
        elif root == "$stop":
            fields = A.STOP_FIELDS
        elif not root.startswith(("$", "@")) and "FUNC" in acc and root in _items(names, "processes"):
            fields = A.PROCESS_FIELDS
        for f in fields:
            add(f"{root}.{f}", "field")

    driver_position = info.driver_terms <= acc
    for term in acc:
        literal = info.literals.get(term)
        if term in info.keyword_terms:
            if term in info.driver_terms and driver_position:
                drivers = _items(names, "drivers")
                add(literal, "driver", drivers.get(literal, ""))
            elif term in info.syscall_verb_terms and prev is not None and prev.type == "PROCESS_PREFIX":
                add(literal, "syscall")
            elif term in info.statement_terms and (prev is None or prev_text == "="):
                add(literal, "statement")
            else:
                add(literal, "keyword")
        elif term == "PROCESS_PREFIX":
            for name, desc in _items(names, "processes").items():
                add(f"{name}: ", "process", desc)
        elif term == "VAR":
            found = {"_": "last syscall result", "stop": "last stop"}
            for var, desc in _items(names, "variables").items():
                found[var.lstrip("$")] = desc or found.get(var.lstrip("$"), "")
            for var, desc in found.items():
                add(f"${var}", "variable", desc)
        elif term == "LABEL" and process is not None:
            for label, desc in _items(names, "labels", process).items():
                add("@" + label.lstrip("@"), "label", desc)
        elif term == "NUMBER":
            if prev_text in _BREAKPOINT_AFTER:
                for n, desc in _items(names, "breakpoints").items():
                    add(n, "breakpoint", desc)
            elif prev_text == "undisplay":
                for n, desc in _items(names, "displays").items():
                    add(n, "breakpoint", desc)
        elif term == "FUNC":
            for func in A.BUILTIN_FUNCTIONS:
                add(f"{func}(", "function")
        elif term == "NAME":
            _complete_name(add, names, acc, tokens, first, prev_text)

    # A config key with a closed set of values (credentials, fault_policy...): only those, not
    # the generic expression words (`on`, `not`, `mem(`) a setter would refuse. `$` asks for variables.
    if first == "config" and prev_text == "=" and len(tokens) == 3 and not prefix.startswith("$") \
            and _items(names, "config_values", tokens[1].value):
        out = [c for c in out if c.kind == "value"]
    # A file path goes after tbf= / tab= (quoted): no expression word fits there.
    if first == "spawn" and prev_text == "=" and len(tokens) >= 2 and tokens[-2].value in ("tbf", "tab") \
            and not prefix.startswith("$"):
        out = []

    # A prefix typed with its case narrows to candidates with that case;
    # only when none has it are the others offered (`fa` still finds `FAIL`).
    exact = [c for c in out if c.text.startswith(prefix)]
    seen: set[str] = set()
    unique = []
    for c in sorted(exact or out, key=lambda c: (_KIND_ORDER.get(c.kind, 99), c.text)):
        if c.text not in seen:
            seen.add(c.text)
            unique.append(c)
    return unique


def _complete_name(add, names, acc, tokens, first, prev_text) -> None:
    """Candidates where the grammar accepts a NAME: which names depends on
    the statement."""
    if "FUNC" in acc:
        # An expression: process names (and their fields), result patterns,
        # state and error words.
        if first in ("config", "param") or (prev_text == "=" and first in STATEMENT_OPTIONS):
            key = tokens[1].value if first == "config" and len(tokens) > 1 else (
                tokens[-2].value if len(tokens) >= 2 else "")
            for v, desc in _items(names, "config_values", key).items():
                add(v, "value", desc)
            if key == "app":
                for v, desc in _items(names, "apps").items():
                    add(v, "value", desc)
            closed = first == "config" and _items(names, "config_values", key)
            if (first != "spawn" or key not in ("app", "tbf", "tab")) and not closed:
                for v in ("true", "false", "on", "off"):
                    add(v, "value")
            return
        for name, desc in _items(names, "processes").items():
            add(name, "process", desc)
        for word in A.RESULT_VARIANTS[:1] + ("Failure",):
            add(word, "result")
        for word in A.PROCESS_STATES:
            add(word, "state")
        for word in A.ERROR_CODES:
            add(word, "error")
        for word in ("none", "true", "false"):
            add(word, "value")
        return
    if first in STATEMENT_OPTIONS and prev_text not in ("spawn",) and "EQUAL" not in acc:
        options = {**STATEMENT_OPTIONS[first], **_items(names, "options", first)}
        for key, desc in options.items():
            add(f"{key}=", "option", desc)
        return
    if first == "policy" and any(t.value == "allow" for t in tokens):
        for name, desc in _items(names, "processes").items():
            add(name, "process", desc)
        add("any", "value")
        return
    kind = _NAME_KIND.get(prev_text or "")
    if kind is None and first in ("break", "tbreak") and prev_text in ("syscall", "upcall"):
        kind = "process"
    if kind is None and first == "catch":
        kind = "process"
    source = {"process": "processes", "config": "config_keys", "board": "boards",
              "scenario": "scenarios", "checkpoint": "checkpoints", "service": "services",
              "topic": "help_topics"}.get(kind or "")
    if source:
        for name, desc in _items(names, source).items():
            add(name, kind, desc)
    if kind == "topic":
        from .parser import grammar_info

        for word in grammar_info().statement_keywords + ["apps"]:
            add(word, "topic")
    elif kind == "error":
        for word in A.ERROR_CODES:
            add(word, "error")
