"""Holding Python's automatic garbage collector during tockshell's long loops.

Every kernel event leaves a record in the log and every script statement an
entry in the history: long runs grow the heap steadily, and the automatic
collector then traverses everything that survived, again and again (a third
of the time of a long run or a long script). Inside :class:`hold` the
automatic collector is off and the loop calls :func:`young` now and then,
which collects the young generation only: each object is examined about
once, and reference cycles (a restarted app's generators) are still freed.

Holds nest. Only a hold that found the collector on turns it back on, and
:func:`young` does nothing unless tockshell itself holds the collector: a
program that switched it off (``gc.disable()``) keeps it off.
"""

from __future__ import annotations

import gc

__all__ = ["hold", "young", "held"]

_held = False  # an outer hold of ours turned the automatic collector off


class hold:
    """``with hold(): ...``: the automatic collector is off inside (if it was on)."""

    __slots__ = ("mine",)

    def __enter__(self) -> "hold":
        global _held
        self.mine = not _held and gc.isenabled()
        if self.mine:
            gc.disable()
            _held = True
        return self

    def __exit__(self, *exc) -> None:
        global _held
        if self.mine:
            _held = False
            gc.enable()


def held() -> bool:
    """Whether tockshell holds the collector (so that the loop must call :func:`young`)."""
    return _held


def young() -> None:
    """Collect the young generation, when tockshell holds the collector."""
    if _held:
        gc.collect(0)
