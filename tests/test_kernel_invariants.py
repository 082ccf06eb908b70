"""Hypothesis: random syscalls, upcalls, hardware events and lifecycle calls never break the kernel's invariants.

Whatever the sequence, the only exception the API raises is KernelAPIError
(KernelPanic included), and after every step the memory picture, the task
queue bound and the identity rules of tock-kernel.md sections 3 and 4 hold.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tockshell.board import build_board
from tockshell.kernel import KernelAPIError, StateKind, describe, trace_line
from tockshell.kernel.upcall import TASK_QUEUE_CAPACITY

from test_kernel_support import Script

DRIVERS = [0x0, 0x1, 0x2, 0x3, 0x8, 0x40001, 0x7777]

# Symbolic register values, resolved against the calling process at run time.
_reg = st.one_of(
    st.sampled_from([0, 1, 2, 3, 4, 5, 6, 8, 10, 11, 12, 16, 0xFFFF_FFFF]),
    st.sampled_from(DRIVERS),
    st.tuples(st.sampled_from(["start", "break", "kbreak", "flash", "body", "fn", "end"]),
              st.integers(-64, 64)),
    st.integers(0, 0xFFFF_FFFF),
)

_op = st.one_of(
    st.tuples(st.just("syscall"), st.integers(0, 2), st.integers(0, 8), _reg, _reg, _reg, _reg),
    st.tuples(st.just("upcall"), st.integers(0, 2), st.sampled_from(DRIVERS[:6]), st.integers(0, 3),
              st.integers(0, 0xFFFF_FFFF)),
    st.tuples(st.just("run"), st.integers(1, 30)),
    st.tuples(st.just("until"), st.integers(0, 30_000_000)),
    st.tuples(st.just("life"), st.integers(0, 2),
              st.sampled_from(["fault", "terminate", "try_restart", "boot", "stop", "resume"])),
    st.tuples(st.just("button"), st.integers(0, 4)),
    st.tuples(st.just("input"), st.binary(max_size=6)),
)


def _resolve(p, v):
    if isinstance(v, int):
        return v
    what, off = v
    base = {"start": p.memory_start, "break": p.app_break, "kbreak": p.kernel_memory_break,
            "flash": p.flash_start, "body": p.flash_start + p.header_len, "fn": p.flash_start + p.header_len + 0x41,
            "end": p.memory_end}[what]
    return (base + off) & 0xFFFF_FFFF


def _app(app):
    """An app that keeps calling the base drivers, so the scheduler has work of its own."""
    start = app.starts[-1][1][1]
    yield ("syscall", 5, 0, start + 2048, 0, 0)
    i = 0
    while True:
        i += 1
        yield ("syscall", 1, 0, 0, app.starts[-1][0], 0)
        yield ("syscall", 2, 0, 5, 300 + i, 0)
        yield ("syscall", 0, i % 3, 0 if i % 3 else start + 4, 0, 0)
        yield ("compute", 100_000 * (i % 7))


def check_invariants(k, seen_ids):
    ids = set()
    for p in k.processes:
        if p is None:
            continue
        assert p.identifier not in ids
        ids.add(p.identifier)
        assert len(p.tasks) <= TASK_QUEUE_CAPACITY
        initial_kbreak = p.memory_end - p.initial_kernel_memory_size
        assert p.memory_start <= p.allow_high_water_mark <= p.app_break <= p.kernel_memory_break <= initial_kbreak
        assert p.grant_bytes == initial_kbreak - p.kernel_memory_break
        for g in p.grants:
            if g is not None:
                assert p.kernel_memory_break <= g.address and g.address + g.size <= initial_kbreak
        kind = p.state.kind
        if kind in (StateKind.FAULTED, StateKind.TERMINATED) and not k.panicked:
            # (a panic leaves the faulting process as it was: the board is dead anyway)
            assert not p.tasks and all(g is None for g in p.grants)
        if kind is StateKind.STOPPED:
            assert p.state.previous.kind in (StateKind.RUNNING, StateKind.YIELDED, StateKind.YIELDED_FOR)
        if p.identifier in seen_ids:
            assert seen_ids[p.identifier] == p.index  # an identifier never moves to another slot
        seen_ids[p.identifier] = p.index
        assert k.lookup(p.pid) is p
        cfg = p.mpu_config
        if cfg is not None and p.alive and p.app_break > p.memory_start:
            # The Cortex-M MPU: the app's enabled subregions cover its break and stop below the
            # kernel memory break (update_app_memory_region refuses anything else).
            assert p.app_break <= p.mpu_accessible_end <= p.kernel_memory_break
            assert p.mpu_accessible_end - p.memory_start <= p.memory_len
    if k.current is not None:
        assert k.current in k.processes


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["stop", "restart", "panic", "threshold"]), st.lists(_op, max_size=35),
       st.sampled_from(["default", "cortex-m"]))
def test_random_operations_keep_the_invariants(policy, ops, board):
    b = build_board(board, fault_policy="stop" if policy == "threshold" else policy)
    k = b.kernel
    if policy == "threshold":
        from tockshell.kernel import fault_policy_from
        k.fault_policy = fault_policy_from("threshold", 1)
    procs = [k.create_process("m0"), k.create_process("m1"), k.create_process("app", program=Script(_app))]
    seen_ids: dict[int, int] = {}
    last_now, last_ev, last_len = k.now, k.ev, len(k.log)
    for op in ops:
        try:
            tag = op[0]
            if tag == "syscall":
                p = procs[op[1]]
                k.syscall(p, op[2], *(_resolve(p, v) for v in op[3:]))
            elif tag == "upcall":
                k.schedule_upcall(procs[op[1]], op[2], op[3], (op[4], 0, 1))
            elif tag == "run":
                k.run(max_events=op[1])
            elif tag == "until":
                k.run(until=k.now + op[1])
            elif tag == "life":
                getattr(k, op[2])(procs[op[1]])
            elif tag == "button":
                b.press_button(op[1])
            else:
                b.console_input(op[1])
        except KernelAPIError as e:
            assert str(e)  # a clear message, never an empty one
        check_invariants(k, seen_ids)
        assert k.now >= last_now and k.ev >= last_ev
        for r in list(k.log)[last_len:]:
            trace_line(r)
            assert describe(r)
        last_now, last_ev, last_len = k.now, k.ev, len(k.log)
