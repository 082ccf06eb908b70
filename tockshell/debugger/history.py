"""Time travel built on determinism: the session's timeline, replay, checkpoints, save and record.

The model is deterministic, so the ground truth of "the state at event E" is
*replay*: start a fresh board and execute again the statements that led
there. :class:`History` records every top-level statement the session
executes (its AST node, its text, the events before and after) in a
*timeline*. Travelling (``goto``, ``rewind``, ``reverse-*``, ``restore``)
resets the session in place and replays a timeline, with output discarded,
until the kernel's event counter reaches the target: inside a ``run`` or
``step`` the replay stops between two events, exactly where the first pass
was after that event. A statement cut short that way stays in the timeline
as a :class:`Cut` (the same statement, stopped at the same event), so later
travels and ``save`` reproduce it.

Breakpoints persist across travel, as in rr: the live table comes back after
each replay and a :class:`TableEntry` in the timeline records it.

Snapshots (deep copies of the board) are not used: capsules keep closures
over themselves in the hardware event queue and app programs are Python
generators, neither of which can be copied faithfully. Replay from the start
is exact; its cost grows with the session (a few milliseconds per thousand
events).
"""

from __future__ import annotations

import contextlib
import io
import os
from typing import Any

from ..lang import ast
from ..lang.commands import Stop
from ..lang.errors import TshError
from ..lang.values import format_time
from ..records import Record, Value

__all__ = ["Entry", "Cut", "TableEntry", "HoldEntry", "History", "Checkpoint", "Reached", "TRAVEL_STATEMENTS",
           "NOT_RECORDED"]

#: Statements that move through time instead of being part of it.
TRAVEL_STATEMENTS = (ast.Goto, ast.Rewind, ast.ReverseStep, ast.ReverseContinue, ast.Restore)
#: Statements that leave the model and the session as they are (not part of the timeline).
NOT_RECORDED = TRAVEL_STATEMENTS + (ast.Checkpoint, ast.Diff, ast.Save, ast.Record, ast.Export, ast.Quit,
                                    ast.Info, ast.Help, ast.Timeline, ast.Pause)
#: Statements that only look (or set breakpoints): recorded, yet the model's future after a
#: backwards travel is still the one recorded, so a forward goto can follow it.
LOOKING = (ast.ListProcesses, ast.Status, ast.ProcessDetail, ast.ShowKernel, ast.ShowMemory, ast.ShowGrants,
           ast.ShowUpcalls, ast.ShowAllows, ast.ShowSubscriptions, ast.ShowDescriptors, ast.ShowServices,
           ast.ShowMailbox, ast.Echo, ast.Print, ast.Expect, ast.Explain, ast.Now, ast.BreakSyscall,
           ast.BreakUpcall, ast.Ignore, ast.Condition, ast.Commands, ast.Catch, ast.Watch, ast.Display,
           ast.Undisplay, ast.Delete, ast.Disable, ast.Enable)


class Reached(Exception):
    """Raised from a stop check when a replay reaches its target event (never escapes the debugger)."""

    def __init__(self, target):
        super().__init__("target reached")
        self.target = target


class _Interrupted(Exception):
    """Ctrl-C during a replay: it stops between two events, where it is (never escapes the debugger)."""


def _ref_pos(node, ref):
    """Where a checkpoint reference sits: the statement's last word when it is that word, else the statement."""
    pos = getattr(node, "pos", None)
    last = node.b if isinstance(node, ast.Diff) else getattr(node, "name", None)
    if pos is None or ref != last or pos.end_column - len(str(ref)) <= pos.column:
        return pos
    col = pos.end_column - len(str(ref))
    return ast.Pos(pos.file, pos.end_line, col, pos.end_line, pos.end_column)


