"""The interactive shell: a prompt_toolkit REPL around a :class:`~tockshell.lang.session.Session`.

``tockshell`` with no arguments calls :func:`main`. On a terminal it shows
the banner and the prompt ``[t=0us ev=0] tsh> ``; statements typed there run
on the session and print their results. When stdin is not a terminal (a
script piped in) it reads lines, runs them and prints their output, with no
prompt and no screen control, so ``tockshell < demo.tsh`` and tests work.

What the shell promises, whatever is typed:

* a user error (syntax, unknown process, wrong state ...) prints one message
  with its position and a caret, and the session goes on;
* a bug (an unexpected Python exception) prints ``internal error: ...`` and a
  hint, logs the traceback to a file for the bug report, and the session goes
  on;
* Ctrl-C during a ``run`` stops it between two events (it sets the session's
  interrupt flag; a second Ctrl-C breaks out of anything) and the prompt
  comes back; Ctrl-C at the prompt clears the line; Ctrl-D on an empty line
  exits with status 0.

The pieces live in small modules, as in pgcli: :mod:`.completer`,
:mod:`.toolbar`, :mod:`.style`, :mod:`.keys`, :mod:`.history`.
"""

from __future__ import annotations

import datetime
import os
import signal
import sys
import threading
import traceback
from typing import Any, Optional, TextIO

from ..kernel import KernelAPIError
from ..lang.errors import TshError, TshSyntaxError
from .history import clean_text, error_log_path, make_history
from .keys import input_incomplete

__all__ = ["Repl", "Interrupter", "banner", "main", "run_piped", "execute_text", "log_internal_error",
           "INPUT_FILE", "QuitRequest", "EXIT_INTERRUPTED"]

#: The file name positions in typed input are reported against.
INPUT_FILE = "<stdin>"

#: Exit status after Ctrl-C ended a piped run (128 + SIGINT, as shells do).
EXIT_INTERRUPTED = 130


class QuitRequest(Exception):
    """Raised by :meth:`Repl.execute` when the input asked to leave the shell."""

    def __init__(self, code: int = 0):
        super().__init__(code)
        self.code = code


# ---------------------------------------------------------------- session glue

def _board(session: Any):
    return getattr(session, "board", None)


def _kernel(session: Any):
    board = _board(session)
    return getattr(board, "kernel", None) or getattr(session, "kernel", None)


def banner(session: Any) -> str:
    """The two banner lines: version, Tock version, board and its drivers; a hint."""
    from .. import TOCK_KERNEL_VERSION, __version__

    board = _board(session)
    name = getattr(board, "name", "default")
    drivers = " ".join(getattr(board, "drivers_by_name", {}) or ())
    major, minor = TOCK_KERNEL_VERSION
    short = ".".join(__version__.split(".")[:2])
    first = f'tockshell {short} — Tock {major}.{minor} kernel model, board "{name}"'
    if drivers:
        first += f" ({drivers})"
    return first + "\nType `help`, `help COMMAND`, or `demo` for guided scenarios."


def _where(session: Any) -> str:
    """``t=1234us ev=56``: the point in virtual time the session is at."""
    k = _kernel(session)
    if k is None:
        return ""
    from ..lang.values import format_time

    return f"t={format_time(k.now)} ev={k.ev}"


def _prompt_text(session: Any) -> str:
    prompt = getattr(session, "prompt", None)
    if callable(prompt):
        try:
            return prompt()
        except Exception:  # noqa: BLE001 - a prompt must always be shown
            pass
    where = _where(session)
    return f"[{where}] tsh> " if where else "tsh> "


def _set_interrupt(session: Any, value: bool) -> None:
    """Raise or clear the session's interrupt flag (checked between events)."""
    if value and callable(getattr(session, "interrupt", None)):
        session.interrupt()
        return
    session.interrupted = value


def _quit_exception() -> type[BaseException] | tuple:
    """The session's ``quit`` exception class (a tuple matching nothing if absent)."""
    try:
        from ..lang.session import Quit
    except ImportError:
        return ()
    return Quit


