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
