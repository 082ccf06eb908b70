"""TRD104 numbers: syscall classes, yield numbers, error codes, return variants.

Everything here is Tock's own numbering (kernel 2.3, ``kernel/src/syscall.rs``,
``kernel/src/errorcode.rs``, ``kernel/src/utilities/arch_helpers.rs``). A
:class:`SyscallReturn` knows three spellings of itself:

* ``str(r)``: TRD104 terms for people (``Success(u32=3)``, ``Failure(INVAL, 0x20001000, 16)``);
* ``r.debug()``: the Debug form of the kernel-internal enum, as ``trace_syscalls``
  prints it (``SubscribeSuccess(0x0, 0)``, ``SuccessU32(4)``);
* ``r.registers(previous)``: the four registers as the encoder writes them,
  leaving the registers TRD104 marks "not written" untouched.
"""

from __future__ import annotations

import enum

MASK32 = 0xFFFF_FFFF


class SyscallClass(enum.IntEnum):
    """Syscall class numbers (TRD104 section 4; class 7 from the userspace-readable allow TRD)."""

    YIELD = 0
    SUBSCRIBE = 1
    COMMAND = 2
    ALLOW_RW = 3
    ALLOW_RO = 4
    MEMOP = 5
    EXIT = 6
    ALLOW_UR = 7


#: The classes the board's syscall filter sees (Yield, Memop and Exit are never filtered).
FILTERED_CLASSES = frozenset(
    {SyscallClass.SUBSCRIBE, SyscallClass.COMMAND, SyscallClass.ALLOW_RW,
     SyscallClass.ALLOW_RO, SyscallClass.ALLOW_UR})


class YieldKind(enum.IntEnum):
    """Yield numbers in r0 of a yield."""

    NO_WAIT = 0
    WAIT = 1
    WAIT_FOR = 2

    @property
    def debug(self) -> str:
        return {0: "NoWait", 1: "Wait", 2: "WaitFor"}[self.value]


class ExitKind(enum.IntEnum):
    TERMINATE = 0
    RESTART = 1


class ErrorCode(enum.IntEnum):
    """``kernel::ErrorCode``: the kernel spells INVALID as INVAL."""

    FAIL = 1
    BUSY = 2
    ALREADY = 3
    OFF = 4
    RESERVE = 5
    INVAL = 6
    SIZE = 7
    CANCEL = 8
    NOMEM = 9
    NOSUPPORT = 10
    NODEVICE = 11
    UNINSTALLED = 12
    NOACK = 13


class Variant(enum.IntEnum):
    """The ten TRD104 return variants, valued by their r0 code."""

    FAILURE = 0
    FAILURE_U32 = 1
    FAILURE_2_U32 = 2
    FAILURE_U64 = 3
    SUCCESS = 128
    SUCCESS_U32 = 129
    SUCCESS_2_U32 = 130
    SUCCESS_U64 = 131
    SUCCESS_3_U32 = 132
    SUCCESS_U32_U64 = 133

    @property
    def is_success(self) -> bool:
        return self.value >= 128


# The kernel-internal SyscallReturn kinds that are not plain TRD104 variants.
# Each maps onto a TRD104 variant when encoded (arch_helpers.rs).
_KIND_VARIANT = {
    "SubscribeSuccess": Variant.SUCCESS_2_U32,
    "SubscribeFailure": Variant.FAILURE_2_U32,
    "AllowReadWriteSuccess": Variant.SUCCESS_2_U32,
    "AllowReadWriteFailure": Variant.FAILURE_2_U32,
    "AllowReadOnlySuccess": Variant.SUCCESS_2_U32,
    "AllowReadOnlyFailure": Variant.FAILURE_2_U32,
    "UserspaceReadableAllowSuccess": Variant.SUCCESS_2_U32,
    "UserspaceReadableAllowFailure": Variant.FAILURE_2_U32,
    "SuccessPtr": Variant.SUCCESS_U32,
    "SuccessAddr": Variant.SUCCESS_U32,
}

