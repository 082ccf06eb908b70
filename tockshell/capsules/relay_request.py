"""IPC Relay Request (``relay``, 0xA0010), as Tock's 2026 branches code it (reference/tock-ipc.md §2.4).

Client-to-server request and response, single copy, allow to allow:

* a client sends a request to a server's IPC Identifier (command 0x10); no
  byte moves, the server only gets upcall 1 ``(client_lo, client_hi, 0)``;
* the server fetches a request (0x22 any, round-robin; 0x23 from one client):
  the client's RO allow 0 is copied into the server's RW allow 0 *now*;
* the server answers (0x24): its RO allow 0 is copied into the client's RW
  allow 0 and the client gets upcall 0 ``(0 or SIZE, len, 0)``.

Nothing is buffered in the capsule: the per-process grant holds only the
transaction state, whether requests are enabled, and the round-robin offset.
Properties kept as coded: a server crash leaves its clients stuck (no
process-state hook: clients must time out and cancel), a cancel leaves the
server's "request waiting" upcall queued (spurious upcalls), and a server whose
first contact with the capsule is yield-wait-for has no grant, so no client can
reach it.

Return variants: 0x22/0x23 answer ``Success(u32 len, u64 client_id)``
(TRD104 ``Success with u32 and u64``, r0 = 133) or ``Failure(err, u64)``
(``Failure with u64``, r0 = 3) carrying the client id on truncation (SIZE)
and 0 on every other failure; every other command answers plain
``Success`` / ``Failure(err)``.
"""

from __future__ import annotations

import attrs

from ..abi import ErrorCode, SyscallReturn
from ..kernel import GrantError, GrantSpec, MemoryFault, SyscallDriver
from .registry import format_ipc_id, ipc_id_from_halves, ipc_id_halves, ipc_identifier

#: Upcalls (subscribe numbers).
CLIENT_RESPONSE_RECEIVED = 0
SERVER_REQUEST_WAITING = 1

CMD_EXISTS = 0x0
CMD_SEND_REQUEST = 0x10
CMD_CANCEL = 0x11
CMD_ENABLE = 0x20
CMD_DISABLE = 0x21
CMD_GET_ANY = 0x22
CMD_GET_FROM = 0x23
CMD_SEND_RESPONSE = 0x24

SCAN_MODES = ("round_robin", "last_match")


@attrs.frozen
class ClientTransaction:
    """The process waits for a response from ``server`` (an IPC Identifier)."""

    server: int

    def describe(self) -> str:
        return f"client of {format_ipc_id(self.server)}"


@attrs.frozen
class ServerTransaction:
    """The process holds ``client``'s request and owes it a response."""

    client: int

    def describe(self) -> str:
        return f"serving {format_ipc_id(self.client)}"


class RelayApp:
    """Per-process grant data (``App`` of the capsule plus the fairness branch's offset)."""

    __slots__ = ("transaction", "requests_enabled", "iteration_offset")

    def __init__(self) -> None:
        self.transaction: ClientTransaction | ServerTransaction | None = None
        self.requests_enabled = False
        self.iteration_offset = 0


class RelayStats:
    """Counters for ``stats``."""

    __slots__ = ("requests", "delivered", "responses", "bytes_copied", "truncated", "cancels",
                 "uninstalled", "dropped_responses", "failures")

    def __init__(self) -> None:
        self.requests = 0           # 0x10 that succeeded
        self.delivered = 0          # requests copied to a server (0x22 / 0x23)
        self.responses = 0          # responses copied to a client (0x24)
        self.bytes_copied = 0       # both directions
        self.truncated = 0          # copies that did not fit (SIZE)
        self.cancels = 0            # 0x11 that succeeded
        self.uninstalled = 0        # clients completed with UNINSTALLED by a disable
        self.dropped_responses = 0  # 0x24 whose client had gone (NODEVICE)
        self.failures = 0           # commands that returned a failure

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__slots__}


