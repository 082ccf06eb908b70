"""The Thread service scenario of the 2025-08-25 notes, on the IPC Manager and the Mailbox.

``thread_service`` owns the 802.15.4 radio (reference/tock-ipc.md §3.5): it
registers ``"thread"`` with the IPC Manager, lets clients open a port and send
packets over the Mailbox, and pushes each received frame to the client that
owns the frame's port. ``thread_client`` opens a port, reads its packets with
a processing cost, and may send.

The pieces every design shares live here too (the ``_relay`` and ``_legacy``
variants import them):

* :class:`ThreadFifo`: the service's queue of packets bound for clients, one
  FIFO or one per port (client), ``drop=oldest|newest``, optional priorities;
* :class:`ServiceCore`: the radio side of a service (RX ring, FIFO, port
  owners, transmit queue);
* the probes, :class:`ServiceProbe` and :class:`ClientProbe`: plain
  counters an app keeps in its statics, as a C app keeps globals. A debugger
  reads them (``tockshell.lang.cmd_thread`` timestamps and joins them with
  the radio's arrivals); they never reach the kernel.

Messages (the Mailbox design; the other designs carry the same bytes):

* client -> service: ``b"O" port priority`` opens a port; ``b"S" frame``
  asks the service to transmit a frame;
* service -> client: the received 802.15.4 frame itself (a traffic frame:
  ``tockshell.userland.frames``).

The Mailbox gives each process **one** outgoing message in flight, the
service included. With a single FIFO the service sends strictly in order
(the notes: "each time a client reads, the next one is sent"), so a slow
client holds everyone up; when the FIFO is full and ``drop=oldest`` the
oldest packet, possibly the one in flight, is dropped (cancelled). With
``per_client=true`` every client has its own FIFO and the service
time-shares its one outgoing slot: when a packet arrives for another client
while a message waits unread, it cancels that message (which goes back to
the head of its client's FIFO, not lost) and serves the other client.
"""

from __future__ import annotations

from collections import deque

from ...abi import ErrorCode, SyscallReturn
from .. import drivers as D
from .. import frames
from ..ipc import IPCMGR_CLOSE, MAILBOX_CANCEL, MAILBOX_MESSAGE_WAITING, MAILBOX_READ, MAILBOX_SEND_DONE, \
    ipcmgr_discover, ipcmgr_register, mailbox_send
from ..libtock import YIELD_WAIT, AppError, Buffer
from . import Param, register

#: Where a Thread app keeps its probe in ``tock.statics``.
PROBE_KEY = "thread.probe"
OPEN = ord("O")
SEND = ord("S")
NEXT = ord("N")
#: Biggest message: an op byte plus the largest 802.15.4 PSDU an app handles.
MAX_MSG = 1 + frames.MAX_PSDU + 2
#: Frames a client keeps in its own outgoing queue (point 8 of the notes) before dropping the oldest.
CLIENT_OUTQ = 4
#: Frames the service keeps waiting for the radio before dropping the oldest.
SERVICE_TXQ = 8

THREAD_APPS = frozenset({"thread_service", "thread_client", "thread_service_relay", "thread_client_relay",
                         "thread_service_legacy", "thread_client_legacy"})


# ---------------------------------------------------------------------------- probes
class ServiceProbe:
    """What a Thread service counts, by port (each client owns one port).

    ``blocked_on`` is set (to a port) while the service waits for one client
    and cannot do anything else; a debugger adds up the time it stays set.
    """

    kind = "service"

    def __init__(self, design: str):
        self.design = design
        self.taken: dict[int, int] = {}        # frames taken out of the RX ring, by port
        self.forwarded: dict[int, int] = {}    # packets handed to their client
        self.dropped: dict[int, int] = {}      # FIFO overflow (drop policy)
        self.gone: dict[int, int] = {}         # dropped because the client went away
        self.unclaimed = 0                     # frames for a port nobody opened (or not traffic frames)
        self.preempted = 0                     # unread messages taken back to serve another client
        self.transmitted = 0                   # frames sent on the radio for clients
        self.tx_dropped = 0
        self.client_errors = 0                 # error upcalls / failures naming a client
        self.fifo_max = 0
        self.blocked_on: int | None = None
        self.ring: Buffer | None = None
        self.owners: dict[int, object] = {}    # port -> the client key the design uses

    @staticmethod
    def bump(d: dict, port: int, n: int = 1) -> None:
        d[port] = d.get(port, 0) + n


