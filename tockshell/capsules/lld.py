"""Low-level debug (0x8, ``capsules/core/src/low_level_debug``): alert codes and values to the debug log."""

from __future__ import annotations

from ..abi import ErrorCode, SyscallReturn
from ..kernel import GrantSpec, SyscallDriver

ALERT_TEXT = {1: "panic", 2: "wrong location"}


class LowLevelDebug(SyscallDriver):
    driver_num = 0x8
    name = "lld"
    summary = "low-level debug: cmd 1 alert code, 2 print one value, 3 print two values"

    def __init__(self):
        self.lines: list[str] = []
        super().__init__()

    def make_grant(self):
        return GrantSpec(self.driver_num, upcalls=0, allow_ro=0, allow_rw=0, data_size=4)

    def command(self, cmd, arg0, arg1, pid):
        if cmd == 0:
            return SyscallReturn.success()
        if cmd == 1:
            line = f"LowLevelDebug: App {pid.index:#x} alert code {arg0:#x} ({ALERT_TEXT.get(arg0, 'unknown')})"
        elif cmd == 2:
            line = f"LowLevelDebug: App {pid.index:#x} prints {arg0:#x}"
        elif cmd == 3:
            line = f"LowLevelDebug: App {pid.index:#x} prints {arg0:#x} {arg1:#x}"
        else:
            return SyscallReturn.failure(ErrorCode.NOSUPPORT)
        self.lines.append(line)
        self.kernel.note(line, self.kernel.lookup(pid))
        return SyscallReturn.success()
