"""Regression tests for what a new user's hour with the cortex-m board, TBF credentials,
legacy-IPC `catch dropped` and time travel turned up (one test per bug found)."""

from __future__ import annotations

import pytest

from tockshell.lang.errors import TshError

DATA = "scenarios/data"


def refusal(sh, text: str) -> TshError:
    """The TshError ``text`` raises (it must raise one)."""
    with pytest.raises(TshError) as info:
        sh(text)
    return info.value


def test_after_a_panic_on_cortex_m_the_hint_names_cortex_m_not_default(sh):
    # `board default` would silently change the memory model as well as clear the panic.
    sh("board cortex-m\nspawn p\nfault p")
    msg = refusal(sh, "restart p").message
    assert "`board cortex-m` starts a fresh board" in msg
    assert "board default" not in msg
    assert "`rewind` or `restore` goes back before the panic" in msg
    sh("rewind 1\nrestart p")  # and the hint is true: travel gets out of it
    assert sh.session.kernel.process("p").restart_count == 1


def test_diff_shows_mpu_regions_in_the_printers_terms_and_no_python_none(sh):
    sh("board cortex-m\nspawn p ram=3000\ncheckpoint a\np: memop brk (p.memory_start + 7068)")
    out = sh("diff a now")
    assert ("p.mpu region 0: [0x20000000:0x20001000] 4096 B, subregions 0-5 enabled → "
            "[0x20000000:0x20001000] 4096 B, all 8 subregions enabled") in out
    assert "p.mpu region 1: unused → [0x20001000:0x20002000] 4096 B, subregions 0-5 enabled" in out
    assert "CortexMRegion" not in out and "items)" not in out
    assert "$_: none → Success" in out and "None" not in out
