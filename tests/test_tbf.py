"""TBF loading (tockshell.tbf): TBF objects built byte by byte from TockBinaryFormat.md,
read by tockshell and by tockloader side by side, then loaded as Tock 2.3 would."""

from __future__ import annotations

import io
import logging
import struct
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

tockloader_tbfh = pytest.importorskip("tockloader.tbfh")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tockshell import tbf  # noqa: E402
from tockshell.abi import ErrorCode, SyscallClass as C  # noqa: E402
from tockshell.board import build_board  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ a TBF writer, straight from the format doc
def _tlv(tipe: int, payload: bytes) -> bytes:
    raw = struct.pack("<HH", tipe, len(payload)) + payload
    return raw + b"\0" * (-len(raw) % 4)


def make(package="app", *, init=0x41, trailer=0, min_ram=4096, binary=b"\x00" * 64, program=True,
         version=7, flags=1, perms=None, acl=None, kver=(2, 0), short_id=None, regions=(), fixed=None,
         extra=(), total=None, corrupt_checksum=False, header_pad=0) -> bytes:
    """Base header (version, header_size, total_size, flags, checksum) then TLVs, each 4-aligned."""
    body = b""
    if package is not None:
        body += _tlv(3, package.encode())
    if regions:
        body += _tlv(2, b"".join(struct.pack("<II", *r) for r in regions))
    if fixed is not None:
        body += _tlv(5, struct.pack("<II", *fixed))
    if perms is not None:
        body += _tlv(6, struct.pack("<H", len(perms)) + b"".join(struct.pack("<IIQ", *p) for p in perms))
    if acl is not None:
        w, r, a = acl
        body += _tlv(7, struct.pack("<IH", w, len(r)) + b"".join(struct.pack("<I", x) for x in r)
                     + struct.pack("<H", len(a)) + b"".join(struct.pack("<I", x) for x in a))
    if kver is not None:
        body += _tlv(8, struct.pack("<HH", *kver))
    if short_id is not None:
        body += _tlv(10, struct.pack("<I", short_id))
    for t, payload in extra:
        body += _tlv(t, payload)
    main_size = 24 if program else 16
    hsize = 16 + main_size + len(body) + header_pad
    end = hsize + trailer + len(binary)
    total = total if total is not None else end + (-end % 4)
    if program:
        main = _tlv(9, struct.pack("<5I", init, trailer, min_ram, end, version))
    else:
        main = _tlv(1, struct.pack("<3I", init, trailer, min_ram))
    header = bytearray(struct.pack("<HHIII", 2, hsize, total, flags, 0) + main + body + b"\0" * header_pad)
    c = 0
    for (w,) in struct.iter_unpack("<I", bytes(header)):
        c ^= w
    struct.pack_into("<I", header, 12, c ^ (0xDEAD if corrupt_checksum else 0))
    out = bytes(header) + b"\0" * trailer + binary
    return out + b"\0" * (total - len(out))


def tockloader_view(data: bytes):
    """What tockloader itself reads (quietly)."""
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [logging.NullHandler()]
    try:
        return tockloader_tbfh.TBFHeader(data)
    finally:
        root.handlers = saved


def spawn(data: bytes, tmp_path, board=None, name="p", **extra):
    board = board or build_board()
    f = tmp_path / f"{name}.tbf"
    f.write_bytes(data)
    kw = tbf.spawn_args(f, "tbf", board)
    kw.update(extra)
    return board, board.kernel.create_process(name, **kw)


