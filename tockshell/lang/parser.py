"""Text to AST: the tsh parser.

``parse(text, file)`` returns a :class:`~tockshell.lang.ast.Program` or raises
a :class:`~tockshell.lang.errors.TshSyntaxError` with a position and a
message in words; no Lark exception and no traceback ever leaves this
module.

The Lark LALR parser is built from ``grammar/tsh.lark`` (package
``tockshell.grammar``) the first time it is needed, never at import, and the
analysed grammar is cached on disk under the user's cache directory, keyed
by the grammar's hash, so later start-ups only unpickle it. Set
``TOCKSHELL_CACHE_DIR`` to move the cache, or to an empty string to disable it.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import re
import sys
import threading
from typing import Optional

from . import ast as A
from .errors import TshError, TshSyntaxError, did_you_mean, suggestion

__all__ = [
    "parse", "parse_statement", "parse_expression", "is_incomplete",
    "get_parser", "grammar_text", "grammar_info", "GrammarInfo",
]

_lock = threading.RLock()
_parser = None
_info = None
_builder_class = None


# ------------------------------------------------------------ the grammar

def grammar_text() -> str:
    """The text of ``tsh.lark``."""
    return (importlib.resources.files("tockshell.grammar") / "tsh.lark").read_text(encoding="utf-8")


class _KeepNames:
    """Post-lexer whose only job is to put NAME in every contextual-lexer
    state: words are then always read whole and turned into keywords only
    where a keyword may stand (see the notes at the top of tsh.lark)."""

    always_accept = ("NAME",)

    def process(self, stream):
        return stream


def _cache_file(grammar: str) -> Optional[str]:
    """Where to cache the analysed grammar, or None if nowhere writable."""
    import lark

    base = os.environ.get("TOCKSHELL_CACHE_DIR")
    if base is None:
        if sys.platform == "win32":
            root = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
        elif sys.platform == "darwin":
            root = os.path.expanduser("~/Library/Caches")
        else:
            root = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        base = os.path.join(root, "tockshell")
    if not base:
        return None
    key = hashlib.sha256(
        f"{grammar}\0lark {lark.__version__}\0py {sys.version_info[:2]}".encode()
    ).hexdigest()[:20]
    try:
        os.makedirs(base, exist_ok=True)
        if not os.access(base, os.W_OK | os.X_OK):
            return None
    except OSError:
        return None
    return os.path.join(base, f"tsh-{key}.lark.cache")


def get_parser():
    """The Lark parser, built (or loaded from the disk cache) on first use."""
    global _parser
    if _parser is not None:
        return _parser
    with _lock:
        if _parser is None:
            import logging

            import lark

            text = grammar_text()
            options = dict(
                parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=True, postlex=_KeepNames(),
                start=["start", "expr"],
            )
            cache = _cache_file(text)
            # Lark logs (not raises) when the cache cannot be written; the
            # fallback is silent by design, so keep its logger quiet.
            logging.getLogger("lark").setLevel(logging.CRITICAL)
            try:
                _parser = lark.Lark(text, cache=cache or False, **options)
            except Exception:
                if not cache:
                    raise
                _parser = lark.Lark(text, **options)
    return _parser


# ----------------------------------------------------- grammar knowledge

class GrammarInfo:
    """What the error reporter, the completer and the highlighter need to
    know about the grammar, derived from it once."""

    def __init__(self, parser):
        self.parser = parser
        #: terminal name -> keyword/punctuation text, for string terminals
        self.literals: dict[str, str] = {}
        for term in parser.terminals:
            if type(term.pattern).__name__ == "PatternStr":
                self.literals[term.name] = term.pattern.value
        self.keyword_terms = frozenset(
            name for name, text in self.literals.items() if re.fullmatch(r"[A-Za-z_][\w.\-]*", text)
        )
        by_rule: dict[str, set[str]] = {}
        for rule in parser.rules:
            if len(rule.expansion) == 1 and rule.expansion[0].is_term:
                by_rule.setdefault(rule.origin.name, set()).add(rule.expansion[0].name)
        def words(rule):
            return frozenset(t for t in by_rule.get(rule, ()) if t in self.keyword_terms)
        self.driver_terms = words("driver_name")
        self.class_terms = words("class_name")
        self.memop_terms = words("memop_op_name")
        self.info_terms = words("info_topic")
        self.export_terms = words("export_format")
        self.exit_kind_terms = words("exit_kind")
        self._accepts_cache: dict[tuple, frozenset] = {}
        self.statement_terms = frozenset(self.accepts_after("") & self.keyword_terms)
        self.syscall_verb_terms = frozenset(self.accepts_after("p: ") & self.keyword_terms)

    def text(self, terms) -> list[str]:
        """The keyword texts of some terminals, sorted."""
        return sorted(self.literals[t] for t in terms if t in self.literals)

    @property
    def drivers(self) -> list[str]:
        return self.text(self.driver_terms)

    @property
    def statement_keywords(self) -> list[str]:
        return self.text(self.statement_terms)

    @property
    def syscall_verbs(self) -> list[str]:
        return self.text(self.syscall_verb_terms)

    @property
    def keywords(self) -> list[str]:
        """Every keyword of the language."""
        return self.text(self.keyword_terms)

    def accepts_after(self, text: str) -> set[str]:
        """Terminals the parser accepts after ``text`` (which must lex and
        parse as a prefix; raises lark's UnexpectedInput otherwise)."""
        ip = self.parser.parse_interactive(text, start="start")
        ip.exhaust_lexer()
        return self.accepts(ip)

    def accepts(self, ip) -> frozenset:
        """``ip.accepts()``, memoised on the parser's state stack (which
        determines it)."""
        key = tuple(ip.parser_state.state_stack)
        cache = self._accepts_cache
        found = cache.get(key)
        if found is None:
            found = cache[key] = frozenset(ip.accepts())
            if len(cache) > 4096:
                cache.clear()
        return found


def grammar_info() -> GrammarInfo:
    """The :class:`GrammarInfo` of the shared parser."""
    global _info
    if _info is None:
        parser = get_parser()
        with _lock:
            if _info is None:
                _info = GrammarInfo(parser)
    return _info


# ----------------------------------------------------------- public API

def parse(text: str, file: str = "<stdin>") -> A.Program:
    """Parse a whole ``.tsh`` text (or one input of the shell)."""
    if not isinstance(text, str):
        raise TypeError("parse() takes the source as str")
    # Lines holding one syscall statement each are read by a fast path that builds the same
    # nodes (tockshell/lang/fastparse.py); it gives up, and Lark parses it all, on anything else.
    from .fastparse import parse_fast

    program = parse_fast(text, file, lambda run: _build(get_parser().parse(run, start="start"), run, file))
    if program is not None:
        return program
    return parse_lark(text, file)


def parse_lark(text: str, file: str = "<stdin>") -> A.Program:
    """``parse`` by the Lark parser alone (the reference the fast path is tested against)."""
    parser = get_parser()
    import lark

    try:
        tree = parser.parse(text, start="start")
    except lark.exceptions.UnexpectedInput:
        raise _diagnose(text, file, "start") from None
    except RecursionError:
        raise TshSyntaxError("statement nested too deeply", A.Pos(file, 1, 1, 1, 2)) from None
    except Exception as exc:  # a bug: still never a traceback for the user
        raise TshSyntaxError(f"internal parser error: {exc!r}", A.Pos(file, 1, 1, 1, 2)) from exc
    return _build(tree, text, file)


def parse_statement(text: str, file: str = "<stdin>") -> A.Statement:
    """Parse exactly one statement (blank lines and comments allowed)."""
    program = parse(text, file)
    if len(program.statements) != 1:
        where = program.statements[1].pos if len(program.statements) > 1 else program.pos
        what = "no statement" if not program.statements else "more than one statement"
        raise TshSyntaxError(f"expected one statement, found {what}", where)
    return program.statements[0]


def parse_expression(text: str, file: str = "<param>") -> A.Expr:
    """Parse one expression (for ``-p NAME=VALUE`` and the like)."""
    parser = get_parser()
    import lark

    try:
        tree = parser.parse(text.strip(), start="expr")
    except lark.exceptions.UnexpectedInput:
        raise _diagnose(text.strip(), file, "expr") from None
    except Exception as exc:
        raise TshSyntaxError(f"internal parser error: {exc!r}", A.Pos(file, 1, 1, 1, 2)) from exc
    return _build(tree, text.strip(), file)


class LazyPattern:
    """A regular expression compiled on first use. Compiling tsh's patterns was a few
    milliseconds of every start-up, most of them for lines a given script never has; after
    the first use its methods are the compiled pattern's own, bound (no extra call)."""

    def __init__(self, pattern: str, flags: int = 0):
        self._args = (pattern, flags)

    def __getattr__(self, name: str):
        compiled = re.compile(*self._args)
        for method in ("match", "fullmatch", "search", "finditer", "sub"):
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)


