"""Processes: state, identity, counters and memory (``process.rs``, ``process_standard.rs``).

Memory picture of one process (high addresses at the top), as Tock lays it out::

    memory_start + memory_len  grant pointer table (8 B per grant in the kernel)
                               task ring (10 x 32 B)
                               process struct
    initial kernel break ----- grants, allocated downward on demand
    kernel_memory_break ------ (memop 6)
                               unused
    app_break ---------------- (brk / sbrk move it)
                               heap, data, stack (libtock-c puts the stack lowest)
    memory_start

Every byte is real: ``ram`` is a bytearray of ``memory_len`` bytes.
"""

from __future__ import annotations

import enum
from collections import deque
from typing import Any

import attrs

from ..abi import SyscallClass
from .upcall import UpcallId


class StateKind(enum.Enum):
    RUNNING = "Running"
    YIELDED = "Yielded"
    YIELDED_FOR = "YieldedFor"
    STOPPED = "Stopped"
    FAULTED = "Faulted"
    TERMINATED = "Terminated"


@attrs.frozen
class State:
    """``kernel::process::State``; ``wait_for`` for YieldedFor, ``previous`` for Stopped."""

    kind: StateKind
    wait_for: UpcallId | None = None
    previous: "State | None" = None

    @property
    def name(self) -> str:
        return self.kind.value

    def debug(self) -> str:
        if self.kind is StateKind.YIELDED_FOR:
            return f"YieldedFor({self.wait_for.debug()})"
        if self.kind is StateKind.STOPPED:
            return f"Stopped({self.previous.debug()})"
        return self.kind.value

    @property
    def alive(self) -> bool:
        """``is_running()``: Running, Yielded, YieldedFor or Stopped."""
        return self.kind not in (StateKind.FAULTED, StateKind.TERMINATED)


RUNNING = State(StateKind.RUNNING)
YIELDED = State(StateKind.YIELDED)
FAULTED = State(StateKind.FAULTED)
TERMINATED = State(StateKind.TERMINATED)


def yielded_for(uid: UpcallId) -> State:
    return State(StateKind.YIELDED_FOR, wait_for=uid)


def stopped(previous: State) -> State:
    return State(StateKind.STOPPED, previous=previous)


@attrs.frozen
class ProcessId:
    """``ProcessId``: slot index plus a never-reused identifier. Equality is by identifier, as in Tock."""

    index: int
    identifier: int = attrs.field(eq=True)

    def __str__(self) -> str:
        return str(self.identifier)