def log_internal_error(text: str, exc: BaseException, path=None) -> Optional[str]:
    """Append the traceback of ``exc`` (raised running ``text``) to the error
    log; the path written, or None when it could not be written."""
    path = error_log_path() if path is None else path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"--- {datetime.datetime.now().isoformat(timespec='seconds')} tockshell internal error\n")
            f.write("input:\n")
            for line in text.splitlines() or [""]:
                f.write(f"  {line}\n")
            f.write("".join(traceback.format_exception(exc)))
            f.write("\n")
    except OSError:
        return None
    return str(path)


class Interrupter:
    """Ctrl-C while a statement executes: the first press asks the session
    to stop between two events; a second one raises KeyboardInterrupt
    (for a statement that does not check the flag).

    Used as a context manager around execution only, so that at the prompt
    prompt_toolkit keeps its own Ctrl-C (clear the line). Only the main
    thread can install signal handlers; elsewhere it does nothing.
    """

    def __init__(self, session: Any):
        self.session = session
        self.presses = 0
        self._old: Any = None
        self._installed = False

    def _handler(self, signum, frame) -> None:
        self.presses += 1
        if self.presses == 1:
            _set_interrupt(self.session, True)
        else:
            raise KeyboardInterrupt

    def __enter__(self) -> "Interrupter":
        self.presses = 0
        _set_interrupt(self.session, False)
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handler)
            self._installed = True
        return self

    def __exit__(self, *exc) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._old)
            self._installed = False
        _set_interrupt(self.session, False)

    @property
    def interrupted(self) -> bool:
        return self.presses > 0


