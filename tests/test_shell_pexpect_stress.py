"""The real shell under abuse (issue 8): 1,000 random lines typed into the
REPL, Ctrl-C in the middle of a long run, a paste of a 500-line scenario, a
window resize, Ctrl-D. The session must survive all of it, and its state
must be what it should be: the model is deterministic, so the same lines run
in an in-process Session give the reference for ``list``, ``now`` and
``stats``.

Lines are typed in batches (what the terminal's input buffer holds comfortably);
the shell keeps keys typed ahead for its next prompt, as a user typing fast
would see. Nothing is timed. It takes 10 to 30 s depending on the machine's
load, hence the ``slow`` marker; it runs in the default suite all the same.
"""

from __future__ import annotations

import io
import random
import re

import pytest

from tockshell.lang.session import Session
from tockshell.shell import repl as R

from test_shell_pexpect import ACCEPTED, Shell, strip_ansi

pexpect = pytest.importorskip("pexpect")

SEED = 0x70C4
N_RANDOM = 1000
BATCH = 20
PASTE_LINES = 500

#: Statements that would leave the session (quit), wait for the keyboard
#: (pause), touch files or run without bound: not typed at random.
FORBIDDEN = {"quit", "exit", "pause", "save", "record", "export", "include", "source", "demo", "every",
             "at", "commands", "board", "restore", "rewind", "goto", "reverse-step", "reverse-continue",
             "continue", "finish", "next", "timeline", "traffic", "watch", "display", "break", "tbreak",
             "catch", "trace", "checkpoint", "diff"}

POOL = [
    "spawn p{n} ram=4k", "spawn h{n} app=hello", "spawn b{n} app=blink", "list", "status", "now",
    "stats", "help", "help spawn", "p{n}: command console 0", "p{n}: command led 1 0",
    "p{n}: subscribe alarm 0 @tick", "p{n}: yield no-wait", "p{n}: memop brk 0x20001000",
    'p{n}: allow-ro console 1 "hi"', "p{n}: command alarm 5 100", "step 3", "run for 1ms",
    "run for 20ms", "let x = 1 + 2", 'echo "x is" $x', "mem p{n} 0x20000000 16", "grants p{n}",
    "upcalls p{n}", "allows p{n}", "press button 0", "stop p{n}", "start p{n}", "fault p{n}",
    "boot p{n}", "restart p{n}", "terminate p{n}", "process p{n}", "config fault_policy = restart",
    "expect 1 == 1", "expect 1 == 2", "alloc p{n} 16", "console input \"abc\"", "explain",
    "p{n}: yield", "p{n}: exit terminate 3", "p{n}: syscall 9 0 0 0 0", "let y = $_",
    "echo $_.error", "p{n}: command 0x99 0",
]
# Printable ASCII without braces and backslash (they would open a block or
# continue the line, which the random part of the test does not want), plus
# a few multi-byte characters.
CHARSET = [chr(c) for c in range(32, 127) if chr(c) not in "{}\\"] + list("é→—ü日本")


def _forbidden(line: str) -> bool:
    for part in line.split(";"):
        words = part.split()
        if words and (words[0] in FORBIDDEN or any(w in ("until", "pause", "quit") for w in words)):
            return True
    return False


def random_lines(rng: random.Random, n: int) -> list[str]:
    """``n`` lines: pool statements, mutated ones, and junk; never a forbidden one."""
    out: list[str] = []
    while len(out) < n:
        kind = rng.random()
        line = rng.choice(POOL).format(n=rng.randrange(4))
        if kind < 0.45:
            pass
        elif kind < 0.8:
            chars = list(line)
            for _ in range(rng.randint(1, 2)):
                i = rng.randrange(len(chars) + 1)
                op = rng.random()
                if op < 0.33 and chars:
                    del chars[min(i, len(chars) - 1)]
                elif op < 0.66:
                    chars.insert(i, rng.choice(CHARSET))
                elif chars:
                    chars[min(i, len(chars) - 1)] = rng.choice(CHARSET)
            line = "".join(chars)
        elif kind < 0.97:
            line = "".join(rng.choice(CHARSET) for _ in range(rng.randint(0, 40)))
        else:
            line = ""
        if _forbidden(line):
            continue
        out.append(line)
    return out