_OPEN_CLOSE = LazyPattern(r'x"[^"\n]*"|"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{}]|\\[ \t]*(?:\r?\n|$)')


def is_incomplete(text: str) -> bool:
    """True when ``text`` cannot be complete yet: a block is still open or
    the last line ends with a continuation backslash. A shell keeps reading
    lines while this holds."""
    depth, continued = brace_balance(text)
    return continued or depth > 0


def brace_balance(text: str) -> tuple[int, bool]:
    """(braces opened minus braces closed, outside strings and comments; whether ``text`` ends
    with a continuation backslash): what tells an open block or a continued line."""
    depth, continued = 0, False
    for m in _OPEN_CLOSE.finditer(text):
        tok = m.group()
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        elif tok.startswith("\\") and m.end() == len(text):
            continued = True
    return depth, continued


# ------------------------------------------------------- AST building

def _build(tree, text: str, file: str):
    import lark

    global _builder_class
    if _builder_class is None:
        _builder_class = _make_builder()
    try:
        return _builder_class(file).transform(tree)
    except lark.exceptions.VisitError as exc:
        orig = exc.orig_exc
        if isinstance(orig, TshError):
            raise orig from None
        meta = getattr(exc.obj, "meta", None)
        pos = _meta_pos(file, meta) if meta is not None else A.Pos(file, 1, 1, 1, 2)
        raise TshSyntaxError(f"internal parser error: {orig!r}", pos) from orig
    except RecursionError:
        raise TshSyntaxError("expression nested too deeply", A.Pos(file, 1, 1, 1, 2)) from None


def _meta_pos(file, meta) -> A.Pos:
    if getattr(meta, "empty", True):
        return A.Pos(file, 1, 1, 1, 1)
    return A.Pos(file, meta.line, meta.column, meta.end_line, meta.end_column)


def _tok_pos(file, tok) -> A.Pos:
    return A.Pos(file, tok.line, tok.column, tok.end_line, tok.end_column)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"'}


