"""A fast path for the commonest lines of a script: one syscall statement on a line of its own.

Lark's LALR parser costs about 150 us per syscall statement (lexing, the
parse tree, then the transformer), which caps a long generated scenario at a
few thousand statements per second. Most lines of such a file have one shape,
``NAME: verb operand...``; this module reads those lines with a handful of
regular expressions and builds exactly the nodes, with exactly the positions,
that :mod:`tockshell.lang.parser` builds from Lark's tree. Every other line
(any other statement, a block, a continuation, a ``;``, an operand in
parentheses, anything unexpected) goes to Lark, in runs of consecutive
lines, and the positions of what comes back are moved to where the run
stands in the file.

The fast path never decides anything on its own: when a run fails to parse,
or a literal is malformed, :func:`parse_fast` returns None and the caller
parses the whole text with Lark, so that errors (their order, positions and
wording) are exactly those of the grammar. Tests compare the two parsers
on generated files, positions included.
"""

from __future__ import annotations

import re
from typing import Callable

from . import ast as A
from .parser import _SIZE_UNITS, LazyPattern, _decode_bytes, _decode_string, _int, brace_balance

__all__ = ["parse_fast"]

# The terminals of tsh.lark that can appear in a fast line, in Lark's order of preference
# (priority 1 first); each is the grammar's own pattern. Whitespace (WS) may precede any token.
_TOKEN = LazyPattern(r"""[ \t\f]*(?:
     (?P<BYTES>x"[^"\n]*")
    |(?P<STRING>"(?:[^"\\\n]|\\.)*")
    |(?P<NUMBER>(?:0[xX][0-9a-fA-F][0-9a-fA-F_]*|0[bB][01][01_]*|[0-9][0-9_]*)(?![A-Za-z0-9_.]))
    |(?P<SIZE>[0-9][0-9_]*[kKM](?![A-Za-z0-9_.]))
    |(?P<VAR>\$[A-Za-z_][A-Za-z0-9_.\-]*)
    |(?P<LABEL>@[A-Za-z_][A-Za-z0-9_.\-]*)
    |(?P<NAME>[A-Za-z_][A-Za-z0-9_.\-]*)
    |(?P<MINUS>-)
    |(?P<COMMENT>\#[^\n]*)
    |(?P<NL>\r?\n)
    )""", re.X)
_PREFIX = re.compile(r"([ \t\f]*)([A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*:")
_BLANK = re.compile(r"[ \t\f]*(?:#[^\n]*)?(\r?\n)?")

_DRIVERS = frozenset(("alarm", "console", "led", "button", "rng", "lld", "radio", "ipc", "ipcmgr", "mailbox",
                      "shmem", "registry_name", "registry_pkg", "relay"))
_MEMOPS = frozenset(("brk", "sbrk", "ram_start", "ram_end", "flash_start", "flash_end", "grant_start",
                     "flash_regions", "flash_region_start", "flash_region_end", "stack_top", "stack_start",
                     "heap_start"))
_CLASSES = frozenset(("yield", "subscribe", "command", "allow-rw", "allow-ro", "memop", "exit", "allow-ur"))
_ALLOW_KIND = {"allow-rw": "rw", "allow-ro": "ro", "allow-ur": "ur"}


class _Tok:
    """What the parser's literal decoders read from a Lark token."""

    __slots__ = ("type", "value", "line", "column", "end_line", "end_column")

    def __init__(self, type_: str, value: str, line: int, column: int):
        self.type = type_
        self.value = value
        self.line = line
        self.column = column
        self.end_line = line
        self.end_column = column + len(value)


class _Reject(Exception):
    """This line is not for the fast path."""


