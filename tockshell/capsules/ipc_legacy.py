"""Legacy IPC (``ipc``, 0x10000): Tock's ``kernel/src/ipc.rs`` as coded, for comparison.

Identifiers are process-array *indices*, not ProcessIds: a client that
discovered a service keeps reaching whatever occupies that slot, so after a
restart a stale client silently talks to the new instance. Services are
found by TBF package name (RO allow 0). A notify (command 2 to a service,
3 to a client) only queues ``Task::IPC`` on the target; the kernel hands it
to :meth:`LegacyIpc.deliver_ipc_task` when the target dequeues it, and only
then does the driver look for the caller's RW allow shared with the target,
add an MPU region for it to the *target* (6 slots per process, never
removed, the result ignored) and schedule the upcall ``(caller_index, len,
addr)``. A notify to a service that has not subscribed yet lands on a null
upcall and is lost. Notifying yourself is refused at delivery.

The grant is ``Grant<IPCData, UpcallCount<NUM_PROCS>, AllowRoCount<1>,
AllowRwCount<NUM_PROCS>>``: every IPC user pays for NUM_PROCS upcall and RW
allow slots.
"""

from __future__ import annotations

from ..abi import ErrorCode, SyscallReturn
from ..kernel import GrantError, GrantSpec, IpcType, Process, SyscallDriver

DRIVER_NUM = 0x10000
#: ``ProcessStandard::mpu_regions``: room for six extra regions per process.
MPU_REGION_SLOTS = 6


