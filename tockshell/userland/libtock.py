"""libtock for Python app programs: syscall wrappers, buffers in the app's own RAM, timers.

An app is a generator function ``main(tock, **params)``. It makes a syscall by
*yielding* the request that a wrapper builds, and the kernel's answer comes
back as the value of the ``yield``::

    def main(tock):
        r = yield tock.command(LED, 3, 0)          # one syscall: a SyscallReturn
        yield from tock.print("hello\\n")           # several syscalls: use `yield from`
        yield from tock.delay_ms(100)

Two kinds of wrapper, as libtock-c has raw ``command()`` and the
``libtocksync_*`` helpers:

* **primitives** (``command``, ``subscribe``, ``allow_ro``, ``allow_rw``,
  ``allow_ur``, ``yield_wait``, ``yield_wait_for``, ``memop``, ``brk``,
  ``sbrk``, ``exit_terminate``, ``exit_restart``, ``compute``, ``fault`` and
  the LED / button shorthands) return one action tuple: write ``yield``;
* **composites** (``yield_no_wait``, ``print``, ``console_write``,
  ``delay_ms``, ``alarm_in_ms``, ``every_ms``, ``alarm_at``, ``cancel``,
  ``alarm_now``, ``malloc``, ``yield_for``, ``upcall_queue``,
  ``next_upcall``, ``radio_ring``, ``radio_send``) are generators: write
  ``yield from``.

Waiting for an upcall is done libtock-c's way, ``yield_for``: a handler
records it and the app yield-waits until it has. Plain ``yield_wait_for`` is
there too, but under Tock's wait-for quirk a later upcall can strand it.

Buffers live in the process's RAM between the heap start crt0 set and the app
break: :meth:`Libtock.alloc` is a bump allocator the app owns (no syscall),
:meth:`Libtock.malloc` grows the break with ``sbrk`` when the heap is full.
Every byte is read and written through the MPU-checked
:class:`~tockshell.kernel.process.AppMemory` view, so touching memory the app
does not own faults the process as an MPU fault would.

Upcall handlers are functions ``handler(arg0, arg1, arg2, appdata)`` (fewer
parameters are fine: they get the first ones). A handler that is a generator
function may make syscalls too; it runs when a yield delivers its upcall, and
when it returns, the interrupted yield returns. Subscribing gives a handler a
stable address in the app's flash (see :mod:`tockshell.userland.runtime`).
"""

from __future__ import annotations

import inspect
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from ..abi import SyscallReturn
from . import drivers as D

if TYPE_CHECKING:  # pragma: no cover
    from .runtime import AppProgram

MASK32 = 0xFFFF_FFFF

# Syscall class numbers (TRD104), inlined for the per-syscall path.
_YIELD, _SUBSCRIBE, _COMMAND, _ALLOW_RW, _ALLOW_RO, _MEMOP, _EXIT, _ALLOW_UR = range(8)

#: ``yield()`` of libtock-c: yield-wait. A constant, so the hot path builds nothing.
YIELD_WAIT = ("syscall", _YIELD, 1, 0, 0, 0)

#: The raw PHY driver's RX ring: 2 index bytes, then slots of 3 metadata bytes + 127 frame bytes.
RING_HEADER = 2
RING_FRAME_META = 3
RING_FRAME_MAX = 127
RING_SLOT = RING_FRAME_META + RING_FRAME_MAX


class AppError(Exception):
    """A mistake inside an app (out of heap, a bad argument): it faults the process."""


class Buffer:
    """``len`` bytes at ``addr`` in the app's RAM. Reads and writes are MPU-checked."""

    __slots__ = ("addr", "len", "_mem")

    def __init__(self, mem, addr: int, length: int):
        self._mem = mem
        self.addr = addr
        self.len = length

    def read(self, n: int | None = None, offset: int = 0) -> bytes:
        """``n`` bytes from ``offset`` (all of the buffer by default)."""
        if n is None:
            n = self.len - offset
        if offset < 0 or n < 0 or offset + n > self.len:
            raise AppError(f"read of {n} bytes at offset {offset} of a {self.len}-byte buffer")
        return self._mem.read(self.addr + offset, n)

    def write(self, data: bytes | str, offset: int = 0) -> int:
        """Copy ``data`` in at ``offset``; returns the number of bytes written."""
        if isinstance(data, str):
            data = data.encode()
        if offset < 0 or offset + len(data) > self.len:
            raise AppError(f"write of {len(data)} bytes at offset {offset} of a {self.len}-byte buffer")
        self._mem.write(self.addr + offset, bytes(data))
        return len(data)

    def fill(self, byte: int = 0) -> None:
        self._mem.write(self.addr, bytes([byte]) * self.len)

    def __len__(self) -> int:
        return self.len

    def __repr__(self) -> str:
        return f"Buffer({self.addr:#x}, {self.len})"


