"""IPC Relay Request (0xA0010), through the kernel API with manual processes.

Every command row and error of reference/tock-ipc.md §2.4, the documented
properties (stuck clients, spurious upcalls, the Yield-WaitFor hang),
identifier staleness and forgery, and round-robin fairness.
"""

from __future__ import annotations

import pytest

from tockshell.abi import ErrorCode, SyscallClass as C, SyscallReturn, Variant
from tockshell.board import build_board
from tockshell.capsules.registry import ipc_id_halves, ipc_identifier
from tockshell.capsules.relay_request import ClientTransaction, IpcRelayRequest, ServerTransaction

from manual_app import ManualApp

RR = 0xA0010
REG = 0xA0000
CANCEL, SIZE, FAIL = int(ErrorCode.CANCEL), int(ErrorCode.SIZE), int(ErrorCode.FAIL)
UNINSTALLED = int(ErrorCode.UNINSTALLED)


class App(ManualApp):
    """A manual process with Relay Request helpers."""

    def cmd(self, num, a0=0, a1=0, drv=RR):
        return self.sys(C.COMMAND, drv, num, a0, a1)

    def out(self, data: bytes):
        """RO allow 0: the request (client) or the response (server)."""
        addr, n = self.buf(data)
        assert self.sys(C.ALLOW_RO, RR, 0, addr, n).is_success
        return addr

    def inbox(self, n: int):
        """RW allow 0: where the response (client) or the request (server) lands."""
        addr, _ = self.buf(b"\xee" * n)
        assert self.sys(C.ALLOW_RW, RR, 0, addr, n).is_success
        self.inbox_addr = addr
        return addr

    def received(self, n: int) -> bytes:
        return self.p.read(self.inbox_addr, n)

    @property
    def id(self) -> int:
        return ipc_identifier(self.p)

    @property
    def halves(self):
        return ipc_id_halves(self.id)

    def send(self, server: "App"):
        return self.cmd(0x10, *server.halves)

    def upcalls(self, sub):
        return [t.args for t in self.p.tasks if t.upcall_id == (RR, sub)]

    @property
    def app(self):
        g = self.p.grant_for_driver(RR)
        return None if g is None else g.data


@pytest.fixture
def board():
    return build_board(fault_policy="restart")


@pytest.fixture
def k(board):
    return board.kernel


@pytest.fixture
def relay(board) -> IpcRelayRequest:
    return board.driver("relay")


def pair(k, server_short=None, client_short=None):
    s = App(k, "svc", short_id=server_short)
    c = App(k, "cli", short_id=client_short)
    assert s.cmd(0x20) == SyscallReturn.success()
    return s, c


# ------------------------------------------------------------------ basics
def test_grant_and_numbers(relay, k):
    assert relay.driver_num == RR and relay.name == "relay"
    g = relay.grant
    assert (g.upcalls, g.allow_ro, g.allow_rw) == (2, 1, 1)
    assert g.size == 4 + 8 * 4 + 20
    a = App(k, "a")
    assert a.sys(C.SUBSCRIBE, RR, 2, 0, 0).error == ErrorCode.NOSUPPORT
    assert a.sys(C.ALLOW_RW, RR, 1, 0, 0).error == ErrorCode.NOSUPPORT


def test_exists_allocates_nothing_and_unknown_is_nosupport(k):
    a = App(k, "a")
    assert a.cmd(0) == SyscallReturn.success()
    assert a.app is None
    for n in (1, 0x12, 0x25, 0xFF):
        assert a.cmd(n) == SyscallReturn.failure(ErrorCode.NOSUPPORT)
    assert a.app is None


def test_enable_creates_the_grant(k):
    a = App(k, "a")
    assert a.cmd(0x20).is_success
    assert a.app.requests_enabled and a.app.transaction is None
    assert a.cmd(0x20).is_success  # idempotent


