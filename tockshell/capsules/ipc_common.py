"""Pieces the IPC capsules share: board policies, config values, names of processes.

The IPC Manager, the Mailbox and the legacy IPC driver are separate capsules
(as in Tock, each behind its own driver number); what they have in common is
small and lives here so that none of them imports another's internals beyond
the IPC Manager's public descriptor API.
"""

from __future__ import annotations

import re
from typing import Iterable

#: Longest service name the IPC Manager accepts (ipc-2025.md §2: 1 to 32 bytes).
NAME_MAX = 32


def show_name(name: bytes) -> str:
    """A service name as tsh would write it: a quoted string, non-UTF-8 bytes escaped."""
    text = name.decode("utf-8", "backslashreplace")
    return '"' + text.replace('"', '\\"') + '"'


def process_label(kernel, pid) -> str:
    """``name [identifier]`` for a ProcessId, saying so when that instance is no longer alive."""
    p = kernel.lookup(pid)
    if p is None:
        slot = kernel.processes[pid.index] if 0 <= pid.index < len(kernel.processes) else None
        if slot is not None:
            return f"{slot.name} [{pid.identifier}] (old instance)"
        return f"[{pid.identifier}] (gone)"
    if not p.alive:
        return f"{p.name} [{pid.identifier}] ({p.state.name})"
    return f"{p.name} [{pid.identifier}]"


def fmt_ns(ns: float) -> str:
    """Virtual time as tockshell prints it everywhere (``11.718us``, ``1.007ms``, ``2.5s``).

    Capsules sit below the language, so this small formatter mirrors
    ``tockshell.lang.values.format_time`` rather than importing it.
    """
    if ns < 0:
        return "-" + fmt_ns(-ns)
    for scale, unit, digits in ((1_000, "us", 3), (1_000_000, "ms", 3), (1_000_000_000, "s", 6)):
        if ns < scale * 1000 or unit == "s":
            text = f"{ns / scale:.{digits}f}".rstrip("0").rstrip(".")
            return text + unit
    raise AssertionError("unreachable")


# ------------------------------------------------------------------ config values

def config_text(value) -> str:
    """The canonical text of a ``config`` value, whatever form the interpreter passes.

    Accepts plain text (``"fixed(8)"``), booleans and numbers, ``(name, arg)``
    tuples, and the language's AST values (a Name, a Number, a Call such as
    ``fixed(8)``), so the capsules need no import of the language.
    """
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, tuple) and value and isinstance(value[0], str):
        return f"{value[0]}({', '.join(config_text(v) for v in value[1:])})" if len(value) > 1 else value[0]
    func = getattr(value, "func", None)
    if isinstance(func, str):
        return f"{func}({', '.join(config_text(a) for a in getattr(value, 'args', ()))})"
    for attr in ("name", "text", "value"):
        v = getattr(value, attr, None)
        if isinstance(v, (str, int)) and not isinstance(v, bool) and v != "":
            return str(v)
    raise ValueError(f"cannot read {_plain(value)} as a setting")


def _plain(value) -> str:
    """A value as a tsh user wrote it (no Python reprs in messages)."""
    if isinstance(value, tuple):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, (bytes, bytearray)):
        return 'x"' + " ".join(f"{b:02x}" for b in value) + '"'
    return str(value)


def parse_on_off(value, key: str) -> bool:
    text = config_text(value).lower()
    if text in ("on", "true", "1", "yes"):
        return True
    if text in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"{key} is on or off, not '{config_text(value)}'")


_CALL = re.compile(r"^([A-Za-z_]+)\s*(?:\(\s*([^)]*?)\s*\))?$")


def parse_call(value) -> tuple[str, str | None]:
    """``fixed(8)`` -> ("fixed", "8"); ``raw`` -> ("raw", None)."""
    text = config_text(value)
    m = _CALL.match(text)
    if not m:
        raise ValueError(f"cannot read '{text}'")
    return m.group(1), m.group(2)


# ------------------------------------------------------------------ board policies

class BoardPolicy:
    """``allow LIST`` of a board policy: package names, ShortIds, or ``any``.

    A process matches when its package name is listed, or its ShortId is a
    ``Fixed`` value that is listed (``LocallyUnique`` matches no number), or
    the list holds ``any``.
    """

    __slots__ = ("packages", "short_ids", "any")

    def __init__(self, items: Iterable[str | int]):
        self.packages: list[str] = []
        self.short_ids: list[int] = []
        self.any = False
        for item in items:
            if isinstance(item, bool):
                raise ValueError(f"a policy lists package names, ShortIds (0x...) or any; not {item}")
            if isinstance(item, int):
                if not 0 < item <= 0xFFFF_FFFF:
                    raise ValueError(f"a ShortId is a non-zero 32-bit number, not {item:#x}")
                self.short_ids.append(item)
            elif isinstance(item, str):
                if item == "":
                    raise ValueError("an empty package name cannot match any process")
                if item == "any":
                    self.any = True
                else:
                    self.packages.append(item)
            else:
                raise ValueError(f"a policy lists package names, ShortIds (0x...) or any; not {item!r}")
        if not (self.any or self.packages or self.short_ids):
            raise ValueError("a policy needs at least one package name, ShortId or any")

    def allows(self, process) -> bool:
        if self.any or process.package in self.packages:
            return True
        sid = process.short_id.value
        return sid is not None and sid in self.short_ids

    def __str__(self) -> str:
        if self.any:
            return "any"
        return ", ".join([*self.packages, *(f"{s:#x}" for s in self.short_ids)])


def who(process) -> str:
    """What a policy looks at, in words: package and ShortId."""
    return f"package '{process.package}', ShortId {process.short_id}"
