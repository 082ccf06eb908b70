"""Text rendering of the model's state: tables, maps, hexdumps, events and glosses.

Pure functions from model state to text (no prompt_toolkit, no printing), so
the REPL, the batch runner and the golden tests all show the same thing. The
layouts follow Tock's own tools where they exist: the process console's
``list`` and ``status`` and the process printer's ``process`` block; where
Tock has nothing (grants, upcall queue, allows) they use Tock's vocabulary.

Functions take the session (for the kernel, the board and the shell's labels)
and return a string without a trailing newline.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..abi import ErrorCode, SyscallClass, syscall_debug
from ..kernel import trace
from ..kernel.process import StateKind
from ..kernel.upcall import TASK_QUEUE_CAPACITY
from ..lang.values import format_size, format_time, quote_bytes

__all__ = [
    "process_table", "status", "process_detail", "memory_map", "grants", "upcalls", "allows",
    "subscriptions", "stats", "hexdump", "event_text", "event_line", "result_line", "syscall_glosses",
    "failure_reason", "explain", "state_phrase", "kernel_summary", "board_summary", "upcall_name", "fn_name",
    "completion_text",
]

RESULT_COLUMN = 40


# ------------------------------------------------------------------ small helpers
def upcall_name(session, driver_num: int, sub: int) -> str:
    """``console/1`` (or ``0xa0101/2`` for a driver the board does not have)."""
    return f"{session.board.driver_name(driver_num)}/{sub}"


def driver_text(session, driver_num: int) -> str:
    """``console (0x1)``."""
    d = session.kernel.drivers.get(driver_num)
    return f"{d.name} ({driver_num:#x})" if d is not None else f"driver {driver_num:#x}"


def fn_name(session, p, addr: int) -> str:
    """``@on_write`` for a shell label, else the address in hex; ``null`` for 0."""
    if addr == 0:
        return "null"
    label = session.label_for(p, addr) if p is not None else None
    return f"@{label}" if label else f"{addr:#x}"


def completion_text(p) -> str:
    """``Completion Code:`` as the process printer shows it: None, Faulted or a signed int."""
    if not p.has_terminated:
        return "None"
    if p.completion_code is None:
        return "Faulted"
    c = p.completion_code & 0xFFFF_FFFF
    return str(c - (1 << 32) if c & 0x8000_0000 else c)


def state_phrase(session, p) -> str:
    """``client is Running in its handler`` / ``client is YieldedFor(...): waiting in yield-wait-for alarm/0``."""
    sentence = session.kernel.state_sentence(p)
    if sentence.startswith(p.state.name) and p.state.kind is not StateKind.STOPPED:
        return f"{p.name} is {sentence}"
    return f"{p.name} is {p.state.debug()}: {sentence}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _args(args: Iterable[int]) -> str:
    return ", ".join(f"{a:#x}" for a in args)


# ------------------------------------------------------------------ process console views
def _state_column(session, p) -> str:
    debug = p.state.debug()
    sentence = session.kernel.state_sentence(p)
    if sentence.startswith(p.state.name):
        return sentence if p.state.kind is not StateKind.STOPPED else debug + " — " + sentence
    return f"{debug} — {sentence}"


def process_table(session) -> str:
    """``list``: the process console's columns, then the state in words."""
    k = session.kernel
    lines = [" PID    ShortID    Name                Quanta  Syscalls  Restarts  Grants  State"]
    total = len(k.grant_specs)
    for p in k.processes:
        if p is None:
            continue
        lines.append(f" {p.identifier:<7}{str(p.short_id):<11}{p.name:<20}{p.timeslice_expirations:6}"
                     f"{p.syscall_count:10}{p.restart_count:10}  {p.grants_allocated:2}/{total:2}   "
                     f"{_state_column(session, p)}")
    if len(lines) == 1:
        lines.append(" (no processes: `spawn NAME` creates one)")
    return "\n".join(lines)


def status(session) -> str:
    """``status``: the process console's three counters."""
    k = session.kernel
    procs = k.live_processes()
    active = sum(1 for p in procs if p.state.kind in (StateKind.RUNNING, StateKind.YIELDED))
    quanta = sum(p.timeslice_expirations for p in procs)
    return (f"Total processes: {len(procs)}\nActive processes: {active}\n"
            f"Timeslice expirations: {quanta}")


#: Extra sections of ``process NAME`` from plugins: ``fn(session, p) -> list of lines`` (empty: nothing).
PROCESS_SECTIONS: list = []


