"""The prompt_toolkit side of completion: an adapter around ``tockshell.lang.completion``.

All the knowledge of what may come next lives in the pure module
:mod:`tockshell.lang.completion` (grammar-driven, unit tested without a
terminal); this class only turns its answers into prompt_toolkit
``Completion`` objects, with the kind or description in the menu's meta
column, and asks the session for its live names at each call so that a
process spawned a moment ago is offered at once.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from ..lang import completion as _completion

__all__ = ["TshCompleter", "session_names"]


def session_names(session: Any) -> Callable[[], Any]:
    """A function giving the session's current names provider (``session.names``,
    called if it is a method), or None."""

    def names():
        provider = getattr(session, "names", None)
        if callable(provider) and not hasattr(provider, "processes"):
            provider = provider()
        return provider

    return names


class TshCompleter(Completer):
    """Completes tsh at the cursor from the grammar and the session's live names.

    ``names`` is a callable returning the names provider (see
    :mod:`tockshell.lang.completion`). While the user types (not on Tab) no
    menu pops up until a word has been started, so that every space does not
    flash a list of all statements.
    """

    def __init__(self, names: Callable[[], Any] | None = None):
        self._names = names or (lambda: None)

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        if not complete_event.completion_requested:
            if not text or text[-1] in " \t\n;{}(,=":
                return
        try:
            candidates = _completion.complete(text, self._names())
        except Exception:  # noqa: BLE001 - typing must never crash the shell
            return
        for c in candidates:
            yield Completion(
                c.text,
                start_position=c.start_offset - len(text),
                display=c.text,
                display_meta=c.description or c.kind,
            )
