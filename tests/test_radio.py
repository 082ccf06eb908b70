"""The 802.15.4 raw PHY driver: commands, the RX ring buffer, delivery, TX, seeded traffic."""

from __future__ import annotations

import pytest

from tockshell.abi import ErrorCode, SyscallClass, SyscallReturn
from tockshell.board import build_board
from tockshell.capsules.radio import SLOT_SIZE
from tockshell.userland import drivers as D
from tockshell.userland import frames
from tockshell.userland.runtime import AppProgram

RADIO = 0x30001
CMD, ALLOW_RW, ALLOW_RO, SUB = SyscallClass.COMMAND, SyscallClass.ALLOW_RW, SyscallClass.ALLOW_RO, \
    SyscallClass.SUBSCRIBE
MS = 1_000_000


def setup(n_procs=1, ram=4096):
    b = build_board()
    k = b.kernel
    procs = [k.create_process(f"p{i}", ram=ram) for i in range(n_procs)]
    return b, k, b.driver("radio"), procs


def ring(k, p, slots, extra=0, at=0x800):
    """Allow an RX ring of ``slots`` slots (plus ``extra`` stray bytes) in p's heap; returns its address."""
    addr = p.memory_start + at
    n = 2 + slots * SLOT_SIZE + extra
    p.write(addr, bytes(n))
    assert k.syscall(p, ALLOW_RW, RADIO, 0, addr, n).is_success
    return addr


def header(p, addr):
    r, w = p.read(addr, 2)
    return r, w


def slot(p, addr, i, n):
    off = addr + 2 + i * SLOT_SIZE
    return p.read(off, 3), p.read(off + 3, n)


# ---------------------------------------------------------------------------- commands
def test_configuration_commands_as_tocks_raw_driver():
    b, k, r, (p,) = setup()
    c = lambda cmd, a0=0, a1=0: k.syscall(p, CMD, RADIO, cmd, a0, a1)  # noqa: E731
    assert c(0) == SyscallReturn.success()
    assert c(1) == SyscallReturn.success()  # on at boot
    assert c(8).value == 1 and c(10).value == 1  # address and PAN plus one
    assert c(2, 0x1234).is_success and c(8).value == 0x1235
    assert c(4, 0xABCD).is_success and c(10).value == 0xABCE
    assert c(11).value == 26
    assert c(5, 10).error is ErrorCode.INVAL and c(5, 27).error is ErrorCode.INVAL
    assert c(5, 15).is_success and c(11).value == 15
    assert c(6, 9).error is ErrorCode.INVAL
    assert c(6, 0xFC).is_success and c(12).value == 0xFFFF_FFFC  # -4 dBm, `as i8` then `as u32`
    assert c(7).is_success and r.committed_channel == 15
    assert c(28, 0x89ABCDEF, 0x01234567).is_success
    assert c(29) == SyscallReturn.success_u64(0x0123456789ABCDEF)
    assert str(c(29)) == f"Success(u64={0x0123456789ABCDEF})"
    assert c(31).is_success and c(1).error is ErrorCode.OFF
    assert c(30).is_success and c(1).is_success
    assert c(3).error is ErrorCode.NOSUPPORT and c(99).error is ErrorCode.NOSUPPORT


# ---------------------------------------------------------------------------- the RX ring
def test_ring_layout_metadata_and_indices():
    b, k, r, (p,) = setup()
    addr = ring(k, p, 3)
    f1 = bytes(range(1, 21))
    r.inject(f1, lqi=99)
    assert header(p, addr) == (0, 1)
    meta, body = slot(p, addr, 0, 20)
    assert meta == bytes([0, 20, 0]) and body == f1  # header len 0, payload len, MIC len 0
    assert [t.args for t in p.tasks] == [(99, 0, 0)]
    assert p.tasks[0].upcall_id == (RADIO, 0)