class IpcRelayRequest(SyscallDriver):
    """IPC Relay Request (0xA0010): one outstanding request per client, one transaction per server."""

    driver_num = 0xA0010
    name = "relay"
    summary = ("IPC relay request: client 0x10 send to (id_lo, id_hi) / 0x11 cancel; server 0x20 enable / "
               "0x21 disable / 0x22 get any / 0x23 get from id / 0x24 respond; "
               "upcall 0 response (status, len), 1 request waiting (client_lo, client_hi)")

    def __init__(self) -> None:
        self.scan = "round_robin"
        self.fail_copies = 0
        self._stats = RelayStats()
        super().__init__()

    def make_grant(self):
        # App { transaction: enum of (None | Client(u64-ish) | Server(..)) = 12 B, requests_enabled: bool,
        # iteration_offset: usize } = 20 B with padding; 2 upcalls, 1 RO allow, 1 RW allow.
        return GrantSpec(self.driver_num, upcalls=2, allow_ro=1, allow_rw=1, data_size=20,
                         data_factory=RelayApp)

    # -- configuration and introspection --------------------------------------------------
    def stats(self) -> dict[str, int]:
        """requests, delivered, responses, bytes_copied, truncated, cancels, uninstalled,
        dropped_responses, failures."""
        return self._stats.as_dict()

    def reset_stats(self) -> None:
        """``stats reset``."""
        self._stats = RelayStats()

    def reset(self) -> None:
        self._stats = RelayStats()
        self.fail_copies = 0
        self.scan = "round_robin"

    def config_keys(self) -> dict[str, str]:
        return {"scan": self.scan, "fail_copies": str(self.fail_copies)}

    def config_help(self) -> dict[str, str]:
        return {"scan": "which waiting client get-any (0x22) serves: round_robin (fairness branch) | "
                        "last_match (dev/ipc-initial)",
                "fail_copies": "make the next N buffer copies fail (fault injection), 0: none"}

    def set_config(self, key: str, value) -> None:
        if key == "scan":
            if value not in SCAN_MODES:
                raise ValueError(f"relay.scan is round_robin (dev/ipc-relay-request-fairness) or "
                                 f"last_match (dev/ipc-initial), not "
                                 f"{', '.join(map(str, value)) if isinstance(value, tuple) else repr(value)}")
            self.scan = value
        elif key == "fail_copies":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                shown = ("on" if value else "off") if isinstance(value, bool) else repr(value)
                raise ValueError(f"relay.fail_copies is a count of copies to fail (0 or more), not {shown}")
            self.fail_copies = value
        else:
            raise ValueError(f"relay has no setting '{key}' (it has: scan, fail_copies)")

    def describe_grant(self, data) -> str:
        if data is None:
            return ""
        parts = ["idle" if data.transaction is None else data.transaction.describe(),
                 "requests enabled" if data.requests_enabled else "requests disabled"]
        if self.scan == "round_robin":
            parts.append(f"next scan from slot {data.iteration_offset}")
        return "; ".join(parts)

    def transactions(self) -> list[tuple]:
        """(process, transaction) for every process with an open transaction (for `mailbox`-like views)."""
        return [(p, g.data.transaction) for p, g in self.grant_holders() if g.data.transaction is not None]

    # -- helpers ------------------------------------------------------------------------------
    def _find(self, ipc_id: int, skip):
        """The grant holder (other than ``skip``) whose current IPC Identifier is ``ipc_id``."""
        for p, g in self.grant_holders():
            if p.pid != skip and ipc_identifier(p) == ipc_id:
                return p, g
        return None, None

    def _fail(self, err: ErrorCode) -> SyscallReturn:
        self._stats.failures += 1
        return SyscallReturn.failure(err)

    def _fail_u64(self, err: ErrorCode, value: int = 0) -> SyscallReturn:
        self._stats.failures += 1
        return SyscallReturn.failure_u64(err, value)

    def _note(self, text: str, pid) -> None:
        self.kernel.note(f"relay: {text}", self.kernel.lookup(pid))

    # -- the driver -----------------------------------------------------------------------------
    def command(self, cmd, arg0, arg1, pid):
        if cmd == CMD_EXISTS:
            return SyscallReturn.success()
        if cmd not in (CMD_SEND_REQUEST, CMD_CANCEL, CMD_ENABLE, CMD_DISABLE, CMD_GET_ANY, CMD_GET_FROM,
                       CMD_SEND_RESPONSE):
            return SyscallReturn.failure(ErrorCode.NOSUPPORT)
        try:
            g = self.kernel.enter_grant(pid, self)
        except GrantError as e:
            return self._fail_u64(e.error_code) if cmd in (CMD_GET_ANY, CMD_GET_FROM) else self._fail(e.error_code)
        ipc_id = ipc_id_from_halves(arg0, arg1)
        if cmd == CMD_SEND_REQUEST:
            return self._send_request(pid, g.data, ipc_id)
        if cmd == CMD_CANCEL:
            return self._cancel(pid, g.data)
        if cmd == CMD_ENABLE:
            g.data.requests_enabled = True
            return SyscallReturn.success()
        if cmd == CMD_DISABLE:
            return self._disable(pid, g.data)
        if cmd == CMD_GET_ANY:
            return self._get_any(pid, g.data)
        if cmd == CMD_GET_FROM:
            return self._get_from(pid, g.data, ipc_id)
        return self._send_response(pid, g.data)

    # -- client side ----------------------------------------------------------------------------
    def _send_request(self, pid, app: RelayApp, server_id: int) -> SyscallReturn:
        if app.transaction is not None:
            self._note(f"a transaction is already open ({app.transaction.describe()})", pid)
            return self._fail(ErrorCode.ALREADY)
        server, sg = self._find(server_id, pid)
        if server is None:
            self._note(f"no process with a relay grant has IPC id {format_ipc_id(server_id)} "
                       f"(dead, restarted, forged, or it never used the relay)", pid)
            return self._fail(ErrorCode.NODEVICE)
        if not sg.data.requests_enabled:
            self._note(f"{server.name} has not enabled requests (command 0x20)", pid)
            return self._fail(ErrorCode.UNINSTALLED)
        lo, hi = ipc_id_halves(ipc_identifier(self.kernel.lookup(pid)))
        # The result is ignored, as in Tock: a full queue loses the notification, not the request.
        self.kernel.schedule_upcall(server, self.driver_num, SERVER_REQUEST_WAITING, (lo, hi, 0))
        app.transaction = ClientTransaction(server_id)
        self._stats.requests += 1
        return SyscallReturn.success()

    def _cancel(self, pid, app: RelayApp) -> SyscallReturn:
        if not isinstance(app.transaction, ClientTransaction):
            return self._fail(ErrorCode.INVAL)
        app.transaction = None
        self._stats.cancels += 1
        # The server's "request waiting" upcall stays queued: it may get a spurious one.
        self.kernel.schedule_upcall(pid, self.driver_num, CLIENT_RESPONSE_RECEIVED, (int(ErrorCode.CANCEL), 0, 0))
        return SyscallReturn.success()

    # -- server side ----------------------------------------------------------------------------
    def _disable(self, pid, app: RelayApp) -> SyscallReturn:
        app.requests_enabled = False
        # As coded, this clears *any* transaction of the process, a client one included.
        app.transaction = None
        me = ipc_identifier(self.kernel.lookup(pid))
        for p, g in list(self.grant_holders()):
            if p.pid == pid:
                continue
            t = g.data.transaction
            if isinstance(t, ClientTransaction) and t.server == me:
                g.data.transaction = None
                self._stats.uninstalled += 1
                self.kernel.schedule_upcall(p, self.driver_num, CLIENT_RESPONSE_RECEIVED,
                                            (int(ErrorCode.UNINSTALLED), 0, 0))
        return SyscallReturn.success()

    def _waiting_on(self, g, me: int) -> bool:
        t = g.data.transaction
        return isinstance(t, ClientTransaction) and t.server == me

    def _get_any(self, pid, app: RelayApp) -> SyscallReturn:
        if app.transaction is not None:
            return self._fail_u64(ErrorCode.ALREADY)
        k = self.kernel
        me = ipc_identifier(k.lookup(pid))
        client = None
        if self.scan == "round_robin":
            n = len(k.processes)
            start = app.iteration_offset % n if n else 0
            for i in range(n):
                slot = (start + i) % n
                p = k.processes[slot]
                if p is None or p.pid == pid:
                    continue
                g = k.grant_of(p, self)
                if g is not None and self._waiting_on(g, me):
                    client = p
                    break
        else:
            # dev/ipc-initial scans every grant and keeps the last match.
            for p, g in self.grant_holders():
                if p.pid != pid and self._waiting_on(g, me):
                    client = p
        if client is None:
            return self._fail_u64(ErrorCode.NODEVICE)
        r = self._take_request(pid, app, client)
        if self.scan == "round_robin" and isinstance(app.transaction, ServerTransaction):
            app.iteration_offset = (client.index + 1) % len(k.processes)
        return r

    def _get_from(self, pid, app: RelayApp, client_id: int) -> SyscallReturn:
        if app.transaction is not None:
            return self._fail_u64(ErrorCode.ALREADY)
        me = ipc_identifier(self.kernel.lookup(pid))
        client, cg = self._find(client_id, pid)
        if client is None or not self._waiting_on(cg, me):
            return self._fail_u64(ErrorCode.NODEVICE)
        return self._take_request(pid, app, client)

    def _take_request(self, pid, app: RelayApp, client) -> SyscallReturn:
        """Copy the client's request into the server; the server then owes a response."""
        copied = self._copy(client, self.kernel.lookup(pid))
        if isinstance(copied, ErrorCode):
            return self._fail_u64(copied)
        n, truncated = copied
        cid = ipc_identifier(client)
        app.transaction = ServerTransaction(cid)
        self._stats.delivered += 1
        if truncated:
            self._note(f"request from {client.name} truncated to {n} bytes (server's RW allow 0)", pid)
            return self._fail_u64(ErrorCode.SIZE, cid)
        return SyscallReturn.success_u32_u64(n, cid)

    def _send_response(self, pid, app: RelayApp) -> SyscallReturn:
        t = app.transaction
        if not isinstance(t, ServerTransaction):
            return self._fail(ErrorCode.INVAL)
        app.transaction = None
        k = self.kernel
        me = ipc_identifier(k.lookup(pid))
        client, cg = self._find(t.client, pid)
        if client is None or not self._waiting_on(cg, me):
            self._stats.dropped_responses += 1
            self._note(f"response dropped: client {format_ipc_id(t.client)} cancelled or is gone", pid)
            return self._fail(ErrorCode.NODEVICE)
        copied = self._copy(k.lookup(pid), client)
        cg.data.transaction = None
        if isinstance(copied, ErrorCode):
            k.schedule_upcall(client, self.driver_num, CLIENT_RESPONSE_RECEIVED, (int(ErrorCode.FAIL), 0, 0))
            return self._fail(copied)
        n, truncated = copied
        self._stats.responses += 1
        status = int(ErrorCode.SIZE) if truncated else 0
        k.schedule_upcall(client, self.driver_num, CLIENT_RESPONSE_RECEIVED, (status, n, 0))
        return SyscallReturn.success()

    def _copy(self, src, dst) -> tuple[int, bool] | ErrorCode:
        """``copy_app_data``: src RO allow 0 -> dst RW allow 0, up to the shorter; (len, truncated)."""
        k = self.kernel
        if src.pid == dst.pid:
            return ErrorCode.INVAL
        if self.fail_copies:
            self.fail_copies -= 1
            self._note(f"copy {src.name} -> {dst.name} failed (fault injected by relay.fail_copies)", dst.pid)
            return ErrorCode.FAIL
        saddr, slen = k.ro_buffer(src, self, 0)
        daddr, dlen = k.rw_buffer(dst, self, 0)
        n = min(slen, dlen)
        try:
            data = k.read_buffer(src, saddr, n)
            k.write_buffer(dst, daddr, data)
        except MemoryFault as exc:
            self._note(f"copy {src.name} -> {dst.name} failed: {exc}", dst.pid)
            return ErrorCode.FAIL
        k.charge_copy(n)
        self._stats.bytes_copied += n
        if slen > dlen:
            self._stats.truncated += 1
        return n, slen > dlen


def _factory(board) -> IpcRelayRequest:
    return IpcRelayRequest()


def _register_with_board() -> None:
    from .. import board as board_mod

    if all(n != "relay" for n, _ in board_mod.EXTRA_CAPSULES):
        board_mod.EXTRA_CAPSULES.append(("relay", _factory))


_register_with_board()
