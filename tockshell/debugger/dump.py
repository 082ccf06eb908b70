"""A canonical picture of the whole model, and what changed between two of them.

``dump(session)`` walks the kernel, every process (all fields, every RAM
byte, the task queue, grants), every capsule's state, the hardware event
queue, virtual time, the event counter and the session's variables, and
returns plain data: dicts, lists, ints, strings and bytes. Two dumps are
equal exactly when the model is in the same state, which is what time
travel promises ("after ``goto E`` the state equals the state first seen at
E") and what ``diff A B`` shows.

Canonical means independent of where objects live in memory: no ``id()``,
no reprs with addresses, sets sorted, functions by their qualified name,
generators by their name and the line they are paused at.
"""

from __future__ import annotations

import collections
import enum
import hashlib
import random
import types
from typing import Any

from ..abi import SyscallReturn, YieldWaitForReturn, syscall_debug
from ..kernel.process import AppMemory, Process, State

__all__ = ["dump", "diff", "canon", "process_dump"]

_MAX_DEPTH = 14


def canon(x: Any, _path: frozenset = frozenset(), _depth: int = 0) -> Any:
    """``x`` as plain, comparable data (see the module docstring)."""
    if x is None or x.__class__ in (bool, int, str, float):
        return x
    if isinstance(x, enum.Enum):
        return x.name
    if isinstance(x, bool):
        return x
    if isinstance(x, int):
        return int(x)
    if isinstance(x, str):
        return str(x)
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    if isinstance(x, (SyscallReturn, YieldWaitForReturn, State)):
        return x.debug()
    if isinstance(x, (types.FunctionType, types.MethodType, types.BuiltinFunctionType,
                      types.BuiltinMethodType, types.MethodWrapperType)):
        return f"<fn {getattr(x, '__qualname__', getattr(x, '__name__', '?'))}>"
    if isinstance(x, types.GeneratorType):
        frame = x.gi_frame
        return {"generator": x.__qualname__, "line": frame.f_lineno if frame is not None else None}
    if isinstance(x, types.CodeType):
        return f"<code {x.co_qualname}>"
    if isinstance(x, type):
        return f"<class {x.__qualname__}>"
    if isinstance(x, random.Random):
        return {"random": hashlib.sha1(repr(x.getstate()).encode()).hexdigest()}
    if isinstance(x, Process):
        return f"<process {x.name}>"
    if isinstance(x, AppMemory):
        return "<app memory>"
    name = type(x).__name__
    if name in ("Kernel", "Board", "Session") or hasattr(x, "write") and hasattr(x, "getvalue"):
        return f"<{name.lower()}>"
    if _depth > _MAX_DEPTH:
        return "<deep>"
    key = id(x)
    if key in _path:
        return "<cycle>"
    path = _path | {key}
    d = _depth + 1
    if isinstance(x, (list, tuple, collections.deque)):
        return [canon(i, path, d) for i in x]
    if isinstance(x, dict):
        return {_key_text(k): canon(v, path, d) for k, v in x.items()}
    if isinstance(x, (set, frozenset)):
        return sorted((canon(i, path, d) for i in x), key=repr)
    if type(x).__name__ == "AppProgram":
        return _program(x, path, d)
    if name == "SyscallDriver" or hasattr(x, "driver_num") and hasattr(x, "command") and _depth > 0:
        return f"<driver {getattr(x, 'name', '?')}>"
    fields = _fields(x)
    if fields is None:
        return f"<{name}>"
    out = {"type": type(x).__qualname__}
    for k, v in fields:
        out[k] = canon(v, path, d)
    return out


def _fields(x) -> list[tuple[str, Any]] | None:
    out = []
    seen = set()
    for cls in type(x).__mro__:
        for s in getattr(cls, "__slots__", ()):
            if s in seen or s in ("__dict__", "__weakref__"):
                continue
            seen.add(s)
            if hasattr(x, s):
                out.append((s, getattr(x, s)))
    dct = getattr(x, "__dict__", None)
    if dct is not None:
        out.extend((k, v) for k, v in dct.items() if k not in seen)
    elif not out:
        return None
    return out


