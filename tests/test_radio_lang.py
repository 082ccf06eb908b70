"""`inject radio` and `traffic radio` in the language (tockshell.lang.cmd_radio)."""

from __future__ import annotations

import io

import pytest

from tockshell.lang.errors import TshError
from tockshell.lang.session import Session

RING = 2 + 3 * 130


def session():
    out = io.StringIO()
    return Session(out=out), out


def with_ring(s):
    s.execute(f"spawn a\nlet ring = alloc a {RING}\na: allow-rw radio 0 $ring {RING}\na: subscribe radio 0 @rx")


def test_inject_puts_the_frame_in_the_ring_and_queues_the_upcall():
    s, out = session()
    with_ring(s)
    s.execute('inject radio x"41 88 07" lqi=9\nexpect a.queue == 1\n'
              'expect mem(a, $ring, 8) == x"00 01 00 03 00 41 88 07"')
    text = out.getvalue()
    assert "radio: 3-byte frame (lqi 9) to a" in text
    assert "schedule radio/0 → a @rx(0x9, 0x0, 0x0)" in text


def test_inject_options():
    s, out = session()
    with_ring(s)
    s.execute('inject radio "x" crc=bad\ninject radio "x" channel=11\nexpect a.queue == 0')
    assert "bad CRC was dropped" in out.getvalue() and "channel 11 was missed" in out.getvalue()


@pytest.mark.parametrize("line, message, col", [
    ("inject radio x\"00\" lqi=300", "lqi= must be 0..255, not 300", 20),
    ("inject radio x\"00\" lq=3", "unknown inject option 'lq' — did you mean 'lqi'?", 20),
    ("inject radio x\"00\" crc=maybe", "crc= is ok or bad", 20),
    (f"inject radio \"{'x' * 126}\"", "at most 125 bytes", 14),
    ("traffic radio ports=1", "traffic radio needs rate=R", 1),
    ("traffic radio rate=10 ports=\"a\"", "ports= is a list of port numbers", 23),
    ("traffic radio rate=10 len=500", "len is the payload size", 1),
    ("traffic radio rate=10 speed=3", "unknown traffic option 'speed'", 23),
])
def test_errors_are_one_clear_line_with_a_position(line, message, col):
    s, _ = session()
    with pytest.raises(TshError) as e:
        s.execute(line)
    assert message in e.value.message
    assert e.value.pos is not None and e.value.pos.column == col


def test_traffic_runs_for_its_duration_and_is_reproducible():
    def run():
        s, out = session()
        with_ring(s)
        s.execute("traffic radio rate=2000 ports=1,2 for 10ms\nrun for 20ms")
        return s, out.getvalue()

    s1, t1 = run()
    s2, t2 = run()
    assert t1 == t2
    assert "radio traffic stream 1: 2000 frames/s (Poisson) to ports 1,2 until t=" in t1
    st = s1.board.driver("radio").stats()
    assert st["traffic frames"] > 5 and st["a: ring overwrites"] == st["traffic frames"] - 2
    assert st["traffic streams running"] == 0


def test_traffic_stop():
    s, out = session()
    s.execute("traffic radio rate=100 periodic=true\ntraffic radio rate=50\ntraffic radio rate=0\nrun for 100ms")
    assert "radio traffic stopped (2 streams were running)" in out.getvalue()
    assert s.board.driver("radio").stats()["traffic frames"] == 0
    s.execute("traffic radio rate=100 for 15ms\ntraffic radio stop=true")
    assert "radio traffic stopped (1 stream was running)" in out.getvalue()


APP = """
from tockshell.userland import drivers as D, frames

def listener(tock, slots=4):
    ring = yield from tock.radio_ring(slots)

    def on_rx(lqi):
        while (f := tock.ring_pop(ring)) is not None:
            t = frames.parse(f)
            yield from tock.print(f"port {t.port} seq {t.seq}")

    yield tock.subscribe(D.RADIO, D.RADIO_UPCALL_RX, on_rx)
"""


def test_traffic_reaches_an_app_reading_its_ring(tmp_path):
    (tmp_path / "listener.py").write_text(APP)
    script = tmp_path / "radio.tsh"
    script.write_text("spawn svc app=\"listener.py:listener\" slots=8\nconfig radio.channel = 11\n"
                      "traffic radio rate=1000 ports=7 periodic=true channel=11 for 3ms\nrun for 10ms\n"
                      'expect svc.console == "port 7 seq 0\\nport 7 seq 1\\nport 7 seq 2\\n"\n')
    s, out = session()
    s.run_file(str(script))
    assert s.board.driver("radio").stats()["svc: frames into its ring"] == 3


def test_help_for_inject_and_traffic():
    s, out = session()
    s.execute("help inject\nhelp traffic")
    text = out.getvalue()
    assert "inject radio BYTES [lqi=N] [crc=ok|bad] [channel=N]" in text
    assert "periodic= true: exactly every 1/rate s" in text
