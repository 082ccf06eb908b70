"""The cortex-m board's MPU (tockshell/kernel/mpu.py) against Tock 2.3's arch/cortex-m/src/mpu.rs.

Worked layouts are computed by hand from Tock's algorithm (the arithmetic is
in the comments); the board tests read the kernel's own structure size
(``kmem``, 720 B with today's 12 grants) so a new capsule does not break them.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tockshell.abi import ErrorCode, SyscallClass as C, SyscallReturn
from tockshell.board import build_board
from tockshell.kernel import GrantError, KernelAPIError, MemoryFault
from tockshell.kernel.mpu import (AP_READ_WRITE, AP_UNPRIVILEGED_READ_ONLY, CortexMConfig, CortexMMpu, FlatMpu,
                                  MpuLoadError)
from tockshell.kernel.process import AppMemory

OK = SyscallReturn.success()
NOMEM = SyscallReturn.failure(ErrorCode.NOMEM)
RAM = 0x2000_0000


def board(name="cortex-m", **kw):
    b = build_board(name, **kw)
    return b, b.kernel


def brk(k, p, addr):
    return k.syscall(p, C.MEMOP, 0, addr)


def sbrk(k, p, delta):
    return k.syscall(p, C.MEMOP, 1, delta & 0xFFFF_FFFF)


# ------------------------------------------------------------------ allocate_app_memory_region by hand
def test_worked_layout_small_block_is_512_with_two_initial_subregions():
    mpu = CortexMMpu()
    # memory_size = max(100, 32 + 100) = 132 -> next power of two 256 -> exponent 8 < 9 -> 512.
    # region_size = 256 (subregions of 32), start 0x20000000 is a multiple of 256.
    # initial subregions = 32 * 8 // 256 + 1 = 2: Tock's "round up" adds one even when 32 B divides exactly.
    cfg, start, size = mpu.allocate_app_memory_region(mpu.new_config(), RAM, 1 << 20, 100, 32, 100)
    assert (start, size) == (RAM, 512)
    r0 = cfg.regions[0]
    assert (r0.start, r0.size, r0.region_size, r0.rasr_size) == (RAM, 256, 256, 7)  # 2^(7+1) = 256
    assert r0.srd == 0b1111_1100 and r0.enabled_subregions == [0, 1]
    assert cfg.regions[1] is None  # no subregion of region 1 needed: Tock leaves it unused
    assert cfg.app_accessible_end == RAM + 64 and cfg.subregion_size == 32


def test_worked_layout_start_moves_up_to_half_the_block():
    mpu = CortexMMpu()
    # memory_size = 5000 -> 8192; region_size 4096; 0x20000300 rounded up to a multiple of 4096 = 0x20001000.
    # initial subregions = 32 * 8 // 4096 + 1 = 1 (512 B); kernel break = 0x20001000 + 8192 - 720 = 0x20002d30.
    cfg, start, size = mpu.allocate_app_memory_region(mpu.new_config(), RAM + 0x300, 1 << 20, 5000, 32, 720)
    assert (start, size) == (RAM + 0x1000, 8192)
    assert cfg.regions[0].srd == 0b1111_1110 and cfg.app_accessible_end == RAM + 0x1200


def test_worked_layout_block_doubles_when_the_first_subregion_reaches_kernel_memory():
    mpu = CortexMMpu()
    # memory_size = max(1000, 32 + 980) = 1012 -> 1024; region 512, subregion 64, 1 subregion enabled:
    # it ends at start + 64, but the kernel break would be start + 1024 - 980 = start + 44 < start + 64.
    # So the block doubles once: 2048, regions of 1024 (subregions of 128), 256 // 1024 + 1 = 1 enabled.
    cfg, start, size = mpu.allocate_app_memory_region(mpu.new_config(), RAM, 1 << 20, 1000, 32, 980)
    assert (start, size) == (RAM, 2048)
    assert cfg.regions[0].size == 1024 and cfg.app_accessible_end == RAM + 128


def test_block_must_fit_the_free_memory():
    mpu = CortexMMpu()
    # 5000 -> 8192 at 0x20001000 (aligned to 4096): needs free memory up to 0x20003000.
    assert mpu.allocate_app_memory_region(mpu.new_config(), RAM + 0x300, 0x2D00, 5000, 32, 720) is not None
    assert mpu.allocate_app_memory_region(mpu.new_config(), RAM + 0x300, 0x2CFF, 5000, 32, 720) is None


# ------------------------------------------------------------------ update_app_memory_region by hand
def _config_8k():
    mpu = CortexMMpu()
    cfg, _, _ = mpu.allocate_app_memory_region(mpu.new_config(), RAM, 1 << 20, 5768, 32, 720)
    return cfg  # regions of 4096, subregions of 512, kernel break RAM + 8192 - 720 = RAM + 7472


def test_update_rounds_the_break_up_to_subregions_across_both_regions():
    cfg = _config_8k()
    new = cfg.update(RAM + 3000, RAM + 7472)
    # ceil(3000 / 512) = 6 subregions: 0..5 of region 0; region 1 stays unused.
    assert new.regions[0].srd == 0b1100_0000 and new.regions[1] is None
    assert new.app_accessible_end == RAM + 3072
    new = cfg.update(RAM + 5000, RAM + 7472)
    # ceil(5000 / 512) = 10: all 8 of region 0 and subregions 0..1 of region 1 (at RAM + 4096).
    assert new.regions[0].srd == 0 and new.regions[1].srd == 0b1111_1100
    assert new.regions[1].start == RAM + 4096 and new.app_accessible_end == RAM + 5120


def test_update_refuses_a_break_whose_last_subregion_crosses_the_kernel_break():
    cfg = _config_8k()
    # 14 subregions end at RAM + 7168 <= RAM + 7472: accepted, up to exactly 7168.
    assert cfg.update(RAM + 7168, RAM + 7472).app_accessible_end == RAM + 7168
    # One byte more needs a 15th subregion ending at RAM + 7680 > RAM + 7472: Err(()).
    assert cfg.update(RAM + 7169, RAM + 7472) is None
    assert cfg.update(RAM + 7472, RAM + 7472) is None  # even the kernel break itself
    assert cfg.update(RAM + 7473, RAM + 7472) is None  # app break above the kernel break
    assert "15 of them" in cfg.refusal(RAM + 7169, RAM + 7472)


def test_update_at_memory_start_disables_every_subregion():
    # 0 subregions: Tock's `0 - 1` wraps (release build) and the mask comes out all ones.
    new = _config_8k().update(RAM, RAM + 7472)
    assert new.regions[0].srd == 0xFF and new.regions[1] is None and new.app_accessible_end == RAM


# ------------------------------------------------------------------ allocate_region (flash) by hand
def test_flash_region_exact_subregions_and_refusal():
    mpu = CortexMMpu()
    # 2048 B at 0x40800: a power of two dividing the start -> one plain region.
    r = mpu.allocate_region(mpu.new_config(), 0x40800, 2048, 2048, AP_UNPRIVILEGED_READ_ONLY, True).regions[2]
    assert (r.start, r.size, r.region_start, r.region_size, r.srd) == (0x40800, 2048, 0x40800, 2048, 0)
    # 3072 B at 0x40400: lowest set bit of the start = 1024 = subregion size, hardware region 8192 at
    # 0x40000; 3072 is three subregions, 1..3, and 0x40400 + 3072 = 0x41000 <= 0x42000.
    r = mpu.allocate_region(mpu.new_config(), 0x40400, 3072, 3072, AP_UNPRIVILEGED_READ_ONLY, True).regions[2]
    assert (r.start, r.size, r.region_start, r.region_size) == (0x40400, 3072, 0x40000, 8192)
    assert r.enabled_subregions == [1, 2, 3]
    # 3072 B at 0x41000: subregion 4096 (lowest bit), so the size rounds up to 4096 > 3072 available.
    assert mpu.allocate_region(mpu.new_config(), 0x41000, 3072, 3072, AP_UNPRIVILEGED_READ_ONLY, True) is None
    # 4096 B at 0x40200: subregions of 512 would run past their 4096 region; a whole 4096 region
    # would have to move up to 0x41000, past the flash.
    assert mpu.allocate_region(mpu.new_config(), 0x40200, 4096, 4096, AP_UNPRIVILEGED_READ_ONLY, True) is None


def test_display_is_tocks_process_printer_format():
    cfg = _config_8k().update(RAM + 3000, RAM + 7472)
    cfg = CortexMMpu().allocate_region(cfg, 0x40000, 2048, 2048, AP_UNPRIVILEGED_READ_ONLY, True)
    lines = cfg.display_lines()
    assert lines[0] == " Cortex-M MPU"
    assert lines[1] == "  Region 0: [0x20000000:0x20001000], length: 4096 bytes; ReadWrite (0x3)"
    assert lines[2] == "    Sub-region 0: [0x20000000:0x20000200], Enabled"
    assert lines[7] == "    Sub-region 5: [0x20000A00:0x20000C00], Enabled"
    assert lines[8] == "    Sub-region 6: [0x20000C00:0x20000E00], Disabled"
    assert lines[10] == "  Region 1: Unused"
    assert lines[11] == "  Region 2: [0x00040000:0x00040800], length: 2048 bytes; UnprivilegedReadOnly (0x2)"
    assert lines[-1] == "  Region 7: Unused" and len(lines) == 1 + 2 * 9 + 6  # regions 0 and 2 in use


# ------------------------------------------------------------------ the cortex-m board
def test_board_spawn_gets_a_power_of_two_block_aligned_to_its_half():
    b, k = board()
    kmem = k.initial_kernel_memory_size
    p = k.create_process("p", ram=3000)
    # request = 3000 + 2048 (grant= budget) + kmem (720) = 5768 -> 8192 in two regions of 4096.
    assert 3000 + 2048 + kmem <= 8192
    assert (p.memory_start, p.memory_len) == (RAM, 8192)
    assert p.kernel_memory_break == RAM + 8192 - kmem
    # crt0's brk to start + 3000: six subregions of 512 B.
    assert p.app_break == RAM + 3000 and p.mpu_accessible_end == RAM + 3072
    assert p.mpu_config.regions[0].ap == AP_READ_WRITE
    flash = p.mpu_config.regions[2]
    assert (flash.start, flash.size) == (p.flash_start, p.flash_len) == (0x40000, 2048)
    # The next process: 100 + 0 + 720 = 820 -> 1024, regions of 512, at the next free 256-byte boundary
    # rounded up to 512: 0x20002000.
    q = k.create_process("q", ram=100, grant=0)
    assert (q.memory_start, q.memory_len) == (RAM + 0x2000, 1024)
    assert q.mpu_accessible_end == q.memory_start + 128  # ceil(100 / 64) = 2 subregions of 64
    # 8000 + 720 = 8720 -> 16384, regions of 8192: 0x20002400 rounds up to 0x20004000.
    r = k.create_process("r", ram=8000, grant=0)
    assert (r.memory_start, r.memory_len) == (RAM + 0x4000, 16384)


def test_board_flash_is_padded_and_aligned_like_elf2tab_and_tockloader():
    b, k = board()
    p = k.create_process("p", flash=300)      # 300 -> 512 at least (elf2tab's power-of-two padding)
    q = k.create_process("q", flash=3000)     # 3000 -> 4096, placed at a multiple of 4096
    assert (p.flash_start, p.flash_len) == (0x40000, 512)
    assert (q.flash_start, q.flash_len) == (0x41000, 4096)
    assert q.mpu_config.regions[2].srd == 0


def test_board_load_errors_are_tocks_process_load_errors():
    b, k = board()
    # 3000 + 2048 + 720 -> 8192, so the block starts at a multiple of 4096: 0x20001000, not 0x20000800.
    with pytest.raises(KernelAPIError, match=r"MemoryAddressMismatch \{ actual_address: 0x20001000, "
                                             r"expected_address: 0x20000800 \}"):
        k.create_process("p", ram=3000, ram_address=RAM + 0x800)
    k.create_process("hi", ram=100, grant=0, ram_address=RAM + 0x2000)
    with pytest.raises(KernelAPIError, match="NotEnoughMemory"):
        k.create_process("lo", ram=8000, grant=0, ram_address=RAM)  # 16 KiB would run into hi at +8 KiB
    with pytest.raises(KernelAPIError, match="MpuInvalidFlashLength"):
        k.create_process("f", flash_bytes=bytes(3072), flash_address=0x41000)
    assert [p.name for p in k.live_processes()] == ["hi"]  # refused loads leave nothing behind


def test_board_brk_and_sbrk_edges():
    b, k = board()
    p = k.create_process("p", ram=3000)
    kb = p.kernel_memory_break
    sub = p.mpu_config.subregion_size
    last = RAM + (kb - RAM) // sub * sub          # the last subregion boundary below the kernel break
    assert brk(k, p, last) == OK and p.mpu_accessible_end == last
    assert brk(k, p, last + 1) == NOMEM and p.app_break == last   # one more subregion crosses kb
    assert brk(k, p, kb) == NOMEM                 # the flat board accepts the kernel break itself
    assert sbrk(k, p, 4) == NOMEM and p.app_break == last
    r = sbrk(k, p, -(last - RAM - 3000))          # back to start + 3000: six subregions again
    assert r.values[0] == last and p.mpu_accessible_end == RAM + 3072
    assert sbrk(k, p, -1) == SyscallReturn.of_kind("SuccessPtr", (RAM + 3000,))
    assert p.mpu_accessible_end == RAM + 3072     # 2999 B still need six subregions


def test_flat_board_accepts_what_cortex_m_refuses():
    for name, expect in (("default", OK), ("cortex-m", NOMEM)):
        b, k = board(name)
        p = k.create_process("p", ram=3000)
        assert brk(k, p, p.kernel_memory_break) == expect


def test_brk_to_memory_start_succeeds_then_the_return_value_faults():
    b, k = board(fault_policy="stop")
    p = k.create_process("p", ram=3000)
    assert brk(k, p, RAM) == OK
    assert p.state.name == "Faulted" and p.mpu_config.regions[0].srd == 0xFF


def test_allow_stops_at_the_break_but_an_app_may_touch_its_whole_subregion():
    b, k = board(fault_policy="stop")
    p = k.create_process("p", ram=3000)       # break RAM + 3000, subregions end RAM + 3072
    r = k.syscall(p, C.ALLOW_RW, 1, 1, RAM + 3000, 16)
    assert r.error is ErrorCode.INVAL          # the kernel checks the break, as today
    mem = AppMemory(p)
    mem.write(RAM + 3060, b"x" * 12)           # inside the last enabled subregion: no MPU fault
    assert mem.read(RAM + 3060, 12) == b"x" * 12
    with pytest.raises(MemoryFault):
        mem.write(RAM + 3070, b"abc")          # crosses into a disabled subregion
    b2, k2 = board("default")
    q = k2.create_process("q", ram=3000)
    with pytest.raises(MemoryFault):
        AppMemory(q).write(q.app_break, b"x")  # the flat MPU stops at the break


def test_grant_refused_by_the_mpu_though_the_bytes_fit():
    b, k = board()
    con = b.driver("console")
    p = k.create_process("p", ram=3000)
    kb = p.kernel_memory_break
    sub = p.mpu_config.subregion_size
    top = RAM + (kb - RAM) // sub * sub           # the highest subregion boundary at or below kb
    assert brk(k, p, top - 8) == OK and p.mpu_accessible_end == top
    gap = kb - top                                # 7472 - 7168 = 304 with today's kmem
    # A grant that puts the kernel break 4 B below `top`: above the app break (top - 8), so the
    # bytes fit, but the app's last subregion would reach into it. Tock's update_app_memory_region
    # refuses, so allocate_in_grant_region_internal gives None: Grant's OutOfMemory.
    with pytest.raises(GrantError, match="OutOfMemory"):
        k.allocate_custom_grant(p, con, gap + 4, "t")
    assert p.kernel_memory_break == kb
    if gap:
        k.allocate_custom_grant(p, con, gap, "t")  # exactly down to the subregion end: accepted
    assert p.kernel_memory_break == top
    # Now a subscribe: the console grant (76 B) fits above a break at top - 200, but not above
    # the subregion that break needs (it ends at top).
    assert brk(k, p, top - 200) == OK
    r = k.syscall(p, C.SUBSCRIBE, con.driver_num, 1, 0, 0)
    assert r.error is ErrorCode.NOMEM and p.kernel_memory_break == top
    # One subregion less for the app, and the grant fits.
    assert sbrk(k, p, -sub) == SyscallReturn.of_kind("SuccessPtr", (top - 200,))
    assert k.syscall(p, C.SUBSCRIBE, con.driver_num, 1, 0, 0).is_success
    assert p.mpu_accessible_end <= p.kernel_memory_break
    # The flat board takes the same grant without complaint.
    b2, k2 = board("default")
    q = k2.create_process("q", ram=3000)
    assert brk(k2, q, q.kernel_memory_break - 8) == OK
    k2.allocate_custom_grant(q, b2.driver("console"), 8, "t")


def test_shell_explains_an_mpu_refused_grant(make_shell):
    sh = make_shell(board="cortex-m")
    sh("spawn p ram=3000")
    p = sh.kernel.process("p")
    sub = p.mpu_config.subregion_size
    top = RAM + (p.kernel_memory_break - RAM) // sub * sub
    gap = p.kernel_memory_break - top
    ipc, con = (sh.session.board.driver(n).grant.size for n in ("ipc", "console"))
    # With kmem 720: gap 304; the IPC grant (268) leaves 36 B above `top`, the console's (76) would
    # cross it while still clearing a break at top - 100.
    assert ipc <= gap < ipc + con <= gap + 100, "the board's grant sizes changed: pick other grants"
    sh(f"p: memop brk {top - 100:#x}\np: subscribe ipc 0 @x")
    out = sh("p: subscribe console 1 @x")
    assert "Failure(NOMEM" in out and "MPU subregions" in out and f"{top:#x}" in out
    assert "why NOMEM: console's grant (76 B) would put the kernel memory break" in sh("explain")


def test_restart_brings_back_the_load_time_configuration():
    b, k = board(fault_policy="stop")
    p = k.create_process("p", ram=3000, booted=False)
    initial = p.mpu_config
    assert initial.app_accessible_end == RAM + 512   # 32 * 8 // 4096 + 1 = 1 subregion
    k.step()                                         # deliver _start: the raw process runs
    assert brk(k, p, RAM + 5000) == OK and p.mpu_config != initial
    k.try_restart(p)
    assert p.mpu_config == initial and (p.memory_start, p.memory_len) == (RAM, 8192)


def test_default_board_is_unchanged():
    b, k = board("default")
    kmem = k.initial_kernel_memory_size
    p = k.create_process("p", ram=3000)
    assert isinstance(k.mpu, FlatMpu) and p.mpu_config is None
    assert (p.memory_start, p.memory_len) == (RAM, (3000 + 2048 + kmem + 7) // 8 * 8)
    assert p.mpu_accessible_end == p.app_break
    with pytest.raises(KernelAPIError, match="before any process"):
        k.set_mpu(CortexMMpu())


def test_shell_shows_the_regions(make_shell):
    sh = make_shell(board="cortex-m")
    out = sh("spawn p ram=3000\nprocess p")
    assert "RAM 0x20000000..0x20002000" in out
    assert "▲ MPU: end of app subregions" in out and "6 of 16 subregions of 512 B enabled" in out
    assert "  Region 0: [0x20000000:0x20001000], length: 4096 bytes; ReadWrite (0x3)" in out
    out = sh("p: memop brk (p.kernel_break - 4)")
    assert "Failure(NOMEM)" in out and "subregions" in out and "Traceback" not in out
    assert "MPU: Cortex-M" in sh("kernel")
    out = make_shell()("spawn p ram=3000\nprocess p\nkernel")
    assert "MPU" not in out and "Cortex-M" not in out


def test_mpu_load_error_names_the_variant():
    e = MpuLoadError("NotEnoughMemory", "x")
    assert str(e) == "ProcessLoadError::NotEnoughMemory: x" and e.kind == "NotEnoughMemory"


# ------------------------------------------------------------------ invariants
_spawn = st.tuples(st.integers(0, 20_000), st.integers(0, 4096), st.integers(1, 9000))
_op = st.one_of(st.tuples(st.just("brk"), st.integers(0, 40_000)),
                st.tuples(st.just("sbrk"), st.integers(-6000, 6000)),
                st.tuples(st.just("grant"), st.sampled_from(["alarm", "console", "rng", "ipc", "button"])))


def _check_region(p):
    cfg: CortexMConfig = p.mpu_config
    size, start = p.memory_len, p.memory_start
    assert size >= 512 and size & (size - 1) == 0          # a power of two, at least two 256 B regions
    assert start % (size // 2) == 0                         # aligned to its regions
    r0 = cfg.regions[0]
    assert (r0.start, r0.size, r0.region_size) == (start, size // 2, size // 2)
    assert cfg.regions[1] is None or cfg.regions[1].start == start + size // 2
    # The enabled subregions cover the app's memory and stay clear of kernel memory.
    if p.alive:
        assert p.app_break <= cfg.app_accessible_end <= p.kernel_memory_break
    assert (cfg.app_accessible_end - start) % cfg.subregion_size == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_spawn, min_size=1, max_size=5), st.lists(st.tuples(st.integers(0, 4), _op), max_size=12))
def test_property_every_block_is_an_aligned_power_of_two_covering_the_app(spawns, ops):
    b, k = board(fault_policy="stop")
    procs = []
    for i, (ram, grant, flash) in enumerate(spawns):
        p = k.create_process(f"p{i}", ram=ram, grant=grant, flash=flash)
        procs.append(p)
        _check_region(p)
    for i, (kind, arg) in ops:
        p = procs[i % len(procs)]
        if p.state.name != "Running":
            continue
        if kind == "brk":
            brk(k, p, p.memory_start + arg)
        elif kind == "sbrk":
            sbrk(k, p, arg)
        else:
            drv = b.driver(arg)
            k.syscall(p, C.SUBSCRIBE, drv.driver_num, 0, 0, 0)
        _check_region(p)
    blocks = sorted((p.memory_start, p.memory_end) for p in procs)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(blocks, blocks[1:]))
    flashes = sorted((p.flash_start, p.flash_end) for p in procs)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(flashes, flashes[1:]))
    for p in procs:
        fr = p.mpu_config.regions[2]
        assert (fr.start, fr.size) == (p.flash_start, p.flash_len) and fr.size & (fr.size - 1) == 0
