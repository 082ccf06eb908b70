"""`tockshell sweep`: the grid, the report convention, parallel runs, the table, CSV/JSON/plot, errors."""

from __future__ import annotations

import csv
import json
import os

import pytest

from tockshell import sweep
from tockshell.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THREAD_SERVICE = os.path.join(ROOT, "scenarios", "thread_service.tsh")

TINY = """\
# a tiny scenario to sweep
# report: doubled, t
param n = 1
param wait = 1ms
spawn h app=hello
run for $wait
let doubled = $n * 2
let t = now
expect $n < 5
"""


@pytest.fixture
def tiny(tmp_path):
    p = tmp_path / "tiny.tsh"
    p.write_text(TINY)
    return str(p)


# ---------------------------------------------------------------------------- pieces
def test_parse_axes_and_grid_order():
    axes = sweep.parse_axes(["fifo=1,2", "clients = 1, 4", "x=a"])
    assert axes == [("fifo", ["1", "2"]), ("clients", ["1", "4"]), ("x", ["a"])]
    assert [tuple(p.values()) for p in sweep.grid(axes)] == [("1", "1", "a"), ("1", "4", "a"), ("2", "1", "a"),
                                                             ("2", "4", "a")]
    assert sweep.varying(axes) == axes[:2]


@pytest.mark.parametrize("item,message", [
    ("fifo", "-p takes NAME=V1,V2"), ("=1", "-p takes NAME=V1,V2"), ("fifo=1,,2", "an empty value"),
    ("9x=1", "-p takes NAME=V1,V2"),
])
def test_parse_axes_refuses_bad_items(item, message):
    with pytest.raises(sweep.SweepError, match=message):
        sweep.parse_axes([item])
    with pytest.raises(sweep.SweepError, match="given twice"):
        sweep.parse_axes(["a=1", "a=2"])


def test_report_names_from_comment_lines():
    text = "# report: a, b\n# something\n  #Report:c $d a\nlet a = 1\n"
    assert sweep.report_names(text) == ["a", "b", "c", "d"]
    assert sweep.report_names("let a = 1\n") == []


def test_run_point_reports_figures_and_status(tiny):
    r = sweep.run_point(tiny, {"n": "3", "wait": "2ms"}, ["doubled", "t", "nothere"])
    assert r["ok"] and r["status"] == "ok"
    assert r["figures"]["doubled"] == (6, "6", False)
    value, text, is_time = r["figures"]["t"]
    assert is_time and value >= 2_000_000 and text.endswith("ms")
    assert r["figures"]["nothere"] == (None, "-", False)
    bad = sweep.run_point(tiny, {"n": "7"}, ["doubled"])
    assert not bad["ok"] and bad["status"] == "expect failed at line 9"
    assert bad["figures"]["doubled"][0] == 14  # figures set before the expect are still reported
    refused = sweep.run_point(tiny, {"wait": "-1ms"}, ["doubled"])
    assert not refused["ok"] and refused["status"].startswith("stopped: line 6: ")


def test_parallel_and_serial_give_the_same_rows(tiny):
    axes = [("n", ["1", "2", "3"])]
    serial = sweep.run_sweep(tiny, axes, ["doubled", "t"], jobs=1)
    parallel = sweep.run_sweep(tiny, axes, ["doubled", "t"], jobs=2)
    strip = [[(r["params"], r["figures"], r["status"]) for r in rows] for rows in (serial, parallel)]
    assert strip[0] == strip[1]
    assert [r["figures"]["doubled"][0] for r in parallel] == [2, 4, 6]


def test_table_layout(tiny):
    axes = [("n", ["1", "7"]), ("wait", ["1ms"])]
    rows = sweep.run_sweep(tiny, axes, ["doubled"], jobs=1)
    lines = sweep.format_table(axes, ["doubled"], rows).splitlines()
    assert lines[0].split() == ["n", "doubled", "status"]  # a fixed parameter gets no column
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split() == ["1", "2", "ok"]
    assert lines[3].split()[:2] == ["7", "14"] and "expect failed at line 9" in lines[3]


