"""The frames of ``traffic radio``: a tiny 802.15.4 data frame with a port and a sequence number.

This is the protocol the modelled network peers speak; apps parse it and the
radio capsule's traffic generator (playing those peers) builds it. It lives
in userland because it is an application-level format: nothing here touches
the kernel. Layout (the PSDU without its 2-byte FCS)::

    offset size  field
    0      2     frame control 0x8841 (LE: 41 88): data frame, PAN ID compression,
                 short destination and source addresses
    2      1     MAC sequence number (DSN), one counter for the whole stream, mod 256
    3      2     destination PAN, 0xABCD (LE)
    5      2     destination address 0xFFFF (broadcast)
    7      2     source address, 0x0001 + the stream's number (LE)
    9      1     marker 'T' (0x54): a tockshell traffic frame
    10     1     destination port (the demultiplexing key)
    11     2     sequence number for that port, big-endian, mod 65536
    13     n     payload: n seeded random bytes (``len=``, default 8)
"""

from __future__ import annotations

from typing import NamedTuple

FCF_DATA = 0x8841
PAN = 0xABCD
BROADCAST = 0xFFFF
MARKER = 0x54
HEADER_LEN = 13
#: aMaxPHYPacketSize (127) minus the 2-byte FCS.
MAX_PSDU = 125
MAX_PAYLOAD = MAX_PSDU - HEADER_LEN


class TrafficFrame(NamedTuple):
    """A parsed traffic frame."""

    dsn: int
    src: int
    port: int
    seq: int
    payload: bytes


def build(port: int, seq: int, dsn: int, payload: bytes, src: int = 1) -> bytes:
    """The bytes of one traffic frame."""
    if not 0 <= port <= 255:
        raise ValueError(f"a port is one byte (0..255), not {port}")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"a traffic payload is at most {MAX_PAYLOAD} bytes, not {len(payload)}")
    return (FCF_DATA.to_bytes(2, "little") + bytes([dsn & 0xFF]) + PAN.to_bytes(2, "little")
            + BROADCAST.to_bytes(2, "little") + (src & 0xFFFF).to_bytes(2, "little")
            + bytes([MARKER, port]) + (seq & 0xFFFF).to_bytes(2, "big") + bytes(payload))


def parse(frame: bytes) -> TrafficFrame | None:
    """The traffic header of ``frame``, or None if it is not a traffic frame."""
    if len(frame) < HEADER_LEN or frame[0:2] != FCF_DATA.to_bytes(2, "little") or frame[9] != MARKER:
        return None
    return TrafficFrame(frame[2], int.from_bytes(frame[7:9], "little"), frame[10],
                        int.from_bytes(frame[11:13], "big"), bytes(frame[HEADER_LEN:]))
