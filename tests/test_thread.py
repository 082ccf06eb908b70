"""The Thread scenario's apps: the FIFO, the three service/client pairs, drops, priorities, crashes."""

from __future__ import annotations

import pytest

from tockshell.board import build_board
from tockshell.kernel import fault_policy_from
from tockshell.lang.cmd_thread import ThreadMonitor
from tockshell.userland import frames
from tockshell.userland.apps import spawn_program
from tockshell.userland.apps.thread import Packet, ThreadFifo
from tockshell.userland.libtock import AppError

MS = 1_000_000
PAIRS = {
    "mailbox": ("thread_service", "thread_client", {}),
    "relay": ("thread_service_relay", "thread_client_relay", {}),
    "legacy": ("thread_service_legacy", "thread_client_legacy", {"package": "thread"}),
}


def pkt(port, seq=0, prio=0):
    return Packet(b"", port, seq, prio)


# ---------------------------------------------------------------------------- the FIFO
def test_fifo_drop_oldest_and_newest():
    f = ThreadFifo(2, drop="oldest")
    a, b, c = pkt(1, 1), pkt(2, 2), pkt(1, 3)
    assert f.add(a) == [] and f.add(b) == []
    assert f.add(c) == [a]
    assert [p.seq for p in f.packets()] == [2, 3]
    g = ThreadFifo(2, drop="newest")
    g.add(pkt(1, 1))
    g.add(pkt(1, 2))
    late = pkt(1, 3)
    assert g.add(late) == [late]
    assert len(g) == 2


def test_fifo_counts_the_packet_in_flight_and_may_drop_it():
    f = ThreadFifo(1)
    first = pkt(1, 1)
    f.add(first)
    first.inflight = True
    assert f.next_send() is None  # nothing else to send
    assert f.add(pkt(2, 2)) == [first]  # drop-oldest takes the one waiting unread


def test_fifo_single_sends_in_arrival_order_per_port_round_robin():
    single = ThreadFifo(8)
    for port, seq in ((3, 1), (1, 2), (3, 3)):
        single.add(pkt(port, seq))
    assert single.next_send().seq == 1
    per = ThreadFifo(8, per_port=True)
    for port, seq in ((3, 1), (3, 2), (1, 3), (2, 4)):
        per.add(pkt(port, seq))
    assert per.next_send(after=None).port == 1
    assert per.next_send(after=1).port == 2
    assert per.next_send(after=2).port == 3
    assert per.next_send(after=3).port == 1
    assert per.next_send(eligible=lambda port: port == 3).seq == 1


def test_fifo_per_port_capacity_is_per_port():
    f = ThreadFifo(2, per_port=True)
    for seq in range(3):
        f.add(pkt(1, seq))
    assert f.add(pkt(2, 9)) == []
    assert f.held(1) == 2 and f.held(2) == 1


def test_fifo_priority_serves_high_first_and_drops_low():
    f = ThreadFifo(3, priority=True)
    low1, high, low2 = pkt(1, 1, prio=0), pkt(2, 2, prio=5), pkt(1, 3, prio=0)
    for p in (low1, high, low2):
        f.add(p)
    assert f.next_send() is high
    newcomer = pkt(2, 4, prio=5)
    assert f.add(newcomer) == [low1]  # the oldest of the lowest priority
    f2 = ThreadFifo(1, priority=True, drop="newest")
    f2.add(pkt(2, 1, prio=5))
    lowly = pkt(1, 2, prio=0)
    assert f2.add(lowly) == [lowly]


def test_fifo_drop_port_and_bad_settings():
    f = ThreadFifo(4)
    f.add(pkt(1))
    f.add(pkt(2))
    assert len(f.drop_port(1)) == 1 and len(f) == 1
    with pytest.raises(AppError):
        ThreadFifo(0)
    with pytest.raises(AppError):
        ThreadFifo(2, drop="random")


# ---------------------------------------------------------------------------- running the designs
def setup(design, clients=((1, {}),), svc=None, rate=150, duration=1000 * MS, ports=None, board=None):
    svc_app, cli_app, kw = PAIRS[design]
    b = board or build_board()
    k = b.kernel
    mon = ThreadMonitor(b)
    k.create_process("svc", program=spawn_program(svc_app, dict(svc or {})), **kw)
    procs = {}
    for port, params in clients:
        name = f"c{port}"
        procs[name] = k.create_process(name, program=spawn_program(cli_app, {"port": port, **params}))
    if rate:
        b.driver("radio").start_traffic(rate, ports=ports or tuple(p for p, _ in clients), duration_ns=duration,
                                        seed=7)
    return b, mon, procs


