"""The real shell in a pseudo-terminal (issue 3's Done-when).

``python3 -m tockshell`` is spawned under pexpect with TERM=xterm, a fixed
window size and a private history file; the test types commands, uses Tab
completion, makes a parse error, interrupts a long ``run`` with Ctrl-C and
leaves with Ctrl-D.

How the test knows the shell is ready for keys: prompt_toolkit switches
bracketed paste on (ESC [?2004h) when a prompt starts, after the terminal is
in raw mode, and off (ESC [?2004l) when an input is accepted. Keys sent before
the prompt is up go through the terminal's cooked mode (where Ctrl-D is eaten
as end-of-file), so control keys are only sent at a ready prompt. The shell's
cursor-position requests (ESC [6n) are answered as a terminal would, so the
bottom toolbar is drawn. Timeouts are generous and nothing is timed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 60
READY = "\x1b[?2004h"      # a prompt is up, the terminal in raw mode
ACCEPTED = "\x1b[?2004l"   # the input was accepted; output follows
CPR_REQUEST = "\x1b[6n"
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][A-Za-z0-9]|[=>78])")


def strip_ansi(text: str) -> str:
    """Screen text without escape sequences and carriage returns."""
    return _ANSI.sub("", text).replace("\r", "")


def on_screen(text: str) -> str:
    """A regex for ``text`` as drawn: colour changes may stand between words."""
    return r"(?:\x1b\[[0-9;?]*[A-Za-z])*\s*".join(re.escape(w) for w in text.split())


class Shell:
    """``python3 -m tockshell`` in a pseudo-terminal, with helpers to type into it."""

    def __init__(self, tmp_path: Path, rows: int = 30, cols: int = 120, args=(), cpr: bool = True):
        env = dict(os.environ)
        for var in ("NO_COLOR", "TOCKSHELL_STYLE", "PROMPT_TOOLKIT_NO_CPR"):
            env.pop(var, None)
        env.update(TERM="xterm", TOCKSHELL_HISTORY=str(tmp_path / "data" / "history"),
                   PYTHONIOENCODING="utf-8", LANG="C.UTF-8", LC_ALL="C.UTF-8")
        if not cpr:
            # Skip the round trips of cursor-position requests (and with them the toolbar).
            env["PROMPT_TOOLKIT_NO_CPR"] = "1"
        self.rows = rows
        self.child = pexpect.spawn(sys.executable, ["-m", "tockshell", *args], env=env, cwd=str(REPO),
                                   dimensions=(rows, cols), encoding="utf-8", codec_errors="replace",
                                   timeout=TIMEOUT)
        self.child.delaybeforesend = None
        self.transcript: list[str] = []

    def expect(self, pattern, exact: bool = False) -> str:
        """Wait for ``pattern`` (a regex, or a literal with ``exact``), answering
        cursor-position requests meanwhile; the text before it, ANSI stripped."""
        target = re.escape(pattern) if exact else pattern
        seen = []
        while True:
            i = self.child.expect([re.escape(CPR_REQUEST), target])
            seen.append(self.child.before)
            if i == 0:
                self.child.send("\x1b[1;1R")
                continue
            self.transcript.append("".join(seen) + (self.child.after or ""))
            return strip_ansi("".join(seen))

    def ready(self) -> str:
        """Wait until a prompt is up; the text printed before it."""
        return self.expect(READY, exact=True)

    def run(self, line: str) -> str:
        """Type ``line`` and Enter at a ready prompt; what the shell printed for it."""
        self.child.send(line + "\r")
        self.expect(ACCEPTED, exact=True)
        return self.ready()

    def resize(self, rows: int, cols: int) -> str:
        """Change the window size at a ready prompt and wait for the redraw.

        prompt_toolkit answers SIGWINCH by erasing its output (which turns
        bracketed paste off) and drawing the prompt again (on again), so the
        two markers go by once more."""
        self.child.setwinsize(rows, cols)
        self.rows = rows
        self.expect(ACCEPTED, exact=True)
        return self.ready()

    def type(self, keys: str) -> None:
        self.child.send(keys)

    def ctrl_d_exit(self) -> int:
        """Ctrl-D at a ready prompt; the exit status."""
        self.child.sendcontrol("d")
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


@pytest.fixture
def shell(tmp_path):
    sh = Shell(tmp_path)
    yield sh
    sh.close()


def test_banner_prompt_and_toolbar(shell):
    before = shell.ready()
    assert 'tockshell 0.1 — Tock 2.3 kernel model, board "default" (alarm console led button' in before
    assert "Type `help`, `help COMMAND`, or `demo` for guided scenarios." in before
    # The prompt, then the bottom toolbar: time, events, processes by state, board.
    screen = shell.expect(r"board default")
    assert "[t=0us ev=0] tsh>" in screen
    assert "no processes" in screen
    assert shell.ctrl_d_exit() == 0


def test_session_in_a_terminal(shell):
    shell.ready()

    # Commands: spawn, list, a syscall.
    out = shell.run("spawn client ram=4k")
    assert "spawned client" in out and "Running" in out
    out = shell.run("list")
    assert "ShortID" in out and "client" in out
    out = shell.run("client: command console 0")
    assert "→ Success" in out

    # Tab completes a unique word in place, and Enter runs it.
    shell.type("li")
    shell.type("\t")
    shell.expect(r"list")
    out = shell.run("")
    assert "client" in out and "Unique" in out, out

    # Tab on an ambiguous word opens the menu; Ctrl-C drops the line.
    shell.type("client: allow-r")
    shell.type("\t")
    menu = shell.expect(r"allow-rw")
    shell.child.sendcontrol("c")
    shell.ready()

    # Process names come from the session.
    shell.type("process cl\t")
    shell.expect(r"client")
    out = shell.run("")
    assert "App: client" in out

    # A parse error: one message with a caret, and the session goes on.
    out = shell.run("client: comand console 0")
    assert "unknown syscall 'comand' — did you mean 'command'?" in out
    assert "^~~~~~" in out
    assert "Traceback" not in out

    # A multi-line block: `{` keeps the input open with a `...` prompt.
    shell.type("let n = 0\r")
    shell.expect(ACCEPTED, exact=True)
    shell.ready()
    shell.type("every 100us {\r")
    shell.expect(r"\.\.\. ")
    shell.type("let n = $n + 1\r}")
    out = shell.run("")
    assert "scheduled every" in out

    # A long run, interrupted by Ctrl-C between two events.
    shell.type("run for 100s\r")
    shell.expect(ACCEPTED, exact=True)
    shell.expect(r"every 100us")          # it is running
    shell.child.sendintr()
    out = shell.ready()
    assert "interrupted" in out
    assert "Traceback" not in out

    # The session survived, with its processes and its time.
    out = shell.run("list")
    assert "client" in out
    out = shell.run('echo "n=" $n')
    n = int(re.search(r"n= (\d+)", out).group(1))
    assert 0 < n < 1_000_000
    out = shell.run("now")
    assert "t=" in out

    assert shell.ctrl_d_exit() == 0


def test_history_is_kept_and_suggested(tmp_path):
    first = Shell(tmp_path)
    try:
        first.ready()
        first.run("spawn remembered ram=4k")
        assert first.ctrl_d_exit() == 0
    finally:
        first.close()
    assert "+spawn remembered ram=4k" in (tmp_path / "data" / "history").read_text()

    second = Shell(tmp_path)
    try:
        second.ready()
        # Auto-suggest from history shows the rest of the line in grey ...
        second.type("spawn rem")
        second.expect(on_screen("embered ram=4k"))
        second.child.sendcontrol("c")
        second.ready()
        # ... and Up recalls it.
        second.type("\x1b[A")
        second.expect(on_screen("spawn remembered"))
        out = second.run("")
        assert "spawned remembered" in out
        assert second.ctrl_d_exit() == 0
    finally:
        second.close()


def test_resize_redraws_and_the_session_goes_on(shell):
    shell.ready()
    shell.run("spawn a ram=4k")
    shell.resize(12, 60)
    out = shell.run("list")
    assert " a " in out
    shell.resize(40, 160)
    out = shell.run("status")
    assert "Total processes: 1" in out
    assert "Traceback" not in out
    assert shell.ctrl_d_exit() == 0


def test_pause_waits_for_enter(shell):
    shell.ready()
    shell.type('pause; echo "after the pause"\r')
    shell.expect(ACCEPTED, exact=True)
    shell.expect(r"paused")
    shell.type("\r")
    out = shell.expect(r"after the pause")
    shell.ready()
    assert "internal error" not in out
    assert shell.ctrl_d_exit() == 0


def test_quit_leaves_with_status_zero(shell):
    shell.ready()
    shell.child.send("quit\r")
    shell.child.expect(pexpect.EOF)
    shell.child.close()
    assert shell.child.exitstatus == 0


def test_unwritable_history_does_not_stop_the_shell(tmp_path):
    (tmp_path / "data").write_text("a file where the history directory should be")
    sh = Shell(tmp_path)
    try:
        out = sh.ready()
        assert "keeping this session's history in memory" in out
        assert "spawned p" in sh.run("spawn p")
        assert sh.ctrl_d_exit() == 0
    finally:
        sh.close()


def test_piped_input_runs_without_a_terminal(tmp_path):
    env = dict(os.environ, TOCKSHELL_HISTORY=str(tmp_path / "history"))
    script = "spawn p ram=4k\nlist\np: command console 0\np: comand console 0\nnow\n"
    res = subprocess.run([sys.executable, "-m", "tockshell"], input=script, capture_output=True,
                         text=True, cwd=str(REPO), env=env, timeout=TIMEOUT)
    assert "spawned p" in res.stdout
    assert "→ Success" in res.stdout
    assert "\x1b[" not in res.stdout            # no screen control
    assert "tsh>" not in res.stdout             # and no prompt
    assert "<stdin>:4:4: unknown syscall 'comand'" in res.stderr
    assert res.returncode == 2                  # the worst error seen: a syntax error


def test_bytes_that_are_not_utf8_get_a_message_not_a_traceback(shell):
    shell.ready()
    os.write(shell.child.child_fd, b'client: comm\xffand console 0\r')
    shell.expect(ACCEPTED, exact=True)
    out = shell.ready()
    assert "\ufffd" in out and "^" in out
    assert "Traceback" not in out and "internal error" not in out
    assert "t=0us" in shell.run("now")
    assert shell.ctrl_d_exit() == 0


def test_piped_bytes_that_are_not_utf8(tmp_path):
    env = dict(os.environ, TOCKSHELL_HISTORY=str(tmp_path / "history"))
    res = subprocess.run([sys.executable, "-m", "tockshell"], input=b'echo "a\xffb"\nnow\n',
                         capture_output=True, cwd=str(REPO), env=env, timeout=TIMEOUT)
    assert res.stdout.decode() == "a\ufffdb\nt=0us (0 ns), 0 events\n"
    assert res.returncode == 0


def test_stdout_redirected_keeps_the_prompt_on_the_terminal(tmp_path):
    log = tmp_path / "session.log"
    env = dict(os.environ, TERM="xterm", TOCKSHELL_HISTORY=str(tmp_path / "history"), PROMPT_TOOLKIT_NO_CPR="1")
    child = pexpect.spawn("/bin/sh", ["-c", f'exec "{sys.executable}" -m tockshell > "{log}"'], env=env,
                          cwd=str(REPO), dimensions=(30, 120), encoding="utf-8", timeout=TIMEOUT)
    child.delaybeforesend = None
    try:
        child.expect_exact(READY)
        child.send("spawn teed ram=4k\r")
        child.expect_exact(ACCEPTED)
        child.expect_exact(READY)
        child.send("pause\r")                 # interactive: it waits for Enter
        child.expect("paused")
        child.send("\r")
        child.expect_exact(READY)             # the shell's prompt again
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
    finally:
        if child.isalive():
            child.terminate(force=True)
    text = log.read_text()
    assert "spawned teed" in text
    assert "\x1b[" not in text               # the screen control went to the terminal
