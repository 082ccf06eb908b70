"""The kernel's fused hot path (``Kernel.run`` / ``_run_app``) is invisible: same trace as ``step()``.

``run()`` handles the common event (the app on the CPU issues an unfiltered
command) without going through ``step()``'s search and the general syscall
dispatch. These tests run the same boards once with ``run()`` and once with
one ``step()`` at a time (and once with a pass-everything syscall filter, which
forces the general path) and require identical logs, clocks, counters and
process states. They also pin what the hot path must still do: malformed app
actions fault the process with a sentence, never a Python exception, and
``run()`` leaves Python's collector as it found it.
"""

from __future__ import annotations

import gc

import pytest

from tockshell.abi import SyscallClass
from tockshell.board import build_board
from tockshell.kernel import StateKind
from tockshell.userland.apps import spawn_program
from tockshell.userland.runtime import AppProgram

ALARM, CONSOLE, LED = 0x0, 0x1, 0x2


def _null(tock, n=0):
    # Commands only, some to a missing driver and some with registers the kernel must mask.
    i = 0
    while True:
        i += 1
        yield tock.command(ALARM, 0)
        yield tock.command(LED, 1 + (i & 1), i & 3)
        if i % 5 == 0:
            yield tock.command(0x7777, 0)
        if i % 7 == 0:
            yield ("syscall", 2, LED, 3, -1, 1 << 40)  # out-of-range registers: the general path
        if i % 11 == 0:
            yield tock.compute(600)  # long enough to cross a timeslice boundary now and then
        if i % 97 == 0:
            yield from tock.delay_ms(1)  # so that a cooperative scheduler lets the others run
        if n and i >= n:
            yield tock.exit_restart(i)


def _sleepy(tock):
    i = 0
    while True:
        i += 1
        yield tock.command(ALARM, 2)
        yield from tock.delay_ms(3 + i % 4)
        yield from tock.print(f"tick {i}\n")


def _board(scheduler: str, policy: str = "restart"):
    b = build_board(scheduler=scheduler, fault_policy=policy)
    k = b.kernel
    k.create_process("null", program=AppProgram(_null, {"n": 40}))
    k.create_process("null2", program=AppProgram(_null))
    k.create_process("sleepy", program=AppProgram(_sleepy))
    k.create_process("blink", program=spawn_program("blink", {"period": 7}))
    k.create_process("crash", program=spawn_program("crash_dummy", {"after": 300}))
    k.create_process("manual")
    return b


def _fingerprint(k) -> tuple:
    procs = tuple((p.name, p.identifier, p.state.debug(), p.syscall_count, p.last_syscall, len(p.tasks),
                   p.restart_count, p.app_break, p.timeslice_expirations)
                  for p in k.processes if p is not None)
    st = k.stats
    return (k.now, k.ev, k.panicked, procs, st.syscalls, st.context_switches, st.upcalls_delivered,
            st.kernel_cycles, tuple(st.by_class), tuple(r.key() for r in k.log))


@pytest.mark.parametrize("scheduler", ["round_robin", "cooperative", "priority"])
def test_run_and_single_steps_give_the_same_trace(scheduler):
    until = 80_000_000
    a = _board(scheduler)
    reason = a.kernel.run(until=until)
    b = _board(scheduler)
    while b.kernel.step(until):
        pass
    assert reason == "time"
    assert _fingerprint(a.kernel) == _fingerprint(b.kernel)
    assert a.kernel.stats.syscalls > 1000  # the hot path really ran


def test_a_filter_that_allows_everything_changes_nothing():
    # A syscall filter turns the hot path off, so this compares the fused code with the general one.
    a = _board("round_robin")
    a.kernel.run(until=50_000_000)
    b = _board("round_robin")
    b.kernel.syscall_filter = lambda p, cls, drv, num: None
    b.kernel.run(until=50_000_000)
    assert _fingerprint(a.kernel) == _fingerprint(b.kernel)


def test_run_in_pieces_equals_one_run():
    a = _board("round_robin")
    a.kernel.run(until=40_000_000)
    b = _board("round_robin")
    for n in (1, 2, 3, 50, 7, 1000, 13):
        b.kernel.run(max_events=n)
    while b.kernel.run(until=40_000_000, max_events=977) == "events":
        pass
    assert _fingerprint(a.kernel) == _fingerprint(b.kernel)


def test_max_events_counts_exactly_and_stop_is_asked_after_every_event():
    b = _board("round_robin")
    k = b.kernel
    ev0 = k.ev
    assert k.run(max_events=5000) == "events"
    seen = []
    assert k.run(stop=lambda: seen.append(k.ev) or len(seen) == 300) == "stop"
    assert len(seen) == 300 and k.ev > ev0


