"""The kernel: syscall dispatch, process lifecycle, upcall queues and the scheduler loop.

Mirrors ``kernel/src/kernel.rs`` (``handle_syscall``, ``do_process``,
``kernel_loop_operation``) and ``process_standard.rs`` for Tock 2.3 as coded.
Deterministic: virtual time in integer nanoseconds, no wall clock, no
unseeded randomness, so the same calls give the same trace byte for byte.

Public API (used by the language, the debugger, capsules and tests):

* build: ``Kernel(config)``, ``add_driver(driver)``, ``create_process(...)``;
* drive: ``syscall(p, cls, r0, r1, r2, r3)`` for a manual process,
  ``step()``, ``run(until=..., max_events=..., stop=...)``;
* lifecycle: ``fault``, ``terminate``, ``try_restart``, ``boot``, ``stop``, ``resume``;
* for capsules: ``enter_grant``, ``schedule_upcall``, ``allocate_custom_grant``,
  ``ro_buffer``/``rw_buffer``, ``schedule_hw``, ``add_process_state_hook``, ``note``.

Misuse from the API (unknown process, a syscall for a process that is not
Running) raises :class:`KernelAPIError` before anything changes.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Any, Callable, Iterable

import attrs

from ..abi import (FILTERED_CLASSES, MASK32, ErrorCode, SyscallClass, SyscallReturn,
                   YieldKind, YieldWaitForReturn, syscall_debug)
from . import gcpolicy
from .driver import SyscallDriver
from .grant import CustomGrant, GrantAllocation, GrantError, GrantSpec
from .mpu import FlatMpu, MpuLoadError
from .policies import FaultAction, FaultPolicy, PanicFaultPolicy
from .process import (FAULTED, UKB_MINIMUM, AppMemory, MemoryFault, RUNNING, TERMINATED, YIELDED, Process,
                      ProcessId, ShortId, StateKind, stopped, yielded_for)
from .scheduler import MIN_QUANTA_THRESHOLD_NS, RoundRobin, Scheduler
from .trace import Record
from .upcall import (TASK_QUEUE_CAPACITY, TASK_QUEUE_SLOTS, FunctionCall, IpcTask, ReturnValue,
                     UpcallError, UpcallId)

_CLASSES = tuple(SyscallClass)
_FILTERED = frozenset(int(c) for c in FILTERED_CLASSES)
_RUNNING = StateKind.RUNNING
_YIELDED = StateKind.YIELDED
_YIELDED_FOR = StateKind.YIELDED_FOR

_COMMAND = SyscallClass.COMMAND
_FOREVER = 1 << 100  # later than any time or count (an int: int-to-int compares are the cheapest)
#: Events between two collections of the young generation while run() holds the automatic collector.
#: Large on purpose: most objects of a run are log records, and a record that leaves the log (at
#: log_limit) before the next collection is never traversed at all.
_GC_EVERY = 1_000_000
_FAIL_NODEVICE = SyscallReturn.failure(ErrorCode.NODEVICE)
_RAISED = object()  # the app raised instead of acting: it has been faulted already
_new_record = object.__new__
_ACTION_ARITY = {"syscall": 6, "compute": 2, "sp": 2, "fault": 2}


def _malformed_action(action) -> str | None:
    """Why an app program's action cannot be carried out, or None if it can."""
    if (action.__class__ is tuple and len(action) == 6 and action[0] == "syscall" and action[1].__class__ is int
            and action[2].__class__ is int and action[3].__class__ is int and action[4].__class__ is int
            and action[5].__class__ is int):
        return None  # the usual case, without the general checks below
    if not isinstance(action, (tuple, list)) or not action:
        return f"app produced an unknown action {action!r}"
    tag = action[0]
    n = _ACTION_ARITY.get(tag) if isinstance(tag, str) else None
    if n is None:
        return f"app produced an unknown action {tag!r}"
    if len(action) != n:
        return f"app produced a malformed {tag} action {action!r} ({n - 1} values expected)"
    if tag == "fault":
        return None
    if not all(isinstance(v, int) for v in action[1:]):
        return f"app produced a {tag} action with a value that is not an integer: {action!r}"
    return None


#: Sizes of the kernel-owned structures at the top of each RAM block (32-bit target).
GRANT_POINTER_ENTRY_SIZE = 8
TASK_SIZE = 32
PROCESS_STRUCT_SIZE = 304


class KernelAPIError(Exception):
    """A bad request from the model's user (unknown process, wrong state, impossible value).

    The kernel is unchanged when this is raised.
    """


class KernelPanic(KernelAPIError):
    """The modelled kernel has panicked (e.g. PanicFaultPolicy); nothing more can run on it."""


def _align_up(x: int, a: int) -> int:
    return (x + a - 1) // a * a


@attrs.define
class CostModel:
    """What each kernel action costs in CPU cycles; time advances by cycles / cpu_hz.

    Defaults are round numbers for a 64 MHz Cortex-M4 (nRF52840-class); they
    make orders of magnitude right, not cycle counts exact. All configurable.
    """

    cpu_hz: int = 64_000_000
    syscall: int = 200          # trap, dispatch, return-value encode, MPU reconfig on return
    context_switch: int = 400   # switch_to_process + MPU setup for another process
    upcall: int = 150           # push the upcall frame
    copy_per_byte: int = 1      # memcpy between process buffers
    hw_event: int = 300         # interrupt top half + deferred call

    def ns(self, cycles: int) -> int:
        return cycles * 1_000_000_000 // self.cpu_hz


@attrs.define
class KernelConfig:
    """Switches. ``trd104`` follows TRD104's text where it differs from Tock's code."""

    num_procs: int = 16
    trd104: bool = False
    waitfor_flag_quirk: bool = True
    log_limit: int = 200_000
    costs: CostModel = attrs.Factory(CostModel)


@attrs.define
class Stats:
    """Counters for `stats` (reset with `stats reset`)."""

    syscalls: int = 0
    context_switches: int = 0
    upcalls_scheduled: int = 0
    upcalls_delivered: int = 0
    upcalls_dropped: int = 0
    null_events_dropped: int = 0
    bytes_copied: int = 0
    kernel_cycles: int = 0
    hw_events: int = 0
    faults: int = 0
    restarts: int = 0
    by_class: list = attrs.Factory(lambda: [0] * 8)  # syscalls per class number


class _HwEvent:
    __slots__ = ("time", "seq", "fn", "label", "cancelled")

    def __init__(self, time, seq, fn, label):
        self.time = time
        self.seq = seq
        self.fn = fn
        self.label = label
        self.cancelled = False

    def __lt__(self, other):
        return (self.time, self.seq) < (other.time, other.seq)

    def cancel(self) -> None:
        self.cancelled = True


