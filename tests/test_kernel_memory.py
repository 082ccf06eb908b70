"""Process memory layout arithmetic and grant allocation (tock-kernel.md sections 4 and 5)."""

from __future__ import annotations

import struct

import pytest

from tockshell.abi import ErrorCode, SyscallReturn
from tockshell.kernel import GrantError

from test_kernel_support import (ALARM, BUTTON, CONSOLE, LLD, MEMOP, RNG, fn_ptr, lines, manual, mark, new_board,
                                 subscribe)


def a4(x):
    return (x + 3) // 4 * 4


def a8(x):
    return (x + 7) // 8 * 8


def test_kernel_structures_at_the_top_of_ram():
    k = new_board().kernel
    n = len(k.grant_specs)
    assert k.kernel_structures() == [("grant ptrs", a8(8 * n)), ("task queue", 320), ("process", 304)]
    assert k.initial_kernel_memory_size == a8(8 * n) + 320 + 304


@pytest.mark.parametrize("ram, grant", [(4096, 2048), (100, 0), (0, 0), (10, 3), (8192, 1)])
def test_memory_layout_arithmetic(ram, grant):
    b = new_board()
    k = b.kernel
    kmem = k.initial_kernel_memory_size
    p = k.create_process("raw", ram=ram, grant=grant, booted=False)
    min_ram = max(a4(ram), 32)
    assert p.min_app_ram == min_ram
    assert p.memory_start == 0x2000_0000
    assert p.memory_len == a8(min_ram + a4(grant) + kmem)
    assert p.memory_end == p.memory_start + p.memory_len
    assert p.kernel_memory_break == p.memory_end - kmem  # initial kernel memory break
    assert p.app_break == p.memory_start + 32  # only the Cortex-M exception frame until crt0's brk
    assert p.allow_high_water_mark == p.memory_start
    assert p.grant_bytes == 0
    stack = max(32, min(2048, a8(min_ram // 2)))  # at least one stacked exception frame
    assert k.crt0_layout(p) == (p.memory_start + stack, p.memory_start + stack, p.memory_start + min_ram)


def test_flash_layout_and_the_start_upcall():
    b = new_board()
    k = b.kernel
    p = k.create_process("blink", booted=False)
    assert p.flash_start == 0x0004_0000
    assert p.header_len == 16 + 16 + 4 + a4(len("blink"))
    assert p.flash_len == 2048
    big = k.create_process("big", flash=100, package="a" * 300, booted=False)
    assert big.header_len == 36 + 300
    assert big.flash_len == a4(big.header_len + 0x100)
    (start,) = p.tasks
    assert start.source is None
    assert start.pc == p.flash_start + p.header_len + 0x41  # init_fn_offset with the thumb bit
    assert start.args == (p.flash_start + p.header_len, p.memory_start, p.memory_len)
    assert start.appdata == p.memory_start + 32  # r3 = the current app break


def test_processes_are_packed_at_256_byte_boundaries():
    k = new_board().kernel
    a = k.create_process("a", booted=False)
    c = k.create_process("c", ram=1000, booted=False)
    assert c.memory_start == (a.memory_end + 0xFF) // 0x100 * 0x100
    assert c.flash_start == (a.flash_end + 0xFF) // 0x100 * 0x100
    assert (a.index, c.index) == (0, 1) and (a.identifier, c.identifier) == (0, 1)


def test_fixed_addresses_are_honoured():
    k = new_board().kernel
    p = k.create_process("fixed", ram_address=0x2001_0000, flash_address=0x0008_0000, booted=False)
    assert (p.memory_start, p.flash_start) == (0x2001_0000, 0x0008_0000)


def test_grant_sizes():
    b = new_board()
    sizes = {d: b.driver(d).grant.size for d in (ALARM, CONSOLE, BUTTON, LLD, RNG)}
    # 4-byte counter word + 8 bytes per upcall / RO / RW slot + the capsule's data, word aligned.
    assert sizes == {ALARM: 4 + 8 + 12, CONSOLE: 4 + 8 * 7 + 16, BUTTON: 4 + 8 + 4, LLD: 4 + 4, RNG: 4 + 16 + 8}


def test_grants_are_allocated_downward_on_first_use():
    b, k, p = manual()
    top = p.kernel_memory_break
    subscribe(k, p, ALARM, 0, appdata=0x77)
    g_alarm = p.grant_for_driver(ALARM)
    assert g_alarm.address == top - 24 == p.kernel_memory_break
    subscribe(k, p, CONSOLE, 1)
    g_con = p.grant_for_driver(CONSOLE)
    assert g_con.address == top - 24 - 76 == p.kernel_memory_break
    assert p.grant_bytes == 100 and p.grants_allocated == 2
    assert k.syscall(p, MEMOP, 6, 0, 0, 0).value == p.kernel_memory_break
    # Real bytes: the counter word (U, R, W, 0) then the slots.
    assert p.read(g_con.address, 4) == bytes([3, 2, 2, 0])
    assert struct.unpack("<II", p.read(g_alarm.slot_address("upcall", 0), 8)) == (0x77, fn_ptr(p))
    subscribe(k, p, ALARM, 0)  # re-subscribing does not allocate again
    assert p.kernel_memory_break == top - 100


def test_grant_table_is_indexed_by_grant_number():
    b, k, p = manual()
    subscribe(k, p, BUTTON, 0)
    spec = b.driver("button").grant
    assert p.grants[spec.grant_num] is p.grant_for_driver(BUTTON)
    assert sum(g is not None for g in p.grants) == 1


def test_grant_allocation_never_crosses_the_app_break():
    b = new_board()
    k = b.kernel
    p = k.create_process("tiny", ram=64, grant=16)
    assert p.kernel_memory_break - p.app_break == 16
    m = mark(k)
    r = subscribe(k, p, CONSOLE, 1)  # needs 76 bytes
    assert r.error is ErrorCode.NOMEM
    assert lines(k, m)[0] == "[0] WARN driver #1 did not allocate grant"
    assert subscribe(k, p, BUTTON, 0).is_success  # 16 bytes fit exactly
    assert p.kernel_memory_break == p.app_break
    with pytest.raises(GrantError, match="OutOfMemory"):
        k.enter_grant(p, b.driver("lld"))
    assert p.kernel_memory_break >= p.app_break


def test_brk_cannot_reach_into_allocated_grants():
    b, k, p = manual()
    subscribe(k, p, ALARM, 0)
    assert k.syscall(p, MEMOP, 0, p.kernel_memory_break + 1, 0, 0) == SyscallReturn.failure(ErrorCode.NOMEM)
    assert k.syscall(p, MEMOP, 0, p.kernel_memory_break, 0, 0) == SyscallReturn.success()


def test_custom_grants_are_blocks_outside_the_pointer_table():
    b, k, p = manual()
    top = p.kernel_memory_break
    drv = b.driver("alarm")
    cg = k.allocate_custom_grant(p, drv, 10, "ring")
    assert (cg.address, cg.size, cg.tag) == (top - 12, 12, "ring")
    assert p.grants_allocated == 0 and p.custom_grants == [cg]
    assert p.grant_bytes == 12
    k.try_restart(p)
    assert p.custom_grants == [] and p.kernel_memory_break == top
    with pytest.raises(GrantError, match="OutOfMemory"):
        k.allocate_custom_grant(p, drv, 1 << 20, "huge")


def test_kernel_view_of_memory():
    b, k, p = manual()
    assert p.read(p.flash_start, 4) == bytes(4)
    with pytest.raises(Exception, match="outside a's RAM"):
        p.write(p.memory_end, b"x")
    with pytest.raises(Exception, match="outside a's RAM and flash"):
        p.read(p.memory_start - 1, 2)