def paste_scenario(n_lines: int) -> str:
    """A scenario of ``n_lines`` lines (blocks, comments, continuations,
    expects), deterministic from a fresh board."""
    lines = ["board default", "# a pasted scenario", "let count = 0",
             "spawn svc ram=4k", "spawn cli ram=4k", "spawn hello app=hello",
             "svc: subscribe alarm 0 @tick", "expect $_ == Success",
             "every 1ms for 50ms {", "  let count = $count + 1", "}"]
    i = 0
    while len(lines) < n_lines - 4:
        k = i % 10
        if k == 0:
            lines.append(f"cli: command console 0            # step {i}")
        elif k == 1:
            lines.append("expect $_ == Success")
        elif k == 2:
            lines.append(f"let v{i % 7} = {i} * 2")
        elif k == 3:
            lines.append(f"expect $v{(i - 1) % 7} == {(i - 1) * 2}")
        elif k == 4:
            lines.append("run for 1ms")
        elif k == 5:
            lines.append(f"svc: command led 1 {i % 4}; cli: command led 1 {(i + 1) % 4}")
        elif k == 6:
            lines.append("")
        elif k == 7:
            lines.append(f"echo \"line {i}\" \\")
            lines.append(f"     $count")
        elif k == 8:
            lines.append("at +10us {")
            lines.append(f"  let last = {i}")
            lines.append("}")
        else:
            lines.append("step 2")
        i += 1
    lines += ["run for 60ms", "expect $count == 50", 'echo "PASTED" $count', "list"]
    return "\n".join(lines[:n_lines - 1] + lines[-1:]) + "\n"


def reference(texts: list[str]) -> Session:
    """An in-process session that ran ``texts`` as the shell would."""
    out = io.StringIO()
    s = Session(out=out, interactive=False)
    for t in texts:
        if t.strip():
            try:
                R.execute_text(s, t, out, out)
            except R.QuitRequest:  # pragma: no cover - the generator forbids quit
                raise AssertionError(f"the random line {t!r} quit the session")
    return s


def capture(s: Session, line: str) -> str:
    out = io.StringIO()
    s.out = out
    R.execute_text(s, line, out, out)
    return out.getvalue()


def lines_of(text: str) -> list[str]:
    return [l.rstrip() for l in strip_ansi(text).splitlines() if l.strip()]


@pytest.mark.slow
def test_random_lines_interrupt_paste_resize(tmp_path):
    rng = random.Random(SEED)
    typed = random_lines(rng, N_RANDOM)
    scenario = paste_scenario(PASTE_LINES)
    assert scenario.count("\n") == PASTE_LINES

    sh = Shell(tmp_path, rows=30, cols=120, cpr=False)
    try:
        sh.ready()
        # 1. A thousand random lines, typed ahead in batches.
        for start in range(0, len(typed), BATCH):
            batch = typed[start:start + BATCH]
            sh.type("".join(line + "\r" for line in batch))
            for _ in batch:
                out = sh.ready()
                assert "Traceback" not in out, out
                assert "internal error" not in out, out
        # The same lines in-process give the state the shell must be in.
        ref = reference(typed)
        for probe in ("list", "now", "stats"):
            assert lines_of(sh.run(probe)) == lines_of(capture(ref, probe)), probe

        # 2. Ctrl-C in the middle of a long run.
        sh.run("let n = 0")
        sh.type("every 100us {\r")
        sh.expect(r"\.\.\. ")
        sh.type("let n = $n + 1\r}")
        assert "scheduled every" in sh.run("")
        sh.type("run for 100s\r")
        sh.expect(ACCEPTED, exact=True)
        sh.expect(r"every 100us")
        sh.child.setwinsize(24, 100)      # a resize while it runs: no prompt to redraw
        sh.expect(r"every 100us")
        sh.child.sendintr()
        out = sh.ready()
        assert "interrupted" in out and "Traceback" not in out
        n = int(re.search(r"n= (\d+)", sh.run('echo "n=" $n')).group(1))
        assert 0 < n < 1_000_000
        names = {w for l in lines_of(capture(ref, "list"))[1:] for w in l.split()[2:3]}
        listed = sh.run("list")
        assert all(name in listed for name in names)

        # 3. A 500-line scenario pasted (bracketed paste, as terminals send it), then Enter.
        sh.type("\x1b[200~" + scenario + "\x1b[201~")
        sh.type("\r")
        sh.expect(ACCEPTED, exact=True)
        out = sh.ready()
        assert "PASTED 50" in out, out[-2000:]
        assert "expect" not in out.lower().replace("expected", ""), out[-2000:]
        fresh = reference([scenario])
        for probe in ("list", "now", "stats"):
            assert lines_of(sh.run(probe)) == lines_of(capture(fresh, probe)), probe

        # 4. Resize, and the session is unchanged.
        before = lines_of(sh.run("list"))
        sh.resize(15, 70)
        assert lines_of(sh.run("list")) == before
        sh.resize(40, 150)
        assert lines_of(sh.run("now")) == lines_of(capture(fresh, "now"))

        # 5. Ctrl-D: a clean exit.
        assert sh.ctrl_d_exit() == 0
    finally:
        sh.close()