class Kernel:
    """The modelled Tock kernel (one board)."""

    def __init__(self, config: KernelConfig | None = None, scheduler: Scheduler | None = None,
                 fault_policy: FaultPolicy | None = None, mpu: Any = None):
        self.config = config or KernelConfig()
        #: The chip's memory protection (``tockshell.kernel.mpu``): the board chooses it, the kernel only asks it.
        self.mpu = mpu if mpu is not None else FlatMpu()
        self.costs = self.config.costs
        self.scheduler: Scheduler = scheduler or RoundRobin()
        self.fault_policy: FaultPolicy = fault_policy or PanicFaultPolicy()
        self.drivers: dict[int, SyscallDriver] = {}
        self.grant_specs: list[GrantSpec] = []
        self.grants_finalized = False
        self.processes: list[Process | None] = [None] * self.config.num_procs
        #: Bumped whenever a slot of ``processes`` changes, so schedulers need not rescan it.
        self.process_generation = 0
        self._grant_holders: dict[int, int] = {}  # grant number -> live allocations, for grant_holder_count
        self.now = 0  # ns
        self.ev = 0   # scheduler events so far
        self.log: deque[Record] = deque(maxlen=self.config.log_limit)
        self.listeners: list[Callable[[Record], None]] = []
        self.stats = Stats()
        self.panicked: str | None = None
        self.syscall_filter: Callable[..., ErrorCode | None] | None = None
        # Debugger hooks (None costs nothing): syscall_hook(p, action) -> True stops before the kernel
        # handles an app's syscall (it stays pending on the process); delivery_hook(p) -> True stops
        # before an upcall is delivered (the task stays queued). Either returns True only after
        # arranging for the run to stop; the next step goes ahead.
        self.syscall_hook: Callable[[Process, tuple], bool] | None = None
        self.delivery_hook: Callable[[Process], bool] | None = None
        self.ipc = None  # the legacy IPC driver, which the kernel calls for Task::IPC
        self._hooks: list[Callable[[Process, ProcessId, str], None]] = []
        self._hw: list[_HwEvent] = []
        self._hw_seq = 0
        self._next_identifier = 0
        self._next_ram = 0x2000_0000
        self._next_flash = 0x0004_0000
        self.current: Process | None = None
        self.slice_end: int | None = None
        self.last_run: Process | None = None
        self.compute_ns_total = 0
        self._syscall_cycles = self.costs.syscall
        self._syscall_ns = self.costs.ns(self.costs.syscall)

    def costs_changed(self) -> None:
        """Call after changing ``config.costs``: the hot path caches the syscall cost."""
        self.costs = self.config.costs
        self._syscall_cycles = self.costs.syscall
        self._syscall_ns = self.costs.ns(self.costs.syscall)

    # ------------------------------------------------------------------ board building
    def add_driver(self, driver: SyscallDriver) -> None:
        """Register a capsule at its driver number (the board's ``SyscallDriverLookup``)."""
        if driver.driver_num in self.drivers:
            raise KernelAPIError(f"driver {driver.driver_num:#x} is already on this board")
        if driver.grant is not None and self.grants_finalized:
            # Checked before attaching so a refused driver leaves the board as it was.
            raise KernelAPIError("Grants finalized. Cannot create a new grant.")
        driver.attach(self)
        self.drivers[driver.driver_num] = driver
        if driver.grant is not None:
            self.create_grant(driver.grant)

    def set_mpu(self, mpu: Any) -> None:
        """Use another MPU model (a board profile's choice); only before the first process is loaded."""
        if any(p is not None for p in self.processes):
            raise KernelAPIError("the MPU is chosen before any process is loaded")
        self.mpu = mpu

    def create_grant(self, spec: GrantSpec) -> GrantSpec:
        if self.grants_finalized:
            raise KernelAPIError("Grants finalized. Cannot create a new grant.")
        spec.grant_num = len(self.grant_specs)
        self.grant_specs.append(spec)
        return spec

    def driver_named(self, name: str) -> SyscallDriver | None:
        for d in self.drivers.values():
            if d.name == name:
                return d
        return None

    @property
    def initial_kernel_memory_size(self) -> int:
        return (_align_up(len(self.grant_specs) * GRANT_POINTER_ENTRY_SIZE, 8)
                + _align_up(TASK_QUEUE_SLOTS * TASK_SIZE, 8) + _align_up(PROCESS_STRUCT_SIZE, 8))

    def kernel_structures(self) -> list[tuple[str, int]]:
        """(name, bytes) of the kernel-owned structures at the top of every RAM block, top first."""
        return [("grant ptrs", _align_up(len(self.grant_specs) * GRANT_POINTER_ENTRY_SIZE, 8)),
                ("task queue", _align_up(TASK_QUEUE_SLOTS * TASK_SIZE, 8)),
                ("process", _align_up(PROCESS_STRUCT_SIZE, 8))]

    # ------------------------------------------------------------------ processes
    def create_process(self, name: str, *, ram: int = 4096, grant: int = 2048, flash: int = 2048,
                       package: str | None = None, short_id: int | None = None,
                       program: Any = None, booted: bool = True, header_len: int | None = None,
                       flash_bytes: bytes | None = None, init_fn_offset: int | None = None,
                       app_start_offset: int | None = None, ram_address: int | None = None,
                       flash_address: int | None = None,
                       writeable_flash_regions: Iterable[tuple[int, int]] = (),
                       tbf: Any = None) -> Process:
        """Load a process as ``ProcessStandard::create`` does: Yielded, ``_start`` queued.

        ``booted`` processes are then started the libtock-c way: for a manual
        process the kernel delivers ``_start`` and runs crt0's memops now; an
        app program does that itself when the scheduler first runs it.
        """
        if self.panicked:
            raise KernelPanic(f"the kernel has panicked ({self.panicked})")
        if ram < 0 or grant < 0 or flash <= 0:
            raise KernelAPIError("ram, grant and flash sizes must be positive")
        if any(p is not None and p.name == name for p in self.processes):
            raise KernelAPIError(f"a process named '{name}' already exists")
        try:
            slot = self.processes.index(None)
        except ValueError:
            raise KernelAPIError(f"no free process slot (the board has {self.config.num_procs}; "
                                 f"config num_procs = N on a fresh board)") from None
        package = package if package is not None else name
        kmem = self.initial_kernel_memory_size
        min_ram = max(_align_up(ram, 4), 32)
        mpu = self.mpu
        if header_len is None:
            # TBF base header (16) + Main TLV (4+12) + PackageName TLV (4 + name, padded).
            header_len = 16 + 16 + 4 + _align_up(len(package.encode()), 4)
        if flash_bytes is None:
            flash_bytes = bytes(mpu.flash_size(_align_up(max(flash, header_len + 0x100), 4)))
        flash_start = flash_address if flash_address is not None else mpu.flash_address(self._next_flash,
                                                                                         len(flash_bytes))
        ram_hint = ram_address if ram_address is not None else self._next_ram
        if ram_hint < 0x1000 or flash_start < 0x1000:
            raise KernelAPIError("nothing of a process may lie below 0x1000")
        try:
            # The request is the TBF's minimum RAM (ram= plus the grant= budget, as elf2tab adds its
            # kernel heap) and the kernel's own structures; the MPU decides the block around it.
            layout = mpu.allocate(flash_start=flash_start, flash_len=len(flash_bytes), ram_start=ram_hint,
                                  ram_limit=self._free_ram_end(ram_hint), request=min_ram + _align_up(grant, 4) + kmem,
                                  initial_app_memory=UKB_MINIMUM, initial_kernel_memory=kmem,
                                  fixed_ram=ram_address is not None)
        except MpuLoadError as e:
            raise KernelAPIError(str(e)) from None
        memory_start, memory_len = layout.memory_start, layout.memory_len
        # A fixed address (a TBF's) near the top: no block may wrap past a 32-bit address.
        if memory_start + memory_len > 1 << 32:
            raise KernelAPIError(f"ProcessLoadError::NotEnoughMemory: the RAM block [{memory_start:#x}, "
                                 f"{memory_start + memory_len:#x}) would run past the 32-bit address space")
        if flash_start + len(flash_bytes) > 1 << 32:
            raise KernelAPIError(f"ProcessLoadError::BinaryError(NotEnoughFlash): flash [{flash_start:#x}, "
                                 f"{flash_start + len(flash_bytes):#x}) would run past the 32-bit address space")
        for p in self.processes:
            if p is None:
                continue
            if memory_start < p.memory_end and p.memory_start < memory_start + memory_len:
                raise KernelAPIError(f"RAM {memory_start:#x} overlaps {p.name}'s block")
            if flash_start < p.flash_end and p.flash_start < flash_start + len(flash_bytes):
                raise KernelAPIError(f"flash {flash_start:#x} overlaps {p.name}'s region")
        if app_start_offset is None:
            app_start_offset = header_len
        if init_fn_offset is None:
            init_fn_offset = header_len + 0x40 + 1  # thumb bit set, as elf2tab records it
        # Only now, with every check passed, may the kernel change (a refused load leaves no trace).
        self.grants_finalized = True
        p = Process(index=slot, identifier=self._new_identifier(), name=name, package=package,
                    short_id=ShortId(short_id), memory_start=memory_start, memory_len=memory_len,
                    flash_start=flash_start, flash=bytearray(flash_bytes), header_len=header_len,
                    init_fn_offset=init_fn_offset, app_start_offset=app_start_offset,
                    initial_kernel_memory_size=kmem, grant_count=len(self.grant_specs),
                    min_app_ram=min_ram, booted=booted, program=program,
                    writeable_flash_regions=tuple(writeable_flash_regions), tbf=tbf)
        p.mpu_config = layout.config
        self.processes[slot] = p
        self.process_generation += 1
        self._next_ram = max(self._next_ram, _align_up(memory_start + memory_len, 0x100))
        self._next_flash = max(self._next_flash, _align_up(flash_start + len(flash_bytes), 0x100))
        self._record("spawn", p, (slot,))
        self._queue_start(p)
        if program is not None and hasattr(program, "attach"):
            program.attach(AppMemory(p, self._ram_owner))
        if booted and program is None:
            self._boot_manual(p)
        return p

    def _free_ram_end(self, start: int) -> int:
        """End of the free RAM at ``start``: the next process's block above it (app RAM has no modelled end)."""
        end = 1 << 32
        for q in self.processes:
            if q is not None and start <= q.memory_start < end:
                end = q.memory_start
        return end

    def _new_identifier(self) -> int:
        i = self._next_identifier
        self._next_identifier += 1
        return i

    def _queue_start(self, p: Process) -> None:
        args = (p.flash_start + p.app_start_offset, p.memory_start, p.memory_len)
        p.tasks.append(FunctionCall(None, args, p.app_break, p.flash_start + p.init_fn_offset, self.now))

    def crt0_layout(self, p: Process) -> tuple[int, int, int]:
        """(stack_top, heap_start, app_break) as libtock-c's crt0 would set them.

        The stack sits lowest (libtock-c), at most 2 KiB or half the app RAM;
        the heap runs from the stack top to the minimum-RAM break.
        """
        # At least one stacked exception frame, or the first return value could not be written.
        stack = max(32, min(2048, _align_up(p.min_app_ram // 2, 8)))
        top = p.memory_start + stack
        return top, top, p.memory_start + p.min_app_ram

    def _boot_manual(self, p: Process) -> None:
        """Deliver ``_start`` and run crt0's memops for a manual booted process (visible in the trace)."""
        if p.state is not YIELDED or not p.tasks:
            return
        self._event()
        self._deliver_one(p)
        if p.state.kind is not _RUNNING:
            return
        stack_top, heap_start, brk = self.crt0_layout(p)
        for op, arg in ((0, brk), (10, stack_top), (11, heap_start)):
            self.syscall(p, SyscallClass.MEMOP, op, arg, 0, 0)
        p.sp = stack_top

    def process(self, ref) -> Process:
        """Resolve a name, a ProcessId (stale ones fail) or a Process; KernelAPIError otherwise."""
        if isinstance(ref, Process):
            return ref
        if isinstance(ref, ProcessId):
            p = self.lookup(ref)
            if p is None:
                raise KernelAPIError(f"process [{ref.identifier}] no longer exists (stale ProcessId)")
            return p
        for p in self.processes:
            if p is not None and p.name == ref:
                return p
        raise KernelAPIError(f"no process named '{ref}'")

    def lookup(self, pid: ProcessId) -> Process | None:
        """``processid_is_valid``: the slot is occupied and its current identifier matches."""
        if 0 <= pid.index < len(self.processes):
            p = self.processes[pid.index]
            if p is not None and p.identifier == pid.identifier:
                return p
        return None

    def live_processes(self) -> list[Process]:
        return [p for p in self.processes if p is not None]

    def _ram_owner(self, addr: int) -> Process | None:
        """The process whose RAM block holds ``addr`` (for memory an MPU region maps into another)."""
        for q in self.processes:
            if q is not None and q.memory_start <= addr < q.memory_end:
                return q
        return None

    def schedulable(self, p: Process) -> bool:
        """Ready, and not a manual process the shell user is driving."""
        k = p.state.kind
        if k is _RUNNING:
            return p.program is not None
        if k is _YIELDED:
            return bool(p.tasks)
        if k is _YIELDED_FOR:
            if self.config.waitfor_flag_quirk:
                return p.wait_for_ready
            return self._find_wait_for(p) is not None
        return False

    # ------------------------------------------------------------------ records
    def _record(self, kind: str, p: Process | None, data: tuple, pid: int | None = None) -> Record:
        if p is None:
            r = Record(self.ev, self.now, kind, pid, None, data)
        else:
            r = Record(self.ev, self.now, kind, p._identifier if pid is None else pid, p.name, data)
        self.log.append(r)
        if self.listeners:
            for fn in self.listeners:
                fn(r)
        return r

    def note(self, text: str, p: Process | None = None) -> None:
        """A model note (policy refusals, capsule explanations): shown by `explain` and `trace all`."""
        self._record("note", p, (text,))

    def _event(self) -> None:
        self.ev += 1

    def _charge(self, cycles: int) -> None:
        self.stats.kernel_cycles += cycles
        self.now += cycles * 1_000_000_000 // self.costs.cpu_hz

    def charge_copy(self, nbytes: int) -> None:
        """A capsule copied ``nbytes`` between processes: count and charge it."""
        self.stats.bytes_copied += nbytes
        self._charge(nbytes * self.costs.copy_per_byte)

    # ------------------------------------------------------------------ syscalls
    def syscall(self, p: Process | str | ProcessId, cls: int, r0: int = 0, r1: int = 0, r2: int = 0,
                r3: int = 0):
        """Issue one syscall for a *manual* process that is Running (the shell user's).

        Returns the SyscallReturn (None for yield and exit; a YieldWaitForReturn
        when a yield-wait-for is satisfied at once). A yield that finds a task
        already queued gets it in the same call, as ``do_process`` would: that
        delivery is a second event.
        """
        p = self.process(p)
        if self.panicked:
            raise KernelPanic(f"the kernel has panicked ({self.panicked})")
        if p.state.kind is not _RUNNING:
            raise KernelAPIError(f"{p.name} is {self.state_sentence(p)}; only a Running process "
                                 f"can make a syscall")
        if p.program is not None:
            raise KernelAPIError(f"{p.name} runs the app '{getattr(p.program, 'name', '?')}'; "
                                 f"its syscalls come from the app")
        self._event()
        result = self.execute(p, cls, r0, r1, r2, r3)
        if cls == SyscallClass.YIELD and p.state.kind is not _RUNNING and p.alive and self.schedulable(p):
            if self.delivery_hook is not None and self.delivery_hook(p):
                return result
            self._event()
            self._deliver_one(p)
            if p.state.kind is _RUNNING and isinstance(p.pending_return, YieldWaitForReturn):
                return p.pending_return
        return result

    def execute(self, p: Process, cls: int, r0: int, r1: int, r2: int, r3: int):
        """Decode and handle one raw syscall (``svc cls`` with r0..r3). Faults on an invalid class or yield."""
        r0 &= MASK32; r1 &= MASK32; r2 &= MASK32; r3 &= MASK32  # noqa: E702
        if not (0 <= cls <= 7):
            self.fault(p, f"invalid syscall class {cls}")
            return None
        if cls == 0 and r0 > 2:
            if self.config.trd104:  # TRD104 4.1: an invalid yield number returns immediately
                p.syscall_count += 1
                return None
            self.fault(p, f"invalid yield number {r0}")
            return None
        return self.handle_syscall(p, _CLASSES[cls], r0, r1, r2, r3)

    def handle_syscall(self, p: Process, cls: SyscallClass, r0: int, r1: int, r2: int, r3: int):
        """``Kernel::handle_syscall`` for a decoded syscall."""
        p.syscall_count += 1
        p._last_call = (None, cls, r0, r1, r2, r3)
        st = self.stats
        st.syscalls += 1
        st.by_class[cls] += 1
        st.kernel_cycles += self._syscall_cycles
        self.now += self._syscall_ns
        if self.syscall_filter is not None and cls in _FILTERED:
            err = self.syscall_filter(p, cls, r0, r1)
            if err is not None:
                self._record("filtered", p, (syscall_debug(cls, (r0, r1, r2, r3)), err))
                if self.config.trd104:
                    r = self._trd_failure(cls, err, r2, r3)
                else:
                    r = SyscallReturn.failure(err)
                self._set_return(p, r)
                return r
        if cls == 2:  # Command: the hot path, so first and with plain int compares
            drv = self.drivers.get(r0)
            r = drv.command(r1, r2, r3, p.pid) if drv is not None else SyscallReturn.failure(ErrorCode.NODEVICE)
            self._record("cmd", p, (r0, r1, r2, r3, r))
            self._set_return(p, r)
            return r
        if cls == SyscallClass.YIELD:
            return self._yield(p, r0, r1, r2)
        if cls == SyscallClass.SUBSCRIBE:
            return self._subscribe(p, r0, r1, r2, r3)
        if cls in (SyscallClass.ALLOW_RW, SyscallClass.ALLOW_RO, SyscallClass.ALLOW_UR):
            return self._allow(p, cls, r0, r1, r2, r3)
        if cls == SyscallClass.MEMOP:
            r = self._memop(p, r0, r1)
            self._record("memop", p, (r0, r1, r))
            self._set_return(p, r)
            return r
        return self._exit(p, r0, r1)

    @staticmethod
    def _trd_failure(cls, err, a, b):
        kind = {SyscallClass.SUBSCRIBE: "SubscribeFailure", SyscallClass.ALLOW_RW: "AllowReadWriteFailure",
                SyscallClass.ALLOW_RO: "AllowReadOnlyFailure",
                SyscallClass.ALLOW_UR: "UserspaceReadableAllowFailure"}.get(cls)
        return SyscallReturn.failure(err) if kind is None else SyscallReturn.of_kind(kind, (a, b), err)

    def _set_return(self, p: Process, r) -> None:
        """``set_syscall_return_value``: Running again; faults if the stacked frame is not writable."""
        sp = p.sp
        if sp > p.app_break or sp - 32 < p.memory_start:
            self.fault(p, "the syscall return value could not be written: the stacked frame at "
                          f"{p.sp - 32:#x} is outside the app's memory (app break {p.app_break:#x})")
            return
        p.state = RUNNING
        p.wait_for_ready = False
        p.pending_return = r

    # -- yield ------------------------------------------------------------------------
    def _yield(self, p: Process, which: int, a: int, b: int):
        kind = YieldKind(which)
        self._record("yield", p, (kind,))
        if kind is YieldKind.NO_WAIT:
            has_tasks = bool(p.tasks)
            if a and p.in_app_owned_memory(a, 1):
                p.ram[a - p.memory_start] = 1 if has_tasks else 0
            if has_tasks:
                p.state = YIELDED
                p.in_handler = 0
            else:
                p.pending_return = None
        elif kind is YieldKind.WAIT:
            p.state = YIELDED
            p.in_handler = 0
        else:
            uid = UpcallId(a, b)
            p.state = yielded_for(uid)
            p.in_handler = 0
            p.wait_for_ready = self._find_wait_for(p) is not None
        return None

    def _find_wait_for(self, p: Process) -> int | None:
        uid = p.state.wait_for
        for i, t in enumerate(p.tasks):
            if t.upcall_id == uid and t.kind != "IPC":
                return i
        return None

    # -- subscribe --------------------------------------------------------------------
    def _subscribe(self, p: Process, drv_num: int, sub: int, fn: int, appdata: int):
        trd = self.config.trd104
        drv = self.drivers.get(drv_num)
        if fn != 0 and not p.is_valid_upcall_function_pointer(fn):
            r = SyscallReturn.of_kind("SubscribeFailure", (fn, appdata), ErrorCode.INVAL)
        elif drv is None:
            # Tock's code echoes the passed values; TRD104 4.2.1 says the Null Upcall.
            r = SyscallReturn.of_kind("SubscribeFailure", (0, 0) if trd else (fn, appdata),
                                      ErrorCode.NODEVICE)
        else:
            g = self._grant_with_retry(p, drv)
            if g is None:
                r = SyscallReturn.of_kind("SubscribeFailure", (fn, appdata), ErrorCode.NOMEM)
            elif sub >= g.spec.upcalls:
                r = SyscallReturn.of_kind("SubscribeFailure", (fn, appdata),
                                          ErrorCode.INVAL if trd else ErrorCode.NOSUPPORT)
            else:
                old_fn, old_data = g.upcalls[sub]
                g.upcalls[sub] = (fn, appdata)
                g.write_slot(p.ram, p.memory_start, "upcall", sub, appdata, fn)
                r = SyscallReturn.of_kind("SubscribeSuccess", (old_fn, old_data))
        # Tock clears pending upcalls before it prints the subscribe line (kernel.rs),
        # so the remove_pending_upcalls trace line comes first.
        if r.is_success:
            self.remove_pending_upcalls(p, UpcallId(drv_num, sub))
        self._record("subscribe", p, (drv_num, sub, fn, appdata, r))
        self._set_return(p, r)
        return r

    def _grant_with_retry(self, p: Process, drv: SyscallDriver) -> GrantAllocation | None:
        g = p.grant_for_driver(drv.driver_num)
        if g is not None:
            return g
        before = p.grants_allocated
        drv.allocate_grant(p.pid)
        if p.grants_allocated == before:
            self._record("grant_warn", p, (drv.driver_num,))
            return None
        g = p.grant_for_driver(drv.driver_num)
        if g is None:
            self._record("grant_error", p, (drv.driver_num,))
        return g

    # -- allow ------------------------------------------------------------------------
    _ALLOW_KINDS = {SyscallClass.ALLOW_RW: ("AllowReadWriteSuccess", "AllowReadWriteFailure", "allow_rw"),
                    SyscallClass.ALLOW_RO: ("AllowReadOnlySuccess", "AllowReadOnlyFailure", "allow_ro"),
                    SyscallClass.ALLOW_UR: ("UserspaceReadableAllowSuccess", "UserspaceReadableAllowFailure",
                                            "allow_ur")}

    def _allow(self, p: Process, cls: SyscallClass, drv_num: int, num: int, addr: int, size: int):
        ok_kind, fail_kind, rec = self._ALLOW_KINDS[cls]
        drv = self.drivers.get(drv_num)
        if drv is None:
            r = SyscallReturn.of_kind(fail_kind, (addr, size), ErrorCode.NODEVICE)
        elif not self._validate_buffer(p, cls, addr, size):
            r = SyscallReturn.of_kind(fail_kind, (addr, size), ErrorCode.INVAL)
        elif cls == SyscallClass.ALLOW_UR:
            r = drv.allow_userspace_readable(p.pid, num, addr, size)
        else:
            g = self._grant_with_retry(p, drv)
            slots = None if g is None else (g.allow_rw if cls == SyscallClass.ALLOW_RW else g.allow_ro)
            if g is None:
                r = SyscallReturn.of_kind(fail_kind, (addr, size), ErrorCode.NOMEM)
            elif num >= len(slots):
                r = SyscallReturn.of_kind(fail_kind, (addr, size),
                                          ErrorCode.INVAL if self.config.trd104 else ErrorCode.NOSUPPORT)
            else:
                old = slots[num]
                slots[num] = (addr, size)
                g.write_slot(p.ram, p.memory_start, "rw" if cls == SyscallClass.ALLOW_RW else "ro", num,
                             addr, size)
                r = SyscallReturn.of_kind(ok_kind, old)
        self._record(rec, p, (drv_num, num, addr, size, r))
        self._set_return(p, r)
        return r

    def _validate_buffer(self, p: Process, cls: SyscallClass, addr: int, size: int) -> bool:
        if size == 0:
            return True
        if addr + size > 1 << 32:
            return False
        if p.in_app_owned_memory(addr, size):
            if addr + size > p.allow_high_water_mark:
                p.allow_high_water_mark = addr + size
            return True
        return cls == SyscallClass.ALLOW_RO and p.in_app_flash(addr, size)

    # -- memop ------------------------------------------------------------------------
    def _memop(self, p: Process, op: int, arg: int) -> SyscallReturn:
        if op == 0:
            return SyscallReturn.success() if p.brk(arg) else SyscallReturn.failure(ErrorCode.NOMEM)
        if op == 1:
            old = p.app_break
            # Tock offsets the break pointer by the signed increment: on a 32-bit chip that is
            # unsigned addition wrapping at 2^32, never a negative address.
            if p.brk((old + arg) & MASK32):
                return SyscallReturn.of_kind("SuccessPtr", (old,))
            return SyscallReturn.failure(ErrorCode.NOMEM)
        if op == 2:
            return SyscallReturn.of_kind("SuccessPtr", (p.memory_start,))
        if op == 3:
            return SyscallReturn.of_kind("SuccessPtr", (p.memory_end,))
        if op == 4:
            return SyscallReturn.of_kind("SuccessPtr", (p.flash_start,))
        if op == 5:
            return SyscallReturn.of_kind("SuccessPtr", (p.flash_end,))
        if op == 6:
            return SyscallReturn.of_kind("SuccessAddr", (p.kernel_memory_break,))
        if op == 7:
            return SyscallReturn.success_u32(len(p.writeable_flash_regions))
        if op in (8, 9):
            if arg >= len(p.writeable_flash_regions) or p.writeable_flash_regions[arg][1] == 0:
                return SyscallReturn.failure(ErrorCode.FAIL)
            off, size = p.writeable_flash_regions[arg]
            return SyscallReturn.of_kind("SuccessPtr", (p.flash_start + off + (size if op == 9 else 0),))
        if op in (10, 11):
            if p.memory_start <= arg < p.memory_end:
                if op == 10:
                    p.debug_stack_start = arg
                else:
                    p.debug_heap_start = arg
            return SyscallReturn.success()
        return SyscallReturn.failure(ErrorCode.NOSUPPORT)

    # -- exit -------------------------------------------------------------------------
    def _exit(self, p: Process, which: int, code: int):
        if which == 0:
            self._record("exit", p, (which, code, None))
            self.terminate(p, code, cause="terminated")
            return None
        if which == 1:
            self._record("exit", p, (which, code, None))
            self.try_restart(p, code, cause="restarted")
            return None
        r = SyscallReturn.failure(ErrorCode.NOSUPPORT)
        self._record("exit", p, (which, code, r))
        self._set_return(p, r)
        return r

    # ------------------------------------------------------------------ upcalls (for capsules)
    def schedule_upcall(self, pid: ProcessId | Process, driver_num: int, subscribe_num: int,
                        args: tuple[int, int, int]) -> UpcallError | None:
        """``GrantKernelData::schedule_upcall``: None on success, else the UpcallError."""
        p = pid if isinstance(pid, Process) else self.lookup(pid)
        if p is None:
            return UpcallError.KERNEL_ERROR
        g = p.grant_for_driver(driver_num)
        if g is None:
            return UpcallError.KERNEL_ERROR
        if subscribe_num >= g.spec.upcalls:
            self._record("bad_subscribe", p, (driver_num, subscribe_num))
            return UpcallError.INVALID_SUBSCRIBE_NUM
        fn, appdata = g.upcalls[subscribe_num]
        a0, a1, a2 = args[0] & MASK32, args[1] & MASK32, args[2] & MASK32
        uid = UpcallId(driver_num, subscribe_num)
        task = (ReturnValue(uid, (a0, a1, a2), self.now) if fn == 0
                else FunctionCall(uid, (a0, a1, a2), appdata, fn, self.now))
        err = self._enqueue(p, task)
        self._record("schedule", p, (driver_num, subscribe_num, fn, a0, a1, a2, appdata,
                                     "Ok(())" if err is None else f"Err({err.value})"))
        return err

    def _enqueue(self, p: Process, task) -> UpcallError | None:
        if not p.alive:
            return UpcallError.KERNEL_ERROR
        if len(p.tasks) >= TASK_QUEUE_CAPACITY:
            p.dropped_upcalls += 1
            self.stats.upcalls_dropped += 1
            return UpcallError.QUEUE_FULL
        p.tasks.append(task)
        self.stats.upcalls_scheduled += 1
        st = p.state
        if st.kind is _YIELDED_FOR and task.kind != "IPC":
            # Overwritten on every enqueue: Tock's quirk (process_standard.rs enqueue_task).
            p.wait_for_ready = task.upcall_id == st.wait_for
        return None

    def enqueue_ipc_task(self, target: Process, caller: ProcessId, ipc_type) -> ErrorCode | None:
        """Legacy IPC notify: ``Task::IPC`` on the target (NODEVICE if dead, NOMEM if full)."""
        if not target.alive:
            return ErrorCode.NODEVICE
        if len(target.tasks) >= TASK_QUEUE_CAPACITY:
            target.dropped_upcalls += 1
            self.stats.upcalls_dropped += 1
            # A record, as a dropped upcall has its `schedule` one: `catch dropped` and `trace all` see it.
            self._record("ipc_dropped", target, (ipc_type.value, caller.identifier))
            return ErrorCode.NOMEM
        target.tasks.append(IpcTask(caller, ipc_type, self.now))
        return None

    def remove_pending_upcalls(self, p: Process, uid: UpcallId) -> int:
        """Delete every queued FunctionCall from ``uid`` (ReturnValue events stay, as in Tock)."""
        before = len(p.tasks)
        if before:
            kept = [t for t in p.tasks if not (t.kind == "FunctionCall" and t.source == uid)]
            if len(kept) != before:
                p.tasks.clear()
                p.tasks.extend(kept)
        n = before - len(p.tasks)
        self._record("remove_pending", p, (uid.driver_num, uid.subscribe_num, n))
        return n

    def remove_upcall(self, p: Process, uid: UpcallId, args: tuple[int, int, int] | None = None) -> bool:
        """Remove the first pending task for ``uid`` (``remove_upcall``).

        ``args`` narrows it to the task carrying exactly those three arguments,
        for a capsule that must withdraw one particular upcall among several.
        """
        for i, t in enumerate(p.tasks):
            if t.upcall_id == uid and t.kind != "IPC" and (args is None or t.args == args):
                del p.tasks[i]
                return True
        return False

    # ------------------------------------------------------------------ grants (for capsules)
    def enter_grant(self, pid: ProcessId | Process, driver: SyscallDriver) -> GrantAllocation:
        """``Grant::enter``: the process's allocation for the driver, allocating it on first use.

        Raises GrantError('NoSuchApp' | 'InactiveApp' | 'OutOfMemory').
        """
        p = pid if isinstance(pid, Process) else self.lookup(pid)
        if p is None:
            raise GrantError("NoSuchApp")
        if not p.alive:
            raise GrantError("InactiveApp")
        spec = driver.grant
        g = p.grants[spec.grant_num]
        if g is not None:
            return g
        addr = p.allocate_in_grant_region(spec.size, 4)
        if addr is None:
            raise GrantError("OutOfMemory")
        g = GrantAllocation(spec, addr)
        g.write_header(p.ram, p.memory_start)
        p.grants[spec.grant_num] = g
        self._grant_holders[spec.grant_num] = self._grant_holders.get(spec.grant_num, 0) + 1
        self._record("grant_alloc", p, (spec.driver_num, addr, spec.size))
        return g

    def grant_holder_count(self, driver: SyscallDriver) -> int:
        """How many live processes hold an allocation of ``driver``'s grant (O(1): for crash callbacks)."""
        return self._grant_holders.get(driver.grant.grant_num, 0)

    def grant_of(self, pid: ProcessId | Process, driver: SyscallDriver) -> GrantAllocation | None:
        """The allocation if it exists (no allocation), like ``Grant::iter`` sees it."""
        p = pid if isinstance(pid, Process) else self.lookup(pid)
        if p is None or not p.alive:
            return None
        return p.grants[driver.grant.grant_num]

    def allocate_custom_grant(self, pid: ProcessId | Process, driver: SyscallDriver, size: int,
                              tag: str, align: int = 4) -> CustomGrant:
        """A dynamically sized block in the grant region (``GrantRegionAllocator``); never freed before reset."""
        p = pid if isinstance(pid, Process) else self.lookup(pid)
        if p is None:
            raise GrantError("NoSuchApp")
        if not p.alive:
            raise GrantError("InactiveApp")
        addr = p.allocate_in_grant_region(_align_up(size, 4), align)
        if addr is None:
            raise GrantError("OutOfMemory")
        p.ram[addr - p.memory_start:addr - p.memory_start + size] = bytes(size)
        cg = CustomGrant(driver.driver_num, addr, _align_up(size, 4), tag)
        p.custom_grants.append(cg)
        self._record("custom_grant", p, (driver.driver_num, addr, cg.size, tag))
        return cg

    def ro_buffer(self, pid: ProcessId | Process, driver: SyscallDriver, num: int) -> tuple[int, int]:
        """(addr, len) of a read-only allow; (0, 0) if nothing is allowed or the process is gone."""
        g = self.grant_of(pid, driver)
        if g is None or num >= len(g.allow_ro):
            return (0, 0)
        return g.allow_ro[num]

    def rw_buffer(self, pid: ProcessId | Process, driver: SyscallDriver, num: int) -> tuple[int, int]:
        g = self.grant_of(pid, driver)
        if g is None or num >= len(g.allow_rw):
            return (0, 0)
        return g.allow_rw[num]

    def read_buffer(self, pid: ProcessId | Process, addr: int, length: int) -> bytes:
        p = pid if isinstance(pid, Process) else self.lookup(pid)
        if p is None or length == 0:
            return b""
        return p.read(addr, length)

    def write_buffer(self, pid: ProcessId | Process, addr: int, data: bytes) -> None:
        p = pid if isinstance(pid, Process) else self.lookup(pid)
        if p is not None and data:
            p.write(addr, data)

    # ------------------------------------------------------------------ hardware events
    def schedule_hw(self, delay_ns: int, fn: Callable[[], str | None], label: str = "") -> _HwEvent:
        """Run ``fn`` as kernel work (an interrupt plus its deferred call) ``delay_ns`` from now.

        ``fn`` may return a sentence for the log.
        """
        self._hw_seq += 1
        e = _HwEvent(self.now + max(0, delay_ns), self._hw_seq, fn, label)
        heapq.heappush(self._hw, e)
        return e

    def next_hw_time(self) -> int | None:
        while self._hw and self._hw[0].cancelled:
            heapq.heappop(self._hw)
        return self._hw[0].time if self._hw else None

    def hardware_event(self, fn: Callable[[], str | None], label: str = "") -> None:
        """Handle an external event now (a button press, console input): one scheduler event."""
        if self.panicked:
            raise KernelPanic(f"the kernel has panicked ({self.panicked})")
        self._hw_run(fn, label)

    def _hw_run(self, fn: Callable[[], str | None], label: str) -> None:
        # The record goes in first so the upcalls the handler schedules follow it in the log.
        self._event()
        self.stats.hw_events += 1
        self._charge(self.costs.hw_event)
        rec = self._record("hw", None, (label,))
        text = fn()
        if text:
            rec.data = (text,)

    # ------------------------------------------------------------------ lifecycle
    def _refuse_if_panicked(self) -> None:
        if self.panicked:
            raise KernelPanic(f"the kernel has panicked ({self.panicked}); nothing more runs on this board")

    def add_process_state_hook(self, fn: Callable[[Process, ProcessId, str], None]) -> None:
        """Call ``fn(process, old_pid, cause)`` whenever a process instance ends.

        ``cause`` is 'faulted', 'terminated' or 'restarted'; it fires once, when
        the instance's grants are wiped (the "callback when any process changes").
        """
        self._hooks.append(fn)

    def fault(self, p: Process | str, reason: str = "forced by the user") -> None:
        """``set_fault_state`` and the fault policy."""
        self._refuse_if_panicked()
        p = self.process(p)
        if not p.alive:
            raise KernelAPIError(f"{p.name} is {p.state.name}: only a live process can fault")
        self.stats.faults += 1
        p.fault_reason = reason
        p.state_before_fault = p.state
        action = self.fault_policy.action(p)
        self._record("fault", p, (reason, action.value))
        if action is FaultAction.PANIC:
            p.state = FAULTED
            self.panicked = f"Process {p.name} had a fault"
            self._record("panic", p, (self.panicked,))
            if self.current is p:
                self.current = None
        elif action is FaultAction.RESTART:
            self.try_restart(p, None, cause="faulted")
        else:
            self.terminate(p, None, cause="faulted")
            p.state = FAULTED

    def terminate(self, p: Process | str, code: int | None = None, cause: str = "terminated") -> None:
        """``terminate``: queue emptied, grants forgotten, completion code stored, Terminated."""
        self._refuse_if_panicked()
        p = self.process(p)
        if p.state.kind is StateKind.TERMINATED:
            raise KernelAPIError(f"{p.name} is already Terminated")
        old = p.pid
        p.tasks.clear()
        for g in p.grants:
            if g is not None:
                self._grant_holders[g.spec.grant_num] -= 1
        p.grants = [None] * p.grant_count
        p.completion_code = code
        p.has_terminated = True
        p.state = TERMINATED
        p.in_handler = 0
        p.compute_left = 0
        if self.current is p:
            # do_process ends with NoWorkLeft: round robin moves the process to the tail.
            self.scheduler.result(p, "no_work")
            self.current = None
        if cause != "restarted" and cause != "faulted":
            self._record("terminate", p, (code,))
        for h in self._hooks:
            h(p, old, cause)

    def try_restart(self, p: Process | str, code: int | None = None, cause: str = "restarted") -> None:
        """``try_restart``: terminate, then ``reset``; new ProcessId, ``_start`` queued (not when Terminated)."""
        self._refuse_if_panicked()
        p = self.process(p)
        if p.state.kind is StateKind.TERMINATED:
            # Tock's try_restart does nothing to a Terminated process: only start() (boot) may.
            raise KernelAPIError(f"{p.name} is Terminated; restart needs a live or faulted process "
                                 f"(`boot` starts a Terminated one)")
        # do_process carries on with the restarted process (it is ready: _start is queued),
        # in the same timeslice and without a trip to the tail of the scheduler's list.
        running = self.current is p
        if running:
            self.current = None
        self.terminate(p, code, cause=cause)
        self._reset(p)
        if running:
            self.current = p
        self.stats.restarts += 1
        self._record("restart", p, (p.identifier, p.restart_count))
        if p.booted and p.program is None:
            self._boot_manual(p)

    def boot(self, p: Process | str) -> None:
        """Process console ``boot``: start a Terminated process (reset, new ProcessId)."""
        self._refuse_if_panicked()
        p = self.process(p)
        if p.state.kind is not StateKind.TERMINATED:
            raise KernelAPIError(f"{p.name} is {p.state.name}; boot starts only a Terminated process "
                                 f"(terminate it first, or use restart)")
        self._reset(p)
        self._record("boot", p, (p.identifier,))
        if p.booted and p.program is None:
            self._boot_manual(p)

    def _reset(self, p: Process) -> None:
        p.identifier = self._new_identifier()
        p._reset_execution_state()
        p.mpu_config = self.mpu.reset_config(p, UKB_MINIMUM)
        p.restart_count += 1
        p.state = YIELDED
        p.fault_reason = None
        if p.program is not None and hasattr(p.program, "reset"):
            p.program.reset()
        self._queue_start(p)

    def stop(self, p: Process | str) -> None:
        self._refuse_if_panicked()
        p = self.process(p)
        if p.state.kind not in (_RUNNING, _YIELDED, _YIELDED_FOR):
            raise KernelAPIError(f"{p.name} is {p.state.name}; only a Running or Yielded process can be stopped")
        prev = p.state
        p.state = stopped(prev)
        if self.current is p:
            self.scheduler.result(p, "stopped")
            self.current = None
        self._record("stop", p, (prev.debug(),))

    def resume(self, p: Process | str) -> None:
        self._refuse_if_panicked()
        p = self.process(p)
        if p.state.kind is not StateKind.STOPPED:
            raise KernelAPIError(f"{p.name} is {p.state.name}, not Stopped; start resumes a stopped process")
        p.state = p.state.previous
        if p.state.kind is _YIELDED_FOR:
            p.wait_for_ready = self._find_wait_for(p) is not None
        self._record("resume", p, (p.state.debug(),))

    # ------------------------------------------------------------------ delivery
    def _deliver_one(self, p: Process) -> None:
        """One ``do_process`` action for a Yielded or YieldedFor process."""
        k = p.state.kind
        if k is _YIELDED:
            t = p.tasks.popleft()
            if t.kind == "FunctionCall":
                self._charge(self.costs.upcall)
                self.stats.upcalls_delivered += 1
                p.state = RUNNING
                p.in_handler = 0 if t.source is None else 1  # _start is not a handler: main runs on
                p.pending_return = None
                label = ""
                if t.source is None:
                    label = "_start"
                self._record("function_call", p, (t.pc, *t.args, t.appdata, label,
                                                  None if t.source is None else t.source))
                if p.program is not None:
                    if t.source is None:
                        p.program.start(t.pc, (*t.args, t.appdata))
                    else:
                        p.program.upcall(t.pc, (*t.args, t.appdata))
            elif t.kind == "ReturnValue":
                self.stats.null_events_dropped += 1
                self._record("null_dropped", p, (t.upcall_id.driver_num, t.upcall_id.subscribe_num))
                # do_process breaks out here (NoWorkLeft): the scheduler rotates even if
                # more tasks are queued behind the dropped event.
                if self.current is p:
                    self.scheduler.result(p, "no_work")
                    self.current = None
            else:
                self._record("ipc_task", p, (t.ipc_type.value, t.caller.identifier))
                if self.ipc is not None:
                    self.ipc.deliver_ipc_task(p, t)
        elif k is _YIELDED_FOR:
            i = self._find_wait_for(p)
            if i is None:
                p.wait_for_ready = False
                return
            t = p.tasks[i]
            del p.tasks[i]
            self.stats.upcalls_delivered += 1
            if t.kind == "ReturnValue":
                self._record("waitfor_nu", p, t.args)
            else:
                self._record("waitfor_suppressed", p, (t.pc, *t.args, t.appdata))
            self._set_return(p, YieldWaitForReturn(t.args))

    # ------------------------------------------------------------------ the scheduler loop
    def step(self, limit: int | None = None) -> bool:
        """Advance until one scheduler event happens (or virtual time reaches ``limit``).

        Returns True if an event happened, False if nothing could happen before
        ``limit`` (time is then at ``limit``) or at all (``limit`` None: idle).
        """
        hw = self._hw
        sched = self.scheduler
        while True:
            if self.panicked:
                return False
            while hw and hw[0].cancelled:
                heapq.heappop(hw)
            hw_t = hw[0].time if hw else None
            now = self.now
            if hw_t is not None and hw_t <= now:
                e = heapq.heappop(hw)
                self._hw_run(e.fn, e.label)
                return True
            if limit is not None and now >= limit:
                return False
            p = self.current
            if p is not None:
                st = p.state.kind
                if not ((st is _RUNNING and p.program is not None) or self.schedulable(p)):
                    sched.result(p, "no_work")
                    self.current = p = None
                elif self.slice_end is not None and self.slice_end - now <= MIN_QUANTA_THRESHOLD_NS:
                    p.timeslice_expirations += 1
                    sched.result(p, "expired")
                    self.current = None
                    self.ev += 1
                    self._record("timeslice", p, ())
                    return True
                elif sched.preemptive and not sched.continue_process(p, self):
                    self.current = p = None
            if p is None:
                p = sched.next(self)
                if p is None:
                    if hw_t is not None and (limit is None or hw_t <= limit):
                        self.now = max(now, hw_t)
                        continue
                    if limit is not None and limit > now:
                        self.now = limit
                    return False
                self.current = p
                ts = sched.timeslice_ns
                self.slice_end = None if ts is None else now + ts
                if p is not self.last_run:
                    self.stats.context_switches += 1
                    self._charge(self.costs.context_switch)
                    self.last_run = p
            if p.state.kind is not _RUNNING:
                if self.delivery_hook is not None and self.delivery_hook(p):
                    return True
                self.ev += 1
                self._deliver_one(p)
                return True
            # A Running app program.
            if p.compute_left:
                horizon = now + p.compute_left
                if hw_t is not None and hw_t < horizon:
                    horizon = hw_t
                if self.slice_end is not None and self.slice_end < horizon:
                    horizon = self.slice_end
                if limit is not None and limit < horizon:
                    horizon = limit
                if horizon <= now:
                    return False
                p.compute_left -= horizon - now
                self.compute_ns_total += horizon - now
                self.now = horizon
                continue
            self._run_app(p)
            return True

    def _run_app(self, p: Process) -> None:
        """Ask the app for its next action: a syscall (one event), a computation, or a fault."""
        self._app_burst(p, 1, _FOREVER, None)

    def _app_burst(self, p: Process, budget, deadline, stop: Callable[[], bool] | None) -> int:
        """Let the running app ``p`` act, one event per action, while nothing else could happen.

        It goes on while step() would also pick ``p`` for the next event: at most
        ``budget`` events, while time is before ``deadline`` (the caller's limit,
        the next hardware event, the end of the timeslice), while ``p`` stays the
        Running process with no computation to finish and no new hardware event
        has been scheduled. ``stop()`` is asked after every event; the count of
        events is negative when it said yes.
        """
        hw_seq = self._hw_seq
        prog = p.program
        n = 0
        while True:
            n += 1
            self.ev += 1
            pending = p.pending_action
            try:
                # A syscall a breakpoint stopped before it was handled: the app is not asked again.
                action = pending or prog.resume(p.pending_return)
            except MemoryFault as exc:
                self.fault(p, f"memory fault: {exc}")
                action = _RAISED
            except Exception as exc:  # an app bug faults the process, as a hard fault would
                self.fault(p, f"app raised {type(exc).__name__}: {exc}")
                action = _RAISED
            if action is not _RAISED:
                if pending is not None:
                    p.pending_action = None
                elif self.syscall_hook is not None and self._stop_before(p, action):
                    return -n if stop is not None and stop() else n - 1
                # The hot path: an unfiltered command with in-range registers, handled here.
                # It does what execute() -> handle_syscall() -> _record() -> _set_return() do
                # for a command, in the same order; tests compare its trace with theirs.
                # (A tuple first: unpacking anything else could run the app's code, a generator.)
                hot = False
                if action.__class__ is tuple and len(action) == 6:
                    tag, cls, r0, r1, r2, r3 = action
                    try:
                        hot = (r0.__class__ is r1.__class__ is r2.__class__ is r3.__class__ is int and cls == 2
                               and tag == "syscall" and not (r0 | r1 | r2 | r3) >> 32
                               and self.syscall_filter is None)
                    except Exception:  # noqa: BLE001 - a strange object in the request: the general path says why
                        hot = False
                if hot:
                    p.syscall_count += 1
                    p._last_call = action  # its registers are in range: checked above
                    st = self.stats
                    st.syscalls += 1
                    st.by_class[2] += 1
                    st.kernel_cycles += self._syscall_cycles
                    self.now += self._syscall_ns
                    drv = self.drivers.get(r0)
                    r = drv.command(r1, r2, r3, p.pid) if drv is not None else _FAIL_NODEVICE
                    # Record(...) without the call of its __init__ (a Python frame of its own in 3.11).
                    rec = _new_record(Record)
                    rec.ev = self.ev
                    rec.time = self.now
                    rec.kind = "cmd"
                    rec.pid = p._identifier
                    rec.name = p.name
                    rec.data = (r0, r1, r2, r3, r)
                    self.log.append(rec)
                    if self.listeners:
                        for fn in self.listeners:
                            fn(rec)
                    sp = p.sp
                    if sp > p.app_break or sp - 32 < p.memory_start:
                        p.pending_return = None
                        self._set_return(p, r)  # faults the process
                    else:
                        p.state = RUNNING
                        p.wait_for_ready = False
                        p.pending_return = r
                else:
                    p.pending_return = None
                    self._app_action(p, action)
            if stop is not None and stop():
                return -n
            if (n >= budget or self.now >= deadline or p.state is not RUNNING or self.current is not p
                    or p.compute_left or self._hw_seq != hw_seq or self.panicked):
                return n

    def _stop_before(self, p: Process, action) -> bool:
        """Ask the debugger's syscall hook about an app's syscall; True keeps it pending, not handled."""
        if action.__class__ is not tuple or len(action) != 6 or action[0] != "syscall":
            return False
        self.ev -= 1  # the syscall's event is when the kernel handles it
        if self.syscall_hook(p, action):
            p.pending_action = action
            return True
        self.ev += 1
        return False

    def _app_action(self, p: Process, action) -> None:
        """Carry out any app action; a malformed one faults the process (an app bug, never a Python error).

        A program may explain a malformed action better than the kernel can
        (``explain_action(action) -> str | None``, e.g. the runtime knows about
        ``yield`` versus ``yield from``); it may also refuse what the kernel would take.
        """
        bad = None
        if action.__class__ is not tuple:
            explain = getattr(p.program, "explain_action", None)
            bad = explain(action) if explain is not None else None
        bad = bad or _malformed_action(action)
        if bad is not None:
            self.fault(p, bad)
            return
        tag = action[0]
        if tag == "syscall":
            cls, r0, r1, r2, r3 = action[1], action[2], action[3], action[4], action[5]
            self.execute(p, cls, r0, r1, r2, r3)
        elif tag == "compute":
            p.compute_left = max(0, int(action[1]))
            self._record("compute", p, (p.compute_left,))
        elif tag == "sp":
            p.sp = action[1]
            p.pending_return = None
            self._record("sp", p, (p.sp,))  # crt0 moving its stack: a step of its own, so say so
        else:
            self.fault(p, str(action[1]))

    def run(self, until: int | None = None, max_events: int | None = None,
            stop: Callable[[], bool] | None = None) -> str:
        """Run the scheduler loop. ``until`` is an absolute time in ns.

        Returns why it ended: 'time' (reached ``until``), 'idle' (nothing can
        happen any more), 'events' (``max_events`` reached), 'stop' (``stop()``
        became true) or 'panic'.
        """
        # Every event leaves a record in the log: the loop holds the automatic collector and
        # collects the young generation itself (see gcpolicy).
        with gcpolicy.hold():
            return self._run(until, max_events, stop)

    def _run(self, until: int | None, max_events: int | None, stop: Callable[[], bool] | None) -> str:
        n = 0
        step = self.step
        burst = self._app_burst
        hw = self._hw
        last = _FOREVER if max_events is None else max_events
        collect_at = _GC_EVERY
        pause = min(last, collect_at)  # where a burst must hand back to this loop
        # Only a preemptive scheduler can take the CPU from a running app between two steps.
        fast = not self.scheduler.preemptive
        while True:
            if self.panicked:
                return "panic"
            if n >= pause:
                if n >= last:
                    return "events"
                gcpolicy.young()
                collect_at = n + _GC_EVERY
                pause = min(last, collect_at)
            p = self.current
            if fast and p is not None and p.program is not None and p.state is RUNNING and not p.compute_left:
                # The common case, without step()'s search: the app on the CPU acts again and
                # again for as long as step() would let it: before `until`, before the next
                # hardware event, with timeslice left.
                deadline = _FOREVER if until is None else until
                if hw and hw[0].time < deadline:
                    deadline = hw[0].time
                if self.slice_end is not None and self.slice_end - MIN_QUANTA_THRESHOLD_NS < deadline:
                    deadline = self.slice_end - MIN_QUANTA_THRESHOLD_NS
                if self.now < deadline:
                    done = burst(p, pause - n, deadline, stop)
                    if done < 0:
                        return "stop"
                    n += done
                    continue
            if not step(until):
                if self.panicked:
                    return "panic"
                return "time" if until is not None else "idle"
            n += 1
            if stop is not None and stop():
                return "stop"

    # ------------------------------------------------------------------ describing
    def state_sentence(self, p: Process) -> str:
        """The state in words: 'waiting in yield-wait-for alarm/0', 'faulted: ... (was Running)'."""
        k = p.state.kind
        pend = len(p.tasks)
        if k is _RUNNING:
            if p.program is None:
                base = "Running in its handler" if p.in_handler else "Running"
            else:
                base = "Running"
            if pend:
                base += f" — {pend} upcall{'s' if pend > 1 else ''} pending; delivered at its next yield"
            return base
        if k is _YIELDED:
            return f"Yielded — {pend} task{'s' if pend != 1 else ''} queued" if pend else \
                "waiting in yield-wait for an upcall"
        if k is _YIELDED_FOR:
            uid = p.state.wait_for
            drv = self.drivers.get(uid.driver_num)
            name = drv.name if drv is not None else f"{uid.driver_num:#x}"
            s = f"waiting in yield-wait-for {name}/{uid.subscribe_num}"
            if self._find_wait_for(p) is not None and not self.schedulable(p):
                s += " (its upcall is queued but the readiness flag was overwritten: Tock's quirk)"
            return s
        if k is StateKind.STOPPED:
            return f"stopped (was {p.state.previous.name}); `start` resumes it"
        if k is StateKind.FAULTED:
            was = p.state_before_fault.name if p.state_before_fault else "?"
            return f"faulted: {p.fault_reason or 'unknown'} (was {was})"
        code = "no completion code" if p.completion_code is None else f"completion code {p.completion_code}"
        return f"terminated ({code}); `boot` starts it again"