class Entry(Value):
    """One top-level statement as executed: node, text, and where in time it started and ended.

    Never changed once made (timelines, futures and checkpoints share entries); compared by its fields.
    ``source`` is the (file, text) the statement came from (messages, at/every blocks).
    """

    __slots__ = ("node", "text", "file", "epoch", "ev0", "ev1", "error", "source")

    def __init__(self, node: Any, text: str, file: str | None, epoch: int, ev0: int, ev1: int,
                 error: str | None = None, source: tuple | None = None):
        self.node = node
        self.text = text
        self.file = file
        self.epoch = epoch
        self.ev0 = ev0
        self.ev1 = ev1
        self.error = error
        self.source = source

    def with_text(self, text: str) -> "Entry":
        """The same entry with another text (what `save` writes for it), as a new entry."""
        return Entry(self.node, text, self.file, self.epoch, self.ev0, self.ev1, self.error, self.source)


class Cut(Value):
    """A statement that time travel stopped at event ``ev`` (of board ``epoch``)."""

    __slots__ = ("entry", "epoch", "ev")

    def __init__(self, entry: Entry, epoch: int, ev: int):
        self.entry = entry
        self.epoch = epoch
        self.ev = ev


class TableEntry(Value):
    """The breakpoint table put back after a travel (a copy, restored as is on replay).

    ``base`` is the number the replayed session would give its next breakpoint
    (what a saved script's rebuilt breakpoints are numbered from). Equal only to
    itself: two tables put back by two travels are two different statements.
    """

    __slots__ = ("table", "base")
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __init__(self, table: Any, base: int = 1):
        self.table = table
        self.base = base


class HoldEntry(Value):
    """Step once into a breakpoint stop found by reverse-continue (``kind``: syscall or upcall)."""

    __slots__ = ("kind", "process", "identifier", "epoch", "ev", "stop")

    def __init__(self, kind: str, process: str, identifier: int, epoch: int, ev: int, stop: Any):
        self.kind = kind
        self.process = process
        self.identifier = identifier
        self.epoch = epoch
        self.ev = ev
        self.stop = stop


class Checkpoint(Record):
    """``checkpoint [NAME]``: a timeline to replay, and the state it led to (for ``diff``)."""

    __slots__ = ("number", "name", "timeline", "epoch", "ev", "time", "dump")

    def __init__(self, number: int, name: str, timeline: tuple, epoch: int, ev: int, time: int, dump: dict):
        self.number = number
        self.name = name
        self.timeline = timeline
        self.epoch = epoch
        self.ev = ev
        self.time = time
        self.dump = dump


def _position(e) -> tuple[int, int]:
    if isinstance(e, Entry):
        return e.epoch, e.ev1
    if isinstance(e, Cut):
        return e.epoch, e.ev
    if isinstance(e, HoldEntry):
        return e.epoch, e.ev
    return -1, -1


