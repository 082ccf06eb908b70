"""Schedulers on virtual time: round robin, timeslices and the 500 us threshold, cooperative, priority."""

from __future__ import annotations

import pytest

from tockshell.board import build_board
from tockshell.kernel import CostModel, KernelConfig
from tockshell.kernel.scheduler import scheduler_from

from test_kernel_support import ALARM, BUTTON, COMMAND, LED, SUBSCRIBE, YIELD, Script, manual, subscribe

MS = 1_000_000
US = 1_000


def free_board(scheduler="round_robin", **kw):
    """A board whose kernel work costs no time, so app computation alone sets the clock."""
    costs = CostModel(syscall=0, context_switch=0, upcall=0, copy_per_byte=0, hw_event=0)
    return build_board(fault_policy="stop", scheduler=scheduler, config=KernelConfig(costs=costs, **kw))


def computer(app):
    while True:
        yield ("compute", 1000 * MS)


def expirations(k):
    return [(r.name, r.time) for r in k.log if r.kind == "timeslice"]


def test_round_robin_rotates_in_slot_order_with_10ms_slices():
    b = free_board()
    k = b.kernel
    ps = [k.create_process(n, program=Script(computer)) for n in "abc"]
    assert k.run(until=60 * MS + 1) == "time"
    assert k.now == 60 * MS + 1
    assert expirations(k) == [(n, t * MS) for t, n in zip(range(10, 61, 10), "abcabc")]
    assert [p.timeslice_expirations for p in ps] == [2, 2, 2]
    assert b.kernel.scheduler.name == "round_robin(10ms)"


@pytest.mark.parametrize("busy_us, expiry_us", [(9_400, 10_000), (9_499, 10_000), (9_500, 9_500), (9_800, 9_800)])
def test_500us_threshold_ends_the_slice_after_a_syscall(busy_us, expiry_us):
    def body(app):
        yield ("compute", busy_us * US)
        yield ("syscall", COMMAND, LED, 0, 0, 0)
        while True:
            yield ("compute", 1000 * MS)

    b = free_board()
    k = b.kernel
    p = k.create_process("a", program=Script(body))
    k.create_process("b", program=Script(computer))
    k.run(until=11 * MS)
    assert expirations(k)[0] == ("a", expiry_us * US)
    assert p.timeslice_expirations == 1


def test_timeslice_length_is_configurable():
    b = free_board(scheduler="round_robin")
    k = b.kernel
    k.scheduler = scheduler_from("round_robin", 2_500)
    for n in "ab":
        k.create_process(n, program=Script(computer))
    k.run(until=10 * MS + 1)
    assert [t for _, t in expirations(k)] == [2_500 * US, 5 * MS, 7_500 * US, 10 * MS]
    assert k.scheduler.name == "round_robin(2500us)"


def test_a_process_with_no_work_goes_to_the_tail():
    """A dropped null-upcall event ends the run (NoWorkLeft), so the other process goes first."""
    b, k, a = manual()
    other = k.create_process("b")
    subscribe(k, a, ALARM, 0, fn=0)
    subscribe(k, a, BUTTON, 0)
    subscribe(k, other, BUTTON, 0)
    k.syscall(a, YIELD, 1, 0, 0, 0)
    k.syscall(other, YIELD, 1, 0, 0, 0)
    k.schedule_upcall(a, ALARM, 0, (1, 0, 0))   # a ReturnValue event
    k.schedule_upcall(a, BUTTON, 0, (2, 0, 0))
    k.schedule_upcall(other, BUTTON, 0, (3, 0, 0))
    k.run()
    assert [(r.name, r.kind) for r in k.log if r.kind in ("function_call", "null_dropped")][-3:] == [
        ("a", "null_dropped"), ("b", "function_call"), ("a", "function_call")]


def test_cooperative_never_preempts():
    b = free_board(scheduler="cooperative")
    k = b.kernel
    a = k.create_process("a", program=Script(computer))
    late = k.create_process("b", program=Script(computer))
    k.run(until=500 * MS)
    assert a.timeslice_expirations == 0 and not expirations(k)
    assert late.syscall_count == 0 and late.state.name == "Yielded"  # never got the CPU
    assert k.scheduler.timeslice_ns is None


