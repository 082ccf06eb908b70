"""trace_syscalls lines in Tock's formats (tock-kernel.md section 10) and byte-for-byte determinism."""

from __future__ import annotations

from tockshell.abi import ErrorCode
from tockshell.board import build_board
from tockshell.kernel import GrantSpec, describe, trace_line
from tockshell.kernel.driver import SyscallDriver

from test_kernel_support import (ALARM, ALLOW_RO, ALLOW_RW, ALLOW_UR, BUTTON, COMMAND, CONSOLE, EXIT, LED, MEMOP,
                                 NO_DRIVER, RNG, SUBSCRIBE, YIELD, Script, crt0, fn_ptr, heap, lines, manual, mark,
                                 subscribe)


def test_the_reference_write_sequence():
    """The console write of tock-kernel.md section 10, line for line."""
    b, k, p = manual()
    f = fn_ptr(p)
    buf = heap(k, p, 0xA0)
    p.write(buf, b"hello world\n")
    m = mark(k)
    k.syscall(p, SUBSCRIBE, CONSOLE, 1, f, 0)
    k.syscall(p, ALLOW_RO, CONSOLE, 1, buf, 12)
    k.syscall(p, COMMAND, CONSOLE, 1, 12, 0)
    k.syscall(p, YIELD, 1, 0, 0, 0)
    k.run()
    assert lines(k, m) == [
        "[0] remove_pending_upcalls[0x1:1] = 0 upcall(s) removed",
        f"[0] subscribe(0x1, 1, @{f:#x}, 0x0) = SubscribeSuccess(0x0, 0)",
        f"[0] read-only allow(0x1, 1, @{buf:#x}, 12) = AllowReadOnlySuccess(0x0, 0)",
        "[0] cmd(0x1, 1, 0xc, 0x0) = Success",
        "[0] yield. which: Wait",
        f"[0] schedule[0x1:1] @{f:#x}(0xc, 0x0, 0x0, 0x0) = Ok(())",
        f"[0] function_call @{f:#x}(0xc, 0x0, 0x0, 0x0)",
    ]


def test_every_syscall_line_format():
    b, k, p = manual()
    f, a, kbreak = fn_ptr(p), heap(k, p), p.kernel_memory_break
    m = mark(k)
    k.syscall(p, MEMOP, 0, p.app_break, 0, 0)
    k.syscall(p, MEMOP, 2, 0, 0, 0)
    k.syscall(p, MEMOP, 6, 0, 0, 0)
    k.syscall(p, YIELD, 0, 0, 0, 0)
    k.syscall(p, SUBSCRIBE, BUTTON, 0, f, 0x10)
    k.syscall(p, COMMAND, LED, 1, 3, 0xFFFF_FFFF)
    k.syscall(p, ALLOW_RW, RNG, 0, a, 16)
    k.syscall(p, ALLOW_RW, CONSOLE, 1, a, 100_000)
    k.syscall(p, ALLOW_UR, CONSOLE, 0, 0, 0)
    k.syscall(p, ALLOW_RO, NO_DRIVER, 0, a, 1)
    k.syscall(p, EXIT, 9, 1, 0, 0)
    assert lines(k, m) == [
        f"[0] memop(0, {p.app_break:#x}) = Success",
        f"[0] memop(2, 0x0) = SuccessPtr(CapabilityPtr {{ ptr: {p.memory_start:#x} }})",
        f"[0] memop(6, 0x0) = SuccessAddr({kbreak})",
        "[0] yield. which: NoWait",
        "[0] remove_pending_upcalls[0x3:0] = 0 upcall(s) removed",
        f"[0] subscribe(0x3, 0, @{f:#x}, 0x10) = SubscribeSuccess(0x0, 0)",
        "[0] cmd(0x2, 1, 0x3, 0xffffffff) = Success",
        f"[0] read-write allow(0x40001, 0, @{a:#x}, 16) = AllowReadWriteSuccess(0x0, 0)",
        f"[0] read-write allow(0x1, 1, @{a:#x}, 100000) = AllowReadWriteFailure(INVAL, {a:#x}, 100000)",
        "[0] userspace readable allow(0x1, 0, @0x0, 0) = UserspaceReadableAllowFailure(NOSUPPORT, 0x0, 0)",
        f"[0] read-only allow(0x7777, 0, @{a:#x}, 1) = AllowReadOnlyFailure(NODEVICE, {a:#x}, 1)",
        "[0] exit(which: 9, completion_code: 1) = Some(Failure(NOSUPPORT))",
    ]