class History:
    """The session's timeline, checkpoints and transcript (see the module docstring)."""

    def __init__(self, debugger):
        self.dbg = debugger
        self.s = debugger.s
        s = self.s
        self.initial_board = s.board.name if s.board is not None else "default"
        self.initial_params = dict(s.params)
        self.timeline: list = []
        #: the timeline left by the last backwards travel (forward goto can come back along it)
        self.future: list | None = None
        self.checkpoints: dict[int, Checkpoint] = {}
        self.next_checkpoint = 1
        self.epoch = -1
        self.replaying = False
        self.depth = 0
        self.recording: Any = None  # (file object, path) of `record FILE`
        self.interrupted = False  # the last replay was cut short by Ctrl-C
        self._rec_buffer: io.StringIO | None = None

    # ------------------------------------------------------------------ recording statements
    def wrap(self, node, inner):
        """``session.statement_wrapper``: run one statement; record it when it is a top-level one."""
        if self.depth:
            self.depth += 1  # nested (a block, an include, a commands body): part of the outer statement
            try:
                return inner(node)
            finally:
                self.depth -= 1
        s = self.s
        if isinstance(node, (ast.Include, ast.Demo)):
            return self._transparent(node, inner)
        k0 = s.kernel
        epoch0, ev0 = self.epoch, k0.ev
        stop_before = s.last_stop
        self.depth += 1
        error = None
        out_mark = self._rec_mark()
        try:
            value = inner(node)
            self.dbg_after(node, stop_before)
            return value
        except TshError as e:
            error = e.message
            s._stop_request = None
            raise
        finally:
            self.depth -= 1
            if not self.replaying and not isinstance(node, NOT_RECORDED):
                k = s.kernel
                src = node.pos.file if node.pos is not None else None
                text = _statement_text(s, node)
                self.timeline.append(Entry(node, text, src, epoch0 if k is k0 else self.epoch, ev0, k.ev, error,
                                           (src, s.sources[src]) if src in s.sources else None))
                if self.future is not None and not _looking(node):
                    self.future = None  # the model moved on: the old future is another timeline now
            if not self.replaying:
                self._rec_write(node, out_mark, error)

    def _transparent(self, node, inner):
        """``include`` and ``demo``: their statements are recorded one by one, as if typed.

        So the timeline never holds a statement that a travel inside it would cut in two,
        and a saved session holds the statements themselves.
        """
        if isinstance(node, ast.Demo) and node.name is not None and not self.replaying:
            from ..lang.interpreter import scenario_path

            if scenario_path(node.name) is not None:  # the demo starts on a fresh default board
                board = ast.Board("default")
                self.timeline.append(Entry(board, "board default", None, self.epoch + 1, 0, 0))
                self.future = None
        return inner(node)

    def dbg_after(self, node, stop_before) -> None:
        """After a top-level statement: report a stop it left, watch changes, displays, commands."""
        dbg = self.dbg
        s = self.s
        guard = 0
        while True:
            req = getattr(s, "_stop_request", None)
            if req is not None:
                s._stop_request = None
                s.last_stop = req
                s.say(f"  stopped: {req.message}")
            if any(bp.enabled and bp.kind == "watch" for bp in dbg.table.breakpoints.values()):
                st = dbg.check_watches()
                if st is not None:
                    s.last_stop = st
                    s.say(f"  stopped: {st.message}")
            stop = s.last_stop
            if stop is not None and stop is not stop_before and stop.kind != "interrupt" \
                    and dbg.displayed is not stop:
                dbg.displayed = stop
                dbg.show_displays()
            body = dbg.pending_commands
            if not body or guard >= MAX_CHAIN:
                dbg.pending_commands = None
                if body:
                    s.say(f"  commands stopped after running {MAX_CHAIN} times in a row")
                return
            dbg.pending_commands = None
            guard += 1
            stop_before = s.last_stop
            for st in body:
                s.exec_statement(st)
                if dbg.pending_commands is not None:
                    break

    # ------------------------------------------------------------------ record FILE
    def start_recording(self, path: str, node=None) -> None:
        self.stop_recording()
        try:
            f = open(path, "w", encoding="utf-8")
        except OSError as e:
            raise TshError(f"cannot write {path}: {e.strerror or e}", getattr(node, "pos", None)) from None
        f.write("# tockshell transcript: each statement as typed, its output as comments below it\n")
        f.flush()
        self.recording = (f, path)
        self._tee()

    def stop_recording(self) -> str | None:
        if self.recording is None:
            return None
        f, path = self.recording
        f.close()
        self.recording = None
        if isinstance(self.s.out, _Tee):
            self.s.out = self.s.out.inner
        return path

    def _tee(self) -> None:
        if self.recording is not None and not isinstance(self.s.out, _Tee):
            self.s.out = _Tee(self.s.out)

    def _rec_mark(self) -> int | None:
        out = self.s.out
        return out.mark() if isinstance(out, _Tee) else None

    def _rec_write(self, node, mark, error) -> None:
        if self.recording is None or mark is None or not isinstance(self.s.out, _Tee):
            return
        f = self.recording[0]
        if isinstance(node, ast.Record):
            return
        text = _statement_text(self.s, node)
        src = node.pos.file if node.pos is not None else None
        if src in self.s.sources:  # files named from the working directory, found from the transcript's
            entry = Entry(node, text, src, 0, 0, 0, None, (src, self.s.sources[src]))
            text = _portable_text(entry, os.path.dirname(os.path.abspath(self.recording[1])))
        f.write(text + "\n")
        for line in self.s.out.since(mark).splitlines():
            f.write(("# " + line).rstrip() + "\n")
        if error:
            f.write(f"# error: {error}\n")
        f.flush()

    # ------------------------------------------------------------------ replay
    def _reset_session(self) -> None:
        """Put the session back as it was when it was created (output and the debugger's memory kept)."""
        from ..lang.session import Session

        s = self.s
        if s._held:
            s.flush_events()
        fresh = Session(board=self.initial_board, out=io.StringIO(), params=self.initial_params)
        keep = {"out", "interactive", "params", "pause_hook", "plugin_state", "name_sources", "statement_wrapper",
                "syscall_gate", "sources", "board", "kernel", "scheduled", "_captures", "include_stack", "live",
                "block_depth", "in_syscall"}
        for key, val in fresh.__dict__.items():
            if key not in keep:
                setattr(s, key, val)
        for h in fresh.scheduled:
            h.cancel()
        for key, val in fresh.plugin_state.items():
            if key != "debugger":
                s.plugin_state[key] = val
        self.dbg.reset_replayable()
        self.epoch = -1
        s.new_board(self.initial_board)

    def replay(self, timeline, target: tuple[int, int] | None = None, checks=()) -> tuple[list, bool]:
        """Reset and replay ``timeline`` up to ``target`` (epoch, ev); the timeline actually replayed.

        ``checks`` are extra stop checks installed for the replay (observers; they never stop).
        Returns (new timeline, whether the target was reached inside a statement).
        """
        s = self.s
        dbg = self.dbg
        live_out, live_interactive = s.out, s.interactive
        live_depth = self.depth
        self.depth = 0  # replayed statements run as the top-level statements they were
        self.replaying = True
        s.out = io.StringIO()
        s.interactive = False
        replayed: list = []
        cut = False
        self.interrupted = False

        def check_stop():
            # An interrupt must not end a replayed run early (the replay would go elsewhere than the
            # first pass): it ends the travel instead, between two events, like a target would.
            if s.interrupted:
                s.interrupted = False
                raise _Interrupted()
            return type(s).check_stop(s)

        s.check_stop = check_stop
        # Nothing a replay prints is seen: do not render event lines at all (most of a run's cost).
        s.live_events = _quiet_events
        live_sources = dict(s.sources)
        try:
            self._reset_session()
            for c in checks:
                s.stop_checks.append(c)
            for e in timeline:
                if target is not None and self._reached(target):
                    break
                if s.interrupted:
                    s.interrupted = False
                    self.interrupted = True
                    break
                try:
                    self._apply(e, target)
                except _Interrupted:
                    entry = e.entry if isinstance(e, Cut) else e
                    if isinstance(entry, Entry):
                        replayed.append(Cut(entry, self.epoch, s.kernel.ev))
                    self.interrupted = cut = True
                    break
                except Reached as r:
                    if isinstance(e, Cut) and r.target == (e.epoch, e.ev) and (
                            target is None or (e.epoch, e.ev) < target):
                        replayed.append(e)
                        continue
                    entry = e.entry if isinstance(e, Cut) else e
                    if isinstance(entry, Entry):
                        replayed.append(Cut(entry, self.epoch, s.kernel.ev))
                    cut = True
                    break
                replayed.append(e)
        finally:
            del s.check_stop
            del s.live_events
            s.sources.clear()
            s.sources.update(live_sources)
            self.replaying = False
            self.depth = live_depth
            s.out = live_out
            s.interactive = live_interactive
            s._stop_request = None
            for c in checks:
                if c in s.stop_checks:
                    s.stop_checks.remove(c)
            dbg.sync()
        return replayed, cut

    def _reached(self, target) -> bool:
        return self.epoch == target[0] and self.s.kernel.ev >= target[1]

    def _apply(self, e, target) -> None:
        s = self.s
        if isinstance(e, TableEntry):
            self.dbg.table = e.table.copy()
            self.dbg.refresh_watches()
            self.dbg.sync()
            return
        if isinstance(e, HoldEntry):
            self.hold(e)
            return
        stops = []
        if isinstance(e, Cut):
            stops.append((e.epoch, e.ev))
            entry = e.entry
        else:
            entry = e
        if target is not None:
            stops.append(target)

        first = min(stops) if stops else None  # epochs only grow: the earliest target comes first
        kernel_of = s.__dict__  # the kernel changes with the board; read it fresh, cheaply

        def check(_s):
            if first is not None and self.epoch == first[0] and kernel_of["kernel"].ev >= first[1]:
                raise Reached(first)
            return None

        if entry.source is not None:
            # The shell reuses one file name for every line typed: give the statement its own text back.
            s.sources[entry.source[0]] = entry.source[1]
        s.stop_checks.insert(0, check)
        try:
            s.exec_statement(entry.node)
        except TshError:
            pass  # it was refused the first time too (or is now, identically)
        finally:
            if check in s.stop_checks:
                s.stop_checks.remove(check)

    def hold(self, e: HoldEntry) -> None:
        """Step once with a one-shot stop at the syscall or upcall reverse-continue found."""
        s = self.s
        dbg = self.dbg

        def hold(kind, p, info):
            if kind == e.kind and p.identifier == e.identifier and s.kernel.ev == e.ev:
                dbg.internal.remove(hold)
                return Stop(e.stop.kind, e.stop.process, e.stop.number, e.stop.message)
            return None

        dbg.internal.append(hold)
        dbg.sync()
        try:
            s.exec_statement(ast.Step())
        except TshError:
            pass
        finally:
            if hold in dbg.internal:
                dbg.internal.remove(hold)
            dbg.sync()

    # ------------------------------------------------------------------ travelling
    def travel(self, timeline, target: tuple[int, int] | None, *, left: list | None = None,
               back_from: int | None = None) -> bool:
        """Replay ``timeline`` to ``target`` and make the result the session's timeline.

        ``left`` is the timeline being left (kept as the future a forward goto can follow).
        With ``back_from`` (a rewind from that event), a target inside a statement that cannot be
        split, whose first point after is ``back_from`` or later, is taken as the point before
        that statement: landing after it would leave the rewind where it started.
        The live breakpoint table survives. Returns whether the target fell inside a statement.
        """
        dbg = self.dbg
        live_table = dbg.table.copy()
        new, cut = self.replay(list(timeline), target)
        if (back_from is not None and target is not None and self.s.kernel.ev >= back_from > target[1]
                and _undoes_nothing(new, timeline)):
            holder = next((e for e in reversed(timeline) if isinstance(e, Entry) and e.epoch == target[0]
                           and e.ev0 < target[1] <= e.ev1), None)
            if holder is not None:
                new, cut = self.replay(list(timeline), (target[0], holder.ev0))
        base = dbg.table.next_number
        dbg.table = live_table
        dbg.refresh_watches()
        dbg.sync()
        new.append(TableEntry(live_table.copy(), base))
        if left is not None:
            if self.future is None or not _is_prefix(left, self.future):
                self.future = list(left)
        self.timeline = new
        return cut

    def goto(self, ev: int, *, rewinding: bool = False) -> bool:
        """``goto EVENT``: travel to the state first seen at event ``ev`` of this board.

        Backwards (or to the present) by replaying the timeline; forwards along the
        timeline left by an earlier travel, as far as it goes. False when ``ev`` lies
        beyond everything recorded: the caller then runs forward from here.
        ``rewinding``: never land back where the travel started (see :meth:`travel`).
        """
        s = self.s
        target = (self.epoch, ev)
        if ev <= s.kernel.ev:
            left = list(self.timeline)
            self.travel(left, target, left=left, back_from=s.kernel.ev if rewinding else None)
            return True
        future = self.future
        if future is None:
            return False
        reached = _reaches(future, target)
        self.travel(future, target if reached else None)
        self.future = future
        return reached

    def restore(self, cp: "Checkpoint") -> None:
        left = list(self.timeline)
        self.travel(cp.timeline, None, left=left)

    # ------------------------------------------------------------------ checkpoints
    def checkpoint(self, name: str | None) -> Checkpoint:
        from .dump import dump

        s = self.s
        number = self.next_checkpoint
        self.next_checkpoint += 1
        name = name if name is not None else str(number)
        for n, cp in list(self.checkpoints.items()):
            if cp.name == name:
                del self.checkpoints[n]
        cp = Checkpoint(number, name, tuple(self.timeline), self.epoch, s.kernel.ev, s.kernel.now, dump(s))
        self.checkpoints[number] = cp
        return cp

    def find_checkpoint(self, ref, node=None) -> Checkpoint:
        ref_s = str(ref)
        for cp in self.checkpoints.values():
            if cp.name == ref_s:
                return cp
        if isinstance(ref, int) and ref in self.checkpoints:
            return self.checkpoints[ref]
        names = [cp.name for cp in self.checkpoints.values()]
        from ..lang.errors import suggestion

        if names:
            hint = "; checkpoints: " + ", ".join(
                cp.name if cp.name == str(num) else f"{num} \"{cp.name}\"" for num, cp in self.checkpoints.items())
            hint += " (or `now` in diff)" if isinstance(node, ast.Diff) else ""
        else:
            hint = " (none yet: `checkpoint NAME` takes one)"
        raise TshError(suggestion("checkpoint", ref_s, names) + hint, _ref_pos(node, ref))

    # ------------------------------------------------------------------ save FILE
    def script(self, save_path: str | None = None) -> str:
        """The current timeline as .tsh text that replays to the same state.

        With ``save_path`` (where the text goes), a file named relative to somewhere else
        (the working directory, for a typed line) is written so that it is found from there.
        """
        s = self.s
        save_dir = os.path.dirname(os.path.abspath(save_path)) if save_path else None
        k = s.kernel
        lines = [f"# tockshell session saved at ev={k.ev} t={format_time(k.now)} on board \"{s.board.name}\"",
                 "# replay: tockshell run FILE (a statement refused during the session is kept as a comment)"]
        if self.initial_board != "default":
            lines.append(f"board {self.initial_board}")
        for e in self.timeline:
            if isinstance(e, Entry):
                if e.error is not None:
                    lines.append(_comment(f"refused: {e.text}   ({e.error})"))
                else:
                    lines.append(_portable_text(e, save_dir) if save_dir else e.text)
            elif isinstance(e, Cut):
                lines.extend(self._cut_lines(e))
            elif isinstance(e, TableEntry):
                lines.extend(table_statements(e.table, e.base))
            elif isinstance(e, HoldEntry):
                lines.append(f"tbreak {e.kind} {e.process}   # reverse-continue stopped here")
                lines.append("step")
        return "\n".join(lines) + "\n"

    def _cut_lines(self, c: Cut) -> list[str]:
        e = c.entry
        n = c.ev - e.ev0 if c.epoch == e.epoch else 0
        simple = isinstance(e.node, (ast.Run, ast.Step, ast.Continue, ast.Next, ast.Finish))
        head = _comment(f"{e.text}   (stopped by time travel at ev={c.ev})")
        if n <= 0:
            return [head]
        if simple:
            return [head, f"step {n}"]
        return [head, f"# (a compound statement: only its events are replayed, as `step {n}`)", f"step {n}"]


