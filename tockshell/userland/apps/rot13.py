"""rot13_service / rot13_client on the legacy IPC (after libtock-c's examples of those names).

The client shares a 64-byte, 64-aligned buffer ``{u8 length; char text[63]}``
with the service and notifies it; the service rot13s the text *in place in
the client's memory* (legacy IPC maps the client's buffer into the service
with an MPU region) and notifies the client back; the client prints the
text, waits ``period`` and notifies again, forever.
"""

from __future__ import annotations

from .. import drivers as D
from ..ipc import IPC_NOTIFY_CLIENT, IPC_NOTIFY_SERVICE, ipc_discover, ipc_register_service
from . import Param, register

BUF_LEN = 64


def rot13(data: bytes) -> bytes:
    out = bytearray(data)
    for i, c in enumerate(out):
        if 65 <= c <= 90:
            out[i] = (c - 65 + 13) % 26 + 65
        elif 97 <= c <= 122:
            out[i] = (c - 97 + 13) % 26 + 97
    return bytes(out)


@register("rot13_service", {
    "name": Param("rot13", "its own package name (spawn it with that name or package=)"),
    "delay": Param(0, "wait this long before subscribing, in ms (shows the discovery race)", unit="ms"),
})
def rot13_service(tock, name="rot13", delay=0):
    """Legacy IPC service: rot13s the client's shared buffer in place, then notifies the client."""

    def on_request(client, length, addr):
        if length < 1 or addr == 0:
            return  # nothing shared: nothing to do, and no notify (the client hangs, as in libtock-c)
        n = min(tock.read(addr, 1)[0], length - 1)
        tock.write(addr + 1, rot13(tock.read(addr + 1, n)))
        yield tock.command(D.IPC, IPC_NOTIFY_CLIENT, client)

    if delay:
        # A notify that arrives now finds no upcall subscribed: it is lost, and nobody is told.
        yield from tock.delay_ms(delay)
    r = yield from ipc_register_service(tock, name, on_request)
    if not r.is_success:
        yield from tock.print(f"rot13_service: cannot register '{name}' ({r}): no process has that package name")


@register("rot13_client", {
    "service": Param("rot13", "package name of the service"),
    "text": Param("Hello World!", "the text sent to be rot13'd (at most 63 bytes)"),
    "period": Param(500, "time between requests, in ms", unit="ms"),
})
def rot13_client(tock, service="rot13", text="Hello World!", period=500):
    """Legacy IPC client: shares a buffer with rot13_service, notifies it, prints each answer."""
    svc = yield from ipc_discover(tock, service)
    if not isinstance(svc, int):
        yield from tock.print(f"No rot13 service ({svc})")
        return
    data = text.encode()[: BUF_LEN - 1]
    buf = tock.alloc(BUF_LEN, align=BUF_LEN)  # MPU rules: a power of two, aligned to its length
    buf.write(bytes([len(data)]) + data)

    def on_reply(_svc, _len, _addr):
        n = buf.read(1)[0]
        yield from tock.print(buf.read(n, 1).decode("utf-8", "replace"))
        yield from tock.delay_ms(period)
        yield tock.command(D.IPC, IPC_NOTIFY_SERVICE, svc)

    yield tock.subscribe(D.IPC, svc, on_reply)
    yield tock.allow_rw(D.IPC, svc, buf)
    yield tock.command(D.IPC, IPC_NOTIFY_SERVICE, svc)
