"""RNG (0x40001, ``capsules/core/src/rng.rs``): seeded, so runs are reproducible."""

from __future__ import annotations

import random

from ..abi import ErrorCode, SyscallReturn
from ..kernel import GrantError, GrantSpec, SyscallDriver


class Rng(SyscallDriver):
    driver_num = 0x40001
    name = "rng"
    summary = "random bytes: cmd 1 N fills RW allow 0, then upcall 0 (0, filled, 0); seeded"

    #: Time the entropy source needs per byte (a TRNG at a few hundred kB/s).
    NS_PER_BYTE = 4_000

    def __init__(self, seed: int = 0x70C4):
        self.seed = seed
        self.random = random.Random(seed)
        super().__init__()

    def make_grant(self):
        return GrantSpec(self.driver_num, upcalls=1, allow_ro=0, allow_rw=1, data_size=8,
                         data_factory=lambda: {"pending": 0})

    def command(self, cmd, arg0, arg1, pid):
        if cmd == 0:
            return SyscallReturn.success()
        if cmd != 1:
            return SyscallReturn.failure(ErrorCode.NOSUPPORT)
        try:
            g = self.kernel.enter_grant(pid, self)
        except GrantError:
            return SyscallReturn.failure(ErrorCode.NOMEM)
        if g.data["pending"]:
            return SyscallReturn.failure(ErrorCode.BUSY)
        g.data["pending"] = arg0
        self.kernel.schedule_hw(max(1, arg0) * self.NS_PER_BYTE, lambda: self._done(pid, arg0),
                                "rng ready")
        return SyscallReturn.success()

    def _done(self, pid, want: int) -> str:
        k = self.kernel
        g = k.grant_of(pid, self)
        if g is None:
            return "rng: requester is gone"
        g.data["pending"] = 0
        addr, length = k.rw_buffer(pid, self, 0)
        n = min(want, length)
        if n:
            k.write_buffer(pid, addr, bytes(self.random.getrandbits(8) for _ in range(n)))
        k.schedule_upcall(pid, self.driver_num, 0, (0, n, 0))
        p = k.lookup(pid)
        return f"rng: {n} random bytes for {p.name if p else pid.identifier}"

    def reset(self):
        self.random = random.Random(self.seed)
