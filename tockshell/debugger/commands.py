"""The debugger's statements: a plugin of the language (imported by the session when it exists).

Breakpoints and friends (``break``, ``tbreak``, ``catch``, ``watch``,
``display``, ``info``, ``delete``/``disable``/``enable``, ``condition``,
``ignore``, ``commands``), stepping (``continue``, ``next p``, ``finish``),
time travel (``checkpoint``, ``restore``, ``diff``, ``rewind``, ``goto``,
``reverse-step``, ``reverse-continue``), ``save``, ``record`` and the
pictures (``export perfetto|mermaid``, ``timeline``). Semantics follow gdb
and rr at the granularity of syscalls and upcalls; see docs/debugger.md.
"""

from __future__ import annotations

import io
import os
from typing import Any

from ..abi import ErrorCode
from ..lang import ast
from ..lang.commands import Stop, board_hook, statement
from ..lang.errors import suggestion
from ..lang.expr import evaluate_int, expr_text
from ..lang.values import format_time
from .breakpoints import Breakpoint, Debugger, Display, syscall_text, what_text
from .history import Entry, HoldEntry, History

__all__ = ["debugger_of", "history_of", "HELP"]

_KEY = "debugger"


class _State:
    __slots__ = ("dbg", "history")

    def __init__(self, session):
        self.dbg = Debugger(session)
        self.history = History(self.dbg)
        self.dbg.history = self.history


def _state(s) -> _State:
    st = s.plugin_state.get(_KEY)
    if st is None:
        st = s.plugin_state[_KEY] = _State(s)
    return st


def debugger_of(session) -> Debugger:
    """The session's :class:`~tockshell.debugger.breakpoints.Debugger`."""
    return _state(session).dbg


def history_of(session) -> History:
    """The session's :class:`~tockshell.debugger.history.History`."""
    return _state(session).history


@board_hook
def _on_board(s) -> None:
    st = _state(s)
    st.history.epoch += 1
    if hasattr(s, "statement_wrapper"):
        s.statement_wrapper = st.history.wrap
    if hasattr(s, "syscall_gate"):
        s.syscall_gate = st.dbg.gate
    st.dbg.attach(s.kernel)
    s.name_sources["breakpoints"] = lambda: {str(n): what_text(s, bp)
                                             for n, bp in st.dbg.table.breakpoints.items()}
    s.name_sources["checkpoints"] = lambda: {cp.name: f"ev={cp.ev}" for cp in st.history.checkpoints.values()}


# ================================================================== helpers
def _code_pos(s, node):
    """A node-like holder of where the error code of ``catch error CODE`` stands (the parser keeps
    no position for it); ``node`` itself if it cannot be found."""
    pos = node.pos
    src = s.sources.get(pos.file) if pos is not None else None
    if not src:
        return node
    line = ast._source_lines(src)[pos.line - 1] if pos.line <= len(ast._source_lines(src)) else ""
    at = line.find("error", pos.column - 1)
    if at < 0:
        return node
    rest = line[at + len("error"):]
    word = rest.lstrip().split(None, 1)[0] if rest.strip() else ""
    col = at + len("error") + (len(rest) - len(rest.lstrip())) + 1
    return _At(ast.Pos(pos.file, pos.line, col, pos.line, col + len(word))) if word else node


class _At:
    """Stands for a node where only a position is known (``s.error`` reads ``.pos``)."""

    __slots__ = ("pos",)

    def __init__(self, pos: Any):
        self.pos = pos


def _text(s, node) -> str:
    pos = node.pos
    if pos is not None and s.sources.get(pos.file):
        t = pos.text(s.sources[pos.file]).strip()
        if t:
            return " ".join(t.split())
    return type(node).__name__.lower()


