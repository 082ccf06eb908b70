"""Each syscall class: success and every failure path tock-kernel.md section 1 names."""

from __future__ import annotations

import pytest

from tockshell.abi import ErrorCode, SyscallClass, SyscallReturn, Variant, YieldWaitForReturn
from tockshell.kernel import KernelConfig, KernelPanic

from test_kernel_support import (ALARM, ALLOW_RO, ALLOW_RW, ALLOW_UR, BUTTON, COMMAND, CONSOLE, EXIT, LED,
                                 MEMOP, NO_DRIVER, SUBSCRIBE, YIELD, fn_ptr, heap, lines, manual, mark,
                                 subscribe, tasks)


def regs(p, r):
    """The registers userspace would see, given the call's own argument registers."""
    return r.registers(p.last_syscall[1])


# ---------------------------------------------------------------------------- invalid calls

def test_invalid_class_faults_the_process():
    b, k, p = manual()
    assert k.syscall(p, 8, 0, 0, 0, 0) is None
    assert p.state.name == "Faulted"
    assert "invalid syscall class 8" in p.fault_reason
    assert p.syscall_count == 3  # crt0's memops only: an undecodable call never reaches handle_syscall


def test_invalid_class_with_panic_policy_panics_the_kernel():
    b, k, p = manual("panic")
    k.syscall(p, 9, 0, 0, 0, 0)
    assert k.panicked == "Process a had a fault"
    assert p.state.name == "Faulted"
    with pytest.raises(KernelPanic):
        k.syscall(p, COMMAND, LED, 0, 0, 0)
    assert k.run(max_events=5) == "panic"


def test_invalid_yield_number_faults():
    b, k, p = manual()
    k.syscall(p, YIELD, 3, 0, 0, 0)
    assert p.state.name == "Faulted"
    assert "invalid yield number 3" in p.fault_reason


def test_invalid_yield_number_returns_at_once_with_trd104():
    b, k, p = manual(config=KernelConfig(trd104=True))
    assert k.syscall(p, YIELD, 7, 0, 0, 0) is None
    assert p.state.name == "Running"


def test_execute_decodes_raw_registers_like_the_svc_handler():
    b, k, p = manual()
    k.execute(p, COMMAND, LED | 1 << 32, 0, 0, 0)  # upper bits do not exist on a 32-bit core
    assert p.pending_return == SyscallReturn.success_u32(4)
    k.execute(p, 0xFF, 0, 0, 0, 0)
    assert p.state.name == "Faulted"


# ---------------------------------------------------------------------------- yield

def _queue_alarm_upcalls(k, p, n, fn=None):
    subscribe(k, p, ALARM, 0, fn)
    for i in range(n):
        assert k.schedule_upcall(p, ALARM, 0, (i, 0, 0)) is None


def test_yield_no_wait_with_nothing_queued_returns_and_writes_zero():
    b, k, p = manual()
    flag = heap(k, p)
    p.write(flag, b"\xaa")
    assert k.syscall(p, YIELD, 0, flag, 0, 0) is None
    assert p.state.name == "Running"
    assert p.read(flag, 1) == b"\x00"
    assert lines(k)[-1] == "[0] yield. which: NoWait"


def test_yield_no_wait_with_an_upcall_delivers_it_and_writes_one():
    b, k, p = manual()
    _queue_alarm_upcalls(k, p, 1)
    flag = heap(k, p)
    m = mark(k)
    k.syscall(p, YIELD, 0, flag, 0, 0)
    assert p.read(flag, 1) == b"\x01"
    assert p.state.name == "Running" and p.in_handler == 1
    assert not p.tasks
    assert lines(k, m) == ["[0] yield. which: NoWait",
                           f"[0] function_call @{fn_ptr(p):#x}(0x0, 0x0, 0x0, 0x0)"]


@pytest.mark.parametrize("where", ["app_break", "below_ram", "flash", "null", "grant"])
def test_yield_no_wait_flag_only_written_inside_app_memory(where):
    b, k, p = manual()
    _queue_alarm_upcalls(k, p, 1)
    addr = {"app_break": p.app_break, "below_ram": p.memory_start - 1, "flash": p.flash_start + p.header_len,
            "null": 0, "grant": p.kernel_memory_break}[where]
    before = bytes(p.ram), bytes(p.flash)
    k.syscall(p, YIELD, 0, addr, 0, 0)
    assert (bytes(p.ram), bytes(p.flash)) == before
    assert p.state.name == "Running"  # the upcall was still delivered; no fault


