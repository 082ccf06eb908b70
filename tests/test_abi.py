"""TRD104 numbers and the register encoding (tock-kernel.md section 1.3, 2.1)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tockshell.abi import (ErrorCode, SyscallClass, SyscallReturn, Variant, YieldKind, YieldWaitForReturn,
                           decode_syscall, syscall_debug)

PREV = (0xA0A0_A0A0, 0xA1A1_A1A1, 0xA2A2_A2A2, 0xA3A3_A3A3)
_, A1, A2, A3 = PREV
U64 = 0x1122_3344_5566_7788
INVAL = ErrorCode.INVAL

ALL_TEN = [
    (SyscallReturn.failure(INVAL), (0, 6, A2, A3)),
    (SyscallReturn.failure_u32(INVAL, 5), (1, 6, 5, A3)),
    (SyscallReturn.failure_u32_u32(INVAL, 5, 7), (2, 6, 5, 7)),
    (SyscallReturn.failure_u64(INVAL, U64), (3, 6, 0x5566_7788, 0x1122_3344)),
    (SyscallReturn.success(), (128, A1, A2, A3)),
    (SyscallReturn.success_u32(5), (129, 5, A2, A3)),
    (SyscallReturn.success_u32_u32(5, 7), (130, 5, 7, A3)),
    (SyscallReturn.success_u64(U64), (131, 0x5566_7788, 0x1122_3344, A3)),
    (SyscallReturn.success_u32_u32_u32(1, 2, 3), (132, 1, 2, 3)),
    (SyscallReturn.success_u32_u64(9, U64), (133, 9, 0x5566_7788, 0x1122_3344)),
]


@pytest.mark.parametrize("ret, regs", ALL_TEN, ids=[r.variant.name for r, _ in ALL_TEN])
def test_encoding_of_every_variant_keeps_unwritten_registers(ret, regs):
    assert ret.registers(PREV) == regs


@pytest.mark.parametrize("ret, regs", ALL_TEN, ids=[r.variant.name for r, _ in ALL_TEN])
def test_decode_inverts_encode(ret, regs):
    assert SyscallReturn.decode(*regs) == ret


def test_variant_codes_are_trd104s():
    assert [int(v) for v in Variant] == [0, 1, 2, 3, 128, 129, 130, 131, 132, 133]
    assert all(v.is_success == (v >= 128) for v in Variant)


def test_error_codes_are_the_kernels():
    assert {e.name: e.value for e in ErrorCode} == {
        "FAIL": 1, "BUSY": 2, "ALREADY": 3, "OFF": 4, "RESERVE": 5, "INVAL": 6, "SIZE": 7,
        "CANCEL": 8, "NOMEM": 9, "NOSUPPORT": 10, "NODEVICE": 11, "UNINSTALLED": 12, "NOACK": 13}


def test_class_and_yield_numbers():
    assert [(c.name, c.value) for c in SyscallClass] == [
        ("YIELD", 0), ("SUBSCRIBE", 1), ("COMMAND", 2), ("ALLOW_RW", 3), ("ALLOW_RO", 4),
        ("MEMOP", 5), ("EXIT", 6), ("ALLOW_UR", 7)]
    assert [(y.value, y.debug) for y in YieldKind] == [(0, "NoWait"), (1, "Wait"), (2, "WaitFor")]


@pytest.mark.parametrize("kind, variant", [
    ("SubscribeSuccess", 130), ("SubscribeFailure", 2), ("AllowReadWriteSuccess", 130),
    ("AllowReadWriteFailure", 2), ("AllowReadOnlySuccess", 130), ("AllowReadOnlyFailure", 2),
    ("UserspaceReadableAllowSuccess", 130), ("UserspaceReadableAllowFailure", 2),
    ("SuccessPtr", 129), ("SuccessAddr", 129)])
def test_kernel_internal_kinds_map_onto_trd104_variants(kind, variant):
    err = ErrorCode.NOMEM if "Failure" in kind else None
    vals = (0x2000_1000,) if kind.startswith("Success") else (0x2000_1000, 16)
    r = SyscallReturn.of_kind(kind, vals, err)
    assert int(r.variant) == variant
    regs = r.registers(PREV)
    if variant == 2:
        assert regs == (2, 9, 0x2000_1000, 16)
    elif variant == 130:
        assert regs == (130, 0x2000_1000, 16, A3)
    else:
        assert regs == (129, 0x2000_1000, A2, A3)


def test_yield_wait_for_has_no_variant_code():
    r = YieldWaitForReturn((7, 8, 9))
    assert r.registers(PREV) == (7, 8, 9, A3)
    assert r.debug() == "YieldWaitFor(0x7, 0x8, 0x9)"


def test_values_are_truncated_to_register_width():
    assert SyscallReturn.success_u32(-1).values == (0xFFFF_FFFF,)
    assert SyscallReturn.success_u64(-1).registers() == (131, 0xFFFF_FFFF, 0xFFFF_FFFF, 0)
    assert SyscallReturn.of_kind("SubscribeSuccess", (1 << 32 | 5, 6)).values == (5, 6)


def test_reserved_r0_and_unknown_error_decode_to_none():
    assert SyscallReturn.decode(4, 0, 0, 0) is None
    assert SyscallReturn.decode(127, 0, 0, 0) is None
    assert SyscallReturn.decode(134, 0, 0, 0) is None
    assert SyscallReturn.decode(0, 14, 0, 0) is None
    assert SyscallReturn.decode(0, 0, 0, 0) is None


@pytest.mark.parametrize("ret, text", [
    (SyscallReturn.success(), "Success"),
    (SyscallReturn.success_u32(3), "Success(u32=3)"),
    (SyscallReturn.failure(ErrorCode.NODEVICE), "Failure(NODEVICE)"),
    (SyscallReturn.failure_u32(ErrorCode.BUSY, 4), "Failure(BUSY, 4)"),
    (SyscallReturn.success_u64(U64), f"Success(u64={U64})"),
    (SyscallReturn.success_u32_u64(1, 2), "Success(u32=1, u64=2)"),
    (SyscallReturn.of_kind("AllowReadWriteFailure", (0x2000_1000, 16), INVAL), "Failure(INVAL, 0x20001000, 16)"),
    (SyscallReturn.of_kind("SubscribeSuccess", (0, 0)), "Success(0x0, 0)"),
    (SyscallReturn.of_kind("SuccessPtr", (0x2000_2000,)), "Success(u32=0x20002000)"),
])
def test_trd104_text(ret, text):
    assert str(ret) == text


@pytest.mark.parametrize("ret, text", [
    (SyscallReturn.success(), "Success"),
    (SyscallReturn.success_u32(4), "SuccessU32(4)"),
    (SyscallReturn.success_u32_u32(1, 2), "SuccessU32U32(1, 2)"),
    (SyscallReturn.success_u32_u32_u32(1, 2, 3), "SuccessU32U32U32(1, 2, 3)"),
    (SyscallReturn.success_u64(5), "SuccessU64(5)"),
    (SyscallReturn.success_u32_u64(1, 5), "SuccessU32U64(1, 5)"),
    (SyscallReturn.failure(ErrorCode.NODEVICE), "Failure(NODEVICE)"),
    (SyscallReturn.failure_u32(ErrorCode.FAIL, 2), "FailureU32(FAIL, 2)"),
    (SyscallReturn.failure_u32_u32(ErrorCode.FAIL, 2, 3), "FailureU32U32(FAIL, 2, 3)"),
    (SyscallReturn.failure_u64(ErrorCode.FAIL, 2), "FailureU64(FAIL, 2)"),
    (SyscallReturn.of_kind("SubscribeSuccess", (0, 0)), "SubscribeSuccess(0x0, 0)"),
    (SyscallReturn.of_kind("SubscribeFailure", (0x40081, 7), ErrorCode.NOMEM), "SubscribeFailure(NOMEM, 0x40081, 7)"),
    (SyscallReturn.of_kind("AllowReadOnlySuccess", (0, 0)), "AllowReadOnlySuccess(0x0, 0)"),
    (SyscallReturn.of_kind("AllowReadWriteFailure", (0x2000_1000, 16), INVAL),
     "AllowReadWriteFailure(INVAL, 0x20001000, 16)"),
    (SyscallReturn.of_kind("UserspaceReadableAllowFailure", (0x2000_1000, 16), ErrorCode.NOSUPPORT),
     "UserspaceReadableAllowFailure(NOSUPPORT, 0x20001000, 16)"),
    (SyscallReturn.of_kind("SuccessPtr", (0x2000_2000,)), "SuccessPtr(CapabilityPtr { ptr: 0x20002000 })"),
    (SyscallReturn.of_kind("SuccessAddr", (0x2000_2000,)), "SuccessAddr(536879104)"),
])
def test_rust_debug_text(ret, text):
    assert ret.debug() == text


def test_equality_ignores_the_internal_kind():
    assert SyscallReturn.of_kind("SuccessPtr", (5,)) == SyscallReturn.success_u32(5)
    assert hash(SyscallReturn.of_kind("SuccessAddr", (5,))) == hash(SyscallReturn.success_u32(5))
    assert SyscallReturn.success() != SyscallReturn.failure(ErrorCode.FAIL)


def test_decode_syscall_refuses_what_tock_faults_on():
    assert decode_syscall(8, 0, 0, 0, 0) is None
    assert decode_syscall(255, 0, 0, 0, 0) is None
    assert decode_syscall(-1, 0, 0, 0, 0) is None
    assert decode_syscall(0, 3, 0, 0, 0) is None
    assert decode_syscall(0, 2, 1, 2, 3) == (SyscallClass.YIELD, (2, 1, 2, 3))
    # A command's r0 is a driver number: any value decodes.
    assert decode_syscall(2, 3, 0, 0, 0) == (SyscallClass.COMMAND, (3, 0, 0, 0))
    assert decode_syscall(7, 1 << 32 | 1, -1, 0, 0) == (SyscallClass.ALLOW_UR, (1, 0xFFFF_FFFF, 0, 0))


@pytest.mark.parametrize("cls, regs, text", [
    (0, (0, 0x2000_0100, 0, 0), "Yield { yield_type: NoWait { ptr: 0x20000100 } }"),
    (0, (1, 0, 0, 0), "Yield { yield_type: Wait }"),
    (0, (2, 3, 1, 0), "Yield { yield_type: WaitFor { driver_number: 3, subdriver_number: 1 } }"),
    (1, (1, 1, 0x40081, 0), "Subscribe { driver_number: 1, subdriver_number: 1, upcall_ptr: CapabilityPtr "
                            "{ ptr: 0x40081 }, appdata: MachineRegister { value: CapabilityPtr { ptr: 0x0 } } }"),
    (2, (0x40001, 1, 16, 0), "Command { driver_number: 262145, subdriver_number: 1, arg0: 16, arg1: 0 }"),
    (3, (1, 1, 0x2000_0100, 16), "ReadWriteAllow { driver_number: 1, subdriver_number: 1, "
                                 "allow_address: 0x20000100, allow_size: 16 }"),
    (4, (1, 1, 0x4_0100, 12), "ReadOnlyAllow { driver_number: 1, subdriver_number: 1, "
                              "allow_address: 0x40100, allow_size: 12 }"),
    (7, (1, 0, 0, 0), "UserspaceReadableAllow { driver_number: 1, subdriver_number: 0, "
                      "allow_address: 0x0, allow_size: 0 }"),
    (5, (0, 0x2000_1000, 0, 0), "Memop { operand: 0, arg0: 536875008 }"),
    (6, (0, 3, 0, 0), "Exit { which: 0, completion_code: 3 }"),
])
def test_syscall_debug_is_derive_debug(cls, regs, text):
    assert syscall_debug(SyscallClass(cls), regs) == text


_u32 = st.integers(0, 0xFFFF_FFFF)
_u64 = st.integers(0, 0xFFFF_FFFF_FFFF_FFFF)
_err = st.sampled_from(list(ErrorCode))


@settings(max_examples=60, deadline=None)
@given(st.one_of(
    _u32.map(SyscallReturn.success_u32),
    st.tuples(_u32, _u32).map(lambda t: SyscallReturn.success_u32_u32(*t)),
    st.tuples(_u32, _u32, _u32).map(lambda t: SyscallReturn.success_u32_u32_u32(*t)),
    _u64.map(SyscallReturn.success_u64),
    st.tuples(_u32, _u64).map(lambda t: SyscallReturn.success_u32_u64(*t)),
    _err.map(SyscallReturn.failure),
    st.tuples(_err, _u32).map(lambda t: SyscallReturn.failure_u32(*t)),
    st.tuples(_err, _u32, _u32).map(lambda t: SyscallReturn.failure_u32_u32(*t)),
    st.tuples(_err, _u64).map(lambda t: SyscallReturn.failure_u64(*t)),
), st.tuples(_u32, _u32, _u32, _u32))
def test_any_value_round_trips_through_registers(ret, prev):
    regs = ret.registers(prev)
    assert all(0 <= x <= 0xFFFF_FFFF for x in regs)
    assert regs[0] == int(ret.variant)
    assert SyscallReturn.decode(*regs) == ret
