"""Fault policies, restart identity, boot / stop / resume, and API misuse (tock-kernel.md section 3)."""

from __future__ import annotations

import pytest

from tockshell.board import build_board
from tockshell.kernel import GrantError, KernelAPIError, KernelPanic, UpcallError, fault_policy_from
from tockshell.kernel.driver import SyscallDriver
from tockshell.kernel.grant import GrantSpec

from test_kernel_support import (ALARM, ALLOW_RW, BUTTON, COMMAND, CONSOLE, LED, MEMOP, YIELD, Script, crt0,
                                 heap, manual, new_board, snapshot, subscribe)


# ---------------------------------------------------------------------------- fault policies

def test_panic_policy_stops_the_whole_board():
    b, k, p = manual("panic")
    k.fault(p, "MPU fault")
    assert k.panicked == "Process a had a fault"
    assert p.state.name == "Faulted"
    assert k.log[-1].kind == "panic"
    assert k.run(max_events=3) == "panic" and not k.step()
    with pytest.raises(KernelPanic, match="panicked"):
        k.create_process("b")
    with pytest.raises(KernelPanic):
        b.press_button(0)
    with pytest.raises(KernelPanic):
        k.syscall(p, COMMAND, LED, 0, 0, 0)


def test_stop_policy_leaves_the_process_faulted_and_cleared():
    b, k, p = manual("stop")
    subscribe(k, p, ALARM, 0)
    k.schedule_upcall(p, ALARM, 0, (1, 0, 0))
    k.fault(p, "hard fault")
    assert p.state.name == "Faulted"
    assert not p.tasks and all(g is None for g in p.grants)
    assert p.has_terminated and p.completion_code is None  # "Completion Code: Faulted"
    assert k.panicked is None
    assert k.state_sentence(p) == "faulted: hard fault (was Running)"
    assert k.schedule_upcall(p, ALARM, 0, (2, 0, 0)) is UpcallError.KERNEL_ERROR
    with pytest.raises(KernelAPIError):
        k.boot(p)  # a Faulted process must be terminated before it can be booted
    k.terminate(p)
    k.boot(p)
    assert p.state.name == "Running" and p.restart_count == 1


def test_restart_policy_restarts_with_a_new_identity():
    b, k, p = manual("restart")
    k.fault(p)
    assert p.state.name == "Running"  # booted manual: _start and crt0 again
    assert p.identifier == 1 and p.restart_count == 1 and k.stats.restarts == 1
    assert p.completion_code is None and p.has_terminated


@pytest.mark.parametrize("n", [0, 1, 3])
def test_threshold_policy_allows_n_plus_one_restarts_then_stops(n):
    b = build_board(fault_policy="stop")
    k = b.kernel
    k.fault_policy = fault_policy_from("threshold", n)
    p = k.create_process("a")
    for i in range(n + 1):
        k.fault(p)
        assert p.state.name == "Running" and p.restart_count == i + 1
    k.fault(p)
    assert p.state.name == "Faulted" and p.restart_count == n + 1
    assert k.panicked is None


@pytest.mark.parametrize("n", [0, 2])
def test_threshold_panic_policy_panics_after_n_plus_one_restarts(n):
    b = build_board(fault_policy="stop")
    k = b.kernel
    k.fault_policy = fault_policy_from("threshold_panic", n)
    p = k.create_process("a")
    for _ in range(n + 1):
        k.fault(p)
        assert k.panicked is None
    k.fault(p)
    assert k.panicked == "Process a had a fault"


def test_console_boot_counts_towards_the_threshold():
    b = build_board(fault_policy="stop")
    k = b.kernel
    k.fault_policy = fault_policy_from("threshold", 1)
    p = k.create_process("a")
    k.terminate(p)
    k.boot(p)
    k.fault(p)  # restart_count 1 <= 1: restarts
    assert p.restart_count == 2
    k.fault(p)
    assert p.state.name == "Faulted"


def test_fault_policy_spellings():
    assert str(fault_policy_from("panic")) == "panic"
    assert str(fault_policy_from("threshold", 3)) == "threshold(3)"
    assert str(fault_policy_from("threshold_panic", 0)) == "threshold_panic(0)"
    with pytest.raises(ValueError, match="unknown fault policy 'reboot'"):
        fault_policy_from("reboot")
    with pytest.raises(ValueError, match="needs a restart count"):
        fault_policy_from("threshold")
    with pytest.raises(ValueError, match="takes no argument"):
        fault_policy_from("stop", 2)