@pytest.mark.parametrize("design", list(PAIRS))
def test_each_design_delivers_every_frame_to_the_port_owner(design):
    b, mon, procs = setup(design, clients=((1, {}), (2, {})), rate=100, svc={"fifo": 8, "ring": 8})
    b.kernel.run(until=1200 * MS)
    for name in ("c1", "c2"):
        f = mon.client_figures(name)
        assert f["arrived"] > 30
        assert f["delivered"] == f["arrived"], (design, name, f)
        assert 0 < f["latency_mean"] <= f["latency_max"] < 20 * MS
    svc = mon.service_figures("svc")
    assert svc["blocked"] == 0 and svc["dropped"] == 0 and svc["clients"] == 2
    # Each client only ever read frames for its own port, in order.
    reads = procs["c1"].program.tock.statics["thread.probe"].reads
    assert {port for port, _ in reads} == {1}
    assert [seq for _, seq in reads] == sorted(seq for _, seq in reads)


@pytest.mark.parametrize("design", list(PAIRS))
def test_frames_for_nobody_are_unclaimed(design):
    b, mon, _ = setup(design, clients=((1, {}),), ports=(1, 9), rate=100)
    b.kernel.run(until=1100 * MS)
    svc = mon.service_figures("svc")
    assert svc["unclaimed"] == mon.arrived[9] > 0


@pytest.mark.parametrize("design", list(PAIRS))
def test_client_sends_go_out_on_the_radio(design):
    b, mon, procs = setup(design, clients=((1, {"send": 100}),), rate=50)
    b.kernel.run(until=1100 * MS)
    radio = b.driver("radio")
    sent = [frames.parse(f) for _, who, f in radio.sent]
    assert len(sent) >= 9 and all(who == "svc" for _, who, _ in radio.sent)
    assert all(t is not None and t.port == 1 and t.payload == b"tx\x01" for t in sent)
    assert mon.client_figures("c1")["sent"] == len(sent) or mon.client_figures("c1")["sent"] == len(sent) + 1
    assert mon.client_figures("c1")["delivered"] > 0  # receiving went on meanwhile


@pytest.mark.parametrize("design", list(PAIRS))
def test_a_slow_client_loses_packets_at_the_service_and_nobody_blocks(design):
    # The slow client sleeps 40 ms per packet while 50 frames/s arrive for it.
    b, mon, _ = setup(design, clients=((1, {}), (2, {"wait": 40})), rate=100, svc={"fifo": 2, "per_client": True})
    b.kernel.run(until=1200 * MS)
    slow, fast = mon.client_figures("c2"), mon.client_figures("c1")
    assert slow["dropped"] > 5
    assert fast["dropped"] == 0
    assert slow["delivered"] + slow["dropped"] + slow["overwrites"] == slow["arrived"]
    assert mon.service_figures("svc")["blocked"] == 0


def test_mailbox_single_fifo_hurts_fast_clients_per_client_does_not():
    # A client slow on I/O and drop=newest: head-of-line blocking in the one FIFO.
    def run(per_client):
        b, mon, _ = setup("mailbox", clients=((1, {}), (2, {}), (3, {"wait": 20})), rate=150,
                          svc={"fifo": 4, "per_client": per_client, "drop": "newest"})
        b.kernel.run(until=1200 * MS)
        return mon.client_figures("c1")["dropped"] + mon.client_figures("c2")["dropped"], mon

    single, _ = run(False)
    per, mon = run(True)
    assert single > 5 and per == 0
    assert mon.service_figures("svc")["preempted"] > 0  # it took back unread messages to serve others


def test_mailbox_priority_serves_the_high_priority_client_first():
    def dropped(priority):
        b, mon, _ = setup("mailbox", clients=((1, {"priority": 1}), (2, {"priority": 0, "wait": 20})), rate=100,
                          svc={"fifo": 3, "priority": priority, "drop": "newest"})
        b.kernel.run(until=1200 * MS)
        return mon.client_figures("c1")["dropped"]

    assert dropped(True) < dropped(False)


def test_blocking_service_is_measured_blocked():
    b, mon, _ = setup("mailbox", clients=((1, {"wait": 10}),), rate=50, svc={"blocking": True})
    b.kernel.run(until=1100 * MS)
    svc = mon.service_figures("svc")
    assert svc["blocked"] > 100 * MS  # it sat waiting for c1 to read, instead of serving
    b2, mon2, _ = setup("mailbox", clients=((1, {"wait": 10}),), rate=50)
    b2.kernel.run(until=1100 * MS)
    assert mon2.service_figures("svc")["blocked"] == 0


