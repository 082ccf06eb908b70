"""``inject radio`` and ``traffic radio``: frames arriving at the board's 802.15.4 radio.

::

    inject radio BYTES [lqi=N] [crc=ok|bad] [channel=N]
    traffic radio rate=R [ports=P,Q,...] [len=N] [lqi=N] [periodic=true] [seed=N] [channel=N] [for DURATION]
    traffic radio rate=0                 # (or stop=true) stops every stream

``inject`` is one hardware event, handled at once (like ``press``): the frame
goes into every process's RX ring. ``traffic`` starts a seeded stream of
traffic frames (format in docs/apps.md) that arrive while the kernel runs:
``rate`` frames per second, Poisson arrivals unless ``periodic=true``, each
frame to a port drawn from ``ports``.
"""

from __future__ import annotations

from . import ast
from .commands import statement
from .errors import suggestion
from .expr import evaluate_bytes, evaluate_int
from .interpreter import option_value
from .values import Symbol, format_time, show

INJECT_OPTIONS = {"lqi": "link quality 0..255 (default 255)", "crc": "ok or bad (a bad CRC is dropped)",
                  "channel": "the channel it was sent on (default: the one the radio listens on)"}
TRAFFIC_OPTIONS = {"rate": "frames per second (0 stops all streams)", "ports": "destination ports, e.g. 1,2,3",
                   "len": "payload bytes per frame (default 8)", "lqi": "link quality 0..255 (default 255)",
                   "periodic": "true: exactly every 1/rate s (default: Poisson arrivals)",
                   "seed": "the stream's random seed (default: from radio.seed and the stream number)",
                   "channel": "the channel the frames are sent on", "stop": "true: stop every stream"}


#: `help inject`, `help traffic` (synopsis, summary, example, details), read by tockshell.lang.help.
HELP = {
    "inject": ("inject radio BYTES [lqi=N] [crc=ok|bad] [channel=N]",
               "a received 802.15.4 frame: into every process's RX ring, upcall radio/0 (lqi, 0, 0) each",
               'inject radio x"41 88 00 cd ab ff ff 01 00 54 01 00 00" lqi=200',
               "\n".join(f"{k + '=':<10}{v}" for k, v in INJECT_OPTIONS.items())
               + "\nBYTES is the PSDU without its 2-byte FCS (at most 125 bytes). Handled at once, like press."),
    "traffic": ("traffic radio rate=R [ports=P,Q] [len=N] [lqi=N] [periodic=true] [seed=N] [channel=N] "
                "[for DURATION]",
                "a seeded stream of traffic frames (port + sequence number; docs/apps.md) arriving as time runs",
                "traffic radio rate=200 ports=1,2 for 1s",
                "\n".join(f"{k + '=':<10}{v}" for k, v in TRAFFIC_OPTIONS.items())
                + "\nEach statement adds a stream; `traffic radio rate=0` stops them all."),
}


def _radio(s, n):
    r = s.board.driver("radio")
    if r is None or not hasattr(r, "inject"):
        raise s.error(n, f"board '{s.board.name}' has no 802.15.4 radio")
    return r


def _options(s, n, known: dict[str, str]) -> dict:
    out = {}
    for kv in n.options:
        if kv.key not in known:
            raise s.error(kv, suggestion(f"{n.__class__.__name__.lower()} option", kv.key, list(known)))
        if kv.key in out:
            raise s.error(kv, f"option '{kv.key}' is given twice")
        out[kv.key] = (kv, option_value(s, kv.value))
    return out


def _int_opt(s, opts, key, default, lo=None, hi=None):
    if key not in opts:
        return default
    kv, v = opts[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise s.error(kv, f"{key}= must be a number, not {show(v)}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise s.error(kv, f"{key}= must be {lo}..{hi}, not {v}")
    return v


def _flag_opt(s, opts, key, default=False):
    if key not in opts:
        return default
    kv, v = opts[key]
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("on", "off", "true", "false", "yes", "no"):
        return v.lower() in ("on", "true", "yes")
    raise s.error(kv, f"{key}= must be true or false, not {show(v)}")


@statement(ast.Inject)
def _inject(s, n: ast.Inject):
    radio = _radio(s, n)
    data = evaluate_bytes(s, n.data)
    opts = _options(s, n, INJECT_OPTIONS)
    lqi = _int_opt(s, opts, "lqi", 255, 0, 255)
    channel = _int_opt(s, opts, "channel", None, 11, 26)
    crc_ok = True
    if "crc" in opts:
        kv, v = opts["crc"]
        word = str(v).lower() if isinstance(v, (str, bool)) else None
        if word not in ("ok", "bad", "true", "false", "good"):
            raise s.error(kv, f"crc= is ok or bad, not {show(v)}")
        crc_ok = word in ("ok", "true", "good")
    try:
        with s.live_events():
            radio.inject(data, lqi=lqi, crc_ok=crc_ok, channel=channel)
    except ValueError as e:
        raise s.error(n.data, str(e)) from None
    return None


@statement(ast.Traffic)
def _traffic(s, n: ast.Traffic):
    radio = _radio(s, n)
    opts = _options(s, n, TRAFFIC_OPTIONS)
    if _flag_opt(s, opts, "stop") or ("rate" in opts and opts["rate"][1] in (0, Symbol("off"))):
        count = radio.stop_traffic()
        s.say(f"radio traffic stopped ({count} stream{'s' if count != 1 else ''} were running)"
              if count != 1 else "radio traffic stopped (1 stream was running)")
        return None
    if "rate" not in opts:
        raise s.error(n, "traffic radio needs rate=R (frames per second), e.g. traffic radio rate=100 ports=1,2")
    kv, rate = opts["rate"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate < 0:
        raise s.error(kv, f"rate= is frames per second, not {show(rate)}")
    ports = (1,)
    if "ports" in opts:
        kv_p, v = opts["ports"]
        ports = v if isinstance(v, tuple) else (v,)
        if not ports or any(isinstance(p, bool) or not isinstance(p, int) for p in ports):
            raise s.error(kv_p, f"ports= is a list of port numbers (e.g. ports=1,2,3), not {show(v)}")
    duration = None
    if n.duration is not None:
        duration = evaluate_int(s, n.duration, "a duration")
        if duration <= 0:
            raise s.error(n.duration, "the traffic's duration must be positive")
    seed = _int_opt(s, opts, "seed", None)
    try:
        stream = radio.start_traffic(
            rate, ports=ports, length=_int_opt(s, opts, "len", 8, 0), lqi=_int_opt(s, opts, "lqi", 255, 0, 255),
            duration_ns=duration, seed=seed, periodic=_flag_opt(s, opts, "periodic"),
            channel=_int_opt(s, opts, "channel", None, 11, 26))
    except ValueError as e:
        raise s.error(n, str(e)) from None
    until = "" if duration is None else f" until t={format_time(s.kernel.now + duration)}"
    s.say(f"radio traffic {stream.describe().replace(', 0 sent', '')}{until} (seed {stream.seed})")
    return None
