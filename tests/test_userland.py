"""The userland runtime and libtock: crt0, syscalls as steps, handlers, memory, restart."""

from __future__ import annotations

import pytest

from tockshell.abi import ErrorCode, SyscallReturn, YieldWaitForReturn
from tockshell.board import build_board
from tockshell.kernel import fault_policy_from, scheduler_from
from tockshell.kernel.trace import trace_line
from tockshell.userland import drivers as D
from tockshell.userland.libtock import AppError
from tockshell.userland.runtime import HANDLER_STRIDE, AppProgram, crt0_layout

MS = 1_000_000


def spawn(board, name, main, ram=4096, **params):
    prog = AppProgram(main, params, name=name, ram=ram)
    return board.kernel.create_process(name, ram=ram, program=prog), prog


def lines(k, pid=None):
    return [trace_line(r) for r in k.log if trace_line(r) and (pid is None or r.pid == pid)]


# ---------------------------------------------------------------------------- crt0
def test_crt0_runs_as_real_syscalls_then_main():
    b = build_board()
    k = b.kernel
    seen = []

    def main(tock):
        seen.append((tock.heap_start, tock.heap_free))
        yield tock.command(D.LED, 0)

    p, _ = spawn(b, "a", main)
    k.run(until=MS)
    t = lines(k, p.identifier)
    start = p.memory_start
    assert t[0].startswith("[0] function_call @")
    assert t[1] == f"[0] memop(0, {start + 4096:#x}) = Success"
    assert t[2] == f"[0] memop(10, {start + 2048:#x}) = Success"
    assert t[3] == f"[0] memop(11, {start + 2048:#x}) = Success"
    assert t[4] == "[0] cmd(0x2, 0, 0x0, 0x0) = SuccessU32(4)"
    assert t[5] == "[0] yield. which: Wait"  # main returned: crt0 yields forever
    assert p.app_break == start + 4096
    assert p.sp == start + 2048
    sp = [r for r in k.log if r.kind == "sp"]
    assert len(sp) == 1 and sp[0].data == (start + 2048,)
    assert (p.debug_stack_start, p.debug_heap_start) == (start + 2048, start + 2048)
    assert seen == [(start + 2048, 2048)]


@pytest.mark.parametrize("ram", [32, 100, 1024, 3000, 4096, 8192, 16384])
def test_crt0_layout_matches_the_kernels(ram):
    b = build_board()
    p = b.kernel.create_process("m", ram=ram)
    assert crt0_layout(p.memory_start, ram) == b.kernel.crt0_layout(p)


def test_crt0_failing_brk_faults_with_a_reason():
    b = build_board(fault_policy="stop")
    prog = AppProgram(lambda tock: iter(()), name="big", ram=1 << 20)
    p = b.kernel.create_process("big", ram=1024, program=prog)  # the app asks crt0 for more than it has
    b.kernel.run(until=MS)
    assert p.state.name == "Faulted"
    assert "crt0: brk" in p.fault_reason


# ---------------------------------------------------------------------------- syscalls
def test_each_syscall_is_one_scheduler_step():
    b = build_board()
    k = b.kernel
    results = []

    def main(tock):
        for i in range(3):
            results.append((yield tock.command(D.LED, D.LED_CMD_TOGGLE, i)))

    p, _ = spawn(b, "a", main)
    assert k.step()  # _start delivered
    for _ in range(4):  # crt0: three memops and the stack pointer
        assert k.step()
    before = p.syscall_count
    for n in range(3):
        assert k.step()
        assert p.syscall_count == before + n + 1
        assert len(results) == n
    k.step()
    assert results == [SyscallReturn.success()] * 3
    assert b.led.on[:3] == [True, True, True]


def test_results_reach_the_app_in_trd104_terms():
    b = build_board()
    got = []

    def main(tock):
        got.append((yield tock.command(0x99, 0)))
        got.append((yield tock.command(D.LED, 9, 0)))
        got.append((yield tock.memop(2)))
        got.append((yield tock.allow_rw(D.CONSOLE, 1, 0x10, 4)))

    spawn(b, "a", main)
    b.kernel.run(until=MS)
    assert [str(r) for r in got] == ["Failure(NODEVICE)", "Failure(NOSUPPORT)", "Success(u32=0x20000000)",
                                     "Failure(INVAL, 0x10, 4)"]


