"""The TBF loader proper (see :mod:`tockshell.tbf`): kept out of the package's ``__init__`` so
that the language plugin, imported at every start-up, does not pay for attrs classes and
tockloader glue a session without TBFs never uses."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any, Iterable

import attrs

from .. import TOCK_KERNEL_VERSION
from ..abi import ErrorCode, SyscallClass
from . import CREDENTIAL_POLICIES, SHORT_ID_RULES

__all__ = [
    "TbfError", "TbfInfo", "Permission", "PersistentAcl", "MISSING_TOCKLOADER", "load_tbf", "load_tab",
    "check_loadable", "spawn_args", "describe", "TbfHeaderFilterDefaultAllow", "install_filter",
    "short_id_for", "crc32_posix", "SHORT_ID_RULES", "DEFAULT_ARCHES", "CREDENTIAL_POLICIES", "check_credentials_of",
]

#: The one message every entry point gives when the optional dependency is absent.
MISSING_TOCKLOADER = "TBF files need tockloader: pip install 'tockshell[tbf]'"

#: A fixed-address field with this value means "no fixed address" (TockBinaryFormat.md, Fixed Addresses).
NO_FIXED_ADDRESS = 0xFFFF_FFFF

#: TLV type numbers (TockBinaryFormat.md; 10 = ShortId, newer than the document's table).
TLV_NAMES = {
    1: "Main", 2: "Writeable Flash Regions", 3: "Package Name", 4: "PIC Option 1", 5: "Fixed Addresses",
    6: "Permissions", 7: "Persistent ACL", 8: "Kernel Version", 9: "Program", 10: "ShortId",
}

#: Architectures tried, in order, when a .tab holds several and ``arch=`` is not given.
#: The modelled boards are Cortex-M flavoured (32-byte initial stack frame, thumb entry points).
DEFAULT_ARCHES = ("cortex-m4", "cortex-m3", "cortex-m0", "cortex-m7", "cortex-m33", "cortex-m0p")

#: Largest app RAM and app flash the modelled boards offer one process (real Tock chips have far
#: less in total); beyond it Tock's loader says NotEnoughMemory / NotEnoughFlash, and the model
#: must not allocate gigabytes because a header says so.
MAX_APP_RAM = 1 << 20
MAX_APP_FLASH = 1 << 20



class TbfError(ValueError):
    """A TBF/TAB file cannot be used; the message is user-facing (one line, names the file)."""


@attrs.frozen
class Permission:
    """One ``TbfHeaderDriverPermission``: commands ``offset*64 .. offset*64+63`` of a driver, as a bit mask."""

    driver_num: int
    offset: int
    allowed: int

    def commands(self) -> list[int]:
        return [self.offset * 64 + i for i in range(64) if self.allowed >> i & 1]


@attrs.frozen
class PersistentAcl:
    """The Persistent ACL TLV: what the app may do to persistent storage (Tock's storage permissions)."""

    write_id: int
    read_ids: tuple[int, ...]
    access_ids: tuple[int, ...]


@attrs.frozen
class TbfInfo:
    """What one TBF header says, as tockloader parsed it, plus the binary it heads.

    Offsets follow Tock's ``TbfHeader`` accessors: ``protected_size`` is the
    header plus the protected trailer (the process cannot write it, and upcall
    pointers / RO allows may not point into it), ``init_offset`` is counted
    from the start of the TBF (Tock adds the header size to the TLV's
    ``init_fn_offset``) and the app starts right after the protected region.
    """

    source: str                       #: the file (or "<bytes>"), for messages
    data: bytes = attrs.field(repr=False)   #: the whole TBF object as read
    version: int
    header_size: int
    total_size: int
    flags: int
    checksum: int
    checksum_calculated: int
    package_name: str | None          #: None when there is no Package Name TLV
    main_tlv: str | None              #: "Program" or "Main": which TLV gave the numbers
    init_fn_offset: int               #: as stored in the TLV (relative to the end of the header)
    protected_trailer: int            #: the TLV's protected_size (bytes after the header)
    minimum_ram_size: int
    binary_end_offset: int
    app_version: int
    writeable_flash_regions: tuple[tuple[int, int], ...]
    fixed_ram: int | None
    fixed_flash: int | None           #: address of the app binary (not the header), as Tock means it
    permissions: tuple[Permission, ...] | None   #: None when there is no Permissions TLV
    persistent_acl: PersistentAcl | None
    kernel_version: tuple[int, int] | None
    short_id: int | None              #: the ShortId TLV (None if absent)
    unknown_tlvs: tuple[int, ...]
    credentials: tuple[str, ...]      #: footer credentials, "SHA256 (verified: yes)" ...
    warnings: tuple[str, ...]         #: what tockloader logged while reading it, in its words
    arch: str | None = None           #: for a TBF from a .tab
    tab_name: str | None = None
    #: what the board's credentials policy decided (a ``credentials.CredentialCheck``), set by
    #: :func:`spawn_args` when ``config credentials`` is not ``none``
    credential_check: Any = None

    # -- Tock's derived numbers ------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return bool(self.flags & 1)

    @property
    def sticky(self) -> bool:
        return bool(self.flags & 2)

    @property
    def checksum_ok(self) -> bool:
        return self.checksum == self.checksum_calculated

    @property
    def is_app(self) -> bool:
        """False for a padding object (a base header and nothing else)."""
        return self.header_size > 16

    @property
    def protected_size(self) -> int:
        return self.header_size + self.protected_trailer

    @property
    def init_offset(self) -> int:
        return self.header_size + self.init_fn_offset

    @property
    def app_start_offset(self) -> int:
        return self.protected_size

    @property
    def flash_address(self) -> int | None:
        """Where the TBF (header) itself must start so that the binary lands on the fixed flash address."""
        return None if self.fixed_flash is None else self.fixed_flash - self.protected_size

    # -- the Permissions TLV, as tock-tbf's get_command_permissions reads it ------------
    def command_mask(self, driver_num: int, offset: int) -> int | None:
        """The allowed-command mask at ``offset``, 0 if the driver is listed at other offsets only,
        None if the driver is not listed at all (``NoPermsThisDriver``). Only for TBFs with permissions.

        The first entry for (driver, offset) wins: Tock's loop returns on the first match.
        """
        found = False
        for perm in self.permissions or ():
            if perm.driver_num == driver_num:
                found = True
                if perm.offset == offset:
                    return perm.allowed
        return 0 if found else None

    def allowed_commands(self) -> dict[int, list[int]]:
        """Driver number -> allowed command numbers (what ``tockloader inspect-tab`` lists)."""
        out: dict[int, list[int]] = {}
        for perm in self.permissions or ():
            cmds = perm.commands()
            if cmds:  # like tockloader, a driver with no command bits set is not listed here
                out.setdefault(perm.driver_num, []).extend(cmds)
        return {d: sorted(set(c)) for d, c in out.items()}


# ---------------------------------------------------------------------------------------- tockloader
def _tockloader():
    """Import tockloader's TBF modules, or raise the one clear message."""
    try:
        from tockloader import tab, tbfh  # noqa: PLC0415 (optional dependency)
    except ImportError:
        raise TbfError(MISSING_TOCKLOADER) from None
    return tbfh, tab


def _capture_handler():
    """A handler that collects what tockloader logs (it reports checksum and TLV problems through
    ``logging``). Made on first use: importing logging costs every start-up of tockshell otherwise."""
    import logging

    class _Capture(logging.Handler):
        def __init__(self):
            super().__init__(logging.WARNING)
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            try:
                self.messages.append(record.getMessage())
            except Exception:  # a malformed log call must not break loading
                self.messages.append(str(record.msg))

    return _Capture()


class _captured:
    """Route tockloader's log output into a list instead of the user's terminal, for one parse."""

    def __enter__(self):
        import logging

        self.root = logging.getLogger()
        self.handler = _capture_handler()
        # Without a handler of our own, logging's last-resort handler would print to stderr.
        self.saved_handlers = self.root.handlers[:]
        self.saved_level = self.root.level
        self.root.handlers = [self.handler]
        self.root.setLevel(logging.WARNING)
        return self.handler

    def __exit__(self, *exc) -> None:
        self.root.handlers = self.saved_handlers
        self.root.setLevel(self.saved_level)


# ---------------------------------------------------------------------------------------- loading
def load_tbf(source: str | os.PathLike | bytes, *, name: str | None = None) -> TbfInfo:
    """Read one TBF object (a ``.tbf`` file's path, or its bytes) through tockloader.

    Raises :class:`TbfError` for what tockloader rejects (no TBF header, a
    header cut short, a file longer than its ``total_size``) and for what Tock
    cannot even parse. What Tock would parse but refuse to *run* (disabled,
    kernel version, checksum) is left to :func:`check_loadable`.
    """
    tbfh_mod, _ = _tockloader()
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = name or "<bytes>"
    else:
        label = name or str(source)
        data = _read(source, label)
    return _parse(tbfh_mod, data, label)


def _read(path: str | os.PathLike, label: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise TbfError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise TbfError(f"{label}: is a directory, not a TBF file") from None
    except OSError as e:
        raise TbfError(f"{label}: cannot read it ({e.strerror or e})") from None


def _parse(tbfh_mod, data: bytes, label: str, *, arch: str | None = None, tab_name: str | None = None,
           tlv_hint: str = "") -> TbfInfo:
    if len(data) < 2:
        raise TbfError(f"{label}: {len(data)} bytes is too short for a TBF header (tockloader: INVALID)")
    version = struct.unpack_from("<H", data)[0]
    if version != 2:
        # Tock 2.x reads only version 2 (parse_tbf_header_lengths: anything else is the end of the apps).
        raise TbfError(f"{label}: not a TBF version 2 header (version field {version}); "
                       f"Tock 2.3 loads only TBF version 2")
    if len(data) < 16:
        raise TbfError(f"{label}: truncated: {len(data)} bytes, a TBF base header needs 16 "
                       f"(tockloader: INVALID)")
    with _captured() as log:
        try:
            hdr = tbfh_mod.TBFHeader(data)
        except UnicodeDecodeError:
            # tock-tbf: BadProcessName; tockloader fails while decoding the name.
            raise TbfError(f"{label}: the package name is not UTF-8 (Tock: Process name not UTF-8)") from None
        except IndexError as e:
            if _has_empty_name(data):
                # tockloader builds a Package Name TLV from its argument list when the name is empty.
                raise TbfError(f"{label}: the Package Name TLV is empty, which tockloader cannot read "
                               f"(give the app a name)") from None
            raise TbfError(f"{label}: tockloader cannot parse the header ({e})") from None
        except (struct.error, ValueError) as e:
            raise TbfError(f"{label}: tockloader cannot parse the header ({e})") from None
    header_size = hdr.fields["header_size"]
    total_size = hdr.fields["total_size"]
    if header_size < 16:
        raise TbfError(f"{label}: header_size {header_size} is below the 16-byte base header "
                       f"(tockloader: INVALID; Tock: InvalidHeader)")
    if header_size > total_size:
        raise TbfError(f"{label}: header_size {header_size} is larger than total_size {total_size} "
                       f"(Tock: InvalidHeader)")
    if len(data) < header_size:
        raise TbfError(f"{label}: truncated: the header says it is {header_size} bytes but the file has "
                       f"{len(data)} (tockloader: INVALID)")
    if len(data) > total_size:
        # tockloader's own check when it extracts a TBF from a TAB.
        raise TbfError(f"{label}: the app binary length ({len(data)} bytes) is longer than its defined "
                       f"total_size ({total_size} bytes)")
    header = data[:header_size]
    nbuf = bytearray(header)
    struct.pack_into("<I", nbuf, 12, 0)
    calculated = hdr._checksum(nbuf)
    warnings = list(log.messages)

    tlvs = list(hdr.tlvs) if hdr.is_app() else []
    _check_tlv_layout(tbfh_mod, hdr, header, label)
    main = _first(hdr, 9) or _first(hdr, 1)
    wfr = _first(hdr, 2)
    name_tlv = _first(hdr, 3)
    fixed = _first(hdr, 5)
    perms_tlv = _first(hdr, 6)
    acl = _first(hdr, 7)
    kver = _first(hdr, 8)
    sid = _first(hdr, 10)
    unknown = tuple(getattr(t, "tipe", -1) for t in tlvs if isinstance(t, tbfh_mod.TBFTLVUnknown))

    permissions = None
    if perms_tlv is not None:
        permissions = _permissions(perms_tlv, header, hdr, label, warnings)
    persistent = None
    if acl is not None:
        if not acl.valid:
            raise TbfError(f"{label}: the Persistent ACL TLV is malformed (tockloader cannot read it)")
        persistent = PersistentAcl(acl.write_id, tuple(acl.read_ids), tuple(acl.access_ids))

    binary_end = hdr.get_binary_end_offset()
    credentials = _credentials(tbfh_mod, hdr, data, binary_end, warnings)
    fixed_ram = fixed_flash = None
    if fixed is not None:
        fixed_ram = None if fixed.fixed_address_ram == NO_FIXED_ADDRESS else fixed.fixed_address_ram
        fixed_flash = None if fixed.fixed_address_flash == NO_FIXED_ADDRESS else fixed.fixed_address_flash
    return TbfInfo(
        source=label, data=data, version=version, header_size=header_size, total_size=total_size,
        flags=hdr.fields["flags"], checksum=hdr.fields["checksum"], checksum_calculated=calculated,
        package_name=name_tlv.package_name if name_tlv is not None else None,
        main_tlv=("Program" if main.TLVID == 9 else "Main") if main is not None else None,
        init_fn_offset=main.init_fn_offset if main is not None else 0,
        protected_trailer=main.protected_size if main is not None else 0,
        minimum_ram_size=main.minimum_ram_size if main is not None else 0,
        binary_end_offset=binary_end, app_version=hdr.get_app_version(),
        writeable_flash_regions=tuple(tuple(r) for r in wfr.writeable_flash_regions) if wfr is not None else (),
        fixed_ram=fixed_ram, fixed_flash=fixed_flash, permissions=permissions,
        persistent_acl=persistent, kernel_version=hdr.get_kernel_version(),
        short_id=sid.short_id if sid is not None else None, unknown_tlvs=unknown,
        credentials=credentials, warnings=tuple(warnings), arch=arch, tab_name=tab_name)


def _has_empty_name(data: bytes) -> bool:
    header = data[:struct.unpack_from("<H", data, 2)[0]]
    off = 16
    while off + 4 <= len(header):
        tipe, length = struct.unpack_from("<HH", header, off)
        if tipe == 3 and length == 0:
            return True
        off += 4 + (length + 3) // 4 * 4
    return False


def _first(hdr, tlvid: int):
    for t in hdr.tlvs:
        if t.get_tlvid() == tlvid:
            return t
    return None


def _check_tlv_layout(tbfh_mod, hdr, header: bytes, label: str) -> None:
    """Catch TLVs tockloader silently drops (a Main, Program, Fixed Addresses, Kernel Version or
    ShortId whose length is wrong, a region list that is not a multiple of 8): Tock refuses those
    headers with ``BadTlvEntry``. tockloader re-packs what it kept; if that does not add up to the
    header's TLV area, something was dropped, and we walk the type/length pairs to name it."""
    if not hdr.is_app():
        return
    kept = sum(t.get_size() for t in hdr.tlvs)
    if 16 + kept == len(header):
        return
    fixed_len = {1: 12, 9: 20, 5: 8, 8: 4, 10: 4}
    off = 16
    while off + 4 <= len(header):
        tipe, length = struct.unpack_from("<HH", header, off)
        if (tipe in fixed_len and length != fixed_len[tipe]) or (tipe == 2 and length % 8):
            raise TbfError(f"{label}: the {TLV_NAMES[tipe]} TLV has length {length}, which is wrong for its "
                           f"type (tockloader drops it; Tock: TLV entry type {tipe} is invalid)")
        off += 4 + (length + 3) // 4 * 4
    if off > len(header):
        raise TbfError(f"{label}: the last TLV runs past the end of the header (header_size "
                       f"{len(header)}; Tock: Buffer too short to parse TBF header)")


def _permissions(tlv, header: bytes, hdr, label: str, warnings: list[str]) -> tuple[Permission, ...]:
    if tlv.valid:
        return tuple(Permission(p["driver_number"], p["offset"], p["allowed_commands"]) for p in tlv.permissions)
    # tockloader calls a Permissions TLV with zero entries invalid; Tock reads it as "permissions
    # given, none for any driver", which denies every filtered syscall. Find the count ourselves.
    off = 16
    for t in hdr.tlvs:
        if t is tlv:
            break
        off += t.get_size()
    count = struct.unpack_from("<H", header, off + 4)[0] if off + 6 <= len(header) else None
    if count == 0:
        return ()
    raise TbfError(f"{label}: the Permissions TLV is malformed (it claims {count} entries; "
                   f"tockloader cannot read it)")


def _credentials(tbfh_mod, hdr, data: bytes, binary_end: int, warnings: list[str]) -> tuple[str, ...]:
    if not hdr.has_footer() or binary_end >= len(data):
        return ()
    with _captured() as log:
        try:
            footer = tbfh_mod.TBFFooter(hdr, data[hdr.get_size_before_app():binary_end], data[binary_end:])
        except Exception as e:  # noqa: BLE001 - a footer tockloader cannot read is only reported
            warnings.append(f"footer not readable by tockloader ({e})")
            return ()
    warnings.extend(log.messages)
    out = []
    for t in footer.tlvs:
        try:
            kind = t._credentials_type_to_str()
        except Exception:  # noqa: BLE001
            kind = f"type {getattr(t, 'credentials_type', '?')}"
        out.append(f"{kind} (verified: {getattr(t, 'verified', 'unknown')})")
    return tuple(out)


def load_tab(path: str | os.PathLike, arch: str | None = None, *, kernel=None, name: str | None = None) -> TbfInfo:
    """Pick and read one TBF of a ``.tab`` bundle through tockloader's ``TAB``.

    ``arch`` defaults to the bundle's only architecture, else the first of
    :data:`DEFAULT_ARCHES` it has. An architecture may hold several TBFs
    compiled for fixed addresses; the first (by flash address) that does not
    collide with ``kernel``'s processes is taken.
    """
    import tarfile

    _, tab_mod = _tockloader()
    label = name or str(path)
    p = Path(path)
    if not p.exists():
        # tockloader would try to download a path that does not exist as a URL: never do that.
        raise TbfError(f"{label}: no such file")
    if p.is_dir():
        raise TbfError(f"{label}: is a directory, not a TAB file")
    with _captured() as log:
        try:
            tab = tab_mod.TAB(str(p))
        except (tarfile.TarError, EOFError):
            # tarfile's own message lists each compression it tried as Python reprs: say it once, plainly.
            raise TbfError(f"{label}: not a TAB: not a tar archive (plain, gzip, bzip2 or xz)") from None
        except OSError as e:
            raise TbfError(f"{label}: cannot read the TAB: {e.strerror or e}") from None
        arches = tab.get_supported_architectures()
        try:
            tab_name = tab.get_app_name() or None
        except (KeyError, ValueError, TypeError):
            tab_name = None  # no usable metadata.toml: the TBFs still say everything we need
    if not arches:
        raise TbfError(f"{label}: the TAB holds no .tbf file")
    if arch is None:
        if len(arches) == 1:
            arch = arches[0]
        else:
            arch = next((a for a in DEFAULT_ARCHES if a in arches), None)
            if arch is None:
                raise TbfError(f"{label}: the TAB has {', '.join(arches)}; say which with arch=NAME")
    names = [n for n in sorted(tab.tab.getnames()) if n.endswith(".tbf") and _arch_matches(n, arch)]
    if not names:
        raise TbfError(f"{label}: no TBF for architecture '{arch}' (the TAB has {', '.join(arches)})")
    tbfh_mod, _ = _tockloader()
    infos = []
    for n in names:
        try:
            data = tab.tab.extractfile(tab.tab.getmember(n)).read()
        except (KeyError, tarfile.TarError, AttributeError) as e:
            raise TbfError(f"{label}: cannot extract {n} ({e})") from None
        infos.append(_parse(tbfh_mod, data, f"{label}:{n}", arch=arch, tab_name=tab_name))
    info = _choose(infos, kernel)
    if log.messages:
        info = attrs.evolve(info, warnings=tuple(log.messages) + info.warnings)
    return info


def _arch_matches(filename: str, arch: str) -> bool:
    # tockloader's rule: "<arch>.<anything>.tbf", with its riscv aliases. Like tockloader, the
    # architecture is what comes before the first dot of the member's whole name (a member in a
    # folder names its architecture with the folder, as get_supported_architectures lists it).
    aliases = {"rv32imc": ("riscv32imc",), "rv32imac": ("riscv32imac",)}
    first = filename.split(".")[0]
    return first == arch or first in aliases.get(arch, ())


def _choose(infos: list[TbfInfo], kernel) -> TbfInfo:
    if len(infos) == 1:
        return infos[0]
    infos = sorted(infos, key=lambda i: (i.fixed_flash is not None, i.fixed_flash or 0, i.source))
    for info in infos:
        if kernel is None or not _collides(info, kernel):
            return info
    return infos[0]  # the kernel will say what it collides with


def _collides(info: TbfInfo, kernel) -> bool:
    fa, ra = info.flash_address, info.fixed_ram
    for p in getattr(kernel, "processes", ()):
        if p is None:
            continue
        if fa is not None and fa < p.flash_end and p.flash_start < fa + info.total_size:
            return True
        if ra is not None and ra < p.memory_end and p.memory_start < ra + max(info.minimum_ram_size, 32):
            return True
    return False


# ---------------------------------------------------------------------------------------- Tock's verdicts
def check_loadable(info: TbfInfo) -> None:
    """Raise :class:`TbfError` for what Tock 2.3's process loader refuses, in Tock's words.

    Order as in ``parse_tbf_header`` then ``ProcessBinary::create``: checksum,
    padding, missing Main/Program, not enabled, kernel version, binary end past the total size.
    """
    if not info.checksum_ok:
        raise TbfError(f"{info.source}: Checksum mismatch. in packet: {info.checksum:#x}, calculated: "
                       f"{info.checksum_calculated:#x} (tockloader's words; Tock refuses it: "
                       f"Checksum verification failed: app:{info.checksum:#x}, calc:{info.checksum_calculated:#x})")
    if not info.is_app:
        raise TbfError(f"{info.source}: Process item is just padding (a base header with no TLVs), not an app")
    if info.main_tlv is None:
        raise TbfError(f"{info.source}: no Main or Program TLV, so there is no entry point: not an app")
    if not info.enabled:
        raise TbfError(f"{info.source}: Process marked not enabled (app '{info.package_name or ''}': TBF flags "
                       f"bit 0 is clear; tockloader shows enabled: No)")
    if info.kernel_version is not None:
        major, minor = info.kernel_version
        kmaj, kmin = TOCK_KERNEL_VERSION
        if major != kmaj or minor > kmin:
            raise TbfError(f"{info.source}: Process is incompatible with the kernel. Running: {kmaj}.{kmin}, "
                           f"Requested: {major}.{minor} (IncompatibleKernelVersion: the app needs "
                           f"^{major}.{minor})")
    if info.binary_end_offset > info.total_size:
        # ProcessBinary::create takes the footers as flash[binary_end..total_size]: no such slice.
        raise TbfError(f"{info.source}: Not enough flash available for TBF (NotEnoughFlash: the Program TLV's "
                       f"binary end offset {info.binary_end_offset:#x} is past the TBF's total size "
                       f"{info.total_size:#x})")
    if info.fixed_flash is not None and info.fixed_flash < info.protected_size:
        raise TbfError(f"{info.source}: fixed flash address {info.fixed_flash:#x} leaves no room for the "
                       f"{info.protected_size}-byte protected region before it")


# ---------------------------------------------------------------------------------------- credentials
def check_credentials_of(info: TbfInfo, setting: str):
    """Run the board's credentials policy (``config credentials``) on ``info`` as Tock's
    ``ProcessCheckerMachine`` does; return the ``CredentialCheck`` (None for ``none``), or raise
    :class:`TbfError` with Tock's words when the binary is refused.

    Runs after :func:`check_loadable` (``ProcessBinary::create``) and before memory is
    allocated (``load_process``), as the sequential process loader orders them.
    """
    from . import credentials

    if setting not in credentials.POLICIES:
        raise TbfError(f"credentials is {', '.join(CREDENTIAL_POLICIES[:-1])} or {CREDENTIAL_POLICIES[-1]}, "
                       f"not {setting}")
    # The checker sees the object as flashed: a file shorter than total_size reads as zeros.
    flash = info.data + bytes(max(0, info.total_size - len(info.data)))
    check = credentials.check_credentials(flash, info.binary_end_offset, info.total_size, setting)
    if check is not None and not check.ok:
        raise TbfError(check.refusal(info.source))
    return check


# ---------------------------------------------------------------------------------------- ShortId
def crc32_posix(data: bytes) -> int:
    """Tock's ``kernel::utilities::helpers::crc32_posix`` (CRC-32/POSIX without the length suffix)."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x8000_0000 else (crc << 1)
            crc &= 0xFFFF_FFFF
    return crc ^ 0xFFFF_FFFF


def short_id_for(board, info: TbfInfo) -> int | None:
    """The ShortId the process gets: the TBF's ShortId TLV if it has a non-zero one, else the board's rule.

    ``board.short_id_rule`` (default ``unique``) is one of :data:`SHORT_ID_RULES`.
    None means LocallyUnique.
    """
    if info.short_id:
        return info.short_id
    rule = getattr(board, "short_id_rule", "unique") if board is not None else "unique"
    if rule == "names":
        return crc32_posix((info.package_name or "").encode()) or None
    return None


# ---------------------------------------------------------------------------------------- syscall filter
class TbfHeaderFilterDefaultAllow:
    """The board's syscall filter from the TBF Permissions TLV (capsules/system's filter of that name).

    No Permissions TLV (or a process not loaded from a TBF): everything is
    allowed. Otherwise a driver that is not listed gets ``NODEVICE`` for
    Subscribe, Command and all three Allows; a listed driver allows every
    Subscribe and Allow, and a Command only if its bit is set in the mask at
    offset ``command / 64``. Yield, Memop and Exit are never filtered (the
    kernel does not ask). An earlier board filter, if any, is consulted after
    this one.
    """

    def __init__(self, inner=None):
        self.inner = inner

    def __call__(self, process, cls, driver_num: int, num: int) -> ErrorCode | None:
        info = getattr(process, "tbf", None)
        perms = getattr(info, "permissions", None)
        if perms is not None:
            if int(cls) == SyscallClass.COMMAND:
                mask = info.command_mask(driver_num, num // 64)
                if mask is None or not mask >> (num % 64) & 1:
                    return ErrorCode.NODEVICE
            elif info.command_mask(driver_num, 0) is None:
                return ErrorCode.NODEVICE
        if self.inner is not None:
            return self.inner(process, cls, driver_num, num)
        return None


def install_filter(kernel) -> TbfHeaderFilterDefaultAllow:
    """Make :class:`TbfHeaderFilterDefaultAllow` the kernel's syscall filter (once), keeping any other."""
    current = kernel.syscall_filter
    if isinstance(current, TbfHeaderFilterDefaultAllow):
        return current
    f = TbfHeaderFilterDefaultAllow(inner=current)
    kernel.syscall_filter = f
    return f


# ---------------------------------------------------------------------------------------- spawn
def spawn_args(path: str | os.PathLike, kind: str, board, arch: str | None = None, *,
               label: str | None = None) -> dict[str, Any]:
    """Keyword arguments of ``Kernel.create_process`` for a process loaded from a ``.tbf`` / ``.tab``.

    ``kind`` is ``"tbf"`` or ``"tab"``. The result holds the package name,
    the minimum RAM (``ram``; the kernel adds its own structures as Tock
    does), the whole TBF as the process flash, the protected size, the entry
    point and app start, the ShortId, writeable flash regions, fixed
    addresses and ``tbf`` (the :class:`TbfInfo`, which the syscall filter and
    ``process`` read). Also installs the TBF syscall filter on the board's
    kernel. Raises :class:`TbfError` with a clear message for anything Tock
    or tockloader refuses. ``label`` names the file in messages and in
    ``process`` (the path as the user wrote it; default: ``path``).
    """
    kernel = getattr(board, "kernel", None)
    if kind == "tbf":
        if arch is not None:
            raise TbfError("arch= applies to tab= files only (a .tbf is already for one architecture)")
        info = load_tbf(path, name=label)
    elif kind == "tab":
        info = load_tab(path, arch, kernel=kernel, name=label)
    else:
        raise TbfError(f"unknown binary kind '{kind}' (tbf or tab)")
    check_loadable(info)
    check = check_credentials_of(info, getattr(board, "credentials", "none") if board is not None else "none")
    if check is not None:
        info = attrs.evolve(info, credential_check=check)
    if info.minimum_ram_size > MAX_APP_RAM:
        raise TbfError(f"{info.source}: minimum_ram_size {info.minimum_ram_size} is more than the board's "
                       f"{MAX_APP_RAM} bytes of app RAM (Tock: NotEnoughMemory)")
    if info.total_size > MAX_APP_FLASH:
        raise TbfError(f"{info.source}: total_size {info.total_size} is more than the board's "
                       f"{MAX_APP_FLASH} bytes of app flash (Tock: NotEnoughFlash)")
    flash = info.data + bytes(info.total_size - len(info.data))  # tockloader accepts a short file; flash is total_size
    kw: dict[str, Any] = {
        # Tock: a TBF without a Package Name TLV has an empty name (the package-name registry refuses it).
        "package": info.package_name if info.package_name is not None else "",
        "ram": info.minimum_ram_size,
        "flash": info.total_size,
        "flash_bytes": flash,
        "header_len": info.protected_size,
        "init_fn_offset": info.init_offset,
        "app_start_offset": info.app_start_offset,
        "short_id": short_id_for(board, info),
        "writeable_flash_regions": info.writeable_flash_regions,
        "tbf": info,
    }
    if info.fixed_ram is not None:
        kw["ram_address"] = info.fixed_ram
    if info.flash_address is not None:
        kw["flash_address"] = info.flash_address
    if kernel is not None:
        install_filter(kernel)
    return kw


# ---------------------------------------------------------------------------------------- display
def _hex_list(ids: Iterable[int]) -> str:
    ids = list(ids)
    return ", ".join(f"{i:#x}" for i in ids) if ids else "none"


def describe(info: TbfInfo, driver_name=None) -> list[str]:
    """Lines for ``process p``: what the TBF header gave the process.

    ``driver_name(num) -> str`` names drivers (the board's names); numbers are shown either way.
    """
    def dname(num: int) -> str:
        n = driver_name(num) if driver_name is not None else None
        return f"{num:#x} ({n})" if n and n != f"{num:#x}" else f"{num:#x}"

    src = info.source if info.arch is None else f"{info.source} [{info.arch}]"
    lines = [f"TBF: {src}"]
    lines.append(f"  package: {info.package_name!s}" if info.package_name is not None
                 else "  package: (no Package Name TLV)")
    lines.append(f"  version: {info.app_version}   TBF v{info.version}, header {info.header_size} B, "
                 f"protected {info.protected_size} B, total {info.total_size} B")
    lines.append(f"  flags: enabled {'yes' if info.enabled else 'no'}, sticky {'yes' if info.sticky else 'no'}")
    lines.append(f"  {info.main_tlv or 'no Main/Program'} TLV: init_fn_offset {info.init_fn_offset:#x}, "
                 f"minimum_ram_size {info.minimum_ram_size}")
    if info.kernel_version is not None:
        lines.append(f"  kernel version: ^{info.kernel_version[0]}.{info.kernel_version[1]}")
    if info.short_id is not None:
        lines.append(f"  ShortId TLV: {info.short_id:#x}")
    if info.permissions is None:
        lines.append("  permissions: none listed (every driver allowed)")
    else:
        allowed = info.allowed_commands()
        drivers = sorted({p.driver_num for p in info.permissions})
        if not drivers:
            lines.append("  permissions: empty list (every driver denied)")
        else:
            lines.append("  permissions (other drivers: NODEVICE):")
            for d in drivers:
                cmds = allowed.get(d, [])
                lines.append(f"    driver {dname(d)}: commands {_ranges(cmds) if cmds else 'none'}")
    if info.persistent_acl is not None:
        acl = info.persistent_acl
        lines.append(f"  persistent ACL: write_id {acl.write_id:#x}"
                     f"{' (cannot write)' if acl.write_id == 0 else ''}, read ids {_hex_list(acl.read_ids)}, "
                     f"modify ids {_hex_list(acl.access_ids)}")
    if info.writeable_flash_regions:
        regions = ", ".join(f"[{o:#x}, +{s:#x})" for o, s in info.writeable_flash_regions)
        lines.append(f"  writeable flash regions: {regions}")
    if info.fixed_ram is not None or info.fixed_flash is not None:
        ram = f"{info.fixed_ram:#010x}" if info.fixed_ram is not None else "any"
        fl = f"{info.fixed_flash:#010x}" if info.fixed_flash is not None else "any"
        lines.append(f"  fixed addresses: RAM {ram}, flash (binary) {fl}")
    if info.credentials:
        # With a checker the footers are listed twice: say whose verdict this line is.
        label = "credentials" if info.credential_check is None else "credentials (tockloader's verdict)"
        lines.append(f"  {label}: {', '.join(info.credentials)}")
    if info.credential_check is not None:
        lines.extend("  " + line for line in info.credential_check.lines())
    if info.unknown_tlvs:
        lines.append(f"  unknown TLVs (skipped by Tock): {', '.join(str(t) for t in info.unknown_tlvs)}")
    return lines


def _ranges(nums: list[int]) -> str:
    out, start, prev = [], None, None
    for n in nums:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = n
    if start is not None:
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ", ".join(out)