def test_ring_overwrites_the_oldest_when_full():
    b, k, r, (p,) = setup()
    addr = ring(k, p, 3)
    for i in range(1, 3):
        r.inject(bytes([i]) * 5)
    assert header(p, addr) == (0, 2) and r.overwrites(p) == 0  # N slots hold N-1 unread frames
    r.inject(b"\x03" * 5)  # the write index meets the read index: read advances
    assert header(p, addr) == (1, 0) and r.overwrites(p) == 1
    assert slot(p, addr, 2, 5)[1] == b"\x03" * 5
    r.inject(b"\x04" * 5)
    assert header(p, addr) == (2, 1) and r.overwrites("p0") == 2
    assert slot(p, addr, 0, 5)[1] == b"\x04" * 5
    assert r.stats()["p0: ring overwrites"] == 2 and r.stats()["ring overwrites"] == 2


def test_a_reader_that_keeps_up_loses_nothing():
    b, k, r, (p,) = setup()
    addr = ring(k, p, 2)
    for i in range(6):
        r.inject(bytes([i]))
        rd, wr = header(p, addr)
        p.write(addr, bytes([(rd + 1) % 2]))  # the app consumes the frame
    assert r.overwrites(p) == 0


def test_a_one_slot_ring_always_looks_empty():
    # Tock's arithmetic: with one slot the write index wraps onto the read index every time.
    b, k, r, (p,) = setup()
    addr = ring(k, p, 1)
    r.inject(b"abc")
    assert header(p, addr) == (0, 0) and r.overwrites(p) == 1
    assert slot(p, addr, 0, 3)[1] == b"abc" and len(p.tasks) == 1


@pytest.mark.parametrize("slots, extra, indices", [(3, 1, None), (0, 1, None), (3, 0, (3, 0)), (3, 0, (0, 7))])
def test_malformed_rings_get_nothing(slots, extra, indices):
    b, k, r, (p,) = setup()
    addr = ring(k, p, slots, extra)
    if indices:
        p.write(addr, bytes(indices))
    r.inject(b"frame")
    assert not p.tasks
    assert p.read(addr + 2, 5) == bytes(5)
    assert r.process_stats()["p0"]["bad ring"] == 1


def test_every_frame_goes_to_every_process_with_a_ring():
    b, k, r, (a, c, d, e) = setup(4)
    ring(k, a, 2)
    ring(k, c, 4)
    assert k.syscall(d, SUB, RADIO, 0, 0, 0).is_success  # a grant, but no ring
    r.inject(b"\x41\x88\x07")
    assert [len(x.tasks) for x in (a, c, d, e)] == [1, 1, 0, 0]
    rec = [x for x in k.log if x.kind == "hw"][-1]
    assert rec.data[0] == "radio: 3-byte frame (lqi 255) to p0, p1"
    assert r.stats()["frames delivered"] == 2


def test_the_rx_upcall_reaches_a_subscribed_app_with_lqi():
    b = build_board()
    k, r = b.kernel, b.driver("radio")
    got = []

    def app(tock):
        ring_buf = yield from tock.radio_ring(3)

        def on_rx(lqi, a1, a2):
            got.append((lqi, a1, a2, tock.ring_pop(ring_buf)))

        yield tock.subscribe(D.RADIO, D.RADIO_UPCALL_RX, on_rx)

    k.create_process("app", program=AppProgram(app, name="app"))
    k.run(until=MS)
    r.inject(b"\x01\x02\x03", lqi=42)
    k.run(until=2 * MS)
    assert got == [(42, 0, 0, b"\x01\x02\x03")]


def test_radio_off_other_channel_and_bad_crc_drop_frames():
    b, k, r, (p,) = setup()
    ring(k, p, 3)
    r.inject(b"x", crc_ok=False)
    r.inject(b"x", channel=11)
    k.syscall(p, CMD, RADIO, 31, 0, 0)
    r.inject(b"x")
    assert not p.tasks
    s = r.stats()
    assert (s["dropped: bad CRC"], s["dropped: other channel"], s["dropped: radio off"]) == (1, 1, 1)
    k.syscall(p, CMD, RADIO, 30, 0, 0)
    k.syscall(p, CMD, RADIO, 5, 11, 0)
    k.syscall(p, CMD, RADIO, 7, 0, 0)  # only a commit moves the receiver to channel 11
    r.inject(b"x", channel=11)
    assert len(p.tasks) == 1


