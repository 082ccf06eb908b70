"""Unit tests of the shell's small modules: history, keys, toolbar, style, completer.

No terminal here: these are the pure parts (pexpect tests drive the real shell).
"""

from __future__ import annotations

import os
import stat

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory

from tockshell.board import build_board
from tockshell.shell import history as H
from tockshell.shell.completer import TshCompleter, session_names
from tockshell.shell.keys import block_depth, input_incomplete, make_key_bindings
from tockshell.shell.style import make_style
from tockshell.shell.toolbar import format_time, kernel_toolbar, make_toolbar


# ------------------------------------------------------------------ history

def test_history_path_honours_override_and_xdg(tmp_path):
    assert H.history_path({"TOCKSHELL_HISTORY": str(tmp_path / "h")}) == tmp_path / "h"
    assert H.history_path({"XDG_DATA_HOME": str(tmp_path), "HOME": "/nowhere"}) == tmp_path / "tockshell" / "history"
    assert H.history_path({"HOME": "/home/u"}) == H.Path("/home/u/.local/share/tockshell/history")
    # A relative XDG_DATA_HOME is invalid per XDG and ignored.
    assert H.history_path({"XDG_DATA_HOME": "rel", "HOME": "/home/u"}) == H.Path("/home/u/.local/share/tockshell/history")


def test_error_log_sits_next_to_history(tmp_path):
    env = {"TOCKSHELL_HISTORY": str(tmp_path / "sub" / "hist")}
    assert H.error_log_path(env) == tmp_path / "sub" / "internal-errors.log"