def _key_text(k) -> str:
    if isinstance(k, str):
        return str(k)
    if isinstance(k, bool) or k is None:
        return str(k)
    if isinstance(k, enum.Enum):
        return k.name
    if isinstance(k, int):
        return str(int(k))
    if isinstance(k, bytes):
        return k.decode("utf-8", "replace")
    if isinstance(k, tuple):
        return "(" + ", ".join(_key_text(i) for i in k) + ")"
    if hasattr(k, "identifier"):  # ProcessId
        return f"[{k.identifier}]"
    c = canon(k)
    return c if isinstance(c, str) else repr(c)


def _program(prog, path, d) -> dict:
    # Not generic: the handler table is keyed by id() of bound objects (different in every run).
    stack = getattr(prog, "_stack", [])
    handlers = getattr(prog, "_handlers", {})
    out = {
        "app": getattr(prog, "name", "?"),
        "params": canon(getattr(prog, "params", {}), path, d),
        "starts": getattr(prog, "starts", 0),
        "stack": [canon(g, path, d) for g in stack],
        "handlers": {f"{a:#x}": getattr(e[0], "__qualname__", "?") for a, e in sorted(handlers.items())},
    }
    tock = getattr(prog, "tock", None)
    if tock is not None:
        out["libtock"] = canon(tock, path, d)
    return out


def _task(t) -> str:
    return t.describe()


def _grant(k, g) -> dict:
    drv = k.drivers.get(g.spec.driver_num)
    out = {"address": g.address, "size": g.size, "upcalls": [list(u) for u in g.upcalls],
           "allow_ro": [list(a) for a in g.allow_ro], "allow_rw": [list(a) for a in g.allow_rw],
           "data": canon(g.data)}
    if drv is not None and g.data is not None:
        try:
            out["described"] = drv.describe_grant(g.data)
        except Exception:  # noqa: BLE001 - a description is a nicety; the data is dumped anyway
            pass
    return out


def process_dump(k, p: Process) -> dict:
    """Every field of one process, memory bytes included."""
    out: dict[str, Any] = {}
    for name, v in _fields(p) or ():
        if name in ("ram", "flash"):
            continue
        if name == "program":
            out["program"] = None if v is None else _program(v, frozenset(), 1)
        elif name == "tasks":
            out["queue"] = [_task(t) for t in v]
        elif name == "grants":
            out["grants"] = {_driver_key(k, g.spec.driver_num): _grant(k, g) for g in v if g is not None}
        elif name == "pid":
            out["pid"] = v.identifier
        elif name == "_last_call":
            last = p.last_syscall
            out["last_syscall"] = None if last is None else syscall_debug(last[0], tuple(last[1]))
        elif name == "tbf":
            out["tbf"] = None if v is None else type(v).__name__
        else:
            out[name.lstrip("_")] = canon(v)
    out["descriptors"] = _descriptors(k, p)
    out["ram"] = bytes(p.ram)
    out["flash_sha1"] = hashlib.sha1(bytes(p.flash)).hexdigest()
    return out


def _descriptors(k, p: Process) -> list[str] | None:
    """The process's open IPC Manager descriptors as ``pd N: peer [id]`` (None: no table)."""
    mgr = next((d for d in k.drivers.values() if hasattr(d, "table_of")), None)
    table = mgr.table_of(p) if mgr is not None else None
    if table is None:
        return None
    return [f"pd {pd}: {e.peer_name} [{e.peer.identifier}]" for pd, e in table.open_items()]


def _in_flight(drv) -> list[str] | None:
    """A Mailbox's messages in flight, oldest first, as the ``mailbox`` command names them."""
    if not hasattr(drv, "in_flight"):
        return None
    k = drv.kernel

    def who(pid) -> str:
        p = k.lookup(pid)
        return f"{p.name if p is not None else 'gone'} [{pid.identifier}]"
    return [f"{who(m.sender)} → {who(m.receiver)} (pd {m.receiver_pd}), {m.length} B" for m in drv.in_flight()]


def _driver_key(k, num: int) -> str:
    d = k.drivers.get(num)
    return d.name if d is not None else f"{num:#x}"


