"""A small harness for the IPC tests: manual processes driven through real syscalls.

Not a test module of its own (it defines no tests); the IPC, Mailbox and
legacy IPC tests import it.
"""

from __future__ import annotations

from tockshell.abi import SyscallClass as C
from tockshell.board import build_board
from tockshell.capsules.ipc_manager import DRIVER_NUM as IPCMGR
from tockshell.capsules.mailbox import DRIVER_NUM as MAILBOX

LEGACY = 0x10000


class World:
    """A default board plus helpers that issue syscalls as a manual process would."""

    def __init__(self, fault_policy: str = "restart", **kw):
        self.board = build_board(fault_policy=fault_policy, **kw)
        self.k = self.board.kernel
        self.mgr = self.board.driver("ipcmgr")
        self.mb = self.board.driver("mailbox")
        self.legacy = self.board.driver("ipc")
        self._heap: dict[int, int] = {}

    def spawn(self, name: str, **kw):
        p = self.k.create_process(name, **kw)
        return p

    # -- memory --------------------------------------------------------------------
    def put(self, p, data: bytes, align: int = 4) -> int:
        """Place bytes in p's heap (a bump allocator reset at each instance) and return the address."""
        key = (p.index, p.identifier)
        start = self._heap.get(key, self.k.crt0_layout(p)[1])
        addr = (start + align - 1) // align * align
        self._heap[key] = addr + max(len(data), 1)
        if data:
            p.write(addr, data)
        return addr

    def fn(self, p, n: int = 0) -> int:
        """A valid upcall function pointer in p's flash."""
        return p.flash_non_protected_start + 0x40 + 4 * n

    # -- syscalls ------------------------------------------------------------------
    def cmd(self, p, drv: int, cmd: int, a0: int = 0, a1: int = 0):
        return self.k.syscall(p, C.COMMAND, drv, cmd, a0, a1)

    def allow_ro(self, p, drv: int, num: int, data: bytes | None):
        if data is None:
            return self.k.syscall(p, C.ALLOW_RO, drv, num, 0, 0)
        return self.k.syscall(p, C.ALLOW_RO, drv, num, self.put(p, data), len(data))

    def allow_rw(self, p, drv: int, num: int, length: int, align: int = 4):
        addr = self.put(p, bytes(length), align) if length else 0
        r = self.k.syscall(p, C.ALLOW_RW, drv, num, addr, length)
        assert r.is_success, r
        return addr

    def subscribe(self, p, drv: int, num: int, fn: int | None = None):
        return self.k.syscall(p, C.SUBSCRIBE, drv, num, self.fn(p, num) if fn is None else fn, 0)

    def register(self, p, name: bytes):
        self.allow_ro(p, IPCMGR, 0, name)
        return self.cmd(p, IPCMGR, 1)

    def discover(self, p, name: bytes):
        self.allow_ro(p, IPCMGR, 0, name)
        return self.cmd(p, IPCMGR, 2)

    def send(self, p, pd: int, data: bytes | None):
        if data is not None:
            self.allow_ro(p, MAILBOX, 0, data)
        return self.cmd(p, MAILBOX, 1, pd)

    def read(self, p, pd: int = 0):
        return self.cmd(p, MAILBOX, 2, pd)

    def cancel(self, p):
        return self.cmd(p, MAILBOX, 3)

    # -- upcalls -------------------------------------------------------------------
    def queued(self, p, drv: int | None = None, num: int | None = None) -> list[tuple[int, int, int]]:
        """Arguments of p's queued upcalls from (drv, num), oldest first."""
        out = []
        for t in p.tasks:
            uid = t.upcall_id
            if uid is None:
                continue
            if (drv is None or uid.driver_num == drv) and (num is None or uid.subscribe_num == num):
                out.append(tuple(t.args))
        return out

    def notes(self) -> list[str]:
        return [r.data[0] for r in self.k.log if r.kind == "note"]

    def last_note(self) -> str:
        return self.notes()[-1]


def pair(w: World, svc_name: str = "svc", cli_name: str = "cli", name: bytes = b"echo", **kw):
    """A service registered under ``name`` and a client that discovered it: (svc, cli, cli_pd, svc_pd)."""
    s = w.spawn(svc_name, **kw)
    c = w.spawn(cli_name, **kw)
    assert w.register(s, name).is_success
    r = w.discover(c, name)
    assert r.is_success, r
    svc_pd = w.queued(s, IPCMGR, 0)[-1][0]
    return s, c, r.value, svc_pd
