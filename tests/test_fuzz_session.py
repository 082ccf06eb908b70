"""Hypothesis: parse + execute through a Session; the only outcomes are results or one clear error with a position.

Two sources of input:

* random text (printable characters, newlines, the punctuation of the language);
* random sequences of the grammar's own terminals: every keyword and
  punctuation literal of ``tsh.lark`` (read from the parser, so new keywords
  are fuzzed as soon as they exist) and samples of each regex terminal
  (NAME, PROCESS_PREFIX, FUNC, PATH, APP_REF, VAR, LABEL, NUMBER, DURATION,
  SIZE, STRING, BYTES), joined by spaces, newlines and ``;``.

Each text is executed whole, then statement by statement in one session (so
later statements meet the state earlier ones left). Allowed: a value, a
:class:`TshError` (its subclasses included) whose message is not empty and
whose position is known, or ``Quit``. Anything else escaping, a traceback or
a Python repr in the output, fails. The run bound (``run.max_events``) is
kept small, and the session works in a temporary directory, because
``save``, ``record`` and ``export`` write files.
"""

from __future__ import annotations

import io
import os
import re
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tockshell.lang.errors import TshError
from tockshell.lang.parser import grammar_info
from tockshell.lang.session import Quit, Session

#: Statements that are slow by nature (they run whole scenarios or sweeps) are left to their own tests.
_SLOW = {"compare", "demo"}

_SAMPLES = {
    "NAME": ["a", "b", "client", "svc", "x.y", "led", "Running", "Success", "NODEVICE", "fault_policy",
             "scheduler", "mailbox.crash_notify", "ipcmgr.descriptors", "raw", "on"],
    "PROCESS_PREFIX": ["a:", "b :", "client:", "nobody:"],
    "FUNC": ["Success(", "Failure(", "mem(", "len(", "grant(", "hex(", "nosuch("],
    "PATH": ["./out.tsh", "sub/x.tsh", "/nonexistent/f.tsh"],
    "APP_REF": ["app.py:main", "nope.py:X"],
    "VAR": ["$_", "$x", "$_.r0", "$_.values", "$nosuch"],
    "LABEL": ["@h", "@on_write", "@_start"],
    "NUMBER": ["0", "1", "2", "3", "7", "16", "0x20000800", "0xffffffff", "0b101", "1_000"],
    "DURATION": ["1ms", "10us", "0ns", "1.5ms", "2s"],
    "SIZE": ["4k", "1K", "1M"],
    "STRING": ['"hi"', '"a\\nb"', '""', '"\\x41"', '"out.tsh"'],
    "BYTES": ['x"00 11"', 'x""', 'x"dead beef"'],
}


def _terminals() -> list[str]:
    words = [t for t in grammar_info().literals.values() if t not in _SLOW]
    for samples in _SAMPLES.values():
        words += samples
    return sorted(set(words))


TOKENS = _terminals()
_REPR = re.compile(r"<[A-Za-z_][\w.]* (object )?at 0x|Traceback \(most recent call last\)|<tockshell\.")


def _session() -> Session:
    s = Session(out=io.StringIO())
    s.execute("config run.max_events = 300", "<setup>")
    return s


def _check_error(e: TshError) -> None:
    # (A message may quote the user's own text, newlines included, so it is not required to be one line.)
    assert e.message and e.message.strip(), repr(e.message)
    assert e.pos is not None, f"no position for: {e.message}"
    assert not _REPR.search(e.message), e.message


def _execute(s: Session, text: str) -> None:
    try:
        s.execute(text, "<fuzz>")
    except TshError as e:
        _check_error(e)
    except Quit:
        pass
    out = s.out.getvalue()
    assert not _REPR.search(out), out[-2000:]


def _run(texts: list[str]) -> None:
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as d:
        os.chdir(d)
        try:
            _execute(_session(), "\n".join(texts))
            s = _session()
            for t in texts:
                _execute(s, t)
            _execute(s, "list\nstatus\nkernel")  # the views still render after whatever happened
        finally:
            os.chdir(cwd)


_text = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs"),
                                       include_characters="\n\t{}();:@$\"#=<>+-*/%[],\\"), max_size=80)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_text, min_size=1, max_size=4))
def test_random_text(texts):
    _run(texts)


_sep = st.sampled_from([" ", " ", " ", "\n", "; ", "\t"])
_statement = st.lists(st.tuples(st.sampled_from(TOKENS), _sep), min_size=1, max_size=9).map(
    lambda pairs: "".join(t + s for t, s in pairs).strip())


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_statement, min_size=1, max_size=6))
def test_random_token_sequences(texts):
    _run(texts)


@st.composite
def grammar_walk(draw, max_tokens: int = 14) -> str:
    """A statement sequence grown token by token through the LALR automaton: at each step one of the
    terminals the parser accepts there (so most texts parse and reach the interpreter), sometimes with
    one token replaced by any terminal at all (so the rest are near misses)."""
    from lark import Token

    gi = grammar_info()
    ip = gi.parser.parse_interactive("", start="start")
    words: list[str] = []
    for i in range(max_tokens):
        acc = sorted(a for a in gi.accepts(ip) if a not in ("COMPARE", "DEMO"))
        if "$END" in acc and (not words or draw(st.integers(0, 5)) == 0):
            if words:
                break
        acc = [a for a in acc if a != "$END"]
        if not acc:
            break
        name = draw(st.sampled_from(acc))
        if name == "_NL":
            text = "\n"
        elif name in gi.literals:
            text = gi.literals[name]
        else:
            text = draw(st.sampled_from(_SAMPLES[name]))
        ip.feed_token(Token(name, text))
        words.append(text)
    if words and draw(st.integers(0, 3)) == 0:
        words[draw(st.integers(0, len(words) - 1))] = draw(st.sampled_from(TOKENS))
    return " ".join(words)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(grammar_walk(), min_size=1, max_size=8))
def test_grammar_walks(texts):
    _run(texts)


_PREFIXED = st.tuples(st.sampled_from(["spawn a", "spawn b ram=4k", "spawn a app=hello", "spawn b app=blink"]),
                      st.lists(st.one_of(_statement, grammar_walk()), min_size=1, max_size=6))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_PREFIXED)
def test_token_sequences_after_a_spawn(case):
    # Most sequences fail early when no process exists; a spawn first lets them reach the kernel.
    spawn, texts = case
    _run([spawn, *texts])
