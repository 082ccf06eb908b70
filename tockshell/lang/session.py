"""A tsh session: one board, the shell user's state, and the statement executor.

The REPL and the batch runner both drive a :class:`Session`::

    s = Session(out=sys.stdout)
    s.execute('spawn client ram=4k\\nclient: command console 0')
    s.run_file("scenarios/hello.tsh")
    s.prompt()    # '[t=11.718us ev=4] tsh> '
    s.toolbar()   # virtual time, events, processes by state, board

What the session owns besides the kernel: variables and ``$_``; the last
stop (``$stop``); for each manual process the shell user drives, a bump
allocator for ``alloc`` and literal buffers (from crt0's heap start) and the
``@label`` addresses given to upcall handlers (stable, in the process's flash
after the protected header, thumb bit set); the include stack; ``params``
(``-p NAME=V``); the ``trace`` switch; the event limit of unbounded runs
(``run.max_events``); and the interrupt flag Ctrl-C raises.

Errors a user causes are :class:`~tockshell.lang.errors.TshError` with the
statement's position; ``execute`` raises the first one and the session stays
usable. ``quit`` raises :class:`Quit`.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import os
import sys
from typing import Any, Callable, TextIO

from ..board import build_board
from ..kernel import KernelAPIError, KernelPanic, MemoryFault, trace
from ..kernel import gcpolicy
from ..kernel.grant import GrantError
from . import ast
from .commands import BOARD_HOOKS, Stop, handler_for
from .errors import TshError, TshSyntaxError, panic_hint, suggestion
from .values import ResultValue, format_time

__all__ = ["Session", "Quit", "ExpectFailed", "TshFileError", "read_script", "PLUGIN_MODULES", "MAX_FILE_BYTES", "LABEL_STRIDE"]

#: Modules that add statements, spawn keys, config keys or fields when they exist.
PLUGIN_MODULES = (
    "tockshell.lang.cmd_ipc",
    "tockshell.lang.cmd_radio",
    "tockshell.lang.cmd_thread",
    "tockshell.debugger.commands",
    "tockshell.userland.commands",
    "tockshell.tbf.commands",
)

#: Script files larger than this are refused (a .tsh file is text a person writes).
MAX_FILE_BYTES = 10 * 1024 * 1024
#: Distance between two @label addresses in a process's flash.
LABEL_STRIDE = 0x10
#: Default event limit of a `run` with no time bound.
DEFAULT_MAX_EVENTS = 1_000_000
MAX_INCLUDE_DEPTH = 16
#: Statements between two collections of the young generation while a script runs.
_COLLECT_EVERY = 20_000


class Quit(Exception):
    """``quit``: stop executing; ``code`` is the exit status asked for."""

    def __init__(self, code: int = 0):
        super().__init__("quit")
        self.code = code


class ExpectFailed(TshError):
    """An ``expect`` that did not hold (``tockshell run`` exits 1)."""


class TshFileError(TshError):
    """A script that cannot be read: missing, unreadable, binary, not UTF-8, too big (exit 2)."""


class _ShellProcess:
    """What the shell user owns of one manual process: heap pointer and labels."""

    __slots__ = ("identifier", "heap_next", "labels")

    def __init__(self):
        self.identifier = None
        self.heap_next = 0
        self.labels: dict[str, int] = {}


_plugins_loaded = False


def load_plugins() -> list[str]:
    """Import the plugin modules that exist; the names of those loaded."""
    global _plugins_loaded
    from . import interpreter  # noqa: F401 - registers the core statements

    loaded = []
    for mod in PLUGIN_MODULES:
        try:
            importlib.import_module(mod)
            loaded.append(mod)
        except ModuleNotFoundError as e:
            # Only a missing plugin is skipped; a plugin's own broken import is a bug to see.
            if e.name is None or not mod.startswith(e.name):
                raise
    _plugins_loaded = True
    return loaded


class _Capture:
    """``with session.capture() as recs``: a class, not a generator, as every statement opens two."""

    __slots__ = ("captures", "recs")

    def __init__(self, captures: list, recs):
        self.captures = captures
        self.recs = recs

    def __enter__(self):
        self.captures.append(self.recs)
        return self.recs

    def __exit__(self, *exc) -> None:
        # By identity: list.remove compares deques by content, and a nested capture that saw
        # the same records as its parent (a demo's statements on a fresh board) is equal to it.
        caps = self.captures
        for i in range(len(caps) - 1, -1, -1):
            if caps[i] is self.recs:
                del caps[i]
                break


class Session:
    """Board + kernel + the shell user's state; executes tsh text."""

    def __init__(self, board: str = "default", out: TextIO | None = None, interactive: bool = False,
                 params: dict[str, str] | None = None):
        self.out = out if out is not None else sys.stdout
        self.interactive = interactive
        self.params: dict[str, str] = dict(params or {})
        self.params_used: set[str] = set()
        self.variables: dict[str, Any] = {}
        self.last_result: Any = None
        self.last_stop: Stop | None = None
        #: (ev, message, by): by is "shell", "loader" (a spawn Tock would not load) or "panic".
        self.last_refusal: tuple[int, str, str] | None = None
        self.last_records: list = []  # the newest kernel records of the last statement that made any
        self.interrupted = False
        self.pause_hook: Callable[[str], None] | None = None
        self.trace_on = False
        self.max_events = DEFAULT_MAX_EVENTS
        self.stop_checks: list[Callable[["Session"], Stop | None]] = []
        self.include_stack: list[str] = []
        self.sources: dict[str, str] = {}
        self.scheduled: list[Any] = []  # at/every handles of this board
        self.block_depth = 0  # > 0 while an at/every body runs inside the kernel loop
        self.live = False  # print events as they happen (run, step, press...)
        self.show_events = True  # `config run.events = off`: long runs in scenarios print no event lines
        self.in_syscall = False  # a shell-issued syscall is being handled (it sets $_ itself)
        self._captures: list[list] = []
        self._held: list = []  # (record, text) lines waiting for their hardware event to finish
        self._stop_request: Stop | None = None
        self._procs: dict[str, _ShellProcess] = {}
        self.plugin_state: dict[str, Any] = {}
        # Debugger hooks (tockshell.debugger): every statement goes through statement_wrapper(node, run)
        # when set (the timeline time travel replays); syscall_gate(session, node, p, cls, regs) -> True
        # holds a shell-issued syscall at a breakpoint instead of handing it to the kernel.
        self.statement_wrapper: Callable[[Any, Callable[[Any], Any]], Any] | None = None
        self.syscall_gate: Callable[..., bool] | None = None
        self.name_sources: dict[str, Callable[[], Any]] = {}
        self.board = None
        self.kernel = None
        if not _plugins_loaded:
            load_plugins()
        self.new_board(board)

    # ------------------------------------------------------------------ board
    def new_board(self, name: str = "default") -> None:
        """Start over on a fresh board (processes, time and trace start over; variables stay)."""
        try:
            board = build_board(name)
        except KernelAPIError as e:
            raise TshError(str(e)) from None
        for h in self.scheduled:
            h.cancel()
        self.scheduled = []
        self.board = board
        self.kernel = board.kernel
        self.kernel.listeners.append(self._on_record)
        self._procs = {}
        self.last_result = None
        self.last_stop = None
        self.last_refusal = None
        self.last_records = []
        for hook in list(BOARD_HOOKS):
            hook(self)

    # ------------------------------------------------------------------ output
    def say(self, text: str = "") -> None:
        """Print one or more lines to the session's sink."""
        if self._held:
            self.flush_events()
        self.out.write(text + "\n")

    def flush_events(self) -> None:
        """Print the event lines held back for a hardware event whose sentence was not known yet."""
        held, self._held = self._held, []
        from ..shell import render

        for rec, text, raw in held:
            line = text if raw else render.event_line(self, rec, text)
            if line:
                self.out.write(line + "\n")

    def error(self, node, message: str) -> TshError:
        """A TshError at ``node`` (or at the statement being executed)."""
        return TshError(message, getattr(node, "pos", None))

    def _on_record(self, rec) -> None:
        for cap in self._captures:
            cap.append(rec)
        if self.live:
            # A hardware event's sentence is the handler's return value, known only after the
            # records the handler makes: hold its line (and theirs) until the event is over.
            from ..shell import render

            if self._held and (rec.kind == "hw" or rec.ev != self._held[0][0].ev):
                self.flush_events()
            if rec.kind == "hw":
                self._held.append((rec, None, False))
            elif self._held:
                text = render.event_text(self, rec)
                if text is not None:
                    self._held.append((rec, text, False))
            else:
                line = render.event_line(self, rec)
                if line:
                    self.say(line)
        if self.trace_on:
            line = trace.trace_line(rec)
            if line:
                if self._held:
                    self._held.append((rec, "    " + line, True))
                else:
                    self.say("    " + line)
        if rec.kind in ("waitfor_nu", "waitfor_suppressed") and not self.in_syscall:
            # A manual process's yield-wait-for satisfied by run/step: $_ gets the upcall's arguments.
            p = self.find_process(rec.name)
            if p is not None and p.program is None and p.state.wait_for is not None:
                args = rec.data[:3] if rec.kind == "waitfor_nu" else rec.data[1:4]
                from ..abi import YieldWaitForReturn

                uid = p.state.wait_for
                self.last_result = ResultValue(YieldWaitForReturn(tuple(args)),
                                               (2, uid.driver_num, uid.subscribe_num, 0))

    def capture(self, tail: int | None = None) -> "_Capture":
        """Collect the kernel records made inside the block (nested captures see them too).

        ``tail`` keeps only the newest records (for statements that may run millions of events).
        """
        return _Capture(self._captures, [] if tail is None else collections.deque(maxlen=tail))

    @contextlib.contextmanager
    def live_events(self, on: bool = True):
        """Print records as event lines inside the block (run, step, press, console input)."""
        old = self.live
        if self._held:
            self.flush_events()
        self.live = on and self.show_events
        try:
            yield
        finally:
            if self._held:
                self.flush_events()
            self.live = old

    # ------------------------------------------------------------------ executing
    def execute(self, text: str, file: str = "<stdin>") -> list:
        """Parse and run ``text``; the statements' values. Raises the first TshError."""
        from .parser import parse

        self.sources[file] = text
        with gcpolicy.hold():  # (see run_program)
            program = parse(text, file)
            return self.run_program(program)

    def run_program(self, program: ast.Program) -> list:
        # Statements leave history entries and records behind: hold the automatic collector
        # and collect the young generation now and then (see kernel/gcpolicy.py).
        with gcpolicy.hold():
            results = []
            for i, st in enumerate(program.statements, 1):
                results.append(self.exec_statement(st))
                if i % _COLLECT_EVERY == 0:
                    gcpolicy.young()
            return results

    def exec_statement(self, node) -> Any:
        """Run one statement through the command registry; kernel refusals become TshErrors."""
        if self.statement_wrapper is not None:
            return self.statement_wrapper(node, self._exec_statement)
        return self._exec_statement(node)

    def _exec_statement(self, node) -> Any:
        handler = handler_for(type(node))
        if handler is None:
            raise self.error(node, f"`{self._verb(node)}` is not available yet")
        try:
            with self.capture(tail=256) as recs:
                value = handler(self, node)
            if recs and not self.block_depth:
                self.last_records = list(recs)
            return value
        except (Quit, ExpectFailed, TshSyntaxError, TshFileError):
            raise
        except TshError as e:
            if e.pos is None:
                e.pos = node.pos
            self.last_refusal = (self.kernel.ev, e.message, _refused_by(node))
            raise
        except KernelPanic as e:
            msg = f"{e}; {panic_hint(self.board.name)}"
            self.last_refusal = (self.kernel.ev, msg, "panic")
            raise TshError(msg, node.pos) from None
        except (KernelAPIError, MemoryFault) as e:
            self.last_refusal = (self.kernel.ev, str(e), _refused_by(node))
            raise TshError(str(e), _blamed_pos(node, str(e))) from None
        except GrantError as e:
            raise TshError(f"grant error: {e.kind}", node.pos) from None
        except RecursionError:
            raise TshError("nested too deeply (an expression or blocks within blocks): split it up",
                           node.pos) from None

    def run_file(self, path: str, echo: bool = False) -> list:
        """Run a .tsh file (relative paths from the current directory); TshError if it cannot be read."""
        text = read_script(path)
        return self._run_source(text, path, echo)

    def _run_source(self, text: str, path: str, echo: bool = False, pos=None) -> list:
        from .parser import parse

        key = os.path.abspath(path)
        if key in self.include_stack:
            chain = " → ".join(os.path.basename(p) for p in self.include_stack + [key])
            raise TshError(f"include cycle: {chain}", pos)
        if len(self.include_stack) >= MAX_INCLUDE_DEPTH:
            raise TshError(f"includes nested more than {MAX_INCLUDE_DEPTH} deep", pos)
        self.sources[path] = text
        with gcpolicy.hold():  # parsing and running leave objects behind: as in run_program
            program = parse(text, path)
            self.include_stack.append(key)
            try:
                return self._run_statements(program, text, text.splitlines(), echo)
            finally:
                self.include_stack.pop()

    def _run_statements(self, program: ast.Program, text: str, lines: list[str], echo: bool) -> list:
        results = []
        shown = 0  # source lines already shown (echo mode)
        for i, st in enumerate(program.statements, 1):
            if i % _COLLECT_EVERY == 0:
                gcpolicy.young()
            if echo and st.pos is not None:
                # A demo shows the scenario's comments, then each statement as if typed.
                comments = [ln.strip() for ln in lines[shown:st.pos.line - 1] if ln.strip().startswith("#")]
                if comments:
                    self.say("\n".join(comments))
                typed = " ".join(st.pos.text(text).split())
                rest = lines[st.pos.end_line - 1][st.pos.end_column - 1:] if st.pos.end_line <= len(lines) else ""
                if rest.strip().startswith("#"):
                    typed += "   " + rest.strip()
                self.say(self.prompt() + typed)
                shown = max(shown, st.pos.end_line)
            results.append(self.exec_statement(st))
            if echo:
                self.say()
        return results

    def _verb(self, node) -> str:
        """The statement's first word as written (for messages), else its kind."""
        pos = getattr(node, "pos", None)
        src = self.sources.get(pos.file) if pos is not None else None
        if src:
            words = pos.text(src).split()
            if words:
                return words[0]
        return _verb(node)

    # ------------------------------------------------------------------ processes
    def find_process(self, name: str | None):
        if name is None:
            return None
        for p in self.kernel.processes:
            if p is not None and p.name == name:
                return p
        return None

    def process(self, name_node):
        """The process a statement names (a Name node or a str); a did-you-mean error otherwise."""
        name = name_node.name if isinstance(name_node, ast.Name) else str(name_node)
        p = self.find_process(name)
        if p is None:
            names = [q.name for q in self.kernel.live_processes()]
            hint = "" if names else " (no process yet: `spawn NAME` creates one)"
            raise self.error(name_node, suggestion("process", name, names) + hint)
        return p

    def _shell(self, p) -> _ShellProcess:
        sp = self._procs.get(p.name)
        if sp is None:
            sp = self._procs[p.name] = _ShellProcess()
        if sp.identifier != p.identifier:
            # A new instance (restart, boot): its heap starts over; its flash, hence labels, stays.
            sp.identifier = p.identifier
            sp.heap_next = self.kernel.crt0_layout(p)[1]
        return sp

    def heap_next(self, p) -> int:
        """The next address ``alloc`` hands out in ``p``'s heap."""
        return self._shell(p).heap_next

    def alloc(self, p, n: int, node=None) -> int:
        """Bump-allocate ``n`` bytes (4-byte aligned) below ``p``'s app break."""
        sp = self._shell(p)
        addr = sp.heap_next
        if addr + n > p.app_break:
            left = max(0, p.app_break - addr)
            if p.program is not None:
                how = f"{p.name} runs an app: its break moves with the app's own memops"
            elif p.state.kind.name == "RUNNING":
                how = f"grow it with `{p.name}: memop brk ADDR`"
            else:
                how = f"{p.name} is {p.state.name}; once Running, `{p.name}: memop brk ADDR` grows it"
            if addr >= p.app_break:
                # A raw process (crt0 not run) or an app before its first syscalls: no heap below the break.
                where = "at" if addr == p.app_break else "above"
                raise self.error(node, f"{p.name} has no heap yet: the heap starts at {addr:#x}, {where} the app "
                                       f"break {p.app_break:#x} ({how})")
            raise self.error(node, f"{p.name}'s heap is full: {n} bytes asked at {addr:#x}, {left} left below "
                                   f"the app break {p.app_break:#x} ({how})")
        sp.heap_next = addr + (n + 3) // 4 * 4
        return addr

    def label_address(self, p, label: str, node=None) -> int:
        """The stable flash address of ``@label`` in ``p`` (``init_fn + 0x10*k``, thumb bit set)."""
        sp = self._shell(p)
        if label == "_start":
            return p.flash_start + p.init_fn_offset
        addr = sp.labels.get(label)
        if addr is None:
            base = p.flash_start + p.init_fn_offset
            addr = (base + LABEL_STRIDE * (len(sp.labels) + 1)) | 1
            if addr + 4 > p.flash_end:
                raise self.error(node, f"no room left in {p.name}'s flash for label @{label} "
                                       f"({len(sp.labels)} labels so far; spawn it with a larger flash=)")
            sp.labels[label] = addr
        return addr

    def label_for(self, p, addr: int) -> str | None:
        """The label whose address is ``addr`` in ``p``, if any."""
        if p is None:
            return None
        sp = self._procs.get(p.name)
        if sp is not None:
            for name, a in sp.labels.items():
                if a == addr:
                    return name
        if addr == p.flash_start + p.init_fn_offset:
            return "_start"
        namer = getattr(p.program, "handler_name", None)
        if namer is not None:
            try:
                return namer(addr)
            except Exception:  # noqa: BLE001 - a name is a nicety; an app's bug must not break a view
                return None
        return None

    def labels_of(self, p) -> dict[str, int]:
        sp = self._procs.get(p.name)
        return dict(sp.labels) if sp is not None else {}

    # ------------------------------------------------------------------ running
    def interrupt(self) -> None:
        """Ctrl-C: long runs stop between two events."""
        self.interrupted = True

    def request_stop(self, stop: Stop) -> None:
        """Ask the current run or step to stop after the event in progress (for debugger hooks)."""
        self._stop_request = stop

    def check_stop(self) -> Stop | None:
        """Whether a run should stop now: interrupt, a requested stop, or a stop check."""
        if self.interrupted:
            return Stop("interrupt", message="interrupted")
        if self._stop_request is not None:
            s, self._stop_request = self._stop_request, None
            return s
        for check in self.stop_checks:
            s = check(self)
            if s is not None:
                return s
        return None

    def pause(self, message: str = "") -> None:
        """``pause``: wait for Enter when interactive; nothing in batch."""
        if not self.interactive:
            return
        if self.pause_hook is not None:
            self.pause_hook(message)
            return
        try:
            input(message or "-- paused; press Enter to go on -- ")
        except EOFError:
            pass

    # ------------------------------------------------------------------ REPL helpers
    def prompt(self) -> str:
        """``[t=0us ev=0] tsh> ``."""
        return f"[t={format_time(self.kernel.now)} ev={self.kernel.ev}] tsh> "

    def toolbar(self) -> str:
        """One line: virtual time, events, processes by state, board."""
        k = self.kernel
        counts: dict[str, int] = {}
        for p in k.live_processes():
            counts[p.state.name] = counts.get(p.state.name, 0) + 1
        procs = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no processes"
        extra = "  │  PANICKED" if k.panicked else ""
        tr = "  │  trace on" if self.trace_on else ""
        return f"t={format_time(k.now)}  ev={k.ev}  │  {procs}  │  board {self.board.name}{tr}{extra}"

    @property
    def names(self):
        """Live names for the completer (see tockshell/lang/completion.py)."""
        return SessionNames(self)