class _Line:
    """Reads the operands of one syscall line, token by token, building nodes as the Builder does."""

    __slots__ = ("file", "toks", "i")

    def __init__(self, file: str, toks: list[_Tok]):
        self.file = file
        self.toks = toks
        self.i = 0

    def pos(self, first: _Tok, last: _Tok) -> A.Pos:
        return A.Pos(self.file, first.line, first.column, last.end_line, last.end_column)

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        t = self.peek()
        if t is None:
            raise _Reject
        self.i += 1
        return t

    def word(self, words) -> _Tok | None:
        t = self.peek()
        if t is not None and t.type == "NAME" and t.value in words:
            self.i += 1
            return t
        return None

    def number(self, optional: bool = False):
        """``?number``: NUMBER | SIZE | "-" NUMBER | VAR (a parenthesised expression is Lark's)."""
        t = self.peek()
        if t is None:
            if optional:
                return None
            raise _Reject
        ty = t.type
        if ty == "NUMBER":
            self.i += 1
            return A.Number(_int(t.value), t.value, pos=self.pos(t, t))
        if ty == "SIZE":
            self.i += 1
            return A.Size(_int(t.value[:-1]) * _SIZE_UNITS[t.value[-1]], t.value, pos=self.pos(t, t))
        if ty == "VAR":
            self.i += 1
            return A.Var(t.value[1:], pos=self.pos(t, t))
        if ty == "MINUS":
            self.i += 1
            n = self.take()
            if n.type != "NUMBER":
                raise _Reject
            return A.Number(-_int(n.value), "-" + n.value, pos=self.pos(t, n))
        if optional:
            return None
        raise _Reject

    def driver(self) -> A.Driver:
        t = self.word(_DRIVERS)
        if t is not None:
            return A.Driver(name=t.value, pos=self.pos(t, t))
        first = self.peek()
        n = self.number()
        return A.Driver(number=n, pos=self.pos(first, self.toks[self.i - 1]))

    def handler(self):
        t = self.peek()
        if t is not None and t.type == "LABEL":
            self.i += 1
            return A.Label(t.value[1:], pos=self.pos(t, t))
        t = self.word(("null",))
        if t is not None:
            return A.Null(pos=self.pos(t, t))
        return self.number()

    def buffer(self):
        t = self.peek()
        if t is None:
            raise _Reject
        if t.type == "STRING":
            self.i += 1
            return _decode_string(self.file, t)
        if t.type == "BYTES":
            self.i += 1
            return _decode_bytes(self.file, t)
        if self.word(("null",)) is not None:
            return A.Null(pos=self.pos(t, t))
        address = self.number()
        length = self.number()
        return A.AddressRange(address, length, pos=self.pos(t, self.toks[self.i - 1]))


def _tokens(line: str, lineno: int, start: int) -> tuple[list[_Tok], str | None]:
    """The tokens of ``line`` from ``start`` (comments dropped), and its newline (None at the end of text)."""
    toks: list[_Tok] = []
    n = len(line)
    i = start
    match = _TOKEN.match
    while i < n:
        m = match(line, i)
        if m is None:
            if line[i:].strip(" \t\f") == "":
                return toks, None
            raise _Reject
        kind = m.lastgroup
        if kind == "NL":
            if m.end() != n:
                raise _Reject
            return toks, m.group(kind)
        if kind != "COMMENT":
            toks.append(_Tok(kind, m.group(kind), lineno, m.start(kind) + 1))
        i = m.end()
    return toks, None


_NUM = r"(?:0[xX][0-9a-fA-F][0-9a-fA-F_]*|0[bB][01][01_]*|[0-9][0-9_]*)(?![A-Za-z0-9_.])"
# The commonest line of all, whole: `p: command DRIVER N [N [N]]`, operands apart by whitespace
# (so that no token can be read another way). Anything else takes the token path.
_COMMAND = re.compile(
    rf"([ \t\f]*)([A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*:[ \t\f]*command[ \t\f]+([A-Za-z_][A-Za-z0-9_]*|{_NUM})"
    rf"[ \t\f]+({_NUM})(?:[ \t\f]+({_NUM})(?:[ \t\f]+({_NUM}))?)?[ \t\f]*(?:#[^\n]*)?(\r?\n)?\Z")