# ------------------------------------------------------------------ tockshell and tockloader agree
def assert_same(info: tbf.TbfInfo, data: bytes) -> None:
    h = tockloader_view(data)
    assert h.is_valid()
    assert info.header_size == h.get_header_size()
    assert info.total_size == h.get_app_size()
    assert info.enabled == h.is_enabled() and info.sticky == h.is_sticky()
    assert (info.package_name or "") == h.get_app_name()
    assert info.app_version == h.get_app_version()
    assert info.protected_size == h.get_size_before_app()
    assert info.binary_end_offset == h.get_binary_end_offset()
    assert info.kernel_version == h.get_kernel_version()
    fixed = h.get_fixed_addresses()
    if fixed is None:
        assert info.fixed_ram is None and info.fixed_flash is None
    else:
        assert (info.fixed_ram if info.fixed_ram is not None else 0xFFFFFFFF) == fixed[0]
        assert (info.fixed_flash if info.fixed_flash is not None else 0xFFFFFFFF) == fixed[1]
    objs = {t.get_tlvid(): t for t in h.tlvs}
    main = objs.get(9) or objs.get(1)
    assert info.minimum_ram_size == main.minimum_ram_size and info.init_fn_offset == main.init_fn_offset
    if 6 in objs and objs[6].valid:
        assert info.allowed_commands() == {d: sorted(set(c)) for d, c in objs[6].get_allowed_commands().items()}
    else:
        assert info.permissions in (None, ())
    if 2 in objs:
        assert list(info.writeable_flash_regions) == [tuple(r) for r in objs[2].writeable_flash_regions]
    if 7 in objs:
        a = objs[7]
        assert info.persistent_acl == tbf.PersistentAcl(a.write_id, tuple(a.read_ids), tuple(a.access_ids))
    if 10 in objs:
        assert info.short_id == objs[10].short_id


def test_the_documented_example_reads_the_same():
    data = make("blink", perms=[(0, 0, 0b111), (2, 0, 0b1), (2, 1, 1 << 3)], acl=(1, [2, 3], [3, 4]),
                kver=(2, 1), short_id=0x1234, regions=[(0x80, 0x40)], fixed=(0x20004000, 0x40080))
    info = tbf.load_tbf(data)
    assert_same(info, data)
    assert info.package_name == "blink" and info.kernel_version == (2, 1)
    assert info.allowed_commands() == {0: [0, 1, 2], 2: [0, 67]}
    assert info.fixed_ram == 0x20004000 and info.fixed_flash == 0x40080
    assert info.warnings == ()


def test_main_tlv_instead_of_program():
    data = make("old", program=False)
    info = tbf.load_tbf(data)
    assert_same(info, data)
    assert info.main_tlv == "Main" and info.binary_end_offset == info.total_size


names = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20)
perm = st.tuples(st.sampled_from([0, 1, 2, 3, 0x40001, 0x30001]), st.integers(0, 3), st.integers(0, 2**64 - 1))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(package=st.none() | names, init=st.integers(0, 0x400), trailer=st.sampled_from([0, 4, 0x40, 0x100]),
       min_ram=st.integers(0, 1 << 16), program=st.booleans(), version=st.integers(0, 2**32 - 1),
       flags=st.sampled_from([1, 3]), perms=st.none() | st.lists(perm, min_size=1, max_size=4),
       acl=st.none() | st.tuples(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 2**32 - 1), max_size=3),
                                 st.lists(st.integers(0, 2**32 - 1), max_size=3)),
       kver=st.none() | st.tuples(st.just(2), st.integers(0, 3)),
       short_id=st.none() | st.integers(0, 2**32 - 1),
       regions=st.lists(st.tuples(st.integers(0, 0x1000), st.integers(0, 0x1000)), max_size=3),
       fixed=st.none() | st.tuples(st.sampled_from([0xFFFFFFFF, 0x20008000]),
                                   st.sampled_from([0xFFFFFFFF, 0x80000])),
       binary=st.binary(max_size=64))
def test_random_headers_read_the_same(package, init, trailer, min_ram, program, version, flags, perms, acl,
                                      kver, short_id, regions, fixed, binary):
    data = make(package, init=init, trailer=trailer, min_ram=min_ram, program=program, version=version,
                flags=flags, perms=perms, acl=acl, kver=kver, short_id=short_id, regions=regions, fixed=fixed,
                binary=binary)
    info = tbf.load_tbf(data)
    assert_same(info, data)
    assert info.checksum_ok
    tbf.check_loadable(info)  # everything generated here is loadable on 2.3


