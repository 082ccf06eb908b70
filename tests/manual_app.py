"""A manual process with a bump allocator in its heap: the base of the IPC capsule tests' ``App``.

Not a test module (pytest collects only ``test_*.py``); ``tests/`` is on
``sys.path``, so the tests import it by name.
"""

from __future__ import annotations


class ManualApp:
    """One booted manual process; ``buf`` places bytes in its heap, ``sys`` issues a syscall for it."""

    def __init__(self, k, name, **kw):
        self.k = k
        self.p = k.create_process(name, **kw)
        self.rebase()

    def rebase(self):
        """Start allocating from crt0's heap start again (after a restart)."""
        self.next = self.k.crt0_layout(self.p)[1]

    def buf(self, data: bytes | int) -> tuple[int, int]:
        """Write ``data`` (or that many zero bytes) at the next word-aligned heap address: (address, length)."""
        if isinstance(data, int):
            data = bytes(data)
        addr = self.next
        self.next += (len(data) + 3) // 4 * 4 + 4
        self.p.write(addr, data)
        return addr, len(data)

    def sys(self, cls, r0=0, r1=0, r2=0, r3=0):
        return self.k.syscall(self.p, cls, r0, r1, r2, r3)
