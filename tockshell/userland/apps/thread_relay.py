"""The Thread service on Tock's 2026 capsules: IPC Registry String Name + IPC Relay Request (pull model).

Upstream built no server push (Relay Message is designed, not implemented),
so clients *pull*: each keeps one request open at the service, "give me my
next packet", and the service answers from its FIFO (reference/tock-ipc.md
§2.4, §3.5). The service never waits on a client, as Relay Request wants:

* a request from a client it does not know yet (the open) is fetched at
  once (0x23) and answered;
* a request from a known client whose FIFO is empty is **parked**: left
  unfetched in the capsule, so the service stays free; when a packet for
  that client arrives, the service fetches the request and answers it with
  the packet;
* a second "request waiting" upcall from a parked client means it cancelled
  its request and made a new one (to send a frame): it is fetched at once.

Requests (the client's RO allow 0): ``[OPEN, port, priority]``, ``[NEXT]``
or ``[SEND] + frame``; every answer (the client's RW allow 0) is the next
packet for the client, or empty. The service's name is a 20-byte string in
the string-name registry; clients discover its IPC Identifier there.
"""

from __future__ import annotations

from collections import deque

from ...abi import ErrorCode
from .. import drivers as D
from ..libtock import YIELD_WAIT
from . import register
from .thread import MAX_MSG, NEXT, OPEN, PROBE_KEY, SEND, ClientProbe, ServiceCore, check_port, client_params, \
    process, service_params, start_sending

NAME_LEN = 20
REG_REGISTERED = 0
REG_DISCOVERED = 1
RELAY_RESPONSE = 0
RELAY_REQUEST_WAITING = 1
CMD_REGISTER = 1
CMD_DISCOVER = 2
CMD_SEND_REQUEST = 0x10
CMD_CANCEL = 0x11
CMD_ENABLE = 0x20
CMD_GET_FROM = 0x23
CMD_RESPOND = 0x24
MASK32 = 0xFFFF_FFFF


def _name20(tock, name: str):
    data = name.encode()[:NAME_LEN].ljust(NAME_LEN, b"\0")
    cache = tock.statics.setdefault("thread.names", {})
    if data not in cache:
        cache[data] = tock.buffer(data)
    return cache[data]


@register("thread_service_relay", service_params())
def thread_service_relay(tock, name="thread", fifo=4, per_client=False, drop="oldest", priority=False,
                         cost=0.1, ring=4):
    """Thread service on the 2026 registry + Relay Request: answers each client's open request from its FIFO."""
    core = ServiceCore(tock, "relay", fifo, per_client, drop, priority, cost, ring)
    probe = core.probe
    inbox = tock.alloc(MAX_MSG)
    outbox = tock.alloc(MAX_MSG)
    registered = yield from tock.upcall_queue(D.REGISTRY_NAME, REG_REGISTERED)
    yield tock.allow_ro(D.REGISTRY_NAME, 0, _name20(tock, name))
    r = yield tock.command(D.REGISTRY_NAME, CMD_REGISTER)
    status = None
    if r.is_success:
        status = (yield from tock.next_upcall(registered))[0]
    if not r.is_success or status != 0:
        yield from tock.print(f"thread_service_relay: cannot register '{name}' ({r})")
        return
    requests = yield from tock.upcall_queue(D.RELAY, RELAY_REQUEST_WAITING)
    yield from core.start()
    yield tock.allow_rw(D.RELAY, 0, inbox)
    yield tock.command(D.RELAY, CMD_ENABLE)  # also creates the grant: no Yield-WaitFor hang
    parked: set[int] = set()   # clients whose request waits unfetched
    last_port = None

    def serve(cid: int):
        """Fetch ``cid``'s request and answer it with its next packet (or nothing)."""
        nonlocal last_port
        parked.discard(cid)
        r = yield tock.command(D.RELAY, CMD_GET_FROM, cid & MASK32, cid >> 32)
        if not r.is_success and r.error is not ErrorCode.SIZE:
            return  # it cancelled, or it is gone: nothing to answer
        msg = inbox.read(min(r.values[0], inbox.len)) if r.is_success else inbox.read()
        core.request(cid, msg)
        port = core.port_of.get(cid)
        pkt = core.fifo.waiting(port) if port is not None else None
        if pkt is not None:
            outbox.write(pkt.frame)
        yield tock.allow_ro(D.RELAY, 0, outbox, len(pkt.frame) if pkt is not None else 0)
        r = yield tock.command(D.RELAY, CMD_RESPOND)
        if pkt is not None and r.is_success:
            core.delivered(pkt)
            last_port = pkt.port
        elif not r.is_success:
            probe.client_errors += 1  # dropped by the capsule: the client cancelled or died; the packet stays

    while True:
        yield from core.wait(requests)
        while requests:
            lo, hi, _ = requests.popleft()
            cid = (hi << 32) | lo
            port = core.port_of.get(cid)
            if port is None or cid in parked or core.fifo.waiting(port) is not None:
                yield from serve(cid)
            else:
                parked.add(cid)
        for v in (yield from core.ingest()):
            core.dropped(v)
        while parked:
            pkt = core.fifo.next_send(lambda port: core.owner.get(port) in parked, last_port)
            if pkt is None:
                break
            yield from serve(core.owner[pkt.port])
        yield from core.tx_pump()


