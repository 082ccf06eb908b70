"""Expressions: values, patterns, names with dots, fields, errors."""

from __future__ import annotations

import pytest

from tockshell.abi import ErrorCode, SyscallReturn
from tockshell.lang.errors import TshError
from tockshell.lang.values import Pattern, ResultValue, Symbol, Time, equal, show, show_echo


def ev(sh, text):
    sh(f"let __v = {text}")
    return sh.session.variables["__v"]


@pytest.mark.parametrize("text,value", [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("7 / 2", 3), ("7 % 4", 3), ("-3 + 1", -2),
    ("0x10 + 1_000", 1016), ("4k", 4096), ("2 < 3 and 3 <= 3", True), ("not (1 == 1)", False),
    ("1 == 2 or 2 == 2", True), ('"ab" + "c"', "abc"), ('x"61 62" == "ab"', True),
    ('"ab" == x"61 62"', True), ("none == none", True), ("true != false", True),
    ("Running", Symbol("Running")), ("NODEVICE", Symbol("NODEVICE")), ('len("abc")', 3),
    ("hex(255)", Symbol("0xff")),
])
def test_values(sh, text, value):
    v = ev(sh, text)
    assert v == value and type(v) is type(value) or (isinstance(value, bool) and v is value)


def test_durations_are_times(sh):
    v = ev(sh, "10ms")
    assert isinstance(v, Time) and v == 10_000_000 and show(v) == "10ms"
    assert isinstance(ev(sh, "(now + 1ms)"), Time)


def test_true_is_not_one(sh):
    assert ev(sh, "true == 1") is False


@pytest.mark.parametrize("pattern,ret,ok", [
    ("Success", SyscallReturn.success_u32(3), True),
    ("Success", SyscallReturn.failure(ErrorCode.NODEVICE), False),
    ("Failure", SyscallReturn.failure(ErrorCode.NODEVICE), True),
    ("Failure(NODEVICE)", SyscallReturn.failure_u32_u32(ErrorCode.NODEVICE, 1, 2), True),
    ("Failure(INVAL)", SyscallReturn.failure(ErrorCode.NODEVICE), False),
    ("Failure(INVALID)", SyscallReturn.failure(ErrorCode.INVAL), True),
    ("Success(u32=3)", SyscallReturn.success_u32(3), True),
    ("Success(u32=3)", SyscallReturn.success_u32(4), False),
    ("Success(u32=3)", SyscallReturn.success_u32_u32(3, 0), False),
    ("Success(u32=3)", SyscallReturn.success(), False),
    ("SuccessU32", SyscallReturn.success_u32(9), True),
    ("SuccessU32U32", SyscallReturn.success_u32(9), False),
    ("Failure(INVAL, 0x20001000, 16)",
     SyscallReturn.of_kind("AllowReadWriteFailure", (0x20001000, 16), ErrorCode.INVAL), True),
    ("Failure(INVAL, 0x20001000, 17)",
     SyscallReturn.of_kind("AllowReadWriteFailure", (0x20001000, 16), ErrorCode.INVAL), False),
    ("Success(0x0, 0)", SyscallReturn.of_kind("SubscribeSuccess", (0, 0)), True),
    ("Success(1, 2, 3)", SyscallReturn.success_u32_u32(1, 2), False),
    ("Success(u64=5)", SyscallReturn.success_u64(5), True),
])
def test_patterns_compare_only_what_they_name(sh, pattern, ret, ok):
    sh.session.last_result = ResultValue(ret)
    assert ev(sh, f"$_ == {pattern}") is ok
    assert ev(sh, f"{pattern} == $_") is ok
    assert ev(sh, f"$_ != {pattern}") is (not ok)


def test_pattern_does_not_match_none_or_wait_for(sh):
    from tockshell.abi import YieldWaitForReturn

    assert ev(sh, "$_ == Success") is False
    sh.session.last_result = ResultValue(YieldWaitForReturn((1, 2, 3)), (2, 3, 0, 7))
    assert ev(sh, "$_ == Success") is False
    assert ev(sh, "$_.r0") == 1 and ev(sh, "$_.r3") == 7 and ev(sh, "$_.values[2]") == 3