# ------------------------------------------------------------------ send request (0x10)
def test_send_request_success_moves_no_data(k, relay):
    s, c = pair(k, client_short=0x2A)
    s.inbox(16)
    c.out(b"ping")
    assert c.send(s) == SyscallReturn.success()
    assert s.upcalls(1) == [(c.p.identifier, 0x2A, 0)]
    assert c.app.transaction == ClientTransaction(s.id)
    assert s.received(4) == b"\xee" * 4  # nothing copied yet
    assert relay.stats()["requests"] == 1 and relay.stats()["bytes_copied"] == 0


def test_send_request_already_when_a_transaction_is_open(k):
    s, c = pair(k)
    c.out(b"x")
    assert c.send(s).is_success
    assert c.send(s) == SyscallReturn.failure(ErrorCode.ALREADY)
    # A server mid-transaction cannot be a client either.
    other = App(k, "other")
    other.cmd(0x20)
    s.inbox(4)
    assert s.cmd(0x22).is_success
    assert s.send(other) == SyscallReturn.failure(ErrorCode.ALREADY)


def test_send_request_nodevice_unknown_or_self_or_no_grant(k):
    s, c = pair(k)
    assert c.cmd(0x10, 0x1234, 0) == SyscallReturn.failure(ErrorCode.NODEVICE)
    assert s.send(s) == SyscallReturn.failure(ErrorCode.NODEVICE)  # never to itself
    never = App(k, "never")  # alive, but never touched the relay
    assert c.send(never) == SyscallReturn.failure(ErrorCode.NODEVICE)
    assert c.app.transaction is None
    # Right ProcessId half, wrong ShortId half: a different identifier.
    lo, hi = s.halves
    assert c.cmd(0x10, lo, hi + 1) == SyscallReturn.failure(ErrorCode.NODEVICE)


def test_send_request_uninstalled_until_enabled(k):
    s, c = App(k, "svc"), App(k, "cli")
    s.inbox(4)  # has a grant, but requests are disabled by default
    assert c.send(s) == SyscallReturn.failure(ErrorCode.UNINSTALLED)
    assert c.app.transaction is None and s.upcalls(1) == []
    s.cmd(0x20)
    assert c.send(s).is_success


def test_send_request_to_a_server_with_a_full_queue(k):
    s, c = pair(k)
    for _ in range(9):
        s.cmd(0x20)
        k.schedule_upcall(s.p, RR, 0, (0, 0, 0))
    assert len(s.p.tasks) == 9
    assert c.send(s).is_success  # the notification is lost, the request is not
    assert s.p.dropped_upcalls == 1
    s.inbox(4)
    assert s.cmd(0x22).is_success


# ------------------------------------------------------------------ cancel (0x11)
def test_cancel(k, relay):
    s, c = pair(k)
    assert c.cmd(0x11) == SyscallReturn.failure(ErrorCode.INVAL)
    c.send(s)
    assert c.cmd(0x11) == SyscallReturn.success()
    assert c.upcalls(0) == [(CANCEL, 0, 0)]
    assert c.app.transaction is None
    # The server's "request waiting" upcall is still queued: a spurious one.
    assert s.upcalls(1) == [(c.p.identifier, 0, 0)]
    s.inbox(4)
    r = s.cmd(0x22)
    assert r == SyscallReturn.failure_u64(ErrorCode.NODEVICE, 0)
    assert relay.stats()["cancels"] == 1


def test_cancel_is_inval_for_a_server_transaction(k):
    s, c = pair(k)
    c.send(s)
    s.inbox(4)
    s.cmd(0x22)
    assert s.cmd(0x11) == SyscallReturn.failure(ErrorCode.INVAL)


def test_cancel_then_response_is_dropped(k, relay):
    s, c = pair(k)
    c.out(b"req")
    c.inbox(8)
    c.send(s)
    s.inbox(8)
    assert s.cmd(0x22).is_success
    c.cmd(0x11)
    s.out(b"late")
    assert s.cmd(0x24) == SyscallReturn.failure(ErrorCode.NODEVICE)
    assert s.app.transaction is None  # the server moves on
    assert c.received(4) == b"\xee" * 4
    assert c.upcalls(0) == [(CANCEL, 0, 0)]
    assert relay.stats()["dropped_responses"] == 1


