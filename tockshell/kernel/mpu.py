"""Memory protection models: where a process's memory goes and where its app break may move.

The kernel never knows which chip it runs on; the board hands it one of these
objects (``Kernel(mpu=...)`` or ``Kernel.set_mpu``), as a Tock board picks
its chip's ``MPU`` implementation:

* :class:`FlatMpu` (the default board): 4-byte granularity and no regions.
  A RAM block is exactly the request rounded up to 8 bytes, the app break may
  sit at any address below the kernel memory break. This is the model's
  historical layout, kept byte for byte.
* :class:`CortexMMpu` (the ``cortex-m`` board): the ARMv7-M MPU of a
  Cortex-M4 as ``arch/cortex-m/src/mpu.rs`` programs it for Tock 2.3: flash
  in one region (``allocate_region``), RAM in a power-of-two block covered by
  two regions of half its size (``allocate_app_memory_region``), the app's
  accessible memory grown or shrunk a subregion (one eighth of a region) at a
  time (``update_app_memory_region``), which the kernel calls on every
  ``brk``/``sbrk`` and every grant allocation
  (``kernel/src/process_standard.rs`` ``brk``,
  ``allocate_in_grant_region_internal``).

A process's MPU state is a frozen :class:`CortexMConfig` (``None`` on the
flat MPU): its ``update`` returns the new configuration or ``None`` when the
hardware could not protect the requested split, which the kernel turns into
the refusal Tock gives (memop ``Failure(NOMEM)``, grant ``OutOfMemory``).
Everything here is written from the Rust sources' behaviour, not copied.
"""

from __future__ import annotations

import attrs

#: The ARMv7-M MPU divides every region of 256 bytes or more into eight subregions.
NUM_SUBREGIONS = 8
#: ``CORTEXM_MIN_REGION_SIZE``: no logical region may be smaller (mpu.rs).
CORTEXM_MIN_REGION_SIZE = 32
#: Regions 0 and 1 cover app RAM (``APP_MEMORY_REGION_MAX_NUM`` = 1); flash and others come after.
APP_MEMORY_REGION_MAX_NUM = 1

# RASR.AP values and the names Tock's Display of a CortexMConfig prints for them.
AP_READ_WRITE = 0b011
AP_UNPRIVILEGED_READ_ONLY = 0b010
AP_NAMES = {
    0b000: "NoAccess", 0b001: "PrivilegedOnly", 0b010: "UnprivilegedReadOnly", 0b011: "ReadWrite",
    0b100: "Reserved", 0b101: "PrivilegedOnlyReadOnly", 0b110: "ReadOnly", 0b111: "ReadOnlyAlias",
}


class MpuLoadError(Exception):
    """The MPU cannot place a process: ``kind`` is Tock's ``ProcessLoadError`` variant.

    The kernel turns it into a refused ``create_process`` (nothing changes).
    """

    def __init__(self, kind: str, detail: str, fields: str = ""):
        # The variant reads as Rust's Debug prints it (fields right after the name), then the why.
        super().__init__(f"ProcessLoadError::{kind}{' ' + fields if fields else ''}: {detail}")
        self.kind = kind


def _next_power_of_two(n: int) -> int:
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


