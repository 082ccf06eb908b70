"""The structured event log and its two spellings.

Every observable thing the kernel does is a :class:`Record` (cheap: a slotted
object holding a kind and a tuple). Formatting happens only when somebody reads:

* :func:`trace_line` gives the exact ``trace_syscalls`` line Tock's kernel would
  print (``kernel.rs``, ``upcall.rs``, ``grant.rs``, ``process_standard.rs``),
  or None for the model's own notes (faults, hardware events, policy refusals);
* :func:`describe` gives a sentence for every record (``explain``, ``run`` output).

``ev`` is the number of the scheduler event the record belongs to; several
records can share one event (a subscribe and the pending upcalls it removed).
"""

from __future__ import annotations

from ..abi import SyscallReturn


class Record:
    __slots__ = ("ev", "time", "kind", "pid", "name", "data")

    def __init__(self, ev: int, time: int, kind: str, pid: int | None, name: str | None, data: tuple):
        self.ev = ev
        self.time = time
        self.kind = kind
        self.pid = pid
        self.name = name
        self.data = data

    def __repr__(self) -> str:
        return f"<Record ev={self.ev} t={self.time} {self.kind} [{self.pid}] {self.data!r}>"

    def key(self) -> tuple:
        """A comparable, hashable form (for replay checks)."""
        return (self.ev, self.time, self.kind, self.pid, self.name, tuple(_plain(x) for x in self.data))


def _plain(x):
    if isinstance(x, SyscallReturn):
        return x.debug()
    if hasattr(x, "debug") and not isinstance(x, (int, str)):
        return x.debug()
    return x


def _ret(r) -> str:
    return "None" if r is None else r.debug()


def trace_line(r: Record) -> str | None:
    """The ``trace_syscalls`` line for a record, or None when Tock prints nothing for it."""
    k, d, p = r.kind, r.data, r.pid
    if k == "memop":
        return f"[{p}] memop({d[0]}, {d[1]:#x}) = {_ret(d[2])}"
    if k == "yield":
        return f"[{p}] yield. which: {d[0].debug}"
    if k == "subscribe":
        return f"[{p}] subscribe({d[0]:#x}, {d[1]}, @{d[2]:#x}, {d[3]:#x}) = {_ret(d[4])}"
    if k == "cmd":
        return f"[{p}] cmd({d[0]:#x}, {d[1]}, {d[2]:#x}, {d[3]:#x}) = {_ret(d[4])}"
    if k in ("allow_rw", "allow_ro", "allow_ur"):
        name = {"allow_rw": "read-write allow", "allow_ro": "read-only allow",
                "allow_ur": "userspace readable allow"}[k]
        return f"[{p}] {name}({d[0]:#x}, {d[1]}, @{d[2]:#x}, {d[3]}) = {_ret(d[4])}"
    if k == "exit":
        ret = "None" if d[2] is None else f"Some({d[2].debug()})"
        return f"[{p}] exit(which: {d[0]}, completion_code: {d[1]}) = {ret}"
    if k == "filtered":
        return f"[{p}] Filtered: {d[0]} was rejected with {d[1].name}"
    if k == "function_call":
        return "[{}] function_call @{:#x}({:#x}, {:#x}, {:#x}, {:#x})".format(p, *d[:5])
    if k == "waitfor_nu":
        return "[{}] Yield-WaitFor: [NU] ({:#x}, {:#x}, {:#x})".format(p, *d[:3])
    if k == "waitfor_suppressed":
        return ("[{}] Yield-WaitFor [Suppressed function_call @{:#x}] ({:#x}, {:#x}, {:#x}, {:#x})"
                .format(p, *d[:5]))
    if k == "schedule":
        drv, sub, fn, a0, a1, a2, appdata, res = d
        return f"[{p}] schedule[{drv:#x}:{sub}] @{fn:#x}({a0:#x}, {a1:#x}, {a2:#x}, {appdata:#x}) = {res}"
    if k == "bad_subscribe":
        return f"[{p}] schedule[{d[0]:#x}:{d[1]}] invalid subscribe_num"
    if k == "remove_pending":
        return f"[{p}] remove_pending_upcalls[{d[0]:#x}:{d[1]}] = {d[2]} upcall(s) removed"
    if k == "grant_warn":
        return f"[{p}] WARN driver #{d[0]:x} did not allocate grant"
    if k == "grant_error":
        return f"[{p}] ERROR driver #{d[0]:x} allocated wrong grant counts"
    return None


def describe(r: Record) -> str:
    """A sentence for any record (the model's notes included)."""
    k, d, who = r.kind, r.data, r.name or "kernel"
    line = trace_line(r)
    if k == "function_call":
        return f"delivered upcall @{d[0]:#x}({d[1]:#x}, {d[2]:#x}, {d[3]:#x}) to {who}" + (
            f" ({d[5]})" if len(d) > 5 and d[5] else "")
    if k == "schedule":
        drv, sub, fn, a0, a1, a2, appdata, res = d
        target = "null upcall" if fn == 0 else f"@{fn:#x}"
        if res.startswith("Ok"):
            return f"scheduled upcall {drv:#x}:{sub} {target}({a0:#x}, {a1:#x}, {a2:#x}) for {who}"
        return f"upcall {drv:#x}:{sub} for {who} not queued: {res}"
    if k == "waitfor_nu" or k == "waitfor_suppressed":
        return f"{who}'s yield-wait-for returned " + line.split("]", 1)[1].strip()
    if line is not None:
        return f"{who}: {line.split('] ', 1)[1]}"
    if k == "note":
        return d[0]
    if k == "fault":
        return f"{who} faulted: {d[0]}; fault policy action: {d[1]}"
    if k == "terminate":
        return f"{who} terminated" + (f" with completion code {d[0]}" if d and d[0] is not None else "")
    if k == "restart":
        return f"{who} restarted as [{d[0]}] (restart count {d[1]})"
    if k == "boot":
        return f"{who} booted as [{d[0]}]"
    if k == "stop":
        return f"{who} stopped (was {d[0]})"
    if k == "resume":
        return f"{who} resumed ({d[0]})"
    if k == "panic":
        return f"kernel panic: {d[0]}"
    if k == "timeslice":
        return f"{who}'s timeslice expired"
    if k == "null_dropped":
        return f"{who}: null-upcall event {d[0]:#x}:{d[1]} dropped by yield"
    if k == "grant_alloc":
        return f"grant for driver {d[0]:#x} allocated for {who}: {d[2]} bytes at {d[1]:#x}"
    if k == "custom_grant":
        return f"custom grant ({d[3]}) for driver {d[0]:#x} allocated for {who}: {d[2]} bytes at {d[1]:#x}"
    if k == "hw":
        return d[0]
    if k == "spawn":
        return f"{who} created as [{r.pid}] in slot {d[0]}"
    if k == "compute":
        return f"{who} computed for {d[0] / 1000:g}us"
    if k == "sp":
        return f"{who}: crt0 set the stack pointer to {d[0]:#x}"
    if k == "ipc_task":
        return f"legacy IPC {d[0]} notify from [{d[1]}] delivered to {who}"
    if k == "ipc_dropped":
        return f"legacy IPC {d[0]} notify from [{d[1]}] to {who} dropped: its task queue is full"
    return f"{k} {d}"