def test_upcall_lines():
    b, k, p = manual()
    f = fn_ptr(p)
    subscribe(k, p, ALARM, 0, f, 7)
    subscribe(k, p, BUTTON, 0, 0)
    m = mark(k)
    k.schedule_upcall(p, ALARM, 0, (1, 2, 3))
    k.schedule_upcall(p, BUTTON, 0, (4, 5, 6))
    k.schedule_upcall(p, ALARM, 0, (7, 8, 9))
    k.schedule_upcall(p, ALARM, 3, (0, 0, 0))
    k.syscall(p, YIELD, 2, BUTTON, 0, 0)
    k.syscall(p, YIELD, 2, ALARM, 0, 0)
    k.syscall(p, YIELD, 1, 0, 0, 0)
    assert lines(k, m) == [
        f"[0] schedule[0x0:0] @{f:#x}(0x1, 0x2, 0x3, 0x7) = Ok(())",
        "[0] schedule[0x3:0] @0x0(0x4, 0x5, 0x6, 0x0) = Ok(())",
        f"[0] schedule[0x0:0] @{f:#x}(0x7, 0x8, 0x9, 0x7) = Ok(())",
        "[0] schedule[0x0:3] invalid subscribe_num",
        "[0] yield. which: WaitFor",
        "[0] Yield-WaitFor: [NU] (0x4, 0x5, 0x6)",
        "[0] yield. which: WaitFor",
        f"[0] Yield-WaitFor [Suppressed function_call @{f:#x}] (0x1, 0x2, 0x3, 0x7)",
        "[0] yield. which: Wait",
        f"[0] function_call @{f:#x}(0x7, 0x8, 0x9, 0x7)",
    ]


def test_filtered_line():
    b, k, p = manual()
    k.syscall_filter = lambda proc, cls, drv, sub: ErrorCode.NODEVICE
    k.syscall(p, SUBSCRIBE, ALARM, 0, 0x40069, 0)
    assert lines(k)[-1] == ("[0] Filtered: Subscribe { driver_number: 0, subdriver_number: 0, upcall_ptr: "
                            "CapabilityPtr { ptr: 0x40069 }, appdata: MachineRegister { value: CapabilityPtr "
                            "{ ptr: 0x0 } } } was rejected with NODEVICE")


def test_grant_allocation_warnings():
    class Rogue(SyscallDriver):
        """Allocates somebody else's grant when asked for its own."""

        driver_num = 0x5000
        name = "rogue"

        def make_grant(self):
            return GrantSpec(self.driver_num, 1, 0, 0)

        def allocate_grant(self, pid):
            self.kernel.enter_grant(pid, self.kernel.drivers[ALARM])

    b = build_board(fault_policy="stop")
    b.add(Rogue())
    k = b.kernel
    p = k.create_process("a")
    m = mark(k)
    r = k.syscall(p, SUBSCRIBE, 0x5000, 0, fn_ptr(p), 0)
    assert r.error is ErrorCode.NOMEM
    assert lines(k, m) == ["[0] ERROR driver #5000 allocated wrong grant counts",
                           f"[0] subscribe(0x5000, 0, @{fn_ptr(p):#x}, 0x0) = SubscribeFailure(NOMEM, "
                           f"{fn_ptr(p):#x}, 0)"]
    k.syscall(p, SUBSCRIBE, LED, 0, 0, 0)
    assert lines(k)[-2] == "[0] WARN driver #2 did not allocate grant"


def test_pid_in_trace_lines_is_the_identifier():
    b, k, p = manual()
    q = k.create_process("b")
    k.try_restart(p)
    k.syscall(q, COMMAND, LED, 0, 0, 0)
    k.syscall(p, COMMAND, LED, 0, 0, 0)
    assert lines(k)[-2:] == ["[1] cmd(0x2, 0, 0x0, 0x0) = SuccessU32(4)", "[2] cmd(0x2, 0, 0x0, 0x0) = SuccessU32(4)"]