def _decode_string(file, tok) -> A.String:
    body = tok.value[1:-1]
    text, data = [], bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            text.append(c)
            data += c.encode("utf-8")
            i += 1
            continue
        esc = body[i + 1] if i + 1 < len(body) else ""
        if esc in _ESCAPES:
            text.append(_ESCAPES[esc])
            data += _ESCAPES[esc].encode()
            i += 2
        elif esc == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", body[i + 2:i + 4]):
            byte = int(body[i + 2:i + 4], 16)
            text.append(chr(byte))
            data.append(byte)
            i += 4
        else:
            col = tok.column + 1 + i
            width = 4 if esc == "x" else 2
            what = "\\x must be followed by two hex digits" if esc == "x" else f"unknown escape '\\{esc}' in string"
            raise TshSyntaxError(
                what + " (escapes: \\n \\t \\\\ \\\" \\xNN)",
                A.Pos(file, tok.line, col, tok.line, col + width),
            )
    return A.String("".join(text), bytes(data), pos=_tok_pos(file, tok))


def _decode_bytes(file, tok) -> A.Bytes:
    body = tok.value[2:-1]
    digits = []
    for i, c in enumerate(body):
        if c in " \t_:":
            continue
        if c not in "0123456789abcdefABCDEF":
            col = tok.column + 2 + i
            raise TshSyntaxError(f"bad hex digit '{c}' in bytes literal",
                                 A.Pos(file, tok.line, col, tok.line, col + 1))
        digits.append(c)
    if len(digits) % 2:
        raise TshSyntaxError("a bytes literal needs an even number of hex digits",
                             _tok_pos(file, tok))
    return A.Bytes(bytes.fromhex("".join(digits)), pos=_tok_pos(file, tok))


def _int(text: str) -> int:
    t = text.replace("_", "").lower()
    if t.startswith("0x"):
        return int(t[2:], 16)
    if t.startswith("0b"):
        return int(t[2:], 2)
    return int(t, 10)


_SIZE_UNITS = {"k": 1024, "K": 1024, "M": 1024 * 1024}