# ------------------------------------------------------------------ verdicts
def test_disabled_app_is_refused_as_tock_does():
    data = make("sleepy", flags=0)
    assert not tockloader_view(data).is_enabled()
    info = tbf.load_tbf(data, name="sleepy.tbf")
    with pytest.raises(tbf.TbfError, match=r"sleepy.tbf: Process marked not enabled .*'sleepy'"):
        tbf.check_loadable(info)


def test_bad_checksum_gives_tockloaders_numbers_and_is_refused(caplog):
    data = make("bad", corrupt_checksum=True)
    info = tbf.load_tbf(data, name="bad.tbf")
    stored, calc = struct.unpack_from("<I", data, 12)[0], info.checksum_calculated
    assert not info.checksum_ok and stored != calc
    # tockloader's own verdict, logged while it reads the header:
    assert f"Checksum mismatch. in packet: {stored:#x}, calculated: {calc:#x}" in info.warnings
    with pytest.raises(tbf.TbfError) as e:
        tbf.check_loadable(info)
    assert f"in packet: {stored:#x}, calculated: {calc:#x}" in str(e.value)
    assert "Checksum verification failed" in str(e.value)


def test_unknown_tlv_is_skipped_with_tockloaders_warning():
    data = make("future", extra=[(0x8042, b"private!"), (11, b"\x01\x02\x03")])
    h = tockloader_view(data)
    assert [t.get_tlvid() for t in h.tlvs if isinstance(t, tockloader_tbfh.TBFTLVUnknown)] == [0x8042, 11]
    info = tbf.load_tbf(data)
    assert info.unknown_tlvs == (0x8042, 11)
    assert "Unknown TLV block in TBF header." in info.warnings
    tbf.check_loadable(info)  # Tock skips TLVs it does not know
    assert any("unknown TLVs (skipped by Tock): 32834, 11" in line for line in tbf.describe(info))


def test_tockloader_logging_does_not_reach_the_terminal(capsys):
    tbf.load_tbf(make("future", extra=[(0x8042, b"x")]))
    tbf.load_tbf(make("bad", corrupt_checksum=True))
    out, err = capsys.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("cut", [1, 10, 15, 20, 40])
def test_truncated_header_is_invalid_for_both(cut):
    data = make("cut")[:cut]
    if cut >= 2:
        assert not tockloader_view(data).is_valid()
    with pytest.raises(tbf.TbfError, match=r"too short|truncated"):
        tbf.load_tbf(data, name="cut.tbf")


def test_truncated_after_the_header_loads_padded_like_tockloader(tmp_path):
    full = make("short", binary=bytes(range(200)))
    data = full[:-50]
    assert tockloader_view(data).is_valid()
    b, p = spawn(data, tmp_path)
    assert p.flash_end - p.flash_start == len(full)
    assert bytes(p.flash[:len(data)]) == data and bytes(p.flash[len(data):]) == bytes(50)


def test_longer_than_total_size_is_refused_like_tockloader():
    data = make("long") + b"\0" * 8
    with pytest.raises(tbf.TbfError, match=r"app binary length \(\d+ bytes\) is longer than its defined "
                                           r"total_size \(\d+ bytes\)"):
        tbf.load_tbf(data)


def test_empty_package_name_tockloader_cannot_read():
    with pytest.raises(tbf.TbfError, match="Package Name TLV is empty, which tockloader cannot read"):
        tbf.load_tbf(make(""))


def test_not_a_tbf():
    with pytest.raises(tbf.TbfError, match="not a TBF version 2 header"):
        tbf.load_tbf(b"\x7fELF" + bytes(60), name="a.elf")
    with pytest.raises(tbf.TbfError, match="no such file"):
        tbf.load_tbf("/nonexistent/x.tbf")