_VARIANT_DEBUG = {
    Variant.FAILURE: "Failure",
    Variant.FAILURE_U32: "FailureU32",
    Variant.FAILURE_2_U32: "FailureU32U32",
    Variant.FAILURE_U64: "FailureU64",
    Variant.SUCCESS: "Success",
    Variant.SUCCESS_U32: "SuccessU32",
    Variant.SUCCESS_2_U32: "SuccessU32U32",
    Variant.SUCCESS_U64: "SuccessU64",
    Variant.SUCCESS_3_U32: "SuccessU32U32U32",
    Variant.SUCCESS_U32_U64: "SuccessU32U64",
}

# Kinds whose first value is a pointer (printed in hex, as Rust's {:#x} would).
_POINTER_KINDS = frozenset(k for k in _KIND_VARIANT if "Allow" in k or "Subscribe" in k)


class SyscallReturn:
    """One syscall result: a TRD104 variant, an optional error and its values.

    ``kind`` is the kernel-internal enum name used by the trace; for ordinary
    command results it is the variant's own Debug name. Instances are treated
    as immutable values (``__slots__`` for speed on the hot path).
    """

    __slots__ = ("variant", "error", "values", "kind")

    def __init__(self, variant: Variant, error: ErrorCode | None = None,
                 values: tuple[int, ...] = (), kind: str | None = None):
        self.variant = variant
        self.error = error
        self.values = values
        self.kind = kind or _VARIANT_DEBUG[variant]

    # -- constructors, named as CommandReturn's ---------------------------------
    @staticmethod
    def success() -> "SyscallReturn":
        return SUCCESS

    @staticmethod
    def success_u32(v: int) -> "SyscallReturn":
        return SyscallReturn(Variant.SUCCESS_U32, None, (v & MASK32,))

    @staticmethod
    def success_u32_u32(a: int, b: int) -> "SyscallReturn":
        return SyscallReturn(Variant.SUCCESS_2_U32, None, (a & MASK32, b & MASK32))

    @staticmethod
    def success_u32_u32_u32(a: int, b: int, c: int) -> "SyscallReturn":
        return SyscallReturn(Variant.SUCCESS_3_U32, None, (a & MASK32, b & MASK32, c & MASK32))

    @staticmethod
    def success_u64(v: int) -> "SyscallReturn":
        return SyscallReturn(Variant.SUCCESS_U64, None, (v & 0xFFFF_FFFF_FFFF_FFFF,))

    @staticmethod
    def success_u32_u64(a: int, b: int) -> "SyscallReturn":
        return SyscallReturn(Variant.SUCCESS_U32_U64, None,
                             (a & MASK32, b & 0xFFFF_FFFF_FFFF_FFFF))

    @staticmethod
    def failure(err: ErrorCode) -> "SyscallReturn":
        return _PLAIN_FAILURES[err]

    @staticmethod
    def failure_u32(err: ErrorCode, v: int) -> "SyscallReturn":
        return SyscallReturn(Variant.FAILURE_U32, err, (v & MASK32,))

    @staticmethod
    def failure_u32_u32(err: ErrorCode, a: int, b: int) -> "SyscallReturn":
        return SyscallReturn(Variant.FAILURE_2_U32, err, (a & MASK32, b & MASK32))

    @staticmethod
    def failure_u64(err: ErrorCode, v: int) -> "SyscallReturn":
        return SyscallReturn(Variant.FAILURE_U64, err, (v & 0xFFFF_FFFF_FFFF_FFFF,))

    @staticmethod
    def of_kind(kind: str, values: tuple[int, ...], error: ErrorCode | None = None) -> "SyscallReturn":
        """A kernel-internal kind (``SubscribeSuccess``, ``AllowReadOnlyFailure``, ``SuccessPtr``...)."""
        if len(values) == 2:  # every kind but the pointers: no generator on the subscribe/allow path
            return SyscallReturn(_KIND_VARIANT[kind], error, (values[0] & MASK32, values[1] & MASK32), kind)
        return SyscallReturn(_KIND_VARIANT[kind], error, tuple(v & MASK32 for v in values), kind)

    # -- properties ------------------------------------------------------------
    @property
    def is_success(self) -> bool:
        return self.variant >= 128

    @property
    def is_failure(self) -> bool:
        return self.variant < 128

    @property
    def value(self) -> int | None:
        return self.values[0] if self.values else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SyscallReturn):
            return NotImplemented
        return (self.variant, self.error, self.values) == (other.variant, other.error, other.values)

    def __hash__(self) -> int:
        return hash((self.variant, self.error, self.values))

    # -- encodings -------------------------------------------------------------
    def registers(self, previous: tuple[int, int, int, int] = (0, 0, 0, 0)) -> tuple[int, int, int, int]:
        """r0..r3 as ``encode_syscall_return_trd104`` writes them.

        Registers the encoder does not write keep their ``previous`` values
        (on Cortex-M, the caller's own argument registers).
        """
        r = list(previous)
        r[0] = int(self.variant)
        v = self.variant
        vals = self.values
        if v < 128:
            r[1] = int(self.error)
            if v == Variant.FAILURE_U32:
                r[2] = vals[0]
            elif v == Variant.FAILURE_2_U32:
                r[2], r[3] = vals[0], vals[1]
            elif v == Variant.FAILURE_U64:
                r[2], r[3] = vals[0] & MASK32, vals[0] >> 32
        elif v == Variant.SUCCESS_U32:
            r[1] = vals[0]
        elif v == Variant.SUCCESS_2_U32:
            r[1], r[2] = vals[0], vals[1]
        elif v == Variant.SUCCESS_U64:
            r[1], r[2] = vals[0] & MASK32, vals[0] >> 32
        elif v == Variant.SUCCESS_3_U32:
            r[1], r[2], r[3] = vals
        elif v == Variant.SUCCESS_U32_U64:
            r[1], r[2], r[3] = vals[0], vals[1] & MASK32, vals[1] >> 32
        return (r[0], r[1], r[2], r[3])

    @staticmethod
    def decode(r0: int, r1: int, r2: int, r3: int) -> "SyscallReturn | None":
        """What userspace reads back from r0..r3; None for a reserved r0 value."""
        try:
            v = Variant(r0)
        except ValueError:
            return None
        if v < 128:
            try:
                err = ErrorCode(r1)
            except ValueError:
                return None
            vals = {Variant.FAILURE: (), Variant.FAILURE_U32: (r2,),
                    Variant.FAILURE_2_U32: (r2, r3),
                    Variant.FAILURE_U64: (r2 | (r3 << 32),)}[v]
            return SyscallReturn(v, err, vals)
        vals = {Variant.SUCCESS: (), Variant.SUCCESS_U32: (r1,), Variant.SUCCESS_2_U32: (r1, r2),
                Variant.SUCCESS_U64: (r1 | (r2 << 32),), Variant.SUCCESS_3_U32: (r1, r2, r3),
                Variant.SUCCESS_U32_U64: (r1, r2 | (r3 << 32))}[v]
        return SyscallReturn(v, None, vals)

    def debug(self) -> str:
        """The Rust Debug form used in ``trace_syscalls`` lines."""
        k = self.kind
        if k in ("SuccessPtr", "SuccessAddr"):
            # SuccessAddr holds a usize, which derive(Debug) prints in decimal.
            inner = f"CapabilityPtr {{ ptr: {self.values[0]:#x} }}" if k == "SuccessPtr" else str(self.values[0])
            return f"{k}({inner})"
        parts: list[str] = []
        if self.error is not None:
            parts.append(self.error.name)
        if k in _POINTER_KINDS:
            parts += [f"{self.values[0]:#x}", str(self.values[1])]
        else:
            parts += [str(x) for x in self.values]
        return f"{k}({', '.join(parts)})" if parts else k

    def __str__(self) -> str:
        """TRD104 terms: ``Success``, ``Success(u32=3)``, ``Failure(INVAL, 0x20001000, 16)``."""
        head = "Success" if self.is_success else "Failure"
        v = self.variant
        parts: list[str] = []
        if self.error is not None:
            parts.append(self.error.name)
        if self.kind in _POINTER_KINDS:
            parts += [f"{self.values[0]:#x}", str(self.values[1])]
        elif v == Variant.SUCCESS_U32 and self.kind in ("SuccessPtr", "SuccessAddr"):
            parts.append(f"u32={self.values[0]:#x}")
        elif v in (Variant.SUCCESS_U32,):
            parts.append(f"u32={self.values[0]}")
        elif v in (Variant.SUCCESS_U64, Variant.FAILURE_U64):
            parts.append(f"u64={self.values[0]}")
        elif v == Variant.SUCCESS_U32_U64:
            parts += [f"u32={self.values[0]}", f"u64={self.values[1]}"]
        else:
            parts += [str(x) for x in self.values]
        return f"{head}({', '.join(parts)})" if parts else head

    __repr__ = __str__


