"""Breakpoints, catchpoints, watchpoints and displays, and where they stop a run.

One :class:`Debugger` per session (``session.plugin_state["debugger"]``). It
owns the table (:class:`Table`: numbered :class:`Breakpoint` entries and
displays) and connects it to the kernel only while something needs it, so a
session with no breakpoint pays nothing on the kernel's hot path:

* ``kernel.syscall_hook(p, action) -> bool`` is asked before the kernel
  handles an app's syscall; True keeps the syscall pending on the process
  (``p.pending_action``): it stays Running, the syscall not yet handled, and
  the next step hands it to the kernel without asking the app again;
* ``kernel.delivery_hook(p) -> bool`` is asked before an upcall is delivered;
  True leaves the task queued;
* a kernel listener sees every record (faults, restarts, dropped upcalls,
  syscall results, IPC calls) for catchpoints;
* a session stop check evaluates watch expressions after every event.

A shell-issued syscall of a manual process meets breakpoints through
``session.syscall_gate``: a match holds the statement's syscall (nothing is
handed to the kernel) until ``continue``.

A hit asks the running ``run``/``step`` to stop (``session.request_stop``);
the stop becomes ``$stop``. Outside a run (a shell syscall, a press) the
stop is reported when the statement ends.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from ..abi import ErrorCode, SyscallClass
from ..kernel.process import StateKind
from ..lang import ast
from ..lang.commands import Stop
from ..lang.errors import TshError
from ..lang.expr import evaluate, expr_text
from ..lang.values import Symbol, show, truthy, type_name
from ..records import Record

__all__ = ["Breakpoint", "Display", "Table", "Debugger", "syscall_text", "CLASS_NAMES", "IPC_DRIVERS",
           "CATCH_KINDS"]

#: Syscall class numbers by the words the shell uses (``break syscall p command``).
CLASS_NAMES = {0: "yield", 1: "subscribe", 2: "command", 3: "allow-rw", 4: "allow-ro", 5: "memop", 6: "exit",
               7: "allow-ur"}
#: The IPC capsules' driver numbers (``catch ipc``): legacy IPC, IPC Manager, Mailbox, registries, Relay.
IPC_DRIVERS = frozenset({0x10000, 0xA0100, 0xA0101, 0xA0000, 0xA0001, 0xA0010})
CATCH_KINDS = ("fault", "restart", "error", "dropped", "ipc")
_RESULT_AT = {"cmd": 4, "subscribe": 4, "allow_rw": 4, "allow_ro": 4, "allow_ur": 4, "memop": 2, "exit": 2}
#: Commands bodies run at most this many times in a row (a body that continues into itself).
MAX_COMMAND_CHAIN = 1000


def syscall_text(session, cls: int, regs: tuple) -> str:
    """A syscall as Tock's ``trace_syscalls`` would print it, without the result."""
    r0, r1, r2, r3 = regs
    board = session.board
    if cls == SyscallClass.COMMAND:
        return f"cmd({r0:#x}, {r1}, {r2:#x}, {r3:#x}) [{board.driver_name(r0)}]"
    if cls == SyscallClass.SUBSCRIBE:
        return f"subscribe({r0:#x}, {r1}, @{r2:#x}, {r3:#x}) [{board.driver_name(r0)}]"
    if cls in (SyscallClass.ALLOW_RW, SyscallClass.ALLOW_RO, SyscallClass.ALLOW_UR):
        name = {3: "read-write allow", 4: "read-only allow", 7: "userspace readable allow"}[cls]
        return f"{name}({r0:#x}, {r1}, @{r2:#x}, {r3}) [{board.driver_name(r0)}]"
    if cls == SyscallClass.MEMOP:
        return f"memop({r0}, {r1:#x})"
    if cls == SyscallClass.EXIT:
        return f"exit(which: {r0}, completion_code: {r1})"
    if cls == SyscallClass.YIELD:
        if r0 == 2:
            return f"yield. which: WaitFor {board.driver_name(r1)}/{r2}"
        return "yield. which: " + {0: "NoWait", 1: "Wait"}.get(r0, str(r0))
    return f"syscall class {cls} ({r0:#x}, {r1:#x}, {r2:#x}, {r3:#x})"