# ------------------------------------------------------------------ enable / disable (0x20 / 0x21)
def test_disable_completes_waiting_clients_with_uninstalled(k, relay):
    s = App(k, "svc")
    s.cmd(0x20)
    clients = [App(k, f"c{i}") for i in range(3)]
    bystander = App(k, "by")
    other = App(k, "other")
    other.cmd(0x20)
    bystander.send(other)
    for c in clients:
        assert c.send(s).is_success
    s.inbox(4)
    assert s.cmd(0x22).is_success  # mid-transaction with c0
    assert s.cmd(0x21) == SyscallReturn.success()
    assert s.app.transaction is None and not s.app.requests_enabled
    for c in clients:
        assert c.upcalls(0) == [(UNINSTALLED, 0, 0)]
        assert c.app.transaction is None
    assert bystander.app.transaction == ClientTransaction(other.id)
    assert bystander.upcalls(0) == []
    assert clients[0].send(s) == SyscallReturn.failure(ErrorCode.UNINSTALLED)
    assert relay.stats()["uninstalled"] == 3


def test_disable_clears_the_callers_own_client_transaction(k):
    # As coded: disable sets the transaction to None whatever it was, without an upcall.
    s, c = pair(k)
    assert c.send(s).is_success
    assert c.cmd(0x21).is_success
    assert c.app.transaction is None and c.upcalls(0) == []
    s.inbox(4)
    assert s.cmd(0x22).error == ErrorCode.NODEVICE


# ------------------------------------------------------------------ get requests (0x22 / 0x23)
def test_get_any_success_copies_once(k, relay):
    s, c = pair(k, client_short=0x2A)
    c.out(b"hello")
    c.send(s)
    s.inbox(16)
    r = s.cmd(0x22)
    assert r == SyscallReturn.success_u32_u64(5, c.id)
    assert r.variant == Variant.SUCCESS_U32_U64
    assert r.registers() == (133, 5, c.p.identifier, 0x2A)
    assert str(r) == f"Success(u32=5, u64={c.id})"
    assert s.received(6) == b"hello\xee"
    assert s.app.transaction == ServerTransaction(c.id)
    assert c.app.transaction == ClientTransaction(s.id)  # still waiting for the response
    assert relay.stats()["bytes_copied"] == 5 and k.stats.bytes_copied == 5


def test_request_bytes_are_read_at_get_time(k):
    s, c = pair(k)
    addr = c.out(b"first")
    c.send(s)
    c.p.write(addr, b"later")  # the client changed its buffer before the server looked
    s.inbox(8)
    s.cmd(0x22)
    assert s.received(5) == b"later"


def test_get_any_truncation(k, relay):
    s, c = pair(k, client_short=3)
    c.out(b"0123456789")
    c.send(s)
    s.inbox(4)
    r = s.cmd(0x22)
    assert r == SyscallReturn.failure_u64(ErrorCode.SIZE, c.id)
    assert r.variant == Variant.FAILURE_U64
    assert r.registers() == (3, 7, c.p.identifier, 3)
    assert s.received(4) == b"0123"
    assert s.app.transaction == ServerTransaction(c.id)  # a truncated request is still taken
    assert relay.stats()["truncated"] == 1


def test_get_any_nodevice_and_already(k):
    s, c = pair(k)
    s.inbox(4)
    r = s.cmd(0x22)
    assert r == SyscallReturn.failure_u64(ErrorCode.NODEVICE, 0)
    assert r.registers() == (3, 11, 0, 0)
    c.send(s)
    assert s.cmd(0x22).is_success
    assert s.cmd(0x22) == SyscallReturn.failure_u64(ErrorCode.ALREADY, 0)
    assert s.cmd(0x23, *c.halves) == SyscallReturn.failure_u64(ErrorCode.ALREADY, 0)


def test_zero_length_buffers_are_fine(k):
    s, c = pair(k)
    c.send(s)  # no RO allow at all: an empty request
    assert s.cmd(0x22) == SyscallReturn.success_u32_u64(0, c.id)
    assert s.cmd(0x24).is_success  # empty response into no buffer
    assert c.upcalls(0) == [(0, 0, 0)]


