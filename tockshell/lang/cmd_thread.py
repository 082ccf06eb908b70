"""The Thread scenario's measurements, the ``thread`` process field and ``compare``.

Measurements are a debugger's: :class:`ThreadMonitor` watches a board from
outside, as a logic analyser and a debugger reading app globals would. It
times every frame the radio accepts (``Radio.rx_hooks``), reads the probes
the Thread apps keep in their statics (the (port, seq) of each packet a
client read, the service's counters), and timestamps what changed at the
kernel record that follows (within one syscall's cost). Nothing it does
reaches the kernel or the apps.

Figures, per client (by its port): ``delivered``, ``dropped`` (by the
service's FIFO), ``gone`` (dropped because the client went away),
``overwrites`` (frames for its port overwritten in the service's RX ring,
in the kernel, before the service saw them), ``arrived``, ``latency_mean``
and ``latency_max`` (radio arrival to the client's read); per service:
``blocked`` (time spent waiting for one client: zero unless it is built
to block), ``dropped``, ``gone``, ``unclaimed``, ``forwarded``,
``preempted``, ``fifo_max``, ``overwrites``, and over every client of the
board ``delivered``, ``latency_mean``, ``latency_max``.

``compare [key=value ...]`` runs one workload on the three designs, each on
a fresh board, and prints one table; the figures are also ``$compare``
(``$compare.mailbox.dropped``).
"""

from __future__ import annotations

from typing import Any

from ..board import build_board
from ..userland import frames
from . import ast
from .commands import STATEMENT_OPTIONS, board_hook, process_field, statement
from .errors import suggestion
from .interpreter import option_value
from .values import Symbol, Time, format_time, show

__all__ = ["ThreadMonitor", "Workload", "DESIGNS", "run_design", "compare", "format_table"]

#: design -> (service app, client app, what the service must be spawned with)
DESIGNS: dict[str, tuple[str, str, dict]] = {
    "mailbox": ("thread_service", "thread_client", {}),
    "relay": ("thread_service_relay", "thread_client_relay", {}),
    "legacy": ("thread_service_legacy", "thread_client_legacy", {"package": "thread"}),
}
SLOT = 130  # the raw PHY driver's RX ring slot: 3 metadata bytes + 127


# ---------------------------------------------------------------------------- the monitor

def _thread_apps() -> frozenset:
    # Imported on first need: the apps package is heavy, and a session that runs no app never needs it.
    from ..userland.apps.thread import THREAD_APPS

    return THREAD_APPS

class _Watched:
    __slots__ = ("process", "name", "probe", "stamped", "blocked_since")

    def __init__(self, process):
        self.process = process
        self.name = process.name
        self.probe = None
        self.stamped = 0
        self.blocked_since: int | None = None


class _ClientTotals:
    __slots__ = ("port", "delivered", "lat_sum", "lat_n", "lat_max")

    def __init__(self, port: int):
        self.port = port
        self.delivered = 0
        self.lat_sum = 0
        self.lat_n = 0
        self.lat_max = 0