def test_ring_overwrites_are_attributed_to_ports():
    # A 2-slot ring holds one frame; a client computing 15 ms a packet keeps the service off the CPU.
    b, mon, _ = setup("mailbox", clients=((1, {"cost": 15}), (2, {})), rate=200, svc={"ring": 2})
    b.kernel.run(until=1100 * MS)
    radio = b.driver("radio")
    assert radio.overwrites("svc") > 0
    assert sum(mon.overwrites.values()) == radio.overwrites("svc")
    for name in ("c1", "c2"):
        f = mon.client_figures(name)
        assert f["delivered"] + f["dropped"] + f["overwrites"] <= f["arrived"]


def test_mailbox_client_crash_gives_the_service_its_error_upcall():
    b, mon, procs = setup("mailbox", clients=((1, {}), (2, {"cost": 12}), (3, {})), rate=150,
                          duration=2000 * MS)
    b.kernel.fault_policy = fault_policy_from("stop")
    k = b.kernel
    mbox = b.driver("mailbox")
    k.run(until=500 * MS, stop=lambda: bool(mbox.waiting_for(procs["c2"])))
    assert mbox.waiting_for(procs["c2"])
    k.fault(procs["c2"], "test crash")
    before = mon.client_figures("c1")["delivered"]
    k.run(until=1500 * MS)
    svc = mon.service_figures("svc")
    assert svc["errors"] >= 1 and svc["gone"] >= 1 and svc["unclaimed"] > 0
    assert mon.client_figures("c1")["delivered"] > before + 20
    # A restarted client opens its port again and is served.
    k.try_restart(procs["c2"])
    k.run(until=2100 * MS)
    assert procs["c2"].program.tock.statics["thread.probe"].reads


def test_clients_wait_for_a_late_service():
    b = build_board()
    k = b.kernel
    mon = ThreadMonitor(b)
    k.create_process("c1", program=spawn_program("thread_client", {"port": 1}))
    b.driver("radio").start_traffic(50, ports=(1,), duration_ns=1000 * MS, seed=3)
    k.run(until=100 * MS)
    k.create_process("svc", program=spawn_program("thread_service", {}))
    k.run(until=1200 * MS)
    assert mon.client_figures("c1")["delivered"] > 20


def test_client_without_service_says_so():
    b = build_board()
    k = b.kernel
    for cli in ("thread_client", "thread_client_relay", "thread_client_legacy"):
        k.create_process(cli, program=spawn_program(cli, {"tries": 2}))
    k.run(until=200 * MS)
    outs = {p.name: b.console.output_of(p).decode() for p in k.live_processes()}
    assert outs["thread_client"].startswith("thread_client: no service 'thread'")
    assert outs["thread_client_relay"].startswith("thread_client_relay: no service 'thread' (NODEVICE)")
    assert outs["thread_client_legacy"].startswith("thread_client_legacy: no service 'thread'")


def test_legacy_service_needs_its_package_name():
    b = build_board()
    k = b.kernel
    svc = k.create_process("svc", program=spawn_program("thread_service_legacy", {}))
    k.run(until=50 * MS)
    assert "cannot register 'thread'" in b.console.output_of(svc).decode()


def test_legacy_service_writes_into_the_clients_memory():
    b, mon, procs = setup("legacy", clients=((1, {}),), rate=50)
    b.kernel.run(until=600 * MS)
    svc = b.kernel.process("svc")
    c1 = procs["c1"]
    assert b.kernel.stats.bytes_copied == 0
    assert svc.mpu_regions and all(c1.memory_start <= a < c1.memory_end for a, _ in set(svc.mpu_regions))
    assert mon.client_figures("c1")["delivered"] > 20


def test_relay_service_parks_requests_instead_of_answering_empty():
    b, mon, _ = setup("relay", clients=((1, {}),), rate=20)
    b.kernel.run(until=1100 * MS)
    relay = b.driver("relay").stats()
    # Every answer carried a packet, except the one to the open request.
    assert relay["responses"] == mon.client_figures("c1")["delivered"] + 1


@pytest.mark.parametrize("app,params,message", [
    ("thread_client", {"port": 300}, "port is one byte"),
    ("thread_service", {"fifo": 0}, "at least 1 packet"),
    ("thread_service_relay", {"ring": 1}, "at least 2 slots"),
])
def test_bad_parameters_fault_the_app_with_a_message(app, params, message):
    b = build_board()
    p = b.kernel.create_process("p", program=spawn_program(app, params))
    b.kernel.run(until=20 * MS)
    assert p.state.name == "Faulted" or b.kernel.panicked
    assert message in (p.fault_reason or b.kernel.panicked)


def test_spawn_refuses_unknown_parameters():
    with pytest.raises(ValueError, match="has no parameter 'fifoo'"):
        spawn_program("thread_service", {"fifoo": 3})
    with pytest.raises(ValueError, match="drop is one of oldest, newest"):
        spawn_program("thread_service_legacy", {"drop": "middle"})