def test_get_from_specific_client(k):
    s = App(k, "svc")
    s.cmd(0x20)
    a, b = App(k, "a"), App(k, "b")
    a.out(b"from-a")
    b.out(b"from-b")
    a.send(s)
    b.send(s)
    s.inbox(8)
    assert s.cmd(0x23, *b.halves) == SyscallReturn.success_u32_u64(6, b.id)
    assert s.received(6) == b"from-b"


def test_get_from_nodevice_cases(k):
    s, c = pair(k)
    other = App(k, "other")
    other.cmd(0x20)
    s.inbox(4)
    assert s.cmd(0x23, *c.halves) == SyscallReturn.failure_u64(ErrorCode.NODEVICE, 0)  # no grant
    c.send(other)  # waiting, but on somebody else
    assert s.cmd(0x23, *c.halves) == SyscallReturn.failure_u64(ErrorCode.NODEVICE, 0)
    assert s.cmd(0x23, 999, 0) == SyscallReturn.failure_u64(ErrorCode.NODEVICE, 0)
    assert s.cmd(0x23, *s.halves) == SyscallReturn.failure_u64(ErrorCode.NODEVICE, 0)


# ------------------------------------------------------------------ send response (0x24)
def test_send_response(k, relay):
    s, c = pair(k)
    c.out(b"ping")
    c.inbox(8)
    c.send(s)
    s.inbox(8)
    s.cmd(0x22)
    s.out(b"pong!")
    assert s.cmd(0x24) == SyscallReturn.success()
    assert c.upcalls(0) == [(0, 5, 0)]
    assert c.received(6) == b"pong!\xee"
    assert c.app.transaction is None and s.app.transaction is None
    assert relay.stats()["responses"] == 1 and relay.stats()["bytes_copied"] == 9


def test_send_response_truncated(k):
    s, c = pair(k)
    c.inbox(3)
    c.send(s)
    s.cmd(0x22)
    s.out(b"long answer")
    assert s.cmd(0x24).is_success
    assert c.upcalls(0) == [(SIZE, 3, 0)]
    assert c.received(3) == b"lon"


def test_send_response_inval_without_server_transaction(k):
    s, c = pair(k)
    assert s.cmd(0x24) == SyscallReturn.failure(ErrorCode.INVAL)
    c.send(s)
    assert c.cmd(0x24) == SyscallReturn.failure(ErrorCode.INVAL)  # a client transaction is not one


def test_send_response_copy_failure(k, relay):
    relay.set_config("fail_copies", 1)
    s, c = pair(k)
    c.inbox(4)
    c.send(s)
    s.inbox(4)
    # The first copy (the request) fails: no transaction starts.
    assert s.cmd(0x22) == SyscallReturn.failure_u64(ErrorCode.FAIL, 0)
    assert s.app.transaction is None
    assert s.cmd(0x22).is_success
    relay.set_config("fail_copies", 1)
    s.out(b"resp")
    assert s.cmd(0x24) == SyscallReturn.failure(ErrorCode.FAIL)
    assert c.upcalls(0) == [(FAIL, 0, 0)]
    assert c.app.transaction is None and s.app.transaction is None


def test_response_to_a_dead_client_is_dropped(k):
    s, c = pair(k)
    c.send(s)
    s.cmd(0x22)
    k.terminate(c.p)
    assert s.cmd(0x24) == SyscallReturn.failure(ErrorCode.NODEVICE)


def test_response_to_a_restarted_client_is_dropped(k):
    s, c = pair(k)
    c.send(s)
    s.cmd(0x22)
    k.try_restart(c.p)
    assert s.cmd(0x24) == SyscallReturn.failure(ErrorCode.NODEVICE)
    assert c.upcalls(0) == []