def dump(session) -> dict:
    """The whole model's state as plain data (see the module docstring)."""
    k = session.kernel
    kern: dict[str, Any] = {}
    for name, v in _fields(k) or ():
        if name in ("processes", "drivers", "log", "listeners", "_hooks", "grant_specs", "ipc",
                    "syscall_filter", "syscall_hook", "delivery_hook"):
            continue
        if name == "_hw":
            kern["hardware_queue"] = sorted(([e.time, e.seq, e.label, e.cancelled] for e in v),
                                            key=lambda e: (e[0], e[1]))
        elif name in ("current", "last_run"):
            kern[name] = None if v is None else v.name
        else:
            kern[name.lstrip("_")] = canon(v)
    procs = {}
    for p in k.processes:
        if p is not None:
            procs[p.name] = process_dump(k, p)
    caps = {}
    for num, drv in sorted(k.drivers.items()):
        fields = {n: canon(v, frozenset({id(drv)}), 1) for n, v in (_fields(drv) or ())
                  if n not in ("kernel", "grant")}
        flying = _in_flight(drv)
        if flying is not None:
            fields["messages in flight"] = flying
        caps[drv.name] = fields
    digest = hashlib.sha1()
    for r in k.log:
        digest.update(repr(r.key()).encode())
    return {
        "board": session.board.name,
        "time": k.now,
        "events": k.ev,
        "kernel": kern,
        "processes": procs,
        "capsules": caps,
        "session": {"variables": canon(session.variables), "last_result": _result(session.last_result)},
        "log": {"records": len(k.log), "sha1": digest.hexdigest()},
    }


def _result(v):
    from ..lang.values import show

    if v is None:
        return None
    try:
        return show(v)
    except Exception:  # noqa: BLE001 - a value show() does not know is still compared, in canonical form
        return repr(canon(v))


# ------------------------------------------------------------------ diff
_MAX_LINES = 200


def diff(a: dict, b: dict, limit: int = _MAX_LINES) -> list[str]:
    """What changed from dump ``a`` to dump ``b``, one line per change (processes first)."""
    lines: list[str] = []
    if a.get("board") != b.get("board"):
        lines.append(f"board: {a.get('board')} → {b.get('board')}")
    if a["time"] != b["time"] or a["events"] != b["events"]:
        from ..lang.values import format_time

        lines.append(f"time: t={format_time(a['time'])} ev={a['events']} → t={format_time(b['time'])} "
                     f"ev={b['events']}")
    pa, pb = a["processes"], b["processes"]
    for name in list(pa) + [n for n in pb if n not in pa]:
        if name not in pa:
            lines.append(f"process {name}: created ({pb[name].get('state')})")
            continue
        if name not in pb:
            lines.append(f"process {name}: gone")
            continue
        _diff_process(name, pa[name], pb[name], lines)
    for name in list(a["capsules"]) + [n for n in b["capsules"] if n not in a["capsules"]]:
        _diff_value(name, _visible(a["capsules"].get(name)), _visible(b["capsules"].get(name)), lines)
    _diff_value("kernel", _kernel_view(a["kernel"]), _kernel_view(b["kernel"]), lines)
    _diff_value("variables", a["session"]["variables"], b["session"]["variables"], lines)
    if a["session"]["last_result"] != b["session"]["last_result"]:
        lines.append(f"$_: {_text(a['session']['last_result'])} → {_text(b['session']['last_result'])}")
    if len(lines) > limit:
        lines = lines[:limit] + [f"... and {len(lines) - limit} more changes"]
    return lines


# Model machinery a Tock developer has no name for: the app program's Python state, the
# decoded-but-unhandled action, compute left in a burst, a cached return value.
_PROCESS_HIDDEN = frozenset({"pid", "program", "tbf", "pending_action", "pending_return", "compute_left",
                             "wait_for_ready", "in_handler", "flash_sha1"})
# What `diff` shows of the kernel besides time: whether it panicked and the board-level
# choices a user makes with `config` (the rest is bookkeeping: allocation cursors, counters).
_KERNEL_SHOWN = ("panicked", "fault_policy", "scheduler", "config")


def _visible(v):
    """``v`` without private fields (leading underscore), Python functions and capsule links."""
    if isinstance(v, dict):
        return {k: _visible(x) for k, x in v.items()
                if not (isinstance(k, str) and k.startswith("_")) and not _machinery(x)}
    if isinstance(v, list):
        return [_visible(x) for x in v]
    return v