class Timer:
    """One virtual alarm of the app (libtock-c's ``libtock_alarm_t``): fires at ``reference + dt`` ticks."""

    __slots__ = ("reference", "dt", "handler", "nargs", "period", "armed", "fired")

    def __init__(self, reference: int, dt: int, handler, period: int | None):
        self.reference = reference
        self.dt = dt
        self.handler = handler
        self.nargs = arity(handler, 2)
        self.period = period  # ticks, for repeating timers
        self.armed = True
        self.fired = 0

    @property
    def expiration(self) -> int:
        return (self.reference + self.dt) & MASK32

    def __repr__(self) -> str:
        kind = f"every {self.period} ticks" if self.period else "once"
        return f"Timer(expires {self.expiration:#x}, {kind}, fired {self.fired}x)"


def arity(fn, most: int) -> int:
    """How many leading positional arguments ``fn`` takes, at most ``most`` (``*args`` takes all)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return most
    n = 0
    for prm in sig.parameters.values():
        if prm.kind is prm.VAR_POSITIONAL:
            return most
        if prm.kind in (prm.POSITIONAL_ONLY, prm.POSITIONAL_OR_KEYWORD):
            n += 1
    return min(n, most)


def _buf_args(buf, length) -> tuple[int, int]:
    if buf is None:
        return 0, 0
    if isinstance(buf, Buffer):
        return buf.addr, buf.len if length is None else length
    if isinstance(buf, tuple):
        return buf[0], buf[1]
    if length is None:
        raise AppError("an allow of a raw address needs a length")
    return int(buf), int(length)


class Libtock:
    """What ``main(tock, ...)`` receives: the app's syscall wrappers, heap and timers.

    One instance per run of the app: a restart builds a fresh one, so nothing
    of the previous run survives (as a restarted process's RAM is reset).
    """

    def __init__(self, runtime: "AppProgram", memory, heap_start: int, heap_end: int, params: dict):
        self._rt = runtime
        #: The MPU-checked view of the app's memory (``read(addr, n)``, ``write(addr, data)``).
        self.memory = memory
        #: The spawn parameters of this app, after defaults.
        self.params = params
        self.name = runtime.name
        self.heap_start = heap_start
        self._heap_next = heap_start
        self._heap_end = heap_end
        self._timers: list[Timer] = []
        self._alarm_subscribed = False
        self._alarm_hz: int | None = None
        self._servicing = False
        self._scratch: Buffer | None = None
        self._console_pending: deque | None = None  # texts waiting while a write is on the wire
        self._flag: Buffer | None = None
        #: Per-run storage for helper libraries (a C library's statics).
        self.statics: dict = {}

    # ------------------------------------------------------------------ memory
    def alloc(self, n: int, align: int = 4) -> Buffer:
        """Bump-allocate ``n`` bytes of the heap crt0 set up (no syscall). AppError when it is full."""
        if n < 0:
            raise AppError(f"cannot allocate {n} bytes")
        addr = (self._heap_next + align - 1) // align * align
        if addr + n > self._heap_end:
            raise AppError(f"out of heap: {n} bytes wanted, {max(0, self._heap_end - addr)} left "
                           f"below the break {self._heap_end:#x} (use `yield from tock.malloc(n)` to sbrk)")
        self._heap_next = addr + n
        return Buffer(self.memory, addr, n)

    def buffer(self, data: bytes | str | int) -> Buffer:
        """A heap buffer holding ``data`` (bytes or text), or ``data`` zero bytes if it is an int."""
        if isinstance(data, int):
            return self.alloc(data)
        if isinstance(data, str):
            data = data.encode()
        b = self.alloc(len(data))
        if data:
            b.write(data)
        return b

    def malloc(self, n: int, align: int = 4):
        """Composite: allocate, moving the app break up with ``sbrk`` if the heap is full.

        Returns the Buffer, or the failed memop's SyscallReturn (``Failure(NOMEM)``).
        """
        addr = (self._heap_next + align - 1) // align * align
        if addr + n > self._heap_end:
            grow = (addr + n - self._heap_end + 7) // 8 * 8
            r = yield ("syscall", _MEMOP, 1, grow, 0, 0)
            if r is None or not r.is_success:
                return r
            self._heap_end = r.value + grow
        return self.alloc(n, align)

    @property
    def heap_free(self) -> int:
        return max(0, self._heap_end - self._heap_next)

    def read(self, addr: int, n: int) -> bytes:
        return self.memory.read(addr, n)

    def write(self, addr: int, data: bytes) -> None:
        self.memory.write(addr, data)

    # ------------------------------------------------------------------ primitives
    def command(self, driver: int, cmd: int, arg0: int = 0, arg1: int = 0):
        """``command(driver, cmd, arg0, arg1)`` -> SyscallReturn."""
        return ("syscall", _COMMAND, driver, cmd, arg0, arg1)

    def subscribe(self, driver: int, sub: int, handler: Callable | int | None, appdata: int = 0):
        """Subscribe ``handler`` (None: the Null Upcall) -> SubscribeSuccess/Failure with the previous pair."""
        return ("syscall", _SUBSCRIBE, driver, sub, self._rt.handler_address(handler), appdata)

    def unsubscribe(self, driver: int, sub: int):
        return ("syscall", _SUBSCRIBE, driver, sub, 0, 0)

    def allow_rw(self, driver: int, num: int, buf=None, length: int | None = None):
        """Read-write allow of a Buffer (or ``addr, length``; None un-allows)."""
        a, n = _buf_args(buf, length)
        return ("syscall", _ALLOW_RW, driver, num, a, n)

    def allow_ro(self, driver: int, num: int, buf=None, length: int | None = None):
        a, n = _buf_args(buf, length)
        return ("syscall", _ALLOW_RO, driver, num, a, n)

    def allow_ur(self, driver: int, num: int, buf=None, length: int | None = None):
        a, n = _buf_args(buf, length)
        return ("syscall", _ALLOW_UR, driver, num, a, n)

    def yield_wait(self):
        """``yield()``: returns (None) after one upcall handler has run."""
        return YIELD_WAIT

    def yield_wait_for(self, driver: int, sub: int):
        """Yield-WaitFor: returns a YieldWaitForReturn whose ``args`` are the upcall's three values."""
        return ("syscall", _YIELD, 2, driver, sub, 0)

    def memop(self, op: int, arg: int = 0):
        return ("syscall", _MEMOP, op, arg, 0, 0)

    def brk(self, addr: int):
        return ("syscall", _MEMOP, 0, addr, 0, 0)

    def sbrk(self, delta: int):
        return ("syscall", _MEMOP, 1, delta & MASK32, 0, 0)

    def exit_terminate(self, code: int = 0):
        return ("syscall", _EXIT, 0, code, 0, 0)

    def exit_restart(self, code: int = 0):
        return ("syscall", _EXIT, 1, code, 0, 0)

    def syscall(self, cls: int, r0: int = 0, r1: int = 0, r2: int = 0, r3: int = 0):
        """Any raw ``svc`` (an invalid class or yield number faults the process, as in Tock)."""
        return ("syscall", cls, r0, r1, r2, r3)

    @staticmethod
    def compute(us: float):
        """Spend ``us`` microseconds of CPU in the app (preemptible by the timeslice)."""
        return ("compute", int(us * 1000))

    @staticmethod
    def fault(reason: str = "the app faulted on purpose"):
        """Fault the process now, as a hard fault would."""
        return ("fault", reason)

    def led_on(self, n: int):
        return ("syscall", _COMMAND, D.LED, D.LED_CMD_ON, n, 0)

    def led_off(self, n: int):
        return ("syscall", _COMMAND, D.LED, D.LED_CMD_OFF, n, 0)

    def led_toggle(self, n: int):
        return ("syscall", _COMMAND, D.LED, D.LED_CMD_TOGGLE, n, 0)

    def button_enable_interrupt(self, n: int):
        return ("syscall", _COMMAND, D.BUTTON, D.BUTTON_CMD_ENABLE_INTERRUPT, n, 0)

    # ------------------------------------------------------------------ composites
    def yield_no_wait(self):
        """Composite: yield-no-wait; True if an upcall was pending (its handler has then run)."""
        if self._flag is None:
            self._flag = self.alloc(1, 1)
        r = yield ("syscall", _YIELD, 0, self._flag.addr, 0, 0)
        del r
        return self._flag.read(1)[0] == 1

    def console_write(self, data: bytes | str):
        """Composite (``libtocksync_console_write``): allow-ro, command 1, ``yield_for`` the write upcall.

        Returns the number of bytes written, or the failing SyscallReturn. A
        handler that prints while the code it interrupted is printing (a
        handler runs on top of a yield) cannot wait for that write to finish,
        so its text is queued and written by the interrupted writer right
        after its own, in order (libtock-c would answer BUSY and drop it).
        """
        if isinstance(data, str):
            data = data.encode()
        if self._console_pending is not None:
            self._console_pending.append(data)
            return len(data)
        done = yield from self.upcall_queue(D.CONSOLE, D.CONSOLE_UPCALL_WRITE)
        if not isinstance(done, UpcallQueue):
            return done
        pending = self._console_pending = deque([data])
        try:
            first = None
            while pending:
                chunk = pending.popleft()
                r = yield from self._console_write_one(done, chunk)
                if first is None:
                    first = r
            return first
        finally:
            self._console_pending = None

    def _console_write_one(self, done: "UpcallQueue", data: bytes):
        n = len(data)
        buf = self._scratch
        if buf is None or buf.len < n:
            buf = self._scratch = self.alloc(max(n, 32))
        if n:
            buf.write(data)
        r = yield ("syscall", _ALLOW_RO, D.CONSOLE, D.CONSOLE_ALLOW_WRITE, buf.addr, n)
        if not r.is_success:
            return r
        done.clear()
        r = yield ("syscall", _COMMAND, D.CONSOLE, D.CONSOLE_CMD_WRITE, n, 0)
        if not r.is_success:
            return r
        args = yield from self.next_upcall(done)
        return args[0]

    def print(self, *parts: Any, end: str = "\n", sep: str = " "):
        """Composite: ``printf`` to the console (``print``'s spacing rules)."""
        return (yield from self.console_write(sep.join(str(p) for p in parts) + end))

    # -- alarm ----------------------------------------------------------------------
    def alarm_frequency(self):
        """Composite: the alarm's frequency in Hz as the capsule reports it (left-justified ticks)."""
        if self._alarm_hz is None:
            r = yield ("syscall", _COMMAND, D.ALARM, D.ALARM_CMD_FREQUENCY, 0, 0)
            if not r.is_success or not r.value:
                raise AppError(f"the alarm driver gave no frequency ({r})")
            self._alarm_hz = r.value
        return self._alarm_hz

    def alarm_now(self):
        """Composite: the alarm's current tick count (32 bits, wrapping)."""
        r = yield ("syscall", _COMMAND, D.ALARM, D.ALARM_CMD_NOW, 0, 0)
        if not r.is_success:
            raise AppError(f"the alarm driver gave no time ({r})")
        return r.value

    def ms_to_ticks(self, ms: float) -> int:
        """Ticks for ``ms`` milliseconds (after :meth:`alarm_frequency` has run)."""
        hz = self._alarm_hz
        if hz is None:
            raise AppError("ms_to_ticks before the alarm frequency is known")
        whole, frac = divmod(int(ms * 1000), 1_000_000)  # microseconds, as libtock-c splits ms
        return (whole * hz + frac * hz // 1_000_000) & MASK32

    def delay_ms(self, ms: float):
        """Composite: sleep ``ms`` milliseconds of virtual time (``libtocksync_alarm_delay_ms``).

        As libtock-c does it: a one-shot virtual timer and ``yield_for`` its
        flag, so other upcalls keep running meanwhile. ``ms`` <= 0 is a
        yield-no-wait.
        """
        if ms <= 0:
            yield from self.yield_no_wait()
            return None
        done = []
        yield from self.alarm_in_ms(ms, lambda: done.append(1))
        while not done:
            yield YIELD_WAIT
        return None

    def alarm_in_ms(self, ms: float, handler: Callable, repeat: bool = False):
        """Composite: run ``handler(now, expiration)`` in ``ms`` milliseconds (every ``ms`` if ``repeat``).

        Returns the :class:`Timer`. Handlers may be generator functions.
        """
        yield from self.alarm_frequency()
        ticks = self.ms_to_ticks(ms)
        now = yield from self.alarm_now()
        return (yield from self._add_timer(Timer(now, ticks, handler, ticks if repeat else None)))

    def every_ms(self, ms: float, handler: Callable):
        """Composite: a repeating timer; each period counts from the previous expiration (no drift)."""
        return (yield from self.alarm_in_ms(ms, handler, repeat=True))

    def alarm_at(self, reference: int, dt: int, handler: Callable):
        """Composite: run ``handler`` when the tick count passes ``reference + dt`` (libtock_alarm_at)."""
        return (yield from self._add_timer(Timer(reference & MASK32, dt & MASK32, handler, None)))

    def cancel(self, timer: Timer):
        """Composite: stop a timer (the capsule's alarm is re-armed for the next one, or stopped)."""
        if timer in self._timers:
            self._timers.remove(timer)
            timer.armed = False
            if not self._servicing:
                if self._timers:
                    yield from self._arm()
                else:
                    yield ("syscall", _COMMAND, D.ALARM, D.ALARM_CMD_STOP, 0, 0)
        timer.armed = False

    @property
    def timers(self) -> list[Timer]:
        return list(self._timers)

    def _add_timer(self, t: Timer):
        if not self._alarm_subscribed:
            r = yield ("syscall", _SUBSCRIBE, D.ALARM, 0, self._rt.handler_address(self._alarm_fired), 0)
            if not r.is_success:
                raise AppError(f"cannot subscribe to the alarm ({r})")
            self._alarm_subscribed = True
        self._timers.append(t)
        if not self._servicing:
            yield from self._arm()
        return t

    def _alarm_fired(self, now, _expiration, _unused, _appdata):
        # The root handler of the app's virtual timers (libtock-c's alarm.c callback).
        yield from self._service(now)

    def _service(self, now: int):
        self._servicing = True
        try:
            while True:
                due = [t for t in self._timers if ((now - t.reference) & MASK32) >= t.dt]
                if not due:
                    break
                due.sort(key=lambda t: (now - t.expiration) & MASK32, reverse=True)  # oldest first
                for t in due:
                    if t.period:
                        t.reference = t.expiration
                        t.dt = t.period
                    else:
                        self._timers.remove(t)
                        t.armed = False
                    t.fired += 1
                    res = t.handler(*(now, t.expiration)[:t.nargs])
                    if inspect.isgenerator(res):
                        yield from res
                now = yield from self.alarm_now()
        finally:
            self._servicing = False
        yield from self._arm(now)

    def _arm(self, now: int | None = None):
        # Arm the capsule's one alarm for the earliest virtual timer. A timer
        # already due (or due within a tick, where the capsule's view of now may
        # have moved on) is served here and now rather than handed to the capsule.
        if not self._timers:
            return
        if now is None:
            now = yield from self.alarm_now()
        first = min(self._timers, key=lambda t: (t.expiration - now) & MASK32
                    if ((now - t.reference) & MASK32) < t.dt else -1)
        elapsed = (now - first.reference) & MASK32
        if elapsed >= first.dt:
            yield from self._service(now)
            return
        left = first.dt - elapsed
        if left <= self._one_tick():
            yield ("syscall", _COMMAND, D.ALARM, D.ALARM_CMD_SET_RELATIVE, left, 0)
        else:
            yield ("syscall", _COMMAND, D.ALARM, D.ALARM_CMD_SET_ABSOLUTE, first.reference, first.dt)

    def _one_tick(self) -> int:
        # A safe margin of "too close to hand to the capsule as an absolute
        # time": one millisecond, far more than a hardware tick.
        return (self._alarm_hz or 1000) // 1000 + 1

    # -- radio (raw 802.15.4 PHY driver) ---------------------------------------------
    def radio_ring(self, frames: int):
        """Composite: allocate an RX ring of ``frames`` slots and allow it (RW allow 0).

        Returns the Buffer, or the failing SyscallReturn. The ring is
        ``[read index][write index]`` then ``frames`` slots of 130 bytes.
        """
        buf = self.alloc(RING_HEADER + frames * RING_SLOT)
        buf.fill(0)
        r = yield ("syscall", _ALLOW_RW, D.RADIO, D.RADIO_ALLOW_RX_RING, buf.addr, buf.len)
        return buf if r.is_success else r

    @staticmethod
    def ring_pop(ring: Buffer) -> bytes | None:
        """Take the oldest unread frame out of an RX ring (advancing its read index); None if empty."""
        head = ring.read(2)
        r, w = head[0], head[1]
        slots = (ring.len - RING_HEADER) // RING_SLOT
        if r == w or slots == 0 or r >= slots:
            return None
        off = RING_HEADER + r * RING_SLOT
        meta = ring.read(RING_FRAME_META, off)
        frame = ring.read(min(meta[0] + meta[1] + meta[2], RING_FRAME_MAX), off + RING_FRAME_META)
        ring.write(bytes([(r + 1) % slots]), 0)
        return frame

    def radio_send(self, frame: bytes, buf: Buffer | None = None):
        """Composite: allow-ro the frame, command 27, ``yield_for`` TX done; returns (status, acked)."""
        done = yield from self.upcall_queue(D.RADIO, D.RADIO_UPCALL_TX_DONE)
        if not isinstance(done, UpcallQueue):
            return done
        if buf is None or buf.len < len(frame):
            buf = self.alloc(max(len(frame), 1))
        buf.write(frame)
        r = yield ("syscall", _ALLOW_RO, D.RADIO, D.RADIO_ALLOW_TX, buf.addr, len(frame))
        if not r.is_success:
            return r
        done.clear()
        r = yield ("syscall", _COMMAND, D.RADIO, D.RADIO_CMD_SEND_RAW, 0, 0)
        if not r.is_success:
            return r
        status, acked, _ = yield from self.next_upcall(done)
        return status, acked

    # -- waiting for upcalls (libtock-c's yield_for) ---------------------------------
    def yield_for(self, cond: Callable[[], bool]):
        """Composite: yield-wait until ``cond()`` holds (upcall handlers run meanwhile)."""
        while not cond():
            yield YIELD_WAIT

    def upcall_queue(self, driver: int, sub: int):
        """Composite: the app's :class:`UpcallQueue` for ``(driver, sub)``, subscribed on first use.

        Subscribe before starting what will cause the upcall: a subscribe
        drops upcalls already queued for that slot (Tock's rule).
        """
        key = ("upcall_queue", driver, sub)
        q = self.statics.get(key)
        if q is None:
            q = UpcallQueue(driver, sub)
            r = yield ("syscall", _SUBSCRIBE, driver, sub, self._rt.handler_address(q), 0)
            if not r.is_success:
                return r
            self.statics[key] = q
        return q

    def next_upcall(self, q: "UpcallQueue"):
        """Composite: the oldest upcall recorded in ``q`` (its three arguments), yield-waiting for one."""
        while not q:
            yield YIELD_WAIT
        return q.popleft()


class UpcallQueue(deque):
    """A handler that records its upcalls' arguments, oldest first (a flag and a value, as C apps keep).

    Waiting on it with yield-wait (:meth:`Libtock.next_upcall`) is what
    libtock-c's ``yield_for`` does, and unlike yield-wait-for it cannot be
    stranded by another upcall arriving after the awaited one.
    """

    def __init__(self, driver: int, sub: int):
        super().__init__()
        self.driver = driver
        self.sub = sub

    def __call__(self, a0, a1, a2, _appdata):
        self.append((a0, a1, a2))

    def __hash__(self):  # a handler is keyed by identity
        return id(self)

    def __eq__(self, other):
        return self is other

    def __repr__(self):
        return f"UpcallQueue({self.driver:#x}:{self.sub}, {len(self)} recorded)"


def is_failure(r) -> bool:
    """True for a Failure result (a convenience for apps)."""
    return isinstance(r, SyscallReturn) and r.is_failure