def test_yield_no_wait_flag_at_last_byte_below_the_break_is_written():
    b, k, p = manual()
    k.syscall(p, YIELD, 0, p.app_break - 1, 0, 0)
    assert p.read(p.app_break - 1, 1) == b"\x00"
    _queue_alarm_upcalls(k, p, 1)
    k.syscall(p, YIELD, 0, p.app_break - 1, 0, 0)
    assert p.read(p.app_break - 1, 1) == b"\x01"


def test_yield_no_wait_blocks_on_a_null_upcall_only_queue():
    b, k, p = manual()
    _queue_alarm_upcalls(k, p, 1, fn=0)  # subscribed the Null Upcall: a ReturnValue is queued
    assert tasks(p) == ["ReturnValue[0x0:0] null upcall (0x0, 0x0, 0x0)"]
    flag = heap(k, p)
    k.syscall(p, YIELD, 0, flag, 0, 0)
    assert p.read(flag, 1) == b"\x01"  # "has tasks" counted the event...
    assert p.state.name == "Yielded"  # ...which was then dropped: the process now waits like yield-wait
    assert not p.tasks
    assert k.stats.null_events_dropped == 1
    assert "waiting in yield-wait" in k.state_sentence(p)


def test_yield_wait_delivers_exactly_one_upcall():
    b, k, p = manual()
    _queue_alarm_upcalls(k, p, 3)
    k.syscall(p, YIELD, 1, 0, 0, 0)
    assert p.state.name == "Running"
    assert tasks(p) == [f"FunctionCall[0x0:0] @{fn_ptr(p):#x}(0x1, 0x0, 0x0, 0x0)",
                        f"FunctionCall[0x0:0] @{fn_ptr(p):#x}(0x2, 0x0, 0x0, 0x0)"]
    assert k.stats.upcalls_delivered == 2  # _start and this one


def test_yield_wait_with_empty_queue_blocks_until_an_upcall():
    b, k, p = manual()
    subscribe(k, p, ALARM, 0)
    assert k.syscall(p, YIELD, 1, 0, 0, 0) is None
    assert p.state.name == "Yielded"
    assert k.run() == "idle"
    k.schedule_upcall(p, ALARM, 0, (5, 6, 7))
    assert k.step()
    assert p.state.name == "Running"
    assert lines(k)[-1] == f"[0] function_call @{fn_ptr(p):#x}(0x5, 0x6, 0x7, 0x0)"


def test_yield_wait_drops_null_upcall_events():
    b, k, p = manual()
    _queue_alarm_upcalls(k, p, 2, fn=0)
    k.syscall(p, YIELD, 1, 0, 0, 0)
    assert p.state.name == "Yielded"
    assert k.run() == "idle"
    assert not p.tasks and p.state.name == "Yielded"


def _two_sources(k, p, button_fn=None):
    subscribe(k, p, ALARM, 0)
    subscribe(k, p, BUTTON, 0, button_fn)
    k.schedule_upcall(p, ALARM, 0, (1, 0, 0))
    k.schedule_upcall(p, BUTTON, 0, (2, 1, 0))
    k.schedule_upcall(p, ALARM, 0, (3, 0, 0))
    k.schedule_upcall(p, BUTTON, 0, (4, 1, 0))


def test_yield_wait_for_takes_the_first_match_from_anywhere_and_suppresses_the_function():
    b, k, p = manual()
    _two_sources(k, p)
    m = mark(k)
    r = k.syscall(p, YIELD, 2, BUTTON, 0, 0)
    assert isinstance(r, YieldWaitForReturn) and r.args == (2, 1, 0)
    assert regs(p, r) == (2, 1, 0, 0)  # r3 keeps its old value
    assert p.state.name == "Running" and p.in_handler == 0
    assert [t.args[0] for t in p.tasks] == [1, 3, 4]
    assert lines(k, m) == ["[0] yield. which: WaitFor",
                           f"[0] Yield-WaitFor [Suppressed function_call @{fn_ptr(p):#x}] (0x2, 0x1, 0x0, 0x0)"]


def test_yield_wait_for_a_null_upcall_event():
    b, k, p = manual()
    _two_sources(k, p, button_fn=0)
    r = k.syscall(p, YIELD, 2, BUTTON, 0, 0)
    assert r.args == (2, 1, 0)
    assert lines(k)[-1] == "[0] Yield-WaitFor: [NU] (0x2, 0x1, 0x0)"