def test_wrong_length_fixed_tlv_is_refused():
    # A Kernel Version TLV with 6 data bytes: tockloader drops it, Tock says BadTlvEntry.
    data = bytearray(make("k", kver=None, extra=[(8, b"\x02\x00\x00\x00\x00\x00")]))
    with pytest.raises(tbf.TbfError, match="Kernel Version TLV has length 6.*TLV entry type 8 is invalid"):
        tbf.load_tbf(bytes(data))


def test_padding_object_is_not_an_app():
    hdr = bytearray(struct.pack("<HHIII", 2, 16, 64, 0, 0))
    c = 0
    for (w,) in struct.iter_unpack("<I", bytes(hdr)):
        c ^= w
    struct.pack_into("<I", hdr, 12, c)
    info = tbf.load_tbf(bytes(hdr) + bytes(48))
    with pytest.raises(tbf.TbfError, match="just padding"):
        tbf.check_loadable(info)


@pytest.mark.parametrize("kver, ok", [((2, 0), True), ((2, 3), True), ((2, 4), False), ((3, 0), False),
                                      ((1, 0), False), (None, True)])
def test_kernel_version_check(kver, ok):
    info = tbf.load_tbf(make("v", kver=kver))
    if ok:
        tbf.check_loadable(info)
    else:
        with pytest.raises(tbf.TbfError, match=rf"Process is incompatible with the kernel. Running: 2.3, "
                                               rf"Requested: {kver[0]}.{kver[1]} \(IncompatibleKernelVersion"):
            tbf.check_loadable(info)


def test_missing_tockloader_gives_one_clear_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "tockloader", None)
    monkeypatch.setitem(sys.modules, "tockloader.tbfh", None)
    monkeypatch.setitem(sys.modules, "tockloader.tab", None)
    with pytest.raises(tbf.TbfError) as e:
        tbf.load_tbf(make("x"))
    assert str(e.value) == "TBF files need tockloader: pip install 'tockshell[tbf]'"
    with pytest.raises(tbf.TbfError, match=r"pip install 'tockshell\[tbf\]'"):
        tbf.spawn_args("whatever.tab", "tab", build_board())


# ------------------------------------------------------------------ what the process gets
def with_total_size(data: bytes, total: int) -> bytes:
    """The same TBF with another total_size field (and the checksum fixed up), bytes unchanged."""
    hdr = bytearray(data[:struct.unpack_from("<H", data, 2)[0]])
    struct.pack_into("<I", hdr, 4, total)
    struct.pack_into("<I", hdr, 12, 0)
    c = 0
    for (w,) in struct.iter_unpack("<I", bytes(hdr)):
        c ^= w
    struct.pack_into("<I", hdr, 12, c)
    return bytes(hdr) + data[len(hdr):]


@pytest.mark.parametrize("kw, word", [({"min_ram": 0xFFFF_FFF0}, "NotEnoughMemory"),
                                      ({}, "NotEnoughFlash")])
def test_absurd_sizes_are_refused_before_allocating(tmp_path, kw, word):
    data = make("huge", **kw)
    if not kw:
        data = with_total_size(data, 0xFFFF_0000)  # a short file whose header claims 4 GB: tockloader accepts it
        assert tockloader_view(data).is_valid()
    f = tmp_path / "huge.tbf"
    f.write_bytes(data)
    with pytest.raises(tbf.TbfError, match=word):
        tbf.spawn_args(f, "tbf", build_board())


