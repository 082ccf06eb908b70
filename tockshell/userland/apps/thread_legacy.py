"""The Thread service on the legacy IPC (0x10000): shared buffer plus notify, as the Thread tutorial does.

Each client shares one 256-byte buffer, aligned to its length (the MPU's
rule), with the service (``allow-rw ipc SVC``) and notifies it. Legacy IPC
maps the client's buffer into the service at each notify, so the service
reads requests and writes packets *in the client's memory*; nothing is
copied by the kernel. The buffer has two halves, each guarded by a flag byte
so the two processes never write the same bytes at the same time::

    0..127    request, written by the client while byte 0 is 0:
              [OPEN, port, priority] or [SEND, len, frame...];
              the service sets byte 0 back to 0 when it has taken it
    128..255  packet, written by the service while byte 128 is 0:
              [1, len, frame...]; the client sets byte 128 back to 0 once
              it has copied the frame out, and notifies the service

A notify carries no data: it only says "look at my buffer". The service
learns a client's index, buffer address and length from the upcall
``(client_index, len, addr)``. So each client holds one packet at a time,
in its own buffer; the service's FIFO holds the rest.

Legacy limits that show here: the service's name is its TBF package name
(spawn it with ``package="thread"``); clients are process indices; every
notify adds an MPU region to the service and none is ever removed (6 slots),
so only the buffers of the first few notifies are mapped (enough for a
handful of clients: each client's first notify is its open).
"""

from __future__ import annotations

from collections import deque

from .. import drivers as D
from ..ipc import IPC_NOTIFY_CLIENT, IPC_NOTIFY_SERVICE, ipc_discover, ipc_register_service
from ..libtock import YIELD_WAIT
from . import register
from .thread import OPEN, PROBE_KEY, SEND, ClientProbe, ServiceCore, check_port, client_params, process, \
    service_params, start_sending

BUF_LEN = 256
HALF = 128
FULL = 1


@register("thread_service_legacy", service_params())
def thread_service_legacy(tock, name="thread", fifo=4, per_client=False, drop="oldest", priority=False,
                          cost=0.1, ring=4):
    """Thread service on legacy IPC: writes each packet into its client's shared buffer, then notifies it."""
    core = ServiceCore(tock, "legacy", fifo, per_client, drop, priority, cost, ring)
    probe = core.probe
    notes: deque = deque()

    def on_notify(client, length, addr):
        notes.append((client, length, addr))

    yield from core.start()
    r = yield from ipc_register_service(tock, name, on_notify)
    if not r.is_success:
        yield from tock.print(f"thread_service_legacy: cannot register '{name}' ({r}): no process has that "
                              f"package name")
        return
    buffers: dict[int, int] = {}  # client index -> the address of its shared buffer
    free: set[int] = set()        # clients whose packet half is empty
    last_port = None
    while True:
        yield from core.wait(notes)
        while notes:
            client, length, addr = notes.popleft()
            if length < BUF_LEN or addr == 0:
                probe.client_errors += 1  # nothing (or too little) shared: nothing to look at
                continue
            buffers[client] = addr
            op = tock.read(addr, 1)[0]
            if op == OPEN:
                port, prio = tock.read(addr + 1, 2)
                core.open(client, port, prio)
            elif op == SEND:
                n = min(tock.read(addr + 1, 1)[0], HALF - 2)
                core.transmit(tock.read(addr + 2, n))
            if op:
                tock.write(addr, b"\0")
            if tock.read(addr + HALF, 1)[0] == 0:
                free.add(client)
        for v in (yield from core.ingest()):
            core.dropped(v)
        while True:
            pkt = core.fifo.next_send(lambda port: core.owner.get(port) in free, last_port)
            if pkt is None:
                break
            client = core.owner[pkt.port]
            addr = buffers[client]
            tock.write(addr + HALF, bytes([FULL, len(pkt.frame)]) + pkt.frame)
            free.discard(client)
            last_port = pkt.port
            r = yield tock.command(D.IPC, IPC_NOTIFY_CLIENT, client)
            if r.is_success:
                core.delivered(pkt)
            else:  # not running any more (or its queue is full): it is gone
                core.fifo.remove(pkt)
                probe.bump(probe.gone, pkt.port)
                core.gone(client)
                buffers.pop(client, None)
        yield from core.tx_pump()


def _discover(tock, name: str, tries: int):
    # The Thread tutorial's screen app retries: the service may not be loaded yet.
    for attempt in range(max(1, tries)):
        svc = yield from ipc_discover(tock, name)
        if isinstance(svc, int):
            return svc
        if attempt + 1 < tries:
            yield from tock.delay_ms(10)
    return svc


@register("thread_client_legacy", client_params())
def thread_client_legacy(tock, name="thread", port=1, cost=0.2, wait=0, priority=0, send=0, tries=100):
    """Thread client on legacy IPC: shares a buffer with the service, reads the packets it writes there."""
    check_port(port, priority)
    probe = tock.statics[PROBE_KEY] = ClientProbe("legacy", port)
    svc = yield from _discover(tock, name, tries)
    if not isinstance(svc, int):
        yield from tock.print(f"thread_client_legacy: no service '{name}' ({svc})")
        return
    buf = tock.alloc(BUF_LEN, align=BUF_LEN)  # the MPU's rule: a power of two, aligned to its length
    buf.fill(0)
    notified = []

    def on_notify(_svc, _len, _addr):
        notified.append(1)

    outq: deque[bytes] = deque()
    yield tock.subscribe(D.IPC, svc, on_notify)
    yield tock.allow_rw(D.IPC, svc, buf)
    yield from start_sending(tock, send, port, outq)
    buf.write(bytes([OPEN, port, priority]))
    probe.opened += 1
    yield tock.command(D.IPC, IPC_NOTIFY_SERVICE, svc)
    while True:
        while not (notified or (outq and buf.read(1)[0] == 0)):
            yield YIELD_WAIT
        notified.clear()
        tell = False
        if buf.read(1, HALF)[0] == FULL:
            n = buf.read(1, HALF + 1)[0]
            probe.read(buf.read(min(n, HALF - 2), HALF + 2))
            yield from process(tock, cost, wait)
            buf.write(b"\0", HALF)  # done with it: the service may write the next one
            tell = True
        if outq and buf.read(1)[0] == 0:
            f = outq.popleft()
            buf.write(bytes([SEND, len(f)]) + f)
            probe.sent += 1
            tell = True
        if tell:
            yield tock.command(D.IPC, IPC_NOTIFY_SERVICE, svc)