def test_yield_wait_for_blocks_then_wakes_on_a_match():
    b, k, p = manual()
    subscribe(k, p, ALARM, 0)
    subscribe(k, p, BUTTON, 0)
    assert k.syscall(p, YIELD, 2, BUTTON, 0, 0) is None
    assert p.state.debug() == "YieldedFor(UpcallId { driver_num: 0x3, subscribe_num: 0 })"
    k.schedule_upcall(p, ALARM, 0, (1, 0, 0))
    assert k.run() == "idle"  # a non-matching upcall does not wake it
    k.schedule_upcall(p, BUTTON, 0, (2, 1, 0))
    assert k.run() == "idle"
    assert p.state.name == "Running"
    assert isinstance(p.pending_return, YieldWaitForReturn) and p.pending_return.args == (2, 1, 0)
    assert [t.args[0] for t in p.tasks] == [1]


def test_yield_wait_for_an_unknown_upcall_blocks_forever():
    b, k, p = manual()
    k.syscall(p, YIELD, 2, NO_DRIVER, 9, 0)
    assert p.state.name == "YieldedFor"
    assert k.run() == "idle"


def test_waitfor_readiness_flag_quirk():
    """A non-matching enqueue after a matching one hides it (process_standard.rs enqueue_task)."""
    b, k, p = manual()
    subscribe(k, p, ALARM, 0)
    subscribe(k, p, BUTTON, 0)
    k.syscall(p, YIELD, 2, ALARM, 0, 0)
    k.schedule_upcall(p, ALARM, 0, (1, 0, 0))
    assert p.wait_for_ready
    k.schedule_upcall(p, BUTTON, 0, (2, 1, 0))
    assert not p.wait_for_ready
    assert k.run() == "idle"
    assert p.state.name == "YieldedFor"  # its upcall is queued, yet it is not scheduled
    assert "readiness flag was overwritten" in k.state_sentence(p)
    k.schedule_upcall(p, ALARM, 0, (3, 0, 0))  # another match sets the flag again
    assert k.run() == "idle"
    assert p.pending_return.args == (1, 0, 0)


def test_waitfor_quirk_switched_off():
    b, k, p = manual(config=KernelConfig(waitfor_flag_quirk=False))
    subscribe(k, p, ALARM, 0)
    subscribe(k, p, BUTTON, 0)
    k.syscall(p, YIELD, 2, ALARM, 0, 0)
    k.schedule_upcall(p, ALARM, 0, (1, 0, 0))
    k.schedule_upcall(p, BUTTON, 0, (2, 1, 0))
    assert k.run() == "idle"
    assert p.state.name == "Running"
    assert p.pending_return.args == (1, 0, 0)


# ---------------------------------------------------------------------------- subscribe

def test_subscribe_success_returns_the_previous_upcall():
    b, k, p = manual()
    f1, f2 = fn_ptr(p, 0x41), fn_ptr(p, 0x81)
    r = k.syscall(p, SUBSCRIBE, ALARM, 0, f1, 0x11)
    assert r.kind == "SubscribeSuccess" and r.values == (0, 0)
    r = k.syscall(p, SUBSCRIBE, ALARM, 0, f2, 0x22)
    assert r.values == (f1, 0x11)
    assert regs(p, r) == (130, f1, 0x11, 0x22)
    g = p.grant_for_driver(ALARM)
    assert g.upcalls == [(f2, 0x22)]
    # The saved upcall is real bytes in the grant: {appdata, fn_ptr}.
    assert p.read(g.slot_address("upcall", 0), 8) == (0x22).to_bytes(4, "little") + f2.to_bytes(4, "little")


def test_subscribe_bad_pointer_is_inval_before_the_driver_lookup():
    b, k, p = manual()
    for drv in (ALARM, NO_DRIVER, LED):
        r = k.syscall(p, SUBSCRIBE, drv, 0, 0x10, 7)
        assert r == SyscallReturn.failure_u32_u32(ErrorCode.INVAL, 0x10, 7)
        assert r.kind == "SubscribeFailure"
    assert p.grant_for_driver(ALARM) is None  # nothing allocated by a refused pointer


@pytest.mark.parametrize("where, ok", [
    ("flash_header", False), ("flash_after_header", True), ("flash_last_word", True),
    ("flash_end", False), ("ram", True), ("ram_above_break", False), ("ram_last_word", True)])
def test_subscribe_valid_function_pointers(where, ok):
    b, k, p = manual()
    addr = {"flash_header": p.flash_start, "flash_after_header": p.flash_start + p.header_len,
            "flash_last_word": p.flash_end - 4, "flash_end": p.flash_end - 3, "ram": heap(k, p),
            "ram_above_break": p.app_break, "ram_last_word": p.app_break - 4}[where]
    r = k.syscall(p, SUBSCRIBE, ALARM, 0, addr, 0)
    assert r.is_success == ok
    if not ok:
        assert r.error is ErrorCode.INVAL