class ThreadMonitor:
    """Watches one board's Thread apps and turns their probes into figures (see the module doc)."""

    def __init__(self, board):
        self.board = board
        self.kernel = board.kernel
        self.arrived: dict[int, int] = {}          # port -> frames the radio accepted
        self.overwrites: dict[int, int] = {}       # port -> frames overwritten in a service's RX ring
        self.blocked: dict[str, int] = {}          # service name -> ns spent blocked on a client
        self.clients: dict[str, _ClientTotals] = {}
        self._arrival: dict[tuple[int, int], int] = {}
        self._watch: dict[int, _Watched] = {}
        self._ignore: set[int | None] = {None}
        self.kernel.listeners.append(self._on_record)
        radio = board.driver("radio")
        if radio is not None and hasattr(radio, "rx_hooks"):
            radio.rx_hooks.append(self._on_frame)

    # -- observation ------------------------------------------------------------------
    def _resolve(self, identifier: int) -> _Watched | None:
        for p in self.kernel.processes:
            if p is not None and p.identifier == identifier:
                name = getattr(p.program, "name", None)
                if name is not None and name in _thread_apps():
                    w = self._watch[identifier] = _Watched(p)
                    return w
                break
        self._ignore.add(identifier)
        return None

    def _probe(self, w: _Watched):
        tock = getattr(w.process.program, "tock", None)
        if tock is None or w.process.identifier is None:
            return None
        from ..userland.apps.thread import PROBE_KEY

        probe = tock.statics.get(PROBE_KEY)
        if probe is not None:
            w.probe = probe
            if probe.kind == "client" and w.name not in self.clients:
                self.clients[w.name] = _ClientTotals(probe.port)
        return probe

    def _on_record(self, rec) -> None:
        w = self._watch.get(rec.pid)
        if w is None:
            if rec.pid in self._ignore:
                return
            w = self._resolve(rec.pid)
            if w is None:
                return
        probe = w.probe
        if probe is None:
            probe = self._probe(w)
            if probe is None:
                return
        if probe.kind == "client":
            reads = probe.reads
            if len(reads) > w.stamped:
                tot = self.clients[w.name]
                tot.port = probe.port
                for key in reads[w.stamped:]:
                    tot.delivered += 1
                    t0 = self._arrival.pop(key, None)
                    if t0 is not None:
                        lat = rec.time - t0
                        tot.lat_sum += lat
                        tot.lat_n += 1
                        if lat > tot.lat_max:
                            tot.lat_max = lat
                w.stamped = len(reads)
        elif probe.blocked_on is not None:
            if w.blocked_since is None:
                w.blocked_since = rec.time
        elif w.blocked_since is not None:
            self.blocked[w.name] = self.blocked.get(w.name, 0) + rec.time - w.blocked_since
            w.blocked_since = None

    def _on_frame(self, frame: bytes) -> None:
        t = frames.parse(frame)
        if t is None:
            return
        self.arrived[t.port] = self.arrived.get(t.port, 0) + 1
        self._arrival[(t.port, t.seq)] = self.kernel.now
        # The radio is about to write every ring: a full service ring loses its oldest frame.
        for w in self._services():
            ring = w.probe.ring
            if ring is None or not w.process.alive:
                continue
            victim = _ring_victim(w.process, ring.addr, ring.len)
            if victim is not None:
                self.overwrites[victim] = self.overwrites.get(victim, 0) + 1

    def _services(self):
        for w in self._watch.values():
            if w.probe is not None and w.probe.kind == "service" and self.kernel.lookup(w.process.pid) is not None:
                yield w

    # -- figures ----------------------------------------------------------------------
    def _service_probes(self):
        return [w.probe for w in self._services()]

    def client_figures(self, name: str) -> dict[str, Any] | None:
        """The figures of client ``name`` (None if it never ran a Thread client)."""
        tot = self.clients.get(name)
        if tot is None:
            return None
        port = tot.port
        probes = self._service_probes()
        w = self._current(name)
        return {
            "port": port,
            "delivered": tot.delivered,
            "dropped": sum(sp.dropped.get(port, 0) for sp in probes),
            "gone": sum(sp.gone.get(port, 0) for sp in probes),
            "overwrites": self.overwrites.get(port, 0),
            "arrived": self.arrived.get(port, 0),
            "latency_mean": Time(tot.lat_sum // tot.lat_n if tot.lat_n else 0),
            "latency_max": Time(tot.lat_max),
            "sent": w.probe.sent if w is not None and w.probe is not None else 0,
        }

    def service_figures(self, name: str) -> dict[str, Any] | None:
        """The figures of service ``name`` (None if it is not a running Thread service)."""
        w = self._current(name)
        if w is None or w.probe is None or w.probe.kind != "service":
            return None
        sp = w.probe
        blocked = self.blocked.get(name, 0)
        if w.blocked_since is not None:
            blocked += self.kernel.now - w.blocked_since
        radio = self.board.driver("radio")
        tots = list(self.clients.values())
        lat_n = sum(t.lat_n for t in tots)
        return {
            "design": Symbol(sp.design),
            "clients": len(sp.owners),
            "delivered": sum(t.delivered for t in tots),
            "latency_mean": Time(sum(t.lat_sum for t in tots) // lat_n if lat_n else 0),
            "latency_max": Time(max((t.lat_max for t in tots), default=0)),
            "forwarded": sum(sp.forwarded.values()),
            "dropped": sum(sp.dropped.values()),
            "gone": sum(sp.gone.values()),
            "unclaimed": sp.unclaimed,
            "preempted": sp.preempted,
            "fifo_max": sp.fifo_max,
            "overwrites": radio.overwrites(name) if radio is not None and hasattr(radio, "overwrites") else 0,
            "blocked": Time(blocked),
            "transmitted": sp.transmitted,
            "errors": sp.client_errors,
        }

    def _current(self, name: str) -> _Watched | None:
        best = None
        for w in self._watch.values():
            if w.name == name and self.kernel.lookup(w.process.pid) is not None:
                best = w
        if best is not None and best.probe is None:
            self._probe(best)
        return best

    def figures(self, name: str) -> dict[str, Any] | None:
        """A service's or a client's figures, whichever ``name`` is."""
        return self.service_figures(name) or self.client_figures(name)


def _ring_victim(p, addr: int, length: int) -> int | None:
    """The port of the frame the next write will overwrite in ``p``'s RX ring, or None if it has room."""
    if length <= 2 or (length - 2) % SLOT:
        return None
    try:
        r, w = p.read(addr, 2)
        slots = (length - 2) // SLOT
        if r >= slots or w >= slots or (w + 1) % slots != r:
            return None
        off = addr + 2 + r * SLOT
        n = p.read(off + 1, 1)[0]
        t = frames.parse(p.read(off + 3, min(n, 127)))
    except Exception:  # noqa: BLE001 - a ring the app broke is not the monitor's business
        return None
    return t.port if t is not None else -1


def monitor_of(session) -> ThreadMonitor:
    m = session.plugin_state.get("thread")
    if m is None or m.kernel is not session.kernel:
        m = session.plugin_state["thread"] = ThreadMonitor(session.board)
    return m


@board_hook
def _attach(session) -> None:
    session.plugin_state["thread"] = ThreadMonitor(session.board)


@process_field("thread", "a Thread app's figures: delivered, dropped, overwrites, latency_mean/max, blocked...")
def _field_thread(s, p):
    figs = monitor_of(s).figures(p.name)
    if figs is None:
        from .errors import TshError

        if getattr(p.program, "name", None) in _thread_apps():
            raise TshError(f"{p.name}'s Thread app has not started yet: it has no figures before its main "
                           f"runs (`run` or `step` first)")
        raise TshError(f"{p.name} runs no Thread app (thread_service, thread_client and their _relay and "
                       f"_legacy variants have .thread)")
    return figs


# ---------------------------------------------------------------------------- compare
class WorkloadError(ValueError):
    """A workload value refused; ``key`` is the option at fault (where the message points)."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


class Workload:
    """One Thread workload: the clients, the traffic, the service's FIFO. Units: ms, frames/s, ns."""

    #: key -> (default, one-line doc)
    KEYS: dict[str, tuple[Any, str]] = {
        "designs": (("mailbox", "relay", "legacy"), "which designs to run"),
        "clients": (3, "number of clients, on ports 1..N"),
        "slow": (1, "how many of them (the last ones) are slow"),
        "rate": (50, "frames per second for each client's port"),
        "slow_rate": (None, "frames per second for each slow client's port (none: rate)"),
        "cost": (0.2, "a fast client's work per packet (CPU)"),
        "slow_cost": (12, "a slow client's work per packet (CPU: the timeslice can preempt it)"),
        "slow_wait": (0, "then a slow client sleeps this long per packet (slow I/O: the CPU is free)"),
        "fifo": (4, "packets the service holds (per client with per_client=true)"),
        "per_client": (False, "one FIFO per client"),
        "drop": ("oldest", "what a full FIFO drops: oldest or newest"),
        "priority": (False, "priority queues (the slow clients get priority 0, the others 1)"),
        "svc_cost": (0.1, "the service's work per received frame"),
        "ring": (4, "slots of the service's RX ring (N slots hold N-1 frames)"),
        "send": (0, "each client sends a frame this often (0: never)"),
        "duration": (2_000_000_000, "how long the traffic lasts (the run goes on 200ms more)"),
        "periodic": (False, "periodic arrivals instead of Poisson"),
        "seed": (1, "the traffic's seed"),
    }
    #: Keys that are times in ms (a bare number is ms; a duration such as 200us converts).
    MS_KEYS = ("cost", "slow_cost", "slow_wait", "svc_cost", "send")

    def __init__(self, **kw):
        unknown = set(kw) - set(self.KEYS)
        if unknown:
            raise ValueError(f"unknown workload key {sorted(unknown)[0]!r}")
        for key, (default, _) in self.KEYS.items():
            setattr(self, key, kw.get(key, default))
        if self.slow_rate is None:
            self.slow_rate = self.rate
        designs = (self.designs,) if isinstance(self.designs, str) else tuple(self.designs)
        for d in designs:
            if d not in DESIGNS:
                raise WorkloadError("designs", suggestion("design", str(d), list(DESIGNS))
                                    + f" (designs: {', '.join(DESIGNS)})")
        self.designs = designs
        if not 1 <= self.clients <= 12:
            raise WorkloadError("clients",
                                f"clients is 1..12 (the board has 16 process slots), not {self.clients}")
        if not 0 <= self.slow <= self.clients:
            raise WorkloadError("slow", f"slow is 0..clients ({self.clients}), not {self.slow}")
        for key in ("rate", "slow_rate"):
            if getattr(self, key) < 0:
                raise WorkloadError(key, f"{key} must not be negative")
        if self.fifo < 1:
            raise WorkloadError("fifo", f"fifo holds at least 1 packet, not {self.fifo}")
        if self.ring < 2:
            raise WorkloadError("ring", f"ring has at least 2 slots, not {self.ring}")
        if self.drop not in ("oldest", "newest"):
            raise WorkloadError("drop", f"drop is oldest or newest, not {self.drop!r}")
        if self.duration <= 0:
            raise WorkloadError("duration", "duration must be positive")

    def is_slow(self, i: int) -> bool:
        """Client ``i`` (1-based) is slow."""
        return i > self.clients - self.slow

    def describe(self) -> str:
        n, slow = self.clients, self.slow
        names = ", ".join(f"c{i}" for i in range(n - slow + 1, n + 1))
        work = _ms(self.slow_cost) + (f" + {_ms(self.slow_wait)} asleep" if self.slow_wait else "")
        who = (f"{names} slow: {work} a packet; others {_ms(self.cost)}" if slow and slow < n else
               f"all slow: {work} a packet" if slow else f"{_ms(self.cost)} a packet each")
        rates = f"{self.rate:g} frames/s per port" + (f" ({self.slow_rate:g} for the slow)"
                                                        if slow and self.slow_rate != self.rate else "")
        fifo = f"fifo={self.fifo} ({'per client' if self.per_client else 'one for all'}) drop={self.drop}"
        if self.priority:
            fifo += " priority"
        sends = f"; clients send every {_ms(self.send)}" if self.send else ""
        return (f"{n} client{'s' if n > 1 else ''} on ports 1..{n} ({who}), {rates} "
                f"({'periodic' if self.periodic else 'Poisson'}, seed {self.seed}) for "
                f"{format_time(self.duration)}{sends}\n"
                f"service: {fifo}, {_ms(self.svc_cost)} a frame, RX ring of {self.ring} slots")


def _ms(ms: float) -> str:
    return format_time(int(ms * 1_000_000))


DRAIN_NS = 200_000_000


def run_design(design: str, wl: Workload, board_name: str = "default") -> dict[str, Any]:
    """Run ``wl`` on ``design`` on a fresh board; its figures (see :func:`compare`)."""
    from ..userland.apps import spawn_program

    svc_app, cli_app, svc_kw = DESIGNS[design]
    board = build_board(board_name)
    k = board.kernel
    mon = ThreadMonitor(board)
    svc_params = {"fifo": wl.fifo, "per_client": wl.per_client, "drop": wl.drop, "priority": wl.priority,
                  "cost": wl.svc_cost, "ring": wl.ring}
    k.create_process("svc", program=spawn_program(svc_app, svc_params), **svc_kw)
    names = []
    for i in range(1, wl.clients + 1):
        slow = wl.is_slow(i)
        params = {"port": i, "cost": wl.slow_cost if slow else wl.cost, "wait": wl.slow_wait if slow else 0,
                  "send": wl.send,
                  "priority": 0 if slow else 1}
        k.create_process(f"c{i}", program=spawn_program(cli_app, params))
        names.append(f"c{i}")
    radio = board.driver("radio")
    fast = tuple(i for i in range(1, wl.clients + 1) if not wl.is_slow(i))
    slow = tuple(i for i in range(1, wl.clients + 1) if wl.is_slow(i))
    for n, (ports, rate) in enumerate(((fast, wl.rate), (slow, wl.slow_rate))):
        if ports and rate > 0:
            radio.start_traffic(rate * len(ports), ports=ports, duration_ns=wl.duration, periodic=wl.periodic,
                                seed=wl.seed * 1000 + n)
    k.run(until=wl.duration + DRAIN_NS)
    if k.panicked:
        raise RuntimeError(f"the kernel panicked in the {design} design: {k.panicked}")
    clients = {name: mon.client_figures(name) or {} for name in names}
    svc = mon.service_figures("svc") or {}
    lat_n = sum(mon.clients[n].lat_n for n in names if n in mon.clients)
    lat_sum = sum(mon.clients[n].lat_sum for n in names if n in mon.clients)
    procs = {p.name: p for p in k.live_processes()}
    st = k.stats
    return {
        "delivered": sum(c.get("delivered", 0) for c in clients.values()),
        "dropped": sum(c.get("dropped", 0) for c in clients.values()),
        "overwrites": sum(mon.overwrites.values()),
        "latency_mean": Time(lat_sum // lat_n if lat_n else 0),
        "latency_max": Time(max((c.get("latency_max", 0) for c in clients.values()), default=0)),
        "blocked": svc.get("blocked", Time(0)),
        "syscalls": st.syscalls,
        "context_switches": st.context_switches,
        "bytes_copied": st.bytes_copied,
        "kernel_cycles": st.kernel_cycles,
        "grant_service": procs["svc"].grant_bytes if "svc" in procs else 0,
        "grant_client": max((procs[n].grant_bytes for n in names if n in procs), default=0),
        "arrived": sum(mon.arrived.values()),
        "clients": clients,
        "service": svc,
    }


def compare(wl: Workload, board_name: str = "default") -> dict[str, dict[str, Any]]:
    """Run ``wl`` on each of its designs: design -> figures."""
    return {d: run_design(d, wl, board_name) for d in wl.designs}


_ROWS = [
    ("delivered", "delivered", "clients"),
    ("dropped", "dropped at the service", "clients"),
    ("overwrites", "RX ring overwrites (kernel)", None),
    ("latency_mean", "latency mean (radio to read)", None),
    ("latency_max", "latency max", "clients"),
    ("blocked", "service blocked on clients", None),
    ("syscalls", "syscalls", None),
    ("context_switches", "context switches", None),
    ("bytes_copied", "bytes copied by the kernel", None),
    ("kernel_cycles", "kernel work (cycles)", None),
    ("grant_service", "grant bytes: service", None),
    ("grant_client", "grant bytes: a client (most)", None),
]


def _cell(v) -> str:
    if isinstance(v, Time):
        return format_time(int(v))
    return str(v)


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """The ``compare`` table: one column per design, one row per figure (per-client rows indented)."""
    designs = list(results)
    rows: list[tuple[str, list[str]]] = []
    first = results[designs[0]]
    for key, label, per in _ROWS:
        rows.append((label, [_cell(results[d][key]) for d in designs]))
        if per:
            for name in first["clients"]:
                port = first["clients"][name].get("port", "?")
                rows.append((f"  {name} (port {port})",
                             [_cell(results[d]["clients"].get(name, {}).get(key, "-")) for d in designs]))
    width = max(len(label) for label, _ in rows) + 2
    colw = [max(len(d), *(len(cells[i]) for _, cells in rows)) + 2 for i, d in enumerate(designs)]
    lines = [" " * width + "".join(d.rjust(w) for d, w in zip(designs, colw))]
    for label, cells in rows:
        lines.append(label.ljust(width) + "".join(c.rjust(w) for c, w in zip(cells, colw)))
    return "\n".join(lines)


def _workload_from_options(s, n: ast.Compare) -> Workload:
    kw: dict[str, Any] = {}
    for kv in n.options:
        if kv.key not in Workload.KEYS:
            raise s.error(kv, suggestion("compare option", kv.key, list(Workload.KEYS)))
        if kv.key in kw:
            raise s.error(kv, f"option '{kv.key}' is given twice")
        v = option_value(s, kv.value)
        default = Workload.KEYS[kv.key][0]
        kw[kv.key] = _coerce(s, kv, v, default)
    try:
        return Workload(**kw)
    except ValueError as e:
        key = getattr(e, "key", None)
        # slow=N too big for the clients given: with no slow= written, clients= is what to change
        keys = (key, "clients") if key == "slow" else (key,)
        at = next((kv for k in keys for kv in n.options if kv.key == k), n)
        raise s.error(at, str(e)) from None


def _coerce(s, kv, v, default):
    key = kv.key
    if key == "designs":
        items = v if isinstance(v, tuple) else (v,)
        if not all(isinstance(x, str) for x in items):
            raise s.error(kv, f"designs= is a list of mailbox, relay, legacy, not {show(v)}")
        return tuple(str(x) for x in items)
    if key == "drop":
        if str(v) not in ("oldest", "newest"):
            raise s.error(kv, f"drop= is oldest or newest, not {show(v)}")
        return str(v)
    if isinstance(default, bool):
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.lower() in ("on", "off", "true", "false", "yes", "no"):
            return v.lower() in ("on", "true", "yes")
        raise s.error(kv, f"{key}= is true or false, not {show(v)}")
    if key == "duration":
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise s.error(kv, f"duration= is a time such as 2s or 500ms, not {show(v)}")
        if not isinstance(v, Time):
            v *= 1_000_000  # a bare number is milliseconds, as for the apps' times
        return int(v)
    if key in Workload.MS_KEYS:
        if isinstance(v, Time):
            return v / 1_000_000
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise s.error(kv, f"{key}= is a time (200us, 12ms; a bare number is ms), not {show(v)}")
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise s.error(kv, f"{key}= is a number, not {show(v)}")
    if key not in ("rate", "slow_rate") and not isinstance(v, int):
        raise s.error(kv, f"{key}= is a whole number, not {show(v)}")
    return v


@statement(ast.Compare)
def _compare(s, n: ast.Compare):
    wl = _workload_from_options(s, n)
    try:
        results = compare(wl, s.board.name)
    except (ValueError, RuntimeError) as e:
        raise s.error(n, str(e)) from None
    s.say("compare: " + wl.describe())
    s.say()
    s.say(format_table(results))
    s.variables["compare"] = results
    return results


def _show_default(key: str, d) -> str:
    if d is None:
        return "none"
    if isinstance(d, bool):
        return "on" if d else "off"
    if isinstance(d, tuple):
        return ",".join(d)
    if key in Workload.MS_KEYS:
        return _ms(d) if d else "0"
    if key == "duration":
        return format_time(d)
    return str(d)


def _key_lines() -> str:
    keys = [(f"{k}={_show_default(k, d)}", doc) for k, (d, doc) in Workload.KEYS.items()]
    width = max(len(k) for k, _ in keys) + 2
    return "\n".join(f"{k:<{width}}{doc}" for k, doc in keys)


HELP = {
    "compare": ("compare [designs=mailbox,relay,legacy] [clients=3] [slow=1] [rate=50] [fifo=4] "
                "[per_client=true] [key=value ...]",
                "run one Thread workload on the three IPC designs (each on a fresh board) and print one table",
                "compare clients=3 slow=1 slow_cost=12ms fifo=4 per_client=true",
                _key_lines()
                + "\nThe figures are also $compare: $compare.mailbox.dropped, $compare.relay.clients.c1.delivered."
                + "\nDesigns: mailbox (IPC Manager + Mailbox, 2025-08), relay (registry + Relay Request, 2026),"
                + "\nlegacy (shared buffer + notify). See docs/thread.md."),
}


# The completer offers `compare`'s keys like spawn's.
STATEMENT_OPTIONS.setdefault("compare", {}).update({k: doc for k, (_, doc) in Workload.KEYS.items()})
