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


def test_help_knows_the_new_words(sh):
    out = sh("help credentials")
    assert out.startswith("config credentials = VALUE   (now: none)")
    assert "AppCheckerSha256" in out and "example: config credentials = sha256" in out
    assert "board cortex-m: the same drivers with a Cortex-M4's MPU" in sh("help cortex-m")
    assert "tbf=\"FILE\"" in sh("help spawn") and "`config credentials`" in sh("help spawn")
    assert "cortex-m" in sh("help board") and "processes of the old board are gone" in sh("help board")
    assert "did you mean 'credentials'" in refusal(sh, "help credential").message
    for key in ("fault_policy", "short_id_rule", "mailbox.crash_notify"):
        assert sh(f"help {key}").startswith(f"config {key} = VALUE")


def test_board_driver_order_does_not_depend_on_which_capsule_was_imported_first():
    import subprocess
    import sys

    code = ("import tockshell.capsules.relay_request, tockshell.capsules.registry, tockshell.capsules.radio\n"
            "from tockshell.board import build_board\n"
            "print(list(build_board().drivers_by_name))")
    early = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    plain = subprocess.run([sys.executable, "-c", code.split("\n", 1)[1]], capture_output=True, text=True,
                           check=True).stdout
    assert early == plain
    assert early.index("'ipc'") < early.index("'radio'") < early.index("'registry_name'") < early.index("'relay'")


def test_completion_offers_the_spawn_file_options_and_only_the_words_a_closed_config_key_takes(sh):
    from tockshell.lang.completion import complete
    from tockshell.lang.session import SessionNames

    names = SessionNames(sh.session)

    def texts(line):
        return [c.text for c in complete(line, names)]

    assert {"tbf=", "tab=", "arch="} <= set(texts("spawn x "))
    assert texts("spawn x t") == ["tab=", "tbf="]
    assert texts("config credentials = ") == ["none", "rsa_simulated", "sha256"]
    assert texts("config short_id_rule = ") == ["names", "unique"]
    assert "on" not in texts("config fault_policy = ") and "mem(" not in texts("config fault_policy = ")
    assert "$_" in texts("config credentials = $")
    assert texts("spawn x tbf=") == []
    assert "on" in texts("config radio.on = ")  # an open key keeps the generic words


def _tbf(tmp_path, name, **kw):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    try:
        from make_tbf import build_tbf
    finally:
        sys.path.pop(0)
    path = tmp_path / f"{name}.tbf"
    path.write_bytes(build_tbf(package=name, binary=b"x" * 64, **kw))
    return path


def test_a_tbf_the_cortex_m_mpu_cannot_hold_is_refused_at_the_file_with_why(sh):
    sh("board cortex-m")
    e = refusal(sh, f'spawn x tbf="{DATA}/perm_demo.tbf"')
    assert e.pos.column == 9
    assert e.message.startswith(f"{DATA}/perm_demo.tbf: ProcessLoadError::MpuInvalidFlashLength")
    assert "total_size, 1172 B, is not a power of two" in e.message
    assert sh.session.find_process("x") is None


def test_spawn_refuses_tbf_and_tab_together_and_a_zero_flash_at_the_option(sh):
    e = refusal(sh, f'spawn x tbf="{DATA}/cred_demo.tbf" tab="{DATA}/cred_demo.tbf"')
    assert "not both" in e.message and e.pos.column > 30
    e = refusal(sh, "spawn x ram=4k flash=0")
    assert e.message == "flash= must be a positive size in bytes (e.g. flash=4k), not 0" and e.pos.column == 16


def test_a_fixed_address_at_the_top_of_memory_cannot_wrap_past_32_bits(sh, tmp_path):
    path = _tbf(tmp_path, "top", fixed_addresses=(0xFFFFF000, 0xFFFFFFFF))
    e = refusal(sh, f'spawn x tbf="{path}"')
    assert "ProcessLoadError::NotEnoughMemory: the RAM block [0xfffff000, 0x100000ad0) would run past" in e.message
    assert sh.session.kernel.live_processes() == [] or not list(sh.session.kernel.live_processes())
    sh("spawn y")  # nothing was left behind


def test_sbrk_wraps_as_a_32_bit_pointer_and_its_explanation_has_no_negative_address(sh):
    sh("spawn p")
    out = sh("p: memop sbrk -0x80000000")
    assert "Failure(NOMEM)" in out
    assert "0xa0001000 is above the kernel memory break" in out and "-0x" not in out
    assert sh.session.kernel.process("p").app_break == 0x20001000