class LegacyIpc(SyscallDriver):
    """The legacy IPC driver. ``cortex_m``: buffers must satisfy the ARMv7-M MPU rules to be mapped."""

    driver_num = DRIVER_NUM
    name = "ipc"
    summary = ("legacy IPC: cmd 1 discover package name in RO allow 0 -> index, 2 N notify service, "
               "3 N notify client; RW allow N shares with process N; upcall (index, len, addr)")

    def __init__(self, num_procs: int, cortex_m: bool = False) -> None:
        self.num_procs = num_procs
        self.cortex_m = cortex_m
        self._stats = self._zero_stats()
        super().__init__()

    def make_grant(self):
        n = self.num_procs
        return GrantSpec(self.driver_num, upcalls=n, allow_ro=1, allow_rw=n, data_size=0)

    # ------------------------------------------------------------------ the driver
    def command(self, cmd, arg0, arg1, pid):
        k = self.kernel
        if cmd == 0:
            return SyscallReturn.success()
        if cmd == 1:
            try:
                k.enter_grant(pid, self)
            except GrantError:
                return SyscallReturn.failure(ErrorCode.NOMEM)
            addr, length = k.ro_buffer(pid, self, 0)
            if length == 0:
                # Never allowed: the kernel's default buffer belongs to no process, and entering it fails.
                caller = k.lookup(pid)
                if caller is not None:
                    k.note(f"ipc: {caller.name} discovers with no RO allow 0 (the package name to look for) → INVAL",
                           caller)
                return SyscallReturn.failure(ErrorCode.INVAL)
            name = k.read_buffer(pid, addr, length)
            self._stats["discovers"] += 1
            for q in k.processes:  # every process, whatever its state; the first match wins
                if q is not None and q.package.encode("utf-8") == name:
                    return SyscallReturn.success_u32(q.index)
            caller = k.lookup(pid)
            if caller is not None:
                shown = name.decode("utf-8", "replace").translate({c: "." for c in range(32)})
                k.note(f"ipc: {caller.name} discovers \"{shown}\": no process has that package name → NODEVICE",
                       caller)
            return SyscallReturn.failure(ErrorCode.NODEVICE)
        if cmd in (2, 3):
            target = k.processes[arg0] if 0 <= arg0 < len(k.processes) else None
            caller = k.lookup(pid)
            if target is None:
                k.note(f"ipc: {caller.name} notifies index {arg0}: no process there → INVAL", caller)
                return SyscallReturn.failure(ErrorCode.INVAL)
            kind = IpcType.SERVICE if cmd == 2 else IpcType.CLIENT
            err = k.enqueue_ipc_task(target, pid, kind)
            if err is not None:
                self._stats["notifies refused"] += 1
                why = "it is not running" if err is ErrorCode.NODEVICE else "its task queue is full"
                k.note(f"ipc: {caller.name}'s notify to {target.name} (index {arg0}) not queued: {why}", caller)
                return SyscallReturn.failure(err)
            self._stats["notifies queued"] += 1
            k.note(f"ipc: {caller.name} queued an IPC {kind.value} task on {target.name} (index {arg0}); "
                   f"it becomes an upcall only when {target.name} runs it", caller)
            return SyscallReturn.success()
        return SyscallReturn.failure(ErrorCode.NOSUPPORT)

    # ------------------------------------------------------------------ Task::IPC delivery
    def deliver_ipc_task(self, target: Process, task) -> None:
        """``IPC::schedule_upcall(target, caller, type)``, called by the kernel's Task::IPC arm.

        Every failure here is silent to both processes, as in Tock (the
        kernel ignores the result); the trace says what happened.
        """
        k = self.kernel
        caller_pid = task.caller
        if caller_pid == target.pid:
            self._stats["self notifies refused"] += 1
            k.note(f"ipc: {target.name} notified itself: refused (AlreadyInUse), no upcall", target)
            return
        caller = k.lookup(caller_pid)
        try:
            k.enter_grant(target, self)
            if caller is None:
                raise GrantError("NoSuchApp")
            k.enter_grant(caller, self)
        except GrantError as e:
            self._stats["deliveries failed"] += 1
            k.note(f"ipc: notify from [{caller_pid.identifier}] to {target.name} lost: grant enter failed "
                   f"({e.kind})", target)
            return
        slot = target.index if task.ipc_type is IpcType.SERVICE else caller.index
        addr, length = k.rw_buffer(caller, self, target.index)
        if length > 0:
            self._add_mpu_region(target, caller, addr, length)
            args = (caller.index, length, addr)
        else:
            args = (caller.index, 0, 0)
        g = k.grant_of(target, self)
        if g.upcalls[slot][0] == 0:
            self._stats["notifies lost (no upcall subscribed)"] += 1
            k.note(f"ipc: {target.name} has no upcall subscribed at slot {slot}: the notify from {caller.name} "
                   f"becomes a null-upcall event and is lost at its next yield", target)
        self._stats["upcalls scheduled"] += 1
        k.schedule_upcall(target, self.driver_num, slot, args)

    def _add_mpu_region(self, target: Process, owner: Process, addr: int, length: int) -> None:
        """``add_mpu_region``: the result is ignored by the IPC code, so every failure is silent."""
        k = self.kernel
        if self.cortex_m and not (length >= 32 and length & (length - 1) == 0 and addr % length == 0):
            self._stats["MPU regions refused"] += 1
            k.note(f"ipc: {owner.name}'s buffer {addr:#x}+{length} breaks the Cortex-M MPU rules (power-of-two "
                   f"length >= 32, aligned to it): no region for {target.name}; the notify goes on anyway",
                   target)
            return
        if len(target.mpu_regions) >= MPU_REGION_SLOTS:
            self._stats["MPU regions refused"] += 1
            k.note(f"ipc: {target.name} has no free MPU region slot ({MPU_REGION_SLOTS} used, never removed): "
                   f"{owner.name}'s buffer {addr:#x}+{length} is not mapped; nobody is told", target)
            return
        target.mpu_regions.append((addr, length))
        self._stats["MPU regions added"] += 1
        k.note(f"ipc: MPU region {len(target.mpu_regions)}/{MPU_REGION_SLOTS} of {target.name} now maps "
               f"{owner.name}'s buffer {addr:#x}+{length}", target)

    # ------------------------------------------------------------------ inspection
    def shares(self, process: Process) -> dict[str, list[tuple]]:
        """Legacy sharing of one process, for ``process p``.

        ``shared``: (index, peer name or None, addr, len) for each RW allow slot
        it fills (the buffer it shares with the process at that index);
        ``mapped``: (addr, len, owner name or None) for each MPU region IPC gave it.
        """
        k = self.kernel
        shared = []
        g = k.grant_of(process, self)
        if g is not None:
            for n, (addr, length) in enumerate(g.allow_rw):
                if length:
                    peer = k.processes[n] if n < len(k.processes) else None
                    shared.append((n, None if peer is None else peer.name, addr, length))
        mapped = []
        for addr, length in process.mpu_regions:
            owner = next((q.name for q in k.processes
                          if q is not None and q.memory_start <= addr < q.memory_end), None)
            mapped.append((addr, length, owner))
        return {"shared": shared, "mapped": mapped}

    def describe_grant(self, data) -> str:
        return "IPCData (empty)"

    # ------------------------------------------------------------------ stats
    @staticmethod
    def _zero_stats() -> dict[str, int]:
        return {"discovers": 0, "notifies queued": 0, "notifies refused": 0, "upcalls scheduled": 0,
                "notifies lost (no upcall subscribed)": 0, "self notifies refused": 0, "deliveries failed": 0,
                "MPU regions added": 0, "MPU regions refused": 0}

    def stats(self) -> dict[str, int]:
        """Legacy IPC figures for ``stats``: label -> value."""
        return dict(self._stats)

    def reset_stats(self) -> None:
        self._stats = self._zero_stats()


def _factory(board) -> LegacyIpc:
    drv = LegacyIpc(board.kernel.config.num_procs, cortex_m=board.name == "cortex-m")
    board.kernel.ipc = drv
    return drv


def _register_capsule() -> None:
    from .. import board as board_mod

    if not any(name == "ipc" for name, _ in board_mod.EXTRA_CAPSULES):
        board_mod.EXTRA_CAPSULES.insert(0, ("ipc", _factory))


_register_capsule()