def test_subscribe_missing_driver_echoes_the_passed_values():
    b, k, p = manual()
    r = k.syscall(p, SUBSCRIBE, NO_DRIVER, 0, fn_ptr(p), 9)
    assert r == SyscallReturn.failure_u32_u32(ErrorCode.NODEVICE, fn_ptr(p), 9)
    assert lines(k)[-1] == f"[0] subscribe(0x7777, 0, @{fn_ptr(p):#x}, 0x9) = SubscribeFailure(NODEVICE, {fn_ptr(p):#x}, 9)"


def test_subscribe_missing_driver_returns_the_null_upcall_with_trd104():
    b, k, p = manual(config=KernelConfig(trd104=True))
    r = k.syscall(p, SUBSCRIBE, NO_DRIVER, 0, fn_ptr(p), 9)
    assert r == SyscallReturn.failure_u32_u32(ErrorCode.NODEVICE, 0, 0)


@pytest.mark.parametrize("trd104, err", [(False, ErrorCode.NOSUPPORT), (True, ErrorCode.INVAL)])
def test_subscribe_number_out_of_range(trd104, err):
    b, k, p = manual(config=KernelConfig(trd104=trd104))
    r = k.syscall(p, SUBSCRIBE, ALARM, 1, fn_ptr(p), 3)
    assert r == SyscallReturn.failure_u32_u32(err, fn_ptr(p), 3)
    assert p.grant_for_driver(ALARM) is not None  # the grant was allocated on the way
    r = k.syscall(p, SUBSCRIBE, CONSOLE, 3, fn_ptr(p), 3)  # console declares 3 upcalls: 0..2
    assert r.error is err


def test_subscribe_to_a_driver_without_a_grant_is_nomem():
    b, k, p = manual()
    m = mark(k)
    r = k.syscall(p, SUBSCRIBE, LED, 0, fn_ptr(p), 1)
    assert r == SyscallReturn.failure_u32_u32(ErrorCode.NOMEM, fn_ptr(p), 1)
    assert lines(k, m) == ["[0] WARN driver #2 did not allocate grant",
                           f"[0] subscribe(0x2, 0, @{fn_ptr(p):#x}, 0x1) = SubscribeFailure(NOMEM, {fn_ptr(p):#x}, 1)"]


def test_successful_subscribe_removes_pending_function_calls_only():
    b, k, p = manual()
    f = fn_ptr(p)
    subscribe(k, p, ALARM, 0, f)
    subscribe(k, p, BUTTON, 0, f)
    k.schedule_upcall(p, ALARM, 0, (1, 0, 0))
    k.schedule_upcall(p, BUTTON, 0, (2, 0, 0))
    k.schedule_upcall(p, ALARM, 0, (3, 0, 0))
    m = mark(k)
    k.syscall(p, SUBSCRIBE, ALARM, 0, 0, 0)  # unsubscribe: pending alarm calls go
    assert lines(k, m) == ["[0] remove_pending_upcalls[0x0:0] = 2 upcall(s) removed",
                           f"[0] subscribe(0x0, 0, @0x0, 0x0) = SubscribeSuccess({f:#x}, 0)"]
    assert [t.args[0] for t in p.tasks] == [2]
    k.schedule_upcall(p, ALARM, 0, (4, 0, 0))  # a ReturnValue now (null upcall)
    k.syscall(p, SUBSCRIBE, ALARM, 0, f, 0)  # same-id ReturnValue events stay
    assert lines(k)[-2] == "[0] remove_pending_upcalls[0x0:0] = 0 upcall(s) removed"
    assert tasks(p)[-1] == "ReturnValue[0x0:0] null upcall (0x4, 0x0, 0x0)"


def test_failed_subscribe_keeps_pending_upcalls_and_the_old_upcall():
    b, k, p = manual()
    f = fn_ptr(p)
    subscribe(k, p, ALARM, 0, f, 5)
    k.schedule_upcall(p, ALARM, 0, (1, 0, 0))
    m = mark(k)
    k.syscall(p, SUBSCRIBE, ALARM, 0, 0x10, 0)  # INVAL pointer
    k.syscall(p, SUBSCRIBE, ALARM, 1, f, 0)  # NOSUPPORT
    assert not any("remove_pending" in line for line in lines(k, m))
    assert len(p.tasks) == 1
    assert p.grant_for_driver(ALARM).upcalls == [(f, 5)]