# The next commonest, whole: `p: allow-rw|allow-ro|allow-ur DRIVER N ADDR LEN` and
# `p: subscribe DRIVER N @label [N]`, operands apart by whitespace.
_ALLOW_RANGE = LazyPattern(
    rf"([ \t\f]*)([A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*:[ \t\f]*allow-(rw|ro|ur)[ \t\f]+([A-Za-z_][A-Za-z0-9_]*|{_NUM})"
    rf"[ \t\f]+({_NUM})[ \t\f]+({_NUM})[ \t\f]+({_NUM})[ \t\f]*(?:#[^\n]*)?(\r?\n)?\Z")
_SUBSCRIBE_LABEL = LazyPattern(
    rf"([ \t\f]*)([A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*:[ \t\f]*subscribe[ \t\f]+([A-Za-z_][A-Za-z0-9_]*|{_NUM})"
    rf"[ \t\f]+({_NUM})[ \t\f]+(@[A-Za-z_][A-Za-z0-9_.\-]*)(?:[ \t\f]+({_NUM}))?[ \t\f]*(?:#[^\n]*)?(\r?\n)?\Z")


def _driver_at(file: str, m, g: int, lineno: int):
    drv = m.group(g)
    s = m.start(g) + 1
    dpos = A.Pos(file, lineno, s, lineno, s + len(drv))
    if drv[0].isdigit():
        return A.Driver(number=A.Number(_int(drv), drv, pos=dpos), pos=dpos)
    if drv in _DRIVERS:
        return A.Driver(name=drv, pos=dpos)
    return None


def _number_at(file: str, m, g: int, lineno: int):
    t = m.group(g)
    if t is None:
        return None
    s = m.start(g) + 1
    return A.Number(_int(t), t, pos=A.Pos(file, lineno, s, lineno, s + len(t)))


def _allow_range(file: str, m, lineno: int):
    driver = _driver_at(file, m, 4, lineno)
    if driver is None:
        return None
    num, addr, length = (_number_at(file, m, g, lineno) for g in (5, 6, 7))
    end = length.pos.end_column
    col = len(m.group(1)) + 1
    name = m.group(2)
    process = A.Name(name, pos=A.Pos(file, lineno, col, lineno, col + len(name)))
    buf = A.AddressRange(addr, length, pos=A.Pos(file, lineno, addr.pos.column, lineno, end))
    node = A.Allow(process, m.group(3), driver, num, buf, pos=A.Pos(file, lineno, col, lineno, end))
    return node, col, _Tok("NUMBER", "", lineno, end), m.group(8)


def _subscribe_label(file: str, m, lineno: int):
    driver = _driver_at(file, m, 3, lineno)
    if driver is None:
        return None
    num = _number_at(file, m, 4, lineno)
    label = m.group(5)
    ls = m.start(5) + 1
    handler = A.Label(label[1:], pos=A.Pos(file, lineno, ls, lineno, ls + len(label)))
    appdata = _number_at(file, m, 6, lineno)
    end = appdata.pos.end_column if appdata is not None else ls + len(label)
    col = len(m.group(1)) + 1
    name = m.group(2)
    process = A.Name(name, pos=A.Pos(file, lineno, col, lineno, col + len(name)))
    node = A.Subscribe(process, driver, num, handler, appdata, pos=A.Pos(file, lineno, col, lineno, end))
    return node, col, _Tok("NUMBER", "", lineno, end), m.group(7)


def _command(file: str, m, lineno: int):
    """The Command node of a line `_COMMAND` matched, or None (a driver word that is no driver)."""
    drv = m.group(3)
    s = m.start(3) + 1
    dpos = A.Pos(file, lineno, s, lineno, s + len(drv))
    if drv[0].isdigit():
        driver = A.Driver(number=A.Number(_int(drv), drv, pos=dpos), pos=dpos)
    elif drv in _DRIVERS:
        driver = A.Driver(name=drv, pos=dpos)
    else:
        return None
    nums = []
    end = 0
    for g in (4, 5, 6):
        t = m.group(g)
        if t is None:
            nums.append(None)
            continue
        s = m.start(g) + 1
        end = s + len(t)
        nums.append(A.Number(_int(t), t, pos=A.Pos(file, lineno, s, lineno, end)))
    col = len(m.group(1)) + 1
    name = m.group(2)
    process = A.Name(name, pos=A.Pos(file, lineno, col, lineno, col + len(name)))
    node = A.Command(process, driver, nums[0], nums[1], nums[2], pos=A.Pos(file, lineno, col, lineno, end))
    return node, col, _Tok("NUMBER", "", lineno, end), m.group(7)


