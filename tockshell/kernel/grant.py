"""Grants: per-process capsule memory carved from the top of the process's RAM block.

Mirrors ``kernel/src/grant.rs``. A capsule declares a :class:`GrantSpec` (its
upcall / read-only allow / read-write allow slot counts and the size of its
per-process data ``T``); the kernel numbers grants in creation order. The first
``enter`` for a process allocates one block below the kernel memory break:

    [counter word: U, R, W, 0][U x SavedUpcall{appdata, fn}][R x {ptr, len}][W x {ptr, len}][pad][T]

The slot values are also written into the process's RAM bytes, so a hexdump
of the grant region shows what Tock's would. Custom grants
(``enter_with_allocator``) are separate blocks with no pointer-table entry.
"""

from __future__ import annotations

import struct
from typing import Any, Callable

from ..abi import ErrorCode

WORD = 4
SLOT_SIZE = 8  # SavedUpcall / SavedAllowRo / SavedAllowRw on 32-bit: two words


class GrantError(Exception):
    """``process::Error`` as returned by ``Grant::enter``: NoSuchApp, InactiveApp, OutOfMemory."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind

    @property
    def error_code(self) -> ErrorCode:
        """The ErrorCode Tock's ``From<process::Error>`` gives (what a capsule's command returns)."""
        return _GRANT_ERROR_CODES.get(self.kind, ErrorCode.FAIL)


_GRANT_ERROR_CODES = {"OutOfMemory": ErrorCode.NOMEM, "NoSuchApp": ErrorCode.INVAL, "InactiveApp": ErrorCode.FAIL}


class GrantSpec:
    """What a capsule's ``Grant<T, UpcallCount<U>, AllowRoCount<R>, AllowRwCount<W>>`` declares."""

    __slots__ = ("driver_num", "upcalls", "allow_ro", "allow_rw", "data_size", "data_factory",
                 "grant_num")

    def __init__(self, driver_num: int, upcalls: int, allow_ro: int, allow_rw: int,
                 data_size: int = 0, data_factory: Callable[[], Any] | None = None):
        self.driver_num = driver_num
        self.upcalls = upcalls
        self.allow_ro = allow_ro
        self.allow_rw = allow_rw
        self.data_size = data_size
        self.data_factory = data_factory
        self.grant_num = -1  # assigned by Kernel.create_grant

    @property
    def size(self) -> int:
        """Bytes of one allocation: 4 + 8(U+R+W) + padding + size_of(T), 4-byte aligned."""
        head = WORD + SLOT_SIZE * (self.upcalls + self.allow_ro + self.allow_rw)
        return head + ((self.data_size + WORD - 1) // WORD) * WORD


class GrantAllocation:
    """One process's allocated grant for one driver."""

    __slots__ = ("spec", "address", "upcalls", "allow_ro", "allow_rw", "data")

    def __init__(self, spec: GrantSpec, address: int):
        self.spec = spec
        self.address = address
        self.upcalls: list[tuple[int, int]] = [(0, 0)] * spec.upcalls  # (fn_ptr, appdata)
        self.allow_ro: list[tuple[int, int]] = [(0, 0)] * spec.allow_ro  # (addr, len)
        self.allow_rw: list[tuple[int, int]] = [(0, 0)] * spec.allow_rw
        self.data = spec.data_factory() if spec.data_factory else None

    @property
    def driver_num(self) -> int:
        return self.spec.driver_num

    @property
    def size(self) -> int:
        return self.spec.size

    def slot_address(self, section: str, index: int) -> int:
        base = self.address + WORD
        if section == "ro":
            base += SLOT_SIZE * self.spec.upcalls
        elif section == "rw":
            base += SLOT_SIZE * (self.spec.upcalls + self.spec.allow_ro)
        return base + SLOT_SIZE * index

    def write_header(self, ram: bytearray, memory_start: int) -> None:
        off = self.address - memory_start
        ram[off:off + self.spec.size] = bytes(self.spec.size)
        struct.pack_into("<BBBB", ram, off, self.spec.upcalls, self.spec.allow_ro, self.spec.allow_rw, 0)

    def write_slot(self, ram: bytearray, memory_start: int, section: str, index: int,
                   first: int, second: int) -> None:
        # SavedUpcall stores {appdata, fn_ptr}; allows store {ptr, len}.
        struct.pack_into("<II", ram, self.slot_address(section, index) - memory_start, first, second)


class CustomGrant:
    """A dynamically sized grant block (``GrantRegionAllocator::alloc_n_with``)."""

    __slots__ = ("driver_num", "address", "size", "tag")

    def __init__(self, driver_num: int, address: int, size: int, tag: str):
        self.driver_num = driver_num
        self.address = address
        self.size = size
        self.tag = tag
