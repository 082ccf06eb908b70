"""`spawn NAME tbf=` / `tab=` through the language: paths, messages with positions, `process`, config."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

pytest.importorskip("tockloader.tbfh")

from tockshell import tbf  # noqa: E402
from tockshell.lang.errors import TshError  # noqa: E402

from test_tbf import make  # noqa: E402  (the byte-by-byte TBF writer)

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "scenarios" / "data" / "perm_demo.tbf"


def error_of(sh, text: str, file: str = "<test>") -> str:
    with pytest.raises(TshError) as e:
        sh(text, file)
    return str(e.value)


def test_spawn_tbf_and_process_shows_the_header(sh):
    out = sh(f'spawn p tbf="{DEMO}"\nprocess p')
    assert "spawned p" in out
    for part in ("package: perm_demo", "ShortId TLV: 0xc0ffee", "driver 0x1 (console): commands 0-1",
                 "driver 0x2 (led): commands 0-1", "persistent ACL: write_id 0x10", "kernel version: ^2.0",
                 "writeable flash regions: [0x300, +0x100)"):
        assert part in out, part
    p = sh.kernel.process("p")
    assert p.package == "perm_demo" and p.short_id.value == 0xC0FFEE
    sh('expect p.package == "perm_demo"\nexpect p.short_id == 0xc0ffee')


def test_denied_command_prints_failure_nodevice(sh):
    sh(f'spawn p tbf="{DEMO}"')
    out = sh("p: command led 3 0")
    assert "Failure(NODEVICE)" in out
    sh("expect $_ == Failure(NODEVICE)")
    sh("p: command led 1 0\nexpect $_ == Success")


def test_relative_paths_resolve_against_the_scripts_directory(tmp_path, sh, monkeypatch):
    (tmp_path / "sub" / "data").mkdir(parents=True)
    (tmp_path / "sub" / "data" / "a.tbf").write_bytes(make("rel"))
    (tmp_path / "sub" / "inner.tsh").write_text("spawn a tbf=data/a.tbf\n")
    main = tmp_path / "main.tsh"
    main.write_text("include sub/inner.tsh\nexpect a.package == \"rel\"\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    sh.session.run_file(str(main))
    assert sh.kernel.process("a").tbf.source == "data/a.tbf"  # named as written, not the joined path


def test_errors_are_one_line_with_a_position(sh, tmp_path):
    msg = error_of(sh, "\n\nspawn x tbf=nope/missing.tbf")
    assert msg == "<test>:3:9: nope/missing.tbf: no such file"  # the position of tbf=...
    disabled = tmp_path / "off.tbf"
    disabled.write_bytes(make("off", flags=0))
    assert "Process marked not enabled" in error_of(sh, f'spawn x tbf="{disabled}"')
    newer = tmp_path / "new.tbf"
    newer.write_bytes(make("new", kver=(2, 9)))
    assert "Running: 2.3, Requested: 2.9" in error_of(sh, f'spawn x tbf="{newer}"')
    assert "arch= applies to tab= files only" in error_of(sh, f'spawn x tbf="{newer}" arch=cortex-m4')
    assert sh.kernel.live_processes() == [] or all(p.name != "x" for p in sh.kernel.live_processes())


def test_missing_tockloader_message_through_the_language(sh, monkeypatch):
    import sys

    for mod in ("tockloader", "tockloader.tbfh", "tockloader.tab"):
        monkeypatch.setitem(sys.modules, mod, None)
    msg = error_of(sh, f'spawn x tbf="{DEMO}"')
    assert msg.endswith("TBF files need tockloader: pip install 'tockshell[tbf]'")


def test_explicit_keys_win_over_the_header(sh):
    sh(f'spawn p tbf="{DEMO}" package="other" short_id=0x42 grant=0')
    p = sh.kernel.process("p")
    assert p.package == "other" and p.short_id.value == 0x42
    assert p.memory_len == (4096 + sh.kernel.initial_kernel_memory_size + 7) // 8 * 8


def test_short_id_rule_config(sh, tmp_path):
    f = tmp_path / "n.tbf"
    f.write_bytes(make("named"))
    assert "short_id_rule = unique" in sh("config short_id_rule = unique")
    sh(f'spawn a tbf="{f}"')
    assert sh.kernel.process("a").short_id.value is None
    sh("config short_id_rule = names")
    sh(f'spawn b tbf="{f}"')
    assert sh.kernel.process("b").short_id.value == tbf.crc32_posix(b"named")
    assert "short_id_rule is unique or names" in error_of(sh, "config short_id_rule = sometimes")


def test_spawn_tab_with_arch(sh, tmp_path):
    path = tmp_path / "app.tab"
    with tarfile.open(path, "w") as t:
        for n, data in {"metadata.toml": b'tab-version = 1\nname = "app"\n',
                        "cortex-m0.tbf": make("app", min_ram=2048),
                        "cortex-m4.tbf": make("app", min_ram=8192)}.items():
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    sh(f'spawn m4 tab="{path}"\nspawn m0 tab="{path}" arch=cortex-m0')
    assert sh.kernel.process("m4").min_app_ram == 8192
    assert sh.kernel.process("m0").min_app_ram == 2048
    assert "no TBF for architecture 'rv32imc'" in error_of(sh, f'spawn x tab="{path}" arch=rv32imc')
