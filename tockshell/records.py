"""Plain record classes for data made at every start-up: the debugger's timeline entries,
breakpoints and checkpoints, the language's plugin registry entries.

They were attrs classes. attrs compiles each class's methods from generated
source when the module is imported, about a millisecond a class, and these
modules are imported by every session, so every ``tockshell run`` paid for
them. A subclass here declares its fields as ``__slots__`` (in
constructor order) and writes its own ``__init__``; comparison, hashing and
``repr`` are written once, in these bases, over those slots.
"""

from __future__ import annotations

from operator import attrgetter

__all__ = ["Value", "Record"]


class _Fields:
    __slots__ = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        names = cls.__dict__.get("__slots__", ())
        if names:
            get = attrgetter(*names)
            # One C call gives the tuple of fields that equality and hashing compare.
            cls._fields_of = get if len(names) > 1 else staticmethod(lambda obj: (get(obj),))
            cls._field_names = tuple(names)

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        # Timelines share their entries: comparing one with itself (a prefix test) is the common case.
        return self is other or self._fields_of(self) == other._fields_of(other)

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._field_names)
        return f"{self.__class__.__name__}({shown})"


class Value(_Fields):
    """A value never changed after it is made: compared and hashed by its fields.

    Not enforced by a guarding ``__setattr__``: a timeline entry is made for
    every statement, and such a guard makes construction about four times
    slower. A changed copy is a new object (``Entry.with_text``).
    """

    __slots__ = ()

    def __hash__(self):
        return hash((self.__class__.__name__,) + self._fields_of(self))


class Record(_Fields):
    """A mutable record: compared by its fields (so not hashable), shown by them."""

    __slots__ = ()
    __hash__ = None