def _make_builder():
    """The Transformer class, made on first use so that importing this
    module does not import lark."""
    from lark import Transformer_NonRecursive, v_args

    @v_args(meta=True, inline=True)
    class Builder(Transformer_NonRecursive):
        def __init__(self, file):
            super().__init__()
            self.source = file

        # -- helpers
        def p(self, meta):
            return _meta_pos(self.source, meta)

        def tp(self, tok):
            return _tok_pos(self.source, tok)

        def name_node(self, tok):
            return None if tok is None else A.Name(str(tok), pos=self.tp(tok))

        def word(self, tok):
            """A name, string or number token as plain Python data."""
            if tok is None:
                return None
            if tok.type == "STRING":
                return _decode_string(self.source, tok).text
            if tok.type == "NUMBER":
                return _int(tok.value)
            return str(tok)

        def __default__(self, data, children, meta):
            raise AssertionError(f"no AST builder for rule {data!r}")

        # -- program
        def start(self, meta, *statements):
            return A.Program(tuple(s for s in statements if s is not None), pos=self.p(meta))

        def block(self, meta, *statements):
            return tuple(s for s in statements if s is not None)

        # -- literals and expressions
        def number(self, meta, tok):
            return A.Number(_int(tok.value), tok.value, pos=self.tp(tok))

        def negative_number(self, meta, tok):
            return A.Number(-_int(tok.value), "-" + tok.value, pos=self.p(meta))

        def size(self, meta, tok):
            return A.Size(_int(tok.value[:-1]) * _SIZE_UNITS[tok.value[-1]], tok.value, pos=self.tp(tok))

        def duration(self, meta, tok):
            m = re.fullmatch(r"([0-9_]+(?:\.[0-9]+)?)(ns|us|ms|s|min)", tok.value)
            ns = A.Duration.nanoseconds_of(m.group(1), m.group(2))
            if ns is None:
                raise TshSyntaxError("a duration cannot be finer than 1ns", self.tp(tok))
            return A.Duration(ns, tok.value, pos=self.tp(tok))

        def bare_duration(self, meta, tok):
            if _int(tok.value) != 0:
                raise TshSyntaxError(
                    f"a duration needs a unit: write {tok.value}us, {tok.value}ms or {tok.value}s",
                    self.tp(tok))
            return A.Duration(0, tok.value, pos=self.tp(tok))

        def string(self, meta, tok):
            return _decode_string(self.source, tok)

        def bytes(self, meta, tok):
            return _decode_bytes(self.source, tok)

        def var(self, meta, tok):
            return A.Var(tok.value[1:], pos=self.tp(tok))

        def name(self, meta, tok):
            if tok.value in A.RESULT_VARIANTS:
                return A.ResultPattern(tok.value, pos=self.tp(tok))
            return A.Name(tok.value, pos=self.tp(tok))

        def call(self, meta, func, args):
            name = func.value[:-1]
            args = args or ()
            positional = tuple(a for a in args if not isinstance(a, A.KeywordArg))
            keywords = tuple(a for a in args if isinstance(a, A.KeywordArg))
            if name in A.RESULT_VARIANTS:
                return A.ResultPattern(name, positional, keywords, True, pos=self.p(meta))
            return A.Call(name, positional, keywords, pos=self.p(meta))

        def call_args(self, meta, *args):
            return args

        def call_keyword(self, meta, key, value):
            return A.KeywordArg(str(key), value, pos=self.p(meta))

        def or_(self, meta, left, right):
            return A.BoolOp("or", left, right, pos=self.p(meta))

        def and_(self, meta, left, right):
            return A.BoolOp("and", left, right, pos=self.p(meta))

        def not_(self, meta, operand):
            return A.Not(operand, pos=self.p(meta))

        def comparison(self, meta, left, op, right):
            return A.Comparison(op, left, right, pos=self.p(meta))

        def binary(self, meta, left, op, right):
            return A.BinaryOp(op, left, right, pos=self.p(meta))

        def comp_op(self, meta, tok):
            return str(tok)

        add_op = mul_op = comp_op

        def negate(self, meta, operand):
            if isinstance(operand, A.Number) and not operand.text.startswith("-"):
                return A.Number(-operand.value, "-" + operand.text, pos=self.p(meta))
            return A.Negate(operand, pos=self.p(meta))

        def index(self, meta, target, index):
            return A.Index(target, index, pos=self.p(meta))

        def keyword_arg(self, meta, key, value):
            return A.KeywordArg(str(key), value, pos=self.p(meta))

        def keyword_app_ref(self, meta, key, tok):
            # A bare `path.py:Name` stands for the string a user would otherwise quote.
            return A.KeywordArg(str(key), A.String(tok.value, tok.value.encode(), pos=self.tp(tok)),
                                pos=self.p(meta))

        def value(self, meta, *items):
            if len(items) == 1:
                return items[0]
            return A.ListValue(tuple(items), pos=self.p(meta))

        # -- syscall operands
        def driver_name(self, meta, tok):
            return str(tok)

        class_name = memop_op_name = exit_kind = break_kw = info_topic = export_format = driver_name

        def driver(self, meta, child):
            if isinstance(child, str):
                return A.Driver(name=child, pos=self.p(meta))
            return A.Driver(number=child, pos=self.p(meta))

        def syscall_class(self, meta, child):
            return child

        memop_op = syscall_class

        def handler(self, meta, child):
            return child

        def label(self, meta, tok):
            return A.Label(tok.value[1:], pos=self.tp(tok))

        def null(self, meta):
            return A.Null(pos=self.p(meta))

        def address_range(self, meta, address, length):
            return A.AddressRange(address, length, pos=self.p(meta))

        def number_list(self, meta, *numbers):
            return tuple(numbers)

        def wait(self, meta):
            return ("wait", None, None)

        def no_wait(self, meta):
            return ("no-wait", None, None)

        def wait_for(self, meta, driver, num):
            return ("wait-for", driver, num)

        # -- syscalls: the body is built first, the process joins it here
        def syscall(self, meta, prefix, body):
            cls, fields = body
            name = prefix.value[:-1].rstrip()
            process = A.Name(name, pos=A.Pos(self.source, prefix.line, prefix.column,
                                             prefix.line, prefix.column + len(name)))
            return cls(process, **fields, pos=self.p(meta))

        def command(self, meta, driver, num, arg0, arg1):
            return A.Command, dict(driver=driver, command_num=num, arg0=arg0, arg1=arg1)

        def subscribe(self, meta, driver, num, handler, appdata):
            return A.Subscribe, dict(driver=driver, subscribe_num=num, handler=handler, appdata=appdata)

        def allow_rw(self, meta, driver, num, buffer):
            return A.Allow, dict(kind="rw", driver=driver, allow_num=num, buffer=buffer)

        def allow_ro(self, meta, driver, num, buffer):
            return A.Allow, dict(kind="ro", driver=driver, allow_num=num, buffer=buffer)

        def allow_ur(self, meta, driver, num, buffer):
            return A.Allow, dict(kind="ur", driver=driver, allow_num=num, buffer=buffer)

        def yield_(self, meta, mode):
            mode, driver, num = mode or ("wait", None, None)
            return A.Yield, dict(mode=mode, driver=driver, upcall_num=num)

        def memop(self, meta, op, arg):
            return A.Memop, dict(op=op, arg=arg)

        def exit(self, meta, kind, code):
            return A.Exit, dict(kind=kind, code=code)

        def raw_syscall(self, meta, cls, r0, r1, r2, r3):
            return A.RawSyscall, dict(cls=cls, r0=r0, r1=r1, r2=r2, r3=r3)

        # -- processes and the kernel
        def board(self, meta, name):
            return A.Board(name, pos=self.p(meta))

        def board_name(self, meta, tok):
            return self.word(tok)

        service_name = board_name

        def config(self, meta, key, value):
            return A.Config(str(key), value, pos=self.p(meta))

        def policy_item(self, meta, tok):
            if tok.type == "STRING":
                return _decode_string(self.source, tok)
            if tok.type == "NUMBER":
                return A.Number(_int(tok.value), tok.value, pos=self.tp(tok))
            return A.Name(str(tok), pos=self.tp(tok))

        def policy_list(self, meta, *items):
            return tuple(items)

        def policy_register(self, meta, service, allow):
            return A.Policy("register", service, allow, pos=self.p(meta))

        def policy_clients(self, meta, service, allow):
            return A.Policy("clients", service, allow, pos=self.p(meta))

        def spawn(self, meta, name, *options):
            return A.Spawn(self.name_node(name), tuple(options), pos=self.p(meta))

        def list_processes(self, meta):
            return A.ListProcesses(pos=self.p(meta))

        def status(self, meta):
            return A.Status(pos=self.p(meta))

        def kernel(self, meta):
            return A.ShowKernel(pos=self.p(meta))

        def process_detail(self, meta, name):
            return A.ProcessDetail(self.name_node(name), pos=self.p(meta))

        def stop_process(self, meta, name):
            return A.StopProcess(self.name_node(name), pos=self.p(meta))

        def start_process(self, meta, name):
            return A.StartProcess(self.name_node(name), pos=self.p(meta))

        def fault_process(self, meta, name):
            return A.FaultProcess(self.name_node(name), pos=self.p(meta))

        def crash_process(self, meta, name):
            return A.FaultProcess(self.name_node(name), alias="crash", pos=self.p(meta))

        def terminate_process(self, meta, name):
            return A.TerminateProcess(self.name_node(name), pos=self.p(meta))

        def boot_process(self, meta, name):
            return A.BootProcess(self.name_node(name), pos=self.p(meta))

        def restart_process(self, meta, name):
            return A.RestartProcess(self.name_node(name), pos=self.p(meta))

        # -- memory and kernel state
        def alloc(self, meta, name, length):
            return A.Alloc(self.name_node(name), length, pos=self.p(meta))

        def write(self, meta, name, address, data):
            return A.Write(self.name_node(name), address, data, pos=self.p(meta))

        def mem(self, meta, name, address, length):
            return A.ShowMemory(self.name_node(name), address, length, pos=self.p(meta))

        def grants(self, meta, name):
            return A.ShowGrants(self.name_node(name), pos=self.p(meta))

        def upcalls(self, meta, name):
            return A.ShowUpcalls(self.name_node(name), pos=self.p(meta))

        def allows(self, meta, name):
            return A.ShowAllows(self.name_node(name), pos=self.p(meta))

        def subscriptions(self, meta, name):
            return A.ShowSubscriptions(self.name_node(name), pos=self.p(meta))

        def descriptors(self, meta, name):
            return A.ShowDescriptors(self.name_node(name), pos=self.p(meta))

        def services(self, meta):
            return A.ShowServices(pos=self.p(meta))

        def mailbox(self, meta, name):
            return A.ShowMailbox(self.name_node(name), pos=self.p(meta))

        def stats(self, meta):
            return A.Stats(False, pos=self.p(meta))

        def stats_reset(self, meta):
            return A.Stats(True, pos=self.p(meta))

        def trace(self, meta, lines):
            return A.Trace(None, lines, pos=self.p(meta))

        def trace_all(self, meta, lines):
            return A.Trace("all", lines, pos=self.p(meta))

        def trace_on(self, meta):
            return A.Trace("on", pos=self.p(meta))

        def trace_off(self, meta):
            return A.Trace("off", pos=self.p(meta))

        # -- time, events, running
        def step(self, meta, count):
            return A.Step(count, pos=self.p(meta))

        def run(self, meta, duration, until):
            return A.Run(duration, until, pos=self.p(meta))

        def now(self, meta):
            return A.Now(pos=self.p(meta))

        def inject(self, meta, data, *options):
            return A.Inject("radio", data, tuple(options), pos=self.p(meta))

        def traffic(self, meta, *rest):
            *options, duration = rest
            return A.Traffic("radio", tuple(options), duration, pos=self.p(meta))

        def press(self, meta, button):
            return A.Press(button, pos=self.p(meta))

        def console_input(self, meta, data):
            return A.ConsoleInput(data, pos=self.p(meta))

        def at(self, meta, plus, time, body):
            return A.At(time, body, plus is not None, pos=self.p(meta))

        def every(self, meta, period, duration, body):
            return A.Every(period, body, duration, pos=self.p(meta))

        def timeline(self, meta, duration):
            return A.Timeline(duration, pos=self.p(meta))

        # -- debugging
        def filter_class(self, meta, cls, driver):
            return cls, driver

        def filter_any(self, meta, driver):
            return None, driver

        def filter_driver(self, meta, name):
            return None, A.Driver(name=name, pos=self.p(meta))

        def break_syscall(self, meta, kw, process, filt, condition):
            cls, driver = filt or (None, None)
            return A.BreakSyscall(self.name_node(process), cls, driver, condition,
                                  kw == "tbreak", pos=self.p(meta))

        def break_upcall(self, meta, kw, process, driver, num, condition):
            return A.BreakUpcall(self.name_node(process), driver, num, condition,
                                 kw == "tbreak", pos=self.p(meta))

        def ignore(self, meta, number, count):
            return A.Ignore(number, count, pos=self.p(meta))

        def condition(self, meta, number, expr):
            return A.Condition(number, expr, pos=self.p(meta))

        def commands(self, meta, number, body):
            return A.Commands(number, body, pos=self.p(meta))

        def catch(self, meta, spec):
            kind, code, process = spec
            return A.Catch(kind, code, process, pos=self.p(meta))

        def catch_fault(self, meta, name):
            return "fault", None, self.name_node(name)

        def catch_restart(self, meta, name):
            return "restart", None, self.name_node(name)

        def catch_dropped(self, meta, name):
            return "dropped", None, self.name_node(name)

        def catch_ipc(self, meta, name):
            return "ipc", None, self.name_node(name)

        def catch_error(self, meta, code, name):
            return "error", code, self.name_node(name)

        def error_code(self, meta, tok):
            return self.word(tok)

        checkpoint_name = file = error_code

        def watch(self, meta, expr):
            return A.Watch(expr, pos=self.p(meta))

        def display(self, meta, expr):
            return A.Display(expr, pos=self.p(meta))

        def undisplay(self, meta, number):
            return A.Undisplay(number, pos=self.p(meta))

        def info(self, meta, topic):
            return A.Info(topic, pos=self.p(meta))

        def delete(self, meta, *numbers):
            return A.Delete(tuple(numbers), pos=self.p(meta))

        def disable(self, meta, *numbers):
            return A.Disable(tuple(numbers), pos=self.p(meta))

        def enable(self, meta, *numbers):
            return A.Enable(tuple(numbers), pos=self.p(meta))

        def next(self, meta, name):
            return A.Next(self.name_node(name), pos=self.p(meta))

        def continue_(self, meta):
            return A.Continue(pos=self.p(meta))

        def finish(self, meta):
            return A.Finish(pos=self.p(meta))

        def checkpoint(self, meta, name):
            return A.Checkpoint(name, pos=self.p(meta))

        def restore(self, meta, name):
            return A.Restore(name, pos=self.p(meta))

        def diff(self, meta, a, b):
            return A.Diff(a, b, pos=self.p(meta))

        def rewind(self, meta, count):
            return A.Rewind(count, pos=self.p(meta))

        def reverse_step(self, meta, count):
            return A.ReverseStep(count, pos=self.p(meta))

        def reverse_continue(self, meta):
            return A.ReverseContinue(pos=self.p(meta))

        def goto(self, meta, event):
            return A.Goto(event, pos=self.p(meta))

        def save(self, meta, path):
            return A.Save(str(path), pos=self.p(meta))

        def record(self, meta, path):
            return A.Record(str(path), pos=self.p(meta))

        def record_off(self, meta):
            return A.Record(None, pos=self.p(meta))

        def export(self, meta, fmt, path):
            return A.Export(fmt, str(path), pos=self.p(meta))

        # -- apps, radio, IPC
        def compare(self, meta, *options):
            return A.Compare(tuple(options), pos=self.p(meta))

        def help(self, meta, *words):
            return A.Help(" ".join(words) if words else None, pos=self.p(meta))

        def demo(self, meta, name):
            return A.Demo(self.word(name), pos=self.p(meta))

        # -- scripts
        def let(self, meta, name, value):
            return A.Let(str(name), value, pos=self.p(meta))

        def echo(self, meta, *args):
            return A.Echo(tuple(args), pos=self.p(meta))

        def print(self, meta, expr):
            return A.Print(expr, pos=self.p(meta))

        def expect(self, meta, expr):
            return A.Expect(expr, pos=self.p(meta))

        def include(self, meta, path):
            return A.Include(str(path), pos=self.p(meta))

        def param(self, meta, name, value):
            return A.Param(str(name), value, pos=self.p(meta))

        def pause(self, meta):
            return A.Pause(pos=self.p(meta))

        def explain(self, meta):
            return A.Explain(pos=self.p(meta))

        def quit(self, meta):
            return A.Quit(pos=self.p(meta))

    return Builder