class ClientProbe:
    """What a Thread client counts: its port, the (port, seq) of each packet it read, its sends."""

    kind = "client"

    def __init__(self, design: str, port: int):
        self.design = design
        self.port = port
        self.reads: list[tuple[int, int]] = []
        self.sent = 0
        self.opened = 0

    def read(self, frame: bytes) -> None:
        t = frames.parse(frame)
        self.reads.append((t.port, t.seq) if t is not None else (-1, -1))


# ---------------------------------------------------------------------------- the FIFO
class Packet:
    """One frame waiting in a service for its client."""

    __slots__ = ("frame", "port", "seq", "prio", "order", "inflight")

    def __init__(self, frame: bytes, port: int, seq: int, prio: int):
        self.frame = frame
        self.port = port
        self.seq = seq
        self.prio = prio
        self.order = 0
        self.inflight = False

    def __repr__(self) -> str:
        return f"Packet(port {self.port} seq {self.seq}{' in flight' if self.inflight else ''})"


class ThreadFifo:
    """The service's packets for its clients.

    ``capacity`` counts every packet the service still holds, the one in
    flight included (in the Mailbox design that message is still the
    service's: it can be cancelled). One FIFO for all clients, or one per
    port (``per_port``). On overflow the victim is chosen among the
    lowest-priority packets (``priority``) of the overflowing FIFO, the
    arrival included: the oldest (``drop="oldest"``) or the newest.
    """

    def __init__(self, capacity: int, per_port: bool = False, drop: str = "oldest", priority: bool = False):
        if capacity < 1:
            raise AppError(f"fifo must hold at least 1 packet, not {capacity}")
        if drop not in ("oldest", "newest"):
            raise AppError(f"drop is oldest or newest, not {drop!r}")
        self.capacity = capacity
        self.per_port = per_port
        self.drop = drop
        self.priority = priority
        self._q: dict[int, deque[Packet]] = {}
        self._count = 0
        self._order = 0

    def __len__(self) -> int:
        return self._count

    def held(self, port: int) -> int:
        q = self._q.get(port)
        return len(q) if q else 0

    def packets(self, port: int | None = None) -> list[Packet]:
        if port is not None:
            return list(self._q.get(port, ()))
        return sorted((p for q in self._q.values() for p in q), key=lambda p: p.order)

    def add(self, pkt: Packet) -> list[Packet]:
        """Queue ``pkt``; the packets dropped to make room (maybe ``pkt`` itself, maybe one in flight)."""
        self._order += 1
        pkt.order = self._order
        self._q.setdefault(pkt.port, deque()).append(pkt)
        self._count += 1
        victims = []
        while True:
            pool = list(self._q[pkt.port]) if self.per_port else self.packets()
            if len(pool) <= self.capacity:
                return victims
            v = self._victim(pool)
            self.remove(v)
            victims.append(v)

    def _victim(self, pool: list[Packet]) -> Packet:
        if self.priority:
            low = min(p.prio for p in pool)
            pool = [p for p in pool if p.prio == low]
        return min(pool, key=lambda p: p.order) if self.drop == "oldest" else max(pool, key=lambda p: p.order)

    def remove(self, pkt: Packet) -> None:
        q = self._q.get(pkt.port)
        if q is not None and pkt in q:
            q.remove(pkt)
            self._count -= 1
            if not q:
                del self._q[pkt.port]

    def drop_port(self, port: int) -> list[Packet]:
        """Forget every packet for ``port`` (its client went away)."""
        q = self._q.pop(port, None)
        if not q:
            return []
        self._count -= len(q)
        return list(q)

    def waiting(self, port: int) -> Packet | None:
        """The next packet for ``port`` that is not in flight."""
        for p in self._q.get(port, ()):
            if not p.inflight:
                return p
        return None

    def others_waiting(self, port: int) -> bool:
        """Whether a client other than ``port``'s has a packet waiting to be sent."""
        return any(q_port != port and any(not p.inflight for p in q) for q_port, q in self._q.items())

    def next_send(self, eligible=None, after: int | None = None) -> Packet | None:
        """The packet to hand over next among ports ``eligible(port)`` allows.

        One FIFO: the oldest (highest priority first): strict arrival order.
        Per port: the highest-priority ports first, round robin among them
        starting after ``after``, each port's oldest packet.
        """
        if not self.per_port:
            best = None
            for p in self.packets():
                if p.inflight or (eligible is not None and not eligible(p.port)):
                    continue
                if best is None or (self.priority and p.prio > best.prio):
                    best = p
            return best
        heads = {}
        for port in sorted(self._q):
            if eligible is not None and not eligible(port):
                continue
            h = self.waiting(port)
            if h is not None:
                heads[port] = h
        if not heads:
            return None
        if self.priority:
            top = max(h.prio for h in heads.values())
            heads = {port: h for port, h in heads.items() if h.prio == top}
        ports = sorted(heads)
        if after is not None:
            later = [p for p in ports if p > after]
            ports = later + [p for p in ports if p <= after]
        return heads[ports[0]]