@pytest.mark.parametrize("kw, message", [
    ({"frame": bytes(126)}, "at most 125 bytes"),
    ({"lqi": 256}, "lqi is 0..255"),
    ({"channel": 30}, "channels are 11..26"),
])
def test_inject_refuses_impossible_frames(kw, message):
    b, k, r, _ = setup()
    frame = kw.pop("frame", b"ok")
    with pytest.raises(ValueError, match=message):
        r.inject(frame, **kw)


# ---------------------------------------------------------------------------- transmit
def tx_setup(p, k, frame, at=0x900):
    addr = p.memory_start + at
    p.write(addr, frame)
    assert k.syscall(p, ALLOW_RO, RADIO, 0, addr, len(frame)).is_success
    assert k.syscall(p, SUB, RADIO, 1, 0, 0).is_success


def test_transmit_and_the_tx_done_upcall():
    b, k, r, (p,) = setup()
    frame = frames.build(1, 0, 0, b"abc")
    tx_setup(p, k, frame)
    t0 = k.now
    assert k.syscall(p, CMD, RADIO, 27, 0, 0) == SyscallReturn.success()
    k.syscall(p, SyscallClass.YIELD, 2, RADIO, 1)
    k.run(until=10 * MS)
    assert p.pending_return.args == (0, 0, 0)  # status Ok, not acked (no ack request)
    (when, who, sent), = r.sent
    assert who == "p0" and sent == frame
    assert when - t0 >= 192_000 + (6 + len(frame) + 2) * 32_000


def test_ack_request_bit_gives_acked():
    b, k, r, (p,) = setup()
    tx_setup(p, k, b"\x61\x88\x00")  # FCF with the ack-request bit
    k.syscall(p, CMD, RADIO, 27, 0, 0)
    k.syscall(p, SyscallClass.YIELD, 2, RADIO, 1)
    k.run(until=10 * MS)
    assert p.pending_return.args == (0, 1, 0)


@pytest.mark.parametrize("how, status", [("off", ErrorCode.OFF), ("long", ErrorCode.SIZE)])
def test_transmit_errors_come_back_in_the_tx_done_upcall(how, status):
    b, k, r, (p,) = setup()
    tx_setup(p, k, bytes(126) if how == "long" else b"\x41\x88")
    if how == "off":
        k.syscall(p, CMD, RADIO, 31, 0, 0)
    assert k.syscall(p, CMD, RADIO, 27, 0, 0).is_success  # the command itself succeeds, as in Tock
    assert [t.args for t in p.tasks] == [(int(status), 0, 0)]
    assert not r.sent


def test_one_pending_transmission_per_process():
    b, k, r, (a, c) = setup(2)
    tx_setup(a, k, b"\x41\x88\x01")
    tx_setup(c, k, b"\x41\x88\x02")
    assert k.syscall(a, CMD, RADIO, 27, 0, 0).is_success  # on the air
    assert k.syscall(c, CMD, RADIO, 27, 0, 0).is_success  # pending: the radio is busy
    assert k.syscall(c, CMD, RADIO, 27, 0, 0).error is ErrorCode.BUSY
    k.run(until=10 * MS)
    assert [(who, f) for _, who, f in r.sent] == [("p0", b"\x41\x88\x01"), ("p1", b"\x41\x88\x02")]


def test_an_app_sends_with_radio_send():
    b = build_board()
    k, r = b.kernel, b.driver("radio")
    out = []

    def app(tock):
        out.append((yield from tock.radio_send(frames.build(9, 1, 2, b"payload"))))

    k.create_process("tx", program=AppProgram(app, name="tx"))
    k.run(until=10 * MS)
    assert out == [(0, 0)] and frames.parse(r.sent[0][2]).port == 9