_SPAWN = re.compile(r"([ \t\f]*)spawn(?![A-Za-z0-9_.\-])[ \t\f]*([A-Za-z_][A-Za-z0-9_.\-]*)")
_KEY = re.compile(r"[ \t\f]*([A-Za-z_][A-Za-z0-9_.\-]*)[ \t\f]*=")
# A value that is one literal, in the lexer's order of preference after `=`: APP_REF (priority 2),
# BYTES (1), then the rest. Anything else (lists, expressions, calls) is Lark's.
_VALUE = LazyPattern(r"""[ \t\f]*(?:
     (?P<APP_REF>[A-Za-z0-9_.~+\-/]*\.py:[A-Za-z_][A-Za-z0-9_]*)
    |(?P<BYTES>x"[^"\n]*")
    |(?P<STRING>"(?:[^"\\\n]|\\.)*")
    |(?P<NUMBER>(?:0[xX][0-9a-fA-F][0-9a-fA-F_]*|0[bB][01][01_]*|[0-9][0-9_]*)(?![A-Za-z0-9_.]))
    |(?P<DURATION>[0-9][0-9_]*(?:\.[0-9]+)?(?:ns|us|ms|s|min)(?![A-Za-z0-9_.]))
    |(?P<SIZE>[0-9][0-9_]*[kKM](?![A-Za-z0-9_.]))
    |(?P<VAR>\$[A-Za-z_][A-Za-z0-9_.\-]*)
    |(?P<NAME>[A-Za-z_][A-Za-z0-9_.\-]*)
    )""", re.X)
_END = re.compile(r"[ \t\f]*(?:#[^\n]*)?(\r?\n)?\Z")
_DURATION = LazyPattern(r"([0-9_]+(?:\.[0-9]+)?)(ns|us|ms|s|min)")


def _value(file: str, kind: str, text: str, lineno: int, col: int):
    """The node the Builder makes of a one-literal value."""
    pos = A.Pos(file, lineno, col, lineno, col + len(text))
    if kind == "NUMBER":
        return A.Number(_int(text), text, pos=pos)
    if kind == "SIZE":
        return A.Size(_int(text[:-1]) * _SIZE_UNITS[text[-1]], text, pos=pos)
    if kind == "DURATION":
        m = _DURATION.fullmatch(text)
        ns = A.Duration.nanoseconds_of(m.group(1), m.group(2))
        if ns is None:
            raise _Reject  # Lark's path reports it
        return A.Duration(ns, text, pos=pos)
    if kind == "VAR":
        return A.Var(text[1:], pos=pos)
    if kind == "NAME":
        if text in ("not", "and", "or"):
            raise _Reject
        if text in A.RESULT_VARIANTS:
            return A.ResultPattern(text, pos=pos)
        return A.Name(text, pos=pos)
    tok = _Tok(kind, text, lineno, col)
    if kind == "STRING":
        return _decode_string(file, tok)
    if kind == "BYTES":
        return _decode_bytes(file, tok)
    return A.String(text, text.encode(), pos=pos)  # APP_REF: the string a user would otherwise quote


_keywords: frozenset[str] | None = None


def _is_keyword(word: str) -> bool:
    """A quoted word of tsh.lark: the contextual lexer may read it as a keyword where one could stand
    (states merge in LALR), so a word like that is left to Lark."""
    global _keywords
    if _keywords is None:
        from .parser import grammar_text

        _keywords = frozenset(re.findall(r'"([A-Za-z_][A-Za-z0-9_.\-]*)"', grammar_text()))
    return word in _keywords