# ---------------------------------------------------------------------------- the radio side of a service
def _bad(r) -> bool:
    return not isinstance(r, SyscallReturn) or not r.is_success


class ServiceCore:
    """What every Thread service does with the radio: RX ring, FIFO, port owners, transmissions.

    The RX handler only moves frames from the kernel's ring into a list (no
    syscalls in a handler: the Thread tutorial's reentrancy warning); the
    service's main loop then runs :meth:`ingest`, which spends ``cost`` ms
    per frame (the stack's processing) and queues the frame for its port's
    owner.
    """

    def __init__(self, tock, design: str, fifo: int, per_client: bool, drop: str, priority: bool,
                 cost: float, ring: int):
        self.tock = tock
        self.probe = ServiceProbe(design)
        tock.statics[PROBE_KEY] = self.probe
        self.fifo = ThreadFifo(fifo, per_client, drop, priority)
        self.cost_us = cost * 1000
        self.ring_slots = ring
        self.ring: Buffer | None = None
        self.rx: deque[bytes] = deque()
        self.owner: dict[int, object] = self.probe.owners  # port -> client key
        self.port_of: dict[object, int] = {}
        self.prio: dict[int, int] = {}
        self.txq: deque[bytes] = deque()
        self.tx_busy = False
        self.txdone = None
        self.txbuf = tock.alloc(frames.MAX_PSDU)
        self.fresh: list[Packet] = []  # packets queued by the last ingest

    def start(self):
        """Composite: the RX ring, its handler and the TX-done queue (before anything can arrive)."""
        tock = self.tock
        if self.ring_slots < 2:
            raise AppError(f"ring must have at least 2 slots (one frame), not {self.ring_slots}")
        ring = yield from tock.radio_ring(self.ring_slots)
        if not isinstance(ring, Buffer):
            raise AppError(f"the radio refused the RX ring ({ring})")
        self.ring = self.probe.ring = ring
        yield tock.subscribe(D.RADIO, D.RADIO_UPCALL_RX, self._on_rx)
        self.txdone = yield from tock.upcall_queue(D.RADIO, D.RADIO_UPCALL_TX_DONE)

    def _on_rx(self, _lqi):
        pop = self.tock.ring_pop
        while (f := pop(self.ring)) is not None:
            self.rx.append(f)

    @property
    def pending(self) -> bool:
        """Radio work waiting for the main loop."""
        return bool(self.rx or self.txdone or (self.txq and not self.tx_busy))

    def wait(self, *queues):
        """Composite: yield-wait until one of ``queues`` or the radio has work, then take every upcall queued.

        Every upcall already queued is delivered before the loop decides anything: one yield delivers one.
        """
        while not (any(queues) or self.pending):
            yield YIELD_WAIT
        while (yield from self.tock.yield_no_wait()):
            pass

    # -- clients ----------------------------------------------------------------------
    def open(self, key, port: int, prio: int = 0) -> None:
        """``key`` (a pd, an index, an IPC id) now owns ``port``; a previous owner loses it."""
        old = self.port_of.pop(key, None)
        if old is not None and old != port and self.owner.get(old) == key:
            del self.owner[old]
        prev = self.owner.get(port)
        if prev is not None and prev != key:
            self.port_of.pop(prev, None)  # a new instance of the client took its port over
        self.owner[port] = key
        self.port_of[key] = port
        self.prio[port] = prio

    def gone(self, key) -> int | None:
        """Client ``key`` went away: its port is free and its packets are dropped."""
        self.probe.client_errors += 1
        port = self.port_of.pop(key, None)
        if port is None or self.owner.get(port) != key:
            return None
        del self.owner[port]
        lost = self.fifo.drop_port(port)
        if lost:
            self.probe.bump(self.probe.gone, port, len(lost))
        return port

    def request(self, key, msg: bytes) -> None:
        """A client's message: open a port, or a frame to transmit."""
        if not msg:
            return
        if msg[0] == OPEN and len(msg) >= 2:
            self.open(key, msg[1], msg[2] if len(msg) > 2 else 0)
        elif msg[0] == SEND and len(msg) > 1:
            self.transmit(msg[1:])

    # -- packets ----------------------------------------------------------------------
    def ingest(self):
        """Composite: process the frames taken from the ring; returns the packets dropped to make room."""
        victims: list[Packet] = []
        self.fresh = []
        probe = self.probe
        while self.rx:
            frame = self.rx.popleft()
            if self.cost_us:
                yield self.tock.compute(self.cost_us)
            t = frames.parse(frame)
            if t is None or t.port not in self.owner:
                probe.unclaimed += 1
                continue
            probe.bump(probe.taken, t.port)
            pkt = Packet(frame, t.port, t.seq, self.prio.get(t.port, 0))
            out = self.fifo.add(pkt)
            if pkt not in out:
                self.fresh.append(pkt)
            victims.extend(out)
            if len(self.fifo) > probe.fifo_max:
                probe.fifo_max = len(self.fifo)
        return victims

    def dropped(self, pkt: Packet) -> None:
        self.probe.bump(self.probe.dropped, pkt.port)

    def delivered(self, pkt: Packet) -> None:
        self.fifo.remove(pkt)
        self.probe.bump(self.probe.forwarded, pkt.port)

    # -- the radio's transmit side ----------------------------------------------------
    def transmit(self, frame: bytes) -> None:
        if len(frame) > frames.MAX_PSDU:
            self.probe.tx_dropped += 1
            return
        self.txq.append(bytes(frame))
        if len(self.txq) > SERVICE_TXQ:
            self.txq.popleft()
            self.probe.tx_dropped += 1

    def tx_pump(self):
        """Composite: note finished transmissions; start the next one (never waits for it)."""
        tock = self.tock
        while self.txdone:
            self.txdone.popleft()
            if self.tx_busy:
                self.tx_busy = False
                self.probe.transmitted += 1
        if self.tx_busy or not self.txq:
            return
        frame = self.txq.popleft()
        self.txbuf.write(frame)
        r = yield tock.allow_ro(D.RADIO, D.RADIO_ALLOW_TX, self.txbuf, len(frame))
        if _bad(r):
            self.probe.tx_dropped += 1
            return
        r = yield tock.command(D.RADIO, D.RADIO_CMD_SEND_RAW)
        if _bad(r):
            self.probe.tx_dropped += 1
            return
        self.tx_busy = True


