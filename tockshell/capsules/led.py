"""LED (0x2, ``capsules/core/src/led.rs``): no grant, so subscribe and allow give NOMEM."""

from __future__ import annotations

from ..abi import ErrorCode, SyscallReturn
from ..kernel import SyscallDriver


class Led(SyscallDriver):
    driver_num = 0x2
    name = "led"
    summary = "LEDs: cmd 0 count (Success u32, Tock's known TRD104 deviation), 1 on, 2 off, 3 toggle, 4 read"

    def __init__(self, count: int = 4):
        self.count = count
        self.on = [False] * count
        self.toggles = [0] * count
        super().__init__()

    def allocate_grant(self, pid):
        # Tock's LED capsule has no grant: allocate_grant returns Ok without allocating.
        return None

    def command(self, cmd, arg0, arg1, pid):
        if cmd == 0:
            return SyscallReturn.success_u32(self.count)
        if cmd not in (1, 2, 3, 4):
            return SyscallReturn.failure(ErrorCode.NOSUPPORT)
        if arg0 >= self.count:
            return SyscallReturn.failure(ErrorCode.INVAL)
        if cmd == 4:
            return SyscallReturn.success_u32(int(self.on[arg0]))
        new = {1: True, 2: False, 3: not self.on[arg0]}[cmd]
        if new != self.on[arg0]:
            self.toggles[arg0] += 1
        self.on[arg0] = new
        p = self.kernel.lookup(pid)
        self.kernel.note(f"LED {arg0} {'on' if new else 'off'}", p)
        return SyscallReturn.success()

    def reset(self):
        self.on = [False] * self.count
        self.toggles = [0] * self.count
