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