class _Raw:
    """A program that yields a fixed list of actions (anything at all), then yield-waits."""

    def __init__(self, actions):
        self.actions = list(actions)

    def attach(self, mem):
        pass

    def start(self, pc, args):
        pass

    def upcall(self, pc, args):
        pass

    def reset(self):
        pass

    def resume(self, value):
        return self.actions.pop(0) if self.actions else ("syscall", 0, 1, 0, 0, 0)


BAD_ACTIONS = [
    ("syscall", 2), ("syscall", 2, 0, 0, 0), ("syscall", 2, "0", 0, 0, 0), ("syscall", 2, 0, 0, 0, 1.5),
    ("syscall", "2", 0, 0, 0, 0), ("syscall", None, 0, 0, 0, 0), ("compute",), ("compute", "x"),
    ("sp",), ("sp", None), ("dance", 1), (), None, "syscall", 42, ["syscall", 2, 0, 0, 0, 0, 0], [],
    ("syscall", 2, 0, 0, 0, 0, 0), (2, 0, 0, 0, 0), {"syscall": 2},
]


@pytest.mark.parametrize("action", BAD_ACTIONS, ids=repr)
def test_a_malformed_action_faults_the_process_with_a_sentence(action):
    b = build_board(fault_policy="stop")
    k = b.kernel
    p = k.create_process("raw", program=_Raw([action]))
    k.run(max_events=20)
    assert p.state.kind is StateKind.FAULTED
    assert p.fault_reason and "app produced" in p.fault_reason


def test_well_formed_odd_actions_still_work():
    # A list is not the runtime's tuple, but a six-value syscall in it is still a syscall.
    b = build_board(fault_policy="stop")
    k = b.kernel
    p = k.create_process("raw", program=_Raw([["syscall", 2, LED, 1, 0, 0], ("syscall", 2, LED, 1, 1, 0),
                                              ("syscall", 2, LED, 2, True, 0)]))
    k.run(max_events=6)
    assert p.state.kind is not StateKind.FAULTED
    assert p.syscall_count == 4  # a raw program runs no crt0: three commands, then a yield
    assert p.last_syscall[0] is SyscallClass.YIELD


def test_last_syscall_reads_as_class_and_registers():
    b = build_board(fault_policy="stop")
    k = b.kernel
    p = k.create_process("raw", program=_Raw([("syscall", 2, LED, 1, 2, 0)]))
    k.run(max_events=2)
    assert p.last_syscall == (SyscallClass.COMMAND, (LED, 1, 2, 0))
    m = k.create_process("m")
    k.syscall(m, 2, LED, 1, -1, 0)
    assert m.last_syscall == (SyscallClass.COMMAND, (LED, 1, 0xFFFF_FFFF, 0))
    m.last_syscall = None
    assert m.last_syscall is None


def test_run_leaves_the_collector_as_it_found_it(monkeypatch):
    import tockshell.kernel.kernel as K

    monkeypatch.setattr(K, "_GC_EVERY", 1_000)  # so that the run crosses collections of its own
    b = _board("round_robin")
    k = b.kernel
    assert gc.isenabled()
    before = gc.get_stats()[0]["collections"]
    k.run(max_events=5_000)
    assert gc.isenabled() and gc.get_stats()[0]["collections"] > before
    gc.disable()
    try:
        k.run(max_events=100)
        assert not gc.isenabled()
    finally:
        gc.enable()

    def boom(rec):
        raise RuntimeError("listener bug")

    k.listeners.append(boom)
    with pytest.raises(RuntimeError):
        k.run(max_events=10)
    assert gc.isenabled()


def test_gc_holds_nest_and_respect_a_programs_own_choice(monkeypatch):
    from tockshell.kernel import gcpolicy

    collected = []
    monkeypatch.setattr(gcpolicy.gc, "collect", lambda gen=2: collected.append(gen) or 0)
    assert gc.isenabled() and not gcpolicy.held()
    with gcpolicy.hold():
        assert not gc.isenabled() and gcpolicy.held()
        with gcpolicy.hold():  # an inner hold (a run inside a script) changes nothing
            gcpolicy.young()
        assert not gc.isenabled() and gcpolicy.held()
    assert gc.isenabled() and not gcpolicy.held() and collected == [0]
    gc.disable()
    try:
        with gcpolicy.hold():
            gcpolicy.young()  # the program turned the collector off: tockshell does not collect
        assert not gc.isenabled() and collected == [0]
    finally:
        gc.enable()


def test_a_script_leaves_the_collector_on():
    import io

    from tockshell.lang.session import Session

    s = Session(out=io.StringIO())
    s.execute("spawn a\na: command led 1 0\nrun for 1ms\n")
    assert gc.isenabled()