def test_yield_wait_for_returns_the_upcall_arguments():
    b = build_board()
    got = []

    def main(tock):
        buf = tock.buffer(b"hey")
        yield tock.allow_ro(D.CONSOLE, 1, buf)
        yield tock.command(D.CONSOLE, 1, 3)
        got.append((yield tock.yield_wait_for(D.CONSOLE, 1)))

    p, _ = spawn(b, "a", main)
    b.kernel.run(until=10 * MS)
    assert isinstance(got[0], YieldWaitForReturn) and got[0].args == (3, 0, 0)
    assert b.console.output_of(p) == b"hey"


def test_yield_no_wait_reports_whether_an_upcall_ran():
    b = build_board()
    log = []

    def on_button(btn, pressed):
        log.append(("handler", btn, pressed))

    def main(tock):
        log.append(("first", (yield from tock.yield_no_wait())))
        yield tock.subscribe(D.BUTTON, 0, on_button)
        yield tock.button_enable_interrupt(2)
        yield tock.compute(2000)  # the button is pressed meanwhile
        for n in ("press", "release", "none"):
            log.append((n, (yield from tock.yield_no_wait())))

    spawn(b, "a", main)
    k = b.kernel
    k.run(until=MS)
    b.press_button(2)
    k.run(until=5 * MS)
    assert log == [("first", False), ("handler", 2, 1), ("press", True), ("handler", 2, 0), ("release", True),
                   ("none", False)]


def test_exit_terminate_and_a_completion_code():
    b = build_board()

    def main(tock):
        yield tock.exit_terminate(7)

    p, _ = spawn(b, "a", main)
    b.kernel.run(until=MS)
    assert p.state.name == "Terminated" and p.completion_code == 7


# ---------------------------------------------------------------------------- handlers
def test_handler_addresses_are_stable_flash_pointers():
    b = build_board()
    got = []

    def h1(a, b_, c, d):
        pass

    def h2():
        pass

    def main(tock):
        got.append((yield tock.subscribe(D.BUTTON, 0, h1, 5)))
        got.append((yield tock.subscribe(D.BUTTON, 0, h2)))
        got.append((yield tock.subscribe(D.BUTTON, 0, h1)))
        got.append((yield tock.subscribe(D.ALARM, 0, h1)))
        got.append((yield tock.subscribe(D.BUTTON, 0, None)))

    p, prog = spawn(b, "a", main)
    b.kernel.run(until=MS)
    init = p.flash_start + p.init_fn_offset
    a1, a2 = init + HANDLER_STRIDE, init + 2 * HANDLER_STRIDE
    assert [r.values for r in got] == [(0, 0), (a1, 5), (a2, 0), (0, 0), (a1, 0)]
    assert all(r.is_success for r in got)
    assert prog.handler_name(a1).endswith("h1") and p.in_app_flash(a2, 4)


def test_a_closure_resubscribed_keeps_its_address():
    b = build_board()
    addrs = []

    def main(tock):
        for i in range(5):
            def h(i=i):
                pass
            r = yield tock.subscribe(D.BUTTON, 0, h)
            addrs.append(r.values[0])

    spawn(b, "a", main)
    b.kernel.run(until=MS)
    assert len(set(addrs[1:])) == 1  # one function, one pointer


def test_handlers_stack_and_return_to_the_interrupted_yield():
    b = build_board()
    log = []

    def main(tock):
        def on_button(btn, pressed):
            log.append(f"enter {btn}/{pressed} depth={prog.depth}")
            if pressed:
                yield tock.yield_wait()  # the release upcall runs on top of this handler
                log.append(f"inner yield returned {btn}/{pressed}")
            log.append(f"exit {btn}/{pressed}")

        yield tock.subscribe(D.BUTTON, 0, on_button)
        yield tock.button_enable_interrupt(1)
        yield tock.yield_wait()
        log.append("main's yield returned")
        yield tock.command(D.LED, 1, 0)

    p, prog = spawn(b, "a", main)
    k = b.kernel
    k.run(until=MS)
    b.press_button(1)
    k.run(until=2 * MS)
    assert log == ["enter 1/1 depth=1", "enter 1/0 depth=2", "exit 1/0", "inner yield returned 1/1",
                   "exit 1/1", "main's yield returned"]
    assert b.led.on[0] and prog.depth == 0


def test_plain_function_handlers_and_short_signatures():
    b = build_board()
    log = []

    def main(tock):
        yield tock.subscribe(D.BUTTON, 0, lambda btn: log.append(btn))
        yield tock.button_enable_interrupt(3)
        while True:
            yield tock.yield_wait()

    spawn(b, "a", main)
    b.kernel.run(until=MS)
    b.press_button(3)
    b.kernel.run(until=2 * MS)
    assert log == [3, 3]


