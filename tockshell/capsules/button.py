"""Button (0x3, ``capsules/core/src/button.rs``): interrupts per process and per button.

A press is two hardware events, press then release; a process that enabled
interrupts on that button (command 1) gets upcall 0 with (button, 1, 0) then
(button, 0, 0), as Tock's capsule reports either edge.
"""

from __future__ import annotations

from ..abi import ErrorCode, SyscallReturn
from ..kernel import GrantError, GrantSpec, SyscallDriver


class Button(SyscallDriver):
    driver_num = 0x3
    name = "button"
    summary = "buttons: cmd 0 count, 1 N enable interrupts, 2 N disable, 3 N read; upcall 0 (N, pressed, 0)"

    def __init__(self, count: int = 4):
        self.count = count
        self.pressed = [False] * count
        super().__init__()

    def make_grant(self):
        return GrantSpec(self.driver_num, upcalls=1, allow_ro=0, allow_rw=0, data_size=4,
                         data_factory=lambda: {"mask": 0})

    def command(self, cmd, arg0, arg1, pid):
        if cmd == 0:
            return SyscallReturn.success_u32(self.count)
        if cmd not in (1, 2, 3):
            return SyscallReturn.failure(ErrorCode.NOSUPPORT)
        if arg0 >= self.count:
            return SyscallReturn.failure(ErrorCode.INVAL)
        if cmd == 3:
            return SyscallReturn.success_u32(int(self.pressed[arg0]))
        try:
            g = self.kernel.enter_grant(pid, self)
        except GrantError:
            return SyscallReturn.failure(ErrorCode.NOMEM)
        if cmd == 1:
            g.data["mask"] |= 1 << arg0
        else:
            g.data["mask"] &= ~(1 << arg0)
        return SyscallReturn.success()

    def edge(self, n: int, pressed: bool) -> str:
        """One edge on button n: upcalls to every process that enabled its interrupt."""
        self.pressed[n] = pressed
        k = self.kernel
        told = []
        for p, g in self.grant_holders():
            if g.data["mask"] & (1 << n):
                k.schedule_upcall(p, self.driver_num, 0, (n, int(pressed), 0))
                told.append(p.name)
        who = ", ".join(told) if told else "nobody listening"
        return f"button {n} {'pressed' if pressed else 'released'} ({who})"

    def describe_grant(self, data):
        bits = [str(i) for i in range(self.count) if data["mask"] & (1 << i)]
        return "interrupts on buttons " + ",".join(bits) if bits else "no interrupts enabled"

    def reset(self):
        self.pressed = [False] * self.count