@contextlib.contextmanager
def _quiet_events(on: bool = True):
    yield


def _looking(node) -> bool:
    if isinstance(node, ast.Board):
        return node.name is None
    if isinstance(node, ast.Stats):
        return not node.reset
    if isinstance(node, ast.Trace):
        return node.setting is None
    return isinstance(node, LOOKING)


def _comment(text: str) -> str:
    return "# " + " ".join(text.split())


def _portable_text(e: Entry, save_dir: str) -> str:
    """``e.text`` with the files it names (spawn tbf=, tab=, app=path.py:Name) made absolute when
    they were relative to another directory than ``save_dir``: a line typed at the prompt names
    them from the working directory, a saved file is read from its own (`tockshell run` looks
    there), so `save` elsewhere then `run` did not find them."""
    node = e.node
    if not isinstance(node, ast.Spawn) or e.source is None:
        return e.text
    from_file = e.file is not None and not e.file.startswith("<") and os.path.isfile(e.file)
    base = os.path.dirname(os.path.abspath(e.file)) if from_file else os.getcwd()
    if base == save_dir:
        return e.text
    from ..lang.interpreter import _pathish

    text = e.text
    for kv in node.options:
        if kv.key not in ("tbf", "tab", "app") or kv.value.pos is None:
            continue
        value = kv.value
        path = value.text if isinstance(value, ast.String) else _pathish(value)
        if path is None:
            continue
        tail = ""
        if kv.key == "app":
            path, sep, name = path.rpartition(":")
            if not sep or not path.endswith(".py"):
                continue  # a built-in app
            tail = ":" + name
        if os.path.isabs(path) or path.startswith("~"):
            continue
        literal = value.pos.text(e.source[1])
        if not literal or literal not in text:
            continue
        full = os.path.normpath(os.path.join(base, path)) + tail
        text = text.replace(literal, '"' + full.replace("\\", "\\\\").replace('"', '\\"') + '"', 1)
    return text