def _align_up(x: int, a: int) -> int:
    return -(-x // a) * a


def _hexu(x: int) -> str:
    # Rust's {:#010X}: a lowercase 0x prefix, upper-case digits, ten characters in all.
    return "0x" + format(x, "08X")


@attrs.frozen
class CortexMRegion:
    """One configured region of a ``CortexMConfig``.

    ``start``/``size`` are the *logical* location Tock records (what
    ``Region N: [..]`` prints); ``region_start``/``region_size`` what RBAR and
    RASR.SIZE hold; ``srd`` the RASR.SRD byte (bit ``i`` set: subregion ``i``
    disabled); ``ap`` the RASR.AP access bits; ``execute`` is ``not XN``.
    """

    start: int
    size: int
    region_start: int
    region_size: int
    srd: int
    ap: int
    execute: bool

    @property
    def end(self) -> int:
        return self.start + self.size

    @property
    def subregion_size(self) -> int:
        return self.region_size // NUM_SUBREGIONS

    @property
    def enabled_subregions(self) -> list[int]:
        return [i for i in range(NUM_SUBREGIONS) if not (self.srd >> i) & 1]

    @property
    def rasr_size(self) -> int:
        """The RASR.SIZE field: the region is 2^(SIZE+1) bytes."""
        return self.region_size.bit_length() - 2

    def overlaps(self, start: int, size: int) -> bool:
        return self.start < start + size and start < self.end


def _srd_enabling(first: int, last: int) -> int:
    """The SRD byte with subregions ``first..=last`` enabled and the others disabled."""
    mask = 0xFF
    for i in range(first, last + 1):
        mask ^= 1 << i
    return mask


def _app_regions(start: int, region_size: int, enabled: int) -> tuple[CortexMRegion, CortexMRegion | None]:
    """Regions 0 and 1 over ``[start, start + 2 * region_size)`` with ``enabled`` subregions from the bottom.

    ``enabled == 0`` happens only for an app break at the very start of the
    block: Tock computes ``0 - 1`` for the last subregion, which wraps in a
    release build (no overflow checks), and its mask loop toggles every bit
    an even number of times, so region 0 ends up with every subregion
    disabled. The model gives that result (and charges no time for the loop).
    """
    n0 = min(enabled, NUM_SUBREGIONS)
    n1 = max(enabled - NUM_SUBREGIONS, 0)
    srd0 = _srd_enabling(0, n0 - 1) if n0 else 0xFF
    r0 = CortexMRegion(start, region_size, start, region_size, srd0, AP_READ_WRITE, False)
    # Tock leaves region 1 unused rather than configure it with no subregion enabled.
    r1 = None if n1 == 0 else CortexMRegion(start + region_size, region_size, start + region_size, region_size,
                                            _srd_enabling(0, n1 - 1), AP_READ_WRITE, False)
    return r0, r1


@attrs.frozen
class CortexMConfig:
    """``CortexMConfig``: the regions one process runs with (``None`` for an unused region).

    Immutable: every change makes a new configuration, so a refused ``brk``
    leaves the old one in place as Tock's early returns do.
    """

    regions: tuple

    # -- the app-memory regions ---------------------------------------------------------
    @property
    def app_region(self) -> CortexMRegion | None:
        return self.regions[0]

    @property
    def subregion_size(self) -> int:
        r0 = self.regions[0]
        return r0.region_size // NUM_SUBREGIONS if r0 is not None else 0

    @property
    def enabled_app_subregions(self) -> int:
        """Subregions of regions 0 and 1 the process may access (they are always the lowest ones)."""
        return sum(len(r.enabled_subregions) for r in self.regions[:APP_MEMORY_REGION_MAX_NUM + 1] if r is not None)

    @property
    def app_accessible_end(self) -> int:
        """The first RAM address the MPU denies the process: the end of the last enabled subregion."""
        r0 = self.regions[0]
        if r0 is None:
            return 0
        return r0.start + self.enabled_app_subregions * self.subregion_size

    def subregions_needed(self, app_break: int) -> int:
        """``round_up((app_break - region start) / subregion size)``, as ``update_app_memory_region`` does."""
        r0 = self.regions[0]
        sub = self.subregion_size
        return -(-(app_break - r0.start) // sub)

    def update(self, app_break: int, kernel_break: int) -> "CortexMConfig | None":
        """``update_app_memory_region``: regions 0/1 for this split, or None where Tock returns ``Err(())``.

        Refused when the app break is above the kernel break, or when the
        subregions needed to cover the app break would reach past the kernel
        memory break (the MPU could no longer keep grants from the app).
        """
        r0 = self.regions[0]
        if r0 is None or app_break > kernel_break:
            return None
        n = self.subregions_needed(app_break)
        if r0.start + n * self.subregion_size > kernel_break:
            return None
        new0, new1 = _app_regions(r0.start, r0.size, n)
        return CortexMConfig((new0, new1) + self.regions[2:])

    def refusal(self, app_break: int, kernel_break: int) -> str | None:
        """Why :meth:`update` refuses this split, in words (None if it accepts it)."""
        r0 = self.regions[0]
        if r0 is None:
            return "the process has no app-memory MPU region"
        if app_break > kernel_break:
            return f"the app break {app_break:#x} would be above the kernel memory break {kernel_break:#x}"
        n = self.subregions_needed(app_break)
        end = r0.start + n * self.subregion_size
        if end > kernel_break:
            return (f"the Cortex-M MPU covers app memory in {self.subregion_size}-byte subregions: a break at "
                    f"{app_break:#x} needs {n} of them, ending at {end:#x}, above the kernel memory break "
                    f"{kernel_break:#x} (update_app_memory_region refuses)")
        return None

    # -- text ---------------------------------------------------------------------------
    def display_lines(self) -> list[str]:
        """The configuration as Tock's ``Display for CortexMConfig`` prints it (process printer)."""
        out = [" Cortex-M MPU"]
        for i, r in enumerate(self.regions):
            if r is None:
                out.append(f"  Region {i}: Unused")
                continue
            out.append(f"  Region {i}: [{_hexu(r.start)}:{_hexu(r.end)}], length: {r.size} bytes; "
                       f"{AP_NAMES[r.ap]} ({r.ap:#x})")
            # Tock divides the *logical* length by eight here and reads the hardware SRD bits, so a
            # flash region that needed a larger hardware region prints sub-regions of the logical one.
            sub = r.size // NUM_SUBREGIONS
            for j in range(NUM_SUBREGIONS):
                state = "Disabled" if (r.srd >> j) & 1 else "Enabled"
                out.append(f"    Sub-region {j}: [{_hexu(r.start + j * sub)}:{_hexu(r.start + (j + 1) * sub)}], "
                           f"{state}")
        return out

    def summary_lines(self) -> list[str]:
        """A short account of the regions (tockshell's words, for ``process`` and the memory map)."""
        out = []
        r0, r1 = self.regions[0], self.regions[1]
        if r0 is not None:
            n = self.enabled_app_subregions
            block = r0.size * 2
            out.append(f" MPU: RAM block {block} B at {r0.start:#x} = regions 0 and 1 of {r0.size} B; "
                       f"{n} of 16 subregions of {self.subregion_size} B enabled, the app may touch "
                       f"[{r0.start:#x}, {self.app_accessible_end:#x})"
                       + ("" if r1 is not None else " (region 1 unused)"))
        for i, r in enumerate(self.regions):
            if i <= APP_MEMORY_REGION_MAX_NUM or r is None:
                continue
            what = "flash" if r.ap == AP_UNPRIVILEGED_READ_ONLY and r.execute else AP_NAMES[r.ap]
            hw = ""
            if r.srd:
                en = r.enabled_subregions
                hw = (f", hardware region {r.region_size} B at {r.region_start:#x} with subregions "
                      f"{en[0]}..{en[-1]} enabled")
            out.append(f" MPU: region {i} ({what}) {r.size} B at {r.start:#x}{hw}")
        return out


@attrs.frozen
class RamLayout:
    """Where the MPU put a process: its RAM block and its MPU configuration (None on the flat MPU)."""

    memory_start: int
    memory_len: int
    config: CortexMConfig | None


class FlatMpu:
    """The default board's protection: 4-byte granularity, no regions, nothing ever refused by the MPU."""

    name = "flat"

    def flash_size(self, size: int) -> int:
        return size

    def flash_address(self, cursor: int, size: int) -> int:
        return cursor

    def allocate(self, *, flash_start: int, flash_len: int, ram_start: int, ram_limit: int, request: int,
                 initial_app_memory: int, initial_kernel_memory: int, fixed_ram: bool) -> RamLayout:
        """The block is the request rounded up to 8 bytes, where the kernel asked."""
        return RamLayout(ram_start, _align_up(request, 8), None)

    def reset_config(self, p, initial_app_memory: int) -> None:
        return None

    def describe(self) -> str | None:
        """One line for the board summary, or None (the default board says nothing)."""
        return None


class CortexMMpu:
    """The ARMv7-M MPU as Tock drives it on a Cortex-M4 (``cortexm4::mpu::MPU<8, 32>``).

    ``num_regions`` and ``min_region_size`` are the two const generics of
    Tock's ``MPU`` (M3/M4: 8 and 32; M0+: 8 and 256; M7: 16 and 32).
    """

    name = "cortex-m"

    def __init__(self, num_regions: int = 8, min_region_size: int = 32):
        self.num_regions = num_regions
        self.min_region_size = min_region_size

    # -- flash: elf2tab and tockloader's part ----------------------------------------------
    def flash_size(self, size: int) -> int:
        """elf2tab pads an ARM TBF to a power of two of at least 512 bytes."""
        return max(512, _next_power_of_two(size))

    def flash_address(self, cursor: int, size: int) -> int:
        """tockloader puts a Cortex-M app at a multiple of its (power-of-two) size."""
        return _align_up(cursor, _next_power_of_two(size))

    # -- mpu.rs ---------------------------------------------------------------------------
    def new_config(self) -> CortexMConfig:
        return CortexMConfig((None,) * self.num_regions)

    def allocate_region(self, config: CortexMConfig, unallocated_start: int, unallocated_size: int,
                        min_region_size: int, ap: int, execute: bool) -> CortexMConfig | None:
        """``allocate_region``: one region (with subregions if that aligns it) in the first free slot after 1."""
        if any(r is not None and r.overlaps(unallocated_start, unallocated_size) for r in config.regions):
            return None
        free = [i for i, r in enumerate(config.regions) if i > APP_MEMORY_REGION_MAX_NUM and r is None]
        if not free:
            return None
        start = _align_up(unallocated_start, self.min_region_size)
        size = max(min_region_size, self.min_region_size)
        region_start, region_size, srd = start, size, 0
        if size & (size - 1) or start % size:
            # Try a larger hardware region whose subregion size divides the start address.
            if start:
                sub = start & -start
            else:
                sub = max(_next_power_of_two(size), 256) // NUM_SUBREGIONS
            underlying = sub * NUM_SUBREGIONS
            underlying_start = start - start % underlying
            size = _align_up(size, sub)
            if sub >= 32 and underlying_start + underlying >= start + size:
                first = (start - underlying_start) // sub
                region_start, region_size = underlying_start, underlying
                srd = _srd_enabling(first, first + size // sub - 1)
            else:
                # No subregion fits: a whole power-of-two region, moved up to its own alignment.
                size = _next_power_of_two(size)
                start += size - start % size
                region_start, region_size = start, size
        if start + size > unallocated_start + unallocated_size:
            return None
        if size < CORTEXM_MIN_REGION_SIZE or region_size < size:
            return None
        regions = list(config.regions)
        regions[free[0]] = CortexMRegion(start, size, region_start, region_size, srd, ap, execute)
        return CortexMConfig(tuple(regions))

    def allocate_app_memory_region(self, config: CortexMConfig, unallocated_start: int, unallocated_size: int,
                                   min_memory_size: int, initial_app_memory_size: int,
                                   initial_kernel_memory_size: int) -> tuple[CortexMConfig, int, int] | None:
        """``allocate_app_memory_region``: (config, block start, block size) or None.

        The block is a power of two (at least 512 B) covered by regions 0 and
        1 of half its size each, aligned to that half; the initial app memory
        gets ``initial * 8 / region_size + 1`` subregions (Tock's rounding,
        one more than needed when the division is exact). If those would run
        into the initial kernel memory the block doubles, once.
        """
        if any(r is not None and r.overlaps(unallocated_start, unallocated_size) for r in config.regions):
            return None
        memory_size = max(min_memory_size, initial_app_memory_size + initial_kernel_memory_size)
        block = _next_power_of_two(memory_size)
        if block < 512:
            # Two regions of at least 256 B each, or they would have no subregions.
            block = 512
        elif block > 1 << 32:
            return None
        region_size = block // 2
        start = _align_up(unallocated_start, region_size)
        enabled = initial_app_memory_size * NUM_SUBREGIONS // region_size + 1
        sub = region_size // NUM_SUBREGIONS
        if start + enabled * sub > start + block - initial_kernel_memory_size:
            block *= 2
            region_size *= 2
            start = _align_up(start, region_size)
            enabled = initial_app_memory_size * NUM_SUBREGIONS // region_size + 1
        if start + block > unallocated_start + unallocated_size:
            return None
        r0, r1 = _app_regions(start, region_size, enabled)
        return CortexMConfig((r0, r1) + config.regions[2:]), start, block

    # -- the process loader's part (process_standard.rs create / reset) -------------------------
    def allocate(self, *, flash_start: int, flash_len: int, ram_start: int, ram_limit: int, request: int,
                 initial_app_memory: int, initial_kernel_memory: int, fixed_ram: bool) -> RamLayout:
        """``ProcessStandard::create``'s MPU steps: the flash region, then the RAM block.

        ``ram_start`` is the first free address (or the TBF's fixed RAM
        address when ``fixed_ram``), ``ram_limit`` the end of the free RAM
        there. Raises :class:`MpuLoadError` with Tock's variant when it fails.
        """
        config = self.allocate_region(self.new_config(), flash_start, flash_len, flash_len,
                                      AP_UNPRIVILEGED_READ_ONLY, True)
        if config is None:
            raise MpuLoadError("MpuInvalidFlashLength",
                               f"the Cortex-M MPU cannot cover flash [{flash_start:#x}, {flash_start + flash_len:#x}) "
                               f"with one region (a power-of-two size aligned to itself, or a run of eighths "
                               f"of a larger aligned region)")
        got = self.allocate_app_memory_region(config, ram_start, max(0, ram_limit - ram_start), request,
                                              initial_app_memory, initial_kernel_memory)
        if got is None:
            need = max(512, _next_power_of_two(max(request, initial_app_memory + initial_kernel_memory)))
            raise MpuLoadError("NotEnoughMemory",
                               f"couldn't allocate memory region of size >= {request:#X}: the Cortex-M MPU "
                               f"needs a {need}-byte block (or twice that) aligned to half its size at or "
                               f"above {ram_start:#x}, and the free RAM there ends at {ram_limit:#x}")
        config, start, block = got
        if fixed_ram and start != ram_start:
            raise MpuLoadError("MemoryAddressMismatch",
                               f"the Cortex-M MPU puts a {block}-byte block at a multiple of {block // 2}",
                               f"{{ actual_address: {start:#x}, expected_address: {ram_start:#x} }}")
        return RamLayout(start, block, config)

    def reset_config(self, p, initial_app_memory: int) -> CortexMConfig | None:
        """``reset``: a fresh configuration for the same flash and RAM block (``min_memory_size = memory_len``).

        The block is a power of two this MPU allocated, so the same geometry
        comes back; None would mean Tock's reset fails (it cannot here).
        """
        config = self.allocate_region(self.new_config(), p.flash_start, p.flash_len, p.flash_len,
                                      AP_UNPRIVILEGED_READ_ONLY, True)
        if config is None:
            return None
        got = self.allocate_app_memory_region(config, p.memory_start, p.memory_len, p.memory_len,
                                              initial_app_memory, p.initial_kernel_memory_size)
        return None if got is None else got[0]

    def describe(self) -> str | None:
        return (f"MPU: Cortex-M (ARMv7-M), {self.num_regions} regions of 8 subregions; app RAM in a "
                f"power-of-two block covered by regions 0 and 1, flash in region 2")