def test_spawned_process_gets_the_headers_numbers(tmp_path):
    data = make("sensor", init=0x59, trailer=0x20, min_ram=6000, regions=[(0x100, 0x80)], binary=bytes(0x200))
    b, p = spawn(data, tmp_path)
    k = b.kernel
    info = p.tbf
    assert p.package == "sensor" and p.flash_len == info.total_size == len(data)
    assert bytes(p.flash) == data
    assert p.header_len == info.header_size + 0x20 == p.flash_non_protected_start - p.flash_start
    assert p.min_app_ram == 6000
    # Tock: RAM block = minimum RAM (+ the grant room this model adds) + the kernel's structures.
    assert p.memory_len == (6000 + 2048 + k.initial_kernel_memory_size + 7) // 8 * 8
    assert p.writeable_flash_regions == ((0x100, 0x80),)
    assert k.syscall(p, C.MEMOP, 7, 0, 0, 0).value == 1
    assert k.syscall(p, C.MEMOP, 8, 0, 0, 0).value == p.flash_start + 0x100
    assert k.syscall(p, C.MEMOP, 9, 0, 0, 0).value == p.flash_start + 0x180
    assert k.syscall(p, C.MEMOP, 8, 1, 0, 0).error == ErrorCode.FAIL


def test_entry_point_and_start_arguments_follow_tock(tmp_path):
    data = make("entry", init=0x41, trailer=0x40)
    b = build_board()
    f = tmp_path / "e.tbf"
    f.write_bytes(data)
    p = b.kernel.create_process("e", booted=False, **tbf.spawn_args(f, "tbf", b))
    start = p.tasks[0]
    hsize = p.tbf.header_size
    # init = flash start + header size + the TLV's init_fn_offset; r0 = app start = after the protected region.
    assert start.pc == p.flash_start + hsize + 0x41
    assert start.args[0] == p.flash_start + hsize + 0x40


def test_upcall_pointer_into_the_protected_region_is_inval(tmp_path):
    b, p = spawn(make("prot", trailer=0x40, perms=None), tmp_path)
    k = b.kernel
    inside = p.flash_start + p.tbf.header_size + 8  # in the protected trailer
    r = k.syscall(p, C.SUBSCRIBE, 0, 0, inside, 0)
    assert r.error == ErrorCode.INVAL
    r = k.syscall(p, C.SUBSCRIBE, 0, 0, p.flash_non_protected_start, 0)
    assert r.is_success


def test_fixed_addresses_place_the_process(tmp_path):
    data = make("fixed", fixed=(0x20010000, 0x00050000 + 0x100))
    info = tbf.load_tbf(data)
    data = make("fixed", fixed=(0x20010000, 0x00050000 + info.protected_size))
    b, p = spawn(data, tmp_path)
    assert p.memory_start == 0x20010000
    assert p.flash_start == 0x00050000 and p.flash_non_protected_start == 0x00050000 + p.tbf.protected_size


def test_fixed_address_only_one_side(tmp_path):
    b, p = spawn(make("half", fixed=(0xFFFFFFFF, 0xFFFFFFFF)), tmp_path)
    assert p.memory_start == 0x20000000 and p.flash_start == 0x40000
    assert not any("fixed addresses" in line for line in tbf.describe(p.tbf))


def test_package_name_is_process_package_and_feeds_the_registry(tmp_path):
    b, p = spawn(make("com.example.svc"), tmp_path, name="svc")
    assert p.name == "svc" and p.package == "com.example.svc"
    b2, q = spawn(make(None), tmp_path, name="anon")
    assert q.package == ""  # Tock: no Package Name TLV, empty name
    pkg = b.driver("registry_pkg")
    if pkg is not None:  # the upstream package-name registry registers Process.package
        k = b.kernel
        assert k.syscall(p, C.COMMAND, pkg.driver_num, 1, 0, 0).is_success
        assert b2.driver("registry_pkg") is not None
        assert b2.kernel.syscall(q, C.COMMAND, pkg.driver_num, 1, 0, 0).error == ErrorCode.NOMEM


def test_short_id_from_tlv_else_the_boards_rule(tmp_path):
    b, p = spawn(make("a", short_id=0xABCD), tmp_path, name="a")
    assert p.short_id.value == 0xABCD
    b, q = spawn(make("b"), tmp_path, name="b")
    assert q.short_id.value is None  # default rule: LocallyUnique
    b = build_board()
    b.short_id_rule = "names"
    b, r = spawn(make("c"), tmp_path, board=b, name="c")
    assert r.short_id.value == tbf.crc32_posix(b"c")
    b, s = spawn(make("d", short_id=0), tmp_path, name="d")  # a zero TLV is no ShortId
    assert s.short_id.value is None