def test_app_faults_go_through_the_policy():
    def bad_write(app):
        yield from crt0(app)
        app.mem.write(app.mem.start - 4, b"x")  # outside its RAM: an MPU fault
        yield ("syscall", COMMAND, LED, 0, 0, 0)

    def raises(app):
        yield from crt0(app)
        raise RuntimeError("boom")

    def says_fault(app):
        yield ("fault", "stack overflow")

    b = new_board("stop")
    ps = [b.kernel.create_process(n, program=Script(body))
          for n, body in (("w", bad_write), ("r", raises), ("f", says_fault))]
    assert b.kernel.run(max_events=50) == "idle"
    assert [p.state.name for p in ps] == ["Faulted"] * 3
    assert ps[0].fault_reason.startswith("memory fault: write of 1 bytes")
    assert ps[1].fault_reason == "app raised RuntimeError: boom"
    assert ps[2].fault_reason == "stack overflow"


def test_app_with_restart_policy_starts_over():
    def body(app):
        yield from crt0(app)
        yield ("fault", "bug")

    b = new_board("restart")
    app = Script(body)
    p = b.kernel.create_process("s", program=app)
    b.kernel.run(max_events=12)
    assert p.restart_count >= 3
    assert len(app.starts) in (p.restart_count, p.restart_count + 1)  # the last _start may still be queued
    assert [s[1][1] for s in app.starts] == [p.memory_start] * len(app.starts)


# ---------------------------------------------------------------------------- restart identity

def test_restart_identity_rules():
    b, k, p = manual(short_id=0x1234)
    other = k.create_process("b")
    subscribe(k, p, ALARM, 0)
    k.syscall(p, COMMAND, CONSOLE, 0, 0, 0)
    k.syscall(p, ALLOW_RW, CONSOLE, 1, heap(k, p), 16)
    k.syscall(p, MEMOP, 10, p.memory_start + 100, 0, 0)
    old_pid, slot, initial_kbreak = p.pid, p.index, p.memory_end - p.initial_kernel_memory_size
    assert p.kernel_memory_break < initial_kbreak
    k.syscall(p, 6, 1, 42, 0, 0)  # exit-restart
    assert p.index == slot and k.processes[slot] is p
    assert p.identifier == 2  # global counter: a=0, b=1, restarted a=2
    assert p.pid != old_pid and other.identifier == 1
    assert k.lookup(old_pid) is None
    with pytest.raises(KernelAPIError, match="no longer exists"):
        k.process(old_pid)
    assert k.process(p.pid) is p
    assert str(p.short_id) == "0x1234"
    assert p.restart_count == 1 and p.completion_code == 42
    assert p.kernel_memory_break == initial_kbreak  # grants reclaimed
    assert all(g is None for g in p.grants)
    assert p.allow_high_water_mark == p.memory_start
    assert p.syscall_count == 3  # only crt0's memops since the reset
    # Capsules holding the old ProcessId find nothing.
    console = b.driver("console")
    with pytest.raises(GrantError, match="NoSuchApp"):
        k.enter_grant(old_pid, console)
    assert k.rw_buffer(old_pid, console, 1) == (0, 0)
    assert k.schedule_upcall(old_pid, ALARM, 0, (0, 0, 0)) is UpcallError.KERNEL_ERROR


def test_reset_clears_per_execution_counters_but_keeps_debug_pointers():
    b = new_board()
    k = b.kernel
    p = k.create_process("raw", booted=False)
    p.dropped_upcalls, p.timeslice_expirations, p.syscall_count = 3, 4, 5
    p.debug_stack_start = p.memory_start + 64
    k.terminate(p)
    k.boot(p)
    assert (p.dropped_upcalls, p.timeslice_expirations, p.syscall_count, p.last_syscall) == (0, 0, 0, None)
    assert p.debug_stack_start == p.memory_start + 64
    assert p.app_break == p.memory_start + 32
    assert p.state.name == "Yielded" and len(p.tasks) == 1  # _start queued again


def test_ram_is_not_zeroed_by_reset_but_by_the_next_brk():
    b, k, p = manual()
    marker = heap(k, p)
    p.write(marker, b"OLD!")
    k.syscall(p, 6, 1, 0, 0, 0)
    assert p.read(marker, 4) == bytes(4)  # crt0's brk zeroed what it exposed
    raw = k.create_process("raw", booted=False)
    raw.write(raw.memory_start + 256, b"OLD!")
    k.terminate(raw)
    k.boot(raw)
    assert raw.read(raw.memory_start + 256, 4) == b"OLD!"


