"""Regressions from the second new-user pass (IPC, Thread apps, sweep, debugger, TBF): one test per fix."""

from __future__ import annotations

from tockshell.cli import main

TINY = """\
# report: doubled
param n = 1
let doubled = $n * 2
"""


def _tiny(tmp_path):
    p = tmp_path / "tiny.tsh"
    p.write_text(TINY)
    return str(p)


def test_sweep_refuses_an_unwritable_output_before_running(tmp_path, capsys):
    # The grid can take minutes; losing its CSV to a typo in the path at the end was the bug.
    tiny = _tiny(tmp_path)
    for opt, kind in (("--csv", "CSV"), ("--json", "JSON")):
        code = main(["sweep", tiny, "-p", "n=1,2", opt, str(tmp_path / "missing" / "out")])
        out, err = capsys.readouterr()
        assert code == 2
        assert f"cannot write the {kind} file" in err and "no directory" in err
        assert "sweep " not in out  # nothing ran
        code = main(["sweep", tiny, "-p", "n=1", opt, str(tmp_path)])
        out, err = capsys.readouterr()
        assert code == 2 and "is a directory" in err and not out


def test_a_file_that_is_not_a_tab_is_one_plain_line(sh, tmp_path):
    import pytest

    from tockshell.lang.errors import TshError

    pytest.importorskip("tockloader")
    junk = tmp_path / "junk.tab"
    junk.write_bytes(bytes(range(256)) * 2)
    with pytest.raises(TshError) as e:
        sh(f'spawn p tab="{junk}"')
    msg = str(e.value)
    assert "not a TAB: not a tar archive (plain, gzip, bzip2 or xz)" in msg
    assert "ReadError" not in msg and "method gz" not in msg
    assert ":1:9:" in msg


def test_legacy_ipc_discovery_refusals_say_why(sh):
    out = sh("spawn c\nc: command ipc 1")
    assert "Failure(INVAL)" in out and "no RO allow 0 (the package name to look for)" in out
    out = sh('c: allow-ro ipc 0 "nosuch"\nc: command ipc 1')
    assert 'Failure(NODEVICE)' in out and 'ipc: c discovers "nosuch": no process has that package name' in out
    out = sh("explain")
    assert 'no process has that package name' in out


def test_registry_all_zero_name_says_why(sh):
    out = sh('spawn c\nc: allow-ro registry_name 0 x"' + "00" * 20 + '"\nc: command registry_name 1')
    assert "Failure(INVAL)" in out and "zero bytes is the grant's \"not registered\" value" in out


def test_catch_error_points_at_the_code(sh):
    import pytest

    from tockshell.lang.errors import TshError

    sh("spawn a")
    for text, col, word in (("catch error FOO a", 13, "FOO"), ("spawn b; catch error 99", 22, "99"),
                            ("catch   error  NODEVIC", 16, "NODEVIC")):
        with pytest.raises(TshError) as e:
            sh(text)
        msg = str(e.value)
        assert f":1:{col}:" in msg and word in msg
    assert "Catchpoint" in sh("catch error NODEVICE a")


def test_an_inner_handler_is_named_without_python_locals(sh, tmp_path):
    app = tmp_path / "waiter.py"
    app.write_text(
        "from tockshell.userland import drivers as D\n\n\n"
        "def waiter(tock):\n"
        "    def pressed(btn, is_pressed):\n"
        "        pass\n\n"
        "    yield tock.subscribe(D.BUTTON, 0, pressed)\n"
        "    yield tock.button_enable_interrupt(0)\n"
        "    while True:\n"
        "        yield tock.yield_wait()\n")
    out = sh(f'spawn w app="{app}:waiter"\nrun for 10ms\npress button 0\nrun for 10ms')
    assert "@waiter.pressed(" in out
    assert "<locals>" not in out


def test_an_app_file_without_its_function_says_so(sh):
    import pytest

    from tockshell.lang.errors import TshError

    with pytest.raises(TshError) as e:
        sh('spawn z app="apps/counter.py"')
    msg = str(e.value)
    assert "names a file but not its main function: app=apps/counter.py:Name" in msg
    assert "built-in apps" not in msg


def test_save_record_export_refuse_an_empty_name_or_a_directory(sh, tmp_path):
    import pytest

    from tockshell.lang.errors import TshError

    for stmt in ('export perfetto ""', 'export mermaid ""', 'save ""', 'record "  "'):
        with pytest.raises(TshError) as e:
            sh(stmt)
        assert "needs a file name, not an empty string" in str(e.value)
    with pytest.raises(TshError) as e:
        sh(f'save "{tmp_path}"')
    assert "it is a directory, give a file name" in str(e.value)


def test_help_names_a_driver():
    """`help ipcmgr` (and every driver name) describes the capsule: number, grant, settings."""
    import io

    from tockshell.lang.session import Session

    out = io.StringIO()
    s = Session(out=out)
    s.execute("help ipcmgr")
    text = out.getvalue()
    assert "driver ipcmgr (0xa0100)" in text and "config ipcmgr.descriptors" in text
    out.truncate(0)
    s.execute("help led")
    assert "no grant" in out.getvalue()
