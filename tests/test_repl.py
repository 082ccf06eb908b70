"""The REPL loop without a terminal: prompt_toolkit reads from a pipe, a small
fake session stands for the interpreter, so these tests pin the shell's own
promises (errors, internal errors, quit, Ctrl-C, Ctrl-D, piped mode).

The real shell with the real session is driven in a pseudo-terminal by
tests/test_shell_pexpect.py.
"""

from __future__ import annotations

import io
import os
import signal

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from tockshell.board import build_board
from tockshell.lang.ast import Pos
from tockshell.lang.errors import TshError, TshSyntaxError
from tockshell.shell import repl as R


class Quit(Exception):
    def __init__(self, code=0):
        super().__init__("quit")
        self.code = code


class FakeSession:
    """Understands a handful of words; enough to exercise the shell."""

    def __init__(self, out):
        self.out = out
        self.board = build_board()
        self.kernel = self.board.kernel
        self.interrupted = False
        self.interactive = True
        self.pause_hook = None
        self.executed = []
        self.steps = 0

    def prompt(self):
        return f"[t=0us ev={self.kernel.ev}] tsh> "

    def toolbar(self):
        return "fake toolbar"

    @property
    def names(self):
        from tockshell.lang.completion import StaticNames

        return StaticNames(processes=["client", "server"])

    def interrupt(self):
        self.interrupted = True

    def execute(self, text, file="<stdin>"):
        self.executed.append((text, file))
        for lineno, line in enumerate(text.splitlines(), 1):
            word = line.strip()
            if not word or word in ("{", "}"):
                continue
            if word == "hello":
                self.out.write("→ Success\n")
            elif word == "bad":
                raise TshSyntaxError("expected a statement", Pos(file, lineno, 1, lineno, 4))
            elif word == "refuse":
                raise TshError("unknown process 'x'", Pos(file, lineno, 1, lineno, 7))
            elif word == "bug":
                raise ZeroDivisionError("division by zero")
            elif word == "kernelerr":
                from tockshell.kernel import KernelAPIError
                raise KernelAPIError("client is Faulted, not Running")
            elif word.startswith("quit"):
                raise Quit(int(word.split()[1]) if " " in word else 0)
            elif word == "longrun":
                # Stands for `run for 100s`: checks the flag between events.
                for _ in range(10_000):
                    if self.interrupted:
                        self.out.write("stopped: interrupted\n")
                        return
                    self.steps += 1
                    if self.steps == 5:
                        os.kill(os.getpid(), signal.SIGINT)
                self.out.write("ran to the end\n")
            elif word == "stubborn":
                # Ignores the flag: only a second Ctrl-C gets out.
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)
                self.out.write("not reached\n")
            elif word == "silent":
                pass
            elif word == "pause":
                self.pause_hook("")
            else:
                self.out.write(f"echo {word}\n")


@pytest.fixture(autouse=True)
def _private_history(tmp_path, monkeypatch):
    monkeypatch.setenv("TOCKSHELL_HISTORY", str(tmp_path / "hist" / "history"))
    monkeypatch.setattr(R, "_quit_exception", lambda: Quit)


def drive(keys: str, session_factory=FakeSession):
    """Type ``keys`` into a REPL on a fake session; (status, printed text, session).
    Only the fake's ``bug`` statement may cause an internal error."""
    out = io.StringIO()
    session = session_factory(out)
    with create_pipe_input() as inp:
        inp.send_text(keys)
        with create_app_session(input=inp, output=DummyOutput()):
            repl = R.Repl(session, input=inp, output=DummyOutput(), stdout=out)
            status = repl.run()
    text = out.getvalue()
    if "bug" not in keys:
        assert "internal error" not in text, text
    return status, text, session


def test_banner_names_the_board_and_its_drivers():
    s = FakeSession(io.StringIO())
    text = R.banner(s)
    first, second = text.splitlines()
    assert first.startswith('tockshell 0.1 — Tock 2.3 kernel model, board "default" (alarm console led button')
    assert second == "Type `help`, `help COMMAND`, or `demo` for guided scenarios."


def test_statements_run_and_ctrl_d_exits_zero():
    status, text, s = drive("hello\r\x04")
    assert status == 0
    assert "→ Success" in text
    assert s.executed == [("hello", "<stdin>")]


def test_tab_completes_at_once_even_when_enter_follows_immediately():
    status, text, s = drive("li\t\rprocess cl\t\rst\t\x03\x04")
    assert [t for t, _ in s.executed] == ["list", "process client"]


def test_output_is_followed_by_a_blank_line_and_silence_by_nothing():
    status, text, s = drive("hello\rsilent\rhello\r\x04")
    body = text.split("guided scenarios.\n\n", 1)[1]
    assert body == "→ Success\n\n→ Success\n\n"


def test_a_block_is_one_input():
    status, text, s = drive("every 1s {\rhello\r}\r\x04")
    assert status == 0
    assert len(s.executed) == 1
    assert s.executed[0][0].splitlines()[0] == "every 1s {"
    assert s.executed[0][0].rstrip().endswith("}")


def test_backslash_continues_the_line():
    status, text, s = drive("hello \\\rworld\r\x04")
    assert len(s.executed) == 1 and "\n" in s.executed[0][0]