def _discover(tock, name: str, tries: int):
    """(the service's IPC Identifier, 0), or (None, the last status) after ``tries`` attempts 10 ms apart."""
    found = yield from tock.upcall_queue(D.REGISTRY_NAME, REG_DISCOVERED)
    yield tock.allow_ro(D.REGISTRY_NAME, 0, _name20(tock, name))
    status = ErrorCode.NODEVICE
    for attempt in range(max(1, tries)):
        found.clear()
        r = yield tock.command(D.REGISTRY_NAME, CMD_DISCOVER)
        if r.is_success:
            status, lo, hi = yield from tock.next_upcall(found)
            if status == 0:
                return (hi << 32) | lo, 0
        if attempt + 1 < tries:
            yield from tock.delay_ms(10)
    return None, ErrorCode(status)


@register("thread_client_relay", client_params())
def thread_client_relay(tock, name="thread", port=1, cost=0.2, wait=0, priority=0, send=0, tries=100):
    """Thread client on Relay Request: keeps one request open at the service; each answer is its next packet."""
    check_port(port, priority)
    probe = tock.statics[PROBE_KEY] = ClientProbe("relay", port)
    req = tock.alloc(MAX_MSG)
    resp = tock.alloc(MAX_MSG)
    answers = yield from tock.upcall_queue(D.RELAY, RELAY_RESPONSE)
    yield tock.allow_rw(D.RELAY, 0, resp)
    outq: deque[bytes] = deque()
    yield from start_sending(tock, send, port, outq)
    sid = None
    need_open = True
    open_request = False   # a request is open at the service
    cancelling = False
    while True:
        if sid is None:
            sid, status = yield from _discover(tock, name, tries)
            if sid is None:
                yield from tock.print(f"thread_client_relay: no service '{name}' ({status.name})")
                return
            need_open, open_request, cancelling = True, False, False
        if outq and open_request and not need_open and not cancelling:
            # One transaction at a time: take back the parked "next" to send this frame.
            r = yield tock.command(D.RELAY, CMD_CANCEL)
            cancelling = r.is_success
        while answers:
            status, n, _ = answers.popleft()
            if status == ErrorCode.CANCEL:
                cancelling = open_request = False
                continue
            open_request = False
            if status in (0, ErrorCode.SIZE) and n:
                # Work on it before asking for the next one: the service holds the rest.
                probe.read(resp.read(min(n, resp.len)))
                yield from process(tock, cost, wait)
        if not open_request and not cancelling:
            if need_open:
                msg = bytes([OPEN, port, priority])
            elif outq:
                msg = bytes([SEND]) + outq[0]
            else:
                msg = bytes([NEXT])
            req.write(msg)
            yield tock.allow_ro(D.RELAY, 0, req, len(msg))
            r = yield tock.command(D.RELAY, CMD_SEND_REQUEST, sid & MASK32, sid >> 32)
            if r.is_success:
                open_request = True
                if need_open:
                    need_open = False
                    probe.opened += 1
                elif msg[0] == SEND:
                    outq.popleft()
                    probe.sent += 1
            elif r.error is ErrorCode.UNINSTALLED:
                yield from tock.delay_ms(10)  # registered, but requests not enabled yet
            else:  # NODEVICE: the service restarted or died; find it again
                sid = None
        if sid is not None and not answers and (open_request or cancelling):
            yield YIELD_WAIT