def test_model_records_are_not_trace_lines_but_have_sentences():
    b, k, p = manual()
    k.fault(p, "test")
    b.press_button(0)
    k.note("hello", p)
    for r in k.log:
        assert describe(r)
    tail = list(k.log)[-4:]
    assert [trace_line(r) for r in tail] == [None] * 4
    assert [describe(r) for r in tail] == [
        "a faulted: test; fault policy action: Stop", "button 0 pressed (nobody listening)",
        "button 0 released (nobody listening)", "hello"]
    assert describe(k.log[0]) == "a created as [0] in slot 0"
    assert describe(list(k.log)[-1]) == "hello"


def test_listeners_see_every_record():
    b, k, p = manual()
    seen = []
    k.listeners.append(seen.append)
    k.syscall(p, COMMAND, LED, 0, 0, 0)
    subscribe(k, p, ALARM, 0)
    assert [r.kind for r in seen] == ["cmd", "grant_alloc", "remove_pending", "subscribe"]


# ---------------------------------------------------------------------------- determinism

def _scenario():
    """A busy board: apps and manual processes, alarms, console, buttons, RNG, a fault and a restart."""
    b = build_board(fault_policy="restart")
    k = b.kernel

    def blinker(app):
        yield from crt0(app)
        fn = app.starts[-1][0]
        yield ("syscall", SUBSCRIBE, ALARM, 0, fn, 1)
        for _ in range(5):
            yield ("syscall", COMMAND, ALARM, 5, 8388608 // 50, 0)
            yield ("syscall", YIELD, 1, 0, 0, 0)
            yield ("syscall", COMMAND, LED, 3, 0, 0)
            yield ("compute", 7_000_000)
        yield ("fault", "done blinking")

    def writer(app):
        yield from crt0(app)
        start = app.starts[-1][1][1]
        app.mem.write(start + 2048, b"tick\n")
        yield ("syscall", ALLOW_RO, CONSOLE, 1, start + 2048, 5)
        for _ in range(4):
            yield ("syscall", COMMAND, CONSOLE, 1, 5, 0)
            yield ("syscall", YIELD, 2, CONSOLE, 1, 0)
            yield ("compute", 12_000_000)

    k.create_process("blink", program=Script(blinker))
    k.create_process("write", program=Script(writer))
    p = k.create_process("manual")
    subscribe(k, p, BUTTON, 0)
    k.syscall(p, COMMAND, BUTTON, 1, 1, 0)
    buf = heap(k, p)
    k.syscall(p, ALLOW_RW, RNG, 0, buf, 8)
    subscribe(k, p, RNG, 0)
    k.syscall(p, COMMAND, RNG, 1, 8, 0)
    k.syscall(p, YIELD, 1, 0, 0, 0)
    k.run(until=40_000_000)
    b.press_button(1)
    k.run(until=300_000_000)
    out = []
    for r in k.log:
        t = trace_line(r)
        out.append(f"{r.ev} {r.time} {r.kind} [{r.pid}] {describe(r)} | {t}")
    out.append(repr(k.stats))
    out.append(bytes(p.ram).hex())
    return "\n".join(out)


def test_same_calls_same_trace_byte_for_byte():
    first, second = _scenario(), _scenario()
    assert len(first.splitlines()) > 150
    assert first.encode() == second.encode()
    for what in ("Yield-WaitFor: [NU]", "function_call", "restarted as", "console: write wrote",
                 "button 1 pressed (manual)", "rng: 8 random bytes", "timeslice expired", "alarm fired"):
        assert what in first


def test_record_keys_are_comparable():
    b, k, p = manual()
    keys = [r.key() for r in k.log]
    assert len(set(keys)) == len(keys)
    assert all(isinstance(hash(key), int) for key in keys)


def test_same_trace_in_fresh_interpreters_with_different_hash_seeds():
    """Nothing may depend on str hashing or object addresses: two fresh interpreters agree byte for byte."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from test_kernel_trace import _scenario; "
            "sys.stdout.write(_scenario())")
    outs = []
    for seed in ("1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        res = subprocess.run([sys.executable, "-c", code, str(here)], env=env, capture_output=True, check=True,
                             cwd=here.parent)
        outs.append(res.stdout)
    assert outs[0] == outs[1] == _scenario().encode()