@attrs.frozen
class ShortId:
    """``ShortId``: ``LocallyUnique`` (value None) or ``Fixed(NonZeroU32)``."""

    value: int | None = None

    @property
    def locally_unique(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        return "Unique" if self.value is None else f"{self.value:#x}"

    def matches(self, other: "ShortId") -> bool:
        # LocallyUnique compares unequal to everything, itself included.
        return self.value is not None and self.value == other.value


class MemoryFault(Exception):
    """An app touched memory outside what it owns (an MPU fault)."""


#: Cortex-M's minimum app break: room for the initial stacked exception frame.
UKB_MINIMUM = 32
SVC_FRAME_SIZE = 32


def _app_view(p: "Process") -> str:
    """Where the app's own memory ends, for a fault message: the break, or on a subregion MPU
    the end of its last enabled subregion when that lies past the break (what the app may touch)."""
    cfg = getattr(p, "mpu_config", None)
    end = cfg.app_accessible_end if cfg is not None else 0
    if end > p.app_break:
        return f"app break {p.app_break:#x}, MPU subregions up to {end:#x}"
    return f"app break {p.app_break:#x}"


class AppMemory:
    """What an app program sees of memory: its own RAM below the app break (the MPU's view).

    On an MPU with subregions (the ``cortex-m`` board) that view reaches the end
    of the app's last enabled subregion, which may lie past the break.

    Plus the extra MPU regions legacy IPC added to the process (another
    process's shared buffer): ``owner_of(addr)`` finds the process whose RAM
    holds them. Touching anything else raises :class:`MemoryFault`; the kernel
    turns that into a fault of the process, as an MPU fault would.
    """

    __slots__ = ("_p", "_owner_of")

    def __init__(self, process: "Process", owner_of=None):
        self._p = process
        self._owner_of = owner_of

    @property
    def start(self) -> int:
        return self._p.memory_start

    def _mapped(self, addr: int, size: int) -> "Process | None":
        # Legacy IPC's regions are never removed, so they outlive the sharer's instance, as in Tock.
        if self._owner_of is not None:
            for a, n in self._p.mpu_regions:
                if a <= addr and addr + size <= a + n:
                    return self._owner_of(addr)
        return None

    def read(self, addr: int, size: int) -> bytes:
        p = self._p
        if p.in_app_owned_memory(addr, size) or p.in_app_flash(addr, size) or p.in_mpu_slack(addr, size):
            return p.read(addr, size)
        q = self._mapped(addr, size)
        if q is not None:
            return q.read(addr, size)
        raise MemoryFault(f"read of {size} bytes at {addr:#x}: outside the app's memory ({_app_view(p)})")

    def write(self, addr: int, data: bytes) -> None:
        p = self._p
        if not p.in_app_owned_memory(addr, len(data)) and not p.in_mpu_slack(addr, len(data)):
            q = self._mapped(addr, len(data))
            if q is not None:
                q.write(addr, data)
                return
            raise MemoryFault(f"write of {len(data)} bytes at {addr:#x}: outside the app's memory "
                              f"({_app_view(p)})")
        o = addr - p.memory_start
        p.ram[o:o + len(data)] = data


class Process:
    """One process slot's occupant. Mutable; owned by the :class:`~tockshell.kernel.kernel.Kernel`."""

    def __init__(self, *, index: int, identifier: int, name: str, package: str, short_id: ShortId,
                 memory_start: int, memory_len: int, flash_start: int, flash: bytearray,
                 header_len: int, init_fn_offset: int, app_start_offset: int,
                 initial_kernel_memory_size: int, grant_count: int, min_app_ram: int,
                 booted: bool, program: Any = None,
                 writeable_flash_regions: tuple[tuple[int, int], ...] = (),
                 tbf: Any = None):
        self.index = index
        self.identifier = identifier
        self.name = name
        self.package = package
        self.short_id = short_id
        self.memory_start = memory_start
        self.memory_len = memory_len
        self.ram = bytearray(memory_len)
        self.flash_start = flash_start
        self.flash = flash
        self.header_len = header_len
        self.init_fn_offset = init_fn_offset
        self.app_start_offset = app_start_offset
        self.initial_kernel_memory_size = initial_kernel_memory_size
        self.grant_count = grant_count
        self.min_app_ram = min_app_ram
        self.booted = booted
        self.program = program
        self.writeable_flash_regions = writeable_flash_regions
        self.tbf = tbf
        # Kept across restarts.
        self.restart_count = 0
        self.completion_code: int | None = None
        self.has_terminated = False  # completion code is Some(..)
        self.debug_stack_start: int | None = None
        self.debug_heap_start: int | None = None
        self.mpu_regions: list[tuple[int, int]] = []  # legacy IPC's add_mpu_region, never removed
        # The MPU model's configuration (tockshell.kernel.mpu), set by the kernel; None on the flat MPU,
        # where the app break itself is the protection boundary.
        self.mpu_config: Any = None
        self.fault_reason: str | None = None
        self.state_before_fault: State | None = None
        self._reset_execution_state()
        self.state = YIELDED

    # -- per-execution state (cleared by reset) ----------------------------------
    def _reset_execution_state(self) -> None:
        self.app_break = self.memory_start + UKB_MINIMUM
        self.kernel_memory_break = self.memory_start + self.memory_len - self.initial_kernel_memory_size
        self.allow_high_water_mark = self.memory_start
        self.grants: list[Any] = [None] * self.grant_count  # grant pointer table, by grant number
        self.custom_grants: list[Any] = []
        self.tasks: deque = deque()
        self.syscall_count = 0
        # The last syscall as (tag, class, r0, r1, r2, r3) with 32-bit registers: on the hot path
        # this is the app's own request tuple, so recording it costs nothing (see last_syscall).
        self._last_call: tuple | None = None
        self.dropped_upcalls = 0
        self.timeslice_expirations = 0
        self.wait_for_ready = False
        self.sp = self.memory_start + SVC_FRAME_SIZE
        self.pending_return: Any = None  # what an app program's next resume receives
        self.pending_action: Any = None  # an app's syscall a breakpoint stopped before it was handled
        self.compute_left = 0  # ns of app computation still to run
        self.in_handler = 0  # depth of upcall handlers running (for `finish` and state sentences)

    # -- identity ------------------------------------------------------------------
    @property
    def identifier(self) -> int:
        return self._identifier

    @identifier.setter
    def identifier(self, value: int) -> None:
        # The ProcessId is built once per instance: capsules get it on every syscall.
        self._identifier = value
        self.pid = ProcessId(self.index, value)

    @property
    def last_syscall(self) -> "tuple[SyscallClass, tuple[int, int, int, int]] | None":
        """(SyscallClass, (r0, r1, r2, r3)) of the last syscall this instance made, or None."""
        c = self._last_call
        return None if c is None else (SyscallClass(c[1]), c[2:6])

    @last_syscall.setter
    def last_syscall(self, value) -> None:
        self._last_call = None if value is None else (None, value[0], *value[1])

    @property
    def memory_end(self) -> int:
        return self.memory_start + self.memory_len

    @property
    def flash_len(self) -> int:
        return len(self.flash)

    @property
    def flash_end(self) -> int:
        return self.flash_start + len(self.flash)

    @property
    def flash_non_protected_start(self) -> int:
        return self.flash_start + self.header_len

    @property
    def alive(self) -> bool:
        return self.state.alive

    @property
    def is_manual(self) -> bool:
        return self.program is None

    # -- readiness -----------------------------------------------------------------
    def ready(self) -> bool:
        """``ready()``: Running; Yielded with tasks; YieldedFor with its cached flag."""
        k = self.state.kind
        if k is StateKind.RUNNING:
            return True
        if k is StateKind.YIELDED:
            return bool(self.tasks)
        if k is StateKind.YIELDED_FOR:
            return self.wait_for_ready
        return False

    # -- memory ownership ------------------------------------------------------------
    def in_app_owned_memory(self, addr: int, size: int) -> bool:
        return self.memory_start <= addr and addr + size <= self.app_break and size >= 0

    @property
    def mpu_accessible_end(self) -> int:
        """The first RAM address the MPU denies the app: the app break, or the end of its last enabled subregion."""
        cfg = self.mpu_config
        return self.app_break if cfg is None else cfg.app_accessible_end

    def in_mpu_slack(self, addr: int, size: int) -> bool:
        """Above the app break but inside an enabled MPU subregion: the hardware lets the app touch it.

        The kernel's own checks (allow, upcall pointers) still stop at the app break.
        """
        cfg = self.mpu_config
        return (cfg is not None and size >= 0 and self.memory_start <= addr
                and addr + size <= cfg.app_accessible_end)

    def in_app_flash(self, addr: int, size: int) -> bool:
        return self.flash_non_protected_start <= addr and addr + size <= self.flash_end

    def is_valid_upcall_function_pointer(self, fn_ptr: int) -> bool:
        return self.in_app_flash(fn_ptr, 4) or self.in_app_owned_memory(fn_ptr, 4)

    def read(self, addr: int, size: int) -> bytes:
        """Bytes of RAM or flash (kernel view: any address of the process's blocks)."""
        if self.memory_start <= addr and addr + size <= self.memory_end:
            o = addr - self.memory_start
            return bytes(self.ram[o:o + size])
        if self.flash_start <= addr and addr + size <= self.flash_end:
            o = addr - self.flash_start
            return bytes(self.flash[o:o + size])
        raise MemoryFault(f"{addr:#x}+{size} is outside {self.name}'s RAM and flash")

    def write(self, addr: int, data: bytes) -> None:
        """Write RAM (kernel view: anywhere in the RAM block)."""
        if not (self.memory_start <= addr and addr + len(data) <= self.memory_end):
            raise MemoryFault(f"{addr:#x}+{len(data)} is outside {self.name}'s RAM")
        o = addr - self.memory_start
        self.ram[o:o + len(data)] = data

    # -- brk / sbrk (process_standard.rs brk/sbrk) -----------------------------------
    def brk(self, new_break: int) -> bool:
        if (new_break < self.allow_high_water_mark or new_break >= self.memory_end
                or new_break > self.kernel_memory_break):
            return False
        cfg = self.mpu_config
        if cfg is not None:
            cfg = cfg.update(new_break, self.kernel_memory_break)
            if cfg is None:
                return False  # the MPU cannot cover the new break without exposing grant memory
            self.mpu_config = cfg
        old = self.app_break
        if new_break > old:
            self.ram[old - self.memory_start:new_break - self.memory_start] = bytes(new_break - old)
        self.app_break = new_break
        return True

    # -- grants ----------------------------------------------------------------------
    def allocate_in_grant_region(self, size: int, align: int = 4) -> int | None:
        """Lower the kernel memory break by ``size`` (aligned down); None if it would cross the app break."""
        align = max(align, 2)
        new_break = (self.kernel_memory_break - size) & ~(align - 1)
        if new_break < self.app_break or new_break < self.memory_start:
            return None
        cfg = self.mpu_config
        if cfg is not None:
            # Tock re-runs update_app_memory_region with the lower kernel break: the app's enabled
            # subregions, not just its break, must stay below the grants.
            cfg = cfg.update(self.app_break, new_break)
            if cfg is None:
                return None
            self.mpu_config = cfg
        self.kernel_memory_break = new_break
        return new_break

    def grant_for_driver(self, driver_num: int):
        for g in self.grants:
            if g is not None and g.spec.driver_num == driver_num:
                return g
        return None

    @property
    def grants_allocated(self) -> int:
        return sum(1 for g in self.grants if g is not None)

    @property
    def grant_bytes(self) -> int:
        """Bytes of grant region in use (initial kernel break down to the current one)."""
        return (self.memory_end - self.initial_kernel_memory_size) - self.kernel_memory_break

    def __repr__(self) -> str:
        return f"<Process {self.name} [{self.identifier}] {self.state.debug()}>"