def _undoes_nothing(new: list, old: list) -> bool:
    """True when replaying ``old`` gave ``new`` leaving out only statements that look (and tables):
    a travel that changed nothing of the model (a `fault`, a `config` after the last event would count)."""
    kept = [e for e in new if not isinstance(e, TableEntry)]
    rest = [e for e in old if not isinstance(e, TableEntry)]
    if rest[:len(kept)] != kept:
        return False
    return all(isinstance(e, Entry) and _looking(e.node) for e in rest[len(kept):])


def _is_prefix(a: list, b: list) -> bool:
    """True when timeline ``a`` is the start of ``b``: ``b`` is still the future of ``a``.

    What a travel adds is not a difference: the breakpoint tables it puts back, and the cut it
    ends on when that cut lies inside (or at the end of) the statement ``b`` has there. Without
    this a second rewind took the first one's landing point for the future, and a later goto
    forward lost every statement after it.
    """
    xa = [e for e in a if not isinstance(e, TableEntry)]
    xb = [e for e in b if not isinstance(e, TableEntry)]
    last = xa.pop() if xa and isinstance(xa[-1], Cut) else None
    n = len(xa)
    if n > len(xb) or any(x != y for x, y in zip(xa, xb)):
        return False
    if last is None:
        return True
    if n >= len(xb):
        return False
    there = xb[n]
    if isinstance(there, Cut):
        return there.entry == last.entry and (there.epoch, there.ev) >= (last.epoch, last.ev)
    return there == last.entry


