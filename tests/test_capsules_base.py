"""The base capsules: alarm, console, LED, button, RNG, low-level debug (tock-kernel.md section 8)."""

from __future__ import annotations

import pytest

from tockshell.abi import ErrorCode, SyscallReturn
from tockshell.capsules.console import NS_PER_BYTE
from tockshell.capsules.rng import Rng

from test_kernel_support import (ALARM, ALLOW_RO, ALLOW_RW, BUTTON, COMMAND, CONSOLE, LED, LLD, RNG, YIELD,
                                 fn_ptr, heap, manual, subscribe)

HZ_LJ = 32768 << 8  # the frequency command 1 reports: 32768 Hz scaled to 32-bit ticks
TICK_NS = 1_000_000_000 / 32768


def upcall_args(p):
    return [t.args for t in p.tasks]


# ---------------------------------------------------------------------------- alarm

def test_alarm_frequency_and_now():
    b, k, p = manual()
    assert k.syscall(p, COMMAND, ALARM, 1, 0, 0) == SyscallReturn.success_u32(HZ_LJ)
    k.run(until=1_000_000_000)
    now = k.syscall(p, COMMAND, ALARM, 2, 0, 0).value
    assert now == (int(k.now * 32768 // 1_000_000_000) << 8) & 0xFFFF_FFFF
    assert now & 0xFF == 0  # left-justified


def test_alarm_counter_wraps_at_2_pow_32():
    b, k, p = manual()
    k.run(until=600 * 1_000_000_000)  # a 24-bit counter at 32768 Hz wraps after 512 s
    now = k.syscall(p, COMMAND, ALARM, 2, 0, 0).value
    assert now == ((k.now * 32768 // 1_000_000_000) % (1 << 24)) << 8


def test_alarm_fires_at_the_right_virtual_time_with_now_and_expiration():
    b, k, p = manual()
    subscribe(k, p, ALARM, 0, appdata=0xAB)
    start_ns = k.now
    r = k.syscall(p, COMMAND, ALARM, 5, HZ_LJ // 10, 0)  # 100 ms
    expiration = r.value
    start_tick = start_ns * 32768 // 1_000_000_000
    assert expiration == ((start_tick << 8) + HZ_LJ // 10) & 0xFFFF_FFFF
    k.syscall(p, YIELD, 1, 0, 0, 0)
    assert k.run() == "idle"
    fired = [r for r in k.log if r.kind == "hw" and "alarm" in r.data[0]][0]
    target_tick = start_tick + 32768 // 10 + (1 if (HZ_LJ // 10) % 256 else 0)
    irq_at = fired.time - k.costs.ns(k.costs.hw_event)  # the record follows the interrupt's own cost
    assert irq_at == -(-target_tick * 1_000_000_000 // 32768)  # the first tick boundary at or after it
    assert 100_000_000 - TICK_NS <= fired.time - start_ns <= 100_000_000 + TICK_NS
    call = [r for r in k.log if r.kind == "function_call"][-1]
    now_arg, exp_arg, zero, appdata = call.data[1:5]
    assert exp_arg == expiration and zero == 0 and appdata == 0xAB
    assert 0 <= (now_arg - expiration) & 0xFFFF_FFFF < 256  # delivered within the expiring tick


def test_alarm_absolute_stop_and_rearm():
    b, k, p = manual()
    subscribe(k, p, ALARM, 0)
    assert k.syscall(p, COMMAND, ALARM, 3, 0, 0) == SyscallReturn.failure(ErrorCode.ALREADY)
    now = k.syscall(p, COMMAND, ALARM, 2, 0, 0).value
    r = k.syscall(p, COMMAND, ALARM, 6, now, HZ_LJ // 100)  # reference + dt
    assert r.value == now + HZ_LJ // 100
    assert k.syscall(p, COMMAND, ALARM, 3, 0, 0) == SyscallReturn.success()
    k.run(until=k.now + 50_000_000)
    assert not p.tasks
    k.syscall(p, COMMAND, ALARM, 5, HZ_LJ, 0)  # 1 s...
    k.syscall(p, COMMAND, ALARM, 5, HZ_LJ // 1000, 0)  # ...replaced by 1 ms
    t0 = k.now
    k.run(until=t0 + 10_000_000)
    assert len(p.tasks) == 1
    k.run(until=t0 + 2_000_000_000)
    assert len(p.tasks) == 1  # the replaced alarm never fires
    assert k.syscall(p, COMMAND, ALARM, 4, 0, 0) == SyscallReturn.failure(ErrorCode.NOSUPPORT)


def test_alarm_of_a_restarted_process_is_forgotten():
    b, k, p = manual()
    subscribe(k, p, ALARM, 0)
    k.syscall(p, COMMAND, ALARM, 5, HZ_LJ // 1000, 0)
    k.try_restart(p)
    k.run(until=k.now + 10_000_000)
    assert not p.tasks
    assert any(r.kind == "hw" and "nobody waiting" in r.data[0] for r in k.log)


# ---------------------------------------------------------------------------- console

def _prepare_write(k, p, text: bytes):
    buf = heap(k, p)
    p.write(buf, text)
    assert k.syscall(p, ALLOW_RO, CONSOLE, 1, buf, len(text)).is_success
    assert subscribe(k, p, CONSOLE, 1).is_success
    return buf


def test_console_write_is_captured_and_calls_back_with_the_count():
    b, k, p = manual()
    _prepare_write(k, p, b"hello\n")
    t0 = k.now
    assert k.syscall(p, COMMAND, CONSOLE, 1, 6, 0) == SyscallReturn.success()
    assert k.syscall(p, COMMAND, CONSOLE, 1, 6, 0) == SyscallReturn.failure(ErrorCode.BUSY)
    k.run()
    assert b.console.output_of(p) == b"hello\n"
    assert upcall_args(p) == [(6, 0, 0)]
    done = [r for r in k.log if r.kind == "hw" and r.data[0].startswith("console: a wrote")][0]
    assert done.data[0] == 'console: a wrote "hello\\n"'
    assert done.time - t0 == k.costs.ns(k.costs.syscall) + 6 * NS_PER_BYTE + k.costs.ns(k.costs.hw_event)


def test_console_write_is_limited_by_the_allowed_buffer():
    b, k, p = manual()
    _prepare_write(k, p, b"abc")
    k.syscall(p, COMMAND, CONSOLE, 1, 100, 0)
    k.run()
    assert b.console.output_of(p) == b"abc" and upcall_args(p) == [(3, 0, 0)]


def test_console_writers_take_turns():
    b, k, p = manual()
    q = k.create_process("b")
    _prepare_write(k, p, b"first")
    _prepare_write(k, q, b"second")
    k.syscall(p, COMMAND, CONSOLE, 1, 5, 0)
    k.syscall(q, COMMAND, CONSOLE, 1, 6, 0)
    k.run()
    assert [(name, data) for _, name, data in b.console.transcript] == [("a", b"first"), ("b", b"second")]
    t_first, t_second = (t for t, _, _ in b.console.transcript)
    assert t_second - t_first >= 6 * NS_PER_BYTE


def test_console_read_and_abort():
    b, k, p = manual()
    buf = heap(k, p, 64)
    assert k.syscall(p, COMMAND, CONSOLE, 2, 4, 0) == SyscallReturn.failure(ErrorCode.SIZE)  # nothing allowed
    k.syscall(p, ALLOW_RW, CONSOLE, 1, buf, 4)
    subscribe(k, p, CONSOLE, 2)
    assert k.syscall(p, COMMAND, CONSOLE, 2, 4, 0).is_success
    assert k.syscall(p, COMMAND, CONSOLE, 2, 4, 0) == SyscallReturn.failure(ErrorCode.BUSY)
    b.console_input(b"ab")
    assert not p.tasks
    b.console_input(b"cdef")
    assert p.read(buf, 4) == b"abcd"
    assert upcall_args(p) == [(0, 4, 0)]
    assert k.syscall(p, COMMAND, CONSOLE, 3, 0, 0) == SyscallReturn.failure(ErrorCode.FAIL)  # nothing to abort
    k.syscall(p, COMMAND, CONSOLE, 2, 4, 0)
    b.console_input(b"z")
    assert k.syscall(p, COMMAND, CONSOLE, 3, 0, 0).is_success
    assert upcall_args(p)[-1] == (int(ErrorCode.CANCEL), 1, 0)
    b.console_input(b"lost")
    assert "dropped: no process is reading" in k.log[-1].data[0]


def test_console_exists_and_unknown_commands():
    b, k, p = manual()
    assert k.syscall(p, COMMAND, CONSOLE, 0, 0, 0) == SyscallReturn.success()
    assert k.syscall(p, COMMAND, CONSOLE, 9, 0, 0) == SyscallReturn.failure(ErrorCode.NOSUPPORT)


# ---------------------------------------------------------------------------- LED

def test_led_commands():
    b, k, p = manual()
    assert k.syscall(p, COMMAND, LED, 0, 0, 0) == SyscallReturn.success_u32(4)
    assert k.syscall(p, COMMAND, LED, 1, 2, 0).is_success
    assert k.syscall(p, COMMAND, LED, 4, 2, 0) == SyscallReturn.success_u32(1)
    assert k.syscall(p, COMMAND, LED, 3, 2, 0).is_success
    assert k.syscall(p, COMMAND, LED, 4, 2, 0) == SyscallReturn.success_u32(0)
    assert k.syscall(p, COMMAND, LED, 2, 2, 0).is_success
    assert b.led.on == [False] * 4 and b.led.toggles[2] == 2
    for cmd in (1, 2, 3, 4):
        assert k.syscall(p, COMMAND, LED, cmd, 4, 0) == SyscallReturn.failure(ErrorCode.INVAL)
    assert k.syscall(p, COMMAND, LED, 5, 0, 0) == SyscallReturn.failure(ErrorCode.NOSUPPORT)
    assert [r.data[0] for r in k.log if r.kind == "note"] == ["LED 2 on", "LED 2 off", "LED 2 off"]


# ---------------------------------------------------------------------------- button

def test_button_press_is_two_edges():
    b, k, p = manual()
    q = k.create_process("deaf")
    subscribe(k, p, BUTTON, 0, appdata=5)
    subscribe(k, q, BUTTON, 0)
    assert k.syscall(p, COMMAND, BUTTON, 0, 0, 0) == SyscallReturn.success_u32(4)
    assert k.syscall(p, COMMAND, BUTTON, 1, 2, 0).is_success
    b.press_button(2)
    b.press_button(1)  # not enabled for this process
    assert upcall_args(p) == [(2, 1, 0), (2, 0, 0)]
    assert not q.tasks
    assert [r.data[0] for r in k.log if r.kind == "hw"] == [
        "button 2 pressed (a)", "button 2 released (a)", "button 1 pressed (nobody listening)",
        "button 1 released (nobody listening)"]
    assert k.syscall(p, COMMAND, BUTTON, 2, 2, 0).is_success
    b.press_button(2)
    assert len(p.tasks) == 2
    assert k.syscall(p, COMMAND, BUTTON, 3, 2, 0) == SyscallReturn.success_u32(0)
    assert k.syscall(p, COMMAND, BUTTON, 1, 4, 0) == SyscallReturn.failure(ErrorCode.INVAL)


def test_button_edges_reach_a_yield_waiting_process_in_order():
    b, k, p = manual()
    subscribe(k, p, BUTTON, 0)
    k.syscall(p, COMMAND, BUTTON, 1, 0, 0)
    k.syscall(p, YIELD, 1, 0, 0, 0)
    b.press_button(0)
    k.run()
    calls = [r.data[1:4] for r in k.log if r.kind == "function_call"][-1:]
    assert calls == [(0, 1, 0)]  # one delivered per yield; the release is still queued
    assert upcall_args(p) == [(0, 0, 0)]
    k.syscall(p, YIELD, 1, 0, 0, 0)
    assert [r.data[1:4] for r in k.log if r.kind == "function_call"][-1] == (0, 0, 0)


# ---------------------------------------------------------------------------- RNG

def _rng_bytes(seed, n=16):
    from tockshell.board import build_board

    b = build_board(fault_policy="stop", rng_seed=seed)
    k = b.kernel
    p = k.create_process("r")
    buf = heap(k, p)
    k.syscall(p, ALLOW_RW, RNG, 0, buf, n)
    subscribe(k, p, RNG, 0)
    assert k.syscall(p, COMMAND, RNG, 1, n, 0).is_success
    assert k.syscall(p, COMMAND, RNG, 1, n, 0) == SyscallReturn.failure(ErrorCode.BUSY)
    t0 = k.now
    k.run()
    assert upcall_args(p) == [(0, n, 0)]
    done = [r for r in k.log if r.kind == "hw"][-1]
    assert done.time - t0 >= n * Rng.NS_PER_BYTE
    return p.read(buf, n)


def test_rng_fills_the_buffer_deterministically():
    a, again, other = _rng_bytes(1), _rng_bytes(1), _rng_bytes(2)
    assert a == again and a != other and a != bytes(16)


def test_rng_without_a_buffer_reports_zero_bytes():
    b, k, p = manual()
    subscribe(k, p, RNG, 0)
    k.syscall(p, COMMAND, RNG, 1, 8, 0)
    k.run()
    assert upcall_args(p) == [(0, 0, 0)]


# ---------------------------------------------------------------------------- low-level debug

def test_low_level_debug_lines():
    b, k, p = manual()
    k.syscall(p, COMMAND, LLD, 1, 1, 0)
    k.syscall(p, COMMAND, LLD, 2, 0x1234, 0)
    k.syscall(p, COMMAND, LLD, 3, 1, 2)
    assert b.driver("lld").lines == ["LowLevelDebug: App 0x0 alert code 0x1 (panic)",
                                     "LowLevelDebug: App 0x0 prints 0x1234",
                                     "LowLevelDebug: App 0x0 prints 0x1 0x2"]
    assert k.syscall(p, COMMAND, LLD, 4, 0, 0) == SyscallReturn.failure(ErrorCode.NOSUPPORT)


@pytest.mark.parametrize("name, num", [("alarm", 0x0), ("console", 0x1), ("led", 0x2), ("button", 0x3),
                                       ("lld", 0x8), ("rng", 0x40001)])
def test_driver_numbers_are_tocks(name, num):
    b, k, p = manual()
    assert b.driver(name).driver_num == num and b.driver(num).name == name
    assert b.driver_name(num) == name


def test_fn_ptr_helper_points_into_app_flash():
    b, k, p = manual()
    assert p.in_app_flash(fn_ptr(p), 4)
