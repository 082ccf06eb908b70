"""Mailbox (ipc-2025.md §3): every row, every error case in order, crash callbacks in both modes."""

from __future__ import annotations

import pytest

from test_ipc_harness import IPCMGR, MAILBOX, World, pair
from tockshell.abi import ErrorCode, SyscallClass as C, SyscallReturn

OK = SyscallReturn.success()
NODEVICE, SIZE = int(ErrorCode.NODEVICE), int(ErrorCode.SIZE)


def fail(e):
    return SyscallReturn.failure(e)


@pytest.fixture
def w():
    return World()


def ready(w, **kw):
    """A service and a client connected through the IPC Manager, both with a 16-byte inbox."""
    s, c, pd, svc_pd = pair(w, **kw)
    for p in (s, c):
        w.subscribe(p, MAILBOX, 0)
        w.subscribe(p, MAILBOX, 1)
    s_in = w.allow_rw(s, MAILBOX, 0, 16)
    c_in = w.allow_rw(c, MAILBOX, 0, 16)
    return s, c, pd, svc_pd, s_in, c_in


# ------------------------------------------------------------------ table rows

def test_exists_unknown_and_slots(w):
    p = w.spawn("p")
    assert w.cmd(p, MAILBOX, 0) == OK
    assert w.cmd(p, MAILBOX, 4) == fail(ErrorCode.NOSUPPORT)
    assert w.subscribe(p, MAILBOX, 1).is_success
    assert w.subscribe(p, MAILBOX, 2).error is ErrorCode.NOSUPPORT
    assert w.allow_ro(p, MAILBOX, 1, b"x").error is ErrorCode.NOSUPPORT
    assert w.k.syscall(p, C.ALLOW_RW, MAILBOX, 1, 0, 0).error is ErrorCode.NOSUPPORT
    g = w.k.grant_of(p, w.mb)
    assert (g.spec.upcalls, g.spec.allow_ro, g.spec.allow_rw) == (2, 1, 1)


# ------------------------------------------------------------------ send

def test_send_to_unopened_pd_is_inval(w):
    s, c, pd, *_ = ready(w)
    assert w.send(c, pd + 1, b"hi") == fail(ErrorCode.INVAL)
    assert w.send(c, 0, b"hi") == fail(ErrorCode.INVAL)


def test_send_success_queues_message_waiting_and_moves_no_bytes(w):
    s, c, pd, svc_pd, s_in, _ = ready(w)
    copied = w.k.stats.bytes_copied
    assert w.send(c, pd, b"hello") == OK
    assert w.queued(s, MAILBOX, 0) == [(svc_pd, 5, 0)]
    assert s.read(s_in, 5) == bytes(5)
    assert w.k.stats.bytes_copied == copied


def test_one_message_in_flight_busy(w):
    s, c, pd, *_ = ready(w)
    assert w.send(c, pd, b"a") == OK
    assert w.send(c, pd, b"b") == fail(ErrorCode.BUSY)


def test_busy_is_checked_before_staleness(w):
    s, c, pd, *_ = ready(w)
    other = w.spawn("other")
    w.register(other, b"o")
    opd = w.discover(c, b"o").value
    assert w.send(c, pd, b"a") == OK
    w.k.terminate(other)
    assert w.send(c, opd, b"b") == fail(ErrorCode.BUSY)


def test_send_to_stale_pd_is_nodevice(w):
    s, c, pd, *_ = ready(w)
    w.k.try_restart(s)
    assert w.send(c, pd, b"a") == fail(ErrorCode.NODEVICE)
    assert "stale" in w.last_note()


def test_send_after_receiver_hung_up_is_nodevice(w):
    s, c, pd, svc_pd, *_ = ready(w)
    assert w.cmd(s, IPCMGR, 3, svc_pd) == OK
    assert w.send(c, pd, b"a") == fail(ErrorCode.NODEVICE)
    assert "hung up" in w.last_note()