def _machinery(v) -> bool:
    if isinstance(v, str):
        return v.startswith(("<fn ", "<driver ", "<code ", "<class "))
    if isinstance(v, list):
        return bool(v) and all(_machinery(x) for x in v)
    return isinstance(v, dict) and ("generator" in v or "random" in v)


def _kernel_view(k: dict) -> dict:
    out = {key: _visible(k.get(key)) for key in _KERNEL_SHOWN if key in k}
    sched = out.get("scheduler")
    if isinstance(sched, dict):  # its name says kind and timeslice; the run order is bookkeeping
        out["scheduler"] = sched.get("name", sched.get("type"))
    policy = out.get("fault_policy")
    if isinstance(policy, dict):
        out["fault_policy"] = policy.get("type")
    return out


def _slot(pair) -> str:
    a, n = pair
    return "none" if a == 0 and n == 0 else f"{a:#x}, {n} bytes"


def _upcall(pair) -> str:
    fn, data = pair
    return "null" if fn == 0 else f"@{fn:#x} appdata {data:#x}"


def _diff_grant(path: str, a: dict, b: dict, lines: list[str]) -> None:
    if a.get("address") != b.get("address") or a.get("size") != b.get("size"):
        lines.append(f"{path}: {a['size']} bytes at {a['address']:#x} → {b['size']} bytes at {b['address']:#x}")
    for key, label, fmt in (("upcalls", "upcall", _upcall), ("allow_ro", "allow-ro", _slot),
                            ("allow_rw", "allow-rw", _slot)):
        xa, xb = a.get(key, []), b.get(key, [])
        for i in range(max(len(xa), len(xb))):
            sa = fmt(xa[i]) if i < len(xa) else "none"
            sb = fmt(xb[i]) if i < len(xb) else "none"
            if sa != sb:
                lines.append(f"{path}.{label} {i}: {sa} → {sb}")
    if "described" in a or "described" in b:
        if a.get("described") != b.get("described"):
            lines.append(f"{path}: {a.get('described') or '-'} → {b.get('described') or '-'}")
    else:
        _diff_value(f"{path}.data", _visible(a.get("data")), _visible(b.get("data")), lines)


def _diff_process(name: str, a: dict, b: dict, lines: list[str]) -> None:
    for key in list(a) + [k for k in b if k not in a]:
        va, vb = a.get(key), b.get(key)
        if va == vb or key in _PROCESS_HIDDEN:
            continue
        if key == "ram":
            lines.append(f"{name}.memory: {_bytes_diff(va, vb)}")
        elif key == "queue":
            lines.append(f"{name}.queue: {len(va)} → {len(vb)} task{'s' if len(vb) != 1 else ''}"
                         + "".join(f"\n    + {t}" for t in vb if t not in va)
                         + "".join(f"\n    - {t}" for t in va if t not in vb))
        elif key == "grants":
            for drv in list(va) + [d for d in vb if d not in va]:
                if drv not in va:
                    g = vb[drv]
                    what = f" ({g['described']})" if g.get("described") else ""
                    lines.append(f"{name}.grants.{drv}: allocated {g['size']} bytes at {g['address']:#x}{what}")
                    empty = {k: [[0, 0]] * len(g.get(k, ())) for k in ("upcalls", "allow_ro", "allow_rw")}
                    _diff_grant(f"{name}.grants.{drv}", {**g, **empty}, g, lines)
                elif drv not in vb:
                    lines.append(f"{name}.grants.{drv}: gone")
                else:
                    _diff_grant(f"{name}.grants.{drv}", va[drv], vb[drv], lines)
        elif key == "descriptors":
            old, new = va or [], vb or []
            lines.append(f"{name}.descriptors: {len(old)} → {len(new)} open"
                         + "".join(f"\n    + {t}" for t in new if t not in old)
                         + "".join(f"\n    - {t}" for t in old if t not in new))
        elif key == "mpu_config":
            _diff_mpu(name, va, vb, lines)
        elif key == "last_syscall":
            lines.append(f"{name}.last_syscall: {va or 'none'} → {vb or 'none'}")
        elif key == "custom_grants":
            def block(c) -> str:
                return f"{c['size']} bytes at {c['address']:#x} for {c['driver_num']:#x} ({c['tag']})"
            old, new = [block(c) for c in va or ()], [block(c) for c in vb or ()]
            lines.append(f"{name}.custom_grants: {len(old)} → {len(new)}"
                         + "".join(f"\n    + {t}" for t in new if t not in old)
                         + "".join(f"\n    - {t}" for t in old if t not in new))
        else:
            _diff_value(f"{name}.{key}", va, vb, lines)