# --------------------------------------------------------- diagnosis

# What a NAME stands for, by the keyword just before it.
_NAME_ROLE = {
    **{kw: "a process name" for kw in (
        "spawn", "process", "stop", "start", "fault", "crash", "terminate", "boot",
        "restart", "alloc", "write", "mem", "grants", "upcalls", "allows",
        "subscriptions", "descriptors", "mailbox", "next", "syscall", "upcall",
        "dropped", "ipc")},
    "let": "a variable name", "param": "a variable name", "config": "a config key",
    "board": "a board name", "demo": "a scenario name", "checkpoint": "a checkpoint name",
    "restore": "a checkpoint name", "diff": "a checkpoint name", "help": "a topic",
    "register": "a service name", "clients": "a service name",
    "allow": "a package name, ShortId or 'any'", "error": "an error code",
}
# After the process of these statements, a NAME starts key=value options.
_OPTION_STATEMENTS = {"spawn", "inject", "traffic", "compare"}
_NUMBERISH = {"NUMBER", "SIZE", "VAR", "LPAR", "MINUS"}
_EXPR_START = {"NUMBER", "DURATION", "SIZE", "STRING", "BYTES", "VAR", "NAME", "FUNC",
               "LPAR", "MINUS", "NOT"}
_ENDS = {"_NL", "SEMICOLON", "$END"}
# Operators that may continue an expression.
_OPERATOR_TEXTS = {"+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "[", "and", "or"}
_SYSCALL_ARG_ROLE = {"command": "a command number", "subscribe": "a subscribe number",
                     "allow-rw": "an allow number", "allow-ro": "an allow number",
                     "allow-ur": "an allow number", "wait-for": "an upcall number"}


def _join(phrases: list[str]) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _show(tok) -> str:
    if tok.type == "_NL":
        return "end of line"
    if tok.type == "$END":
        return "end of input"
    value = tok.value if len(tok.value) <= 24 else tok.value[:21] + "..."
    return f"'{value}'"


class _Context:
    """The tokens of the statement in which parsing failed."""

    def __init__(self, tokens):
        # Keep only the current statement: from the last separator or brace.
        start = 0
        for i, tok in enumerate(tokens):
            if tok.type in ("_NL", "SEMICOLON", "LBRACE", "RBRACE"):
                start = i + 1
        self.tokens = tokens[start:]
        self.prev = self.tokens[-1] if self.tokens else None
        self.first = self.tokens[0].value if self.tokens else None
        if self.tokens and self.tokens[0].type == "PROCESS_PREFIX":
            self.first = "p:"
        # `let x = p: ...` is a syscall from the prefix on.
        for tok in self.tokens:
            if tok.type == "PROCESS_PREFIX":
                self.first = "p:"

    def verb(self) -> Optional[str]:
        """The syscall word of the statement, for `p: VERB ...`."""
        for i, tok in enumerate(self.tokens):
            if tok.type == "PROCESS_PREFIX" and i + 1 < len(self.tokens):
                return self.tokens[i + 1].value
        return None

    def last_keyword(self, literals) -> Optional[str]:
        for tok in reversed(self.tokens):
            if tok.type in literals:
                return tok.value
        return None


def _expected(info: GrammarInfo, acc: set, ctx: _Context) -> tuple[list[str], Optional[str], set]:
    """Phrases for what was expected, the kind of word a misspelling would be
    (for did-you-mean), and the keyword terminals it would be compared with."""
    acc = set(acc)
    phrases: list[str] = []
    kind, pool = None, set()
    prev = ctx.prev.value if ctx.prev is not None else None
    if prev is not None and ctx.prev.type == "PROCESS_PREFIX":
        prev = "p:"

    if ctx.prev is None and info.statement_terms <= acc:
        phrases.append("a statement")
        kind, pool = "statement", set(info.statement_terms)
        acc -= info.statement_terms | {"PROCESS_PREFIX", "NAME"}
    if info.syscall_verb_terms <= acc:
        verbs = [v for v in A.SYSCALL_VERBS if v in info.syscall_verbs]
        phrases.append("a syscall (" + ", ".join(verbs) + ")")
        kind, pool = "syscall", set(info.syscall_verb_terms)
        acc -= info.syscall_verb_terms
    if {"NUMBER", "STRING", "VAR", "FUNC"} <= acc:
        phrases.append("a value" if prev == "=" else "an expression")
        acc -= _EXPR_START
    if "DURATION" in acc:
        phrases.append("a duration")
        acc -= {"DURATION", "NUMBER", "VAR", "LPAR"}
    if info.driver_terms and info.driver_terms <= acc:
        phrases.append("a driver name or number")
        kind, pool = "driver", set(info.driver_terms)
        acc -= info.driver_terms | _NUMBERISH
    for terms, noun, phrase in (
        (info.class_terms, "syscall class", "a syscall class"),
        (info.memop_terms, "memop operation", "a memop operation"),
    ):
        if terms and terms <= acc:
            numberish = bool(_NUMBERISH & acc)
            phrases.append(phrase + (" or number" if numberish else ""))
            kind, pool = noun, set(terms)
            acc -= terms | _NUMBERISH
    if ctx.first in ("checkpoint", "restore", "diff") and "NAME" in acc:
        phrases.append("a checkpoint name or number")
        acc -= {"NAME", "NUMBER", "STRING"}
    if ctx.first == "policy" and any(t.value == "allow" for t in ctx.tokens) and "NAME" in acc:
        phrases.append("a package name, a ShortId or 'any'")
        acc -= {"NAME", "NUMBER", "STRING"}
    if "NUMBER" in acc:
        role = "a number"
        if ctx.first in ("mem", "write") and len(ctx.tokens) == 2:
            role = "an address"
        elif ctx.first == "alloc" and len(ctx.tokens) == 2:
            role = "a length"
        verb = ctx.verb()
        if verb in _SYSCALL_ARG_ROLE and prev is not None and (
                ctx.prev.type in info.driver_terms or ctx.prev.type == "NUMBER") and (
                len(ctx.tokens) <= 4 or verb == "wait-for"):
            role = _SYSCALL_ARG_ROLE[verb]
        if prev in ("delete", "disable", "enable", "ignore", "condition", "commands"):
            role = "a breakpoint number"
        phrases.append(role)
        acc -= _NUMBERISH
    if "NAME" in acc:
        role = _NAME_ROLE.get(prev or "", None)
        if ctx.first in _OPTION_STATEMENTS and prev not in ("spawn",) and prev != "=":
            role = "key=value options"
        elif "PATH" in acc:
            role = "a file name"
            acc -= {"PATH", "STRING"}
        elif role is None:
            role = "a name"
        phrases.append(role)
        acc.discard("NAME")
    for term, phrase in (("STRING", "a string"), ("BYTES", "a bytes literal"),
                         ("LABEL", "an @label"), ("VAR", "a $variable"), ("PATH", "a file name")):
        if term in acc:
            phrases.append(phrase)
            acc.discard(term)
    operators = {t for t in acc if info.literals.get(t) in _OPERATOR_TEXTS}
    if operators:
        phrases.append("an operator")
        acc -= operators
    keywords = sorted(t for t in acc if t in info.keyword_terms)
    if keywords:
        pool |= set(keywords)
        if kind is None:
            for terms, noun in ((info.info_terms, "info topic"), (info.export_terms, "export format"),
                                (info.exit_kind_terms, "exit kind")):
                if terms and terms <= set(keywords):
                    kind = noun
            if kind is None and "no-wait" in (info.literals.get(t) for t in keywords):
                kind = "yield mode"
            if kind is None and ctx.first == "catch":
                kind = "catch event"
        phrases.extend(f"'{info.literals[t]}'" for t in sorted(keywords, key=lambda t: info.literals[t]))
        acc -= set(keywords)
    ends = acc & (_ENDS | {"RBRACE"})
    others = sorted(t for t in acc - ends if t in info.literals and t not in ("PLUS",))
    for t in others:
        phrases.append(f"'{info.literals[t]}'")
    # A newline alone may only be the one allowed before a block's `{`.
    if ends & {"SEMICOLON", "$END", "RBRACE"} and kind != "statement":
        phrases.append("end of statement")
    return phrases, kind, pool


_SYSCALL_AHEAD = LazyPattern(
    r"[ \t]+(command|subscribe|allow-rw|allow-ro|allow-ur|yield|memop|exit|syscall)(?![\w.\-])")


def _diagnose(text: str, file: str, start: str) -> TshSyntaxError:
    """Re-run the parse step by step to explain where and why it fails."""
    import lark
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    info = grammar_info()
    parser = get_parser()
    ip = parser.parse_interactive(text, start=start)
    fed: list = []
    braces: list = []
    # When the parser refuses a token it may already have reduced on it, so
    # what it accepted is read from a copy taken before each feed; when the
    # lexer refuses, the parser itself has not moved.
    before = ip
    try:
        for tok in ip.lexer_thread.lex(ip.parser_state):
            before = ip.copy(deepcopy_values=False)
            ip.feed_token(tok)
            before = ip
            fed.append(tok)
            if tok.type == "LBRACE":
                braces.append(tok)
            elif tok.type == "RBRACE" and braces:
                braces.pop()
        before = ip.copy(deepcopy_values=False)
        ip.feed_eof(fed[-1] if fed else None)
    except UnexpectedToken as exc:
        return _token_error(info, text, file, exc.token, before, fed, braces)
    except UnexpectedCharacters as exc:
        return _character_error(text, file, exc)
    except lark.exceptions.UnexpectedInput as exc:  # pragma: no cover - defensive
        line, col = getattr(exc, "line", 1), getattr(exc, "column", 1)
        return TshSyntaxError("syntax error", A.Pos(file, line, col, line, col + 1))
    # The step-by-step parse succeeded where the real one failed: only a bug.
    return TshSyntaxError("syntax error", A.Pos(file, 1, 1, 1, 2))


def _end_pos(text: str, file: str) -> A.Pos:
    lines = text.split("\n")
    line = len(lines)
    col = len(lines[-1]) + 1
    return A.Pos(file, line, col, line, col + 1)


def _token_error(info, text, file, tok, before, fed, braces) -> TshSyntaxError:
    acc = set(info.accepts(before))
    ctx = _Context(fed)
    if tok.type == "$END":
        pos = _end_pos(text, file)
    elif tok.type == "_NL":
        pos = A.Pos(file, tok.line, tok.column, tok.line, tok.column + 1)
    else:
        pos = _tok_pos(file, tok)

    if tok.type == "$END" and braces and "RBRACE" in acc:
        brace = braces[-1]
        return TshSyntaxError(f"unclosed block: expected '}}' to match the '{{' at line {brace.line}",
                              _tok_pos(file, brace))
    if tok.type == "RBRACE" and not braces:
        return TshSyntaxError("unexpected '}': no block is open", pos)

    found = None
    if tok.type == "NAME" and tok.value == "x" and text[tok.end_pos:tok.end_pos + 1] == '"':
        closed = re.match(r'"[^"\n]*"', text[tok.end_pos:])
        if not closed:
            line_end = text.find("\n", tok.end_pos)
            width = (len(text) if line_end < 0 else line_end) - tok.start_pos
            return TshSyntaxError("unterminated bytes literal",
                                  A.Pos(file, tok.line, tok.column, tok.line, tok.column + width))
        # The lexer read only the `x` of a bytes literal it could not use here.
        found = "a bytes literal"
        pos = A.Pos(file, tok.line, tok.column, tok.line, tok.column + 1 + closed.end())
    word = None if found else (
        tok.value if tok.type in ("NAME", "PATH") or tok.type in info.keyword_terms else None)
    phrases, kind, pool = _expected(info, acc, ctx)
    after = ""
    if ctx.prev is not None:
        prev = ctx.prev.value.rstrip(":").rstrip() + ":" if ctx.prev.type == "PROCESS_PREFIX" else ctx.prev.value
        after = f" after '{prev if len(prev) <= 24 else prev[:21] + '...'}'"

    if word is not None and kind == "statement":
        if word in info.syscall_verbs:
            return TshSyntaxError(
                f"'{word}' is a syscall: name the process that issues it, as in 'p: {word} ...'", pos)
        if _SYSCALL_AHEAD.match(text, tok.end_pos if tok.end_pos is not None else 0):
            return TshSyntaxError(f"missing ':' after the process name '{word}'", pos)
        candidates = info.text(pool) + info.syscall_verbs
        return TshSyntaxError(suggestion("statement", word, candidates), pos)
    if word is not None and kind is not None:
        candidates = info.text(pool)
        if did_you_mean(word, candidates) is not None:
            return TshSyntaxError(suggestion(kind, word, candidates), pos)
        if kind in ("syscall", "driver"):
            return TshSyntaxError(f"{suggestion(kind, word, candidates)}: expected {_join(phrases)}{after}", pos)
    if tok.value == "-" and phrases and phrases[0] == "a duration":
        return TshSyntaxError(f"a duration cannot be negative: expected a duration{after}", pos)
    message = f"expected {_join(phrases) or 'something else'}{after}"
    if tok.type not in ("_NL", "$END"):
        message += f", found {found or _show(tok)}"
        if "end of statement" in phrases and len(phrases) == 1:
            message += " (separate statements with ';' or a new line)"
        elif tok.type == "PATH" and ctx.prev is not None and ctx.prev.value == "=":
            # tbf=/abs/path or app=/x.py:Main: only a relative path parses bare.
            message += f' (quote a path: "{tok.value}")'
    return TshSyntaxError(message, pos)


def _character_error(text, file, exc) -> TshSyntaxError:
    i = exc.pos_in_stream
    line, col = exc.line, exc.column
    c = text[i] if i < len(text) else ""
    line_end = text.find("\n", i)
    line_end = len(text) if line_end < 0 else line_end
    if c == '"':
        if i > 0 and text[i - 1] == "x" and (i < 2 or not re.match(r"[\w.\-$@]", text[i - 2])):
            return TshSyntaxError("unterminated bytes literal",
                                  A.Pos(file, line, col - 1, line, col + line_end - i))
        return TshSyntaxError("unterminated string", A.Pos(file, line, col, line, col + max(line_end - i, 1)))
    if c.isdigit():
        word = re.match(r"[\w.]+", text[i:]).group()
        return TshSyntaxError(f"malformed number '{word}'", A.Pos(file, line, col, line, col + len(word)))
    if c == "\\":
        return TshSyntaxError("a '\\' continues a line only as its last character",
                              A.Pos(file, line, col, line, col + 1))
    shown = c if c.isprintable() else repr(c)[1:-1]
    return TshSyntaxError(f"unexpected character '{shown}'", A.Pos(file, line, col, line, col + 1))
