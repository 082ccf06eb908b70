"""Every shipped scenario (scenarios/*.tsh, those added later too) runs through the CLI with exit 0."""

from __future__ import annotations

import glob
import os

import pytest

from tockshell.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.tsh")))


def test_there_are_scenarios():
    names = {os.path.basename(p) for p in SCENARIOS}
    assert {"hello.tsh", "grants.tsh", "faults.tsh", "upcall_queue.tsh"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=[os.path.basename(p) for p in SCENARIOS])
def test_scenario_runs_and_every_expect_holds(path, capsys):
    code = main(["run", path])
    out, err = capsys.readouterr()
    assert code == 0, f"{os.path.basename(path)} exited {code}:\n{err}"


@pytest.mark.parametrize("path", SCENARIOS, ids=[os.path.basename(p) for p in SCENARIOS])
def test_scenario_has_a_description_and_expects(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    first = text.lstrip().splitlines()[0]
    assert first.startswith("#") and len(first.lstrip("# ")) > 10, "the first line is the `demo` description"
    assert "\nexpect " in text, "a scenario asserts its outcome"


def test_the_demo_list_says_which_scenarios_need_tockloader_when_it_is_absent(monkeypatch):
    import importlib.util

    from tockshell.lang import interpreter

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tockloader" else real(name, *a))
    listed = dict(interpreter.scenario_list())
    assert listed["tbf_permissions"].endswith("(needs tockloader: pip install 'tockshell[tbf]')")
    assert "needs tockloader" not in listed["hello"]
    monkeypatch.undo()
    assert "needs tockloader" not in dict(interpreter.scenario_list())["tbf_permissions"]