def test_a_refusal_listing_hundreds_of_footers_stays_one_short_line(sh, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    try:
        from make_tbf import build_tbf, credential_footer
    finally:
        sys.path.pop(0)
    path = tmp_path / "many.tbf"
    path.write_bytes(build_tbf(package="many", binary=b"x" * 64, footers=[credential_footer(0, b"")] * 300 + ["sha256"]))
    sh("config credentials = rsa_simulated")
    msg = refusal(sh, f'spawn x tbf="{path}"').message
    assert "footers Reserved (passed) x300, SHA256 (passed); then the footer region ends" in msg
    assert len(msg) < 300


def test_explain_after_a_refused_spawn_does_not_say_the_kernel_was_not_involved(sh):
    sh("config credentials = sha256")
    refusal(sh, f'spawn t tbf="{DATA}/cred_tampered.tbf"')
    out = sh("explain")
    assert out.startswith("The last spawn was refused; no process was created and no event happened: ")
    assert "Credential 0 rejected" in out and "not the kernel" not in out
    sh("spawn a\nstop a")
    refusal(sh, "a: command led 0")
    assert "refused by the shell, not the kernel" in sh("explain")


def test_an_app_fault_on_cortex_m_says_how_far_the_mpu_lets_the_app_reach(sh, tmp_path):
    app = tmp_path / "toucher.py"
    app.write_text("def Toucher(tock, addr=0):\n"
                   "    yield tock.command(0, 2)\n"
                   "    tock.write(addr, b'1234')\n"
                   "    yield tock.command(0, 2)\n")
    # Past the break but inside the last enabled subregion: the hardware allows it.
    sh(f'board cortex-m\nspawn ok app="{app}:Toucher" addr=0x20000bc0 ram=3000\nrun for 1ms')
    assert sh.session.kernel.process("ok").state.name == "Yielded"
    out = sh(f'spawn bad app="{app}:Toucher" addr=0x20002c10 ram=3000\nrun for 1ms')
    assert ("write of 4 bytes at 0x20002c10: outside the app's memory (app break 0x20002bb8, "
            "MPU subregions up to 0x20002c00)") in out


def test_rewind_after_an_unsplittable_statement_goes_before_it_and_the_future_survives_two_rewinds(sh):
    sh("board cortex-m\nspawn p ram=3000\nspawn q\nrestart q")
    out = sh("rewind 1")  # inside `restart q`: the point after it is where we are
    assert "stopped at event 8, the point before it" in out
    assert sh.session.kernel.process("q").restart_count == 0
    sh("rewind 1")
    assert sh.session.find_process("q") is None and sh.session.find_process("p") is not None
    sh("goto 12")  # forward along what the first rewind left: both statements come back
    assert sh.session.kernel.process("q").restart_count == 1
    out = sh("goto 2")  # goto keeps landing after, as documented
    assert "stopped at event 4, the first point after it" in out


def test_a_board_switch_says_which_processes_and_settings_it_took_away(sh):
    sh("spawn a\nconfig credentials = sha256\nconfig fault_policy = restart")
    out = sh("board cortex-m")
    assert 'the process of board "default" (a) is gone; a checkpoint taken before the switch restores it' in out
    assert "credentials sha256 → none" in out and "fault_policy restart → panic" in out
    # and it is true: the tampered binary the user meant to refuse now loads
    sh(f'spawn t tbf="{DATA}/cred_tampered.tbf"\nspawn u')
    out = sh("board cortex-m")
    assert 'the 2 processes of board "cortex-m" (t, u) are gone' in out
    assert "settings back" not in out  # nothing was set on this board: nothing more to say


def test_an_unknown_board_lists_the_profiles(sh):
    assert refusal(sh, "board nope").message == "unknown board 'nope' (boards: cortex-m, default)"
    assert "did you mean 'cortex-m'" in refusal(sh, "board cortexm").message


def test_a_tab_whose_tbf_sits_in_a_folder_loads_under_the_architecture_it_lists(sh, tmp_path):
    import io
    import tarfile

    with open(f"{DATA}/cred_demo.tbf", "rb") as f:
        tbf = f.read()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("sub/cortex-m4.tbf")
        info.size = len(tbf)
        tar.addfile(info, io.BytesIO(tbf))
    path = tmp_path / "dirs.tab"
    path.write_bytes(buf.getvalue())
    sh(f'spawn x tab="{path}"')  # was: "no TBF for architecture 'sub/cortex-m4' (the TAB has sub/cortex-m4)"
    assert sh.session.kernel.process("x").package == "cred_demo"


def test_save_elsewhere_then_run_finds_the_files_typed_relative_to_the_working_directory(tmp_path, monkeypatch):
    import io
    import shutil
    import subprocess
    import sys

    from tockshell.lang.session import Session

    (tmp_path / "data").mkdir()
    for name in ("cred_demo.tbf", "perm_demo.tbf"):
        shutil.copy(f"{DATA}/{name}", tmp_path / "data" / name)
    monkeypatch.chdir(tmp_path)
    s = Session(out=io.StringIO())
    s.execute('spawn c tbf="data/cred_demo.tbf"\nspawn d tbf=data/perm_demo.tbf', "<stdin>")
    saved = tmp_path / "sub" / "s.tsh"
    saved.parent.mkdir()
    s.execute(f'save "{saved}"', "<stdin>")
    text = saved.read_text()
    assert f'tbf="{tmp_path / "data" / "cred_demo.tbf"}"' in text
    assert f'tbf="{tmp_path / "data" / "perm_demo.tbf"}"' in text
    run = subprocess.run([sys.executable, "-m", "tockshell", "run", str(saved)], cwd=saved.parent,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    # Saved in the working directory, the lines stay as typed.
    s.execute('save "here.tsh"', "<stdin>")
    assert 'spawn c tbf="data/cred_demo.tbf"' in (tmp_path / "here.tsh").read_text()
    # A transcript (`record`) elsewhere is written the same way.
    rec = saved.parent / "rec.tsh"
    s.execute(f'record "{rec}"\nspawn e tbf="data/cred_demo.tbf"\nrecord off', "<stdin>")
    assert f'spawn e tbf="{tmp_path / "data" / "cred_demo.tbf"}"' in rec.read_text()


def test_spawn_ram_0_has_no_heap_and_says_it_starts_at_the_break_not_above_it(sh):
    sh("spawn p ram=0")
    msg = refusal(sh, "alloc p 16").message
    assert "the heap starts at 0x20000020, at the app break 0x20000020" in msg
    sh("p: memop sbrk 64")
    assert "16 bytes at 0x20000020" in sh("alloc p 16")


def test_config_takes_a_word_from_a_variable_or_a_param_so_a_sweep_can_vary_the_policy(sh, make_shell):
    sh('let c = "sha256"\nconfig credentials = $c')
    assert sh.session.board.credentials == "sha256"
    sh('config fault_policy = "restart"\nconfig short_id_rule = "names"')
    assert "restart" in sh("help fault_policy") and "names" in sh("help short_id_rule")
    assert "not \"SHA256\"" in refusal(sh, 'config credentials = "SHA256"').message
    # `-p cred=none` arrives as the none value, which names the policy none.
    p = make_shell(params={"cred": "none"})
    p('param cred = "sha256"\nconfig credentials = $cred')
    assert p.session.board.credentials == "none"


def test_run_warns_of_an_unmatched_p_only_when_the_file_ran_to_its_end(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.tsh"
    bad.write_text('param cred = "sha256"\nconfig credentials = $cred\nboard $b\n')
    run = subprocess.run([sys.executable, "-m", "tockshell", "run", str(bad), "-p", "cred=none"],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "matches no `param cred`" not in run.stderr


def test_board_option_after_the_subcommand(tmp_path):
    import subprocess
    import sys

    f = tmp_path / "b.tsh"
    f.write_text("spawn p ram=3000\nexpect p.memory_end - p.memory_start == 8192\n")
    for argv in (["run", "--board", "cortex-m", str(f)], ["--board", "cortex-m", "run", str(f)],
                 ["run", str(f), "--board", "cortex-m"]):
        run = subprocess.run([sys.executable, "-m", "tockshell", *argv], capture_output=True, text=True)
        assert run.returncode == 0, (argv, run.stderr)


def test_board_and_kernel_say_what_the_board_checks_when_it_loads_a_tbf(sh):
    assert "TBF loading: credentials none, short_id_rule unique" in sh("board")
    sh("config credentials = sha256")
    assert "TBF loading: credentials sha256" in sh("kernel")
