"""The kernel model: processes, grants, upcalls, syscalls, scheduler (Tock 2.3 as coded)."""

from .driver import SyscallDriver
from .grant import CustomGrant, GrantAllocation, GrantError, GrantSpec
from .kernel import CostModel, Kernel, KernelAPIError, KernelConfig, KernelPanic, Stats
from .policies import FaultAction, fault_policy_from
from .process import AppMemory, MemoryFault, Process, ProcessId, ShortId, State, StateKind
from .scheduler import scheduler_from
from .trace import Record, describe, trace_line
from .upcall import FunctionCall, IpcTask, IpcType, ReturnValue, UpcallError, UpcallId

__all__ = [
    "SyscallDriver", "CustomGrant", "GrantAllocation", "GrantError", "GrantSpec", "CostModel",
    "Kernel", "KernelAPIError", "KernelConfig", "KernelPanic", "Stats", "FaultAction",
    "fault_policy_from", "AppMemory", "MemoryFault", "Process", "ProcessId", "ShortId", "State", "StateKind",
    "scheduler_from", "Record", "describe", "trace_line", "FunctionCall", "IpcTask", "IpcType",
    "ReturnValue", "UpcallError", "UpcallId",
]