def _spawn(file: str, line: str, lineno: int):
    """`spawn NAME key=value ...` with one-literal values, as (statement, column, last token, newline)."""
    m = _SPAWN.match(line)
    if m is None:
        raise _Reject
    col = len(m.group(1)) + 1
    name = m.group(2)
    if _is_keyword(name):
        raise _Reject
    ncol = m.start(2) + 1
    end = ncol + len(name)
    options = []
    i = m.end()
    while True:
        e = _END.match(line, i)
        if e is not None:
            break
        k = _KEY.match(line, i)
        if k is None:
            raise _Reject
        v = _VALUE.match(line, k.end())
        if v is None:
            raise _Reject
        kind = v.lastgroup
        text = v.group(kind)
        if _is_keyword(k.group(1)) or (kind == "NAME" and _is_keyword(text)):
            raise _Reject
        vcol = v.start(kind) + 1
        value = _value(file, kind, text, lineno, vcol)
        kcol = k.start(1) + 1
        end = vcol + len(text)
        options.append(A.KeywordArg(k.group(1), value, pos=A.Pos(file, lineno, kcol, lineno, end)))
        i = v.end()
    node = A.Spawn(A.Name(name, pos=A.Pos(file, lineno, ncol, lineno, ncol + len(name))), tuple(options),
                   pos=A.Pos(file, lineno, col, lineno, end))
    return node, col, _Tok("NAME", "", lineno, end), e.group(1)


# The commonest lines, matched whole by one pattern each, in order; a builder returns None for a
# line its pattern matched that is not what it looks like (a driver word that is no driver).
_WHOLE_LINES = ((_COMMAND, _command), (_ALLOW_RANGE, _allow_range), (_SUBSCRIBE_LABEL, _subscribe_label))


def _syscall(file: str, line: str, lineno: int):
    """(statement, first-token column, last token, newline) of a fast line, or _Reject."""
    for pattern, build in _WHOLE_LINES:
        m = pattern.match(line)
        if m is not None:
            found = build(file, m, lineno)
            if found is not None:
                return found
    m = _PREFIX.match(line)
    if m is None:
        raise _Reject
    col = len(m.group(1)) + 1
    name = m.group(2)
    toks, nl = _tokens(line, lineno, m.end())
    if not toks or toks[0].type != "NAME":
        raise _Reject
    r = _Line(file, toks)
    verb = r.take().value
    if verb == "command":
        fields = dict(driver=r.driver(), command_num=r.number())
        fields["arg0"] = r.number(optional=True)
        fields["arg1"] = r.number(optional=True) if fields["arg0"] is not None else None
        cls = A.Command
    elif verb == "subscribe":
        fields = dict(driver=r.driver(), subscribe_num=r.number(), handler=r.handler(),
                      appdata=r.number(optional=True))
        cls = A.Subscribe
    elif verb in _ALLOW_KIND:
        fields = dict(kind=_ALLOW_KIND[verb], driver=r.driver(), allow_num=r.number(), buffer=r.buffer())
        cls = A.Allow
    elif verb == "yield":
        t = r.word(("wait", "no-wait", "wait-for"))
        if t is None:
            fields = dict(mode="wait", driver=None, upcall_num=None)
        elif t.value == "wait-for":
            fields = dict(mode="wait-for", driver=r.driver(), upcall_num=r.number())
        else:
            fields = dict(mode=t.value, driver=None, upcall_num=None)
        cls = A.Yield
    elif verb == "memop":
        t = r.word(_MEMOPS)
        fields = dict(op=t.value if t is not None else r.number(), arg=r.number(optional=True))
        cls = A.Memop
    elif verb == "exit":
        t = r.word(("terminate", "restart"))
        if t is None:
            raise _Reject
        fields = dict(kind=t.value, code=r.number(optional=True))
        cls = A.Exit
    elif verb == "syscall":
        t = r.word(_CLASSES)
        fields = dict(cls=t.value if t is not None else r.number(), r0=r.number())
        fields["r1"] = r.number(optional=True)
        fields["r2"] = r.number(optional=True) if fields["r1"] is not None else None
        fields["r3"] = r.number(optional=True) if fields["r2"] is not None else None
        cls = A.RawSyscall
    else:
        raise _Reject
    if r.i != len(toks):
        raise _Reject
    last = toks[-1]
    process = A.Name(name, pos=A.Pos(file, lineno, col, lineno, col + len(name)))
    node = cls(process, **fields, pos=A.Pos(file, lineno, col, last.end_line, last.end_column))
    return node, col, last, nl