class SessionNames:
    """The names provider ``tockshell.lang.completion.complete`` asks for live names.

    A plugin's ``session.name_sources[kind]`` wins over the built-in answer for that kind.
    """

    def __init__(self, session: Session):
        self._s = session

    def __getattribute__(self, name: str):
        if not name.startswith("_"):
            src = object.__getattribute__(self, "_s").name_sources.get(name)
            if src is not None:
                return src
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return ()

    @property
    def processes(self) -> dict[str, str]:
        k = self._s.kernel
        return {p.name: p.state.name for p in k.live_processes()}

    @property
    def drivers(self) -> dict[str, str]:
        return {name: f"{d.driver_num:#x}" for name, d in self._s.board.drivers_by_name.items()}

    @property
    def variables(self) -> list[str]:
        return [*self._s.variables, "_", "stop"]

    @property
    def config_keys(self) -> dict[str, str]:
        from .interpreter import all_config_keys

        return all_config_keys(self._s)


    @property
    def scenarios(self) -> dict[str, str]:
        from .interpreter import scenario_list

        return dict(scenario_list())

    @property
    def boards(self) -> list[str]:
        from ..board import BOARDS

        return sorted(BOARDS)

    @property
    def apps(self) -> list[str]:
        try:
            from ..userland.apps import APPS
        except ImportError:
            return []
        return sorted(APPS)

    @property
    def help_topics(self) -> list[str]:
        from .help import topics

        return topics()

    def labels(self, process: str) -> list[str]:
        p = self._s.find_process(process)
        return ["@" + n for n in self._s.labels_of(p)] if p is not None else []

    def config_values(self, key: str) -> list[str]:
        from .interpreter import CONFIG_VALUE_WORDS

        return list(CONFIG_VALUE_WORDS.get(key, ()))