# ---------------------------------------------------------------------------- traffic
def _arrivals(seed=None, **kw):
    b, k, r, (p,) = setup(ram=16384)
    addr = ring(k, p, 64)
    r.start_traffic(2000, duration_ns=20 * MS, seed=seed, **kw)
    k.run(until=30 * MS)
    seen = [(rec.time, rec.data[0]) for rec in k.log if rec.kind == "hw" and rec.data[0].startswith("traffic")]
    return seen, p.read(addr, 2 + 64 * SLOT_SIZE), r


def test_seeded_traffic_is_reproducible():
    a, ring_a, _ = _arrivals(ports=(1, 2, 3))
    b, ring_b, _ = _arrivals(ports=(1, 2, 3))
    assert a == b and ring_a == ring_b
    assert 20 <= len(a) <= 60  # Poisson at 2000/s for 20 ms
    c, _, _ = _arrivals(seed=99, ports=(1, 2, 3))
    assert c != a


def test_periodic_traffic_and_per_port_sequence_numbers():
    seen, ring_bytes, r = _arrivals(periodic=True, ports=(5,), length=4)
    times = [t for t, _ in seen]
    assert len(times) == 40  # every 0.5 ms, the last one at the 20 ms end
    assert {round((y - x) / 1000) for x, y in zip(times, times[1:])} == {500}
    parsed = [frames.parse(ring_bytes[2 + i * SLOT_SIZE + 3: 2 + i * SLOT_SIZE + 3 + 17]) for i in range(40)]
    assert [f.seq for f in parsed] == list(range(40))
    assert [f.dsn for f in parsed] == list(range(40))
    assert {f.port for f in parsed} == {5} and all(len(f.payload) == 4 for f in parsed)
    assert r.streams == []


def test_stop_traffic_and_bad_parameters():
    b, k, r, _ = setup()
    r.start_traffic(100)
    r.start_traffic(100, ports=(1, 2))
    assert r.stop_traffic() == 2
    k.run(until=50 * MS)
    assert r.stats()["traffic frames"] == 0
    for kw, msg in [({"rate": 0}, "positive"), ({"rate": 1, "ports": (300,)}, "one byte"),
                    ({"rate": 1, "length": 200}, "payload size"), ({"rate": 1, "duration_ns": 0}, "duration")]:
        with pytest.raises(ValueError, match=msg):
            r.start_traffic(**kw)


# ---------------------------------------------------------------------------- frames, config, stats
def test_traffic_frame_layout():
    f = frames.build(port=7, seq=0x1234, dsn=0x55, payload=b"\xaa\xbb", src=2)
    assert f.hex(" ") == "41 88 55 cd ab ff ff 02 00 54 07 12 34 aa bb"
    assert frames.parse(f) == frames.TrafficFrame(0x55, 2, 7, 0x1234, b"\xaa\xbb")
    assert frames.parse(b"\x41\x88\x00") is None and frames.parse(bytes(20)) is None


def test_config_keys_and_errors():
    b, k, r, _ = setup()
    assert r.config_keys() == {"on": "on", "channel": "26", "acks": "on", "seed": str(0x154)}
    r.set_config("on", False)
    r.set_config("channel", 11)
    assert r.config_keys()["on"] == "off" and r.committed_channel == 11
    for key, value, msg in [("on", "maybe", "on or off"), ("channel", 5, "11..26"), ("speed", 1, "no setting")]:
        with pytest.raises(ValueError, match=msg):
            r.set_config(key, value)


def test_stats_reset_and_grant_description():
    b, k, r, (p,) = setup()
    ring(k, p, 2)
    r.inject(b"a")
    r.inject(b"b")
    assert r.stats()["p0: frames into its ring"] == 2
    r.reset_stats()
    assert r.stats()["frames heard"] == 0 and r.overwrites(p) == 0
    assert r.describe_grant(k.grant_of(p, r).data) == "no TX pending"