SUCCESS = SyscallReturn(Variant.SUCCESS)
_PLAIN_FAILURES = {e: SyscallReturn(Variant.FAILURE, e) for e in ErrorCode}


class YieldWaitForReturn:
    """A yield-wait-for result: the upcall's three arguments, straight into r0..r2 (no variant code)."""

    __slots__ = ("args",)

    def __init__(self, args: tuple[int, int, int]):
        self.args = args

    def registers(self, previous=(0, 0, 0, 0)):
        return (self.args[0], self.args[1], self.args[2], previous[3])

    def debug(self) -> str:
        return "YieldWaitFor({:#x}, {:#x}, {:#x})".format(*self.args)

    def __str__(self) -> str:
        return "Upcall({:#x}, {:#x}, {:#x})".format(*self.args)

    __repr__ = __str__


def decode_syscall(cls: int, r0: int, r1: int, r2: int, r3: int):
    """Decode a raw register call like ``syscall_from_register_arguments_trd104``.

    Returns ``(SyscallClass, (r0, r1, r2, r3))`` or None for an unknown class
    or yield number: the caller must fault the process (Tock's code, not
    TRD104's "return immediately").
    """
    try:
        c = SyscallClass(cls)
    except ValueError:
        return None
    if c == SyscallClass.YIELD and r0 not in (0, 1, 2):
        return None
    return c, (r0 & MASK32, r1 & MASK32, r2 & MASK32, r3 & MASK32)


