"""The one interface capsules implement (Tock's ``SyscallDriver`` trait).

A capsule subclasses :class:`SyscallDriver`, declares its driver number, its
grant (or none) and implements ``command``. The kernel owns grants, allows and
upcalls: the core kernel stores subscribes and RO/RW allows in the capsule's
grant; only userspace-readable allows reach the capsule. A capsule may also
register for process-state changes (fault, terminate, restart) through
:meth:`Kernel.add_process_state_hook`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..abi import ErrorCode, SyscallReturn
from .grant import GrantSpec

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import Kernel
    from .process import ProcessId


class SyscallDriver:
    """Base class for capsules. ``name`` is the tsh name (``console``), ``driver_num`` Tock's number."""

    driver_num: int = -1
    name: str = "?"
    #: One line for `help drivers` and the start-up banner.
    summary: str = ""

    def __init__(self) -> None:
        self.kernel: "Kernel | None" = None
        self.grant: GrantSpec | None = self.make_grant()

    def make_grant(self) -> GrantSpec | None:
        """The capsule's grant declaration; None for capsules with no grant (e.g. LED)."""
        return None

    def attach(self, kernel: "Kernel") -> None:
        """Called once when the board registers the driver."""
        self.kernel = kernel

    # -- the trait ------------------------------------------------------------------
    def command(self, command_num: int, arg0: int, arg1: int, pid: "ProcessId") -> SyscallReturn:
        return SyscallReturn.failure(ErrorCode.NOSUPPORT)

    def allocate_grant(self, pid: "ProcessId") -> None:
        """Mandatory in Tock; the usual implementation enters the grant once."""
        if self.grant is not None:
            try:
                self.kernel.enter_grant(pid, self)
            except Exception:  # noqa: BLE001 - failures surface as NOMEM to the caller
                pass

    def grant_holders(self):
        """(process, grant) for every live process that has entered this grant, in slot order (``Grant::iter``)."""
        k = self.kernel
        for p in k.live_processes():
            g = k.grant_of(p, self)
            if g is not None:
                yield p, g

    def allow_userspace_readable(self, pid: "ProcessId", num: int, addr: int, length: int) -> SyscallReturn:
        return SyscallReturn.of_kind("UserspaceReadableAllowFailure", (addr, length), ErrorCode.NOSUPPORT)

    # -- hooks the model adds --------------------------------------------------------
    def describe_grant(self, data) -> str:
        """One line describing the capsule's per-process data, for `grants p`."""
        return "" if data is None else repr(data)

    def reset(self) -> None:
        """Forget board-level state (for a fresh board)."""

    # -- configuration (`config NAME.KEY = VALUE`) ------------------------------------
    def config_keys(self) -> dict[str, str]:
        """Keys this capsule accepts under its name, with the current value as text."""
        return {}

    def config_help(self) -> dict[str, str]:
        """Keys this capsule accepts, with a one-line description each (for `help config`)."""
        return {}

    def set_config(self, key: str, value) -> None:
        """Set one key; ``value`` is the parsed tsh value. Raise ValueError with a clear message.

        May return a sentence on what the new value means, for the confirmation line.
        """
        raise ValueError(f"{self.name} has no setting '{key}'")
