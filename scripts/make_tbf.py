#!/usr/bin/env python3
"""Build small TBF files byte by byte, as tock/tock's doc/TockBinaryFormat.md lays them out.

Run it to (re)generate the TBF files the shipped scenarios use::

    python3 scripts/make_tbf.py            # writes scenarios/data/*.tbf (perm_demo, cred_demo, cred_tampered)
    python3 scripts/make_tbf.py --check    # exit 1 if a committed file differs

The output is deterministic (no timestamps, no randomness), so the committed
files can be checked against this script. :func:`build_tbf` is importable for
anyone who wants other variants (``python3 -c "import runpy; ..."`` or copy
the call).
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "scenarios" / "data"

# TLV types (TockBinaryFormat.md; 10 is the ShortId TLV, newer than the document's table).
MAIN, WFR, PACKAGE_NAME, FIXED_ADDRESSES, PERMISSIONS, PERSISTENT_ACL, KERNEL_VERSION, PROGRAM, SHORT_ID = (
    1, 2, 3, 5, 6, 7, 8, 9, 10)


#: Credentials Footer TLV type, and TbfFooterV2CredentialsType numbers with their fixed data lengths
#: (tock-tbf types.rs; TockBinaryFormat.md "128 Credentials Footer").
FOOTER_CREDENTIALS = 128
CREDENTIAL_FORMATS = {"reserved": (0, 0), "rsa3072": (1, 768), "rsa4096": (2, 1024), "sha256": (3, 32),
                      "sha384": (4, 48), "sha512": (5, 64), "ecdsa_p256": (6, 64)}
_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def credential_footer(fmt: int, data: bytes) -> bytes:
    """One Credentials Footer: type 128, length 4 + len(data), the 32-bit format, the data.

    Footers are not padded to 4 bytes (the next one starts right after ``length``)."""
    return struct.pack("<HHI", FOOTER_CREDENTIALS, 4 + len(data), fmt) + data


def _footer_size(item) -> int:
    if isinstance(item, (bytes, bytearray)):
        return len(item)
    name = item.removeprefix("wrong-")
    if name not in _HASHES:
        raise ValueError(f"unknown footer {item!r}: sha256, sha384, sha512 (or wrong-...), or raw bytes")
    return 8 + CREDENTIAL_FORMATS[name][1]


def _footer_bytes(item, integrity: bytes) -> bytes:
    if isinstance(item, (bytes, bytearray)):
        return bytes(item)
    name = item.removeprefix("wrong-")
    digest = bytearray(_HASHES[name](integrity).digest())
    if item.startswith("wrong-"):
        digest[0] ^= 0x01  # right format and length, one bit off: a corrupted hash
    return credential_footer(CREDENTIAL_FORMATS[name][0], bytes(digest))


def _trailing_pad(end: int, rule) -> int:
    # elf2tab: ARM pads the total to a power of two of at least 512 (an exact power of two is left
    # alone, even below 512); RISC-V to a multiple of 4.
    if rule is None:
        return 0
    if rule == "pow2":
        return 0 if end.bit_count() <= 1 else max(1 << end.bit_length(), 512) - end
    return -end % int(rule)


def tlv(tipe: int, payload: bytes) -> bytes:
    """One TLV element: 16-bit type, 16-bit length, the data, padded to 4 bytes."""
    out = struct.pack("<HH", tipe, len(payload)) + payload
    return out + bytes(-len(out) % 4)


def checksum(header: bytes) -> int:
    """XOR of every 4-byte little-endian word of the header, the checksum word (offset 12) taken as 0."""
    buf = bytearray(header)
    buf[12:16] = bytes(4)
    buf += bytes(-len(buf) % 4)
    c = 0
    for (word,) in struct.iter_unpack("<I", buf):
        c ^= word
    return c


def build_tbf(*, package: str | None, binary: bytes = b"", init_fn_offset: int = 0x41,
              protected_trailer: int = 0, minimum_ram_size: int = 4096, program: bool = True,
              app_version: int = 0, flags: int = 1, permissions=None, persistent_acl=None,
              kernel_version=(2, 0), short_id: int | None = None, writeable_flash_regions=(),
              fixed_addresses=None, extra_tlvs=(), total_size: int | None = None,
              bad_checksum: bool = False, footers=(), minimum_footer_size: int = 0,
              trailing_padding=None) -> bytes:
    """A TBF object: base header, TLVs, protected trailer, binary, zero padding to ``total_size``.

    ``permissions``: [(driver_number, offset, allowed_commands_mask)];
    ``persistent_acl``: (write_id, [read_ids], [access_ids]); ``fixed_addresses``:
    (ram, flash) with 0xFFFFFFFF for "none"; ``extra_tlvs``: [(type, payload)] appended as is.
    ``program`` selects a Program TLV (else a Main TLV).

    Footers follow the binary, laid out as elf2tab does (``convert.rs``): each of
    ``footers`` in order, a name (``"sha256"``, ``"sha384"``, ``"sha512"``: the hash of the
    integrity region, bytes 0 .. binary_end_offset; ``"wrong-sha256"``...: the same with one
    bit flipped) or raw bytes (e.g. :func:`credential_footer`); then, if ``minimum_footer_size``
    asks for more, reserved room of at least 8 bytes, rounded up to 4; then the total is padded
    (``trailing_padding``: ``"pow2"`` as for ARM, a number for a multiple, None for none). The
    space after the footers becomes one Reserved credential when it has 8 bytes or more, else
    zeros. elf2tab writes sha256, sha384, sha512 in that order. With no footer argument at all
    the total is the binary's end rounded up to 4, as before.
    """
    tlvs = []
    # Fields of the Program/Main TLV are filled once header_size is known (binary_end_offset needs it).
    main_index = len(tlvs)
    tlvs.append(None)
    if package is not None:
        tlvs.append(tlv(PACKAGE_NAME, package.encode()))
    if writeable_flash_regions:
        tlvs.append(tlv(WFR, b"".join(struct.pack("<II", o, s) for o, s in writeable_flash_regions)))
    if fixed_addresses is not None:
        tlvs.append(tlv(FIXED_ADDRESSES, struct.pack("<II", *fixed_addresses)))
    if permissions is not None:
        tlvs.append(tlv(PERMISSIONS, struct.pack("<H", len(permissions))
                        + b"".join(struct.pack("<IIQ", d, o, m) for d, o, m in permissions)))
    if persistent_acl is not None:
        write_id, reads, accesses = persistent_acl
        tlvs.append(tlv(PERSISTENT_ACL, struct.pack("<IH", write_id, len(reads))
                        + b"".join(struct.pack("<I", r) for r in reads)
                        + struct.pack("<H", len(accesses)) + b"".join(struct.pack("<I", a) for a in accesses)))
    if kernel_version is not None:
        tlvs.append(tlv(KERNEL_VERSION, struct.pack("<HH", *kernel_version)))
    if short_id is not None:
        tlvs.append(tlv(SHORT_ID, struct.pack("<I", short_id)))
    for tipe, payload in extra_tlvs:
        tlvs.append(tlv(tipe, payload))
    main_len = 4 + (20 if program else 12)
    header_size = 16 + main_len + sum(len(t) for t in tlvs if t is not None)
    binary_end = header_size + protected_trailer + len(binary)
    with_footers = bool(footers) or minimum_footer_size or trailing_padding is not None
    if total_size is None and with_footers:
        end = binary_end + sum(_footer_size(f) for f in footers)
        initial = end - binary_end
        if minimum_footer_size > initial:
            end += -max(minimum_footer_size - initial, 8) // 4 * -4
        total_size = end + _trailing_pad(end, trailing_padding)
    if total_size is None:
        total_size = binary_end + (-binary_end % 4)
    if total_size < binary_end:
        raise ValueError(f"total_size {total_size} is smaller than the binary's end {binary_end}")
    if program:
        tlvs[main_index] = tlv(PROGRAM, struct.pack("<IIIII", init_fn_offset, protected_trailer,
                                                    minimum_ram_size, binary_end, app_version))
    else:
        tlvs[main_index] = tlv(MAIN, struct.pack("<III", init_fn_offset, protected_trailer, minimum_ram_size))
    header = struct.pack("<HHIII", 2, header_size, total_size, flags, 0) + b"".join(tlvs)
    c = checksum(header) ^ (0x1 if bad_checksum else 0)
    header = header[:12] + struct.pack("<I", c) + header[16:]
    body = bytes(protected_trailer) + binary
    out = header + body
    for f in footers:
        out += _footer_bytes(f, header + body)
    if len(out) > total_size:
        raise ValueError(f"total_size {total_size} has no room for the footers (they end at {len(out)})")
    rest = total_size - len(out)
    if footers or minimum_footer_size or trailing_padding is not None:
        if rest >= 8:
            out += credential_footer(0, bytes(rest - 8))  # elf2tab's Reserved credential: room for later ones
            rest = 0
    return out + bytes(rest)


def _demo_binary(n: int) -> bytes:
    # Recognisable, deterministic filler: "TOCK" then a counter pattern.
    return (b"TOCK" + bytes(i & 0xFF for i in range(n)))[:n]


#: The files this script owns under scenarios/data/, by name.
FILES = {
    # Driver permissions: console (1) commands 0-1, LED (2) commands 0-1 only; nothing else listed,
    # so the alarm (0) is NODEVICE for every Subscribe/Command/Allow and LED commands 2, 3 are denied.
    "perm_demo.tbf": lambda: build_tbf(
        package="perm_demo", binary=_demo_binary(0x400), init_fn_offset=0x41, minimum_ram_size=4096,
        app_version=3,
        permissions=[(0x1, 0, 0b11), (0x2, 0, 0b11)],
        persistent_acl=(0x10, [0x10, 0x11], [0x12]),
        kernel_version=(2, 0), short_id=0x00C0FFEE,
        writeable_flash_regions=[(0x300, 0x100)]),
}


def _tampered(tbf: bytes, at: int) -> bytes:
    # One byte of the binary changed after elf2tab hashed it: the footer no longer matches.
    return tbf[:at] + bytes([tbf[at] ^ 0xFF]) + tbf[at + 1:]


def _cred_demo() -> bytes:
    # elf2tab --sha256 for a Cortex-M app: SHA256 footer, then a Reserved footer up to the
    # power-of-two total size.
    return build_tbf(package="cred_demo", binary=_demo_binary(0x2C0), init_fn_offset=0x41,
                     minimum_ram_size=4096, app_version=1, kernel_version=(2, 0),
                     footers=["sha256"], trailing_padding="pow2")


FILES["cred_demo.tbf"] = _cred_demo
FILES["cred_tampered.tbf"] = lambda: _tampered(_cred_demo(), 0x100)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    ap.add_argument("--out", type=Path, default=DATA, help="output directory (default scenarios/data)")
    args = ap.parse_args(argv)
    bad = 0
    for name, make in FILES.items():
        data = make()
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                print(f"{path}: differs from what scripts/make_tbf.py builds")
                bad += 1
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(f"wrote {path} ({len(data)} bytes)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
