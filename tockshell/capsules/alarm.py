"""Alarm (0x0, ``capsules/core/src/alarm.rs``) on virtual time.

The default board's timer is a 24-bit RTC at 32768 Hz (nRF52-class); the
capsule presents ticks left-justified to 32 bits, as Tock's does, so they wrap
at 2^32 and command 1 reports the frequency scaled by the same shift.
"""

from __future__ import annotations

from ..abi import SUCCESS, ErrorCode, SyscallReturn
from ..kernel import GrantError, GrantSpec, SyscallDriver

MASK32 = 0xFFFF_FFFF


class AlarmData:
    __slots__ = ("expiration",)

    def __init__(self):
        self.expiration: tuple[int, int] | None = None  # (reference, dt), left-justified ticks

    def __repr__(self):
        if self.expiration is None:
            return "no alarm armed"
        ref, dt = self.expiration
        return f"armed: reference {ref:#x} + dt {dt:#x} = {(ref + dt) & MASK32:#x}"


class Alarm(SyscallDriver):
    driver_num = 0x0
    name = "alarm"
    summary = "virtual-time alarm: cmd 2 now, 5 set relative, 6 set absolute, 3 stop; upcall 0"

    def __init__(self, hz: int = 32768, width: int = 24):
        self.hz = hz
        self.width = width
        self.shift = 32 - width
        self._events: dict[int, object] = {}  # process identifier -> pending hw event
        super().__init__()

    def make_grant(self):
        return GrantSpec(self.driver_num, upcalls=1, allow_ro=0, allow_rw=0, data_size=12,
                         data_factory=AlarmData)

    # -- time conversion ----------------------------------------------------------
    def now_ticks(self) -> int:
        raw = (self.kernel.now * self.hz // 1_000_000_000) & ((1 << self.width) - 1)
        return (raw << self.shift) & MASK32

    def _delay_ns(self, target: int, reference: int | None = None) -> int:
        now_t = self.now_ticks()
        if reference is not None and ((now_t - reference) & MASK32) >= ((target - reference) & MASK32):
            # `now` is outside [reference, reference + dt): the expiration has passed, so the
            # alarm fires at once, as Tock's alarm does for a set in the past.
            return 0
        lj_delta = (target - now_t) & MASK32
        ticks = lj_delta >> self.shift
        if lj_delta & ((1 << self.shift) - 1):
            ticks += 1
        # The tick after `ticks` whole ticks from the current tick boundary.
        now = self.kernel.now
        cur_tick = now * self.hz // 1_000_000_000
        fire = int(-(-(cur_tick + ticks) * 1_000_000_000 // self.hz))
        return max(0, fire - now) if ticks else 0

    # -- the driver -----------------------------------------------------------------
    def command(self, cmd, arg0, arg1, pid):
        if cmd == 0:
            return SUCCESS  # the null command of every benchmark: no call to build it
        if cmd == 1:
            return SyscallReturn.success_u32((self.hz << self.shift) & MASK32)
        if cmd == 2:
            return SyscallReturn.success_u32(self.now_ticks())
        if cmd == 4:
            return SyscallReturn.failure(ErrorCode.NOSUPPORT)
        if cmd not in (3, 5, 6):
            return SyscallReturn.failure(ErrorCode.NOSUPPORT)
        try:
            g = self.kernel.enter_grant(pid, self)
        except GrantError as e:
            return SyscallReturn.failure(e.error_code)
        data: AlarmData = g.data
        if cmd == 3:
            if data.expiration is None:
                return SyscallReturn.failure(ErrorCode.ALREADY)
            data.expiration = None
            ev = self._events.pop(pid.identifier, None)
            if ev is not None:
                ev.cancel()
            return SyscallReturn.success()
        if cmd == 5:
            reference, dt = self.now_ticks(), arg0
        else:
            reference, dt = arg0, arg1
        data.expiration = (reference, dt)
        target = (reference + dt) & MASK32
        old = self._events.pop(pid.identifier, None)
        if old is not None:
            old.cancel()
        self._events[pid.identifier] = self.kernel.schedule_hw(
            self._delay_ns(target, reference), lambda: self._fire(pid), f"alarm fires for [{pid.identifier}]")
        return SyscallReturn.success_u32(target)

    def _fire(self, pid) -> str:
        self._events.pop(pid.identifier, None)
        g = self.kernel.grant_of(pid, self)
        if g is None or g.data.expiration is None:
            return f"alarm for [{pid.identifier}] expired with nobody waiting"
        ref, dt = g.data.expiration
        g.data.expiration = None
        p = self.kernel.lookup(pid)
        self.kernel.schedule_upcall(pid, self.driver_num, 0, (self.now_ticks(), (ref + dt) & MASK32, 0))
        return f"alarm fired for {p.name if p else pid.identifier}"

    def describe_grant(self, data):
        return repr(data)
