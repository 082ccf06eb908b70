"""Golden transcripts: the shell's output for fixed scripts, pinned in tests/golden/*.txt.

Run ``pytest tests/test_render_golden.py --regen-golden`` after an intended
change of output and review the diff. The board holds only the base capsules
(alarm console led button lld rng), so capsules added later do not move the
pinned addresses.
"""

from __future__ import annotations

import io
import os

import pytest

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")

SETUP = """\
config fault_policy = stop
spawn client ram=4k short_id=0x42
spawn server ram=2k grant=1k
spawn raw1 raw=true
client: subscribe console 1 @on_write
client: allow-ro console 1 "hello"
client: command console 1 5
client: subscribe alarm 0 @tick
client: command alarm 5 100
server: command button 1 0
press button 0
"""

CASES = {
    "list": SETUP + "run for 2ms\nlist\nstatus\nserver: yield wait-for alarm 0\nstop raw1\nlist\n",
    "process": SETUP + "run for 2ms\nclient: yield\nprocess client\nprocess raw1\n",
    "grants": SETUP + "grants client\ngrants server\nallows client\nsubscriptions client\n",
    "upcalls": SETUP + "run for 2ms\nupcalls client\nupcalls server\nupcalls raw1\nmem client 0x20000800 32\n",
    "trace": SETUP + "run for 2ms\nclient: yield\ntrace 30\n",
    "syscalls": SETUP + "client: subscribe led 0 @x\nclient: subscribe console 7 @x\nclient: allow-rw console 1 0x10 4\n"
                        "client: memop sbrk 256\nclient: memop brk 0x10\nclient: command console 9\n"
                        "client: syscall exit 5 0\nclient: syscall 9 0\nexplain\nlist\n",
}

ERRORS = [
    "clinet: command led 0",
    "client: comand led 0",
    "raw1: command led 0",
    "spawn client",
    "spawn x rma=4k",
    "echo $nosuch",
    "expect client.state == Yielded",
    "expect client.queue > 5",
    "print client.stat",
    "client: command nodriver 0",
    "config falt_policy = stop",
    "config fault_policy = sometimes",
    "alloc client 100000",
    "write client 0x10 \"x\"",
    "mem client 0x10 4",
    "start client",
    "boot client",
    "include nosuch.tsh",
    "help yeld",
    "at +1ms { run }\nrun for 2ms",
    "print 1 / 0",
]


@pytest.fixture
def base_board(monkeypatch):
    import tockshell.board as board

    monkeypatch.setattr(board, "EXTRA_CAPSULES", [])
    monkeypatch.setattr(board, "_register_extras", lambda: None)


def transcript(script: str) -> str:
    """Run ``script`` statement by statement, as typed at the prompt."""
    from tockshell.lang.errors import TshError
    from tockshell.lang.parser import parse
    from tockshell.lang.session import Session

    out = io.StringIO()
    s = Session(out=out)
    for st in parse(script, "golden.tsh").statements:
        text = st.pos.text(script).strip()
        out.write(s.prompt() + text + "\n")
        try:
            s.exec_statement(st)
        except TshError as e:
            out.write(e.format(text) + "\n")
    return out.getvalue()


def errors_transcript() -> str:
    from tockshell.lang.errors import TshError
    from tockshell.lang.session import Session

    chunks = []
    for text in ERRORS:
        s = Session(out=io.StringIO())
        s.execute("config fault_policy = stop\nspawn client\nspawn raw1 raw=true", "setup.tsh")
        try:
            s.execute(text, "e.tsh")  # a file that does not exist: includes resolve from the cwd
            chunks.append(f"$ {text}\n(no error)\n")
        except TshError as e:
            chunks.append(f"$ {text}\n{e.format(text)}\n")
    return "\n".join(chunks)


def check(name: str, text: str, regen: bool) -> None:
    path = os.path.join(GOLDEN, f"{name}.txt")
    if regen or not os.path.exists(path):
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        if not regen:
            pytest.skip(f"wrote new golden file {name}.txt")
        return
    with open(path, encoding="utf-8") as f:
        expected = f.read()
    assert text == expected, f"output of {name} changed; rerun with --regen-golden and review the diff"


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name, base_board, regen_golden):
    check(name, transcript(CASES[name]), regen_golden)


def test_golden_errors(base_board, regen_golden):
    check("errors", errors_transcript(), regen_golden)


def test_transcripts_are_deterministic(base_board):
    assert transcript(CASES["trace"]) == transcript(CASES["trace"])