def test_zero_length_message(w):
    s, c, pd, svc_pd, *_ = ready(w)
    assert w.send(c, pd, None) == OK  # nothing allowed: a zero-length message
    assert w.queued(s, MAILBOX, 0) == [(svc_pd, 0, 0)]
    assert w.read(s) == SyscallReturn.success_u32_u32(0, svc_pd)
    assert w.queued(c, MAILBOX, 1) == [(0, pd, 0)]


def test_service_can_send_to_its_client(w):
    s, c, pd, svc_pd, _, c_in = ready(w)
    assert w.send(s, svc_pd, b"push") == OK
    assert w.queued(c, MAILBOX, 0) == [(pd, 4, 0)]
    assert w.read(c, pd) == SyscallReturn.success_u32_u32(4, pd)
    assert c.read(c_in, 4) == b"push"


# ------------------------------------------------------------------ read

def test_read_whole(w):
    s, c, pd, svc_pd, s_in, _ = ready(w)
    w.send(c, pd, b"hello")
    t0 = w.k.now
    r = w.read(s, svc_pd)
    assert r == SyscallReturn.success_u32_u32(5, svc_pd)
    assert s.read(s_in, 5) == b"hello"
    assert w.queued(c, MAILBOX, 1) == [(0, pd, 5)]
    assert w.k.stats.bytes_copied == 5
    assert w.k.now > t0
    # The slot is free again.
    assert w.send(c, pd, b"again") == OK


def test_read_truncated_consumes_the_message(w):
    s, c, pd, svc_pd, s_in, _ = ready(w)
    w.send(c, pd, b"0123456789abcdefXYZ")
    r = w.read(s)
    assert r == SyscallReturn.failure_u32_u32(ErrorCode.SIZE, 16, svc_pd)
    assert str(r) == f"Failure(SIZE, 16, {svc_pd})"
    assert s.read(s_in, 16) == b"0123456789abcdef"
    assert w.queued(c, MAILBOX, 1) == [(SIZE, pd, 16)]
    assert w.read(s) == fail(ErrorCode.NODEVICE)


def test_read_with_no_rw_allow_copies_nothing(w):
    s, c, pd, svc_pd, *_ = ready(w)
    w.k.syscall(s, C.ALLOW_RW, MAILBOX, 0, 0, 0)
    w.send(c, pd, b"abc")
    assert w.read(s) == SyscallReturn.failure_u32_u32(ErrorCode.SIZE, 0, svc_pd)


def test_read_unopened_pd_is_inval_and_empty_is_nodevice(w):
    s, c, pd, svc_pd, *_ = ready(w)
    assert w.read(s, 9) == fail(ErrorCode.INVAL)
    assert w.read(s, 0) == fail(ErrorCode.NODEVICE)
    assert w.read(s, svc_pd) == fail(ErrorCode.NODEVICE)
    # INVAL comes before NODEVICE.
    w.send(c, pd, b"x")
    assert w.read(s, 9) == fail(ErrorCode.INVAL)


def test_copy_happens_at_read_time(w):
    s, c, pd, svc_pd, s_in, _ = ready(w)
    w.allow_ro(c, MAILBOX, 0, b"first")
    addr, _ = w.k.ro_buffer(c, w.mb, 0)
    w.cmd(c, MAILBOX, 1, pd)
    c.write(addr, b"LATER")
    assert w.read(s) == SyscallReturn.success_u32_u32(5, svc_pd)
    assert s.read(s_in, 5) == b"LATER"


def test_read_uses_the_allow_held_at_read_time(w):
    s, c, pd, svc_pd, s_in, _ = ready(w)
    w.send(c, pd, b"long message")
    w.allow_ro(c, MAILBOX, 0, b"ab")  # swapped before the read: this is what is copied
    assert w.read(s) == SyscallReturn.success_u32_u32(2, svc_pd)
    assert s.read(s_in, 2) == b"ab"


def test_read_oldest_first_and_by_pd(w):
    s = w.spawn("s")
    w.register(s, b"echo")
    w.allow_rw(s, MAILBOX, 0, 16)
    clients = []
    for i in range(3):
        c = w.spawn(f"c{i}")
        pd = w.discover(c, b"echo").value
        clients.append((c, pd))
    spd = {c.name: w.mgr.number_for(s, c) for c, _ in clients}
    for c, pd in (clients[2], clients[0], clients[1]):
        assert w.send(c, pd, c.name.encode()) == OK
    assert w.read(s, spd["c1"]).values == (2, spd["c1"])  # by pd
    assert w.read(s, 0).values == (2, spd["c2"])  # then oldest: c2 sent first
    assert w.read(s, 0).values == (2, spd["c0"])
    assert w.read(s, 0) == fail(ErrorCode.NODEVICE)