def test_a_handler_with_a_bad_signature_faults_the_process():
    b = build_board(fault_policy="stop")

    def main(tock):
        def bad(a, b_, c, d, e):  # five required arguments: Tock passes four
            yield tock.yield_wait()

        yield tock.subscribe(D.BUTTON, 0, bad)
        yield tock.button_enable_interrupt(0)

    p, _ = spawn(b, "a", main)
    b.kernel.run(until=MS)
    b.press_button(0)
    b.kernel.run(until=2 * MS)
    assert p.state.name == "Faulted" and "TypeError" in p.fault_reason


def test_upcall_to_an_unknown_pointer_faults_at_the_next_step():
    prog = AppProgram(lambda tock: iter(()), name="x")
    prog.start(0x40069, (0x40028, 0x2000_0000, 0x2000, 0x2000_0020))
    prog.upcall(0x5000, (0, 0, 0, 0))
    with pytest.raises(AppError, match="not a handler"):
        prog.resume(None)


# ---------------------------------------------------------------------------- mistakes fault
def test_yield_from_on_a_primitive_faults_with_a_hint():
    b = build_board(fault_policy="stop")

    def main(tock):
        yield from tock.command(D.LED, 0)

    p, _ = spawn(b, "a", main)
    b.kernel.run(until=MS)
    assert p.state.name == "Faulted" and "not `yield from`" in p.fault_reason


def test_yield_on_a_composite_faults_with_a_hint():
    b = build_board(fault_policy="stop")

    def main(tock):
        yield tock.delay_ms(5)

    p, _ = spawn(b, "a", main)
    b.kernel.run(until=MS)
    assert "with `yield from`" in p.fault_reason


def test_an_exception_in_the_app_faults_it():
    b = build_board(fault_policy="stop")

    def main(tock):
        yield tock.command(D.LED, 0)
        raise RuntimeError("oops")

    p, _ = spawn(b, "a", main)
    b.kernel.run(until=MS)
    assert p.fault_reason == "app raised RuntimeError: oops"


def test_touching_memory_past_the_break_is_an_mpu_fault():
    b = build_board(fault_policy="stop")

    def main(tock):
        yield tock.command(D.LED, 0)
        tock.write(p.app_break, b"x")

    p, _ = spawn(b, "a", main)
    b.kernel.run(until=MS)
    assert p.fault_reason.startswith("memory fault: write of 1 bytes at")


# ---------------------------------------------------------------------------- memory
def test_alloc_is_a_bump_allocator_in_the_apps_heap():
    b = build_board(fault_policy="stop")
    got = {}

    def main(tock):
        a = tock.alloc(3)
        c = tock.buffer(b"hello")
        got["a"], got["c"] = a.addr, c.addr
        got["bytes"] = c.read()
        yield tock.command(D.LED, 0)
        tock.alloc(tock.heap_free + 1)

    p, _ = spawn(b, "a", main, ram=1024)
    b.kernel.run(until=MS)
    heap = p.memory_start + 512
    assert got == {"a": heap, "c": heap + 4, "bytes": b"hello"}
    assert p.read(heap + 4, 5) == b"hello"
    assert "out of heap" in p.fault_reason


def test_malloc_moves_the_break_with_sbrk():
    b = build_board()
    got = {}

    def main(tock):
        buf = yield from tock.malloc(tock.heap_free + 100)
        got["buf"] = buf
        buf.write(b"z" * buf.len)

    p, _ = spawn(b, "a", main, ram=1024)
    b.kernel.run(until=MS)
    assert any(l.startswith("[0] memop(1, 0x") for l in lines(b.kernel))
    assert p.app_break >= got["buf"].addr + got["buf"].len


# ---------------------------------------------------------------------------- timers
def test_delay_ms_sleeps_in_virtual_time():
    b = build_board()
    k = b.kernel
    times = []

    def main(tock):
        for _ in range(3):
            yield from tock.delay_ms(20)
            times.append(k.now)

    spawn(b, "a", main)
    k.run(until=100 * MS)
    assert [round(t / MS) for t in times] == [20, 40, 60]
    t = lines(k)
    # libtock-c's way: a virtual timer on the alarm, then yield-wait until it fired.
    assert "[0] yield. which: Wait" in t and "[0] yield. which: WaitFor" not in t
    assert sum(1 for l in t if l.startswith("[0] subscribe(0x0, 0, @")) == 1