def syscall_driver(cls: int, regs: tuple) -> int | None:
    """The driver a syscall is addressed to (None for memop, exit and plain yields)."""
    if cls in (1, 2, 3, 4, 7):
        return regs[0]
    if cls == 0 and regs[0] == 2:
        return regs[1]
    return None


class Breakpoint(Record):
    """One numbered entry of the table: a breakpoint, a catchpoint or a watchpoint.

    ``kind`` is ``syscall`` or ``upcall`` (breakpoints), ``catch`` or ``watch``.
    ``old`` is, for a watch, the value last seen as (type name, shown text, value);
    ``text`` the statement that set it, as written (``info breakpoints``, ``save``).
    """

    __slots__ = ("number", "kind", "process", "cls", "driver", "upcall_num", "catch", "code", "expr", "condition",
                 "temporary", "enabled", "ignore", "hits", "commands", "commands_text", "old", "text")

    def __init__(self, number: int, kind: str, process: str | None = None, cls: int | None = None,
                 driver: int | None = None, upcall_num: int | None = None, catch: str | None = None,
                 code: ErrorCode | None = None, expr: Any = None, condition: Any = None, temporary: bool = False,
                 enabled: bool = True, ignore: int = 0, hits: int = 0, commands: tuple = (),
                 commands_text: tuple = (), old: Any = None, text: str = ""):
        self.number = number
        self.kind = kind
        self.process = process
        self.cls = cls
        self.driver = driver
        self.upcall_num = upcall_num
        self.catch = catch
        self.code = code
        self.expr = expr
        self.condition = condition
        self.temporary = temporary
        self.enabled = enabled
        self.ignore = ignore
        self.hits = hits
        self.commands = commands
        self.commands_text = commands_text
        self.old = old
        self.text = text

    @property
    def type_word(self) -> str:
        return {"syscall": "breakpoint", "upcall": "breakpoint", "catch": "catchpoint",
                "watch": "watchpoint"}[self.kind]


class Display(Record):
    """``display EXPR``: shown at every stop."""

    __slots__ = ("number", "expr", "text", "enabled")

    def __init__(self, number: int, expr: Any, text: str, enabled: bool = True):
        self.number = number
        self.expr = expr
        self.text = text
        self.enabled = enabled


class Table(Record):
    """Everything ``info breakpoints`` and ``info display`` list; copied whole by time travel."""

    __slots__ = ("breakpoints", "displays", "next_number", "next_display", "last_set")

    def __init__(self, breakpoints: dict | None = None, displays: dict | None = None, next_number: int = 1,
                 next_display: int = 1, last_set: int | None = None):
        self.breakpoints = {} if breakpoints is None else breakpoints
        self.displays = {} if displays is None else displays
        self.next_number = next_number
        self.next_display = next_display
        self.last_set = last_set

    def copy(self) -> "Table":
        # AST nodes are frozen and shared; everything else is copied.
        memo: dict = {}
        for bp in self.breakpoints.values():
            for node in (bp.expr, bp.condition, *bp.commands):
                if node is not None:
                    memo[id(node)] = node
        for d in self.displays.values():
            memo[id(d.expr)] = d.expr
        return copy.deepcopy(self, memo)


class Held(Record):
    """A shell-issued syscall a breakpoint stopped before the kernel handled it."""

    __slots__ = ("node", "process", "identifier", "cls", "regs", "number")

    def __init__(self, node: Any, process: str, identifier: int, cls: int, regs: tuple, number: int):
        self.node = node
        self.process = process
        self.identifier = identifier
        self.cls = cls
        self.regs = regs
        self.number = number


