"""echo_service / echo_client on the IPC Manager and the Mailbox (spec/ipc-2025.md), name "echo".

The service registers the name and answers every message with the same
bytes. The client discovers the name (retrying, since the service may
register later), sends ``text N``, waits for the send to complete (the
service has read it) and for the reply, reads it and prints it. A stale
descriptor (the service restarted) or a failed send makes it close the
descriptor and discover again, as the 2025-08 notes expect clients to.
"""

from __future__ import annotations

from ...abi import ErrorCode
from .. import drivers as D
from ..ipc import (IPCMGR_CLOSE, MAILBOX_MESSAGE_WAITING, MAILBOX_READ, MAILBOX_SEND_DONE, ipcmgr_discover,
                   ipcmgr_register, mailbox_send)
from . import Param, register


@register("echo_service", {"name": Param("echo", "the IPC Manager name it registers"),
                           "size": Param(64, "bytes of its incoming buffer (RW allow 0)")})
def echo_service(tock, name="echo", size=64):
    """Mailbox service: registers "echo" and sends every message back to its sender."""
    inbox = tock.alloc(size)
    outbox = tock.alloc(size)
    # Subscribe before registering: a client may send as soon as the name exists.
    waiting = yield from tock.upcall_queue(D.MAILBOX, MAILBOX_MESSAGE_WAITING)
    done = yield from tock.upcall_queue(D.MAILBOX, MAILBOX_SEND_DONE)
    yield tock.allow_rw(D.MAILBOX, 0, inbox)
    r = yield from ipcmgr_register(tock, name)
    if not r.is_success:
        yield from tock.print(f"echo_service: cannot register '{name}' ({r})")
        return
    while True:
        sender_pd, _length, _ = yield from tock.next_upcall(waiting)
        r = yield tock.command(D.MAILBOX, MAILBOX_READ, sender_pd)
        if not r.values:
            continue  # withdrawn, or its sender is gone
        n = r.values[0]  # copied (the message is consumed even when truncated)
        done.clear()
        r = yield from mailbox_send(tock, sender_pd, inbox.read(n), outbox)
        if r.is_success:
            # One message in flight at a time: wait until the client has read the reply.
            yield from tock.next_upcall(done)


@register("echo_client", {
    "name": Param("echo", "the IPC Manager name of the service"),
    "text": Param("ping", "what it sends (a counter is appended)"),
    "count": Param(3, "requests to make (0: forever)"),
    "period": Param(500, "time between requests, in ms", unit="ms"),
    "tries": Param(50, "discovery attempts, 10 ms apart"),
})
def echo_client(tock, name="echo", text="ping", count=3, period=500, tries=50):
    """Mailbox client: sends "ping N" to "echo", prints each reply."""
    inbox = tock.alloc(64)
    outbox = tock.alloc(64)
    waiting = yield from tock.upcall_queue(D.MAILBOX, MAILBOX_MESSAGE_WAITING)
    done = yield from tock.upcall_queue(D.MAILBOX, MAILBOX_SEND_DONE)
    yield tock.allow_rw(D.MAILBOX, 0, inbox)
    pd = None
    i = 0
    while count == 0 or i < count:
        if pd is None:
            pd = yield from ipcmgr_discover(tock, name, tries=tries)
            if not isinstance(pd, int):
                yield from tock.print(f"echo_client: no service '{name}' ({pd})")
                return
        msg = f"{text} {i}"
        waiting.clear()
        done.clear()
        r = yield from mailbox_send(tock, pd, msg, outbox)
        if r.is_success:
            status = (yield from tock.next_upcall(done))[0]  # the service has read it
        else:
            status = int(r.error)
        if status not in (0, ErrorCode.SIZE):
            yield from tock.print(f"echo_client: '{msg}' not delivered ({ErrorCode(status).name}); "
                                  f"discovering '{name}' again")
            yield tock.command(D.IPCMGR, IPCMGR_CLOSE, pd)
            pd = None
            continue
        yield from tock.next_upcall(waiting)
        r = yield tock.command(D.MAILBOX, MAILBOX_READ, pd)
        if r.values:
            yield from tock.print(f"echo_client: reply '{inbox.read(r.values[0]).decode('utf-8', 'replace')}'")
        i += 1
        if count == 0 or i < count:
            yield from tock.delay_ms(period)