def test_crc32_posix_is_toks_helper():
    assert tbf.crc32_posix(b"123456789") == 0x765E7680  # CRC-32/POSIX check value
    assert tbf.crc32_posix(b"") == 0xFFFFFFFF


def test_short_id_and_tbf_survive_restart(tmp_path):
    b, p = spawn(make("keep", short_id=0x77, perms=[(1, 0, 1)]), tmp_path, board=build_board(fault_policy="stop"))
    k = b.kernel
    k.fault(p, "test")
    k.try_restart(p)
    assert p.restart_count == 1
    assert p.short_id.value == 0x77 and p.tbf is not None and p.package == "keep"
    assert k.lookup(p.pid) is p


# ------------------------------------------------------------------ the Permissions TLV as the syscall filter
def test_filter_follows_tbf_header_filter_default_allow(tmp_path):
    # console: commands 0-1; LED: only at offset 1 (commands 64..127), bit 2 = command 66.
    data = make("perm", perms=[(1, 0, 0b11), (2, 1, 0b100)])
    b, p = spawn(data, tmp_path)
    k = b.kernel

    def filtered() -> int:
        return sum(1 for r in k.log if r.kind == "filtered")

    assert k.syscall(p, C.COMMAND, 1, 0, 0, 0).is_success
    r = k.syscall(p, C.COMMAND, 1, 2, 0, 0)
    assert r.error == ErrorCode.NODEVICE and r.values == ()  # plain Failure, as kernel.rs writes it
    assert filtered() == 1
    # Subscribe/Allow: allowed for any listed driver, even one listed at another offset only.
    assert k.syscall(p, C.SUBSCRIBE, 1, 0, 0, 0).is_success
    k.syscall(p, C.SUBSCRIBE, 2, 0, 0, 0)
    k.syscall(p, C.ALLOW_RO, 2, 0, 0, 0)
    assert filtered() == 1
    # Command 0 of the LED: the driver is listed, but not at offset 0 -> mask 0 -> NODEVICE.
    assert k.syscall(p, C.COMMAND, 2, 0, 0, 0).error == ErrorCode.NODEVICE
    assert filtered() == 2
    k.syscall(p, C.COMMAND, 2, 66, 0, 0)  # bit 2 at offset 1: reaches the LED driver
    k.syscall(p, C.COMMAND, 2, 65, 0, 0)  # bit 1 at offset 1: filtered
    assert filtered() == 3
    # Unlisted driver: every filtered class is NODEVICE.
    for cls in (C.SUBSCRIBE, C.COMMAND, C.ALLOW_RW, C.ALLOW_RO, C.ALLOW_UR):
        assert k.syscall(p, cls, 0, 0, 0, 0).error == ErrorCode.NODEVICE, cls
    assert filtered() == 8
    # Memop is never filtered.
    assert k.syscall(p, C.MEMOP, 2, 0, 0, 0).is_success
    assert filtered() == 8
    assert all(r.pid == p.pid.identifier or r.pid == p.pid for r in k.log if r.kind == "filtered")


def test_filter_mask_semantics_directly():
    info = tbf.load_tbf(make("m", perms=[(5, 0, 0b1010), (5, 0, 0b1), (7, 2, 1)]))
    f = tbf.TbfHeaderFilterDefaultAllow()

    class P:
        tbf = info

    assert f(P, C.COMMAND, 5, 1, ) is None and f(P, C.COMMAND, 5, 3) is None
    assert f(P, C.COMMAND, 5, 0) == ErrorCode.NODEVICE  # first entry for (5, 0) wins, as in tock-tbf
    assert f(P, C.COMMAND, 7, 128) is None and f(P, C.COMMAND, 7, 129) == ErrorCode.NODEVICE
    assert f(P, C.COMMAND, 7, 0) == ErrorCode.NODEVICE
    assert f(P, C.SUBSCRIBE, 7, 0) is None and f(P, C.ALLOW_RO, 7, 3) is None
    assert f(P, C.SUBSCRIBE, 6, 0) == ErrorCode.NODEVICE

    class NoTbf:
        tbf = None

    assert f(NoTbf, C.COMMAND, 6, 0) is None