class _Unavailable:
    """A watched expression that cannot be evaluated now (its process is gone, ...)."""

    def __init__(self, message: str):
        self.message = message

    def __eq__(self, other):
        return isinstance(other, _Unavailable) and other.message == self.message

    def __hash__(self):
        return hash(self.message)


class Debugger:
    """The session's breakpoint table and its connection to the kernel (see the module docstring)."""

    def __init__(self, session):
        self.s = session
        self.table = Table()
        self.held: Held | None = None
        #: (identifier, ev): the upcall delivery a breakpoint stopped at, let through next time
        self.upcall_pass: tuple[int, int] | None = None
        self.pending_commands: tuple | None = None
        self.displayed: Any = None
        #: internal one-shot stops of next/finish/reverse-continue: callables (kind, p, info) -> Stop | None
        self.internal: list[Callable] = []
        #: set while a replay looks for the points where a table would have stopped
        self.observer: Callable | None = None
        self.bypass_gate = False
        self._kernel = None

    def reset_replayable(self) -> None:
        """Forget what statements built (the table, a held syscall): a replay builds it again."""
        self.table = Table()
        self.held = None
        self.upcall_pass = None
        self.pending_commands = None
        self.displayed = None
        self.internal = []
        self.bypass_gate = False

    # ------------------------------------------------------------------ kernel wiring
    def attach(self, kernel) -> None:
        """A new board: connect to its kernel."""
        self._kernel = kernel
        self.held = None
        self.upcall_pass = None
        self.sync()

    def _needs(self, kinds) -> bool:
        return any(bp.enabled and bp.kind in kinds for bp in self.table.breakpoints.values())

    def sync(self) -> None:
        """Install the kernel hooks that the table (and any internal stop) needs, and only those."""
        k = self.s.kernel
        if k is None:
            return
        extra = bool(self.internal) or self.observer is not None
        want_sys = extra or self._needs(("syscall",))
        want_up = extra or self._needs(("upcall",))
        want_catch = extra or self._needs(("catch",))
        want_watch = extra or self._needs(("watch",))
        if hasattr(k, "syscall_hook"):
            k.syscall_hook = self._syscall_hook if want_sys else None
            k.delivery_hook = self._delivery_hook if want_up else None
        if want_catch:
            if self._on_record not in k.listeners:
                k.listeners.append(self._on_record)
        elif self._on_record in k.listeners:
            k.listeners.remove(self._on_record)
        checks = self.s.stop_checks
        if want_watch:
            if self._watch_check not in checks:
                checks.append(self._watch_check)
        elif self._watch_check in checks:
            checks.remove(self._watch_check)

    # ------------------------------------------------------------------ the table
    def add(self, bp: Breakpoint) -> Breakpoint:
        bp.number = self.table.next_number
        self.table.next_number += 1
        self.table.breakpoints[bp.number] = bp
        self.table.last_set = bp.number
        self.sync()
        return bp

    def get(self, number: int, node=None) -> Breakpoint:
        bp = self.table.breakpoints.get(number)
        if bp is None:
            known = ", ".join(str(n) for n in self.table.breakpoints) or "none yet"
            raise TshError(f"no breakpoint number {number} (numbers in use: {known}; `info breakpoints` "
                           f"lists them)", getattr(node, "pos", None))
        return bp

    def delete(self, number: int) -> None:
        self.table.breakpoints.pop(number, None)
        if self.held is not None and self.held.number == number:
            pass  # the held syscall stays held: `continue` still hands it over
        self.sync()

    # ------------------------------------------------------------------ matching
    def _matches_syscall(self, bp: Breakpoint, name: str, cls: int, regs: tuple) -> bool:
        if bp.process is not None and bp.process != name:
            return False
        if bp.cls is not None and bp.cls != cls:
            return False
        if bp.driver is not None and syscall_driver(cls, regs) != bp.driver:
            return False
        return True

    def _condition(self, bp: Breakpoint, bindings: dict) -> tuple[bool, str | None]:
        """(holds, error message) with ``$syscall``/``$upcall`` bound while it is evaluated."""
        if bp.condition is None:
            return True, None
        vars_ = self.s.variables
        bindings = {k: v for k, v in bindings.items() if not k.startswith("_")}
        saved = {k: vars_[k] for k in bindings if k in vars_}
        vars_.update(bindings)
        try:
            return truthy(evaluate(self.s, bp.condition)), None
        except TshError as e:
            return True, f"error in the condition of {bp.type_word} {bp.number} ({expr_text(bp.condition)}): " \
                         f"{e.message}"
        finally:
            for k in bindings:
                if k in saved:
                    vars_[k] = saved[k]
                else:
                    vars_.pop(k, None)

    def _count(self, bp: Breakpoint, bindings: dict) -> tuple[bool, str | None]:
        """Whether ``bp`` stops at this matching point: condition, then ignore count, then hit count."""
        ok, err = self._condition(bp, bindings)
        if not ok:
            return False, None
        if err is None and bp.ignore > 0:
            bp.hits += 1
            bp.ignore -= 1
            return False, None
        bp.hits += 1
        return True, err

    def _hit(self, bp: Breakpoint, stop: Stop) -> Stop:
        if bp.temporary:
            self.table.breakpoints.pop(bp.number, None)
            stop.message += f" (temporary {bp.type_word} {bp.number} deleted)"
        if bp.commands:
            self.pending_commands = bp.commands
        self.sync()
        return stop

    def _request(self, stop: Stop) -> None:
        s = self.s
        if getattr(s, "_stop_request", None) is None:
            s.request_stop(stop)

    def _first_hit(self, candidates, bindings: dict, describe: Callable[[Breakpoint], str]) -> Stop | None:
        stop = None
        for bp in candidates:
            go, err = self._count(bp, bindings)
            if go and stop is None:
                kind = "catch" if bp.kind == "catch" else "watch" if bp.kind == "watch" else "break"
                msg = describe(bp)
                if err:
                    msg += f"; {err}"
                stop = self._hit(bp, Stop(kind, bindings.get("_process"), bp.number, msg))
        return stop

    # ------------------------------------------------------------------ syscalls
    def syscall_bindings(self, p, cls: int, regs: tuple) -> dict:
        return {"syscall": {"class": Symbol(CLASS_NAMES.get(cls, str(cls))), "number": cls,
                            "driver": syscall_driver(cls, regs), "r0": regs[0], "r1": regs[1],
                            "r2": regs[2], "r3": regs[3], "process": p.name},
                "_process": p.name}

    def check_syscall(self, p, cls: int, regs: tuple, where: str) -> Stop | None:
        """The stop a syscall of ``p`` meets before the kernel handles it, if any."""
        bps = [bp for bp in self.table.breakpoints.values()
               if bp.enabled and bp.kind == "syscall" and self._matches_syscall(bp, p.name, cls, regs)]
        text = syscall_text(self.s, cls, regs)
        if self.observer is not None:
            self.observer("syscall", p, (cls, regs))
        if bps:
            stop = self._first_hit(bps, self.syscall_bindings(p, cls, regs), lambda bp: f"breakpoint {bp.number}, {p.name}: {text} — {where}")
            if stop is not None:
                return stop
        for fn in list(self.internal):
            stop = fn("syscall", p, (cls, regs, text))
            if stop is not None:
                return stop
        return None

    def _syscall_hook(self, p, action) -> bool:
        cls, regs = action[1], (action[2] & 0xFFFF_FFFF, action[3] & 0xFFFF_FFFF, action[4] & 0xFFFF_FFFF,
                                action[5] & 0xFFFF_FFFF)
        if not isinstance(cls, int) or not all(isinstance(r, int) for r in action[2:]):
            return False
        stop = self.check_syscall(p, cls, regs, "not handled yet (Running; the next step hands it to "
                                                "the kernel)")
        if stop is None:
            return False
        self._request(stop)
        return True

    def gate(self, s, node, p, cls: int, regs: tuple) -> bool:
        """``session.syscall_gate``: hold a shell-issued syscall a breakpoint matches."""
        held = self.held
        if held is not None and held.process == p.name and held.identifier == p.identifier \
                and not self.bypass_gate:
            raise s.error(node, f"{p.name} is stopped at breakpoint {held.number} with "
                                f"{syscall_text(s, held.cls, held.regs)} not yet handled; `continue` hands it "
                                f"to the kernel")
        if self.bypass_gate or s.block_depth:
            return False
        if not any(bp.enabled and bp.kind == "syscall" for bp in self.table.breakpoints.values()) \
                and not self.internal and self.observer is None:
            return False
        stop = self.check_syscall(p, cls, regs, "held: the kernel has not handled it; `continue` hands it over")
        if stop is None:
            return False
        self.held = Held(node, p.name, p.identifier, cls, regs, stop.number or 0)
        self._request(stop)
        return True

    # ------------------------------------------------------------------ upcalls
    def next_delivery(self, p):
        """The task ``p``'s next delivery would take (None if it would deliver nothing)."""
        kind = p.state.kind
        if kind is StateKind.YIELDED:
            return p.tasks[0] if p.tasks else None
        if kind is StateKind.YIELDED_FOR:
            uid = p.state.wait_for
            for t in p.tasks:
                if t.kind != "IPC" and t.upcall_id == uid:
                    return t
        return None

    def upcall_bindings(self, p, t) -> dict:
        uid = getattr(t, "source", None) if t.kind == "FunctionCall" else getattr(t, "upcall_id", None)
        args = tuple(getattr(t, "args", ()) or ())
        return {"upcall": {"driver": None if uid is None else uid.driver_num,
                           "num": None if uid is None else uid.subscribe_num,
                           "args": args, "a0": args[0] if args else None,
                           "a1": args[1] if len(args) > 1 else None, "a2": args[2] if len(args) > 2 else None,
                           "fn": getattr(t, "pc", 0), "appdata": getattr(t, "appdata", 0),
                           "kind": Symbol(t.kind), "process": p.name},
                "_process": p.name}

    def upcall_text(self, p, t) -> str:
        from ..shell import render

        if t.kind == "FunctionCall":
            if t.source is None:
                return f"_start @{t.pc:#x}"
            name = render.upcall_name(self.s, t.source.driver_num, t.source.subscribe_num)
            return f"{name} {render.fn_name(self.s, p, t.pc)}({', '.join(f'{a:#x}' for a in t.args)})"
        if t.kind == "ReturnValue":
            name = render.upcall_name(self.s, t.upcall_id.driver_num, t.upcall_id.subscribe_num)
            return f"{name} ({', '.join(f'{a:#x}' for a in t.args)}) to yield-wait-for"
        return t.describe()

    def _upcall_matches(self, bp: Breakpoint, p, t) -> bool:
        if bp.process is not None and bp.process != p.name:
            return False
        if bp.driver is None:
            return True
        uid = t.source if t.kind == "FunctionCall" else getattr(t, "upcall_id", None)
        if uid is None:
            return False
        return uid.driver_num == bp.driver and (bp.upcall_num is None or uid.subscribe_num == bp.upcall_num)

    def _delivery_hook(self, p) -> bool:
        k = self.s.kernel
        mark = (p.identifier, k.ev)
        if self.upcall_pass == mark:
            self.upcall_pass = None
            return False
        t = self.next_delivery(p)
        if t is None or (t.kind == "ReturnValue" and p.state.kind is StateKind.YIELDED):
            return False  # a null-upcall event a plain yield drops: nothing is delivered
        if self.observer is not None:
            self.observer("upcall", p, t)
        bps = [bp for bp in self.table.breakpoints.values()
               if bp.enabled and bp.kind == "upcall" and self._upcall_matches(bp, p, t)]
        stop = None
        if bps:
            text = self.upcall_text(p, t)
            stop = self._first_hit(bps, self.upcall_bindings(p, t),
                                   lambda bp: f"breakpoint {bp.number}, {p.name}: about to deliver {text} — "
                                              f"still queued; the next step delivers it")
        if stop is None:
            for fn in list(self.internal):
                stop = fn("upcall", p, t)
                if stop is not None:
                    break
        if stop is None:
            return False
        self.upcall_pass = mark
        self._request(stop)
        return True

    # ------------------------------------------------------------------ catchpoints
    def _catch_event(self, rec) -> tuple[str, str, Any] | None:
        """(catch kind, sentence, error code) for a record a catchpoint could stop at."""
        kind, d = rec.kind, rec.data
        if kind == "fault":
            return "fault", f"{rec.name} faulted: {d[0]} (fault policy: {d[1]})", None
        if kind == "restart":
            return "restart", f"{rec.name} restarted as [{d[0]}] (restart count {d[1]})", None
        if kind == "schedule" and "QueueFull" in str(d[7]):
            from ..shell import render

            return "dropped", (f"upcall {render.upcall_name(self.s, d[0], d[1])} for {rec.name} dropped: its "
                               f"task queue is full"), None
        if kind == "ipc_dropped":
            caller = next((q.name for q in self.s.kernel.processes if q is not None and q.identifier == d[1]),
                          f"[{d[1]}]")
            return "dropped", (f"legacy IPC {d[0]} notify from {caller} to {rec.name} dropped: its task queue "
                               f"is full"), None
        return None

    def _on_record(self, rec) -> None:
        kind = rec.kind
        events = []
        ev = self._catch_event(rec)
        if ev is not None:
            events.append(ev)
        i = _RESULT_AT.get(kind)
        r = None
        if i is not None:
            r = rec.data[i] if len(rec.data) > i else None
        elif kind == "filtered":
            r = rec.data[1]
        err = getattr(r, "error", None) if r is not None and not isinstance(r, ErrorCode) else r
        if err is not None:
            from ..kernel import trace

            line = trace.trace_line(rec) or trace.describe(rec)
            events.append(("error", f"{rec.name}: {line.split('] ', 1)[-1]}", err))
        if kind in ("cmd", "subscribe", "allow_rw", "allow_ro", "allow_ur") and rec.data[0] in IPC_DRIVERS:
            from ..kernel import trace

            events.append(("ipc", f"{rec.name}: {trace.trace_line(rec).split('] ', 1)[-1]}", None))
        if not events:
            return
        if self.observer is not None:
            for e in events:
                self.observer("catch", rec, e)
        for ckind, text, code in events:
            bps = [bp for bp in self.table.breakpoints.values()
                   if bp.enabled and bp.kind == "catch" and bp.catch == ckind
                   and (bp.process is None or bp.process == rec.name)
                   and (ckind != "error" or bp.code == code)]
            if not bps:
                continue
            stop = self._first_hit(bps, {"_process": rec.name},
                                   lambda bp: f"catchpoint {bp.number} ({_catch_word(bp)}), {text}")
            if stop is not None:
                self._request(stop)
                return

    # ------------------------------------------------------------------ watchpoints
    def value_of(self, expr) -> Any:
        """(type, shown, value) of a watched expression, or an _Unavailable."""
        try:
            v = evaluate(self.s, expr)
        except TshError as e:
            return _Unavailable(e.message)
        return (type_name(v), show(v), v)

    @staticmethod
    def shown(value) -> str:
        return f"<{value.message}>" if isinstance(value, _Unavailable) else value[1]

    @staticmethod
    def _same(a, b) -> bool:
        if isinstance(a, _Unavailable) or isinstance(b, _Unavailable):
            return a == b
        return a[0] == b[0] and a[1] == b[1]

    def check_watches(self) -> Stop | None:
        """Evaluate every enabled watchpoint; the stop of the first that changed (all are brought up to date)."""
        stop = None
        for bp in list(self.table.breakpoints.values()):
            if not (bp.enabled and bp.kind == "watch"):
                continue
            new = self.value_of(bp.expr)
            old = bp.old
            if self._same(old, new):
                continue
            bp.old = new
            if self.observer is not None:
                self.observer("watch", bp, (old, new))
            proc = _process_in(self.s, bp.expr)
            go, err = self._count(bp, {"_process": proc})
            if go and stop is None:
                msg = (f"watchpoint {bp.number}: {bp.text} changed: {self.shown(old)} → {self.shown(new)}"
                       + (f"; {err}" if err else ""))
                stop = self._hit(bp, Stop("watch", proc, bp.number, msg))
        return stop

    def refresh_watches(self) -> None:
        """Take every watch's current value as its old value (after time travel: no spurious stop)."""
        for bp in self.table.breakpoints.values():
            if bp.kind == "watch":
                bp.old = self.value_of(bp.expr)

    def _watch_check(self, s) -> Stop | None:
        return self.check_watches()

    # ------------------------------------------------------------------ displays
    def show_displays(self, force: bool = False) -> None:
        s = self.s
        for d in self.table.displays.values():
            if not d.enabled and not force:
                continue
            v = self.value_of(d.expr)
            s.say(f"{d.number}: {d.text} = {self.shown(v)}")


