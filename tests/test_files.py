"""Scenario files that cannot run get one clear message with a position, or a bounded stop; never a hang.

Missing, unreadable, a directory, a FIFO nobody writes to, binary, not UTF-8,
huge, a recursive or too deep ``include``, an endless ``every`` under a bare
``run`` and under ``run for``: each is tried through ``tockshell run`` (the
CLI's ``main``, in-process) and, for includes, from a session.
"""

from __future__ import annotations

import io
import os
import threading

import pytest

from tockshell import cli
from tockshell.lang.errors import TshError
from tockshell.lang.session import MAX_FILE_BYTES, MAX_INCLUDE_DEPTH, Session, TshFileError


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(["run", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def one_message(err: str, *words: str) -> None:
    """A single clear message (no traceback) naming what went wrong."""
    assert "Traceback" not in err and err.strip()
    for w in words:
        assert w in err, err


def test_missing_file(capsys, tmp_path):
    code, _, err = run_cli(capsys, tmp_path / "nope.tsh")
    assert code == cli.EXIT_USAGE
    one_message(err, "no such file", "nope.tsh")


def test_a_directory(capsys, tmp_path):
    code, _, err = run_cli(capsys, tmp_path)
    assert code == cli.EXIT_USAGE
    one_message(err, "is a directory")


def test_unreadable_path(capsys, tmp_path):
    # (Tests may run as root, who reads any file: a path through a regular file cannot be opened by anyone.)
    f = tmp_path / "plain"
    f.write_text("x")
    code, _, err = run_cli(capsys, f / "inside.tsh")
    assert code == cli.EXIT_USAGE
    one_message(err, "cannot read")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_nobody_writes_to_does_not_hang(capsys, tmp_path):
    fifo = tmp_path / "pipe.tsh"
    os.mkfifo(fifo)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("code", cli.main(["run", str(fifo)])), daemon=True)
    t.start()
    t.join(10)
    capsys.readouterr()
    if t.is_alive():
        # Release the reader before failing, or the test process would hang at exit.
        with open(fifo, "w"):
            pass
        pytest.fail("reading a FIFO with no writer hung")
    assert result["code"] == cli.EXIT_OK  # an empty script


def test_binary_file(capsys, tmp_path):
    f = tmp_path / "bin.tsh"
    f.write_bytes(b"spawn a\n\x00\x01\x02")
    code, _, err = run_cli(capsys, f)
    assert code == cli.EXIT_USAGE
    one_message(err, "binary", "NUL")


def test_not_utf8(capsys, tmp_path):
    f = tmp_path / "latin.tsh"
    f.write_bytes(b"echo \"caf\xe9\"\n")
    code, _, err = run_cli(capsys, f)
    assert code == cli.EXIT_USAGE
    one_message(err, "not UTF-8", "byte 9")


def test_huge_file_is_refused_before_reading(capsys, tmp_path):
    f = tmp_path / "huge.tsh"
    with open(f, "wb") as fh:  # sparse: no need to write megabytes
        fh.truncate(MAX_FILE_BYTES + 1)
    code, _, err = run_cli(capsys, f)
    assert code == cli.EXIT_USAGE
    one_message(err, "at most", str(MAX_FILE_BYTES))


def test_a_huge_stream_is_refused_after_the_limit(tmp_path, monkeypatch):
    # A device or a pipe reports no size; the read stops one byte past the limit.
    from tockshell.lang import session as S

    monkeypatch.setattr(S, "MAX_FILE_BYTES", 64)
    f = tmp_path / "big.tsh"
    f.write_text("# " + "x" * 100 + "\n")
    monkeypatch.setattr(S.os.path, "getsize", lambda p: 0)
    with pytest.raises(TshFileError, match="more than 64 bytes"):
        S.read_script(str(f))


def test_empty_and_blank_files_run(capsys, tmp_path):
    for text in ("", "\n\n", "# nothing\n", "\ufeff# a BOM\n"):
        f = tmp_path / "e.tsh"
        f.write_text(text, encoding="utf-8")
        code, out, err = run_cli(capsys, f)
        assert code == cli.EXIT_OK and not err


def test_recursive_include(capsys, tmp_path):
    (tmp_path / "a.tsh").write_text("echo \"in a\"\ninclude b.tsh\n")
    (tmp_path / "b.tsh").write_text("include \"a.tsh\"\n")
    code, out, err = run_cli(capsys, tmp_path / "a.tsh")
    assert code == cli.EXIT_FAILED
    one_message(err, "include cycle", "a.tsh → b.tsh → a.tsh")
    assert "b.tsh:1:" in err  # where the cycle closes


def test_self_include(capsys, tmp_path):
    (tmp_path / "self.tsh").write_text("include self.tsh\n")
    code, _, err = run_cli(capsys, tmp_path / "self.tsh")
    assert code == cli.EXIT_FAILED
    one_message(err, "include cycle")


def test_includes_too_deep(capsys, tmp_path):
    n = MAX_INCLUDE_DEPTH + 3
    for i in range(n):
        (tmp_path / f"f{i}.tsh").write_text(f"include f{i + 1}.tsh\n" if i + 1 < n else "echo \"bottom\"\n")
    code, out, err = run_cli(capsys, tmp_path / "f0.tsh")
    assert code == cli.EXIT_FAILED
    one_message(err, f"nested more than {MAX_INCLUDE_DEPTH} deep")
    assert "bottom" not in out


def test_include_of_a_missing_or_binary_file_points_at_the_include(tmp_path):
    (tmp_path / "bin.tsh").write_bytes(b"\x00")
    main = tmp_path / "main.tsh"
    for target, words in (("gone.tsh", "no such file"), ("bin.tsh", "binary")):
        main.write_text(f"echo 1\n  include {target}\n")
        s = Session(out=io.StringIO())
        with pytest.raises(TshError) as ei:
            s.run_file(str(main))
        assert words in ei.value.message and target in ei.value.message
        assert ei.value.pos is not None and (ei.value.pos.line, ei.value.pos.column) == (2, 3)


def test_endless_every_under_a_bare_run_stops_at_the_event_limit(capsys, tmp_path):
    f = tmp_path / "every.tsh"
    f.write_text("config run.max_events = 3000\nevery 1ms {\n  echo \"tick\"\n}\nrun\necho \"after\"\n")
    code, out, err = run_cli(capsys, f)
    assert code == cli.EXIT_OK, err
    assert "stopped after" in out and "run.max_events limit (3000)" in out
    assert out.rstrip().endswith("after")


def test_every_faster_than_time_under_run_for_stops_at_the_event_limit(capsys, tmp_path):
    # 1ns apart, each firing costing more than 1ns of kernel time: `run for 10s` alone would never end.
    f = tmp_path / "fast.tsh"
    f.write_text("config run.max_events = 2000\nevery 1ns {\n}\nrun for 10s\n")
    code, out, err = run_cli(capsys, f)
    assert code == cli.EXIT_OK, err
    assert "before t=10s" in out and "run.max_events limit (2000) bounds `run for` too" in out


def test_an_endless_app_under_a_bare_run_stops(capsys, tmp_path):
    app = tmp_path / "spin.py"
    app.write_text("def main(tock):\n    while True:\n        yield tock.command(0, 0)\n")
    f = tmp_path / "spin.tsh"
    f.write_text("config run.max_events = 5000\nspawn s app=spin.py:main\nrun\nexpect s.state == Running\n")
    code, out, err = run_cli(capsys, f)
    assert code == cli.EXIT_OK, err + out
    assert "run.max_events limit (5000)" in out


def test_a_script_that_crashes_nothing_still_reports_each_error_once(capsys, tmp_path):
    f = tmp_path / "bad.tsh"
    f.write_text("spawn a\na: command led 1 0\na: frobnicate 3\n")
    code, out, err = run_cli(capsys, f)
    assert code == cli.EXIT_USAGE  # a syntax error: nothing ran
    assert err.count("bad.tsh:3:") == 1 and "Traceback" not in err
    assert out == ""


def test_a_huge_step_count_stops_at_the_event_limit(capsys, tmp_path):
    f = tmp_path / "step.tsh"
    f.write_text("config run.max_events = 500\nevery 1ms {\n}\nstep 0xffffffff\nexpect now < 1s\n")
    code, out, err = run_cli(capsys, f)
    assert code == cli.EXIT_OK, err
    assert "stopped after 500 events: the run.max_events limit bounds `step` too" in out