def test_latency_and_stats(w):
    s, c, pd, svc_pd, *_ = ready(w)
    w.send(c, pd, b"abcd")
    w.k.run(until=w.k.now + 1_000_000)
    w.read(s)
    st = w.mb.stats()
    assert st["messages sent"] == 1 and st["read"] == 1 and st["bytes copied"] == 4
    lat = st["latency send→read max"]
    assert lat.endswith("ms") and 1.0 <= float(lat[:-2]) < 1.1  # the 1ms run plus a few syscalls
    assert st["latency send→read mean"] == lat
    w.mb.reset_stats()
    assert w.mb.stats()["messages sent"] == 0


# ------------------------------------------------------------------ cancel

def test_cancel_nothing_in_flight_is_inval(w):
    s, c, *_ = ready(w)
    assert w.cancel(c) == fail(ErrorCode.INVAL)


def test_cancel_removes_the_undelivered_upcall_and_tells_no_one(w):
    s, c, pd, svc_pd, *_ = ready(w)
    # Another sender's message must keep its own upcall.
    o = w.spawn("o")
    opd = w.discover(o, b"echo").value
    w.send(o, opd, b"keep")
    w.send(c, pd, b"drop")
    assert len(w.queued(s, MAILBOX, 0)) == 2
    assert w.cancel(c) == OK
    assert w.queued(s, MAILBOX, 0) == [(w.mgr.number_for(s, o), 4, 0)]
    assert w.queued(c, MAILBOX, 1) == []
    assert w.read(s, svc_pd) == fail(ErrorCode.NODEVICE)
    assert w.send(c, pd, b"new") == OK
    assert w.mb.stats()["cancelled"] == 1


def test_cancel_after_delivery(w):
    s, c, pd, svc_pd, *_ = ready(w)
    w.send(c, pd, b"x")
    w.k.syscall(s, C.YIELD, 1, 0, 0)
    while w.queued(s, MAILBOX, 0):  # the scheduler delivers the "message waiting" upcall
        assert w.k.step()
    assert s.in_handler
    assert w.cancel(c) == OK
    assert w.read(s) == fail(ErrorCode.NODEVICE)


# ------------------------------------------------------------------ crash callbacks

@pytest.mark.parametrize("how", ["fault", "terminate", "restart", "exit"])
def test_receiver_dies_sender_gets_nodevice(how):
    w = World(fault_policy="restart")
    s, c, pd, *_ = ready(w)
    assert w.send(c, pd, b"hi") == OK
    {"fault": lambda: w.k.fault(s), "terminate": lambda: w.k.terminate(s),
     "restart": lambda: w.k.try_restart(s), "exit": lambda: w.k.syscall(s, C.EXIT, 0, 0)}[how]()
    assert w.queued(c, MAILBOX, 1) == [(NODEVICE, pd, 0)]
    assert w.mb.in_flight() == []
    assert w.mb.stats()["failed (receiver died or hung up)"] == 1
    assert w.cancel(c) == fail(ErrorCode.INVAL)  # the slot is free


def test_sender_dies_message_withdrawn(w):
    s, c, pd, svc_pd, *_ = ready(w)
    w.send(c, pd, b"hi")
    assert w.queued(s, MAILBOX, 0) == [(svc_pd, 2, 0)]
    w.k.fault(c)
    assert w.queued(s, MAILBOX, 0) == []  # undelivered upcall removed
    assert w.read(s) == fail(ErrorCode.NODEVICE)
    assert w.mb.stats()["withdrawn (sender died)"] == 1


