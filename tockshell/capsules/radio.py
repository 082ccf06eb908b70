"""802.15.4 raw PHY driver (0x30001, ``capsules/extra/src/ieee802154/phy_driver.rs``).

The driver the Thread tutorial board installs (reference/tock-ipc.md §3.1):

* TX: command 27 sends the frame in RO allow 0 (the PSDU without its FCS).
  One pending transmission per process (``BUSY``); one on the air at a time,
  the next taken from the first process (slot order) with one pending. The
  TX-done upcall 1 carries ``(status, acked, 0)``; an error found when the
  transmission starts (radio off, frame too long) comes back the same way.
* RX: RW allow 0 is a ring buffer ``[read index][write index]`` then N slots
  of 3 metadata bytes (header length, payload length, MIC length; the raw
  driver writes 0, frame length, 0) and 127 frame bytes. A buffer whose
  length is not ``2 + N*130``, or whose indices are out of range, gets
  nothing. Every received frame goes to **every** process that allowed a
  ring, each with upcall 0 ``(lqi, 0, 0)``. After a write the write index
  advances; if it meets the read index the read index advances too: the
  oldest frame is overwritten (counted per process: :meth:`stats`).
* Configuration: commands 2/4/5/6 set short address, PAN, channel (11..26,
  ``INVAL`` otherwise), TX power (-40..8 dBm); 7 commits; 8 and 10 return
  the address and PAN plus one; 11, 12 the channel and power; 28/29 the
  long address; 30/31 radio on/off; 1 says whether it is on (``OFF``).

Frames arrive by :meth:`Radio.inject` (``inject radio BYTES [lqi=N]``) or
from seeded traffic streams (:meth:`Radio.start_traffic`, ``traffic radio
rate=R ...``) whose frame format is :mod:`tockshell.userland.frames`.
"""

from __future__ import annotations

import random

from ..abi import ErrorCode, SyscallReturn
from ..kernel import GrantError, GrantSpec, SyscallDriver
from ..userland import frames as traffic_frames

RING_HEADER = 2
FRAME_META = 3
MAX_FRAME_SIZE = 127
SLOT_SIZE = FRAME_META + MAX_FRAME_SIZE
MFR_SIZE = 2
MAX_PSDU = MAX_FRAME_SIZE - MFR_SIZE  # what an app can send or receive (no FCS)

#: 250 kbit/s O-QPSK: 32 us a byte; preamble (4) + SFD (1) + PHR (1) precede the PSDU and FCS.
NS_PER_BYTE = 32_000
SHR_PHR = 6
TURNAROUND_NS = 192_000  # aTurnaroundTime, 12 symbols: RX to TX before the frame goes out

CHANNELS = range(11, 27)
TX_POWER = range(-40, 9)


class RadioApp:
    """The driver's per-process grant data (``App { pending_tx }``)."""

    __slots__ = ("pending_tx",)

    def __init__(self):
        self.pending_tx = False

    def __repr__(self):
        return "TX pending" if self.pending_tx else "no TX pending"


class TrafficStream:
    """One ``traffic radio`` generator: seeded arrivals of traffic frames until stopped or its end."""

    __slots__ = ("number", "rate", "ports", "length", "lqi", "periodic", "channel", "end", "rng",
                 "event", "sent", "seed", "at")

    def __init__(self, number, rate, ports, length, lqi, periodic, channel, end, seed):
        self.number = number
        self.rate = rate
        self.ports = ports
        self.length = length
        self.lqi = lqi
        self.periodic = periodic
        self.channel = channel
        self.end = end
        self.seed = seed
        self.rng = random.Random(seed)
        self.event = None
        self.sent = 0
        self.at = 0  # the virtual time of the last arrival (arrivals keep their own clock)

    def describe(self) -> str:
        ports = ",".join(str(p) for p in self.ports)
        kind = "periodic" if self.periodic else "Poisson"
        # A rate as a person writes it: 100000000, 2.5 (never 1e+08).
        rate = f"{self.rate:.0f}" if self.rate == int(self.rate) else f"{self.rate:.6f}".rstrip("0")
        return f"stream {self.number}: {rate} frames/s ({kind}) to ports {ports}, {self.sent} sent"