def test_unknown_variant_suggests(sh):
    with pytest.raises(TshError, match="did you mean 'SuccessU32'"):
        ev(sh, "SuccessU23")


def test_result_fields(sh):
    sh.session.last_result = ResultValue(SyscallReturn.of_kind("SubscribeSuccess", (0x4007d, 9)), (1, 1, 0x40099, 0))
    assert ev(sh, "$_.r0") == 130 and ev(sh, "$_.r1") == 0x4007d and ev(sh, "$_.r2") == 9
    assert ev(sh, "$_.r3") == 0  # not written by the encoder: the caller's appdata argument
    assert ev(sh, "$_.values[0]") == 0x4007d and ev(sh, "$_.error") is None
    with pytest.raises(TshError, match="index 5 is out of range"):
        ev(sh, "$_.values[5]")
    with pytest.raises(TshError, match="did you mean 'value'"):
        ev(sh, "$_.valeu")


def test_process_fields(sh):
    sh("spawn client short_id=0x42")
    assert ev(sh, "client.state") == "Running"
    assert ev(sh, "client.state == Running") is True
    assert ev(sh, "client.pid") == 0 and ev(sh, "client.queue") == 0
    assert ev(sh, "client.short_id") == 0x42 and ev(sh, "client.completion") is None
    assert ev(sh, "client.break") == 0x20001000 and ev(sh, "client.console") == b""
    assert ev(sh, 'client.console == ""') is True
    sh("spawn u")
    assert ev(sh, "u.short_id == Unique") is True


def test_dotted_process_names(sh):
    sh("spawn a.b")
    assert ev(sh, "a.b.state") == "Running"
    assert show(ev(sh, "a.b")) == "a.b"
    with pytest.raises(TshError, match="unknown process field 'stat'"):
        ev(sh, "a.b.stat")
    with pytest.raises(TshError, match="unknown process 'x'"):
        ev(sh, "x.state")


def test_variables_with_dots_resolve_longest_prefix(sh):
    sh("let a.b = 5")
    assert ev(sh, "$a.b") == 5
    with pytest.raises(TshError, match="unknown variable"):
        ev(sh, "$zz")


def test_mem_function(sh):
    sh('spawn c\nlet a = alloc c 4\nwrite c $a "abcd"')
    assert ev(sh, "mem(c, $a, 4)") == b"abcd"
    assert ev(sh, 'mem(c, $a, 2) == "ab"') is True
    with pytest.raises(TshError, match="outside"):
        ev(sh, "mem(c, 0x10, 4)")
    with pytest.raises(TshError, match="did you mean 'mem'"):
        ev(sh, "mam(c, 1, 2)")


@pytest.mark.parametrize("text,msg", [
    ('1 + "a"', "cannot apply '+'"), ("1 / 0", "division by zero"), ('1 < "a"', "cannot order"),
    ("nosuch", "unknown name 'nosuch'"), ("-\"a\"", "cannot negate"), ('"ab"[5]', "out of range"),
])
def test_errors_have_positions(sh, text, msg):
    with pytest.raises(TshError) as e:
        ev(sh, text)
    assert msg in e.value.message and e.value.pos is not None


def test_show_never_prints_python_reprs():
    assert show(None) == "none" and show(True) == "true" and show(b"\x00\xff") == 'x"00 ff"'
    assert show(0x20000000) == "0x20000000" and show(12) == "12" and show("a\"b") == '"a\\"b"'
    assert show(ResultValue(SyscallReturn.success_u32(3))) == "Success(u32=3)"
    assert show(Pattern("Failure", (Symbol("NODEVICE"),), called=True)) == "Failure(NODEVICE)"
    assert show((1, 2)) == "[1, 2]" and show({"kind": Symbol("break")}) == "{kind: break}"
    assert show_echo(0x20000000) == str(0x20000000) and show_echo(b"hi") == "hi"
    assert equal(b"hi", "hi") and not equal(1, True)
