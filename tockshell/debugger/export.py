"""Pictures of a run, read from the kernel's log: Perfetto JSON, a Mermaid diagram, a terminal timeline.

All three read only ``kernel.log`` (:class:`~tockshell.kernel.trace.Record`:
ev, time, kind, pid, name, data) plus the board's driver names.

* :func:`perfetto` gives Chrome's trace-event JSON (``{"traceEvents": [...]}``),
  which ui.perfetto.dev and chrome://tracing open: one track per process
  (a trace "process" per Tock process, named after it, plus one for the
  kernel's hardware events), complete slices (``ph: "X"``) for syscalls,
  upcall handlers and computation, instants for faults and restarts, and
  flow arrows (``ph: "s"``/``"f"``) from the syscall or hardware event that
  scheduled an upcall to the handler that received it -- for IPC, from the
  sender's send to the receiver's read.
* :func:`mermaid` gives a ``sequenceDiagram``: processes and the drivers they
  call as participants, syscalls as arrows to the driver with their result,
  upcalls as dashed arrows back, IPC as arrows between processes.
* :func:`timeline` gives one text lane per process over virtual time.

A handler's slice runs from its delivery to the process's next yield (the
model does not log the return from a handler; the next yield is where
control is back in the kernel, which is what a trace of Tock would show).
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from ..abi import SyscallReturn
from ..kernel import trace
from ..lang.values import format_time

__all__ = ["perfetto", "perfetto_json", "mermaid", "timeline", "SYSCALL_KINDS", "DELIVERY_KINDS"]

SYSCALL_KINDS = ("cmd", "subscribe", "allow_rw", "allow_ro", "allow_ur", "memop", "yield", "exit", "filtered")
DELIVERY_KINDS = ("function_call", "waitfor_nu", "waitfor_suppressed", "ipc_task")
_KERNEL_PID = 0
_IPC = frozenset({0x10000, 0xA0100, 0xA0101, 0xA0000, 0xA0001, 0xA0010})


def _us(ns: int) -> float:
    return ns / 1000.0


def _tracks(records) -> dict[str, int]:
    """Trace pid of each Tock process name, in order of first appearance (0 is the kernel)."""
    out: dict[str, int] = {}
    for r in records:
        if r.name is not None and r.name not in out:
            out[r.name] = len(out) + 1
    return out


def _syscall_name(session, r) -> str:
    d = r.data
    k = r.kind
    drv = session.board.driver_name
    if k == "cmd":
        return f"command {drv(d[0])} {d[1]}"
    if k == "subscribe":
        return f"subscribe {drv(d[0])} {d[1]}"
    if k in ("allow_rw", "allow_ro", "allow_ur"):
        return f"{k.replace('_', '-')} {drv(d[0])} {d[1]}"
    if k == "memop":
        return f"memop {d[0]}"
    if k == "yield":
        return f"yield {d[0].name.lower().replace('_', '-')}" if hasattr(d[0], "name") else "yield"
    if k == "exit":
        return f"exit {d[0]}"
    if k == "filtered":
        return "filtered syscall"
    return k


def _result(r) -> str | None:
    i = {"cmd": 4, "subscribe": 4, "allow_rw": 4, "allow_ro": 4, "allow_ur": 4, "memop": 2, "exit": 2}.get(r.kind)
    if i is None or len(r.data) <= i:
        return None
    v = r.data[i]
    return str(v) if isinstance(v, SyscallReturn) else None


def _upcall_label(session, r) -> str:
    d = r.data
    if r.kind == "function_call":
        if len(d) > 5 and d[5] == "_start":
            return "_start"
        src = d[6] if len(d) > 6 else None
        if src is not None:
            return f"upcall {session.board.driver_name(src[0])}/{src[1]}"
        return "upcall"
    if r.kind in ("waitfor_nu", "waitfor_suppressed"):
        return "yield-wait-for returns"
    if r.kind == "ipc_task":
        return f"legacy IPC {d[0]}"
    return r.kind


def _causes(records: list) -> dict[int, Any]:
    """For each event number, the record that started it (a syscall, a delivery, a hardware event)."""
    first: dict[int, Any] = {}
    for r in records:
        # A capsule schedules upcalls inside the command it handles, so the schedule is logged
        # before the syscall that caused it: the cause is the event's syscall, delivery or interrupt.
        if r.ev not in first and (r.kind in SYSCALL_KINDS or r.kind in DELIVERY_KINDS or r.kind == "hw"):
            first[r.ev] = r
    return first


def _flows(records: list) -> list[tuple[Any, Any]]:
    """(cause record, delivery record) pairs: what scheduled each delivered upcall, FIFO per queue."""
    first = _causes(records)
    waiting: dict[tuple, list] = {}
    pairs = []
    for r in records:
        if r.kind == "schedule" and str(r.data[7]).startswith("Ok"):
            cause = first.get(r.ev)
            waiting.setdefault((r.name, r.data[0], r.data[1]), []).append(cause if cause is not None else r)
        elif r.kind in ("function_call", "waitfor_nu", "waitfor_suppressed"):
            d = r.data
            if r.kind == "function_call":
                src = d[6] if len(d) > 6 else None
            else:
                src = None
            keys = [k for k in waiting if k[0] == r.name and (src is None or (k[1], k[2]) == tuple(src))]
            for key in keys:
                q = waiting[key]
                if q:
                    pairs.append((q.pop(0), r))
                    break
    return pairs


def perfetto(session, records: Iterable | None = None) -> dict:
    """The log as a Chrome trace-event document (a dict ready for ``json.dump``)."""
    k = session.kernel
    recs = list(k.log if records is None else records)
    tracks = _tracks(recs)
    syscall_ns = k.costs.ns(k.costs.syscall)
    ev: list[dict] = [
        {"name": "process_name", "ph": "M", "pid": _KERNEL_PID, "tid": 0, "ts": 0,
         "args": {"name": f"kernel ({session.board.name} board)"}},
        {"name": "thread_name", "ph": "M", "pid": _KERNEL_PID, "tid": 0, "ts": 0, "args": {"name": "hardware events"}},
    ]
    for name, pid in tracks.items():
        ev.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "ts": 0, "args": {"name": name}})
        ev.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": 0, "ts": 0, "args": {"name": name}})
        ev.append({"name": "process_sort_index", "ph": "M", "pid": pid, "tid": 0, "ts": 0,
                   "args": {"sort_index": pid}})
    # A handler runs from its delivery to the process's next yield (or its end).
    open_handler: dict[str, Any] = {}
    slice_of: dict[int, dict] = {}  # id(record) -> the slice drawn for it (flow anchors)

    def close(name: str, t: int) -> None:
        h = open_handler.pop(name, None)
        if h is not None:
            h["dur"] = max(_us(t) - h["ts"], 0.001)

    last_t = recs[-1].time if recs else 0
    for r in recs:
        if r.name is None:
            if r.kind == "hw":
                e = {"name": str(r.data[0]), "cat": "hardware", "ph": "X", "pid": _KERNEL_PID, "tid": 0,
                     "ts": _us(r.time), "dur": 0.001, "args": {"ev": r.ev}}
                ev.append(e)
                slice_of[id(r)] = e
            continue
        pid = tracks[r.name]
        if r.kind in SYSCALL_KINDS:
            if r.kind == "yield":
                close(r.name, r.time - syscall_ns)
            args = {"ev": r.ev, "pid": r.pid}
            line = trace.trace_line(r)
            if line:
                args["trace"] = line
            res = _result(r)
            if res:
                args["result"] = res
            e = {"name": _syscall_name(session, r), "cat": "syscall", "ph": "X", "pid": pid, "tid": 0,
                 "ts": _us(r.time - syscall_ns), "dur": _us(syscall_ns), "args": args}
            ev.append(e)
            slice_of[id(r)] = e
        elif r.kind in DELIVERY_KINDS:
            close(r.name, r.time)
            e = {"name": _upcall_label(session, r), "cat": "upcall", "ph": "X", "pid": pid, "tid": 0,
                 "ts": _us(r.time), "dur": 0.001, "args": {"ev": r.ev, "trace": trace.trace_line(r) or ""}}
            ev.append(e)
            slice_of[id(r)] = e
            if r.kind == "function_call" or r.kind == "ipc_task":
                open_handler[r.name] = e
        elif r.kind == "compute":
            ev.append({"name": "compute", "cat": "compute", "ph": "X", "pid": pid, "tid": 0, "ts": _us(r.time),
                       "dur": max(_us(r.data[0]), 0.001), "args": {"ev": r.ev}})
        elif r.kind in ("fault", "restart", "terminate", "boot", "stop", "resume", "panic", "timeslice"):
            close(r.name, r.time)
            ev.append({"name": r.kind, "cat": "lifecycle", "ph": "i", "s": "p", "pid": pid, "tid": 0,
                       "ts": _us(r.time), "args": {"ev": r.ev, "what": trace.describe(r)}})
    for name in list(open_handler):
        close(name, last_t)
    flow_id = 0
    for cause, delivery in _flows(recs):
        a, b = slice_of.get(id(cause)), slice_of.get(id(delivery))
        if a is None or b is None or a is b:
            continue
        flow_id += 1
        ev.append({"name": "upcall", "cat": "flow", "ph": "s", "id": flow_id, "pid": a["pid"], "tid": 0,
                   "ts": a["ts"] + a["dur"] / 2})
        ev.append({"name": "upcall", "cat": "flow", "ph": "f", "bp": "e", "id": flow_id, "pid": b["pid"], "tid": 0,
                   "ts": b["ts"] + b["dur"] / 2})
    return {"traceEvents": ev, "displayTimeUnit": "ns",
            "otherData": {"generator": "tockshell", "board": session.board.name, "events": k.ev,
                          "virtual_time_ns": k.now}}


def perfetto_json(session) -> str:
    return json.dumps(perfetto(session), indent=1)


# ------------------------------------------------------------------ mermaid
_SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 _.,()=/+-[]@'*")


def _text(s: str) -> str:
    """Message text Mermaid reads literally (no `;`, `#`, `:`, `<`, `>`, `{`, `}` or line breaks)."""
    out = " ".join("".join(c if c in _SAFE else " " for c in s.replace("→", "=")).split())
    return out or "-"


def _ident(name: str) -> str:
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return out if out and not out[0].isdigit() else "p_" + out


def mermaid(session, records: Iterable | None = None, limit: int = 300) -> str:
    """The log as a Mermaid ``sequenceDiagram`` (at most ``limit`` messages)."""
    k = session.kernel
    recs = list(k.log if records is None else records)
    board = session.board
    procs = _tracks(recs)
    drivers: list[int] = []
    msgs: list[str] = []
    first = _causes(recs)
    ids = {name: "P_" + _ident(name) for name in procs}

    def drv_id(num: int) -> str:
        if num not in drivers:
            drivers.append(num)
        return f"D_{num:x}"

    truncated = 0
    for r in recs:
        if len(msgs) >= limit:
            truncated += 1
            continue
        if r.name is None or r.name not in ids:
            if r.kind == "hw":
                msgs.append(f"    Note over HW: {_text(str(r.data[0]))} at {_text(format_time(r.time))}")
            continue
        me = ids[r.name]
        kind = r.kind
        if kind in ("cmd", "subscribe", "allow_rw", "allow_ro", "allow_ur"):
            d = drv_id(r.data[0])
            res = _result(r) or ""
            msgs.append(f"    {me}->>{d}: {_text(_syscall_name(session, r))}")
            msgs.append(f"    {d}-->>{me}: {_text(res)}")
        elif kind == "yield":
            msgs.append(f"    Note right of {me}: {_text(_syscall_name(session, r))}")
        elif kind == "schedule":
            res = str(r.data[7])
            cause = first.get(r.ev)
            src = drv_id(r.data[0])
            label = f"upcall {board.driver_name(r.data[0])}/{r.data[1]} queued"
            if not res.startswith("Ok"):
                label = f"upcall {board.driver_name(r.data[0])}/{r.data[1]} DROPPED {res}"
            if cause is not None and cause.name is not None and cause.name != r.name and cause.name in ids \
                    and r.data[0] in _IPC:
                msgs.append(f"    {ids[cause.name]}-){me}: {_text('IPC ' + label)}")
            else:
                msgs.append(f"    {src}-){me}: {_text(label)}")
        elif kind in DELIVERY_KINDS:
            msgs.append(f"    Note over {me}: {_text(_upcall_label(session, r))} delivered")
        elif kind in ("fault", "restart", "terminate", "boot", "panic"):
            msgs.append(f"    Note over {me}: {_text(trace.describe(r))}")
        elif kind == "exit":
            msgs.append(f"    Note over {me}: {_text(_syscall_name(session, r))}")
    lines = ["sequenceDiagram"]
    if any(m.lstrip().startswith("Note over HW") for m in msgs):
        lines.append("    participant HW as hardware")
    for name, ident in ids.items():
        lines.append(f"    participant {ident} as {_text(name)}")
    for num in drivers:
        lines.append(f"    participant D_{num:x} as {_text(board.driver_name(num))}")
    lines.extend(msgs)
    if truncated:
        anchor = next(iter(ids.values()), "HW")
        lines.append(f"    Note over {anchor}: {truncated} more records not shown")
    return "\n".join(lines) + "\n"


def mermaid_markdown(session, title: str = "") -> str:
    """A Markdown file holding the diagram (GitHub renders ```mermaid blocks)."""
    k = session.kernel
    head = title or f"tockshell run: {k.ev} events, t={format_time(k.now)}"
    return f"# {head}\n\n```mermaid\n{mermaid(session)}```\n"


# ------------------------------------------------------------------ timeline
def timeline(session, duration: int | None = None, width: int = 64) -> str:
    """One lane per process over virtual time (the last ``duration`` ns, or the whole log)."""
    k = session.kernel
    recs = list(k.log)
    if not recs:
        return "  (nothing has happened yet)"
    t1 = max(k.now, recs[-1].time)
    t0 = 0 if duration is None else max(0, t1 - duration)
    span = max(t1 - t0, 1)
    names = list(_tracks(recs))
    lanes = {n: [" "] * width for n in names}
    hw = [" "] * width
    # Strongest mark wins a column: fault > restart > upcall > syscall > compute > running.
    rank = {" ": 0, "·": 1, "=": 2, "|": 3, "^": 4, "R": 5, "X": 6}
    alive_from: dict[str, int] = {}

    def put(lane, t, ch):
        if t < t0:
            return
        i = min(width - 1, (t - t0) * width // span)
        if rank.get(ch, 0) >= rank.get(lane[i], 0):
            lane[i] = ch

    for r in recs:
        if r.name is None:
            if r.kind == "hw":
                put(hw, r.time, "|")
            continue
        lane = lanes[r.name]
        alive_from.setdefault(r.name, r.time)
        if r.kind in SYSCALL_KINDS:
            put(lane, r.time, "|")
        elif r.kind in DELIVERY_KINDS:
            put(lane, r.time, "^")
        elif r.kind == "compute":
            for t in range(r.time, min(r.time + r.data[0], t1) + 1, max(span // width, 1)):
                put(lane, t, "=")
        elif r.kind == "fault":
            put(lane, r.time, "X")
        elif r.kind in ("restart", "boot"):
            put(lane, r.time, "R")
    for n, lane in lanes.items():
        start = alive_from.get(n, t0)
        for i in range(width):
            if lane[i] == " " and t0 + (i + 1) * span // width > start:
                lane[i] = "·"
    label_w = max([len(n) for n in names] + [8])
    out = [f"  {'':<{label_w}}  {format_time(t0):<{width // 2}}{format_time(t1):>{width - width // 2}}"]
    out.append(f"  {'hardware':<{label_w}} │{''.join(hw)}│")
    for n in names:
        p = session.find_process(n)
        state = p.state.name if p is not None else "gone"
        out.append(f"  {n:<{label_w}} │{''.join(lanes[n])}│ {state}")
    out.append(f"  {'':<{label_w}}  | syscall  ^ upcall delivered  = computing  X fault  R restart/boot  "
               f"· alive  (one column = {format_time(span // width)})")
    return "\n".join(out)
