"""scenarios/upstream_relay.tsh runs to the end with every expect holding, and shows what it teaches."""

from __future__ import annotations

import io
import pathlib

import pytest

SCENARIO = pathlib.Path(__file__).resolve().parent.parent / "scenarios" / "upstream_relay.tsh"


@pytest.fixture(scope="module")
def ran():
    session_mod = pytest.importorskip("tockshell.lang.session")
    out = io.StringIO()
    s = session_mod.Session(out=out)
    s.run_file(str(SCENARIO))
    return s, out.getvalue()


def test_first_line_is_a_description():
    first = SCENARIO.read_text().splitlines()[0]
    assert first.startswith("# ") and len(first) > 20


def test_scenario_ends_in_expects():
    lines = [ln.strip() for ln in SCENARIO.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines[-1].startswith("expect") and lines[-2].startswith("expect")


def test_scenario_passes(ran):
    s, out = ran
    relay = s.board.driver("relay")
    st = relay.stats()
    assert st["responses"] == 2 and st["cancels"] == 2 and st["truncated"] == 1
    assert "Traceback" not in out
    assert "Success(u32=4, u64=1)" in out
    assert "Failure(SIZE, u64=1)" in out
