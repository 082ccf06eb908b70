"""The tockshell command: exit codes, messages, lazy imports."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tockshell.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_run_ok(tmp_path, capsys):
    f = write(tmp_path, "ok.tsh", "spawn c\nc: command led 0\nexpect $_ == Success(u32=4)\n")
    code, out, err = run(["run", f], capsys)
    assert code == 0 and "→ Success(u32=4)" in out and err == ""


def test_run_expect_failure_exits_1_with_file_line_and_sides(tmp_path, capsys):
    f = write(tmp_path, "bad.tsh", "spawn c\n\nexpect c.queue == 3\necho \"not reached\"\n")
    code, out, err = run(["run", f], capsys)
    assert code == 1
    assert f"{f}:3:1: expect failed: c.queue == 3 — left is 0, right is 3" in err
    assert "expect c.queue == 3\n^~~" in err
    assert "not reached" not in out


def test_run_refused_statement_exits_1(tmp_path, capsys):
    f = write(tmp_path, "r.tsh", "spawn client\nclinet: command led 0\n")
    code, out, err = run(["run", f], capsys)
    assert code == 1 and "did you mean 'client'" in err and ":2:1:" in err


def test_run_parse_error_exits_2_with_caret(tmp_path, capsys):
    f = write(tmp_path, "p.tsh", "spawn c\nc: comand led 0\n")
    code, out, err = run(["run", f], capsys)
    assert code == 2 and "did you mean 'command'" in err and "c: comand led 0\n   ^~~~~~" in err
    assert out == ""  # nothing runs before the whole file parses


@pytest.mark.parametrize("content,msg", [
    (b"spawn c\x00\n", "binary file"),
    (b"spawn \xff\xfe\n", "not UTF-8"),
])
def test_run_unreadable_files_exit_2(tmp_path, capsys, content, msg):
    p = tmp_path / "x.tsh"
    p.write_bytes(content)
    code, out, err = run(["run", str(p)], capsys)
    assert code == 2 and msg in err and "Traceback" not in err


def test_run_missing_and_directory_exit_2(tmp_path, capsys):
    code, _, err = run(["run", str(tmp_path / "nope.tsh")], capsys)
    assert code == 2 and "no such file" in err
    code, _, err = run(["run", str(tmp_path)], capsys)
    assert code == 2 and "directory" in err


def test_run_huge_file_exits_2(tmp_path, capsys, monkeypatch):
    import tockshell.lang.session as session_mod

    monkeypatch.setattr(session_mod, "MAX_FILE_BYTES", 100)
    f = write(tmp_path, "big.tsh", "# x\n" * 100)
    code, _, err = run(["run", f], capsys)
    assert code == 2 and "at most 100 bytes" in err


def test_run_params(tmp_path, capsys):
    f = write(tmp_path, "p.tsh", "param n = 1\necho \"n=\" $n\n")
    code, out, err = run(["run", f, "-p", "n=7", "-p", "zzz=1"], capsys)
    assert code == 0 and "n= 7" in out and "matches no `param zzz`" in err
    with pytest.raises(SystemExit) as e:
        main(["run", f, "-p", "novalue"])
    assert e.value.code == 2


def test_quit_stops_with_code_0(tmp_path, capsys):
    f = write(tmp_path, "q.tsh", "echo \"a\"\nquit\necho \"b\"\n")
    code, out, _ = run(["run", f], capsys)
    assert code == 0 and "a" in out and "b" not in out


def test_check(tmp_path, capsys):
    f = write(tmp_path, "c.tsh", "spawn c\nc: command led 0\n")
    code, out, _ = run(["check", f], capsys)
    assert code == 0 and "OK (2 statements)" in out
    g = write(tmp_path, "d.tsh", "spawn\n")
    code, _, err = run(["check", g], capsys)
    assert code == 2 and ":1:" in err


def test_demo_lists_and_runs(capsys):
    code, out, _ = run(["demo"], capsys)
    assert code == 0 and "hello" in out and "Hello, console" in out
    code, out, _ = run(["demo", "hello"], capsys)
    assert code == 0 and "tsh> spawn client ram=4k" in out
    code, _, err = run(["demo", "helo"], capsys)
    assert code == 2 and "did you mean 'hello'" in err


def test_version_and_usage(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and "tockshell 0.1" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["frobnicate"])
    assert e.value.code == 2


def _subprocess(code: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_run_and_check_do_not_import_prompt_toolkit(tmp_path):
    f = write(tmp_path, "ok.tsh", "spawn c\nc: command led 0\n")
    probe = ("import sys\nfrom tockshell.cli import main\ncode = main(sys.argv[1:])\n"
             "bad = [m for m in sys.modules if m.startswith('prompt_toolkit')]\n"
             "print('PT', bad)\nsys.exit(code)\n")
    for argv in (["run", f], ["check", f]):
        r = _subprocess(probe, *argv)
        assert r.returncode == 0, r.stderr
        assert "PT []" in r.stdout


def test_python_dash_m(tmp_path):
    f = write(tmp_path, "ok.tsh", "echo \"hi\"\n")
    r = subprocess.run([sys.executable, "-m", "tockshell", "run", f], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "hi"


def test_repl_fallback_reads_piped_input(tmp_path):
    r = subprocess.run([sys.executable, "-m", "tockshell"], input="spawn c\nlist\nquit\n", capture_output=True,
                       text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0 and "spawned c" in r.stdout and "ShortID" in r.stdout