# ---------------------------------------------------------------------------- command

def test_command_to_a_missing_driver_is_plain_nodevice():
    b, k, p = manual()
    r = k.syscall(p, COMMAND, NO_DRIVER, 0, 5, 6)
    assert r.variant is Variant.FAILURE and r.error is ErrorCode.NODEVICE
    assert regs(p, r) == (0, 11, 5, 6)
    assert lines(k)[-1] == "[0] cmd(0x7777, 0, 0x5, 0x6) = Failure(NODEVICE)"


def test_led_command_zero_is_success_u32_count():
    b, k, p = manual()
    r = k.syscall(p, COMMAND, LED, 0, 0, 0)
    assert str(r) == "Success(u32=4)"
    assert regs(p, r) == (129, 4, 0, 0)
    assert lines(k)[-1] == "[0] cmd(0x2, 0, 0x0, 0x0) = SuccessU32(4)"


def test_command_exists_and_unknown_commands():
    b, k, p = manual()
    assert str(k.syscall(p, COMMAND, ALARM, 0, 0, 0)) == "Success"
    assert str(k.syscall(p, COMMAND, BUTTON, 0, 0, 0)) == "Success(u32=4)"
    assert str(k.syscall(p, COMMAND, ALARM, 99, 0, 0)) == "Failure(NOSUPPORT)"
    assert str(k.syscall(p, COMMAND, LED, 1, 9, 0)) == "Failure(INVAL)"  # no LED 9


def test_command_zero_of_console_allocates_its_grant():
    b, k, p = manual()
    brk = p.kernel_memory_break
    k.syscall(p, COMMAND, CONSOLE, 0, 0, 0)
    assert p.grant_for_driver(CONSOLE) is not None
    assert p.kernel_memory_break == brk - b.console.grant.size


# ---------------------------------------------------------------------------- allow

@pytest.mark.parametrize("cls", [ALLOW_RW, ALLOW_RO])
def test_zero_length_allow_accepts_any_address_and_hands_it_back(cls):
    b, k, p = manual()
    hwm = p.allow_high_water_mark
    r = k.syscall(p, cls, CONSOLE, 1, 0xDEAD_BEEF, 0)
    assert r.is_success and r.values == (0, 0)
    assert p.allow_high_water_mark == hwm
    r = k.syscall(p, cls, CONSOLE, 1, 0, 0)
    assert r.values == (0xDEAD_BEEF, 0)


def test_rw_allow_in_ram_raises_the_high_water_mark():
    b, k, p = manual()
    a = heap(k, p)
    r = k.syscall(p, ALLOW_RW, CONSOLE, 1, a, 16)
    assert r.kind == "AllowReadWriteSuccess" and r.values == (0, 0)
    assert p.allow_high_water_mark == a + 16
    k.syscall(p, ALLOW_RW, CONSOLE, 1, a, 4)  # a smaller buffer never lowers the mark
    assert p.allow_high_water_mark == a + 16
    r = k.syscall(p, ALLOW_RW, CONSOLE, 1, 0, 0)
    assert r.values == (a, 4)
    assert lines(k)[-1] == f"[0] read-write allow(0x1, 1, @0x0, 0) = AllowReadWriteSuccess({a:#x}, 4)"


@pytest.mark.parametrize("where", ["straddles_break", "above_break", "flash", "below_ram", "wraps"])
def test_rw_allow_outside_app_ram_is_inval(where):
    b, k, p = manual()
    addr, size = {"straddles_break": (p.app_break - 8, 16), "above_break": (p.app_break, 4),
                  "flash": (p.flash_start + p.header_len, 4), "below_ram": (p.memory_start - 4, 8),
                  "wraps": (0xFFFF_FFF0, 0x20)}[where]
    hwm = p.allow_high_water_mark
    r = k.syscall(p, ALLOW_RW, CONSOLE, 1, addr, size)
    assert r == SyscallReturn.failure_u32_u32(ErrorCode.INVAL, addr, size)
    assert r.kind == "AllowReadWriteFailure"
    assert p.allow_high_water_mark == hwm