def process_detail(session, p) -> str:
    """``process NAME``: the process printer's block, then the memory map, then plugins' sections."""
    k = session.kernel
    last = "None" if p.last_syscall is None else syscall_debug(*p.last_syscall)
    lines = [
        f"App: {p.name}   -   [{p.state.debug()}]",
        f" Events Queued: {len(p.tasks)}   Syscall Count: {p.syscall_count}   "
        f"Dropped Upcall Count: {p.dropped_upcalls}",
        f" Restart Count: {p.restart_count}",
        f" Last Syscall: {last}",
        f" Completion Code: {completion_text(p)}",
        "",
        f" ProcessId [{p.identifier}]  slot {p.index}  ShortId {p.short_id}  package \"{p.package}\"  "
        f"{'manual' if p.program is None else 'app ' + getattr(p.program, 'name', '?')}",
        f" {k.state_sentence(p)}",
        "",
        memory_map(session, p),
    ]
    if p.mpu_config is not None:
        # What Tock's process printer adds after the grants: the MPU configuration.
        lines += ["", *p.mpu_config.summary_lines(), *p.mpu_config.display_lines()]
    labels = session.labels_of(p)
    if labels:
        lines.append(" labels: " + ", ".join(f"@{n} {a:#x}" for n, a in labels.items()))
    if p.tbf is not None:
        lines += ["", *_tbf_lines(session, p)]
    for section in PROCESS_SECTIONS:
        extra = section(session, p)
        if extra:
            lines += ["", *extra]
    return "\n".join(lines)


def _tbf_lines(session, p) -> list[str]:
    """What the TBF header gave a loaded process (the TBF module's own description)."""
    try:
        from .. import tbf
    except ImportError:
        return []
    fn = getattr(tbf, "describe", None)
    if fn is None:
        return []
    return [" " + line for line in fn(p.tbf, session.board.driver_name)]


_INNER = 34


def _box_row(label: str, size: str = "", addr: int | None = None, note: str = "") -> str:
    text = f" {label}"
    if size and len(text) + len(size) + 2 > _INNER:
        # A long label (a custom grant's tag) is shortened so the size still fits the box.
        text = text[:_INNER - len(size) - 3] + "…"
    room = _INNER - len(text) - 1
    text = f"{text}{size:>{room}} " if size else text.ljust(_INNER)
    line = f" ║{text[:_INNER]}║"
    if addr is not None:
        line += f" {addr:#010x}"
    if note:
        line += ("" if addr is not None else " " * 11) + "  " + note
    return line.rstrip()


