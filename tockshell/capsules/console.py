"""Console (0x1, ``capsules/core/src/console.rs``): UART at 115200 baud, output captured per process.

Command 1 writes ``arg0`` bytes of RO allow 1 (upcall 1 with the count when
sent); command 2 reads ``arg0`` bytes into RW allow 1 (upcall 2 with
(statuscode, bytes read)); command 3 aborts a read. Like Tock's, command 0
enters the grant, so it allocates it as a side effect. One transmission is on
the wire at a time; other writers wait their turn, as in Tock.
"""

from __future__ import annotations

from collections import deque

from ..abi import ErrorCode, SyscallReturn
from ..kernel import GrantError, GrantSpec, SyscallDriver

BAUD = 115_200
NS_PER_BYTE = 10 * 1_000_000_000 // BAUD  # 8N1: ten bits a byte


class ConsoleApp:
    __slots__ = ("write_len", "pending_write", "read_len", "read_buf")

    def __init__(self):
        self.write_len = 0
        self.pending_write = False
        self.read_len = 0
        self.read_buf = bytearray()

    def __repr__(self):
        parts = []
        if self.pending_write:
            parts.append(f"write of {self.write_len} B in progress")
        if self.read_len:
            parts.append(f"read of {self.read_len} B pending ({len(self.read_buf)} received)")
        return ", ".join(parts) or "idle"


class Console(SyscallDriver):
    driver_num = 0x1
    name = "console"
    summary = "UART console: cmd 1 N writes RO allow 1 (upcall 1), cmd 2 N reads into RW allow 1 (upcall 2)"

    def __init__(self):
        self.output: dict[int, bytearray] = {}  # by process slot: what each process wrote
        self.transcript: list[tuple[int, str, bytes]] = []  # (time, name, bytes), board-wide
        self._queue: deque = deque()
        self._busy = False
        super().__init__()

    def make_grant(self):
        return GrantSpec(self.driver_num, upcalls=3, allow_ro=2, allow_rw=2, data_size=16,
                         data_factory=ConsoleApp)

    def command(self, cmd, arg0, arg1, pid):
        if cmd not in (0, 1, 2, 3):
            return SyscallReturn.failure(ErrorCode.NOSUPPORT)
        try:
            g = self.kernel.enter_grant(pid, self)
        except GrantError as e:
            return SyscallReturn.failure(e.error_code)
        app: ConsoleApp = g.data
        if cmd == 0:
            return SyscallReturn.success()
        if cmd == 1:
            if app.pending_write:
                return SyscallReturn.failure(ErrorCode.BUSY)
            _, length = self.kernel.ro_buffer(pid, self, 1)
            app.write_len = min(arg0, length)
            app.pending_write = True
            self._queue.append(pid)
            self._pump()
            return SyscallReturn.success()
        if cmd == 2:
            if app.read_len:
                return SyscallReturn.failure(ErrorCode.BUSY)
            _, length = self.kernel.rw_buffer(pid, self, 1)
            n = min(arg0, length)
            if n == 0:
                return SyscallReturn.failure(ErrorCode.SIZE)
            app.read_len = n
            app.read_buf = bytearray()
            return SyscallReturn.success()
        # cmd 3: abort the read
        if not app.read_len:
            return SyscallReturn.failure(ErrorCode.FAIL)
        self._finish_read(pid, app, ErrorCode.CANCEL)
        return SyscallReturn.success()

    # -- transmit -------------------------------------------------------------------
    def _pump(self) -> None:
        k = self.kernel
        while self._queue and not self._busy:
            pid = self._queue.popleft()
            g = k.grant_of(pid, self)
            if g is None or not g.data.pending_write:
                continue
            self._busy = True
            n = g.data.write_len
            k.schedule_hw(max(1, n) * NS_PER_BYTE, lambda pid=pid: self._write_done(pid),
                          "console write done")

    def _write_done(self, pid) -> str:
        k = self.kernel
        self._busy = False
        g = k.grant_of(pid, self)
        p = k.lookup(pid)
        if g is None or p is None:
            self._pump()
            return "console: a write finished for a process that is gone"
        app: ConsoleApp = g.data
        addr, length = k.ro_buffer(pid, self, 1)
        n = min(app.write_len, length)
        data = k.read_buffer(pid, addr, n) if n else b""
        app.pending_write = False
        self.output.setdefault(p.index, bytearray()).extend(data)
        self.transcript.append((k.now, p.name, data))
        k.schedule_upcall(pid, self.driver_num, 1, (n, 0, 0))
        self._pump()
        return f"console: {p.name} wrote {_show(data)}"

    # -- receive --------------------------------------------------------------------
    def input(self, data: bytes) -> str:
        """Bytes arriving on the UART: they fill the first pending read, or are dropped."""
        for p, g in self.grant_holders():
            if g.data.read_len:
                app: ConsoleApp = g.data
                take = data[: app.read_len - len(app.read_buf)]
                app.read_buf.extend(take)
                if len(app.read_buf) >= app.read_len:
                    self._finish_read(p.pid, app, None)
                    return f"console input {_show(take)} completed {p.name}'s read"
                return f"console input {_show(take)} for {p.name} ({len(app.read_buf)}/{app.read_len} bytes)"
        return f"console input {_show(data)} dropped: no process is reading"

    def _finish_read(self, pid, app: ConsoleApp, err: ErrorCode | None) -> None:
        k = self.kernel
        addr, length = k.rw_buffer(pid, self, 1)
        data = bytes(app.read_buf[:length])
        if data:
            k.write_buffer(pid, addr, data)
        app.read_len = 0
        app.read_buf = bytearray()
        k.schedule_upcall(pid, self.driver_num, 2, (0 if err is None else int(err), len(data), 0))

    def output_of(self, process) -> bytes:
        return bytes(self.output.get(process.index, b""))

    def reset(self):
        self.output.clear()
        self.transcript.clear()
        self._queue.clear()
        self._busy = False


def _show(data: bytes) -> str:
    text = data.decode("utf-8", "backslashreplace")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'
