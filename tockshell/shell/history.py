"""Where the shell keeps its files, and a command history that never crashes the shell.

The history lives in the user's data directory (``$XDG_DATA_HOME/tockshell/history``,
by default ``~/.local/share/tockshell/history``); ``TOCKSHELL_HISTORY`` names
another file (tests point it into a temporary directory). The file format is
prompt_toolkit's ``FileHistory`` one (``+``-prefixed lines, so a multi-line
``{ }`` block is one entry), so the file stays readable and greppable.

A history that cannot be written (read-only home, full disk, a directory in
the way) must not cost the user their session: the shell then keeps the
history in memory for this session and says so once.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Mapping, Optional

from prompt_toolkit.history import FileHistory, History, InMemoryHistory

__all__ = ["data_dir", "history_path", "error_log_path", "SafeFileHistory", "make_history", "clean_text"]

#: Entries older than this are not loaded: a years-old history file should
#: not slow down start-up or auto-suggest.
MAX_LOADED_ENTRIES = 10_000


_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` with the bytes a terminal sent that were not UTF-8 (which
    Python carries as lone surrogates) turned into U+FFFD, so they can be
    parsed, stored and printed like any other character."""
    return _SURROGATES.sub("\ufffd", text)


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The tockshell directory in the user's data dir (XDG), not created."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or ""
    # XDG says a relative XDG_DATA_HOME is invalid and must be ignored.
    if not base or not os.path.isabs(base):
        base = os.path.join(env.get("HOME") or os.path.expanduser("~"), ".local", "share")
    return Path(base) / "tockshell"


def history_path(env: Mapping[str, str] | None = None) -> Path:
    """The history file: ``$TOCKSHELL_HISTORY`` if set, else ``data_dir()/history``."""
    env = os.environ if env is None else env
    override = env.get("TOCKSHELL_HISTORY")
    if override:
        return Path(os.path.expanduser(override))
    return data_dir(env) / "history"


def error_log_path(env: Mapping[str, str] | None = None) -> Path:
    """Where internal errors (tracebacks) are logged for bug reports.

    Next to the history file, so that a test which redirects the history also
    keeps the shell from writing into the real home directory.
    """
    return history_path(env).parent / "internal-errors.log"


class SafeFileHistory(FileHistory):
    """A ``FileHistory`` that degrades to memory on any I/O error.

    ``warn`` is called once, with a sentence, the first time the file fails.
    """

    def __init__(self, filename: Path, warn=None) -> None:
        super().__init__(str(filename))
        self._warn = warn
        self.failed = False

    def _fail(self, err: OSError) -> None:
        if not self.failed:
            self.failed = True
            if self._warn is not None:
                self._warn(f"history: cannot use {self.filename} ({err.strerror or err}); "
                           "keeping this session's history in memory")

    def load_history_strings(self) -> Iterable[str]:
        try:
            strings = list(super().load_history_strings())
        except OSError as err:
            self._fail(err)
            return []
        return strings[:MAX_LOADED_ENTRIES]

    def store_string(self, string: str) -> None:
        if self.failed:
            return
        try:
            super().store_string(clean_text(string))
        except OSError as err:
            self._fail(err)


def make_history(path: Optional[Path] = None, warn=None) -> History:
    """The shell's history: a :class:`SafeFileHistory` at ``path`` (default
    :func:`history_path`) when its directory can be created and the file
    appended to, otherwise an ``InMemoryHistory`` (after one ``warn``)."""
    path = history_path() if path is None else path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Probe now, so the user hears about a bad path at start-up rather
        # than after their first command.
        with open(path, "ab"):
            pass
    except OSError as err:
        if warn is not None:
            warn(f"history: cannot use {path} ({err.strerror or err}); "
                 "keeping this session's history in memory")
        return InMemoryHistory()
    return SafeFileHistory(path, warn=warn)