# ---------------------------------------------------------------------------- parameters
def service_params(extra: dict | None = None) -> dict[str, Param]:
    """The parameters every Thread service takes."""
    out = {
        "name": Param("thread", "the name it registers"),
        "fifo": Param(4, "packets the service holds for clients (per client with per_client=true), "
                         "the one in flight included"),
        "per_client": Param(False, "one FIFO per client instead of one for all"),
        "drop": Param("oldest", "what a full FIFO drops", choices=("oldest", "newest")),
        "priority": Param(False, "serve higher-priority clients first, drop from the lowest"),
        "cost": Param(0.1, "processing per received frame, in ms (the Thread stack's work)", unit="ms"),
        "ring": Param(4, "slots of its radio RX ring (a ring of N holds N-1 frames)"),
    }
    out.update(extra or {})
    return out


def client_params(extra: dict | None = None) -> dict[str, Param]:
    """The parameters every Thread client takes."""
    out = {
        "name": Param("thread", "the service's name"),
        "port": Param(1, "the port it opens (0..255)"),
        "cost": Param(0.2, "processing per packet read, in ms (CPU: the timeslice can preempt it)", unit="ms"),
        "wait": Param(0, "then wait this long before taking the next packet, in ms (slow I/O: the CPU is "
                         "free meanwhile)", unit="ms"),
        "priority": Param(0, "its priority (with the service's priority=true; higher first)"),
        "send": Param(0, "send a frame every this many ms (0: never)", unit="ms"),
        "tries": Param(100, "discovery attempts, 10 ms apart"),
    }
    out.update(extra or {})
    return out