def test_file_history_round_trip_keeps_blocks_whole(tmp_path):
    path = tmp_path / "d" / "history"
    h = H.make_history(path)
    assert isinstance(h, H.SafeFileHistory)
    h.store_string("list")
    h.store_string("every 1s {\n  echo \"hi\"\n}")
    again = H.make_history(path)
    assert list(again.load_history_strings()) == ["every 1s {\n  echo \"hi\"\n}", "list"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_history_falls_back_to_memory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    warnings = []
    try:
        h = H.make_history(ro / "sub" / "history", warn=warnings.append)
    finally:
        ro.chmod(stat.S_IRWXU)
    assert isinstance(h, InMemoryHistory)
    assert len(warnings) == 1 and "in memory" in warnings[0]


def test_history_under_a_file_falls_back_even_for_root(tmp_path):
    (tmp_path / "plain").write_text("x")
    warnings = []
    h = H.make_history(tmp_path / "plain" / "sub" / "history", warn=warnings.append)
    assert isinstance(h, InMemoryHistory)
    assert len(warnings) == 1


def test_history_path_that_is_a_directory_falls_back(tmp_path):
    warnings = []
    h = H.make_history(tmp_path, warn=warnings.append)   # a directory, not a file
    assert isinstance(h, InMemoryHistory)
    assert warnings


def test_history_failing_later_warns_once_and_keeps_going(tmp_path):
    path = tmp_path / "history"
    warnings = []
    h = H.make_history(path, warn=warnings.append)
    path.unlink()
    path.mkdir()          # now every append fails
    h.store_string("a")
    h.store_string("b")
    assert len(warnings) == 1


# ---------------------------------------------------------------------- keys

@pytest.mark.parametrize("text, incomplete", [
    ("list", False),
    ("", False),
    ("every 1s {", True),
    ("every 1s {\n  echo \"x\"", True),
    ("every 1s {\n  echo \"x\"\n}", False),
    ("at 1ms { echo \"{\" }", False),          # a brace in a string does not count
    ("echo \"}\" # {", False),                 # nor in a comment
    ("spawn p \\", True),                      # line continuation
    ("spawn p \\   ", True),
    ("echo \"a\\\\\" \\", True),
    ("spawn p \\\n", True),                      # a piped line keeps its newline
    ("# comment \\", False),
    ("}", False),                              # unbalanced close: let the parser complain
    ("every 1s {\n  at 1ms {\n  }", True),
])
def test_input_incomplete(text, incomplete):
    assert input_incomplete(text) is incomplete


def test_block_depth():
    assert block_depth("every 1s {\n at 1ms {") == 2
    assert block_depth("}}") == 0


def test_key_bindings_build():
    kb = make_key_bindings()
    keys = {tuple(k.value if hasattr(k, "value") else k for k in b.keys) for b in kb.bindings}
    assert ("c-m",) in keys          # Enter
    assert ("escape", "c-m") in keys  # Alt-Enter


# ------------------------------------------------------------------- toolbar

def test_toolbar_time_reads_like_the_prompt():
    assert format_time(0) == "0us"
    assert format_time(1_007_000) == "1.007ms"


def _text(fragments):
    return "".join(t for _, t in fragments)


def test_kernel_toolbar_counts_processes_by_state():
    b = build_board()
    k = b.kernel
    assert "no processes" in _text(kernel_toolbar(k, b.name))
    k.create_process("a")
    k.create_process("b", booted=False)
    k.create_process("c", booted=False)
    text = _text(kernel_toolbar(k, b.name))
    assert " t=" in text and "ev " in text
    assert "3 processes: 1 Running, 2 Yielded" in text
    assert "board default" in text


def test_make_toolbar_prefers_session_text_and_survives_errors():
    class WithText:
        def toolbar(self):
            return "t=5us ev=3 | 1 process"

    class Broken:
        def toolbar(self):
            raise RuntimeError("boom")

    class NoToolbar:
        board = build_board()

    assert "t=5us ev=3" in _text(make_toolbar(WithText())())
    assert "unavailable" in _text(make_toolbar(Broken())())
    assert "board default" in _text(make_toolbar(NoToolbar())())


# --------------------------------------------------------------------- style

def test_style_builds_with_default_and_named_pygments_style():
    assert make_style({}) is not None
    assert make_style({"TOCKSHELL_STYLE": "monokai"}) is not None
    assert make_style({"TOCKSHELL_STYLE": "no-such-style"}) is not None


# ----------------------------------------------------------------- completer

class _Names:
    processes = ("client", "server")
    drivers = {"console": "0x1", "alarm": "0x0"}
    variables = ("buf",)


def _complete(text, requested=True, names=_Names()):
    c = TshCompleter(lambda: names)
    return [(x.text, x.start_position) for x in
            c.get_completions(Document(text), CompleteEvent(completion_requested=requested))]


def test_completer_offers_statements_processes_and_drivers():
    assert ("spawn", -2) in _complete("sp")
    assert ("client: ", -3) in _complete("cli")
    assert ("command", -3) in _complete("client: com")
    assert ("console", -3) in _complete("client: command con")


def test_completer_stays_quiet_after_a_space_unless_asked():
    assert _complete("run ", requested=False) == []
    assert ("for", 0) in _complete("run ", requested=True)


def test_completer_never_raises():
    class Exploding:
        @property
        def processes(self):
            raise RuntimeError("boom")

    assert isinstance(_complete('client: allow-ro console 1 "unterminated', names=Exploding()), list)
    assert isinstance(_complete("p: (((", names=Exploding()), list)


def test_session_names_calls_a_method_provider():
    class S:
        def names(self):
            return _Names()

    class T:
        names = _Names()

    assert session_names(S())().processes == _Names.processes
    assert session_names(T())().processes == _Names.processes


def test_completer_fills_in_the_live_session_names():
    import io

    from tockshell.lang.session import Session

    s = Session(out=io.StringIO())
    s.execute("spawn client ram=4k\nlet foo = 1\nclient: subscribe console 1 @on_write")
    c = TshCompleter(session_names(s))

    def texts(text):
        return [x.text for x in c.get_completions(Document(text), CompleteEvent(completion_requested=True))]

    assert "$foo" in texts("echo $f")                              # variables
    assert "@on_write" in texts("client: subscribe console 2 @o")  # labels of that process
    assert "fault_policy" in texts("config fa")                    # config keys
    assert "console" in texts("client: command c")                 # drivers by name
    assert "client" in texts("stop c")                             # processes
    s.execute("spawn server ram=4k")
    assert "server" in texts("stop s")                             # at once, no refresh needed