def test_terminated_process_keeps_its_id_but_is_inactive():
    b, k, p = manual()
    subscribe(k, p, ALARM, 0)
    kbreak = p.kernel_memory_break
    k.terminate(p, 7)
    assert p.kernel_memory_break == kbreak  # grant memory comes back only at reset
    assert k.lookup(p.pid) is p and p.completion_code == 7
    with pytest.raises(GrantError, match="InactiveApp"):
        k.enter_grant(p.pid, b.driver("alarm"))
    assert k.state_sentence(p) == "terminated (completion code 7); `boot` starts it again"


def test_boot_only_from_terminated_and_restart_not_from_terminated():
    b, k, p = manual()
    with pytest.raises(KernelAPIError, match="boot starts only a Terminated process"):
        k.boot(p)
    k.terminate(p)
    with pytest.raises(KernelAPIError, match="Terminated"):
        k.try_restart(p)
    k.boot(p)
    assert p.state.name == "Running" and p.identifier == 1 and p.restart_count == 1
    assert [r.kind for r in k.log][-5:] == ["boot", "function_call", "memop", "memop", "memop"]


def test_restart_from_faulted_is_allowed():
    b, k, p = manual("stop")
    k.fault(p)
    k.try_restart(p)
    assert p.state.name == "Running" and p.restart_count == 1


def test_state_hooks_fire_once_per_ended_instance():
    b, k, p = manual("stop")
    seen = []
    k.add_process_state_hook(lambda proc, old, cause: seen.append((proc.name, old.identifier, cause)))
    k.try_restart(p)
    k.fault(p)
    k.terminate(p)
    assert seen == [("a", 0, "restarted"), ("a", 1, "faulted"), ("a", 1, "terminated")]


# ---------------------------------------------------------------------------- stop / resume

def test_stop_and_resume_a_running_process():
    b, k, p = manual()
    k.stop(p)
    assert p.state.debug() == "Stopped(Running)"
    assert k.state_sentence(p) == "stopped (was Running); `start` resumes it"
    subscribe_ok = p.grant_for_driver(ALARM)
    assert subscribe_ok is None
    with pytest.raises(KernelAPIError, match="only a Running process"):
        k.syscall(p, COMMAND, LED, 0, 0, 0)
    k.resume(p)
    assert p.state.name == "Running"


def test_stopped_process_accepts_upcalls_but_is_never_scheduled():
    b, k, p = manual()
    subscribe(k, p, ALARM, 0)
    k.syscall(p, YIELD, 1, 0, 0, 0)
    k.stop(p)
    assert p.state.debug() == "Stopped(Yielded)"
    assert k.schedule_upcall(p, ALARM, 0, (1, 0, 0)) is None
    assert len(p.tasks) == 1
    assert k.run() == "idle"
    assert p.state.debug() == "Stopped(Yielded)"
    k.resume(p)
    assert k.run() == "idle"
    assert p.state.name == "Running" and not p.tasks


def test_resume_of_yielded_for_rescans_the_queue():
    b, k, p = manual()
    subscribe(k, p, ALARM, 0)
    subscribe(k, p, BUTTON, 0)
    k.syscall(p, YIELD, 2, ALARM, 0, 0)
    k.stop(p)
    k.schedule_upcall(p, ALARM, 0, (1, 0, 0))
    k.schedule_upcall(p, BUTTON, 0, (2, 0, 0))  # would hide the match if it were YieldedFor
    k.resume(p)
    assert p.state.name == "YieldedFor" and p.wait_for_ready
    assert k.run() == "idle"
    assert p.pending_return.args == (1, 0, 0)


def test_stop_of_the_current_app_takes_it_off_the_cpu():
    def body(app):
        yield from crt0(app)
        while True:
            yield ("syscall", COMMAND, LED, 0, 0, 0)

    b = new_board()
    k = b.kernel
    p = k.create_process("s", program=Script(body))
    k.run(max_events=5)
    assert k.current is p
    k.stop(p)
    assert k.current is None
    n = p.syscall_count
    assert k.run(max_events=20) == "idle"
    assert p.syscall_count == n
    k.resume(p)
    k.run(max_events=5)
    assert p.syscall_count == n + 5


def test_console_start_resumes_and_does_not_boot():
    b, k, p = manual()
    k.terminate(p)
    with pytest.raises(KernelAPIError, match="not Stopped"):
        k.resume(p)
    assert p.state.name == "Terminated"


# ---------------------------------------------------------------------------- API misuse changes nothing

def _raises_unchanged(k, fn, match):
    before = snapshot(k)
    with pytest.raises(KernelAPIError, match=match):
        fn()
    assert snapshot(k) == before


def test_unknown_process():
    b, k, p = manual()
    _raises_unchanged(k, lambda: k.syscall("nobody", COMMAND, LED, 0, 0, 0), "no process named 'nobody'")
    for op in (k.fault, k.terminate, k.try_restart, k.boot, k.stop, k.resume):
        _raises_unchanged(k, lambda op=op: op("nobody"), "no process named 'nobody'")


