"""The parser's fast path for syscall lines builds exactly what Lark builds, positions included.

Files are generated from syscall lines in every spelling the grammar allows
(whitespace, comments, ``\\r\\n``, negative numbers, sizes, variables,
strings with escapes, bytes, words that are almost keywords) mixed with other
statements, blocks, continuations, ``;`` and plain mistakes. ``parse`` (fast
path first) and ``parse_lark`` (the reference) must give the same tree with
the same positions, or the same error at the same place.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tockshell.lang import ast as A
from tockshell.lang.errors import TshError
from tockshell.lang.parser import parse, parse_lark


def deep(n):
    """A node as nested tuples, every position included (== on nodes ignores positions)."""
    if isinstance(n, tuple):
        return tuple(deep(x) for x in n)
    if isinstance(n, A.Node):
        p = n.pos
        return (type(n).__name__, None if p is None else (p.file, p.line, p.column, p.end_line, p.end_column),
                tuple((f.name, deep(getattr(n, f.name))) for f in A.node_fields(type(n)) if f.name != "pos"))
    return n


def outcome(fn, text):
    try:
        return "ok", deep(fn(text, "f.tsh"))
    except TshError as e:
        return "error", str(e)


def same(text):
    assert outcome(parse, text) == outcome(parse_lark, text), text


ws = st.sampled_from(["", " ", "  ", "\t", " \t ", "\f"])
sep = st.sampled_from([" ", "  ", "\t", " \t"])
number = st.one_of(
    st.integers(0, 2**32).map(str), st.integers(0, 2**32).map(hex), st.integers(0, 255).map(bin),
    st.sampled_from(["1_000", "0x2000_0000", "4k", "2K", "1M", "$x", "$_.r0", "- 1", "-3", "(1+2)", "10ms", "1a",
                     "0x", "1.5", "$", "-$x"]))
driver = st.one_of(st.sampled_from(["alarm", "console", "led", "button", "rng", "lld", "radio", "ipc", "ipcmgr",
                                    "mailbox", "shmem", "registry_name", "registry_pkg", "relay", "leds", "led.x",
                                    "Led", "null"]), number)
handler = st.one_of(st.sampled_from(["@h", "@on_write", "@a.b-c", "null", "@"]), number)
string = st.sampled_from(['"hi"', '"a\\nb"', '"\\x41"', '"q\\"q"', '"#not a comment"', '"bad \\q"', '"\\x4"', '""'])
buffer = st.one_of(st.tuples(number, sep, number).map("".join), st.sampled_from(["null", 'x"00 11"', 'x"0"',
                                                                                  'x"zz"']), string)
name = st.sampled_from(["a", "client", "p_1", "a.b", "x-y", "spawn", "list", "_q"])


def _join(*parts):
    return st.tuples(*parts).map("".join)


body = st.one_of(
    _join(st.just("command"), sep, driver, sep, number),
    _join(st.just("command"), sep, driver, sep, number, sep, number),
    _join(st.just("command"), sep, driver, sep, number, sep, number, sep, number),
    _join(st.just("command"), sep, driver, sep, number, sep, number, sep, number, sep, number),
    _join(st.just("subscribe"), sep, driver, sep, number, sep, handler),
    _join(st.just("subscribe"), sep, driver, sep, number, sep, handler, sep, number),
    _join(st.sampled_from(["allow-ro", "allow-rw", "allow-ur"]), sep, driver, sep, number, sep, buffer),
    st.sampled_from(["yield", "yield wait", "yield no-wait", "yield nowait", "exit terminate", "exit restart 3",
                     "exit", "memop brk 0x20001000", "memop 3", "memop ram_start", "memop sbrk -4", "memop bogus"]),
    _join(st.just("yield wait-for"), sep, driver, sep, number),
    _join(st.just("syscall"), sep, st.sampled_from(["command", "yield", "allow-ur", "7", "$c"]), sep, number),
    _join(st.just("syscall"), sep, st.sampled_from(["command", "memop"]), sep, number, sep, number, sep, number,
          sep, number),
)
comment = st.sampled_from(["", "", " # a comment", "# x", "  #", " # with \"quote\""])
syscall_line = _join(ws, name, st.sampled_from([":", " :", "\t:"]), ws, body, ws, comment)
other_line = st.sampled_from([
    "spawn a ram=4k", "expect $_ == Success", "echo 1", "let x = 3", "run for 1ms", "# only a comment", "",
    "   ", "every 5ms {", "}", "at 1ms", "{", "a: command led 1 0 \\", "a: command led 1 0; a: yield",
    "board", "list", "a: command led 1", "a command led 1 0", "a: led 1 0", "trace on",
])
value = st.one_of(number, st.sampled_from(["hello", "blink", "on", "Success", "not", "and", "x.y", "app.py:Main",
                                            "./a/b.py:m", "1.5ms", "10ms", "1.5ns", "2s", '"q"', 'x"01"', "1,2",
                                            "hex(3)", "$v", "a=b", "", "==3"]))
option = _join(st.just(" "), ws, st.sampled_from(["ram", "app", "fifo", "name", "x.y", "for"]), ws,
               st.just("="), ws, value)
spawn_line = _join(ws, st.sampled_from(["spawn", "spawn ", "spawned", "spawn\t"]), ws, name,
                   st.lists(option, max_size=4).map("".join), ws, comment)
line = st.one_of(syscall_line, syscall_line, spawn_line, other_line)
newline = st.sampled_from(["\n", "\n", "\r\n"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(line, newline), max_size=12), st.booleans())
def test_fast_path_and_lark_agree(lines, final_newline):
    text = "".join(a + b for a, b in lines)
    if not final_newline and text.endswith("\n"):
        text = text.rstrip("\r\n")
    same(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(syscall_line, spawn_line))
def test_single_syscall_lines_agree(text):
    same(text)
    same(text + "\n")


def test_known_shapes():
    for text in [
        "p: command led 1 0\n", "\n\n# c\np: command led 1 0  # x\n\n", "p: command led 1 0", "", "# only\n",
        "  p : yield\n", "\r\np: yield\r\n", "a: command led 1 0 # c\r\n# x\r\nspawn b\r\n",
        "every 5ms {\n a: command led 1 0\n}\na: command led 2 0\n", "at 1ms\n\n{\na: yield\n}\na: yield\n",
        "a: command led 1 0\\\n 1\n", "a: command led 1-2\n", "a: command led 1 0\n  # trailing",
        "a: allow-ro console 1 \"bad \\q\"\nexpect nonsense ((\n", "a: command 0x 1\n", "a:command led 1 0\n",
        "a: command led 1 0\n}\n", "x\u2028y: command led 1 0\n", "a: command led 1 0\x0c\n",
    ]:
        same(text)


def test_fast_lines_really_take_the_fast_path(monkeypatch):
    # If the fast path were never used, the agreement above would prove nothing.
    import tockshell.lang.parser as P

    calls = []
    real = P.parse_lark
    monkeypatch.setattr(P, "parse_lark", lambda *a: calls.append(a) or real(*a))
    prog = P.parse("a: command led 1 0\na: subscribe console 1 @h\na: yield\n", "f")
    assert len(prog.statements) == 3 and not calls


def test_a_plain_scenario_never_loads_lark(tmp_path):
    # Start-up: a scenario of spawns and syscalls is read by the fast path alone.
    import subprocess
    import sys

    f = tmp_path / "plain.tsh"
    f.write_text("# plain\nspawn a ram=4k\na: command led 1 0\na: subscribe console 1 @h\na: yield no-wait\n")
    code = ("import sys\nfrom tockshell.cli import main\nrc = main(['run', sys.argv[1]])\n"
            "assert 'lark' not in sys.modules, 'lark was imported'\nsys.exit(rc)\n")
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    r = subprocess.run([sys.executable, "-c", code, str(f)], capture_output=True, text=True, cwd=repo)
    assert r.returncode == 0, r.stderr
