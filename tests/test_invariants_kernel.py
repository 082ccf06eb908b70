"""Hypothesis: random syscalls from random processes, app programs doing anything, faults, restarts, stops.

This extends ``test_kernel_invariants.py`` (whose per-step checks are reused)
with what that file does not drive:

* app programs whose actions are drawn at random: every syscall class with
  fully random registers, computations, stack moves, faults, malformed actions;
* manual processes issuing random-register syscalls, including Mailbox sends
  and reads between live processes (the IPC Manager in ``raw`` mode, so the
  descriptor of a peer is its identifier and random numbers hit real peers);
* lifecycle calls (fault, terminate, restart, boot, stop, resume), hardware
  events, upcalls scheduled from outside, a syscall filter switched on and off,
  ``mailbox.crash_notify`` toggled, under every scheduler and fault policy.

After every step: no Python exception but KernelAPIError escaped; the queue
holds at most 9 tasks; no task waits on a dead process; grants and custom
grants lie in the grant region, never in app memory; every allowed buffer lies
below the app break (brk never crosses the allow high-water mark); every
Mailbox message ever sent is read, cancelled, withdrawn, failed, dropped or
in flight, exactly once; the kernel's count of grant holders (what the Mailbox's
crash callback reports instead of scanning) matches a scan. At the end the same operations on a fresh board give
the identical trace (determinism, hence replay).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tockshell.abi import ErrorCode
from tockshell.board import build_board
from tockshell.kernel import KernelAPIError, KernelConfig, StateKind, describe, fault_policy_from, trace_line
from tockshell.kernel.upcall import TASK_QUEUE_CAPACITY

from test_kernel_invariants import check_invariants

MAILBOX, IPCMGR = 0xA0101, 0xA0100
DRIVERS = [0x0, 0x1, 0x2, 0x3, 0x8, 0x40001, MAILBOX, IPCMGR, 0x10000, 0x7777]

# A register: small numbers, driver numbers, an address relative to the caller, a peer's identifier, anything.
_reg = st.one_of(
    st.sampled_from([0, 1, 2, 3, 4, 8, 16, 64, 0xFFFF_FFFF, 0x8000_0000]),
    st.sampled_from(DRIVERS),
    st.tuples(st.sampled_from(["start", "break", "kbreak", "flash", "fn", "end", "heap"]), st.integers(-64, 256)),
    st.tuples(st.just("peer"), st.integers(0, 5)),
    st.integers(0, 0xFFFF_FFFF),
    st.integers(-2**40, 2**40),
)

_action = st.one_of(
    st.tuples(st.just("syscall"), st.integers(0, 7), _reg, _reg, _reg, _reg),
    st.tuples(st.just("syscall"), st.just(2), st.sampled_from(DRIVERS), st.integers(0, 6), _reg, _reg),
    st.tuples(st.just("syscall"), st.just(0), st.integers(0, 3), _reg, _reg, _reg),
    st.tuples(st.just("compute"), st.integers(0, 3_000_000)),
    st.tuples(st.just("sp"), _reg),
    st.tuples(st.just("fault"), st.just("fuzz")),
    st.sampled_from([("syscall", 2), ("syscall", "x", 0, 0, 0, 0), ("compute", "soon"), ("sp",), ("bogus", 1),
                     None, ("syscall", 2, 0.5, 0, 0, 0), ("syscall", 99, 0, 0, 0, 0)]),
)

# Peers 0 and 1 are the manual processes (the first two live ones), so most mail goes between them.
_peer = st.one_of(st.integers(0, 1), st.integers(0, 5))
_mail = st.one_of(
    st.tuples(st.just("send"), st.integers(0, 1), st.one_of(st.just("other"), _peer), st.integers(0, 64)),
    st.tuples(st.just("send"), st.integers(0, 1), st.just("other"), st.integers(0, 64)),
    st.tuples(st.just("read"), st.integers(0, 1), st.one_of(st.just(0), _peer)),
    st.just(("read_waiting",)),
)
# Mostly classes that leave a manual process Running; yields and exits now and then.
_cls = st.sampled_from([2, 2, 2, 1, 3, 4, 5, 5, 7, 0, 6])
_op = st.one_of(
    st.tuples(st.just("syscall"), st.integers(0, 1), _cls, _reg, _reg, _reg, _reg),
    _mail, _mail, _mail,
    st.tuples(st.just("run"), st.integers(1, 60)),
    st.tuples(st.just("until"), st.integers(0, 20_000_000)),
    st.tuples(st.just("life"), st.integers(0, 3),
              st.sampled_from(["fault", "terminate", "try_restart", "boot", "stop", "resume"])),
    st.tuples(st.just("upcall"), st.integers(0, 3), st.sampled_from(DRIVERS), st.integers(0, 3), _reg),
    st.tuples(st.just("button"), st.integers(0, 3)),
    st.tuples(st.just("input"), st.binary(max_size=4)),
    st.tuples(st.just("filter"), st.booleans(), st.integers(0, 7)),
    st.tuples(st.just("crash_notify"), st.booleans()),
)


def _resolve(k, p, v) -> int:
    if isinstance(v, int):
        return v
    what, off = v
    if what == "peer":
        live = [q for q in k.processes if q is not None]
        return live[off % len(live)].identifier if live else off
    base = {"start": p.memory_start, "break": p.app_break, "kbreak": p.kernel_memory_break,
            "flash": p.flash_start, "fn": p.flash_start + p.header_len + 0x41, "end": p.memory_end,
            "heap": k.crt0_layout(p)[1]}[what]
    return (base + off) & 0xFFFF_FFFF


class RandomApp:
    """An app program replaying drawn actions (registers resolved against its own process), then yield-waiting."""

    name = "random"

    def __init__(self, kernel, actions):
        self.k = kernel
        self.actions = actions
        self.i = 0
        self.proc = None

    def attach(self, mem):
        pass

    def start(self, pc, args):
        self.i = 0

    def upcall(self, pc, args):
        pass

    def reset(self):
        self.i = 0

    def resume(self, value):
        if self.i >= len(self.actions):
            return ("syscall", 0, 1, 0, 0, 0)
        a = self.actions[self.i]
        self.i += 1
        if isinstance(a, tuple) and a and a[0] in ("syscall", "sp") and all(isinstance(x, (int, tuple))
                                                                          for x in a[1:]):
            p = self.proc
            a = (a[0], *(x if isinstance(x, int) or p is None else _resolve(self.k, p, x) for x in a[1:]))
        return a


def _mailbox_accounted(mb, panicked) -> None:
    sent = mb._stats["sent"]
    ends = sum(mb._stats[o] for o in ("read", "cancelled", "withdrawn", "failed", "dropped"))
    flying = mb.in_flight()
    assert sent == ends + len(flying), (sent, ends, len(flying))
    ended = set(mb.outcomes)
    in_flight = {m.seq for m in flying}
    assert not ended & in_flight
    assert ended | in_flight == set(range(1, mb._seq + 1))
    if mb.crash_notify and not panicked:
        # The crash callback settled every message of a process that died (a panic stops everything).
        for m in flying:
            assert mb.alive(m.sender) and mb.alive(m.receiver), m.seq


def _buffers_in_app_memory(p) -> None:
    if p.state.kind in (StateKind.FAULTED, StateKind.TERMINATED):
        return
    for g in p.grants:
        if g is None:
            continue
        for addr, n in g.allow_rw:
            if n:
                assert p.memory_start <= addr and addr + n <= p.app_break, (hex(addr), n, hex(p.app_break))
        for addr, n in g.allow_ro:
            if n:
                assert (p.memory_start <= addr and addr + n <= p.app_break) or p.in_app_flash(addr, n)
    initial_kbreak = p.memory_end - p.initial_kernel_memory_size
    for cg in p.custom_grants:
        assert p.kernel_memory_break <= cg.address and cg.address + cg.size <= initial_kbreak
        assert cg.address >= p.app_break


def _play(policy: str, scheduler: str, apps, ops, check: bool, board: str = "default"):
    """Build the board, run the operations; with ``check``, verify every invariant after each one."""
    b = build_board(board, config=KernelConfig(num_procs=6), scheduler=scheduler,
                    fault_policy="stop" if policy.startswith("threshold") else policy)
    k = b.kernel
    if policy.startswith("threshold"):
        k.fault_policy = fault_policy_from("threshold", 1)
    b.driver("ipcmgr").set_config("descriptors", "raw")
    mb = b.driver("mailbox")
    procs = [k.create_process("m0"), k.create_process("m1")]
    for i, actions in enumerate(apps):
        prog = RandomApp(k, actions)
        procs.append(k.create_process(f"app{i}", program=prog))
        prog.proc = procs[-1]
    seen: dict[int, int] = {}
    last_now, last_ev, last_len = k.now, k.ev, len(k.log)
    for op in ops:
        tag = op[0]
        try:
            if tag == "syscall":
                p = procs[op[1]]
                k.syscall(p, op[2], *(_resolve(k, p, v) for v in op[3:]))
            elif tag == "send":
                p = procs[op[1]]
                k.syscall(p, 4, MAILBOX, 0, k.crt0_layout(p)[1], op[3])
                to = procs[1 - op[1]].identifier if op[2] == "other" else _resolve(k, p, ("peer", op[2]))
                k.syscall(p, 2, MAILBOX, 1, to, 0)
            elif tag == "read":
                p = procs[op[1]]
                k.syscall(p, 3, MAILBOX, 0, k.crt0_layout(p)[1] + 128, 32)
                k.syscall(p, 2, MAILBOX, 2, _resolve(k, p, ("peer", op[2])) if op[2] else 0, 0)
            elif tag == "read_waiting":
                # Each manual process reads the oldest message waiting for it, if any.
                for p in procs[:2]:
                    if mb.waiting_for(p) and p.state.kind is StateKind.RUNNING:
                        k.syscall(p, 3, MAILBOX, 0, k.crt0_layout(p)[1] + 128, 32)
                        k.syscall(p, 2, MAILBOX, 2, 0, 0)
            elif tag == "run":
                k.run(max_events=op[1])
            elif tag == "until":
                k.run(until=k.now + op[1], max_events=500)
            elif tag == "life":
                getattr(k, op[2])(procs[op[1] % len(procs)])
            elif tag == "upcall":
                k.schedule_upcall(procs[op[1] % len(procs)], op[2], op[3], (_resolve(k, procs[0], op[4]), 0, 1))
            elif tag == "button":
                b.press_button(op[1])
            elif tag == "input":
                b.console_input(op[1])
            elif tag == "filter":
                deny, cls = op[1], op[2]
                k.syscall_filter = ((lambda p, c, d, n, cls=cls: ErrorCode.NOSUPPORT if int(c) == cls else None)
                                    if deny else None)
            elif tag == "crash_notify":
                mb.set_config("crash_notify", "on" if op[1] else "off")
        except KernelAPIError as e:
            assert str(e)
        if not check:
            continue
        check_invariants(k, seen)
        for p in k.processes:
            if p is not None:
                assert len(p.tasks) <= TASK_QUEUE_CAPACITY
                if p.state.kind in (StateKind.FAULTED, StateKind.TERMINATED) and not k.panicked:
                    assert not p.tasks
                _buffers_in_app_memory(p)
        _mailbox_accounted(mb, k.panicked)
        if not k.panicked:
            for d in k.drivers.values():
                if d.grant is not None:
                    held = sum(1 for q in k.processes if q is not None and q.alive
                               and q.grants[d.grant.grant_num] is not None)
                    assert k.grant_holder_count(d) == held, d.name
        assert k.now >= last_now and k.ev >= last_ev
        for r in list(k.log)[last_len:]:
            trace_line(r)
            assert describe(r)
        last_now, last_ev, last_len = k.now, k.ev, len(k.log)
    return k


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["stop", "restart", "panic", "threshold"]),
       st.sampled_from(["round_robin", "cooperative", "priority"]),
       st.lists(st.lists(_action, max_size=25), min_size=0, max_size=3),
       st.lists(_op, min_size=5, max_size=40),
       st.sampled_from(["default", "cortex-m"]))
def test_random_kernel_operations_keep_the_invariants_and_replay_identically(policy, scheduler, apps, ops, board):
    k = _play(policy, scheduler, apps, ops, check=True, board=board)
    again = _play(policy, scheduler, apps, ops, check=False, board=board)
    assert [r.key() for r in k.log] == [r.key() for r in again.log]
    assert (k.now, k.ev, k.panicked) == (again.now, again.ev, again.panicked)