def _box_edge(left: str, fill: str, right: str, title: str = "", addr: int | None = None,
              note: str = "") -> str:
    if title:
        t = f" {title} "
        pad = _INNER - len(t)
        body = fill * (pad // 2) + t + fill * (pad - pad // 2)
    else:
        body = fill * _INNER
    line = f" {left}{body}{right}"
    if addr is not None:
        line += f" {addr:#010x}"
    if note:
        line += "  " + note
    return line


def _spacers(size: int, total: int) -> list[str]:
    # "To scale-ish": big regions get a few empty rows, small ones none.
    n = min(3, int(4 * size / total)) if total else 0
    return [f" ║{' ' * _INNER}║"] * n


def memory_map(session, p) -> str:
    """RAM from the top (kernel structures, grants, unused, app break, heap, stack) and flash."""
    k = session.kernel
    total = p.memory_len
    out = [_box_edge("╔", "═", "╗", "RAM", p.memory_end, "memory end (memop ram_end)")]
    addr = p.memory_end
    for name, size in k.kernel_structures():
        addr -= size
        out.append(_box_row(f"kernel: {name}", f"{size} B", addr))
    initial_break = p.memory_end - p.initial_kernel_memory_size
    out.append(_box_edge("╟", "─", "╢", "", initial_break, "initial kernel memory break"))
    blocks = []
    for g in p.grants:
        if g is not None:
            blocks.append((g.address, g.size, f"grant {session.board.driver_name(g.driver_num)} "
                                              f"({g.driver_num:#x})"))
    for cg in p.custom_grants:
        blocks.append((cg.address, cg.size, f"custom {session.board.driver_name(cg.driver_num)}: {cg.tag}"))
    for a, size, label in sorted(blocks, reverse=True):
        out.append(_box_row(label, f"{size} B", a))
    if p.alive or p.state.kind is StateKind.FAULTED:
        out.append(_box_row("▼ kernel memory break", "", p.kernel_memory_break, "(memop grant_start)"))
    unused = p.kernel_memory_break - p.app_break
    out.append(_box_row("unused", format_size(max(0, unused))))
    out += _spacers(unused, total)
    cfg = p.mpu_config
    if cfg is not None and cfg.app_region is not None:
        # The hardware boundary, a whole subregion at or above the break: the app may touch up to here.
        out.append(_box_row("▲ MPU: end of app subregions", "", cfg.app_accessible_end,
                            f"{cfg.enabled_app_subregions} of 16 subregions of {cfg.subregion_size} B enabled"))
    out.append(_box_row("▲ app break", "", p.app_break))
    out += _app_rows(session, p, total)
    out.append(_box_edge("╚", "═", "╝", "", p.memory_start, "memory start (memop ram_start)"))
    out.append("")
    out.append(_box_edge("╔", "═", "╗", "flash", p.flash_end, "flash end (memop flash_end)"))
    for off, size in p.writeable_flash_regions:
        out.append(_box_row("writeable region", format_size(size), p.flash_start + off))
    code = p.flash_end - p.flash_non_protected_start
    out.append(_box_row("app code and data", format_size(code), p.flash_non_protected_start))
    out.append(_box_row("protected: TBF header", f"{p.header_len} B", p.flash_start))
    out.append(_box_edge("╚", "═", "╝", "", p.flash_start, "flash start (memop flash_start)"))
    return "\n".join(out)


def _app_rows(session, p, total: int) -> list[str]:
    start, brk = p.memory_start, p.app_break
    stack_top, heap_start = p.debug_stack_start, p.debug_heap_start
    rows: list[str] = []
    if stack_top is None or heap_start is None or not (start <= stack_top <= heap_start <= brk):
        size = brk - start
        rows.append(_box_row("app memory", format_size(size), start,
                             "heap/stack unknown (no memop 10/11 yet)" if stack_top is None else ""))
        rows += _spacers(size, total)
        return rows
    heap = brk - heap_start
    used = session.heap_next(p) - heap_start
    note = f"alloc: {used} B used" if used > 0 else ""
    if used > heap:
        note += " EXCEEDED!"
    rows.append(_box_row("▲ heap", format_size(heap), heap_start, note))
    rows += _spacers(heap, total)
    if heap_start > stack_top:
        rows.append(_box_row("data", format_size(heap_start - stack_top), stack_top))
    rows.append(_box_row("▼ stack", format_size(stack_top - start), start, f"top {stack_top:#x}"))
    rows += _spacers(stack_top - start, total)
    return rows


# ------------------------------------------------------------------ grants, queue, allows
def grants(session, p) -> str:
    """``grants p``: each allocated grant with its slots and capsule data, then custom grants."""
    k = session.kernel
    initial = p.memory_end - p.initial_kernel_memory_size
    lines = [f"{p.name}: grant region {p.grant_bytes} B in use of the {max(initial - p.app_break, 0)} B between "
             f"the app break {p.app_break:#x} and the initial kernel break {initial:#x}"]
    missing = []
    for spec in k.grant_specs:
        g = p.grants[spec.grant_num] if spec.grant_num < len(p.grants) else None
        name = session.board.driver_name(spec.driver_num)
        if g is None:
            missing.append(name)
            continue
        lines.append(f" {name} ({spec.driver_num:#x})  grant #{spec.grant_num}  {g.size} B at {g.address:#x}  "
                     f"{_plural(spec.upcalls, 'upcall')}, {spec.allow_ro} ro, {spec.allow_rw} rw, "
                     f"data {spec.data_size} B")
        for i, (fn, appdata) in enumerate(g.upcalls):
            lines.append(f"   upcall {i}: " + ("null" if fn == 0 else
                                                f"{fn_name(session, p, fn)} ({fn:#x}) appdata {appdata:#x}"))
        for kind, slots in (("ro", g.allow_ro), ("rw", g.allow_rw)):
            for i, (a, n) in enumerate(slots):
                lines.append(f"   allow-{kind} {i}: {_buffer_text(p, a, n)}")
        drv = k.drivers.get(spec.driver_num)
        if drv is not None and g.data is not None:
            text = drv.describe_grant(g.data)
            if text:
                lines.append(f"   data: {text}")
    for cg in p.custom_grants:
        lines.append(f" custom grant of {session.board.driver_name(cg.driver_num)} ({cg.driver_num:#x}): "
                     f"{cg.size} B at {cg.address:#x}  {cg.tag}")
    if len(lines) == 1:
        lines.append(" no grant allocated yet (a subscribe, an allow or a capsule's command allocates one)")
    if missing:
        lines.append(" not allocated: " + ", ".join(missing))
    return "\n".join(lines)


def _buffer_text(p, addr: int, n: int) -> str:
    if n == 0:
        return "empty" if addr == 0 else f"empty ({addr:#x}, 0 bytes)"
    try:
        data = p.read(addr, min(n, 32))
        preview = "  " + quote_bytes(data, 32) + ("…" if n > 32 else "")
    except Exception:  # noqa: BLE001 - a stale buffer outside the block has no preview
        preview = ""
    return f"{addr:#x}, {_plural(n, 'byte')}{preview}"


def task_text(session, p, t) -> str:
    """One queued task in words."""
    if t.kind == "FunctionCall":
        if t.source is None:
            return f"_start (kernel) @{t.pc:#x}({_args(t.args)}, {t.appdata:#x})"
        return (f"{upcall_name(session, *t.source)} {fn_name(session, p, t.pc)}({_args(t.args)}) "
                f"appdata {t.appdata:#x}")
    if t.kind == "ReturnValue":
        return (f"{upcall_name(session, *t.upcall_id)} null-upcall event ({_args(t.args)}) "
                f"— only yield-wait-for sees it; a plain yield drops it")
    return f"legacy IPC {t.ipc_type.value} notify from [{t.caller.identifier}]"


def upcalls(session, p) -> str:
    """``upcalls p``: the pending task queue, oldest first."""
    n = len(p.tasks)
    lines = [f"{p.name}: {_plural(n, 'pending task')} (the queue holds {TASK_QUEUE_CAPACITY}); "
             f"dropped so far: {p.dropped_upcalls}"]
    for i, t in enumerate(p.tasks, 1):
        lines.append(f" {i}. {task_text(session, p, t)}   queued at {format_time(t.scheduled_at)}")
    if n:
        lines.append(" " + state_phrase(session, p))
    return "\n".join(lines)


def allows(session, p) -> str:
    """``allows p``: every non-empty allow slot, by driver."""
    lines = []
    for g in p.grants:
        if g is None:
            continue
        name = session.board.driver_name(g.driver_num)
        for kind, slots in (("ro", g.allow_ro), ("rw", g.allow_rw)):
            for i, (a, n) in enumerate(slots):
                if a or n:
                    lines.append(f" {name} allow-{kind} {i}: {_buffer_text(p, a, n)}")
    head = f"{p.name}: {_plural(len(lines), 'buffer')} allowed; allow high-water mark {p.allow_high_water_mark:#x}"
    return "\n".join([head] + lines)


def subscriptions(session, p) -> str:
    """``subscriptions p``: every non-null upcall slot, by driver."""
    lines = []
    for g in p.grants:
        if g is None:
            continue
        name = session.board.driver_name(g.driver_num)
        for i, (fn, appdata) in enumerate(g.upcalls):
            if fn:
                lines.append(f" {name}/{i}: {fn_name(session, p, fn)} ({fn:#x}) appdata {appdata:#x}")
    head = f"{p.name}: {_plural(len(lines), 'upcall')} subscribed"
    return "\n".join([head] + lines)


# ------------------------------------------------------------------ stats, memory
_CLASS_WORDS = ("yield", "subscribe", "command", "allow-rw", "allow-ro", "memop", "exit", "allow-ur")


def stats(session) -> str:
    """``stats``: kernel counters, then each driver's own ``stats()``."""
    k = session.kernel
    st = k.stats
    per = ", ".join(f"{w} {n}" for w, n in zip(_CLASS_WORDS, st.by_class) if n)
    cpu = k.costs.cpu_hz
    lines = [
        "kernel",
        f"  syscalls           {st.syscalls}" + (f"  ({per})" if per else ""),
        f"  context switches   {st.context_switches}",
        f"  upcalls            scheduled {st.upcalls_scheduled}, delivered {st.upcalls_delivered}, "
        f"dropped {st.upcalls_dropped}, null events dropped {st.null_events_dropped}",
        f"  bytes copied       {st.bytes_copied}",
        f"  hardware events    {st.hw_events}",
        f"  faults             {st.faults}, restarts {st.restarts}",
        f"  kernel work        {st.kernel_cycles} cycles = {format_time(st.kernel_cycles * 1_000_000_000 // cpu)} "
        f"at {cpu / 1e6:g} MHz",
        f"  virtual time       {format_time(k.now)}, {k.ev} events",
    ]
    quiet = []
    for d in k.drivers.values():
        fn = getattr(d, "stats", None)
        if not callable(fn):
            continue
        values = fn() or {}
        if not any(isinstance(v, (int, float)) and v for v in values.values()):
            # A capsule nobody used: one name in a list rather than a block of zeros.
            quiet.append(d.name)
            continue
        lines.append(f"{d.name}")
        width = max(len(str(key)) for key in values)
        for key, v in values.items():
            lines.append(f"  {str(key):<{width}}  {v}")
    if quiet:
        lines.append("nothing counted yet: " + ", ".join(quiet))
    return "\n".join(lines)


def hexdump(addr: int, data: bytes) -> str:
    """16 bytes a line: address, hex in two groups of eight, printable ASCII."""
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        hexes = [f"{b:02x}" for b in chunk] + ["  "] * (16 - len(chunk))
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{addr + off:#010x}  {' '.join(hexes[:8])}  {' '.join(hexes[8:])}  |{text}|")
    return "\n".join(lines) if lines else f"{addr:#010x}  (0 bytes)"


# ------------------------------------------------------------------ events
_QUIET = frozenset({"remove_pending_zero", "spawn"})


def event_text(session, rec) -> str | None:
    """One kernel record as a line of `run` output (None for records not worth a line).

    Called as the record is made, so it may look at the process's current
    queue (the "N pending" of a schedule line).
    """
    k = session.kernel
    d = rec.data
    kind = rec.kind
    p = _process_of(k, rec)
    who = rec.name or "kernel"
    if kind == "schedule":
        drv, sub, fn, a0, a1, a2, appdata, res = d
        target = f"{who} {fn_name(session, p, fn)}({_args((a0, a1, a2))})" if fn else \
            f"{who} null upcall ({_args((a0, a1, a2))})"
        if res.startswith("Ok"):
            n = len(p.tasks) if p is not None else 0
            return f"schedule {upcall_name(session, drv, sub)} → {target}   queued ({n} pending)"
        if "QueueFull" in res:
            dropped = p.dropped_upcalls if p is not None else "?"
            return (f"schedule {upcall_name(session, drv, sub)} → {target}   DROPPED: queue full "
                    f"({TASK_QUEUE_CAPACITY} pending); {who}'s dropped upcall count is now {dropped}")
        return f"schedule {upcall_name(session, drv, sub)} → {target}   not queued: {res}"
    if kind == "function_call":
        if len(d) > 5 and d[5] == "_start":
            return f"{who}: _start delivered @{d[0]:#x}({_args(d[1:5])})"
        src = d[6] if len(d) > 6 else None
        name = upcall_name(session, *src) if src is not None else "upcall"
        return f"{who}: {name} {fn_name(session, p, d[0])}({_args(d[1:4])}) delivered — Running in its handler"
    if kind in ("waitfor_nu", "waitfor_suppressed"):
        args = d[:3] if kind == "waitfor_nu" else d[1:4]
        uid = p.state.wait_for if p is not None and p.state.kind is StateKind.YIELDED_FOR else None
        what = upcall_name(session, *uid) if uid is not None else "its upcall"
        extra = "" if kind == "waitfor_nu" else f" (handler {fn_name(session, p, d[0])} not run)"
        return f"{who}: yield-wait-for {what} returned ({_args(args)}){extra}"
    if kind == "remove_pending":
        if d[2] == 0:
            return None
        return f"{who}: {_plural(d[2], 'pending upcall')} of {upcall_name(session, d[0], d[1])} removed"
    if kind == "grant_alloc":
        return f"{who}: {grant_alloc_text(session, d[0], d[1], d[2])}"
    if kind == "fault":
        return f"{who} faulted: {d[0]} — fault policy {k.fault_policy}: {d[1]}"
    if kind == "spawn" or kind == "ipc_dropped":
        return None  # a dropped IPC notify: the legacy IPC capsule's own note says so, in its words
    if kind == "hw":
        return str(d[0])
    return trace.describe(rec)


def grant_alloc_text(session, drv: int, addr: int, size: int) -> str:
    spec = next((s for s in session.kernel.grant_specs if s.driver_num == drv), None)
    slots = f" ({_plural(spec.upcalls, 'upcall')}, {spec.allow_ro} ro, {spec.allow_rw} rw)" if spec else ""
    return f"grant for {driver_text(session, drv)} allocated: {size} bytes at {addr:#x}{slots}"


def event_line(session, rec, text: str | None = None) -> str | None:
    """``  0.61ms  console: client wrote "hello"``."""
    text = event_text(session, rec) if text is None else text
    if text is None:
        return None
    return f"  {format_time(rec.time):>9}  {text}"


def _process_of(k, rec):
    if rec.name is None:
        return None
    for p in k.processes:
        if p is not None and p.name == rec.name:
            return p
    return None


# ------------------------------------------------------------------ syscall results
def result_line(result_text: str, gloss: str = "") -> str:
    """``→ Success(0x0, 0)`` with a gloss in a column to its right."""
    head = f"→ {result_text}"
    if not gloss:
        return head
    return f"{head:<{RESULT_COLUMN}}  {gloss}" if len(head) < RESULT_COLUMN else f"{head}   {gloss}"


def result_gloss(session, p, cls: int, regs: tuple, r, records=()) -> str:
    """The short note after a result: what was there before, or why it failed."""
    if r.is_failure:
        return failure_reason(session, p, cls, regs, r, records)
    if r.kind == "SubscribeSuccess":
        fn, appdata = r.values
        if fn == 0:
            return "previous upcall: null"
        return f"previous upcall: {fn_name(session, p, fn)} ({fn:#x}), appdata {appdata:#x}"
    if r.kind.startswith("Allow") or r.kind.startswith("UserspaceReadable"):
        a, n = r.values
        return "previous buffer: none" if a == 0 and n == 0 else f"previous buffer: {a:#x}, {_plural(n, 'byte')}"
    if cls == SyscallClass.MEMOP:
        op = regs[0]
        if op == 0:
            return f"app break now {p.app_break:#x}"
        if op == 1:
            return f"previous break; app break now {p.app_break:#x}"
    return ""


def failure_reason(session, p, cls: int, regs: tuple, r, records=()) -> str:
    """Why the kernel refused a syscall, in words (``explain`` and the result gloss)."""
    k = session.kernel
    err = r.error
    r0, r1, r2, r3 = regs
    for rec in records:
        if rec.kind == "filtered":
            return f"the board's syscall filter rejected it with {rec.data[1].name}"
    notes = [rec.data[0] for rec in records if rec.kind == "note"]
    if notes:
        return notes[-1]
    if cls in (SyscallClass.SUBSCRIBE, SyscallClass.COMMAND, SyscallClass.ALLOW_RW, SyscallClass.ALLOW_RO,
               SyscallClass.ALLOW_UR) and err is ErrorCode.NODEVICE and r0 not in k.drivers:
        return f"no driver {r0:#x} on this board"
    drv = k.drivers.get(r0)
    dname = drv.name if drv is not None else f"{r0:#x}"
    if cls == SyscallClass.SUBSCRIBE:
        if err is ErrorCode.INVAL:
            return (f"{r2:#x} is not a valid upcall pointer: it must lie in {p.name}'s flash after the "
                    f"TBF header [{p.flash_non_protected_start:#x}, {p.flash_end:#x}) or in its RAM below "
                    f"the app break {p.app_break:#x}")
        if err in (ErrorCode.NOSUPPORT,) and drv is not None and drv.grant is not None:
            n = drv.grant.upcalls
            return f"{dname} has {_plural(n, 'upcall slot')}" + (f" (0..{n - 1})" if n else "") + \
                "; a larger number gets NOSUPPORT (TRD104 says INVALID)"
        if err is ErrorCode.NOMEM:
            return _nomem_reason(session, p, drv, records)
    if cls in (SyscallClass.ALLOW_RW, SyscallClass.ALLOW_RO, SyscallClass.ALLOW_UR):
        if err is ErrorCode.INVAL:
            where = f"{p.name}'s RAM below the app break [{p.memory_start:#x}, {p.app_break:#x})"
            if cls == SyscallClass.ALLOW_RO:
                where += f" or its flash after the header [{p.flash_non_protected_start:#x}, {p.flash_end:#x})"
            return f"the buffer [{r2:#x}, {r2 + r3:#x}) is not inside {where}"
        if err is ErrorCode.NOSUPPORT and cls == SyscallClass.ALLOW_UR:
            return f"{dname} does not support userspace-readable allows"
        if err is ErrorCode.NOSUPPORT and drv is not None and drv.grant is not None:
            n = drv.grant.allow_rw if cls == SyscallClass.ALLOW_RW else drv.grant.allow_ro
            kind = "read-write" if cls == SyscallClass.ALLOW_RW else "read-only"
            return f"{dname} has {_plural(n, kind + ' allow slot')}; a larger number gets NOSUPPORT"
        if err is ErrorCode.NOMEM:
            return _nomem_reason(session, p, drv, records)
    if cls == SyscallClass.MEMOP:
        if r0 in (0, 1) and err is ErrorCode.NOMEM:
            target = r1 if r0 == 0 else (p.app_break + r1) & 0xFFFF_FFFF  # sbrk's signed offset, wrapped
            if target < p.allow_high_water_mark:
                return (f"{target:#x} is below the allow high-water mark {p.allow_high_water_mark:#x} "
                        f"(the break cannot drop below memory ever allowed)")
            if target > p.kernel_memory_break:
                return f"{target:#x} is above the kernel memory break {p.kernel_memory_break:#x} (grants live there)"
            if p.mpu_config is not None and p.memory_start <= target < p.memory_end:
                why = p.mpu_config.refusal(target, p.kernel_memory_break)
                if why:
                    return why
            return f"{target:#x} is outside {p.name}'s RAM block"
        if err is ErrorCode.NOSUPPORT:
            return f"memop {r0} does not exist (0..11)"
        if err is ErrorCode.FAIL:
            return f"{p.name} has no writeable flash region {r1}"
    if cls == SyscallClass.EXIT and err is ErrorCode.NOSUPPORT:
        return "the exit number must be 0 (terminate) or 1 (restart)"
    if cls == SyscallClass.COMMAND and err is ErrorCode.NOSUPPORT:
        return f"{dname} does not implement command {r1}"
    if cls == SyscallClass.COMMAND and err is ErrorCode.NOMEM:
        mpu_why = _grant_mpu_refusal(p, drv)
        if mpu_why:
            return mpu_why
        return f"{dname} could not allocate its grant for {p.name}: the grant region is full"
    return ""


def _nomem_reason(session, p, drv, records) -> str:
    free = p.kernel_memory_break - p.app_break
    # Tock prints the same WARN whether the capsule allocates nothing or the grant region is full:
    # tell them apart by whether its grant would have fitted.
    full = drv is not None and drv.grant is not None and drv.grant.size > free
    mpu_why = _grant_mpu_refusal(p, drv) if not full else None
    if mpu_why:
        return mpu_why
    if not full and (any(rec.kind == "grant_warn" for rec in records) or (drv is not None and drv.grant is None)):
        return (f"{drv.name if drv else 'the driver'} has no grant to store it in "
                f"(its allocate_grant allocates nothing)")
    need = f" (its grant needs {drv.grant.size} B)" if full else ""
    return (f"the grant could not be allocated: only {free} B free between the app break and the kernel "
            f"memory break{need}")


def _grant_mpu_refusal(p, drv) -> str | None:
    """Why the MPU (not the byte count) kept ``drv``'s grant out of ``p``'s memory, or None."""
    if p.mpu_config is None or drv is None or drv.grant is None or p.grants[drv.grant.grant_num] is not None:
        return None
    cfg = p.mpu_config
    new_break = (p.kernel_memory_break - drv.grant.size) & ~3
    if cfg.app_region is None or new_break < p.app_break or cfg.update(p.app_break, new_break) is not None:
        return None
    n = cfg.subregions_needed(p.app_break)
    end = cfg.app_region.start + n * cfg.subregion_size
    return (f"{drv.name}'s grant ({drv.grant.size} B) would put the kernel memory break at {new_break:#x}, below "
            f"{end:#x}, the end of the {n} MPU subregions of {cfg.subregion_size} B that cover the app break "
            f"(update_app_memory_region refuses)")


def syscall_glosses(session, p, records) -> list[str]:
    """Lines explaining what a shell-issued syscall did beyond its result (grants, removed upcalls...)."""
    out = []
    for rec in records:
        kind = rec.kind
        if kind in ("cmd", "subscribe", "allow_rw", "allow_ro", "allow_ur", "memop", "yield", "exit",
                    "function_call", "waitfor_nu", "waitfor_suppressed", "null_dropped"):
            continue
        text = event_text(session, rec)
        if text:
            out.append(text)
    return out


# ------------------------------------------------------------------ explain
def explain(session) -> str:
    """The last event in words, with the reason for any refusal and the processes' states."""
    k = session.kernel
    log = k.log
    lines = []
    refused = session.last_refusal
    if refused is not None and refused[0] >= k.ev:
        by = refused[2] if len(refused) > 2 else "shell"
        if by == "loader":
            lines.append(f"The last spawn was refused; no process was created and no event happened: {refused[1]}")
        elif by == "panic":
            lines.append(f"The last statement was refused: {refused[1]}")
        else:
            lines.append(f"The last statement was refused by the shell, not the kernel: {refused[1]}")
    source = session.last_records or list(log)[-64:]
    if not source:
        lines.append("Nothing has happened yet: `spawn NAME` creates a process.")
        return "\n".join(lines)
    last_ev = source[-1].ev
    recs = [r for r in source if r.ev == last_ev]
    lines.append(f"Event {last_ev} at {format_time(recs[0].time)}:")
    procs = []
    for rec in recs:
        text = event_text(session, rec)
        if text is None:
            continue
        lines.append(f"  {text}")
        result = _record_result(rec)
        p = _process_of(k, rec)
        if result is not None and result.is_failure and p is not None:
            cls = _RECORD_CLASS[rec.kind]
            regs = _record_regs(rec)
            why = failure_reason(session, p, cls, regs, result, recs)
            lines.append(f"    why {result.error.name}: {why or _ERROR_MEANING.get(result.error, '')}")
        if p is not None and p not in procs:
            procs.append(p)
    for p in procs:
        lines.append("Now " + state_phrase(session, p))
    if k.panicked:
        lines.append(f"The kernel has panicked: {k.panicked}")
    return "\n".join(lines)


_RECORD_CLASS = {"cmd": SyscallClass.COMMAND, "subscribe": SyscallClass.SUBSCRIBE,
                 "allow_rw": SyscallClass.ALLOW_RW, "allow_ro": SyscallClass.ALLOW_RO,
                 "allow_ur": SyscallClass.ALLOW_UR, "memop": SyscallClass.MEMOP, "exit": SyscallClass.EXIT}

_ERROR_MEANING = {
    ErrorCode.FAIL: "generic failure", ErrorCode.BUSY: "the driver is busy; retry later",
    ErrorCode.ALREADY: "already in that state", ErrorCode.OFF: "the device is off",
    ErrorCode.RESERVE: "a reservation is needed first", ErrorCode.INVAL: "an invalid parameter",
    ErrorCode.SIZE: "a size too large or too small", ErrorCode.CANCEL: "cancelled",
    ErrorCode.NOMEM: "out of memory", ErrorCode.NOSUPPORT: "not supported",
    ErrorCode.NODEVICE: "no such driver, or not accessible", ErrorCode.UNINSTALLED: "the device was removed",
    ErrorCode.NOACK: "not acknowledged",
}


def _record_result(rec):
    d = rec.data
    if rec.kind in ("cmd", "subscribe", "allow_rw", "allow_ro", "allow_ur"):
        return d[4]
    if rec.kind == "memop":
        return d[2]
    if rec.kind == "exit":
        return d[2]
    return None


def _record_regs(rec):
    d = rec.data
    if rec.kind in ("cmd", "subscribe", "allow_rw", "allow_ro", "allow_ur"):
        return tuple(d[:4])
    if rec.kind in ("memop", "exit"):
        return (d[0], d[1], 0, 0)
    return (0, 0, 0, 0)


# ------------------------------------------------------------------ kernel and board
def kernel_summary(session) -> str:
    """``kernel``: the version (as the process console's ``kernel`` prints it) and the board."""
    from .. import TOCK_KERNEL_VERSION, __version__

    major, minor = TOCK_KERNEL_VERSION
    return f"Kernel version: {major}.{minor} (tockshell {__version__} model)\n" + board_summary(session)


def board_summary(session) -> str:
    """The board: policies, memory layout, drivers with numbers and one-line summaries."""
    k = session.kernel
    c = k.config
    lines = [
        f"board \"{session.board.name}\": {c.num_procs} process slots, scheduler {k.scheduler.describe()}, "
        f"fault policy {k.fault_policy}",
        f"  app flash from 0x00040000, RAM from 0x20000000; {len(k.grant_specs)} grants per process; "
        f"trd104 {'on' if c.trd104 else 'off'}, waitfor_quirk {'on' if c.waitfor_flag_quirk else 'off'}",
        f"  cpu {k.costs.cpu_hz / 1e6:g} MHz: syscall {k.costs.syscall} cycles, context switch "
        f"{k.costs.context_switch}, upcall {k.costs.upcall}, hw event {k.costs.hw_event}",
        "drivers:",
    ]
    mpu_line = k.mpu.describe()
    if mpu_line:
        lines.insert(3, f"  {mpu_line}")
    # What this board checks when it loads a TBF: a switch of board puts these back at their defaults.
    from ..lang.commands import CONFIG_KEYS

    tbf_keys = [key for key in ("credentials", "short_id_rule") if key in CONFIG_KEYS]
    if tbf_keys:
        lines.insert(len(lines) - 1, "  TBF loading: " + ", ".join(
            f"{key} {CONFIG_KEYS[key].getter(session)}" for key in tbf_keys))
    for num in sorted(k.drivers):
        d = k.drivers[num]
        lines.append(f"  {num:#08x}  {d.name:<14} {d.summary}".rstrip())
    return "\n".join(lines)