def _mpu_region_text(r) -> str:
    """One dumped ``CortexMRegion`` as the process printer's range, with its enabled subregions."""
    if not isinstance(r, dict):
        return "unused"
    enabled = [i for i in range(8) if not (r["srd"] >> i) & 1]
    if len(enabled) == 8:
        subs = "all 8 subregions enabled"
    elif not enabled:
        subs = "every subregion disabled"
    elif enabled == list(range(enabled[0], enabled[-1] + 1)):
        subs = f"subregions {enabled[0]}-{enabled[-1]} enabled" if len(enabled) > 1 else f"subregion {enabled[0]} enabled"
    else:
        subs = "subregions " + ", ".join(map(str, enabled)) + " enabled"
    return f"[{r['start']:#x}:{r['start'] + r['size']:#x}] {r['size']} B, {subs}"


def _diff_mpu(name: str, a, b, lines: list[str]) -> None:
    # Region by region in the process printer's terms: the generic dict diff cut a region's
    # fields off mid-word and counted its fields as "items".
    ra = (a or {}).get("regions") or []
    rb = (b or {}).get("regions") or []
    for i in range(max(len(ra), len(rb))):
        x = ra[i] if i < len(ra) else None
        y = rb[i] if i < len(rb) else None
        if x != y:
            lines.append(f"{name}.mpu region {i}: {_mpu_region_text(x)} → {_mpu_region_text(y)}")


def _bytes_diff(a: bytes, b: bytes) -> str:
    if len(a) != len(b):
        return f"{len(a)} → {len(b)} bytes"
    changed = [i for i in range(len(a)) if a[i] != b[i]]
    runs: list[list[int]] = []
    for i in changed:
        if runs and i <= runs[-1][1] + 4:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    parts = [f"+{lo:#x}..+{hi + 1:#x}" for lo, hi in runs[:6]]
    more = f" and {len(runs) - 6} more ranges" if len(runs) > 6 else ""
    return f"{len(changed)} byte{'s' if len(changed) != 1 else ''} changed at {', '.join(parts)}{more}"


def _text(v) -> str:
    """A dumped value in the shell's spelling (none, true, hex addresses, x"..", [a, b])."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return f"{v:#x}" if v > 4096 else str(v)
    if isinstance(v, bytes):
        return f"{len(v)} bytes" if len(v) > 16 else 'x"' + v.hex(" ") + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_text(x) for x in v) + "]"
    if isinstance(v, dict):
        if "generator" in v:
            return f"{v['generator']} at line {v['line']}" if v.get("line") else f"{v['generator']} (ended)"
        fields = ", ".join(f"{k}: {_text(x)}" for k, x in v.items() if k != "type")
        return f"{v['type']}({fields})" if "type" in v else "{" + fields + "}"
    return str(v)


def _short(v) -> str:
    text = _text(v)
    if len(text) <= 80:
        return text
    n = len(v) if isinstance(v, (list, dict, bytes)) else None
    return text[:72] + " …" + (f" ({n} items)" if n is not None and not isinstance(v, bytes) else "")


def _diff_value(path: str, a, b, lines: list[str]) -> None:
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k == "type":
                continue
            if k not in a:
                lines.append(f"{path}.{k}: (new) {_short(b[k])}")
            elif k not in b:
                lines.append(f"{path}.{k}: removed (was {_short(a[k])})")
            else:
                _diff_value(f"{path}.{k}", a[k], b[k], lines)
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and len(a) <= 64:
        for i, (x, y) in enumerate(zip(a, b)):
            _diff_value(f"{path}[{i}]", x, y, lines)
        return
    if isinstance(a, bytes) and isinstance(b, bytes):
        lines.append(f"{path}: {_bytes_diff(a, b)}")
        return
    lines.append(f"{path}: {_short(a)} → {_short(b)}")