def test_no_permissions_tlv_allows_everything_and_an_empty_list_denies_everything(tmp_path):
    b, p = spawn(make("open", perms=None), tmp_path, name="open")
    assert b.kernel.syscall(p, C.COMMAND, 0, 0, 0, 0).is_success
    data = make("closed", perms=[])
    info = tbf.load_tbf(data)
    assert info.permissions == ()
    assert not [t for t in tockloader_view(data).tlvs if t.get_tlvid() == 6][0].valid
    b, q = spawn(data, tmp_path, name="closed")
    assert b.kernel.syscall(q, C.COMMAND, 0, 0, 0, 0).error == ErrorCode.NODEVICE
    assert any("every driver denied" in line for line in tbf.describe(info))


def test_filter_is_installed_once_and_keeps_an_earlier_filter(tmp_path):
    b = build_board()
    seen = []

    def other(p, cls, d, n):
        seen.append((int(cls), d, n))
        return ErrorCode.BUSY if d == 3 else None

    b.kernel.syscall_filter = other
    b, p = spawn(make("x", perms=[(1, 0, 1), (3, 0, 1)]), tmp_path, board=b, name="x")
    b, q = spawn(make("y"), tmp_path, board=b, name="y")
    f = b.kernel.syscall_filter
    assert isinstance(f, tbf.TbfHeaderFilterDefaultAllow) and f.inner is other
    assert b.kernel.syscall(p, C.COMMAND, 3, 0, 0, 0).error == ErrorCode.BUSY
    assert b.kernel.syscall(q, C.COMMAND, 0, 0, 0, 0).is_success and seen


# ------------------------------------------------------------------ .tab bundles
def _tab(tmp_path, members: dict[str, bytes], name="bundle.tab") -> Path:
    path = tmp_path / name
    with tarfile.open(path, "w") as t:
        for n, data in members.items():
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return path


META = b'tab-version = 1\nname = "blink"\nonly-for-boards = ""\nbuild-date = 2024-01-01T00:00:00Z\n'


def test_tab_picks_the_architecture(tmp_path):
    m4 = make("blink", min_ram=4096)
    m0 = make("blink", min_ram=2048)
    path = _tab(tmp_path, {"metadata.toml": META, "cortex-m0.tbf": m0, "cortex-m4.tbf": m4,
                           "rv32imc.tbf": make("blink")})
    info = tbf.load_tab(path)
    assert info.arch == "cortex-m4" and info.minimum_ram_size == 4096 and info.tab_name == "blink"
    assert tbf.load_tab(path, "cortex-m0").minimum_ram_size == 2048
    with pytest.raises(tbf.TbfError, match="no TBF for architecture 'cortex-m33'.*cortex-m0, cortex-m4, rv32imc"):
        tbf.load_tab(path, "cortex-m33")
    b = build_board()
    kw = tbf.spawn_args(path, "tab", b, arch="cortex-m0")
    p = b.kernel.create_process("blink", **kw)
    assert p.package == "blink" and p.min_app_ram == 2048 and p.tbf.arch == "cortex-m0"
    assert any("[cortex-m0]" in line for line in tbf.describe(p.tbf))


def test_tab_with_other_architectures_needs_arch(tmp_path):
    path = _tab(tmp_path, {"metadata.toml": META, "rv32imc.tbf": make("a"), "rv32imac.tbf": make("a")})
    with pytest.raises(tbf.TbfError, match="the TAB has rv32imac, rv32imc; say which with arch=NAME"):
        tbf.load_tab(path)
    assert tbf.load_tab(path, "rv32imac").arch == "rv32imac"