# ------------------------------------------------------------------ properties
def test_server_crash_leaves_the_client_stuck(board, k):
    s, c = pair(k)
    old_id = s.id
    c.send(s)
    s.inbox(4)
    s.cmd(0x22)
    k.fault(s.p, "crash")  # fault policy restart: new identifier, grant wiped
    assert s.p.alive and s.app is None
    # No process-state hook: nothing tells the client.
    assert c.upcalls(0) == []
    assert c.app.transaction == ClientTransaction(old_id)
    assert c.send(s) == SyscallReturn.failure(ErrorCode.ALREADY)
    # The restarted server cannot see the old request either.
    s.rebase()
    s.cmd(0x20)
    s.inbox(4)
    assert s.cmd(0x22) == SyscallReturn.failure_u64(ErrorCode.NODEVICE, 0)
    # Only a timeout-and-cancel gets the client out.
    assert c.cmd(0x11).is_success
    assert c.upcalls(0) == [(CANCEL, 0, 0)]
    assert c.send(s).is_success
    assert old_id != s.id


def test_stale_identifier_after_restart(k):
    s, c = pair(k, server_short=0x5)
    old = s.halves
    k.try_restart(s.p)
    s.rebase()
    s.cmd(0x20)
    assert c.cmd(0x10, *old) == SyscallReturn.failure(ErrorCode.NODEVICE)
    assert c.send(s).is_success  # the new identifier works


def test_identifier_is_forgeable(k):
    # The client never discovers the server: it guesses. ProcessId identifiers are a
    # counter and ShortIds are often absent, so a handful of guesses finds it.
    s, c = pair(k)
    found = None
    for guess in range(16):
        if c.cmd(0x10, guess, 0).is_success:
            found = guess
            break
    assert found == s.p.identifier
    assert s.upcalls(1) == [(c.p.identifier, 0, 0)]


def test_forged_client_id_in_get_from(k):
    # A server can name any client it has heard of (or guessed), and see its request.
    s, c = pair(k)
    c.out(b"secret")
    c.send(s)
    s.inbox(8)
    assert s.cmd(0x23, c.p.identifier, 0) == SyscallReturn.success_u32_u64(6, c.id)


def test_yield_wait_for_hang_without_grant(k):
    s, c = App(k, "svc"), App(k, "cli")
    # The server's first contact with the relay is yield-wait-for: no grant exists.
    assert s.sys(C.YIELD, 2, RR, 1) is None
    assert s.p.state.kind.value == "YieldedFor" and s.app is None
    assert c.send(s) == SyscallReturn.failure(ErrorCode.NODEVICE)
    assert k.run(until=k.now + 10_000_000) == "time"
    assert s.p.state.kind.value == "YieldedFor"  # still waiting: nothing can ever reach it


def test_yield_wait_for_after_enable(k):
    s, c = pair(k)
    c.out(b"hi")
    c.inbox(4)
    assert s.sys(C.YIELD, 2, RR, 1) is None
    c.send(s)
    assert k.run(until=k.now + 1_000_000) in ("time", "idle")
    assert s.p.state.kind.value == "Running"
    assert s.p.pending_return.args == (c.p.identifier, 0, 0)
    s.inbox(4)
    assert s.cmd(0x22).is_success
    s.out(b"ok")
    s.cmd(0x24)
    r = c.sys(C.YIELD, 2, RR, 0)
    assert r.args == (0, 2, 0)
    assert c.received(2) == b"ok"


def test_subscribed_upcalls_are_function_calls(k):
    s, c = pair(k)
    fn = s.p.flash_start + s.p.header_len + 0x80
    s.sys(C.SUBSCRIBE, RR, 1, fn, 7)
    c.send(s)
    t = s.p.tasks[-1]
    assert t.kind == "FunctionCall" and t.pc == fn and t.appdata == 7
    assert t.args == (c.p.identifier, 0, 0)


# ------------------------------------------------------------------ fairness
def _serve_rounds(k, s, clients, rounds):
    order = []
    for c in clients:
        c.inbox(4)
        c.out(c.p.name.encode())
        assert c.send(s).is_success
    s.inbox(8)
    s.out(b"ok")
    for _ in range(rounds):
        r = s.cmd(0x22)
        assert r.is_success
        cid = r.values[1]
        who = next(c for c in clients if c.id == cid)
        order.append(who.p.name)
        assert s.cmd(0x24).is_success
        assert who.send(s).is_success  # every client asks again at once
    return order