def test_ro_allow_may_point_to_flash_after_the_header_but_not_into_it():
    b, k, p = manual()
    body = p.flash_start + p.header_len
    hwm = p.allow_high_water_mark
    assert k.syscall(p, ALLOW_RO, CONSOLE, 1, body, 12).is_success
    assert k.syscall(p, ALLOW_RO, CONSOLE, 1, p.flash_end - 4, 4).is_success
    assert p.allow_high_water_mark == hwm  # flash buffers do not move the RAM mark
    for addr, size in ((p.flash_start, 4), (body - 1, 4), (p.flash_end - 4, 8)):
        r = k.syscall(p, ALLOW_RO, CONSOLE, 1, addr, size)
        assert r == SyscallReturn.failure_u32_u32(ErrorCode.INVAL, addr, size)
        assert r.kind == "AllowReadOnlyFailure"
    a = heap(k, p)
    assert k.syscall(p, ALLOW_RO, CONSOLE, 1, a, 8).is_success
    assert p.allow_high_water_mark == a + 8


def test_ro_and_rw_allow_numbers_are_separate_namespaces():
    b, k, p = manual()
    a = heap(k, p)
    k.syscall(p, ALLOW_RW, CONSOLE, 1, a, 8)
    r = k.syscall(p, ALLOW_RO, CONSOLE, 1, a + 8, 4)
    assert r.values == (0, 0)
    g = p.grant_for_driver(CONSOLE)
    assert g.allow_rw[1] == (a, 8) and g.allow_ro[1] == (a + 8, 4)


@pytest.mark.parametrize("cls, kind", [(ALLOW_RW, "AllowReadWriteFailure"), (ALLOW_RO, "AllowReadOnlyFailure")])
@pytest.mark.parametrize("trd104, err", [(False, ErrorCode.NOSUPPORT), (True, ErrorCode.INVAL)])
def test_allow_number_out_of_range(cls, kind, trd104, err):
    b, k, p = manual(config=KernelConfig(trd104=trd104))
    a = heap(k, p)
    r = k.syscall(p, cls, CONSOLE, 2, a, 4)  # console has allow numbers 0 and 1
    assert r == SyscallReturn.failure_u32_u32(err, a, 4) and r.kind == kind
    r = k.syscall(p, cls, ALARM, 0, a, 4)  # alarm has none
    assert r.error is err


@pytest.mark.parametrize("cls, kind", [(ALLOW_RW, "AllowReadWriteFailure"), (ALLOW_RO, "AllowReadOnlyFailure"),
                                       (ALLOW_UR, "UserspaceReadableAllowFailure")])
def test_allow_to_a_missing_driver_is_nodevice(cls, kind):
    b, k, p = manual()
    a = heap(k, p)
    r = k.syscall(p, cls, NO_DRIVER, 0, a, 4)
    assert r == SyscallReturn.failure_u32_u32(ErrorCode.NODEVICE, a, 4) and r.kind == kind


def test_allow_to_a_driver_without_grant_is_nomem():
    b, k, p = manual()
    a = heap(k, p)
    m = mark(k)
    r = k.syscall(p, ALLOW_RO, LED, 0, a, 4)
    assert r == SyscallReturn.failure_u32_u32(ErrorCode.NOMEM, a, 4)
    assert lines(k, m) == ["[0] WARN driver #2 did not allocate grant",
                           f"[0] read-only allow(0x2, 0, @{a:#x}, 4) = AllowReadOnlyFailure(NOMEM, {a:#x}, 4)"]


def test_userspace_readable_allow_defaults_to_nosupport():
    b, k, p = manual()
    a = heap(k, p)
    r = k.syscall(p, ALLOW_UR, CONSOLE, 0, a, 8)
    assert r == SyscallReturn.failure_u32_u32(ErrorCode.NOSUPPORT, a, 8)
    assert r.kind == "UserspaceReadableAllowFailure"
    assert p.allow_high_water_mark == a + 8  # validated (and marked) before the capsule saw it
    assert lines(k)[-1] == (f"[0] userspace readable allow(0x1, 0, @{a:#x}, 8) = "
                            f"UserspaceReadableAllowFailure(NOSUPPORT, {a:#x}, 8)")
    r = k.syscall(p, ALLOW_UR, CONSOLE, 0, p.flash_start + p.header_len, 8)  # RW rules: no flash
    assert r.error is ErrorCode.INVAL


# ---------------------------------------------------------------------------- memop