def check_port(port: int, priority: int) -> None:
    if not 0 <= port <= 255:
        raise AppError(f"a port is one byte (0..255), not {port}")
    if not 0 <= priority <= 255:
        raise AppError(f"a priority is one byte (0..255), not {priority}")


def process(tock, cost: float, wait: float):
    """Composite: a client's work on one packet: ``cost`` ms of CPU, then ``wait`` ms asleep."""
    if cost:
        yield tock.compute(cost * 1000)
    if wait:
        yield from tock.delay_ms(wait)


def start_sending(tock, period_ms: float, port: int, outq: deque):
    """Composite: every ``period_ms``, queue one frame for the service to transmit (oldest dropped when full)."""
    seq = [0]

    def tick():
        seq[0] += 1
        outq.append(frames.build(port, seq[0], seq[0], b"tx" + bytes([port])))
        if len(outq) > CLIENT_OUTQ:
            outq.popleft()

    if period_ms:
        yield from tock.every_ms(period_ms, tick)


# ---------------------------------------------------------------------------- the Mailbox design
@register("thread_service", service_params({
    "blocking": Param(False, "wait for each client to read before serving anything else (the anti-pattern: "
                             "then the service blocks on its clients)"),
}))
def thread_service(tock, name="thread", fifo=4, per_client=False, drop="oldest", priority=False, cost=0.1,
                   ring=4, blocking=False):
    """Thread service on the IPC Manager + Mailbox: owns the radio, pushes each port's packets to its client."""
    core = ServiceCore(tock, "mailbox", fifo, per_client, drop, priority, cost, ring)
    probe = core.probe
    inbox = tock.alloc(MAX_MSG)
    outbox = tock.alloc(MAX_MSG)
    waiting = yield from tock.upcall_queue(D.MAILBOX, MAILBOX_MESSAGE_WAITING)
    done = yield from tock.upcall_queue(D.MAILBOX, MAILBOX_SEND_DONE)
    yield tock.allow_rw(D.MAILBOX, 0, inbox)
    yield from core.start()
    r = yield from ipcmgr_register(tock, name)
    if _bad(r):
        yield from tock.print(f"thread_service: cannot register '{name}' ({r})")
        return
    inflight: Packet | None = None
    stale_done = 0   # send-done upcalls of messages already settled by a failed cancel
    last_port = None

    def settle_inflight(read: bool):
        # The message in flight left flight: read by its client, or taken back.
        nonlocal inflight, stale_done
        pkt, inflight = inflight, None
        pkt.inflight = False
        if read:
            core.delivered(pkt)
            stale_done += 1
        return pkt

    sent_now = False  # the message in flight was sent in this round: its client has not run yet
    while True:
        yield from core.wait(waiting, done)
        sent_now = False
        # Requests from clients: open a port, or transmit a frame.
        while waiting:
            pd, _n, _ = waiting.popleft()
            r = yield tock.command(D.MAILBOX, MAILBOX_READ, pd)
            if r.values:  # copied (whole, or truncated with SIZE)
                core.request(pd, inbox.read(min(r.values[0], inbox.len)))
        # A client read our message (status 0 or SIZE), or it died first (NODEVICE).
        while done:
            status, pd, _n = done.popleft()
            if stale_done:
                stale_done -= 1
                continue
            if inflight is None:
                continue
            pkt, inflight = inflight, None
            pkt.inflight = False
            if status == ErrorCode.NODEVICE:
                core.fifo.remove(pkt)
                probe.bump(probe.gone, pkt.port)
                core.gone(pd)
            else:
                core.delivered(pkt)
        victims = yield from core.ingest()
        for v in victims:
            if v is inflight:
                r = yield tock.command(D.MAILBOX, MAILBOX_CANCEL)
                read = not r.is_success  # INVAL: already read, its send-done upcall is on its way
                settle_inflight(read)
                if not read:
                    core.dropped(v)
            else:
                core.dropped(v)
        # Per-client FIFOs: do not let one unread message hold the only outgoing slot
        # while another client has a fresh packet.
        if (inflight is not None and per_client and not sent_now
                and any(p.port != inflight.port for p in core.fresh) and core.fifo.others_waiting(inflight.port)):
            r = yield tock.command(D.MAILBOX, MAILBOX_CANCEL)
            if r.is_success:
                probe.preempted += 1
                settle_inflight(read=False)  # it stays first in its client's FIFO
            else:
                settle_inflight(read=True)
        while inflight is None:
            pkt = core.fifo.next_send(lambda port: port in core.owner, last_port)
            if pkt is None:
                break
            pd = core.owner[pkt.port]
            r = yield from mailbox_send(tock, pd, pkt.frame, outbox)
            if r.is_success:
                pkt.inflight = True
                inflight = pkt
                last_port = pkt.port
                sent_now = True
            else:  # stale descriptor or the client hung up: it is gone
                core.gone(pd)
        if blocking and inflight is not None:
            probe.blocked_on = inflight.port
            while not done:
                yield YIELD_WAIT
            probe.blocked_on = None
        yield from core.tx_pump()