def _shift(statements, file: str, offset: int) -> None:
    """Move every position in ``statements`` down by ``offset`` lines (they were parsed as a run of their own)."""
    seen = set()
    for st in statements:
        for node in A.walk(st):
            if id(node) in seen:
                continue
            seen.add(id(node))
            p = node.pos
            if p is not None:
                object.__setattr__(node, "pos", A.Pos(file, p.line + offset, p.column,
                                                      p.end_line + offset, p.end_column))


def parse_fast(text: str, file: str, parse_run: Callable[[str], "A.Program"]) -> A.Program | None:
    """The Program of ``text``, or None when Lark must parse it all (a run failed, or nothing was fast).

    ``parse_run(text)`` parses a run of lines with Lark (raising on any error).
    """
    lines = text.splitlines(keepends=True)
    # splitlines also breaks at characters the grammar does not take as newlines.
    if sum(len(x) for x in lines) != len(text) or any(not (x.endswith("\n") or i == len(lines) - 1)
                                                          for i, x in enumerate(lines)):
        return None
    statements: list = []
    first: tuple[int, int] | None = None
    end: tuple[int, int] | None = None
    run_start = -1   # index of the first line of the open run of Lark lines, or -1
    depth = 0        # braces open in the run
    joined = False   # the previous line ended with a continuation
    fast = 0

    def close_run(upto: int) -> bool:
        nonlocal first, end
        prog = parse_run("".join(lines[run_start:upto]))
        _shift(prog.statements, file, run_start)
        statements.extend(prog.statements)
        p = prog.pos
        if p is not None and not (p.line == p.end_line == p.column == p.end_column == 1):
            start = (p.line + run_start, p.column)
            if first is None or start < first:
                first = start
            end = (p.end_line + run_start, p.end_column)
        return True

    for idx, line in enumerate(lines):
        lineno = idx + 1
        in_run = run_start >= 0
        if not in_run:
            blank = _BLANK.fullmatch(line)
            if blank is not None:
                nl = blank.group(1)
                if nl is not None:
                    # The newline is a token (a comment swallows a "\r" before it, whitespace does not).
                    if first is None:
                        first = (lineno, len(line) - len(nl) + 1)
                    end = (lineno + 1, 1)
                continue
        reader = _syscall if _PREFIX.match(line) is not None else _spawn if _SPAWN.match(line) else None
        if (not in_run or (depth == 0 and not joined)) and reader is not None:
            try:
                node, col, last, nl = reader(file, line, lineno)
            except _Reject:
                node = None
            except Exception:  # noqa: BLE001 - a malformed literal: Lark's path reports it, in order
                return None
            if node is not None:
                if in_run:
                    try:
                        close_run(idx)
                    except Exception:  # noqa: BLE001 - any error: Lark reports it for the whole text
                        return None
                    run_start = -1
                statements.append(node)
                fast += 1
                if first is None:
                    first = (lineno, col)
                end = (lineno + 1, 1) if nl is not None else (last.end_line, last.end_column)
                continue
        if not in_run:
            run_start, depth, joined = idx, 0, False
        # The line belongs to the open run: follow its braces and continuations.
        opened, joined = brace_balance(line)
        depth += opened
    if fast == 0:
        return None
    if run_start >= 0:
        try:
            close_run(len(lines))
        except Exception:  # noqa: BLE001
            return None
    if first is None:
        pos = A.Pos(file, 1, 1, 1, 1)
    else:
        pos = A.Pos(file, first[0], first[1], end[0], end[1])
    return A.Program(tuple(statements), pos=pos)