def _refused_by(node) -> str:
    """Who refused a statement, for `explain`: a spawn is refused by the process loader (header,
    credentials, MPU, memory), anything else by the shell before the kernel saw a syscall."""
    return "loader" if isinstance(node, ast.Spawn) else "shell"


def _blamed_pos(node, message: str):
    """Where a kernel refusal points: at the process named in the statement when the message is
    about it (``stop y`` → "y is Terminated; ..."), else at the statement."""
    proc = getattr(node, "process", None)
    name = getattr(proc, "name", None)
    if isinstance(name, str) and getattr(proc, "pos", None) is not None and message.startswith(name + " "):
        return proc.pos
    return node.pos


def _verb(node) -> str:
    name = type(node).__name__
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i:
            out.append(" ")
        out.append(c.lower())
    return "".join(out)


def read_script(path: str, pos=None) -> str:
    """A script's text; TshError for a missing, unreadable, binary or huge file."""
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        raise TshFileError(f"no such file: {path}", pos) from None
    except OSError as e:
        raise TshFileError(f"cannot read {path}: {e.strerror or e}", pos) from None
    if os.path.isdir(path):
        raise TshFileError(f"{path} is a directory, not a .tsh file", pos)
    if size > MAX_FILE_BYTES:
        raise TshFileError(f"{path} is {size} bytes; a .tsh file may be at most {MAX_FILE_BYTES} bytes", pos)
    try:
        # Opened without blocking: a FIFO nobody writes to then reads as empty instead of
        # hanging the run (a pipe that has a writer, `run <(...)`, reads as usual).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as f:
            if getattr(os, "O_NONBLOCK", 0):
                os.set_blocking(fd, True)
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise TshFileError(f"cannot read {path}: {e.strerror or e}", pos) from None
    if len(data) > MAX_FILE_BYTES:  # a device or a pipe has no size to check beforehand
        raise TshFileError(f"{path} holds more than {MAX_FILE_BYTES} bytes; a .tsh file may be at most "
                           f"{MAX_FILE_BYTES} bytes", pos)
    if b"\0" in data:
        raise TshFileError(f"{path} is a binary file (it contains NUL bytes), not a .tsh script", pos)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TshFileError(f"{path} is not UTF-8 text (byte {e.start} is {data[e.start]:#04x})", pos) from None
    return text.lstrip("\ufeff")