def test_virtual_timers_fire_in_order_and_cancel():
    b = build_board()
    k = b.kernel
    fired = []

    def main(tock):
        yield from tock.alarm_in_ms(30, lambda: fired.append(("30", k.now // MS)))
        t = yield from tock.alarm_in_ms(20, lambda: fired.append(("20", k.now // MS)))
        yield from tock.alarm_in_ms(10, lambda: fired.append(("10", k.now // MS)))
        yield from tock.cancel(t)
        yield from tock.delay_ms(50)  # timers running: a virtual one-shot, other upcalls still run
        fired.append(("delay", k.now // MS))

    spawn(b, "a", main)
    k.run(until=100 * MS)
    assert fired == [("10", 10), ("30", 30), ("delay", 50)]


def test_repeating_timer_does_not_drift():
    b = build_board()
    k = b.kernel
    at = []

    def main(tock):
        def tick():
            at.append(k.now)
            yield tock.compute(300)  # handler work does not push the next period back

        yield from tock.every_ms(7, tick)

    spawn(b, "a", main)
    k.run(until=75 * MS)
    assert len(at) == 10
    gaps = {round((b_ - a) / 1000) for a, b_ in zip(at, at[1:])}
    assert max(gaps) - min(gaps) <= 31  # one 32 kHz tick of jitter, no accumulation
    assert abs(at[-1] - 70 * MS) < 100_000


# ---------------------------------------------------------------------------- compute and preemption
def test_compute_is_preempted_by_the_round_robin_timeslice():
    b = build_board()
    k = b.kernel
    k.scheduler = scheduler_from("round_robin", 10_000)
    marks = []

    def hog(tock):
        yield tock.compute(25_000)  # 25 ms of CPU
        marks.append(("hog done", k.now // MS))
        yield tock.command(D.LED, 1, 0)

    def other(tock):
        for i in range(3):
            marks.append(("other", k.now // MS))
            yield tock.command(D.LED, 3, 1)
            yield from tock.delay_ms(1)

    h, _ = spawn(b, "hog", hog)
    o, _ = spawn(b, "other", other)
    k.run(until=60 * MS)
    assert h.timeslice_expirations >= 2
    assert any(r.kind == "timeslice" and r.name == "hog" for r in k.log)
    # `other` ran while hog was mid-computation, not only after it.
    done = next(t for m, t in marks if m == "hog done")
    assert any(m == "other" and t < done for m, t in marks[1:])
    assert 25 <= done < 40


def test_compute_under_the_cooperative_scheduler_runs_to_completion():
    b = build_board()
    k = b.kernel
    k.scheduler = scheduler_from("cooperative")

    def hog(tock):
        yield tock.compute(25_000)
        yield tock.command(D.LED, 1, 0)

    h, _ = spawn(b, "hog", hog)
    k.run(until=60 * MS)
    assert h.timeslice_expirations == 0 and b.led.on[0]


# ---------------------------------------------------------------------------- restart
def test_restart_runs_the_app_from_scratch():
    b = build_board()
    k = b.kernel
    k.fault_policy = fault_policy_from("restart")
    runs = []

    def main(tock):
        buf = tock.buffer(b"run")
        runs.append(buf.addr)
        yield tock.command(D.LED, 3, 0)
        if len(runs) < 3:
            yield tock.exit_restart(len(runs))

    p, prog = spawn(b, "a", main)
    k.run(until=10 * MS)
    assert len(runs) == 3 and len(set(runs)) == 1
    assert prog.starts == 3 and p.restart_count == 2
    t = lines(k)
    assert sum(1 for l in t if "memop(0, " in l) == 3  # crt0 again after each restart
    assert "[0] exit(which: 1, completion_code: 1) = None" in t
    assert any(l.startswith("[2] memop(0, ") for l in t)


def test_boot_after_terminate_starts_the_app_again():
    b = build_board()
    k = b.kernel
    runs = []

    def main(tock):
        runs.append(1)
        yield tock.exit_terminate(0)

    p, _ = spawn(b, "a", main)
    k.run(until=MS)
    k.boot(p)
    k.run(until=2 * MS)
    assert len(runs) == 2 and p.state.name == "Terminated"


def test_an_error_code_in_failure_is_tocks():
    b = build_board()
    got = []

    def main(tock):
        got.append((yield tock.command(D.CONSOLE, 1, 5)))  # no buffer allowed: length 0 write is accepted
        got.append((yield tock.command(D.CONSOLE, 1, 5)))  # one write in flight per process

    spawn(b, "a", main)
    b.kernel.run(until=MS)
    assert got[1].error is ErrorCode.BUSY
