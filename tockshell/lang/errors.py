"""User-facing errors of the tsh language, with their source positions.

Every error a user can cause — a syntax error, an unknown process, a process
in the wrong state, a failed ``expect`` — is a :class:`TshError` carrying a
:class:`~tockshell.lang.ast.Pos`. ``str(err)`` is one line
``FILE:LINE:COL: message``; :meth:`TshError.format` adds the source line and
a caret line under the offending text::

    demo.tsh:3:4: unknown syscall 'comand' — did you mean 'command'?
    p: comand console 0
       ^~~~~~

Message conventions (parse errors, and a guide for runtime errors):

* lower case, no final full stop, Tock's own words;
* what was expected, in words, and after what: ``expected a driver name or
  number after 'command'``; what was found when it helps: ``..., found '3'``;
* a misspelling gets ``unknown KIND 'word' — did you mean 'other'?`` (see
  :func:`did_you_mean`);
* quote source words with single quotes.
"""

from __future__ import annotations

from typing import Iterable, Optional

from .ast import Node, Pos

__all__ = ["TshError", "TshSyntaxError", "did_you_mean", "suggestion"]


class TshError(Exception):
    """An error to show the user: a message and where in the source it is.

    ``pos`` may be None for errors with no source (then only the message is
    shown). Runtime errors of the interpreter reuse this class (or a
    subclass); parse errors are :class:`TshSyntaxError`.
    """

    def __init__(self, message: str, pos: Optional[Pos] = None):
        super().__init__(message)
        self.message = message
        self.pos = pos

    @classmethod
    def at(cls, node: Node, message: str) -> "TshError":
        """An error pointing at an AST node."""
        return cls(message, node.pos)

    def __str__(self) -> str:
        if self.pos is None:
            return self.message
        return f"{self.pos}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, {self.pos!r})"

    def format(self, source_text: Optional[str] = None) -> str:
        """The message line, then (if ``source_text`` has the line) that
        line and a caret line ``^~~~`` under the offending span."""
        head = str(self)
        if self.pos is None or source_text is None:
            return head
        lines = source_text.splitlines()
        if not (1 <= self.pos.line <= len(lines)):
            return head
        line = lines[self.pos.line - 1]
        start = max(self.pos.column - 1, 0)
        if self.pos.end_line == self.pos.line:
            width = self.pos.end_column - self.pos.column
        else:
            width = len(line) - start
        width = max(width, 1)
        # Copy tabs from the source so the caret lines up in any terminal.
        indent = "".join(c if c == "\t" else " " for c in line[:start])
        if start > len(line):
            indent += " " * (start - len(line))
        return f"{head}\n{line}\n{indent}^{'~' * (width - 1)}"


class TshSyntaxError(TshError):
    """A parse error (``tockshell run`` exits 2 on these, 1 on others)."""


def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of two neighbours as one edit (the
    commonest typing slip), so that 'lde' is nearer 'led' than 'lld'."""
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def did_you_mean(word: str, candidates: Iterable[str]) -> Optional[str]:
    """The candidate a misspelt ``word`` most likely meant, or None.

    Case is ignored for the comparison, not in the answer. A candidate must
    be within one edit per three letters (at least one) of the word; ties go
    to the closer difflib ratio, then to the first candidate given. Words of
    one letter get no suggestion.
    """
    pool: dict[str, str] = {}
    for c in candidates:
        if c:
            pool.setdefault(c.lower(), c)
    low = word.lower()
    if not word or not pool:
        return None
    if low in pool:
        return pool[low] if pool[low] != word else None
    if len(word) < 2:
        return None
    limit = max(1, len(word) // 3)
    best = None
    for key, original in pool.items():
        dist = _distance(low, key)
        if dist > limit:
            continue
        score = (dist, -_ratio(low, key))
        if best is None or score < best[0]:
            best = (score, original)
    return best[1] if best else None


def suggestion(kind: str, word: str, candidates: Iterable[str]) -> str:
    """``unknown KIND 'word'``, with ``— did you mean 'x'?`` when one is
    close: the one phrasing for every misspelling, parse or runtime."""
    guess = did_you_mean(word, candidates)
    if guess is None:
        return f"unknown {kind} '{word}'"
    return f"unknown {kind} '{word}' — did you mean '{guess}'?"


def _ratio(a: str, b: str) -> float:
    import difflib  # only when a suggestion is made: not a start-up cost

    return difflib.SequenceMatcher(None, a, b).ratio()


def panic_hint(board_name: str) -> str:
    """What to do after a kernel panic: start the same board afresh, or travel back before it.

    Naming the current board matters: on ``cortex-m`` a hint to type ``board
    default`` would silently change the memory model too.
    """
    return f"`board {board_name}` starts a fresh board, `rewind` or `restore` goes back before the panic"