@register("thread_client", client_params())
def thread_client(tock, name="thread", port=1, cost=0.2, wait=0, priority=0, send=0, tries=100):
    """Thread client on the IPC Manager + Mailbox: opens a port, reads its packets (cost ms each), may send."""
    check_port(port, priority)
    probe = tock.statics[PROBE_KEY] = ClientProbe("mailbox", port)
    inbox = tock.alloc(MAX_MSG)
    outbox = tock.alloc(MAX_MSG)
    waiting = yield from tock.upcall_queue(D.MAILBOX, MAILBOX_MESSAGE_WAITING)
    done = yield from tock.upcall_queue(D.MAILBOX, MAILBOX_SEND_DONE)
    yield tock.allow_rw(D.MAILBOX, 0, inbox)
    outq: deque[bytes] = deque()
    yield from start_sending(tock, send, port, outq)
    pd = None
    busy = False  # our one outgoing message is in flight
    need_open = True
    while True:
        if pd is None:
            pd = yield from ipcmgr_discover(tock, name, tries=tries)
            if not isinstance(pd, int):
                yield from tock.print(f"thread_client: no service '{name}' ({pd})")
                return
            need_open, busy = True, False
        if (need_open or outq) and not busy:
            msg = bytes([OPEN, port, priority]) if need_open else bytes([SEND]) + outq[0]
            r = yield from mailbox_send(tock, pd, msg, outbox)
            if r.is_success:
                busy = True
                if need_open:
                    need_open = False
                    probe.opened += 1
                else:
                    outq.popleft()
                    probe.sent += 1
            elif r.error in (ErrorCode.NODEVICE, ErrorCode.INVAL):  # the service restarted or died
                yield tock.command(D.IPCMGR, IPCMGR_CLOSE, pd)
                pd = None
                continue
        while done:
            status, _pd, _n = done.popleft()
            busy = False
            if status == ErrorCode.NODEVICE:  # the service died before reading it
                yield tock.command(D.IPCMGR, IPCMGR_CLOSE, pd)
                pd = None
        if pd is None:
            continue
        if waiting:
            waiting.clear()
            while True:
                r = yield tock.command(D.MAILBOX, MAILBOX_READ, pd)
                if not r.values:
                    break  # taken back by the service, or nothing more
                probe.read(inbox.read(min(r.values[0], inbox.len)))
                yield from process(tock, cost, wait)
            continue
        if not (done or ((need_open or outq) and not busy)):
            yield YIELD_WAIT