SYSCALL_CLASS_DEBUG = {
    SyscallClass.YIELD: "Yield",
    SyscallClass.SUBSCRIBE: "Subscribe",
    SyscallClass.COMMAND: "Command",
    SyscallClass.ALLOW_RW: "ReadWriteAllow",
    SyscallClass.ALLOW_RO: "ReadOnlyAllow",
    SyscallClass.MEMOP: "Memop",
    SyscallClass.EXIT: "Exit",
    SyscallClass.ALLOW_UR: "UserspaceReadableAllow",
}


def syscall_debug(cls: SyscallClass, regs: tuple[int, int, int, int]) -> str:
    """The Debug form of ``kernel::syscall::Syscall`` (as "Last Syscall:" and "Filtered:" print it).

    It is Rust's derived Debug: usize fields in decimal, pointers in hex, the
    upcall pointer and appdata wrapped as ``CapabilityPtr`` / ``MachineRegister``.
    """
    r0, r1, r2, r3 = regs
    if cls == SyscallClass.YIELD:
        if r0 == 0:
            return f"Yield {{ yield_type: NoWait {{ ptr: {r1:#x} }} }}"
        if r0 == 1:
            return "Yield { yield_type: Wait }"
        if r0 == 2:
            return f"Yield {{ yield_type: WaitFor {{ driver_number: {r1}, subdriver_number: {r2} }} }}"
        return f"Yield {{ yield_type: {r0} }}"  # never decoded by Tock (the process faults)
    if cls == SyscallClass.SUBSCRIBE:
        return (f"Subscribe {{ driver_number: {r0}, subdriver_number: {r1}, "
                f"upcall_ptr: CapabilityPtr {{ ptr: {r2:#x} }}, "
                f"appdata: MachineRegister {{ value: CapabilityPtr {{ ptr: {r3:#x} }} }} }}")
    if cls == SyscallClass.COMMAND:
        return (f"Command {{ driver_number: {r0}, subdriver_number: {r1}, "
                f"arg0: {r2}, arg1: {r3} }}")
    if cls in (SyscallClass.ALLOW_RW, SyscallClass.ALLOW_RO, SyscallClass.ALLOW_UR):
        return (f"{SYSCALL_CLASS_DEBUG[cls]} {{ driver_number: {r0}, subdriver_number: {r1}, "
                f"allow_address: {r2:#x}, allow_size: {r3} }}")
    if cls == SyscallClass.MEMOP:
        return f"Memop {{ operand: {r0}, arg0: {r1} }}"
    return f"Exit {{ which: {r0}, completion_code: {r1} }}"