def test_round_robin_across_three_clients(k, relay):
    assert relay.scan == "round_robin"
    clients = [App(k, f"c{i}") for i in range(3)]
    s = App(k, "svc")  # highest slot: the scan wraps around
    s.cmd(0x20)
    order = _serve_rounds(k, s, clients, 9)
    assert order == ["c0", "c1", "c2"] * 3


def test_round_robin_offset_is_saved_per_server(k):
    s = App(k, "svc")
    s.cmd(0x20)
    clients = [App(k, f"c{i}") for i in range(3)]
    order = _serve_rounds(k, s, clients, 4)
    assert order == ["c0", "c1", "c2", "c0"]
    assert s.app.iteration_offset == clients[0].p.index + 1


def test_last_match_scan_starves_early_slots(k, relay):
    relay.set_config("scan", "last_match")
    s = App(k, "svc")
    s.cmd(0x20)
    clients = [App(k, f"c{i}") for i in range(3)]
    assert _serve_rounds(k, s, clients, 6) == ["c2"] * 6


def test_get_from_does_not_move_the_offset(k):
    s = App(k, "svc")
    s.cmd(0x20)
    a, b = App(k, "a"), App(k, "b")
    a.send(s)
    b.send(s)
    s.inbox(4)
    before = s.app.iteration_offset
    assert s.cmd(0x23, *b.halves).is_success
    assert s.app.iteration_offset == before


# ------------------------------------------------------------------ config, stats, describe
def test_config(relay):
    assert relay.config_keys() == {"scan": "round_robin", "fail_copies": "0"}
    with pytest.raises(ValueError, match="round_robin"):
        relay.set_config("scan", "random")
    with pytest.raises(ValueError, match="fail_copies"):
        relay.set_config("fail_copies", -1)
    with pytest.raises(ValueError, match="no setting 'x'"):
        relay.set_config("x", 1)


def test_describe_grant(k, relay):
    s, c = pair(k, server_short=0x2A)
    assert c.app is None
    c.send(s)
    assert relay.describe_grant(c.app) == (f"client of 0x0000002a_{s.p.identifier:08x}; requests disabled; "
                                           f"next scan from slot 0")
    s.cmd(0x22)
    assert relay.describe_grant(s.app).startswith(f"serving 0x00000000_{c.p.identifier:08x}; requests enabled")
    assert relay.transactions() == [(s.p, ServerTransaction(c.id)), (c.p, ClientTransaction(s.id))]


def test_stats(k, relay):
    s, c = pair(k)
    c.out(b"abc")
    c.inbox(2)
    c.send(s)
    c.send(s)  # ALREADY
    s.inbox(8)
    s.cmd(0x22)
    s.out(b"xyz")
    s.cmd(0x24)  # truncated to 2
    assert relay.stats() == {"requests": 1, "delivered": 1, "responses": 1, "bytes_copied": 5,
                             "truncated": 1, "cancels": 0, "uninstalled": 0, "dropped_responses": 0,
                             "failures": 1}
    relay.reset()
    assert set(relay.stats().values()) == {0}


def test_full_flow_with_registry_discovery(k):
    s, c = App(k, "svc", short_id=0xABC), App(k, "cli")
    name = b"echo".ljust(20, b"\0")
    a, n = s.buf(name)
    s.sys(C.ALLOW_RO, REG, 0, a, n)
    assert s.cmd(1, drv=REG).is_success
    s.cmd(0x20)
    a, n = c.buf(name)
    c.sys(C.ALLOW_RO, REG, 0, a, n)
    c.cmd(2, drv=REG)
    status, lo, hi = c.sys(C.YIELD, 2, REG, 1).args
    assert status == 0 and (lo, hi) == s.halves
    c.out(b"hi there")
    c.inbox(16)
    assert c.cmd(0x10, lo, hi).is_success
    s.inbox(16)
    r = s.cmd(0x22)
    assert r.values == (8, c.id)
    s.out(s.received(8).upper())
    s.cmd(0x24)
    assert c.sys(C.YIELD, 2, RR, 0).args == (0, 8, 0)
    assert c.received(8) == b"HI THERE"
