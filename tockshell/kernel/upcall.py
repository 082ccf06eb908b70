"""Upcalls and the per-process task queue (``kernel/src/upcall.rs``, ``process.rs``).

A task is one of Tock's three ``Task`` kinds:

* :class:`FunctionCall` -- an upcall to run (from a driver, or the kernel's ``_start``);
* :class:`ReturnValue` -- an event for a Null Upcall, kept only so Yield-WaitFor can see it;
* :class:`IpcTask` -- a legacy IPC notify, turned into an upcall by the IPC driver at delivery.
"""

from __future__ import annotations

import enum
from typing import NamedTuple


class UpcallId(NamedTuple):
    """``UpcallId { driver_num, subscribe_num }``."""

    driver_num: int
    subscribe_num: int

    def debug(self) -> str:
        return f"UpcallId {{ driver_num: {self.driver_num:#x}, subscribe_num: {self.subscribe_num} }}"

    def short(self) -> str:
        return f"{self.driver_num:#x}:{self.subscribe_num}"


class FunctionCall:
    """Run ``pc(a0, a1, a2, appdata)`` in the process. ``source`` is None for the kernel (``_start``)."""

    __slots__ = ("source", "args", "appdata", "pc", "scheduled_at")
    kind = "FunctionCall"

    def __init__(self, source: UpcallId | None, args: tuple[int, int, int], appdata: int, pc: int,
                 scheduled_at: int = 0):
        self.source = source
        self.args = args
        self.appdata = appdata
        self.pc = pc
        self.scheduled_at = scheduled_at

    @property
    def upcall_id(self) -> UpcallId | None:
        return self.source

    def describe(self) -> str:
        src = "kernel" if self.source is None else self.source.short()
        a = ", ".join(f"{x:#x}" for x in (*self.args, self.appdata))
        return f"FunctionCall[{src}] @{self.pc:#x}({a})"


class ReturnValue:
    """An event scheduled on a Null Upcall: queued for Yield-WaitFor, dropped by plain yields."""

    __slots__ = ("upcall_id", "args", "scheduled_at")
    kind = "ReturnValue"
    source = None

    def __init__(self, upcall_id: UpcallId, args: tuple[int, int, int], scheduled_at: int = 0):
        self.upcall_id = upcall_id
        self.args = args
        self.scheduled_at = scheduled_at

    def describe(self) -> str:
        a = ", ".join(f"{x:#x}" for x in self.args)
        return f"ReturnValue[{self.upcall_id.short()}] null upcall ({a})"


class IpcType(enum.Enum):
    SERVICE = "Service"
    CLIENT = "Client"


class IpcTask:
    """``Task::IPC((caller, Service|Client))`` of the legacy IPC driver."""

    __slots__ = ("caller", "ipc_type", "scheduled_at")
    kind = "IPC"
    source = None
    upcall_id = None

    def __init__(self, caller, ipc_type: IpcType, scheduled_at: int = 0):
        self.caller = caller
        self.ipc_type = ipc_type
        self.scheduled_at = scheduled_at

    def describe(self) -> str:
        return f"IPC({self.ipc_type.value}) from [{self.caller.identifier}]"


class UpcallError(enum.Enum):
    """``kernel::upcall::UpcallError`` (what ``schedule_upcall`` can return to a capsule)."""

    INVALID_SUBSCRIBE_NUM = "InvalidSubscribeNum"
    QUEUE_FULL = "QueueFull"
    KERNEL_ERROR = "KernelError"


#: ``CALLBACK_LEN``: ten ring slots, one always empty, so nine pending tasks at most.
TASK_QUEUE_SLOTS = 10
TASK_QUEUE_CAPACITY = TASK_QUEUE_SLOTS - 1