def test_memop_addresses():
    b, k, p = manual(writeable_flash_regions=[(0x100, 0x80), (0x200, 0)])
    vals = {op: k.syscall(p, MEMOP, op, 0, 0, 0) for op in range(2, 8)}
    assert vals[2].value == p.memory_start and vals[2].kind == "SuccessPtr"
    assert vals[3].value == p.memory_start + p.memory_len and vals[3].kind == "SuccessPtr"
    assert vals[4].value == p.flash_start and vals[4].kind == "SuccessPtr"
    assert vals[5].value == p.flash_end and vals[5].kind == "SuccessPtr"
    assert vals[6].value == p.kernel_memory_break and vals[6].kind == "SuccessAddr"
    assert vals[7] == SyscallReturn.success_u32(2)
    r8, r9 = k.syscall(p, MEMOP, 8, 0, 0, 0), k.syscall(p, MEMOP, 9, 0, 0, 0)
    assert (r8.value, r9.value) == (p.flash_start + 0x100, p.flash_start + 0x180)
    assert r8.kind == r9.kind == "SuccessPtr"
    for op in (8, 9):
        assert k.syscall(p, MEMOP, op, 1, 0, 0) == SyscallReturn.failure(ErrorCode.FAIL)  # size 0
        assert k.syscall(p, MEMOP, op, 2, 0, 0) == SyscallReturn.failure(ErrorCode.FAIL)  # no region
    assert all(regs(p, v)[0] == 129 for v in vals.values())


def test_memop_unknown_operation_is_nosupport():
    b, k, p = manual()
    assert k.syscall(p, MEMOP, 12, 0, 0, 0) == SyscallReturn.failure(ErrorCode.NOSUPPORT)
    assert lines(k)[-1] == "[0] memop(12, 0x0) = Failure(NOSUPPORT)"


def test_memop_debug_stack_and_heap_pointers():
    b, k, p = manual()
    assert (p.debug_stack_start, p.debug_heap_start) == (p.memory_start + 2048, p.memory_start + 2048)
    assert k.syscall(p, MEMOP, 10, p.memory_start + 256, 0, 0) == SyscallReturn.success()
    assert k.syscall(p, MEMOP, 11, p.memory_start + 512, 0, 0) == SyscallReturn.success()
    assert (p.debug_stack_start, p.debug_heap_start) == (p.memory_start + 256, p.memory_start + 512)
    # Outside the RAM block: still Success, silently ignored.
    assert k.syscall(p, MEMOP, 10, p.memory_end, 0, 0) == SyscallReturn.success()
    assert k.syscall(p, MEMOP, 11, 0x10, 0, 0) == SyscallReturn.success()
    assert (p.debug_stack_start, p.debug_heap_start) == (p.memory_start + 256, p.memory_start + 512)


def test_brk_grows_and_zeroes_newly_exposed_memory():
    b, k, p = manual()
    old = p.app_break
    p.write(old, b"\xff" * 64)  # stale bytes above the break (kernel view)
    assert k.syscall(p, MEMOP, 0, old + 32, 0, 0) == SyscallReturn.success()
    assert p.app_break == old + 32
    assert p.read(old, 32) == bytes(32)
    assert p.read(old + 32, 32) == b"\xff" * 32  # beyond the new break: untouched
    k.syscall(p, MEMOP, 0, old, 0, 0)  # shrinking does not zero
    p.write(old - 4, b"\x5a" * 4)
    k.syscall(p, MEMOP, 0, old + 16, 0, 0)
    assert p.read(old - 4, 4) == b"\x5a" * 4


def test_brk_limits():
    b, k, p = manual()
    nomem = SyscallReturn.failure(ErrorCode.NOMEM)
    a = heap(k, p)
    k.syscall(p, ALLOW_RW, CONSOLE, 1, a, 16)
    assert k.syscall(p, MEMOP, 0, a + 15, 0, 0) == nomem  # below the allow high-water mark
    assert k.syscall(p, MEMOP, 0, p.kernel_memory_break + 4, 0, 0) == nomem  # into the grants
    assert k.syscall(p, MEMOP, 0, p.memory_end, 0, 0) == nomem
    assert k.syscall(p, MEMOP, 0, p.memory_start - 4, 0, 0) == nomem
    assert k.syscall(p, MEMOP, 0, p.kernel_memory_break, 0, 0) == SyscallReturn.success()  # touching is fine
    assert p.app_break == p.kernel_memory_break
    assert k.syscall(p, MEMOP, 0, a + 16, 0, 0) == SyscallReturn.success()  # exactly the mark


def test_brk_below_the_stacked_frame_faults_on_return():
    b, k, p = manual()
    stack_top = k.crt0_layout(p)[0]
    r = k.syscall(p, MEMOP, 0, stack_top - 64, 0, 0)
    assert r == SyscallReturn.success()  # brk itself succeeded...
    assert p.state.name == "Faulted"  # ...but the return value could not be written
    assert "could not be written" in p.fault_reason