def test_errors_print_with_a_caret_and_the_session_goes_on():
    status, text, s = drive("bad\rrefuse\rhello\r\x04")
    assert status == 0
    assert "<stdin>:1:1: expected a statement\nbad\n^~~" in text
    assert "unknown process 'x'\nrefuse\n^~~~~~" in text
    assert "→ Success" in text
    assert "Traceback" not in text


def test_internal_error_is_reported_logged_and_survived(tmp_path):
    status, text, s = drive("bug\rhello\r\x04")
    assert status == 0
    assert "internal error: ZeroDivisionError: division by zero" in text
    assert "please report it" in text
    assert "Traceback" not in text
    log = tmp_path / "hist" / "internal-errors.log"
    assert "ZeroDivisionError" in log.read_text()
    assert "→ Success" in text


def test_kernel_api_error_is_one_line():
    status, text, s = drive("kernelerr\r\x04")
    assert "error: client is Faulted, not Running" in text


def test_quit_returns_its_code():
    status, text, s = drive("quit 3\rhello\r")
    assert status == 3
    assert "→ Success" not in text


def test_ctrl_c_at_the_prompt_drops_the_line():
    status, text, s = drive("hel\x03hello\r\x04")
    assert status == 0
    assert s.executed == [("hello", "<stdin>")]


def test_ctrl_c_during_a_run_stops_it_between_events():
    status, text, s = drive("longrun\rhello\r\x04")
    assert status == 0
    assert "stopped: interrupted" in text
    assert "ran to the end" not in text
    assert s.steps == 5
    assert s.interrupted is False          # cleared for the next command
    assert "→ Success" in text             # and the session goes on


def test_second_ctrl_c_breaks_out_of_anything():
    status, text, s = drive("stubborn\rhello\r\x04")
    assert "not reached" not in text
    assert "interrupted at t=0us ev=0; the statement was cut short" in text
    assert "→ Success" in text


def test_sigint_handler_is_only_installed_while_executing():
    before = signal.getsignal(signal.SIGINT)
    drive("hello\r\x04")
    assert signal.getsignal(signal.SIGINT) is before


def test_history_is_written_to_the_chosen_file(tmp_path):
    drive("hello\rworld\r\x04")
    hist = (tmp_path / "hist" / "history").read_text()
    assert "+hello" in hist and "+world" in hist


def test_undecodable_input_is_cleaned_before_anything_sees_it(tmp_path):
    out = io.StringIO()
    session = FakeSession(out)
    with create_pipe_input() as inp:
        inp.send_bytes(b"a\xffb\r\x04")
        with create_app_session(input=inp, output=DummyOutput()):
            status = R.Repl(session, input=inp, output=DummyOutput(), stdout=out).run()
    assert status == 0
    assert session.executed == [("a\ufffdb", "<stdin>")]
    assert "+a\ufffdb" in (tmp_path / "hist" / "history").read_text(encoding="utf-8")


def test_pause_hook_is_wired():
    # `pause` waits at a prompt of its own; Enter goes on.
    status, text, s = drive("pause\r\rhello\r\x04")
    assert status == 0
    assert "internal error" not in text
    assert "→ Success" in text


def test_ctrl_c_at_a_pause_abandons_the_rest_of_the_input():
    status, text, s = drive("pause\x1b\rhello\r\x03hello\r\x04")
    assert status == 0
    assert s.executed[0][0] == "pause\nhello"
    assert "cut short" in text
    assert text.count("→ Success") == 1      # only the second input's


# ------------------------------------------------------------------ piped mode

def piped(script: str):
    out, err = io.StringIO(), io.StringIO()
    s = FakeSession(out)
    status = R.run_piped(s, io.StringIO(script), out, err)
    return status, out.getvalue(), err.getvalue(), s


def test_piped_runs_lines_and_reports_errors_at_their_input_line():
    status, out, err, s = piped("hello\n\nrefuse\nhello\n")
    assert status == 1
    assert out.count("→ Success") == 2
    assert "<stdin>:3:1: unknown process 'x'" in err
    assert "refuse\n^~~~~~" in err


def test_piped_status_is_the_worst_error():
    assert piped("bad\nrefuse\n")[0] == 2
    assert piped("bug\n")[0] == 3
    assert piped("hello\n")[0] == 0


def test_piped_reads_blocks_whole_and_reports_an_unclosed_one():
    status, out, err, s = piped("every 1s {\n hello\n}\nhello\n")
    assert [t.count("\n") for t, _ in s.executed][0] >= 2
    assert len(s.executed) == 2
    status, out, err, s = piped("every 1s {\n hello\n")
    assert len(s.executed) == 1        # given to the parser at end of input


def test_piped_quit_stops_reading():
    status, out, err, s = piped("hello\nquit 4\nhello\n")
    assert status == 4
    assert out.count("→ Success") == 1


def test_piped_ctrl_c_stops_reading_with_130():
    status, out, err, s = piped("longrun\nhello\n")
    assert status == R.EXIT_INTERRUPTED
    assert "stopped: interrupted" in out
    assert "→ Success" not in out


def test_piped_main_does_not_touch_the_terminal(monkeypatch):
    out = io.StringIO()
    s = FakeSession(out)
    status = R.main(s, stdin=io.StringIO("hello\n"), stdout=out)
    assert status == 0
    assert s.interactive is False
    assert out.getvalue() == "→ Success\n"