def _shown(value) -> str:
    """A config value as the user wrote it (never a Python tuple or repr)."""
    if isinstance(value, (tuple, list)):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, str):
        return f"'{value}'"
    return str(value)


class Radio(SyscallDriver):
    """The raw 802.15.4 PHY driver, on a radio that hears injected frames and seeded traffic."""

    driver_num = 0x30001
    name = "radio"
    summary = ("802.15.4 raw PHY: cmd 27 sends RO allow 0 (upcall 1 (status, acked, 0)); RX ring in "
               "RW allow 0 for every process (upcall 0 (lqi, 0, 0)); 30/31 on/off")

    def __init__(self, seed: int = 0x154):
        self.seed = seed
        #: Observers (debuggers, measurements) called with each frame the radio accepts, before any ring.
        self.rx_hooks: list = []
        self._init_state()
        super().__init__()

    def _init_state(self) -> None:
        self.on = True
        self.short_addr = 0
        self.pan = 0
        self.channel = 26  # OpenThread's channel on Tock
        self.tx_power = 0
        self.long_addr = 0
        self.committed_channel = 26
        self.commits = 0
        self.acks = True  # a modelled peer acknowledges frames that ask for it
        self._current = None  # ProcessId of the transmission on the air
        self.sent: list[tuple[int, str, bytes]] = []  # (time, process, frame) as transmitted
        self.streams: list[TrafficStream] = []
        self._stream_count = 0
        self._port_seq: dict[int, int] = {}
        self._dsn = 0
        self.reset_stats()

    def make_grant(self):
        return GrantSpec(self.driver_num, upcalls=2, allow_ro=1, allow_rw=1, data_size=1,
                         data_factory=RadioApp)

    # ------------------------------------------------------------------ syscalls
    def command(self, cmd, arg0, arg1, pid):
        if cmd == 0:
            return SyscallReturn.success()
        if cmd == 1:
            return SyscallReturn.success() if self.on else SyscallReturn.failure(ErrorCode.OFF)
        if cmd == 2:
            self.short_addr = arg0 & 0xFFFF
            return SyscallReturn.success()
        if cmd == 4:
            self.pan = arg0 & 0xFFFF
            return SyscallReturn.success()
        if cmd == 5:
            if (arg0 & 0xFF) not in CHANNELS:
                return SyscallReturn.failure(ErrorCode.INVAL)
            self.channel = arg0 & 0xFF
            return SyscallReturn.success()
        if cmd == 6:
            power = (arg0 & 0xFF) - 256 if arg0 & 0x80 else arg0 & 0xFF  # `arg as i8`
            if power not in TX_POWER:
                return SyscallReturn.failure(ErrorCode.INVAL)
            self.tx_power = power
            return SyscallReturn.success()
        if cmd == 7:
            self.committed_channel = self.channel
            self.commits += 1
            return SyscallReturn.success()
        if cmd == 8:
            return SyscallReturn.success_u32(self.short_addr + 1)
        if cmd == 10:
            return SyscallReturn.success_u32(self.pan + 1)
        if cmd == 11:
            return SyscallReturn.success_u32(self.channel)
        if cmd == 12:
            return SyscallReturn.success_u32(self.tx_power)
        if cmd == 27:
            try:
                g = self.kernel.enter_grant(pid, self)
            except GrantError as e:
                return SyscallReturn.failure(e.error_code)
            if g.data.pending_tx:
                return SyscallReturn.failure(ErrorCode.BUSY)
            g.data.pending_tx = True
            self._do_next_tx()
            return SyscallReturn.success()
        if cmd == 28:
            self.long_addr = (arg1 << 32) | arg0
            return SyscallReturn.success()
        if cmd == 29:
            return SyscallReturn.success_u64(self.long_addr)
        if cmd == 30:
            self.on = True
            return SyscallReturn.success()
        if cmd == 31:
            self.on = False
            return SyscallReturn.success()
        return SyscallReturn.failure(ErrorCode.NOSUPPORT)

    # ------------------------------------------------------------------ transmit
    def _do_next_tx(self) -> None:
        if self._current is not None:
            return
        k = self.kernel
        for p, g in self.grant_holders():
            if g.data.pending_tx:
                err = self._perform_tx(p, g)
                if err is not None:
                    k.schedule_upcall(p.pid, self.driver_num, 1, (int(err), 0, 0))
                    k.note(f"radio: {p.name}'s transmission failed at once ({err.name})", p)
                return

    def _perform_tx(self, p, g) -> ErrorCode | None:
        g.data.pending_tx = False
        k = self.kernel
        addr, length = k.ro_buffer(p.pid, self, 0)
        frame = k.read_buffer(p.pid, addr, length) if length else b""
        if not self.on:
            return ErrorCode.OFF
        if len(frame) > MAX_PSDU:
            return ErrorCode.SIZE
        self._current = p.pid
        airtime = TURNAROUND_NS + (SHR_PHR + len(frame) + MFR_SIZE) * NS_PER_BYTE
        k.schedule_hw(airtime, lambda: self._send_done(p.pid, frame), "radio transmission done")
        return None

    def _send_done(self, pid, frame: bytes) -> str:
        k = self.kernel
        self._current = None
        acked = int(self.acks and bool(frame) and bool(frame[0] & 0x20))  # FCF ack-request bit
        p = k.lookup(pid)
        name = p.name if p is not None else f"[{pid.identifier}]"
        self.sent.append((k.now, name, frame))
        self._stats["frames sent"] += 1
        if p is not None and k.grant_of(pid, self) is not None:
            k.schedule_upcall(pid, self.driver_num, 1, (0, acked, 0))
        self._do_next_tx()
        return f"radio: {name} sent {len(frame)} bytes" + (" (acked)" if acked else "")

    # ------------------------------------------------------------------ receive
    def receive(self, frame: bytes, lqi: int = 255, crc_ok: bool = True, channel: int | None = None) -> str:
        """A frame arrives at the radio (hardware side): into every ring, with an RX upcall each."""
        st = self._stats
        st["frames heard"] += 1
        if not self.on:
            st["dropped: radio off"] += 1
            return f"radio: a {len(frame)}-byte frame was missed: the radio is off"
        if channel is not None and channel != self.committed_channel:
            st["dropped: other channel"] += 1
            return f"radio: a frame on channel {channel} was missed (listening on {self.committed_channel})"
        if not crc_ok:
            st["dropped: bad CRC"] += 1
            return f"radio: a {len(frame)}-byte frame with a bad CRC was dropped"
        for hook in self.rx_hooks:
            hook(frame)
        k = self.kernel
        told, skipped = [], []
        for p, g in self.grant_holders():
            ps = self._proc_stats(p.name)
            addr, length = g.allow_rw[0]
            outcome = self._write_ring(p, addr, length, frame)
            if outcome is None:
                if length:
                    ps["bad ring"] += 1
                    skipped.append(f"{p.name} (ring of {length} bytes is not 2 + N*{SLOT_SIZE})")
                continue
            ps["frames"] += 1
            if outcome:
                ps["overwrites"] += 1
                st["ring overwrites"] += 1
            k.schedule_upcall(p.pid, self.driver_num, 0, (lqi & 0xFF, 0, 0))
            told.append(p.name + (" (oldest overwritten)" if outcome else ""))
        st["frames delivered"] += len(told)
        who = f"to {', '.join(told)}" if told else "dropped: no process has an RX ring"
        extra = f"; skipped {', '.join(skipped)}" if skipped else ""
        return f"radio: {len(frame)}-byte frame (lqi {lqi}) {who}{extra}"

    def _write_ring(self, p, addr: int, length: int, frame: bytes) -> bool | None:
        """Append to a ring: None if it cannot take frames, else whether the oldest was overwritten."""
        if length <= RING_HEADER or (length - RING_HEADER) % SLOT_SIZE:
            return None
        k = self.kernel
        read_index, write_index = k.read_buffer(p.pid, addr, 2)
        slots = (length - RING_HEADER) // SLOT_SIZE
        if read_index >= slots or write_index >= slots:
            return None
        off = addr + RING_HEADER + write_index * SLOT_SIZE
        k.write_buffer(p.pid, off, bytes((0, len(frame), 0)) + frame)
        write_index = (write_index + 1) % slots
        overwrote = write_index == read_index
        if overwrote:
            read_index = (read_index + 1) % slots
            k.write_buffer(p.pid, addr, bytes((read_index,)))
        k.write_buffer(p.pid, addr + 1, bytes((write_index,)))
        return overwrote

    def inject(self, frame: bytes, lqi: int = 255, crc_ok: bool = True, channel: int | None = None) -> None:
        """``inject radio BYTES``: a frame received now (one hardware event). ValueError if impossible."""
        frame = bytes(frame)
        if len(frame) > MAX_PSDU:
            raise ValueError(f"an 802.15.4 frame is at most {MAX_PSDU} bytes without its 2-byte FCS, "
                             f"not {len(frame)}")
        if not 0 <= lqi <= 255:
            raise ValueError(f"lqi is 0..255, not {lqi}")
        if channel is not None and channel not in CHANNELS:
            raise ValueError(f"802.15.4 channels are 11..26, not {channel}")
        self.kernel.hardware_event(lambda: self.receive(frame, lqi, crc_ok, channel), "radio frame received")

    # ------------------------------------------------------------------ traffic
    def start_traffic(self, rate: float, ports=(1,), length: int = 8, lqi: int = 255,
                      duration_ns: int | None = None, seed: int | None = None, periodic: bool = False,
                      channel: int | None = None) -> TrafficStream:
        """Start a seeded stream of traffic frames (``rate`` frames per second; Poisson unless periodic).

        Each call adds a stream; :meth:`stop_traffic` ends them all. The same
        calls at the same virtual times give the same frames at the same times.
        """
        if not rate > 0:
            raise ValueError(f"rate is frames per second and must be positive, not {rate}")
        ports = tuple(int(p) for p in (ports if isinstance(ports, (tuple, list)) else (ports,)))
        if not ports or any(not 0 <= p <= 255 for p in ports):
            raise ValueError(f"ports are one byte each (0..255), not {ports}")
        if not 0 <= length <= traffic_frames.MAX_PAYLOAD:
            raise ValueError(f"len is the payload size, 0..{traffic_frames.MAX_PAYLOAD} bytes, not {length}")
        if not 0 <= lqi <= 255:
            raise ValueError(f"lqi is 0..255, not {lqi}")
        if duration_ns is not None and duration_ns <= 0:
            raise ValueError("the traffic's duration must be positive")
        if channel is not None and channel not in CHANNELS:
            raise ValueError(f"802.15.4 channels are 11..26, not {channel}")
        self._stream_count += 1
        n = self._stream_count
        k = self.kernel
        s = TrafficStream(n, float(rate), ports, length, lqi, periodic, channel,
                          None if duration_ns is None else k.now + duration_ns,
                          self.seed * 1000 + n if seed is None else seed)
        s.at = k.now
        self.streams.append(s)
        self._schedule_next(s)
        return s

    def stop_traffic(self) -> int:
        """Stop every stream; returns how many were running."""
        n = len(self.streams)
        for s in self.streams:
            if s.event is not None:
                s.event.cancel()
        self.streams.clear()
        return n

    def _schedule_next(self, s: TrafficStream) -> None:
        gap = 1e9 / s.rate if s.periodic else s.rng.expovariate(s.rate) * 1e9
        # Arrivals are timed from the previous arrival, not from when the kernel
        # got round to it, so a busy kernel delays frames but never the stream.
        s.at += max(1, int(gap))
        if s.end is not None and s.at > s.end:
            s.event = None
            if s in self.streams:
                self.streams.remove(s)
            return
        s.event = self.kernel.schedule_hw(s.at - self.kernel.now, lambda: self._arrive(s),
                                          f"radio traffic (stream {s.number})")

    def _arrive(self, s: TrafficStream) -> str:
        port = s.ports[0] if len(s.ports) == 1 else s.rng.choice(s.ports)
        seq = self._port_seq.get(port, 0)
        self._port_seq[port] = (seq + 1) & 0xFFFF
        payload = bytes(s.rng.getrandbits(8) for _ in range(s.length))
        frame = traffic_frames.build(port, seq, self._dsn, payload, src=s.number)
        self._dsn = (self._dsn + 1) & 0xFF
        s.sent += 1
        self._stats["traffic frames"] += 1
        text = self.receive(frame, s.lqi, True, s.channel)
        self._schedule_next(s)
        return f"traffic port {port} seq {seq}: {text}"

    # ------------------------------------------------------------------ model hooks
    def _proc_stats(self, name: str) -> dict[str, int]:
        ps = self._per_process.get(name)
        if ps is None:
            ps = self._per_process[name] = {"frames": 0, "overwrites": 0, "bad ring": 0}
        return ps

    def overwrites(self, process) -> int:
        """Ring overwrites (frames lost to overwrite-oldest) for a process, by name or Process."""
        name = process if isinstance(process, str) else process.name
        return self._per_process.get(name, {}).get("overwrites", 0)

    def process_stats(self) -> dict[str, dict[str, int]]:
        """Per process name: frames put in its ring, overwrites, frames refused by a malformed ring."""
        return {n: dict(v) for n, v in self._per_process.items()}

    def stats(self) -> dict[str, int | str]:
        """Figures for ``stats``: totals, then each process's ring overwrites."""
        out: dict[str, int | str] = dict(self._stats)
        out["traffic streams running"] = len(self.streams)
        for name, ps in self._per_process.items():
            out[f"{name}: frames into its ring"] = ps["frames"]
            out[f"{name}: ring overwrites"] = ps["overwrites"]
            if ps["bad ring"]:
                out[f"{name}: frames refused (malformed ring)"] = ps["bad ring"]
        return out

    def reset_stats(self) -> None:
        self._stats = {"frames heard": 0, "frames delivered": 0, "ring overwrites": 0, "frames sent": 0,
                       "traffic frames": 0, "dropped: radio off": 0, "dropped: other channel": 0,
                       "dropped: bad CRC": 0}
        self._per_process: dict[str, dict[str, int]] = {}

    def describe_grant(self, data) -> str:
        return repr(data)

    def config_keys(self) -> dict[str, str]:
        return {"on": "on" if self.on else "off", "channel": str(self.committed_channel),
                "acks": "on" if self.acks else "off", "seed": str(self.seed)}

    def config_help(self) -> dict[str, str]:
        return {"on": "off: the radio is powered down (sends fail, nothing is heard)",
                "channel": "802.15.4 channel, 11..26",
                "acks": "on: a modelled peer acknowledges sent frames that ask for it",
                "seed": "seed of `traffic radio` streams that name none"}

    def set_config(self, key: str, value) -> None:
        if key in ("on", "acks"):
            flag = _flag(value)
            if flag is None:
                raise ValueError(f"radio.{key} is on or off, not {_shown(value)}")
            setattr(self, key, flag)
        elif key == "channel":
            if not isinstance(value, int) or isinstance(value, bool) or value not in CHANNELS:
                raise ValueError(f"radio.channel is 11..26, not {_shown(value)}")
            self.channel = self.committed_channel = value
        elif key == "seed":
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"radio.seed is a number, not {_shown(value)}")
            self.seed = value
        else:
            raise ValueError(f"radio has no setting '{key}' (it has: acks, channel, on, seed)")

    def reset(self) -> None:
        self.stop_traffic()
        self._init_state()


def _flag(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    w = str(value).lower()
    if w in ("on", "true", "yes"):
        return True
    if w in ("off", "false", "no"):
        return False
    return None


def _factory(board) -> Radio:
    return Radio()


def _register_capsule() -> None:
    from .. import board as board_mod

    if not any(name == "radio" for name, _ in board_mod.EXTRA_CAPSULES):
        board_mod.EXTRA_CAPSULES.append(("radio", _factory))


_register_capsule()
