"""The board file: which capsules sit at which driver numbers, and the board's policies.

``build_board("default")`` gives the board every scenario starts on: Tock's
base drivers plus the IPC capsules, a round-robin scheduler with 10 ms
timeslices and the fault policy most boards use (panic). App flash starts at
0x00040000 and RAM at 0x20000000, as language.md fixes.

Later capsules register themselves in :data:`EXTRA_CAPSULES` (a factory per
capsule) so this file stays the one place that says what a board holds.
"""

from __future__ import annotations

from typing import Callable

from .capsules.alarm import Alarm
from .capsules.button import Button
from .capsules.console import Console
from .capsules.led import Led
from .capsules.lld import LowLevelDebug
from .capsules.rng import Rng
from .kernel import Kernel, KernelAPIError, KernelConfig, SyscallDriver, fault_policy_from, scheduler_from

#: tsh names of drivers, with Tock's numbers (capsules/core/src/driver.rs and ipc-2025.md).
DRIVER_NUMBERS = {
    "alarm": 0x0, "console": 0x1, "led": 0x2, "button": 0x3, "lld": 0x8, "rng": 0x40001,
    "radio": 0x30001, "ipc": 0x10000, "ipcmgr": 0xA0100, "mailbox": 0xA0101,
    "registry_name": 0xA0000, "registry_pkg": 0xA0001, "relay": 0xA0010,
}

#: Factories for capsules beyond the base set, in board order: (name, factory(board) -> driver).
EXTRA_CAPSULES: list[tuple[str, Callable[["Board"], SyscallDriver]]] = []


def _register_extras() -> None:
    """Import the optional capsule modules so they append themselves to EXTRA_CAPSULES."""
    import importlib

    for mod in ("ipc_legacy", "ipc_manager", "mailbox", "radio", "registry", "relay_request"):
        try:
            importlib.import_module(f"tockshell.capsules.{mod}")
        except ModuleNotFoundError as e:
            if e.name != f"tockshell.capsules.{mod}":
                raise


#: The order the shipped capsules take on every board. A capsule module registers itself when it
#: is first imported, so without this a plugin (or a test) importing one early would change the
#: drivers' order, and with it grant numbers and listings, from one process to the next.
_EXTRA_ORDER = ("ipc", "ipcmgr", "mailbox", "radio", "registry_name", "registry_pkg", "relay")


def _extra_rank(entry: tuple[str, Callable]) -> int:
    # sorted() is stable: capsules not listed (plugins') keep their registration order, after these.
    name = entry[0]
    return _EXTRA_ORDER.index(name) if name in _EXTRA_ORDER else len(_EXTRA_ORDER)


class Board:
    """A kernel with its capsules. ``name`` is the profile (``default``)."""

    def __init__(self, name: str = "default", config: KernelConfig | None = None,
                 fault_policy: str = "panic", scheduler: str = "round_robin", rng_seed: int = 0x70C4):
        if name not in BOARDS:
            raise KernelAPIError(f"unknown board '{name}' (known: {', '.join(sorted(BOARDS))})")
        self.name = name
        self.kernel = Kernel(config or KernelConfig(), scheduler=scheduler_from(scheduler),
                             fault_policy=fault_policy_from(fault_policy))
        self.drivers_by_name: dict[str, SyscallDriver] = {}
        self.console = Console()
        self.button = Button()
        self.led = Led()
        for d in (Alarm(), self.console, self.led, self.button, LowLevelDebug(), Rng(rng_seed)):
            self.add(d)
        _register_extras()
        for _, factory in sorted(EXTRA_CAPSULES, key=_extra_rank):
            self.add(factory(self))
        BOARDS[name](self)

    def add(self, driver: SyscallDriver) -> None:
        self.kernel.add_driver(driver)
        self.drivers_by_name[driver.name] = driver

    def driver(self, ref: str | int) -> SyscallDriver | None:
        if isinstance(ref, int):
            return self.kernel.drivers.get(ref)
        return self.drivers_by_name.get(ref)

    def driver_name(self, num: int) -> str:
        d = self.kernel.drivers.get(num)
        return d.name if d is not None else f"{num:#x}"

    # -- hardware ---------------------------------------------------------------------
    def press_button(self, n: int) -> None:
        if not 0 <= n < self.button.count:
            raise KernelAPIError(f"the board has buttons 0..{self.button.count - 1}, not {n}")
        self.kernel.hardware_event(lambda: self.button.edge(n, True), f"button {n} pressed")
        self.kernel.hardware_event(lambda: self.button.edge(n, False), f"button {n} released")

    def console_input(self, data: bytes) -> None:
        if not isinstance(data, (bytes, bytearray)):
            # Refused before the hardware event starts, so a bad call changes nothing.
            raise KernelAPIError(f"console input must be bytes, not {type(data).__name__}")
        data = bytes(data)
        self.kernel.hardware_event(lambda: self.console.input(data), "console input")


def _default(board: Board) -> None:
    """Default profile: 4-byte memory-protection granularity, nothing more to set."""


def _cortex_m(board: Board) -> None:
    """A Cortex-M4 flavour: same capsules, and the ARMv7-M MPU's placement and rounding of process memory.

    Flash in one region, RAM in a power-of-two block of two regions whose
    eighths (subregions) are opened to the app as its break grows
    (``tockshell.kernel.mpu.CortexMMpu``; docs/kernel.md, "The cortex-m board").
    """
    from .kernel.mpu import CortexMMpu

    board.kernel.set_mpu(CortexMMpu())


BOARDS: dict[str, Callable[[Board], None]] = {"default": _default, "cortex-m": _cortex_m}


def build_board(name: str = "default", **kw) -> Board:
    return Board(name, **kw)