class _CountingWriter:
    """A text sink that remembers whether anything was written, so that the
    REPL puts a blank line after a command's output (and none after a silent
    one). Everything else is the wrapped stream's."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.wrote = False

    def write(self, s: str) -> int:
        if s:
            self.wrote = True
        return self.stream.write(s)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def execute_text(session: Any, text: str, out: TextIO, err: TextIO, *,
                 file: str = INPUT_FILE, source: str | None = None) -> tuple[int, bool]:
    """Run ``text`` on the session with Ctrl-C handling and error reporting.

    Returns ``(status, interrupted)``: status 0 when it ran, 1 when a
    statement was refused, 2 on a syntax error, 3 on an internal error.
    Raises :class:`QuitRequest` when the input asked to quit.
    """
    text = clean_text(text)
    source = text if source is None else clean_text(source)
    with Interrupter(session) as intr:
        status = 0
        try:
            session.execute(text, file)
        except TshError as e:
            out.flush()
            err.write(e.format(source) + "\n")
            status = 2 if isinstance(e, TshSyntaxError) else 1
        except KeyboardInterrupt:
            # A second Ctrl-C: the statement was cut short wherever it was.
            out.flush()
            err.write(f"interrupted at {_where(session)}; the statement was cut short\n")
            status = 1
        except _quit_exception() as q:
            raise QuitRequest(getattr(q, "code", 0) or 0) from None
        except KernelAPIError as e:
            # The kernel's refusals are worded for the user; reaching here means
            # the session did not wrap one, which is worth a line, not a traceback.
            out.flush()
            err.write(f"error: {e}\n")
            status = 1
        except Exception as e:  # noqa: BLE001 - the session must survive its own bugs
            out.flush()
            logged = log_internal_error(text, e)
            where = f"; the traceback is in {logged}" if logged else ""
            err.write(f"internal error: {type(e).__name__}: {e}\n"
                      f"  this is a bug in tockshell, not in your input{where}; please report it\n")
            status = 3
    return status, intr.interrupted


# ---------------------------------------------------------------- piped input

def run_piped(session: Any, stdin: TextIO, out: TextIO, err: TextIO | None = None) -> int:
    """Run statements read from a non-terminal ``stdin``: no prompt, no screen control.

    A statement with an open ``{`` or a trailing ``\\`` is read on until it is
    complete. Errors are reported with their line in the input and the run
    goes on, as if typed; the exit status is the worst seen (0 all ran, 1 a
    statement was refused, 2 a syntax error, 3 an internal error), or 130 when
    Ctrl-C stopped it, or the code given to ``quit``.
    """
    err = out if err is None else err
    worst = 0
    lines: list[str] = []
    first_line = 1
    lineno = 0

    def run_chunk(chunk: str, start: int) -> Optional[int]:
        nonlocal worst
        # Blank lines in front keep the reported positions those of the input.
        padded = "\n" * (start - 1) + chunk
        try:
            status, interrupted = execute_text(session, padded, out, err)
        except QuitRequest as q:
            return q.code
        worst = max(worst, status)
        if interrupted:
            return EXIT_INTERRUPTED
        return None

    while True:
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        except UnicodeDecodeError as e:
            err.write(f"{INPUT_FILE}:{lineno + 1}: input is not valid UTF-8 ({e.reason})\n")
            return 2
        if not line:
            break
        lineno += 1
        if not lines:
            first_line = lineno
        lines.append(line)
        chunk = "".join(lines)
        if input_incomplete(chunk):
            continue
        lines = []
        if not chunk.strip():
            continue
        code = run_chunk(chunk, first_line)
        if code is not None:
            out.flush()
            return code
    if lines and "".join(lines).strip():
        # An unclosed block at the end of the input: the parser says what is missing.
        code = run_chunk("".join(lines), first_line)
        if code is not None:
            out.flush()
            return code
    out.flush()
    return worst


# ---------------------------------------------------------------- the REPL

class Repl:
    """The prompt_toolkit REPL on one session.

    ``input``/``output`` are prompt_toolkit Input/Output objects (tests pass a
    pipe input and a dummy output); by default the terminal. ``stdout`` is
    where results and errors are printed (the session's own sink should be
    the same stream).
    """

    def __init__(self, session: Any, *, input=None, output=None, stdout: TextIO | None = None,
                 history=None, env: dict | None = None):
        from prompt_toolkit import PromptSession
        from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
        from prompt_toolkit.completion import ThreadedCompleter
        from prompt_toolkit.layout.processors import HighlightMatchingBracketProcessor
        from prompt_toolkit.shortcuts import CompleteStyle

        from .completer import TshCompleter, session_names
        from .keys import make_key_bindings
        from .style import make_style
        from .toolbar import make_toolbar

        self.session = session
        self.stdout = _CountingWriter(stdout or getattr(session, "out", None) or sys.stdout)
        if getattr(session, "out", None) is self.stdout.stream:
            # The session prints through the same counter, for the spacing.
            session.out = self.stdout
        self.env = os.environ if env is None else env
        # Start-up warnings wait for the banner, so that it stays the first line.
        self._warnings: list[str] = []
        if history is None:
            history = make_history(warn=self._warn)
        lexer = None
        try:
            from prompt_toolkit.lexers import PygmentsLexer

            from .lexer import TshLexer

            lexer = PygmentsLexer(TshLexer)
        except ImportError:
            pass  # highlighting is a comfort; the shell works without it
        self.prompt_session = PromptSession(
            message=self._message,
            multiline=True,
            prompt_continuation=self._continuation,
            lexer=lexer,
            completer=ThreadedCompleter(TshCompleter(session_names(session))),
            complete_while_typing=True,
            complete_style=CompleteStyle.COLUMN,
            reserve_space_for_menu=6,
            auto_suggest=AutoSuggestFromHistory(),
            history=history,
            bottom_toolbar=make_toolbar(session),
            style=make_style(self.env),
            include_default_pygments_style=False,
            key_bindings=make_key_bindings(),
            input_processors=[HighlightMatchingBracketProcessor("(){}[]")],
            search_ignore_case=True,
            enable_suspend=True,
            input=input,
            output=output,
        )
        self._install_pause()

    # -- prompt pieces ----------------------------------------------------------------
    def _message(self):
        return [("class:prompt", _prompt_text(self.session))]

    def _continuation(self, width: int, line_number: int, is_soft_wrap: bool):
        if is_soft_wrap:
            return " " * width
        return [("class:continuation", "... ".rjust(width))]

    def _warn(self, text: str) -> None:
        if self._warnings is not None:
            self._warnings.append(text)
        else:
            self.stdout.write(text + "\n")

    def _install_pause(self) -> None:
        """Make ``pause`` wait for Enter at a prompt of its own."""
        if not hasattr(self.session, "pause_hook"):
            # The session offers no hook: nothing to wire, `pause` is its business.
            return

        def pause(message: str = "") -> None:
            from prompt_toolkit import PromptSession

            waiter = PromptSession(input=self.prompt_session.input, output=self.prompt_session.output)
            try:
                waiter.prompt(message or "-- paused; press Enter to go on -- ")
            except EOFError:
                pass  # Ctrl-D at a pause goes on, as Enter does
            # Ctrl-C (KeyboardInterrupt) propagates: it abandons the rest of the
            # input, as gdb's Ctrl-C at its pagination prompt does.

        self.session.pause_hook = pause

    # -- running ----------------------------------------------------------------------
    def execute(self, text: str) -> int:
        """Run one submitted input; its status (see :func:`execute_text`).
        Raises :class:`QuitRequest` when it asked to quit."""
        self.stdout.wrote = False
        status, _ = execute_text(self.session, text, self.stdout, self.stdout)
        self.stdout.flush()
        return status

    def run(self, show_banner: bool = True) -> int:
        """The read-eval-print loop; returns the exit status (0 on Ctrl-D)."""
        if show_banner:
            self.stdout.write(banner(self.session) + "\n")
        pending, self._warnings = self._warnings, None
        for text in pending:
            self.stdout.write(text + "\n")
        if show_banner or pending:
            self.stdout.write("\n")
        self.stdout.flush()
        while True:
            try:
                text = self.prompt_session.prompt()
            except KeyboardInterrupt:
                continue          # Ctrl-C at the prompt: the line is dropped
            except EOFError:
                return 0          # Ctrl-D on an empty line
            if not text.strip():
                continue
            try:
                self.execute(text)
            except QuitRequest as q:
                return q.code
            except KeyboardInterrupt:
                # Ctrl-C in the instant between the prompt and the command.
                self.stdout.write("interrupted\n")
            if self.stdout.wrote:
                self.stdout.write("\n")
                self.stdout.flush()


def _tolerant(stream: TextIO, errors: str) -> TextIO:
    """``stream`` set to replace what it cannot decode or encode instead of
    raising: a stray byte must give a message, not a traceback."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors=errors)
        except (ValueError, OSError):
            pass
    return stream


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def main(session: Any = None, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Entry point of the interactive shell (``tockshell`` with no arguments).

    Interactive when stdin is a terminal and so is stdout, or stderr when
    stdout is redirected (``tockshell | tee session.log``: the prompt and the
    editing go to the terminal on stderr, the results into the pipe).
    Otherwise the piped mode of :func:`run_piped`. Returns the exit status.
    """
    stdin = _tolerant(sys.stdin, "replace") if stdin is None else stdin
    stdout = _tolerant(sys.stdout, "replace") if stdout is None else stdout
    _tolerant(sys.stderr, "backslashreplace")
    screen = None
    interactive = _is_terminal(stdin) and _is_terminal(stdout)
    if not interactive and _is_terminal(stdin) and stdout is sys.stdout and _is_terminal(sys.stderr):
        from prompt_toolkit.output import create_output

        screen = create_output(stdout=sys.stderr)
        interactive = True
    if session is None:
        from ..lang.session import Session

        session = Session(out=stdout, interactive=interactive)
    if hasattr(session, "interactive"):
        # `pause` waits for Enter only with someone at the keyboard, never
        # when the input is a script.
        session.interactive = interactive
    if not interactive:
        return run_piped(session, stdin, stdout, sys.stderr if stdout is sys.stdout else stdout)
    return Repl(session, stdout=stdout, output=screen).run()
