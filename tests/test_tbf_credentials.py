"""Credential checking of TBF apps (``config credentials``), as Tock 2.3's ProcessCheckerMachine and
AppCheckerSha256 / AppCheckerRsaSimulated decide it; footers written as elf2tab lays them out
(scripts/make_tbf.py) and read back by tockloader."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import struct
import tarfile
from pathlib import Path

import pytest

tockloader_tbfh = pytest.importorskip("tockloader.tbfh")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tockshell import tbf  # noqa: E402
from tockshell.board import build_board  # noqa: E402
from tockshell.lang.errors import TshError  # noqa: E402
from tockshell.tbf import credentials as cred  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_tbf", REPO / "scripts" / "make_tbf.py")
make_tbf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_tbf)

BINARY = b"TOCK" + bytes(range(196))      # 200 bytes: with the 56-byte header, binary_end 0x100


def build(package="cred", **kw) -> bytes:
    kw.setdefault("binary", BINARY)
    kw.setdefault("trailing_padding", "pow2")
    return make_tbf.build_tbf(package=package, **kw)


def rsa_footer(fmt=2) -> bytes:
    return make_tbf.credential_footer(fmt, bytes(1024 if fmt == 2 else 768))


def board_with(policy: str):
    b = build_board("default")
    b.credentials = policy
    return b


def spawn_kw(tmp_path, data: bytes, policy: str, name="app.tbf"):
    f = tmp_path / name
    f.write_bytes(data)
    return tbf.spawn_args(f, "tbf", board_with(policy), label=name)


def refusal(tmp_path, data: bytes, policy="sha256") -> str:
    with pytest.raises(tbf.TbfError) as e:
        spawn_kw(tmp_path, data, policy)
    return str(e.value)


def error_of(sh, text: str) -> str:
    with pytest.raises(TshError) as e:
        sh(text)
    return str(e.value)


# ------------------------------------------------------------------ footers as elf2tab writes them, read by tockloader
def test_elf2tab_layout_sha256_then_reserved_to_a_power_of_two():
    data = build(footers=["sha256"])
    assert len(data) == 512
    binary_end = struct.unpack_from("<I", data, 16 + 4 + 12)[0]     # Program TLV binary_end_offset
    assert binary_end == 0x100
    tipe, length, fmt = struct.unpack_from("<HHI", data, binary_end)
    assert (tipe, length, fmt) == (128, 36, 3)
    assert data[binary_end + 8:binary_end + 40] == hashlib.sha256(data[:binary_end]).digest()
    # The rest is one Reserved credential: length = what is left - 4, format 0, zeros.
    assert struct.unpack_from("<HHI", data, binary_end + 40) == (128, 512 - binary_end - 40 - 4, 0)
    assert not any(data[binary_end + 48:])


def test_minimum_footer_size_reserves_at_least_8_bytes_rounded_to_4():
    plain = build(footers=["sha256"], trailing_padding=None)
    assert len(plain) == 0x100 + 40
    room = build(footers=["sha256"], trailing_padding=None, minimum_footer_size=43)
    assert len(room) == 0x100 + 40 + 8              # 3 more asked: 8 at least
    room = build(footers=["sha256"], trailing_padding=None, minimum_footer_size=3000)
    assert len(room) == 0x100 + 3000
    assert struct.unpack_from("<HHI", room, 0x100 + 40) == (128, 3000 - 40 - 4, 0)


def test_tockloader_reads_the_footers_we_write():
    info = tbf.load_tbf(build(footers=["sha256", "sha512"], minimum_footer_size=600))
    assert info.credentials == ("SHA256 (verified: yes)", "SHA512 (verified: yes)", "Reserved (verified: unknown)")
    assert info.warnings == ()
    bad = tbf.load_tbf(build(footers=["wrong-sha256"]))
    assert bad.credentials[0] == "SHA256 (verified: no)"
    assert "SHA256 hash in footer does not match binary." in bad.warnings
    hdr = tockloader_tbfh.TBFHeader(build(footers=["sha256"]))
    assert hdr.has_footer() and hdr.get_binary_end_offset() == 0x100 and hdr.get_footer_size() == 512 - 0x100


def test_without_footer_arguments_the_builder_is_unchanged():
    assert make_tbf.build_tbf(package="x", binary=b"abc") == make_tbf.build_tbf(package="x", binary=b"abc", footers=())


# ------------------------------------------------------------------ Tock's decision
def test_sha256_accepted_loads_and_records_the_credential(tmp_path):
    kw = spawn_kw(tmp_path, build(footers=["sha256"]), "sha256")
    check = kw["tbf"].credential_check
    assert check.ok and check.accepted.index == 0 and check.accepted.name == "SHA256"
    assert check.policy == "AppCheckerSha256" and check.integrity_end == 0x100
    lines = tbf.describe(kw["tbf"])
    assert any("credentials check: AppCheckerSha256 (config credentials = sha256), integrity region 0x0-0x100: "
               "accepted footer 0 (SHA256)" in line for line in lines)
    assert any("footer 0 at 0x100: SHA256, length 36: Accept" in line for line in lines)
    assert any("footer 1 at 0x128: Reserved" in line and "not examined" in line for line in lines)
    assert "  credentials (tockloader's verdict): SHA256 (verified: yes), Reserved (verified: unknown)" in lines


def test_the_shipped_scenario_files(tmp_path):
    data = REPO / "scenarios" / "data"
    kw = tbf.spawn_args(data / "cred_demo.tbf", "tbf", board_with("sha256"))
    assert kw["tbf"].credential_check.accepted.name == "SHA256"
    with pytest.raises(tbf.TbfError, match="Credential 0 rejected"):
        tbf.spawn_args(data / "cred_tampered.tbf", "tbf", board_with("sha256"))


def test_wrong_hash_is_rejected_with_its_index(tmp_path):
    msg = refusal(tmp_path, build(footers=["wrong-sha256"]))
    assert msg.startswith("app.tbf: Error checking process: Credential 0 rejected (AppCheckerSha256: footer 0, "
                          "SHA256 at 0x100: the SHA-256 of bytes 0x0-0x100 is ")
    assert "\n" not in msg


def test_no_footer_is_not_accepted(tmp_path):
    # Program TLV with binary_end_offset == total_size: no footer region.
    msg = refusal(tmp_path, build(trailing_padding=None))
    assert msg == ("app.tbf: Error checking process: No credentials accepted (AppCheckerSha256 requires credentials; "
                   "the TBF has no footer region (binary_end_offset is total_size))")
    # A Main TLV has no binary_end_offset: the binary runs to total_size, so there can be no footer.
    assert "No credentials accepted" in refusal(tmp_path, build(program=False, footers=["sha256"]))


def test_padding_footer_only_is_not_accepted(tmp_path):
    data = build(minimum_footer_size=64, trailing_padding=None)
    assert tbf.load_tbf(data).credentials == ("Reserved (verified: unknown)",)
    msg = refusal(tmp_path, data)
    assert "No credentials accepted (AppCheckerSha256 requires credentials; footers Reserved (not supported); " \
           "then the footer region ends at 0x140)" in msg


def test_zero_padding_after_the_binary_ends_the_walk(tmp_path):
    msg = refusal(tmp_path, build(total_size=0x100 + 64, trailing_padding=None))
    assert "no footer: zero padding, not a Credentials Footer (Tock: BadTlvEntry(0)) at 0x100" in msg


def test_a_later_footer_passes_after_unsupported_ones(tmp_path):
    reserved = make_tbf.credential_footer(0, bytes(12))
    for footers, index in (([reserved, "sha256"], 1), (["sha512", "sha384", "sha256"], 2),
                           ([rsa_footer(), "sha256"], 1)):
        check = spawn_kw(tmp_path, build(footers=footers), "sha256")["tbf"].credential_check
        assert check.accepted.index == index and check.accepted.name == "SHA256"
        assert [v.verdict for v in check.verdicts] == ["NOSUPPORT"] * index + ["Accept"]


def test_a_rejected_footer_stops_the_walk_even_if_a_later_one_matches(tmp_path):
    # ProcessCheckerMachine: Reject ends the check with CredentialsRejected(index); nothing after is tried.
    assert "Credential 0 rejected" in refusal(tmp_path, build(footers=["wrong-sha256", "sha256"]))
    assert "Credential 1 rejected" in refusal(tmp_path, build(footers=["sha512", "wrong-sha256", "sha256"]))


def test_rsa_simulated_accepts_any_rsa_key_and_passes_the_rest(tmp_path):
    check = spawn_kw(tmp_path, build(footers=["wrong-sha256", rsa_footer(1)]), "rsa_simulated")["tbf"].credential_check
    assert check.policy == "AppCheckerRsaSimulated" and check.accepted.name == "Rsa3072Key"
    assert [v.verdict for v in check.verdicts] == ["Pass", "Accept"]
    assert "No credentials accepted (AppCheckerRsaSimulated" in refusal(tmp_path, build(footers=["sha256"]),
                                                                        "rsa_simulated")


def with_raw_footers(*parts) -> bytes:
    """A TBF whose footer region is ``parts`` joined; a callable part gets the integrity region
    (its length must not depend on it)."""
    def region(integrity: bytes) -> bytes:
        return b"".join(p(integrity) if callable(p) else p for p in parts)

    draft = make_tbf.build_tbf(package="cred", binary=BINARY, footers=[region(bytes(0x100))])
    return make_tbf.build_tbf(package="cred", binary=BINARY, footers=[region(draft[:0x100])])


def sha_tlv(length: int, cut: int = 32, tail: bytes = b""):
    return lambda integrity: struct.pack("<HHI", 128, length, 3) + hashlib.sha256(integrity).digest()[:cut] + tail


def test_footer_parsing_follows_tock_tbf(tmp_path):
    # A TLV longer than its format's data: the checker reads the first 32 bytes; the next TLV follows `length`.
    check = spawn_kw(tmp_path, with_raw_footers(sha_tlv(4 + 32 + 6, tail=bytes(6))), "sha256")["tbf"].credential_check
    assert check.accepted is not None and check.walk.footers[0].length == 42
    # Too short for a SHA256 (NotEnoughFlash): the end of the footers, not a rejection.
    assert "a SHA256 footer needs length 36, this one has 20" in refusal(tmp_path, with_raw_footers(sha_tlv(20, 16)))
    # An unknown credentials format is a bad footer (BadTlvEntry(128)): what follows is never seen.
    odd = struct.pack("<HHI", 128, 8, 0x99) + bytes(4)
    msg = refusal(tmp_path, with_raw_footers(odd, sha_tlv(36)))
    assert "no footer: credentials format 153 is unknown to Tock (Tock: BadTlvEntry(128)) at 0x100" in msg
    # Another TLV type after a footer is a bad footer too.
    msg = refusal(tmp_path, with_raw_footers(make_tbf.credential_footer(0, b""), struct.pack("<HH", 3, 0), sha_tlv(36)))
    assert "footers Reserved (not supported); then a TLV of type 3, not a Credentials Footer (Tock: BadTlvEntry(3))" \
        in msg
    # A footer whose length runs past total_size ends the walk.
    assert "the footer's length 200 runs past total_size" in refusal(tmp_path, with_raw_footers(sha_tlv(200)))


def test_the_hash_covers_the_protected_trailer(tmp_path):
    # Tock's integrity region is flash[0 .. binary_end_offset]: header, protected trailer, binary.
    data = bytearray(build(footers=["sha256"], protected_trailer=32))
    header_size = struct.unpack_from("<H", data, 2)[0]
    # The trailer elf2tab writes is zeros: tockloader and Tock agree.
    assert tbf.load_tbf(bytes(data)).credentials[0] == "SHA256 (verified: yes)"
    data[header_size:header_size + 4] = b"TRLR"
    binary_end = header_size + 32 + len(BINARY)
    data[binary_end + 8:binary_end + 40] = hashlib.sha256(bytes(data[:binary_end])).digest()
    kw = spawn_kw(tmp_path, bytes(data), "sha256")
    assert kw["tbf"].credential_check.accepted.name == "SHA256"
    assert kw["tbf"].credential_check.integrity_end == binary_end
    # tockloader rebuilds the header and pads the trailer with zeros instead of reading it.
    assert kw["tbf"].credentials[0] == "SHA256 (verified: no)"


def test_header_refusals_come_before_the_credentials_and_memory_after(tmp_path):
    assert "Checksum mismatch" in refusal(tmp_path, build(footers=["wrong-sha256"], bad_checksum=True))
    assert "Process marked not enabled" in refusal(tmp_path, build(footers=["wrong-sha256"], flags=0))
    big = build(footers=["wrong-sha256"], minimum_ram_size=2 << 20)
    assert "Credential 0 rejected" in refusal(tmp_path, big)           # checked before RAM is allocated
    assert "NotEnoughMemory" in refusal(tmp_path, build(footers=["sha256"], minimum_ram_size=2 << 20))


def test_none_is_todays_behaviour(tmp_path):
    data = build(footers=["wrong-sha256"])
    f = tmp_path / "bad.tbf"
    f.write_bytes(data)
    plain = tbf.spawn_args(f, "tbf", build_board("default"), label="bad.tbf")   # a board that never heard of it
    none = spawn_kw(tmp_path, data, "none", name="bad.tbf")
    assert none == plain and none["tbf"].credential_check is None
    lines = tbf.describe(none["tbf"])
    assert "  credentials: SHA256 (verified: no), Reserved (verified: unknown)" in lines
    assert not any("credentials check" in line for line in lines)


def test_a_tab_is_checked_too(tmp_path):
    path = tmp_path / "app.tab"
    with tarfile.open(path, "w") as t:
        for n, data in {"metadata.toml": b'tab-version = 1\nname = "cred"\n',
                        "cortex-m4.tbf": build(footers=["sha256"]),
                        "cortex-m0.tbf": build(footers=["wrong-sha256"])}.items():
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    assert tbf.spawn_args(path, "tab", board_with("sha256"))["tbf"].credential_check.ok
    with pytest.raises(tbf.TbfError, match=r"app.tab:cortex-m0.tbf: Error checking process: Credential 0 rejected"):
        tbf.spawn_args(path, "tab", board_with("sha256"), arch="cortex-m0", label="app.tab")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.sampled_from(["sha256", "wrong-sha256", "sha384", "sha512"]),
                          st.binary(min_size=0, max_size=48)), max_size=4),
       st.sampled_from(["sha256", "rsa_simulated"]))
def test_any_footer_bytes_give_a_verdict_never_a_traceback(footers, policy):
    data = make_tbf.build_tbf(package="fuzz", binary=BINARY, footers=footers)
    info = tbf.load_tbf(data)
    try:
        check = tbf.check_credentials_of(info, policy)
    except tbf.TbfError as e:
        assert "Error checking process: " in str(e) and "\n" not in str(e)
        check = None
    else:
        assert check.accepted is not None and check.lines()
    # The decision is the first footer the policy does not skip, as the machine walks them.
    walk = cred.walk_footers(data, info.binary_end_offset, info.total_size)
    decisive = [f for f in walk.footers if f.format in ((3,) if policy == "sha256" else (1, 2))]
    if not decisive:
        assert check is None
    elif policy == "sha256":
        matches = decisive[0].data == hashlib.sha256(data[:info.binary_end_offset]).digest()
        assert (check is not None and check.accepted == decisive[0]) if matches else check is None
    else:
        assert check.accepted == decisive[0]


# ------------------------------------------------------------------ through the language
def test_config_and_spawn_in_the_shell(sh, tmp_path):
    good, bad = tmp_path / "good.tbf", tmp_path / "bad.tbf"
    good.write_bytes(build("good", footers=["sha256"]))
    bad.write_bytes(build("bad", footers=["wrong-sha256"]))
    assert "credentials = none" in sh("config credentials = none")
    sh(f'spawn b0 tbf="{bad}"\nexpect b0.credential == none')          # none: loads, no credential
    assert "credentials = sha256" in sh("config credentials = sha256")
    out = sh(f'spawn g tbf="{good}"\nprocess g')
    assert "accepted footer 0 (SHA256)" in out
    sh('expect g.credential == "SHA256"')
    msg = error_of(sh, f'\nspawn b tbf="{bad}"')
    assert msg.startswith("<test>:2:9: ") and "Error checking process: Credential 0 rejected" in msg
    assert all(p.name != "b" for p in sh.kernel.live_processes())
    assert "credentials is none, sha256 or rsa_simulated, not md5" in error_of(sh, "config credentials = md5")


def test_restart_keeps_the_credential(sh, tmp_path):
    # Tock checks credentials when a binary is loaded; a restart reuses the checked binary.
    good = tmp_path / "good.tbf"
    good.write_bytes(build("good", footers=["sha256"]))
    sh(f'config credentials = sha256\nspawn g tbf="{good}"\nrestart g')
    sh('expect g.credential == "SHA256"\nexpect g.restarts == 1')


def test_the_repl_completes_the_policy_words(sh):
    assert sh.session.names.config_values("credentials") == ["none", "sha256", "rsa_simulated"]