# ---------------------------------------------------------------------------- the command
def test_sweep_of_the_thread_service_over_20_points(tmp_path, capsys):
    csv_path, json_path = tmp_path / "out.csv", tmp_path / "out.json"
    fifos = ["1", "2", "3", "4", "6", "8", "12", "16", "24", "32"]
    code = main(["sweep", THREAD_SERVICE, "-p", "fifo=" + ",".join(fifos), "-p", "slow_cost=8ms,12ms",
                 "-p", "duration=400ms", "--jobs", "2", "--csv", str(csv_path), "--json", str(json_path)])
    out = capsys.readouterr().out
    assert code == 1  # the file's expects are written for its defaults; other points break some
    head, table = out.split("\n\n", 1)
    assert head.startswith(f"sweep {THREAD_SERVICE}: 20 points (fifo (10) x slow_cost (2); duration=400ms in "
                           f"every point), 2 jobs")
    lines = table.splitlines()
    assert lines[0].split() == ["fifo", "slow_cost", "fast_dropped", "slow_dropped", "overwrites", "latency_max",
                                "status"]
    rows = [ln.split() for ln in lines[2:22]]
    assert [r[0] for r in rows] == [f for f in fifos for _ in range(2)]
    for cost in ("8ms", "12ms"):
        drops = [int(r[2]) + int(r[3]) for r in rows if r[1] == cost]
        assert drops[0] > 0 and drops[-1] == 0
        assert all(a >= b for a, b in zip(drops, drops[1:])), (cost, drops)  # falling as the FIFO grows
    with open(csv_path, newline="") as f:
        records = list(csv.DictReader(f))
    assert len(records) == 20 and records[0]["duration"] == "400ms"
    assert int(records[0]["latency_max"]) > 1_000_000  # times in ns
    doc = json.loads(json_path.read_text())
    assert doc["axes"]["fifo"] == [int(f) for f in fifos] and len(doc["points"]) == 20
    assert doc["report"] == ["fast_dropped", "slow_dropped", "overwrites", "latency_max"]
    assert doc["points"][0]["fifo"] == 1 and isinstance(doc["points"][0]["latency_max"], int)


def test_sweep_exit_0_when_every_point_holds(tiny, capsys):
    assert main(["sweep", tiny, "-p", "n=1,2", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 points (n (2)), 1 job" in out and "did not run" not in out


@pytest.mark.parametrize("args,message", [
    ([], "give at least one -p"),
    (["-p", "m=1,2"], "has no `param m = ...` for -p m (its params: n, wait)"),
    (["-p", "n=1", "-r", "1bad"], "'1bad' is not a variable name"),
    (["-p", "n=1", "--jobs", "0"], "--jobs is at least 1"),
    (["-p", "n"], "-p takes NAME=V1,V2"),
])
def test_sweep_usage_errors_exit_2(tiny, capsys, args, message):
    assert main(["sweep", tiny, *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tockshell sweep: ") and message in err
    assert "Traceback" not in err


def test_sweep_file_errors_exit_2(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "none.tsh"), "-p", "n=1"]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.tsh"
    bad.write_text("param n = 1\nspawn (\n")
    assert main(["sweep", str(bad), "-p", "n=1"]) == 2
    assert "bad.tsh:2" in capsys.readouterr().err
    quiet = tmp_path / "quiet.tsh"
    quiet.write_text("param n = 1\nlet x = $n\n")
    assert main(["sweep", str(quiet), "-p", "n=1"]) == 2
    assert "reports no figures: add a `# report: NAME, ...` line" in capsys.readouterr().err
    assert main(["sweep", str(quiet), "-p", "n=1,2", "-r", "x", "--csv", str(tmp_path / "no" / "x.csv")]) == 2
    assert "cannot write the CSV file" in capsys.readouterr().err


def test_plot_without_matplotlib_is_a_clear_message(tiny, capsys, monkeypatch):
    monkeypatch.setattr(sweep, "plot_available", lambda: False)
    assert main(["sweep", tiny, "-p", "n=1,2", "--plot", "x.png"]) == 2
    assert "--plot needs matplotlib, the optional extra 'plot': pip install 'tockshell[plot]'" in \
        capsys.readouterr().err


def test_plot_draws_a_png(tiny, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "s.png"
    assert main(["sweep", tiny, "-p", "n=1,2,3", "-p", "wait=1ms,2ms", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"plot written to {png}" in capsys.readouterr().out