def test_sbrk_returns_the_previous_break():
    b, k, p = manual()
    old = p.app_break
    r = k.syscall(p, MEMOP, 1, 0x100, 0, 0)
    assert r.kind == "SuccessPtr" and r.value == old
    assert p.app_break == old + 0x100
    r = k.syscall(p, MEMOP, 1, (-0x80) & 0xFFFF_FFFF, 0, 0)
    assert r.value == old + 0x100 and p.app_break == old + 0x80
    assert lines(k)[-1] == f"[0] memop(1, 0xffffff80) = SuccessPtr(CapabilityPtr {{ ptr: {old + 0x100:#x} }})"
    assert k.syscall(p, MEMOP, 1, 0x10_0000, 0, 0) == SyscallReturn.failure(ErrorCode.NOMEM)
    assert p.app_break == old + 0x80


# ---------------------------------------------------------------------------- exit

def test_exit_terminate():
    b, k, p = manual()
    subscribe(k, p, ALARM, 0)
    k.schedule_upcall(p, ALARM, 0, (1, 0, 0))
    pid = p.pid
    assert k.syscall(p, EXIT, 0, 5, 0, 0) is None
    assert p.state.name == "Terminated"
    assert p.completion_code == 5 and p.has_terminated
    assert not p.tasks and all(g is None for g in p.grants)
    assert k.lookup(pid) is p  # a terminated process keeps its identifier
    assert lines(k)[-1] == "[0] exit(which: 0, completion_code: 5) = None"
    assert k.grant_of(pid, b.driver("alarm")) is None


def test_exit_restart():
    b, k, p = manual()
    m = mark(k)
    assert k.syscall(p, EXIT, 1, 3, 0, 0) is None
    assert p.identifier == 1 and p.restart_count == 1 and p.completion_code == 3
    assert p.state.name == "Running"  # a booted manual process runs crt0 again at once
    out = lines(k, m)
    assert out[0] == "[0] exit(which: 1, completion_code: 3) = None"  # the id before the restart
    assert out[1].startswith("[1] function_call @")


def test_exit_unknown_number_returns_nosupport():
    b, k, p = manual()
    r = k.syscall(p, EXIT, 2, 0, 0, 0)
    assert r == SyscallReturn.failure(ErrorCode.NOSUPPORT)
    assert p.state.name == "Running"
    assert lines(k)[-1] == "[0] exit(which: 2, completion_code: 0) = Some(Failure(NOSUPPORT))"


# ---------------------------------------------------------------------------- bookkeeping and filter

def test_every_syscall_is_counted_and_remembered():
    b, k, p = manual()
    before = p.syscall_count, k.stats.syscalls
    k.syscall(p, COMMAND, LED, 0, 0, 0)
    k.syscall(p, YIELD, 0, 0, 0, 0)
    k.syscall(p, MEMOP, 2, 0, 0, 0)
    assert p.syscall_count == before[0] + 3 and k.stats.syscalls == before[1] + 3
    assert p.last_syscall == (SyscallClass.MEMOP, (2, 0, 0, 0))
    assert k.stats.by_class[COMMAND] == 1 and k.stats.by_class[YIELD] == 1


def test_syscall_filter_returns_plain_failure_for_every_filtered_class():
    b, k, p = manual()
    seen = []

    def deny_console(proc, cls, drv, sub):
        seen.append((int(cls), drv, sub))
        return ErrorCode.NODEVICE if drv == CONSOLE else None

    k.syscall_filter = deny_console
    a = heap(k, p)
    for cls, args in ((SUBSCRIBE, (CONSOLE, 1, fn_ptr(p), 0)), (COMMAND, (CONSOLE, 1, 4, 0)),
                      (ALLOW_RW, (CONSOLE, 1, a, 4)), (ALLOW_RO, (CONSOLE, 1, a, 4)), (ALLOW_UR, (CONSOLE, 0, a, 4))):
        r = k.syscall(p, cls, *args)
        assert r.variant is Variant.FAILURE and r.error is ErrorCode.NODEVICE
    assert p.grant_for_driver(CONSOLE) is None
    assert lines(k)[-4] == ("[0] Filtered: Command { driver_number: 1, subdriver_number: 1, arg0: 4, arg1: 0 } "
                            "was rejected with NODEVICE")
    k.syscall(p, MEMOP, 2, 0, 0, 0)
    k.syscall(p, YIELD, 0, 0, 0, 0)
    assert len(seen) == 5  # yield, memop (and exit) are never filtered
    assert k.syscall(p, COMMAND, LED, 0, 0, 0).is_success