def definition_text(bp: Breakpoint) -> str:
    """A statement that sets ``bp`` again (without its condition, ignore count or commands)."""
    if bp.kind == "watch":
        return f"watch {expr_text(bp.expr)}"
    if bp.kind == "catch":
        code = f" {bp.code.name}" if bp.catch == "error" and bp.code is not None else ""
        proc = f" {bp.process}" if bp.process else ""
        return f"catch {bp.catch}{code}{proc}"
    words = ["tbreak" if bp.temporary else "break", bp.kind]
    if bp.process:
        words.append(bp.process)
    if bp.kind == "syscall":
        if bp.cls is not None:
            words.append(CLASS_NAMES.get(bp.cls, str(bp.cls)))
        elif bp.driver is not None:
            words.append("any")
        if bp.driver is not None:
            words.append(f"{bp.driver:#x}")
    elif bp.driver is not None:
        words += [f"{bp.driver:#x}", str(bp.upcall_num if bp.upcall_num is not None else 0)]
    return " ".join(words)


def what_text(session, bp: Breakpoint) -> str:
    """The ``What`` column of ``info breakpoints``."""
    if bp.kind == "watch":
        return f"{bp.text} = {Debugger.shown(bp.old) if bp.old is not None else '?'}"
    if bp.kind == "catch":
        return _catch_word(bp) + (f" in {bp.process}" if bp.process else "")
    parts = [bp.kind]
    if bp.kind == "syscall":
        if bp.cls is not None:
            parts.append(CLASS_NAMES.get(bp.cls, str(bp.cls)))
        if bp.driver is not None:
            parts.append(session.board.driver_name(bp.driver) if session.board.driver(bp.driver) else f"{bp.driver:#x}")
    elif bp.driver is not None:
        from ..shell import render

        parts.append(render.upcall_name(session, bp.driver, bp.upcall_num or 0))
    if bp.process:
        parts.append(f"in {bp.process}")
    return " ".join(parts)


def _catch_word(bp: Breakpoint) -> str:
    if bp.catch == "error":
        return f"error {bp.code.name}" if bp.code is not None else "error"
    return bp.catch or "?"


def _process_in(session, expr) -> str | None:
    """The first process an expression names (a watch's ``$stop.process``)."""
    names = {p.name for p in session.kernel.live_processes()}
    for node in ast.walk(expr):
        if isinstance(node, ast.Name):
            parts = node.parts
            for i in range(len(parts), 0, -1):
                if ".".join(parts[:i]) in names:
                    return ".".join(parts[:i])
    return None