def _proc_name(s, name_node, what: str = "breakpoint") -> str | None:
    """The process a breakpoint names; one that does not exist yet is allowed (gdb's pending breakpoint)."""
    if name_node is None:
        return None
    name = name_node.name
    if s.find_process(name) is None:
        import difflib  # only for a breakpoint on a process not there yet: not a start-up cost

        close = difflib.get_close_matches(name, [p.name for p in s.kernel.live_processes()], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        s.say(f"  note: no process named '{name}' yet{hint}; the {what} waits for one of that name")
    return name


def _driver(s, d) -> int | None:
    if d is None:
        return None
    from ..lang.interpreter import driver_number

    return driver_number(s, d)


def _numbers(s, nodes) -> list[int]:
    return [evaluate_int(s, e, "a breakpoint number") for e in nodes]


def _guard_travel(s, n) -> History:
    h = history_of(s)
    if s.block_depth:
        raise s.error(n, f"`{_text(s, n).split()[0]}` cannot be used inside an at/every block: time travel "
                         f"replaces the run the block is part of")
    if h.replaying or h.depth > 1:
        raise s.error(n, f"`{_text(s, n).split()[0]}` cannot be used inside a breakpoint's commands: time "
                         f"travel would cut the statement that runs them")
    return h


def _say_where(s, lead: str = "") -> None:
    from ..shell import render

    k = s.kernel
    last = None
    for r in reversed(k.log):
        if r.ev <= k.ev and r.kind not in ("note", "spawn"):
            last = r
            break
    text = render.event_text(s, last) if last is not None else None
    where = f"ev={k.ev} t={format_time(k.now)}"
    s.say(f"  {lead}{where}" + (f" — last event: {text}" if text else ""))


def _after_travel(s, stop: Stop | None = None) -> None:
    if history_of(s).interrupted:
        s.say("  interrupted: time travel stopped here, at the state first seen at this event")
        stop = None
    s.last_stop = stop
    dbg = debugger_of(s)
    if stop is not None:
        s.say(f"  stopped: {stop.message}")
    dbg.displayed = stop
    dbg.show_displays()


def _report_pending(s) -> bool:
    """Report a stop a statement's syscall left (a catch); True if there was one."""
    req = getattr(s, "_stop_request", None)
    if req is None:
        return False
    s._stop_request = None
    s.last_stop = req
    s.say(f"  stopped: {req.message}")
    return True


def _issue_held(s, dbg: Debugger) -> bool:
    """Hand a held shell syscall to the kernel; True if one was issued."""
    held = dbg.held
    if held is None:
        return False
    dbg.held = None
    p = s.find_process(held.process)
    if p is None or p.identifier != held.identifier or p.state.name != "Running":
        s.say(f"  the held {syscall_text(s, held.cls, held.regs)} of {held.process} is dropped: the process "
              f"is no longer the Running instance that made it")
        return False
    from ..lang.interpreter import do_syscall

    s.say(f"{held.process}: {syscall_text(s, held.cls, held.regs)} handed to the kernel")
    dbg.bypass_gate = True
    try:
        do_syscall(s, held.node, p, held.cls, held.regs)
    finally:
        dbg.bypass_gate = False
    return True


def _run(s, n) -> None:
    s.exec_statement(ast.Run(pos=n.pos))


# ================================================================== breakpoints
@statement(ast.BreakSyscall)
def _break_syscall(s, n: ast.BreakSyscall):
    dbg = debugger_of(s)
    cls = None
    if isinstance(n.cls, str):
        from ..lang.interpreter import CLASS_NUMBERS

        cls = CLASS_NUMBERS[n.cls]
    elif n.cls is not None:
        cls = evaluate_int(s, n.cls, "a syscall class")
        if not 0 <= cls <= 7:
            raise s.error(n.cls, f"syscall classes are 0 to 7 (yield subscribe command allow-rw allow-ro memop exit "
                                 f"allow-ur), not {cls}")
    bp = dbg.add(Breakpoint(0, "syscall", process=_proc_name(s, n.process), cls=cls, driver=_driver(s, n.driver),
                            condition=n.condition, temporary=n.temporary, text=_text(s, n)))
    return _announce(s, n, bp, "the kernel handles it")


@statement(ast.BreakUpcall)
def _break_upcall(s, n: ast.BreakUpcall):
    dbg = debugger_of(s)
    num = evaluate_int(s, n.upcall_num, "an upcall number") if n.upcall_num is not None else None
    bp = dbg.add(Breakpoint(0, "upcall", process=_proc_name(s, n.process), driver=_driver(s, n.driver),
                            upcall_num=num, condition=n.condition, temporary=n.temporary, text=_text(s, n)))
    return _announce(s, n, bp, "the upcall is delivered")


def _announce(s, n, bp, before: str) -> int:
    """The line gdb prints for a new breakpoint; the breakpoint's number is the statement's value."""
    s.say(f"{'Temporary breakpoint' if n.temporary else 'Breakpoint'} {bp.number}: {what_text(s, bp)}"
          + (f" if {expr_text(n.condition)}" if n.condition is not None else "")
          + f" — stops before {before}")
    return bp.number


@statement(ast.Catch)
def _catch(s, n: ast.Catch):
    dbg = debugger_of(s)
    code = None
    if n.kind == "error":
        c = n.code
        if isinstance(c, str):
            word = "INVAL" if c.upper() == "INVALID" else c.upper()
            if word not in ErrorCode.__members__:
                raise s.error(_code_pos(s, n), suggestion("error code", c, list(ErrorCode.__members__)))
            code = ErrorCode[word]
        else:
            try:
                code = ErrorCode(int(c))
            except ValueError:
                raise s.error(_code_pos(s, n), f"{c} is not one of Tock's error codes (1 FAIL to "
                                 f"{max(ErrorCode).value} {max(ErrorCode).name})") from None
    bp = dbg.add(Breakpoint(0, "catch", process=_proc_name(s, n.process, "catchpoint"), catch=n.kind, code=code,
                            text=_text(s, n)))
    s.say(f"Catchpoint {bp.number}: {what_text(s, bp)}")
    return bp.number


@statement(ast.Watch)
def _watch(s, n: ast.Watch):
    dbg = debugger_of(s)
    from ..lang.expr import evaluate

    evaluate(s, n.expr)  # a watch on something that cannot be read now is refused, as gdb does
    bp = dbg.add(Breakpoint(0, "watch", expr=n.expr, text=expr_text(n.expr)))
    bp.old = dbg.value_of(n.expr)
    s.say(f"Watchpoint {bp.number}: {bp.text} = {dbg.shown(bp.old)}")
    return bp.number


@statement(ast.Condition)
def _condition(s, n: ast.Condition):
    dbg = debugger_of(s)
    bp = dbg.get(evaluate_int(s, n.number, "a breakpoint number"), n.number)
    bp.condition = n.condition
    if n.condition is None:
        s.say(f"{bp.type_word.capitalize()} {bp.number} now unconditional.")
    else:
        s.say(f"{bp.type_word.capitalize()} {bp.number} stops only if {expr_text(n.condition)}")


@statement(ast.Ignore)
def _ignore(s, n: ast.Ignore):
    dbg = debugger_of(s)
    bp = dbg.get(evaluate_int(s, n.number, "a breakpoint number"), n.number)
    count = evaluate_int(s, n.count, "a count")
    if count < 0:
        raise s.error(n.count, f"ignore takes a count of 0 or more, not {count}")
    bp.ignore = count
    if count == 0:
        s.say(f"Will stop next time {bp.type_word} {bp.number} is reached.")
    else:
        s.say(f"Will ignore next {count} crossing{'s' if count != 1 else ''} of {bp.type_word} {bp.number}.")


@statement(ast.Commands)
def _commands(s, n: ast.Commands):
    dbg = debugger_of(s)
    if n.number is None:
        if dbg.table.last_set is None or dbg.table.last_set not in dbg.table.breakpoints:
            raise s.error(n, "no breakpoint to attach commands to: set one first, or write `commands N { ... }`")
        bp = dbg.get(dbg.table.last_set, n)
    else:
        bp = dbg.get(evaluate_int(s, n.number, "a breakpoint number"), n.number)
    bp.commands = tuple(n.body)
    bp.commands_text = tuple(_text(s, st) for st in n.body)
    if n.body:
        s.say(f"{bp.type_word.capitalize()} {bp.number} runs {len(n.body)} statement"
              f"{'s' if len(n.body) != 1 else ''} when it stops")
    else:
        s.say(f"{bp.type_word.capitalize()} {bp.number} runs nothing when it stops")


def _select(s, n, numbers) -> list[Breakpoint]:
    dbg = debugger_of(s)
    if not numbers:
        return list(dbg.table.breakpoints.values())
    return [dbg.get(num, e) for num, e in zip(_numbers(s, numbers), numbers)]


@statement(ast.Delete)
def _delete(s, n: ast.Delete):
    dbg = debugger_of(s)
    bps = _select(s, n, n.numbers)
    for bp in bps:
        dbg.delete(bp.number)
    if not n.numbers:
        s.say(f"deleted all {len(bps)} breakpoint{'s' if len(bps) != 1 else ''}" if bps else "no breakpoints")
    else:
        s.say("deleted " + ", ".join(f"{bp.type_word} {bp.number}" for bp in bps))


def _set_enabled(s, n, numbers, on: bool) -> None:
    dbg = debugger_of(s)
    bps = _select(s, n, numbers)
    for bp in bps:
        bp.enabled = on
        if on and bp.kind == "watch":
            bp.old = dbg.value_of(bp.expr)
    dbg.sync()
    word = "enabled" if on else "disabled"
    if not bps:
        s.say("no breakpoints")
    elif not numbers:
        s.say(f"{word} all {len(bps)}")
    else:
        s.say(f"{word} " + ", ".join(f"{bp.type_word} {bp.number}" for bp in bps))


@statement(ast.Disable)
def _disable(s, n: ast.Disable):
    _set_enabled(s, n, n.numbers, False)


@statement(ast.Enable)
def _enable(s, n: ast.Enable):
    _set_enabled(s, n, n.numbers, True)


@statement(ast.Display)
def _display(s, n: ast.Display):
    dbg = debugger_of(s)
    if n.expr is None:
        if not dbg.table.displays:
            s.say("no displays (`display EXPR` adds one)")
        dbg.show_displays(force=True)
        return None
    from ..lang.expr import evaluate

    evaluate(s, n.expr)
    d = Display(dbg.table.next_display, n.expr, expr_text(n.expr))
    dbg.table.next_display += 1
    dbg.table.displays[d.number] = d
    s.say(f"{d.number}: {d.text} = {dbg.shown(dbg.value_of(d.expr))}")
    return d.number


@statement(ast.Undisplay)
def _undisplay(s, n: ast.Undisplay):
    dbg = debugger_of(s)
    if n.number is None:
        count = len(dbg.table.displays)
        dbg.table.displays.clear()
        s.say(f"removed {count} display{'s' if count != 1 else ''}")
        return
    num = evaluate_int(s, n.number, "a display number")
    if num not in dbg.table.displays:
        raise s.error(n.number, f"no display number {num} (`info display` lists them)")
    del dbg.table.displays[num]
    s.say(f"removed display {num}")


@statement(ast.Info)
def _info(s, n: ast.Info):
    dbg = debugger_of(s)
    topic = n.topic
    if topic in ("breakpoints", "watchpoints"):
        bps = [bp for bp in dbg.table.breakpoints.values() if topic == "breakpoints" or bp.kind == "watch"]
        if not bps:
            s.say("no breakpoints, catchpoints or watchpoints" if topic == "breakpoints" else "no watchpoints")
            return
        rows = [("Num", "Type", "Disp", "Enb", "Hits", "What")]
        for bp in bps:
            what = what_text(s, bp)
            if bp.condition is not None:
                what += f" if {expr_text(bp.condition)}"
            if bp.ignore:
                what += f" (ignore next {bp.ignore})"
            if bp.commands:
                what += f" {{ {'; '.join(bp.commands_text)} }}"
            rows.append((str(bp.number), bp.type_word, "del" if bp.temporary else "keep",
                         "y" if bp.enabled else "n", str(bp.hits), what))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for r in rows:
            s.say("  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5])
        if dbg.held is not None:
            h = dbg.held
            s.say(f"held: {h.process}: {syscall_text(s, h.cls, h.regs)} (breakpoint {h.number}); `continue` hands "
                  f"it to the kernel")
    elif topic == "display":
        if not dbg.table.displays:
            s.say("no displays")
        for d in dbg.table.displays.values():
            s.say(f"{d.number}: {'y' if d.enabled else 'n'}  {d.text}")
    else:  # checkpoints
        h = history_of(s)
        if not h.checkpoints:
            s.say("no checkpoints (`checkpoint [NAME]` takes one)")
        for cp in h.checkpoints.values():
            s.say(f"{cp.number}  {cp.name:<12} ev={cp.ev:<8} t={format_time(cp.time)}")


# ================================================================== stepping
@statement(ast.Continue)
def _continue(s, n: ast.Continue):
    dbg = debugger_of(s)
    _no_block(s, n)
    s.last_stop = None
    if _issue_held(s, dbg) and _report_pending(s):
        return None
    _run(s, n)
    return None


def _no_block(s, n) -> None:
    if s.block_depth:
        raise s.error(n, f"`{_text(s, n).split()[0]}` cannot be used inside an at/every block: the block runs "
                         f"inside the kernel's event loop")


@statement(ast.Next)
def _next(s, n: ast.Next):
    dbg = debugger_of(s)
    _no_block(s, n)
    p = s.process(n.process)
    if p.program is None:
        if dbg.held is not None and dbg.held.process == p.name:
            s.last_stop = None
            _issue_held(s, dbg)
            _report_pending(s)
            return None
        raise s.error(n.process, f"{p.name} is a manual process: its next syscall is the next one you type "
                                 f"(`next` runs an app process to its next syscall)")
    if not p.alive:
        from ..shell import render

        raise s.error(n.process, f"{render.state_phrase(s, p)}; `next` needs a live process")
    ident = p.identifier

    def at_syscall(kind, q, info):
        if kind == "syscall" and q is p and q.identifier == ident:
            return Stop("break", p.name, None, f"{p.name}: about to make {info[2]} — not handled yet")
        return None

    def gone(_s):
        if p.identifier != ident or not p.alive:
            from ..shell import render

            return Stop("break", p.name, None, f"{p.name} did not reach another syscall: {render.state_phrase(s, p)}")
        return None

    _with_internal(s, n, at_syscall, gone)
    return None


@statement(ast.Finish)
def _finish(s, n: ast.Finish):
    dbg = debugger_of(s)
    _no_block(s, n)
    stop = s.last_stop
    p = s.find_process(stop.process) if stop is not None and stop.process else None
    if p is None:
        running = [q for q in s.kernel.live_processes() if q.program is not None
                   and getattr(q.program, "depth", 0) > 0]
        if len(running) == 1:
            p = running[0]
        else:
            raise s.error(n, "finish needs a process stopped in an upcall handler (it uses $stop.process)")
    if p.program is None:
        raise s.error(n, f"{p.name} is a manual process: its handler returns when you make it yield")
    depth0 = getattr(p.program, "depth", None)
    if depth0 is None:
        raise s.error(n, f"{p.name}'s app does not tell how deep in handlers it is")
    if depth0 == 0:
        raise s.error(n, f"{p.name} is not inside an upcall handler (its main code is running)")
    ident = p.identifier

    def returned(kind, q, info):
        if kind == "syscall" and q is p and q.identifier == ident and q.program.depth < depth0:
            return Stop("break", p.name, None, f"{p.name}: the upcall handler returned; about to make {info[2]}")
        return None

    def gone(_s):
        if p.identifier != ident or not p.alive:
            from ..shell import render

            return Stop("break", p.name, None, f"{p.name}'s handler did not return: {render.state_phrase(s, p)}")
        return None

    del dbg
    _with_internal(s, n, returned, gone)
    return None


def _with_internal(s, n, hook, check) -> None:
    dbg = debugger_of(s)
    s.last_stop = None
    dbg.internal.append(hook)
    s.stop_checks.append(check)
    dbg.sync()
    try:
        _run(s, n)
    finally:
        if hook in dbg.internal:
            dbg.internal.remove(hook)
        if check in s.stop_checks:
            s.stop_checks.remove(check)
        dbg.sync()


# ================================================================== time travel
@statement(ast.Checkpoint)
def _checkpoint(s, n: ast.Checkpoint):
    h = history_of(s)
    if s.block_depth:
        raise s.error(n, "`checkpoint` cannot be used inside an at/every block")
    cp = h.checkpoint(None if n.name is None else str(n.name))
    k = s.kernel
    s.say(f"checkpoint {cp.number} \"{cp.name}\" at ev={k.ev} t={format_time(k.now)}")
    return None


@statement(ast.Restore)
def _restore(s, n: ast.Restore):
    h = _guard_travel(s, n)
    cp = h.find_checkpoint(n.name, n)
    h.restore(cp)
    s.say(f"restored checkpoint {cp.number} \"{cp.name}\"")
    _say_where(s, "now at ")
    _after_travel(s)


@statement(ast.Diff)
def _diff(s, n: ast.Diff):
    from .dump import diff, dump

    h = history_of(s)

    def get(ref):
        if str(ref) in ("now", "current", ".") and not any(cp.name == str(ref) for cp in h.checkpoints.values()):
            return "now", dump(s)
        cp = h.find_checkpoint(ref, n)
        return f"\"{cp.name}\" (ev={cp.ev})", cp.dump

    na, a = get(n.a)
    nb, b = get(n.b)
    lines = diff(a, b)
    if not lines:
        s.say(f"no difference between {na} and {nb}")
        return
    s.say(f"from {na} to {nb}:")
    for line in lines:
        s.say("  " + line)


def _why_not_exact(h, ev: int, landed: int, timeline=None) -> str:
    """Why ``goto ev`` stopped at ``landed``: the statement that holds ``ev`` cannot be split."""
    from .history import Entry

    holder = next((e for e in reversed(timeline if timeline is not None else h.timeline)
                   if isinstance(e, Entry) and e.epoch == h.epoch and e.ev0 < ev <= e.ev1), None)
    where = "the point before it" if landed < ev else "the first point after it"
    if holder is None:
        return (f"(event {ev} lies inside a statement that cannot be split; stopped at event {landed}, {where})")
    text = " ".join(holder.text.split())
    text = text if len(text) <= 60 else text[:57] + "..."
    return (f"(event {ev} lies inside `{text}` (events {holder.ev0 + 1}-{holder.ev1}, which cannot be split); "
            f"stopped at event {landed}, {where})")


def _goto(s, n, ev: int, *, rewinding: bool = False) -> None:
    h = _guard_travel(s, n)
    k = s.kernel
    if ev < 0:
        raise s.error(n, f"events are numbered from 0, not {ev}")
    # The statements as they were: a rewind that lands before one no longer has it in the timeline.
    before = list(h.timeline)
    if h.goto(ev, rewinding=rewinding):
        _say_where(s, "now at ")
        if s.kernel.ev != ev:
            s.say("  " + _why_not_exact(h, ev, s.kernel.ev, before))
        _after_travel(s)
        return
    # Forward, past anything recorded: run there (a stop on the way ends it early).
    k = s.kernel  # a new one if the recorded future was replayed first
    steps = ev - k.ev
    if steps <= 0:
        _say_where(s, "now at ")
        _after_travel(s)
        return
    node = ast.Step(ast.Number(steps, str(steps)))
    s.say(f"  going forward {steps} event{'s' if steps != 1 else ''} (nothing recorded beyond ev={k.ev})")
    h.depth -= 1  # the steps belong to the timeline, as if typed
    try:
        s.exec_statement(node)
    finally:
        h.depth += 1
        last = h.timeline[-1] if h.timeline else None
        if isinstance(last, Entry) and last.node is node:
            h.timeline[-1] = last.with_text(f"step {steps}")
    _say_where(s, "now at ")


def _held_here(s) -> bool:
    dbg = debugger_of(s)
    if dbg.held is not None or dbg.upcall_pass is not None:
        return True
    return any(getattr(p, "pending_action", None) is not None for p in s.kernel.live_processes())


@statement(ast.Goto)
def _goto_stmt(s, n: ast.Goto):
    _goto(s, n, evaluate_int(s, n.event, "an event number"))


@statement(ast.Rewind)
def _rewind(s, n: ast.Rewind):
    count = 1 if n.count is None else evaluate_int(s, n.count, "a number of events")
    if count < 1:
        raise s.error(n.count, f"rewind takes a positive number of events, not {count}")
    _goto(s, n, max(0, s.kernel.ev - count), rewinding=True)


@statement(ast.ReverseStep)
def _reverse_step(s, n: ast.ReverseStep):
    from .export import DELIVERY_KINDS, SYSCALL_KINDS

    count = 1 if n.count is None else evaluate_int(s, n.count, "a number of steps")
    if count < 1:
        raise s.error(n.count, f"reverse-step takes a positive number, not {count}")
    k = s.kernel
    stop = s.last_stop
    name = stop.process if stop is not None else None
    if name is None or s.find_process(name) is None:
        _goto(s, n, max(0, k.ev - count))
        return
    evs = sorted({r.ev for r in k.log if r.name == name and r.ev <= k.ev
                  and (r.kind in SYSCALL_KINDS or r.kind in DELIVERY_KINDS)})
    if not evs:
        raise s.error(n, f"{name} has made no syscall and received no upcall yet")
    e = evs[-count] if count <= len(evs) else evs[0]
    _goto(s, n, max(0, e - 1))
    if count > len(evs):
        s.say(f"  (only {len(evs)} earlier step{'s' if len(evs) != 1 else ''} of {name}: back to before its first)")
    # $stop keeps naming the process, so that reverse-step again goes on with it.
    s.last_stop = Stop("break", name, None, f"{name}: just before its step at event {e}")


@statement(ast.ReverseContinue)
def _reverse_continue(s, n: ast.ReverseContinue):
    h = _guard_travel(s, n)
    dbg = debugger_of(s)
    shadow = dbg.table.copy()
    if not shadow.breakpoints:
        raise s.error(n, "no breakpoints, catchpoints or watchpoints: nothing to go back to")
    hits = _observe(s, h, dbg, shadow)
    k = s.kernel
    here = (h.epoch, k.ev, 1 if _held_here(s) else 0)
    earlier = [x for x in hits if (x[0], x[1], x[2]) < here and x[0] == h.epoch]
    if not earlier:
        _goto(s, n, 0)
        s.say("  no earlier stop: back at the start of this board")
        return
    epoch, ev, phase, kind, pname, ident, stop = earlier[-1]
    left = list(h.timeline)
    h.travel(left, (epoch, ev), left=left)
    if phase == 1 and kind != "shell":
        # Step into the stop itself, as the first pass did: the syscall pending, or the upcall queued.
        held = HoldEntry(kind, pname, ident, epoch, ev, stop)
        s.last_stop = None
        out, s.out = s.out, io.StringIO()
        try:
            h.hold(held)
        finally:
            s.out = out
        h.timeline.append(held)
        got = s.last_stop
        _say_where(s, "now at ")
        _after_travel(s, got if got is not None else stop)
        return
    _say_where(s, "now at ")
    _after_travel(s, stop)


def _observe(s, h: History, dbg: Debugger, shadow) -> list[tuple]:
    """Replay the timeline and list the points where ``shadow``'s entries would stop (ignore counts aside).

    Each point is (epoch, ev, phase, kind, process, identifier, Stop); phase 0 is after event ev
    (catch, watch), phase 1 before the next one (a syscall or upcall breakpoint).
    """
    from .breakpoints import _catch_word

    hits: list[tuple] = []
    watch_old: dict[int, Any] = {}

    def cond(bp, bindings) -> bool:
        ok, err = dbg._condition(bp, bindings)
        return ok or err is not None

    def observer(kind, obj, info):
        k = s.kernel
        if kind == "syscall":
            p, (cls, regs) = obj, info
            for bp in shadow.breakpoints.values():
                if bp.enabled and bp.kind == "syscall" and dbg._matches_syscall(bp, p.name, cls, regs) \
                        and cond(bp, dbg.syscall_bindings(p, cls, regs)):
                    msg = f"breakpoint {bp.number}, {p.name}: {syscall_text(s, cls, regs)} — not handled yet"
                    if p.program is None:  # a shell syscall: its statement is the next thing that happens
                        msg += " (the statement that made it comes next)"
                    hits.append((h.epoch, k.ev, 1, "syscall" if p.program is not None else "shell", p.name,
                                 p.identifier, Stop("break", p.name, bp.number, msg)))
                    return
        elif kind == "upcall":
            p, t = obj, info
            for bp in shadow.breakpoints.values():
                if bp.enabled and bp.kind == "upcall" and dbg._upcall_matches(bp, p, t) \
                        and cond(bp, dbg.upcall_bindings(p, t)):
                    msg = f"breakpoint {bp.number}, {p.name}: about to deliver {dbg.upcall_text(p, t)} — still queued"
                    # Inside a shell yield the delivery cannot be stepped into on its own.
                    hits.append((h.epoch, k.ev, 1, "shell" if s.in_syscall else "upcall", p.name, p.identifier,
                                 Stop("break", p.name, bp.number, msg)))
                    return
        elif kind == "catch":
            rec, (ckind, text, code) = obj, info
            for bp in shadow.breakpoints.values():
                if bp.enabled and bp.kind == "catch" and bp.catch == ckind \
                        and (bp.process is None or bp.process == rec.name) \
                        and (ckind != "error" or bp.code == code) and cond(bp, {}):
                    hits.append((h.epoch, k.ev, 0, "catch", rec.name, None,
                                 Stop("catch", rec.name, bp.number,
                                      f"catchpoint {bp.number} ({_catch_word(bp)}), {text}")))
                    return

    def watch_check(_s):
        k = s.kernel
        for num, bp in shadow.breakpoints.items():
            if bp.kind != "watch" or not bp.enabled:
                continue
            new = dbg.value_of(bp.expr)
            old = watch_old.get(num)
            if old is not None and not dbg._same(old, new) and cond(bp, {}):
                hits.append((h.epoch, k.ev, 0, "watch", None, None,
                             Stop("watch", None, bp.number, f"watchpoint {bp.number}: {bp.text} changed: "
                                                            f"{dbg.shown(old)} → {dbg.shown(new)}")))
            watch_old[num] = new
        return None

    live = dbg.table.copy()
    left = list(h.timeline)
    dbg.observer = observer
    try:
        replayed, _ = h.replay(left, None, checks=(watch_check,))
    finally:
        dbg.observer = None
        dbg.table = live
        dbg.refresh_watches()
        dbg.sync()
    h.timeline = replayed
    return hits


@statement(ast.Save)
def _save(s, n: ast.Save):
    h = history_of(s)
    path = _path(s, n, n.path)
    text = h.script(path)
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise s.error(n, f"cannot write {n.path}: {e.strerror or e}") from None
    count = sum(1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    s.say(f"saved {count} statement{'s' if count != 1 else ''} to {n.path} (replays to ev={s.kernel.ev}, "
          f"t={format_time(s.kernel.now)})")


def _path(s, n, path: str) -> str:
    if not path.strip():
        raise s.error(n, f"{type(n).__name__.lower()} needs a file name, not an empty string")
    path = os.path.expanduser(path)
    if os.path.isdir(path):
        raise s.error(n, f"cannot write {path}: it is a directory, give a file name")
    d = os.path.dirname(path)
    if d and not os.path.isdir(d):
        raise s.error(n, f"cannot write {path}: no directory {d}")
    return path


@statement(ast.Record)
def _record(s, n: ast.Record):
    h = history_of(s)
    if n.path is None:
        path = h.stop_recording()
        s.say(f"recording to {path} stopped" if path else "not recording")
        return
    h.start_recording(_path(s, n, n.path), n)
    s.say(f"recording input (and output as comments) to {n.path}; `record off` stops")


@statement(ast.Export)
def _export(s, n: ast.Export):
    from . import export

    path = _path(s, n, n.path)
    k = s.kernel
    if n.format == "perfetto":
        text = export.perfetto_json(s)
        what = "Chrome trace-event JSON: open it in ui.perfetto.dev"
    else:
        text = export.mermaid(s) if not path.endswith(".md") else export.mermaid_markdown(s)
        what = "a Mermaid sequence diagram" + (" in Markdown" if path.endswith(".md") else "")
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise s.error(n, f"cannot write {n.path}: {e.strerror or e}") from None
    s.say(f"exported {len(k.log)} records ({k.ev} events, t={format_time(k.now)}) to {n.path}: {what}")


@statement(ast.Timeline)
def _timeline(s, n: ast.Timeline):
    from . import export

    d = None
    if n.duration is not None:
        d = evaluate_int(s, n.duration, "a duration")
        if d <= 0:
            raise s.error(n.duration, f"timeline for takes a positive duration, not {d}")
    s.say(export.timeline(s, d))


# ================================================================== grant(p, DRIVER[, FIELD])
_GRANT_FIELDS = ("address", "size", "upcalls", "allow_ro", "allow_rw", "data")


def _fn_grant(s, e, pos):
    """``grant(p, DRIVER[, FIELD])``: p's grant for a driver as a record (none if not allocated)."""
    from ..board import DRIVER_NUMBERS
    from ..lang.errors import TshError
    from ..lang.expr import evaluate, process_arg

    if len(e.args) not in (2, 3):
        raise TshError("grant() takes a process, a driver and maybe a field: grant(p, console[, upcalls])",
                       e.pos or pos)
    p = process_arg(s, e.args[0], pos)
    d = e.args[1]
    if isinstance(d, ast.Name) and (d.name in s.board.drivers_by_name or d.name in DRIVER_NUMBERS):
        drv = s.board.drivers_by_name.get(d.name)
        num = drv.driver_num if drv is not None else DRIVER_NUMBERS[d.name]
    else:
        num = evaluate_int(s, d, "a driver name or number", pos)
    field = None
    if len(e.args) == 3:
        f = e.args[2]
        field = f.name if isinstance(f, ast.Name) else evaluate(s, f, pos)
        if field not in _GRANT_FIELDS:
            raise TshError(suggestion("grant field", str(field), _GRANT_FIELDS), getattr(f, "pos", None) or pos)
    g = p.grant_for_driver(num)
    if g is None:
        return None
    drv = s.board.driver(num)
    data = drv.describe_grant(g.data) if g.data is not None and drv is not None else None
    rec = {"address": g.address, "size": g.size, "upcalls": tuple(tuple(u) for u in g.upcalls),
           "allow_ro": tuple(tuple(a) for a in g.allow_ro), "allow_rw": tuple(tuple(a) for a in g.allow_rw),
           "data": data}
    return rec if field is None else rec[field]


def _register_functions() -> None:
    # Expressions' function table is a registry like the statements': `watch grant(p, console)`.
    from ..lang import expr

    expr.FUNCTIONS.setdefault("grant", _fn_grant)


_register_functions()


# ================================================================== help
_ONE_BREAK = "spawn client; break syscall client"  # what the examples naming breakpoint 1 need first
HELP = {
    "break": ("break syscall [p] [CLASS] [DRIVER] [if EXPR] | break upcall [p] [DRIVER NUM] [if EXPR]",
              "stop before the kernel handles a syscall, or before an upcall is delivered",
              "break syscall client command console if $syscall.r1 == 1",
              "The condition sees $syscall (class, driver, r0..r3, process) or $upcall (driver, num, a0..a2, fn, "
              "appdata, process).\nAn app process stays Running with the syscall not yet handled; a shell "
              "syscall is held until `continue`."),
    "tbreak": ("tbreak syscall|upcall ...", "a breakpoint deleted when it first stops", "tbreak upcall server"),
    "catch": ("catch fault|restart|dropped|ipc [p] | catch error CODE [p]",
              "stop after a fault, a restart, a syscall returning CODE, an upcall dropped from a full queue, "
              "or any IPC capsule call", "catch error NODEVICE"),
    "watch": ("watch EXPR", "stop when the value of EXPR changes (checked after every event)",
              "watch client.state", "", "spawn client"),
    "display": ("display [EXPR]", "print EXPR at every stop (no EXPR: print them all now)", "display client.queue", "",
                "spawn client"),
    "undisplay": ("undisplay [N]", "remove display N (or all)", "undisplay 1", "",
                  "spawn client; display client.queue"),
    "info": ("info breakpoints|watchpoints|display|checkpoints", "list the debugger's tables", "info breakpoints"),
    "delete": ("delete [N ...]", "delete breakpoints (all without N)", "delete 2", "",
               "spawn client; break syscall client; break upcall client"),
    "disable": ("disable [N ...]", "disable breakpoints (all without N)", "disable 1", "", _ONE_BREAK),
    "enable": ("enable [N ...]", "enable breakpoints (all without N)", "enable 1", "", _ONE_BREAK),
    "condition": ("condition N [EXPR]", "stop at N only when EXPR holds (no EXPR: always)",
                  "condition 1 client.queue > 2", "", _ONE_BREAK),
    "ignore": ("ignore N COUNT", "let breakpoint N pass COUNT times before it stops", "ignore 1 5", "", _ONE_BREAK),
    "commands": ("commands [N] { STATEMENTS }", "statements run when breakpoint N stops (default: the last set)",
                 "commands 1 { upcalls client; continue }", "", _ONE_BREAK),
    "continue": ("continue", "run on from a stop (a held shell syscall is handed to the kernel first)", "continue"),
    "next": ("next p", "run until app process p's next syscall (stopped before the kernel handles it)",
             "next client", "", "spawn client app=hello"),
    "finish": ("finish", "run until the stopped process's upcall handler returns", "finish", "",
               "spawn client app=hello; break upcall client console 1; run for 10ms; step"),
    "checkpoint": ("checkpoint [NAME]", "remember this point (restore and diff use it)", "checkpoint before"),
    "restore": ("restore NAME", "go back (or forward) to a checkpoint, by deterministic replay", "restore before", "",
                "checkpoint before"),
    "diff": ("diff A B", "what changed between two checkpoints (`now` is the current state)", "diff before now", "",
             "checkpoint before"),
    "rewind": ("rewind [N]", "go back N events (default 1), exactly as the state was", "rewind 10"),
    "goto": ("goto EVENT", "go to the state first seen at event EVENT (the prompt shows ev=)", "goto 42"),
    "reverse-step": ("reverse-step [N]", "back to before the stopped process's previous syscall or upcall",
                     "reverse-step"),
    "reverse-continue": ("reverse-continue", "back to the previous point where a breakpoint, catchpoint or "
                         "watchpoint would have stopped", "reverse-continue", "",
                         "spawn client app=hello; break syscall client command console; run for 10ms; continue"),
    "save": ("save FILE", "write this session as a .tsh file that replays to the same state", "save session.tsh"),
    "record": ("record FILE | record off", "copy every statement typed (and its output, as comments) to FILE",
               "record transcript.tsh"),
    "export": ("export perfetto FILE.json | export mermaid FILE.md",
               "a picture of the run: Perfetto trace-event JSON, or a Mermaid sequence diagram",
               "export perfetto run.json"),
    "grant": ("grant(p, DRIVER[, FIELD])", "p's grant for a driver in expressions: address, size, upcalls, "
              "allow_ro, allow_rw, data (none until allocated)", "watch grant(client, console, upcalls)",
              "", "spawn client"),
    "timeline": ("timeline [for DURATION]", "one lane per process over virtual time, in the terminal",
                 "timeline for 10ms"),
}
