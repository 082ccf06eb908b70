"""The REPL's bottom toolbar: virtual time, event count, processes by state, board.

::

     t=1.007ms  ev 7 │ 3 processes: 1 Running, 2 Yielded │ board default │ Tab: complete  Ctrl-D: exit

:func:`kernel_toolbar` is pure (a kernel in, formatted-text fragments out) so
it is unit tested without a terminal. :func:`make_toolbar` gives the callable
prompt_toolkit redraws; it prefers the session's own ``toolbar()`` text when
the session offers one, so the toolbar and any other view of the session say
the same thing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from ..lang.values import format_time

__all__ = ["format_time", "kernel_toolbar", "make_toolbar", "STATE_ORDER"]

Fragments = list[tuple[str, str]]

#: The order states are listed in: Tock's State names, the live ones first.
STATE_ORDER = ("Running", "Yielded", "YieldedFor", "Stopped", "Faulted", "Terminated")

_HINT = "Tab: complete  Ctrl-C: interrupt  Ctrl-D: exit"


def _state_counts(kernel) -> Counter:
    counts: Counter = Counter()
    for p in kernel.processes:
        if p is not None:
            counts[p.state.name] += 1
    return counts


def kernel_toolbar(kernel, board_name: str, hint: str = _HINT) -> Fragments:
    """The toolbar fragments for ``kernel`` on board ``board_name``."""
    sep = ("class:bottom-toolbar.sep", " │ ")
    out: Fragments = [
        ("class:bottom-toolbar", " t="),
        ("class:bottom-toolbar.value", format_time(kernel.now)),
        ("class:bottom-toolbar", "  ev "),
        ("class:bottom-toolbar.value", str(kernel.ev)),
        sep,
    ]
    counts = _state_counts(kernel)
    total = sum(counts.values())
    if total == 0:
        out.append(("class:bottom-toolbar", "no processes"))
    else:
        out.append(("class:bottom-toolbar", f"{total} process{'es' if total != 1 else ''}: "))
        first = True
        for state in STATE_ORDER + tuple(sorted(set(counts) - set(STATE_ORDER))):
            n = counts.get(state)
            if not n:
                continue
            if not first:
                out.append(("class:bottom-toolbar", ", "))
            first = False
            cls = {"Running": "class:bottom-toolbar.running",
                   "Faulted": "class:bottom-toolbar.faulted"}.get(state, "class:bottom-toolbar")
            out.append((cls, f"{n} {state}"))
    out.append(sep)
    out.append(("class:bottom-toolbar", f"board {board_name}"))
    panicked = getattr(kernel, "panicked", None)
    if panicked:
        out.append(sep)
        out.append(("class:bottom-toolbar.panic", " KERNEL PANIC "))
    if hint:
        out.append(sep)
        out.append(("class:bottom-toolbar", hint))
    return out


def _session_kernel(session: Any):
    board = getattr(session, "board", None)
    kernel = getattr(board, "kernel", None) or getattr(session, "kernel", None)
    name = getattr(board, "name", None) or "default"
    return kernel, name


def make_toolbar(session: Any) -> Callable[[], Fragments]:
    """A callable for ``PromptSession(bottom_toolbar=...)``.

    Uses ``session.toolbar()`` when it exists (a string, or formatted-text
    fragments), else builds the toolbar from the session's kernel. A failure
    here must never take the prompt down, so it shows a plain line instead.
    """

    def toolbar() -> Fragments:
        try:
            own = getattr(session, "toolbar", None)
            if callable(own):
                text = own()
                if isinstance(text, str):
                    return [("class:bottom-toolbar", " " + text), ("class:bottom-toolbar.sep", " │ "),
                            ("class:bottom-toolbar", _HINT)]
                if text:
                    return list(text)
            kernel, name = _session_kernel(session)
            if kernel is None:
                return [("class:bottom-toolbar", " " + _HINT)]
            return kernel_toolbar(kernel, name)
        except Exception:  # noqa: BLE001 - a toolbar bug must not break the prompt
            return [("class:bottom-toolbar", " (toolbar unavailable)")]

    return toolbar