def test_crash_work_counts_messages_involving_the_process(w):
    s = w.spawn("s")
    w.register(s, b"echo")
    others = []
    for i in range(5):
        c = w.spawn(f"c{i}")
        pd = w.discover(c, b"echo").value
        others.append((c, pd))
    bystander = w.spawn("b")
    w.k.enter_grant(bystander, w.mb)
    for c, pd in others[:3]:
        w.send(c, pd, b"m")
    svc_pd = w.mgr.number_for(s, others[4][0])
    w.send(s, svc_pd, b"out")
    base = w.mb.stats()
    w.k.fault(s)
    st = w.mb.stats()
    assert st["crash callbacks"] - base["crash callbacks"] == 1
    assert st["crash-callback work (entries examined)"] - base["crash-callback work (entries examined)"] == 4
    # A scan visits every other process with a mailbox grant: c0-c2 (senders), c4 (a receiver),
    # the bystander; c3 never used the Mailbox.
    assert st["naive scan of every mailbox grant"] - base["naive scan of every mailbox grant"] == 5
    for c, pd in others[:3]:
        assert w.queued(c, MAILBOX, 1) == [(NODEVICE, pd, 0)]
    assert "4 messages involved" in "\n".join(w.notes())
    assert "4 examined through the index by receiver; a scan of every mailbox grant would visit 5" in \
        "\n".join(w.notes())


def test_crash_callback_of_an_uninvolved_process_costs_nothing(w):
    s, c, pd, *_ = ready(w)
    x = w.spawn("x")
    w.send(c, pd, b"a")
    w.k.fault(x)
    st = w.mb.stats()
    assert st["crash-callback work (entries examined)"] == 0
    assert st["naive scan of every mailbox grant"] == 2
    assert w.mb.in_flight() != []


def test_crash_notify_off_leaves_the_sender_busy_until_it_cancels(w):
    w.mb.set_config("crash_notify", "off")
    s, c, pd, *_ = ready(w)
    w.send(c, pd, b"hi")
    w.k.try_restart(s)
    assert w.queued(c, MAILBOX, 1) == []
    other = w.spawn("o")
    w.register(other, b"other")
    opd = w.discover(c, b"other").value
    assert w.send(c, opd, b"x") == fail(ErrorCode.BUSY)
    assert w.mb.stats()["crash callbacks"] == 0
    assert w.cancel(c) == OK
    assert w.send(c, opd, b"x") == OK
    # The restarted service never sees the old message.
    w.register(s, b"echo")
    w.allow_rw(s, MAILBOX, 0, 8)
    assert w.read(s) == fail(ErrorCode.NODEVICE)


def test_crash_notify_off_sender_gone_is_dropped_at_read(w):
    w.mb.set_config("crash_notify", False)
    s, c, pd, svc_pd, *_ = ready(w)
    w.send(c, pd, b"hi")
    w.k.try_restart(c)
    assert w.queued(s, MAILBOX, 0) == [(svc_pd, 2, 0)]  # nobody withdrew it
    assert len(w.mb.in_flight()) == 1
    assert w.read(s) == fail(ErrorCode.NODEVICE)
    assert "dropped at read" in "\n".join(w.notes())
    assert w.mb.in_flight() == []
    assert w.mb.stats()["dropped (sender gone, crash_notify off)"] == 1


def test_turning_crash_notify_back_on_sweeps_what_happened_meanwhile(w):
    w.mb.set_config("crash_notify", "off")
    s, c, pd, *_ = ready(w)
    w.send(c, pd, b"hi")
    w.k.terminate(s)
    w.mb.set_config("crash_notify", "on")
    assert w.queued(c, MAILBOX, 1) == [(NODEVICE, pd, 0)]
    assert w.mb.in_flight() == []


def test_config(w):
    assert w.mb.config_keys() == {"crash_notify": "on"}
    w.mb.set_config("crash_notify", "off")
    assert w.mb.config_keys() == {"crash_notify": "off"}
    with pytest.raises(ValueError, match="on or off"):
        w.mb.set_config("crash_notify", "maybe")
    with pytest.raises(ValueError, match="no setting"):
        w.mb.set_config("x", "on")