def _reaches(timeline, target) -> bool:
    for e in timeline:
        ep, ev = _position(e)
        if ep == target[0] and ev >= target[1]:
            return True
    return False


def _statement_text(s, node) -> str:
    pos = node.pos
    if pos is not None:
        src = s.sources.get(pos.file)
        if src:
            text = pos.text(src).strip()
            if text:
                return text
    return type(node).__name__.lower()


MAX_CHAIN = 1000


def table_statements(table, base: int) -> list[str]:
    """Statements that rebuild a breakpoint table, numbered from ``base`` (the session's numbers may differ)."""
    from ..lang.expr import expr_text
    from .breakpoints import definition_text

    out = ["# the breakpoint table as it was after time travel", "delete", "undisplay"]
    for i, bp in enumerate(table.breakpoints.values()):
        n = base + i
        out.append(definition_text(bp))
        if bp.condition is not None:
            out.append(f"condition {n} {expr_text(bp.condition)}")
        if bp.ignore:
            out.append(f"ignore {n} {bp.ignore}")
        if not bp.enabled:
            out.append(f"disable {n}")
        if bp.commands:
            out.append(f"commands {n} {{ {'; '.join(bp.commands_text)} }}")
    for d in table.displays.values():
        out.append(f"display {d.text}")
    return out


class _Tee(io.TextIOBase):
    """The session's output, also kept so `record` can write each statement's output as comments."""

    def __init__(self, inner):
        self.inner = inner
        self.buf = io.StringIO()

    def write(self, text: str) -> int:
        self.buf.write(text)
        return self.inner.write(text)

    def flush(self) -> None:
        self.inner.flush()

    def mark(self) -> int:
        return self.buf.tell()

    def since(self, mark: int) -> str:
        return self.buf.getvalue()[mark:]

    def __getattr__(self, name):
        return getattr(self.inner, name)
