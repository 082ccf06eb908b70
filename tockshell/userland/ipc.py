"""IPC for app programs: the legacy driver as libtock-c wraps it, and the 2025-08 IPC Manager + Mailbox.

Every function is a composite (``yield from``) taking the app's ``tock``.

Legacy IPC (driver 0x10000, ``libtock-c: libtock/kernel/ipc.{h,c}``)::

    svc = yield from ipc_discover(tock, "org.tockos.examples.rot13")   # index, or a Failure
    yield from ipc_register_service(tock, "rot13", on_request)          # discovers itself, subscribes
    yield tock.subscribe(D.IPC, svc, on_reply)                          # ipc_register_client_callback
    yield tock.allow_rw(D.IPC, svc, buf)                                # ipc_share
    yield tock.command(D.IPC, 2, svc)                                   # ipc_notify_service

IPC Manager (0xA0100) and Mailbox (0xA0101), spec/ipc-2025.md::

    r = yield from ipcmgr_register(tock, "echo")
    pd = yield from ipcmgr_discover(tock, "echo", tries=50)             # pd, or the last Failure
    r = yield from mailbox_send(tock, pd, b"ping", buf)                 # Success, or why not
"""

from __future__ import annotations

from ..abi import SyscallReturn
from . import drivers as D

IPC_DISCOVER = 1
IPC_NOTIFY_SERVICE = 2
IPC_NOTIFY_CLIENT = 3
IPCMGR_REGISTER = 1
IPCMGR_DISCOVER = 2
IPCMGR_CLOSE = 3
IPCMGR_QUERY = 4
MAILBOX_SEND = 1
MAILBOX_READ = 2
MAILBOX_CANCEL = 3
MAILBOX_MESSAGE_WAITING = 0
MAILBOX_SEND_DONE = 1


def _name_buffer(tock, name: str | bytes):
    # One buffer per name for the whole run, as a C string literal would be.
    data = name.encode() if isinstance(name, str) else bytes(name)
    cache = tock.statics.setdefault("ipc.names", {})
    buf = cache.get(data)
    if buf is None:
        buf = cache[data] = tock.buffer(data)
    return buf


# ---------------------------------------------------------------------------- legacy IPC
def ipc_discover(tock, package: str | bytes):
    """``ipc_discover``: allow the name, command 1, un-allow. The service's index, or the Failure."""
    buf = _name_buffer(tock, package)
    r = yield tock.allow_ro(D.IPC, 0, buf)
    if not r.is_success:
        return r
    r = yield tock.command(D.IPC, IPC_DISCOVER)
    yield tock.allow_ro(D.IPC, 0, None)
    return r.value if r.is_success else r


def ipc_register_service(tock, package: str | bytes, handler, appdata: int = 0):
    """``ipc_register_service_callback``: discover its own package name, subscribe at its own index."""
    me = yield from ipc_discover(tock, package)
    if isinstance(me, SyscallReturn):
        return me
    return (yield tock.subscribe(D.IPC, me, handler, appdata))


def ipc_notify_service(tock, svc: int):
    return (yield tock.command(D.IPC, IPC_NOTIFY_SERVICE, svc))


def ipc_notify_client(tock, client: int):
    return (yield tock.command(D.IPC, IPC_NOTIFY_CLIENT, client))


# ---------------------------------------------------------------------------- IPC Manager + Mailbox
def ipcmgr_register(tock, name: str | bytes):
    """Register ``name`` with the IPC Manager (RO allow 0, command 1)."""
    r = yield tock.allow_ro(D.IPCMGR, 0, _name_buffer(tock, name))
    if not r.is_success:
        return r
    return (yield tock.command(D.IPCMGR, IPCMGR_REGISTER))


def ipcmgr_discover(tock, name: str | bytes, tries: int = 1, retry_ms: float = 10):
    """Discover ``name``: the process descriptor, or the last Failure after ``tries`` attempts.

    A service may register after its clients start (the discovery race), so
    clients retry every ``retry_ms`` as the Thread tutorial's screen app does.
    """
    r = yield tock.allow_ro(D.IPCMGR, 0, _name_buffer(tock, name))
    if not r.is_success:
        return r
    for attempt in range(max(1, tries)):
        r = yield tock.command(D.IPCMGR, IPCMGR_DISCOVER)
        if r.is_success:
            return r.value
        if attempt + 1 < tries:
            yield from tock.delay_ms(retry_ms)
    return r


def mailbox_send(tock, pd: int, data: bytes | str, buf=None):
    """Put ``data`` in the outgoing buffer (RO allow 0) and send it to ``pd``; the send's result."""
    if isinstance(data, str):
        data = data.encode()
    if buf is None or buf.len < len(data):
        buf = tock.alloc(max(len(data), 1))
    buf.write(data)
    r = yield tock.allow_ro(D.MAILBOX, 0, buf, len(data))
    if not r.is_success:
        return r
    return (yield tock.command(D.MAILBOX, MAILBOX_SEND, pd))