def test_tab_fixed_address_variants_choose_one_that_fits(tmp_path):
    a = make("fx", fixed=(0x20000000, 0x40000 + 0x100))
    info = tbf.load_tbf(a)
    v1 = make("fx", fixed=(0x20000000, 0x40000 + info.protected_size))
    v2 = make("fx", fixed=(0x20020000, 0x60000 + info.protected_size))
    path = _tab(tmp_path, {"metadata.toml": META, "rv32imc.0x00040000.0x20000000.tbf": v1,
                           "rv32imc.0x00060000.0x20020000.tbf": v2})
    b = build_board()
    first = b.kernel.create_process("one", **tbf.spawn_args(path, "tab", b))
    assert first.flash_start == 0x40000
    second = b.kernel.create_process("two", **tbf.spawn_args(path, "tab", b))
    assert second.flash_start == 0x60000 and second.memory_start == 0x20020000


def test_tab_errors(tmp_path):
    with pytest.raises(tbf.TbfError, match="no such file"):
        tbf.load_tab(tmp_path / "missing.tab")  # never treated as a URL
    junk = tmp_path / "junk.tab"
    junk.write_bytes(b"not a tar file at all" * 30)
    with pytest.raises(tbf.TbfError, match="not a TAB"):
        tbf.load_tab(junk)
    bad = _tab(tmp_path, {"metadata.toml": META, "cortex-m4.tbf": make("x") + b"\0\0\0\0"}, name="long.tab")
    with pytest.raises(tbf.TbfError, match="longer than its defined total_size"):
        tbf.load_tab(bad)
    with pytest.raises(tbf.TbfError, match="arch= applies to tab= files only"):
        tbf.spawn_args(tmp_path / "x.tbf", "tbf", build_board(), arch="cortex-m4")


def test_tab_without_metadata_still_loads(tmp_path):
    path = _tab(tmp_path, {"cortex-m4.tbf": make("nometa")})
    assert tbf.load_tab(path).package_name == "nometa"


# ------------------------------------------------------------------ display and the shipped file
def test_describe_shows_the_tbf_facts():
    info = tbf.load_tbf(make("shown", perms=[(1, 0, 0b1011)], acl=(0, [], [5]), regions=[(0x40, 0x20)],
                             fixed=(0x20004000, 0xFFFFFFFF), kver=(2, 2)), name="shown.tbf")
    text = "\n".join(tbf.describe(info, driver_name=lambda n: {1: "console"}.get(n, f"{n:#x}")))
    for part in ("TBF: shown.tbf", "package: shown", "kernel version: ^2.2", "driver 0x1 (console): commands 0-1, 3",
                 "persistent ACL: write_id 0x0 (cannot write), read ids none, modify ids 0x5",
                 "writeable flash regions: [0x40, +0x20)", "fixed addresses: RAM 0x20004000, flash (binary) any"):
        assert part in text, part


def test_make_tbf_script_is_deterministic_and_matches_the_committed_file(tmp_path):
    script = REPO / "scripts" / "make_tbf.py"
    r = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0
    shipped = REPO / "scenarios" / "data" / "perm_demo.tbf"
    assert (tmp_path / "perm_demo.tbf").read_bytes() == shipped.read_bytes()
    info = tbf.load_tbf(shipped)
    assert_same(info, shipped.read_bytes())
    tbf.check_loadable(info)
    assert info.package_name == "perm_demo" and info.short_id == 0xC0FFEE


def test_a_binary_end_past_the_total_size_is_not_enough_flash():
    data = make("long", binary=b"\x00" * 64)
    short = len(data) - 16  # the Program TLV still says the binary ends at len(data)
    info = tbf.load_tbf(make("long", binary=b"\x00" * 64, total=short)[:short])
    assert info.binary_end_offset > info.total_size
    with pytest.raises(tbf.TbfError, match="Not enough flash available for TBF"):
        tbf.check_loadable(info)
    tbf.check_loadable(tbf.load_tbf(data))  # the same app with a consistent size loads