def test_cooperative_runs_the_next_process_when_the_first_yields():
    def once(app):
        yield ("compute", 30 * MS)

    b = free_board(scheduler="cooperative")
    k = b.kernel
    k.create_process("a", program=Script(once))
    k.create_process("b", program=Script(once))
    k.run(until=100 * MS)
    starts = [(r.name, r.time) for r in k.log if r.kind == "function_call"]
    assert starts == [("a", 0), ("b", 30 * MS)]


def test_priority_preempts_for_a_higher_priority_process():
    def sleeper(app):
        yield ("syscall", 5, 0, app.starts[0][1][1] + 4096, 0, 0)
        fn = app.starts[0][0]
        yield ("syscall", SUBSCRIBE, ALARM, 0, fn, 0)
        # 5 ms of ticks at the frequency command 1 reports (32768 Hz left-justified to 32 bits)
        yield ("syscall", COMMAND, ALARM, 5, (32768 << 8) * 5 // 1000, 0)
        while True:
            yield ("syscall", YIELD, 1, 0, 0, 0)

    b = free_board(scheduler="priority")
    k = b.kernel
    hi_app = Script(sleeper)
    hi = k.create_process("hi", program=hi_app)
    lo = k.create_process("lo", program=Script(computer))
    k.run(until=20 * MS)
    assert len(hi_app.upcalls) == 1
    delivered = [r.time for r in k.log if r.kind == "function_call" and r.name == "hi"]
    assert 5 * MS <= delivered[-1] < 5 * MS + 50 * US  # at the alarm, not after lo's 1 s computation
    assert not expirations(k) and lo.timeslice_expirations == 0
    assert hi.state.name == "Yielded"


def test_priority_picks_the_lowest_slot_first():
    b = free_board(scheduler="priority")
    k = b.kernel
    k.create_process("first", program=Script(computer))
    k.create_process("second", program=Script(computer))
    k.run(until=50 * MS)
    assert [r.name for r in k.log if r.kind == "function_call"] == ["first"]


def test_hardware_event_does_not_cost_the_round_robin_slice():
    """A kernel interrupt in the middle of a slice: the process resumes with the time it had left."""
    b = free_board()
    k = b.kernel
    k.create_process("a", program=Script(computer))
    k.create_process("b", program=Script(computer))
    k.schedule_hw(3 * MS, lambda: "tick", "tick")
    k.run(until=20 * MS + 1)
    assert [t for _, t in expirations(k)] == [10 * MS, 20 * MS]


def test_run_reasons():
    b = free_board()
    k = b.kernel
    assert k.run() == "idle"
    k.create_process("a", program=Script(computer))
    assert k.run(max_events=2) == "events"
    assert k.run(until=k.now + 5 * MS) == "time"
    seen = []
    assert k.run(stop=lambda: seen.append(1) or len(seen) == 3) == "stop"
    assert k.scheduler.describe() == "round_robin(10ms)"


def test_unknown_scheduler():
    with pytest.raises(ValueError, match="unknown scheduler 'lottery'"):
        scheduler_from("lottery")


def test_context_switches_and_costs_are_counted():
    b = build_board(fault_policy="stop")
    k = b.kernel
    for n in "ab":
        k.create_process(n, program=Script(computer))
    k.run(until=30 * MS)
    assert k.stats.context_switches == 3
    assert k.stats.kernel_cycles >= 3 * k.costs.context_switch + 2 * k.costs.upcall


def test_a_restarting_app_keeps_its_timeslice():
    """exit-restart inside do_process: the new instance runs on in the same slice, so others get their turn."""
    def restarter(app):
        yield ("compute", 4 * MS)
        yield ("syscall", 6, 1, 0, 0, 0)

    b = free_board()
    k = b.kernel
    a = k.create_process("a", program=Script(restarter))
    k.create_process("b", program=Script(computer))
    k.run(until=20 * MS + 1)
    assert expirations(k) == [("a", 10 * MS), ("b", 20 * MS)]
    assert a.restart_count == 2


def test_a_terminated_app_leaves_the_cpu():
    def quitter(app):
        yield ("compute", 1 * MS)
        yield ("syscall", 6, 0, 7, 0, 0)

    b = free_board()
    k = b.kernel
    a = k.create_process("a", program=Script(quitter))
    k.create_process("b", program=Script(computer))
    k.run(until=2 * MS)
    assert a.state.name == "Terminated" and a.completion_code == 7
    assert k.scheduler.order == [1, 0]  # NoWorkLeft sent it to the tail
    k.run(until=11 * MS + 1)
    assert expirations(k) == [("b", 11 * MS)]