def test_syscall_for_a_process_that_is_not_running():
    b, k, p = manual()
    subscribe(k, p, ALARM, 0)
    k.syscall(p, YIELD, 1, 0, 0, 0)
    _raises_unchanged(k, lambda: k.syscall(p, COMMAND, LED, 0, 0, 0),
                      r"a is waiting in yield-wait for an upcall; only a Running process can make a syscall")
    raw = k.create_process("raw", booted=False)
    _raises_unchanged(k, lambda: k.syscall(raw, COMMAND, LED, 0, 0, 0), "only a Running process")
    k.terminate(raw)
    _raises_unchanged(k, lambda: k.syscall(raw, MEMOP, 2, 0, 0, 0), "terminated")


def test_syscall_with_a_stale_process_id():
    b, k, p = manual()
    old = p.pid
    k.try_restart(p)
    _raises_unchanged(k, lambda: k.syscall(old, COMMAND, LED, 0, 0, 0), r"process \[0\] no longer exists")


def test_syscall_for_an_app_process():
    b = new_board()
    k = b.kernel
    def body(app):
        while True:
            yield ("syscall", COMMAND, LED, 0, 0, 0)

    p = k.create_process("s", program=Script(body))
    k.run(max_events=3)
    assert p.state.name == "Running"
    _raises_unchanged(k, lambda: k.syscall(p, COMMAND, LED, 0, 0, 0), "its syscalls come from the app")


def test_lifecycle_calls_in_the_wrong_state():
    b, k, p = manual("stop")
    _raises_unchanged(k, lambda: k.resume(p), "not Stopped")
    _raises_unchanged(k, lambda: k.boot(p), "Terminated")
    k.stop(p)
    _raises_unchanged(k, lambda: k.stop(p), "only a Running or Yielded process can be stopped")
    k.resume(p)
    k.terminate(p)
    _raises_unchanged(k, lambda: k.terminate(p), "already Terminated")
    _raises_unchanged(k, lambda: k.fault(p), "only a live process can fault")
    _raises_unchanged(k, lambda: k.stop(p), "can be stopped")
    _raises_unchanged(k, lambda: k.try_restart(p), "Terminated")


def test_bad_create_process_changes_nothing():
    b = new_board()
    k = b.kernel
    _raises_unchanged(k, lambda: k.create_process("x", ram=-1), "must be positive")
    _raises_unchanged(k, lambda: k.create_process("x", flash=0), "must be positive")
    _raises_unchanged(k, lambda: k.create_process("x", ram_address=0x100), "below 0x1000")
    assert not k.grants_finalized
    a = k.create_process("a")
    _raises_unchanged(k, lambda: k.create_process("a"), "a process named 'a' already exists")
    _raises_unchanged(k, lambda: k.create_process("x", ram_address=a.memory_start + 16), "overlaps a's block")
    _raises_unchanged(k, lambda: k.create_process("x", flash_address=a.flash_start), "overlaps a's region")
    for i in range(k.config.num_procs - 1):
        k.create_process(f"p{i}")
    _raises_unchanged(k, lambda: k.create_process("one_too_many"), "no free process slot")


def test_refused_driver_changes_nothing():
    class Late(SyscallDriver):
        driver_num = 0x9999
        name = "late"

        def make_grant(self):
            return GrantSpec(self.driver_num, 1, 0, 0)

    b, k, p = manual()
    _raises_unchanged(k, lambda: b.add(Late()), "Grants finalized")
    assert 0x9999 not in k.drivers and "late" not in b.drivers_by_name
    _raises_unchanged(k, lambda: b.add(b.driver("led").__class__()), "already on this board")


def test_bad_board_requests():
    b, k, p = manual()
    _raises_unchanged(k, lambda: b.press_button(4), "buttons 0..3")
    with pytest.raises(KernelAPIError, match="unknown board"):
        build_board("mars")


def test_kernel_panic_is_a_kernel_api_error():
    assert issubclass(KernelPanic, KernelAPIError)


def test_short_ids():
    from tockshell.kernel import ShortId

    unique = ShortId()
    assert str(unique) == "Unique" and unique.locally_unique
    assert not unique.matches(unique)  # LocallyUnique compares unequal to everything, itself included
    assert ShortId(0x42).matches(ShortId(0x42)) and not ShortId(0x42).matches(ShortId(0x43))
    assert str(ShortId(0x42)) == "0x42"


def test_bad_console_input_changes_nothing():
    b, k, p = manual()
    _raises_unchanged(k, lambda: b.console_input("text"), "console input must be bytes, not str")