def test_mode_change_refused_while_messages_fly(w):
    w.mgr.set_config("descriptors", "raw")
    s, c = w.spawn("s"), w.spawn("c")
    w.register(s, b"echo")
    spd = w.discover(c, b"echo").value
    w.send(c, spd, b"x")
    with pytest.raises(ValueError, match="in flight"):
        w.mgr.set_config("descriptors", "dynamic")


# ------------------------------------------------------------------ forgery: raw vs descriptors

def test_raw_identifiers_can_be_guessed(w):
    w.mgr.set_config("descriptors", "raw")
    s, victim, mallory = w.spawn("s"), w.spawn("victim"), w.spawn("mallory")
    w.register(s, b"echo")
    w.discover(victim, b"echo")
    w.allow_rw(victim, MAILBOX, 0, 8)
    # Mallory never discovered anyone, yet reaches the victim by guessing its identifier.
    assert w.send(mallory, victim.identifier, b"evil") == OK
    assert w.queued(victim, MAILBOX, 0) == [(mallory.identifier, 4, 0)]
    assert w.read(victim, mallory.identifier).values == (4, mallory.identifier)
    # Guessing a dead identifier or your own fails.
    assert w.send(mallory, 77, b"x") == fail(ErrorCode.NODEVICE)
    assert w.send(mallory, mallory.identifier, b"x") == fail(ErrorCode.INVAL)


def test_descriptors_cannot_be_forged(w):
    s, victim, mallory = w.spawn("s"), w.spawn("victim"), w.spawn("mallory")
    w.register(s, b"echo")
    w.discover(victim, b"echo")
    for guess in range(0, 20):
        assert w.send(mallory, guess, b"evil") == fail(ErrorCode.INVAL)
    assert w.mb.in_flight() == []


def test_describe_grant_and_in_flight(w):
    s, c, pd, *_ = ready(w)
    w.send(c, pd, b"abc")
    g = w.k.grant_of(c, w.mb)
    assert w.mb.describe_grant(g.data).startswith("message in flight to svc [0] (pd 1), 3 B")
    assert [m.length for m in w.mb.in_flight(s)] == [3]
    assert w.mb.waiting_for(s)[0].sender == c.pid


# ------------------------------------------------------------------ closing a descriptor settles its messages

def test_receiver_closing_fails_the_waiting_message(w):
    s, c, pd, svc_pd, *_ = ready(w)
    w.send(c, pd, b"hi")
    assert w.cmd(s, IPCMGR, 3, svc_pd) == OK
    assert w.queued(c, MAILBOX, 1) == [(NODEVICE, pd, 0)]
    assert w.queued(s, MAILBOX, 0) == []
    assert w.mb.in_flight() == []
    assert "closed its descriptor" in "\n".join(w.notes())


def test_a_reused_number_never_labels_an_old_message(w):
    s, c, pd, svc_pd, s_in, _ = ready(w)
    w.send(c, pd, b"from c")
    w.cmd(s, IPCMGR, 3, svc_pd)  # s hangs up on c...
    other = w.spawn("other")
    assert w.discover(other, b"echo").is_success  # ...and the number goes to another client
    assert w.mgr.number_for(s, other) == svc_pd
    w.send(other, 1, b"from other")
    assert w.read(s) == SyscallReturn.success_u32_u32(10, svc_pd)
    assert s.read(s_in, 10) == b"from other"


def test_sender_closing_withdraws_its_message_silently(w):
    s, c, pd, svc_pd, *_ = ready(w)
    w.send(c, pd, b"hi")
    assert w.cmd(c, IPCMGR, 3, pd) == OK
    assert w.queued(c, MAILBOX, 1) == []  # it asked: no upcall
    assert w.queued(s, MAILBOX, 0) == []
    assert w.read(s) == fail(ErrorCode.NODEVICE)
    assert w.mb.stats()["cancelled"] == 1


def test_closing_an_unrelated_descriptor_touches_nothing(w):
    s, c, pd, svc_pd, *_ = ready(w)
    o = w.spawn("o")
    w.register(o, b"other")
    opd = w.discover(c, b"other").value
    w.send(c, pd, b"hi")
    w.cmd(c, IPCMGR, 3, opd)
    assert len(w.mb.in_flight()) == 1
