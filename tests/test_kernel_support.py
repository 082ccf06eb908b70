"""Helpers shared by the kernel tests (imported as ``test_kernel_support``), plus their own checks.

Kept in a ``test_`` module so it sits with the kernel tests it serves; pytest
puts ``tests/`` on ``sys.path``, so the other modules import it by name.
"""

from __future__ import annotations

from tockshell.abi import SyscallClass
from tockshell.board import build_board
from tockshell.kernel import trace_line

YIELD, SUBSCRIBE, COMMAND, ALLOW_RW, ALLOW_RO, MEMOP, EXIT, ALLOW_UR = range(8)
ALARM, CONSOLE, LED, BUTTON, LLD, RNG = 0x0, 0x1, 0x2, 0x3, 0x8, 0x40001
NO_DRIVER = 0x7777


def new_board(fault_policy: str = "stop", **kw):
    """A default board; 'stop' so that a fault leaves something to inspect instead of a panic."""
    return build_board(fault_policy=fault_policy, **kw)


def manual(fault_policy: str = "stop", name: str = "a", **kw):
    """(board, kernel, process): one booted manual process, Running after crt0's memops."""
    b = new_board(fault_policy, **{k: v for k, v in kw.items() if k in ("config", "scheduler", "rng_seed")})
    pkw = {k: v for k, v in kw.items() if k not in ("config", "scheduler", "rng_seed")}
    p = b.kernel.create_process(name, **pkw)
    return b, b.kernel, p


def fn_ptr(p, off: int = 0x41) -> int:
    """A valid upcall function pointer: in flash after the protected TBF header (thumb bit set)."""
    return p.flash_start + p.header_len + off


def heap(k, p, off: int = 0) -> int:
    """An address in the process's heap (above crt0's stack, below the app break)."""
    return k.crt0_layout(p)[1] + off


def lines(k, since: int = 0) -> list[str]:
    """The trace_syscalls lines of the log, from record number ``since``."""
    out = []
    for r in list(k.log)[since:]:
        t = trace_line(r)
        if t is not None:
            out.append(t)
    return out


def mark(k) -> int:
    """A position in the log, for ``lines(k, since=mark(k))``."""
    return len(k.log)


def tasks(p) -> list[str]:
    return [t.describe() for t in p.tasks]


def snapshot(k) -> tuple:
    """Everything observable about a kernel, as plain values, to prove an operation changed nothing."""
    procs = []
    for p in k.processes:
        if p is None:
            procs.append(None)
            continue
        grants = tuple(None if g is None else (g.address, tuple(g.upcalls), tuple(g.allow_ro),
                                                  tuple(g.allow_rw), repr(g.data))
                       for g in p.grants)
        procs.append((p.name, p.identifier, p.state.debug(), tuple(tasks(p)), grants, p.app_break,
                      p.kernel_memory_break, p.allow_high_water_mark, p.syscall_count, p.last_syscall,
                      p.dropped_upcalls, p.restart_count, p.completion_code, p.has_terminated,
                      p.timeslice_expirations, bytes(p.ram), p.sp, p.in_handler, p.fault_reason,
                      p.wait_for_ready, p.memory_start, p.memory_len))
    return (k.now, k.ev, len(k.log), repr(k.stats), k.panicked, k.grants_finalized, tuple(procs),
            k._next_identifier, k._next_ram, k._next_flash)


def subscribe(k, p, driver: int, sub: int = 0, fn: int | None = None, appdata: int = 0):
    return k.syscall(p, SUBSCRIBE, driver, sub, fn_ptr(p) if fn is None else fn, appdata)


class Script:
    """An app program driven by a Python generator of actions.

    ``body(app)`` is a generator function: it yields action tuples
    (("syscall", cls, r0, r1, r2, r3), ("compute", ns), ("fault", why)) and
    receives each syscall's result. Upcalls are recorded in ``app.upcalls``
    and return at once (the handler is instantaneous), so the main generator
    simply resumes. When the body ends the app yield-waits forever.
    """

    name = "script"

    def __init__(self, body):
        self.body = body
        self.upcalls: list[tuple[int, tuple]] = []
        self.starts: list[tuple[int, tuple]] = []
        self.results: list = []
        self.mem = None
        self._gen = None
        self._first = True

    def attach(self, app_memory):
        self.mem = app_memory

    def start(self, pc, args):
        self.starts.append((pc, args))
        self._gen = self.body(self)
        self._first = True

    def upcall(self, pc, args):
        self.upcalls.append((pc, args))

    def reset(self):
        self._gen = None

    def resume(self, value):
        if self._first:
            self._first = False
            value = None
        else:
            self.results.append(value)
        try:
            return self._gen.send(value)
        except StopIteration:
            self._gen = _forever_wait()
            return next(self._gen)


def _forever_wait():
    while True:
        yield ("syscall", YIELD, 1, 0, 0, 0)


def crt0(app, ram: int = 4096):
    """The memops libtock-c's crt0 makes, as generator steps (brk to start+ram)."""
    start = app.starts[-1][1][1]
    yield ("syscall", MEMOP, 0, start + ram, 0, 0)


# -- the helpers' own checks ---------------------------------------------------------

def test_manual_process_is_running_after_crt0():
    b, k, p = manual()
    assert p.state.name == "Running"
    assert p.app_break == p.memory_start + p.min_app_ram
    assert lines(k) == [
        f"[0] function_call @{p.flash_start + p.init_fn_offset:#x}({p.flash_start + p.header_len:#x}, "
        f"{p.memory_start:#x}, {p.memory_len:#x}, {p.memory_start + 32:#x})",
        f"[0] memop(0, {p.memory_start + 4096:#x}) = Success",
        f"[0] memop(10, {p.memory_start + 2048:#x}) = Success",
        f"[0] memop(11, {p.memory_start + 2048:#x}) = Success",
    ]


def test_snapshot_sees_a_change():
    b, k, p = manual()
    before = snapshot(k)
    k.syscall(p, COMMAND, LED, 0, 0, 0)
    assert snapshot(k) != before


def test_script_app_runs_under_the_scheduler():
    def body(app):
        yield from crt0(app)
        r = yield ("syscall", COMMAND, LED, 0, 0, 0)
        assert str(r) == "Success(u32=4)"

    b = new_board()
    app = Script(body)
    p = b.kernel.create_process("s", program=app)
    assert b.kernel.run(max_events=20) == "idle"
    assert [str(r) for r in app.results] == ["Success", "Success(u32=4)"]
    assert p.state.name == "Yielded"
    assert SyscallClass(p.last_syscall[0]) is SyscallClass.YIELD
