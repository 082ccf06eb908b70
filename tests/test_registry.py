"""IPC Registry String Name (0xA0000) and Package Name (0xA0001), through the kernel API.

Manual processes issue the syscalls; upcalls are read off the task queue
(a Null Upcall leaves a ReturnValue task that Yield-WaitFor would see).
"""

from __future__ import annotations

import pytest

from tockshell.abi import ErrorCode, SyscallClass as C, SyscallReturn, Variant
from tockshell.board import build_board
from tockshell.capsules.registry import (IpcRegistryPackageName, IpcRegistryStringName, format_ipc_id,
                                         ipc_id_from_halves, ipc_id_halves, ipc_identifier, show_name)

from manual_app import ManualApp

REG = 0xA0000
PKG = 0xA0001
NODEVICE = int(ErrorCode.NODEVICE)


class App(ManualApp):
    """A manual process with registry helpers."""

    def cmd(self, drv, num, a0=0, a1=0):
        return self.sys(C.COMMAND, drv, num, a0, a1)

    def allow_ro(self, drv, num, data):
        addr, n = self.buf(data) if data else (0, 0)
        return self.sys(C.ALLOW_RO, drv, num, addr, n)

    def upcalls(self, drv, sub):
        return [t.args for t in self.p.tasks if t.upcall_id == (drv, sub)]

    def name20(self, text: str) -> bytes:
        return text.encode().ljust(20, b"\0")


@pytest.fixture
def board():
    return build_board(fault_policy="restart")


@pytest.fixture
def k(board):
    return board.kernel


# ------------------------------------------------------------------ IPC Identifier
def test_ipc_identifier_is_short_id_over_process_id(k):
    a = App(k, "a")
    b = App(k, "b", short_id=0x2A)
    assert ipc_identifier(a.p) == a.p.identifier
    assert ipc_identifier(b.p) == (0x2A << 32) | b.p.identifier
    assert ipc_id_halves(ipc_identifier(b.p)) == (b.p.identifier, 0x2A)
    assert ipc_id_from_halves(7, 0x2A) == (0x2A << 32) | 7
    assert format_ipc_id(ipc_id_from_halves(3, 0x2A)) == "0x0000002a_00000003"


def test_ipc_identifier_changes_on_restart(k):
    a = App(k, "a", short_id=0x10)
    before = ipc_identifier(a.p)
    k.try_restart(a.p)
    after = ipc_identifier(a.p)
    assert before != after
    assert after >> 32 == 0x10  # the ShortId half survives


# ------------------------------------------------------------------ string name: grant and basics
def test_string_name_grant_slots(board, k):
    d = board.driver("registry_name")
    assert isinstance(d, IpcRegistryStringName)
    assert d.driver_num == REG
    spec = d.grant
    assert (spec.upcalls, spec.allow_ro, spec.allow_rw) == (2, 1, 0)
    assert spec.size == 4 + 8 * 3 + 20
    a = App(k, "a")
    assert a.sys(C.SUBSCRIBE, REG, 2, 0, 0).error == ErrorCode.NOSUPPORT
    assert a.sys(C.ALLOW_RW, REG, 0, 0, 0).error == ErrorCode.NOSUPPORT
    assert a.sys(C.ALLOW_RO, REG, 1, 0, 0).error == ErrorCode.NOSUPPORT
    assert a.sys(C.SUBSCRIBE, REG, 1, 0, 0).is_success


def test_string_name_exists_and_unknown(k):
    a = App(k, "a")
    assert a.cmd(REG, 0) == SyscallReturn.success()
    assert a.p.grant_for_driver(REG) is None  # command 0 enters no grant
    assert a.cmd(REG, 3) == SyscallReturn.failure(ErrorCode.NOSUPPORT)


@pytest.mark.parametrize("length", [0, 1, 19, 21, 64])
def test_string_name_register_needs_exactly_20_bytes(k, length):
    a = App(k, "a")
    if length:
        a.allow_ro(REG, 0, b"x" * length)
    assert a.cmd(REG, 1) == SyscallReturn.failure(ErrorCode.SIZE)
    assert a.cmd(REG, 2) == SyscallReturn.failure(ErrorCode.SIZE)
    assert a.upcalls(REG, 0) == [] and a.upcalls(REG, 1) == []


def test_string_name_all_zero_is_inval(k):
    a = App(k, "a")
    a.allow_ro(REG, 0, bytes(20))
    assert a.cmd(REG, 1) == SyscallReturn.failure(ErrorCode.INVAL)
    assert a.cmd(REG, 2) == SyscallReturn.failure(ErrorCode.INVAL)


def test_string_name_register_copies_into_grant_and_upcalls(board, k):
    a = App(k, "svc")
    a.allow_ro(REG, 0, a.name20("thread"))
    assert a.cmd(REG, 1) == SyscallReturn.success()
    assert a.upcalls(REG, 0) == [(0, 0, 0)]
    g = a.p.grant_for_driver(REG)
    assert g.data.registered_name == a.name20("thread")
    # The name lives in the grant: changing the allowed buffer afterwards changes nothing.
    addr, _ = g.allow_ro[0]
    a.p.write(addr, b"other".ljust(20, b"\0"))
    assert g.data.registered_name == a.name20("thread")
    d = board.driver("registry_name")
    assert d.describe_grant(g.data) == 'registered as "thread"'
    assert d.registrations() == [(a.p, '"thread"')]


def test_string_name_first_come_first_served(k):
    a, b = App(k, "a"), App(k, "b")
    a.allow_ro(REG, 0, a.name20("svc"))
    b.allow_ro(REG, 0, b.name20("svc"))
    assert a.cmd(REG, 1).is_success
    assert b.cmd(REG, 1) == SyscallReturn.failure(ErrorCode.ALREADY)
    assert b.upcalls(REG, 0) == []
    # Registering your own name again is not a conflict.
    assert a.cmd(REG, 1).is_success


def test_string_name_reregister_replaces(k):
    a, b = App(k, "a"), App(k, "b")
    a.allow_ro(REG, 0, a.name20("one"))
    a.cmd(REG, 1)
    a.allow_ro(REG, 0, a.name20("two"))
    a.cmd(REG, 1)
    # One name per process: "one" is free again.
    b.allow_ro(REG, 0, b.name20("one"))
    assert b.cmd(REG, 1).is_success


def test_string_name_freed_when_holder_dies(k):
    a, b = App(k, "a"), App(k, "b")
    a.allow_ro(REG, 0, a.name20("svc"))
    a.cmd(REG, 1)
    k.terminate(a.p)
    b.allow_ro(REG, 0, b.name20("svc"))
    assert b.cmd(REG, 1).is_success


def test_string_name_registration_lost_on_restart(k):
    a, c = App(k, "a"), App(k, "c")
    a.allow_ro(REG, 0, a.name20("svc"))
    a.cmd(REG, 1)
    k.try_restart(a.p)
    c.allow_ro(REG, 0, c.name20("svc"))
    c.cmd(REG, 2)
    assert c.upcalls(REG, 1) == [(NODEVICE, 0, 0)]


def test_string_name_discover(k):
    s = App(k, "svc", short_id=0x1234)
    c = App(k, "cli")
    s.allow_ro(REG, 0, s.name20("thread"))
    s.cmd(REG, 1)
    c.allow_ro(REG, 0, c.name20("thread"))
    assert c.cmd(REG, 2) == SyscallReturn.success()
    assert c.upcalls(REG, 1) == [(0, s.p.identifier, 0x1234)]


def test_string_name_discover_no_match_is_success_plus_nodevice(k):
    s, c = App(k, "svc"), App(k, "cli")
    s.allow_ro(REG, 0, s.name20("thread"))
    s.cmd(REG, 1)
    c.allow_ro(REG, 0, c.name20("threads"))
    assert c.cmd(REG, 2) == SyscallReturn.success()
    assert c.upcalls(REG, 1) == [(NODEVICE, 0, 0)]


def test_string_name_discover_skips_self(k):
    s = App(k, "svc")
    s.allow_ro(REG, 0, s.name20("thread"))
    s.cmd(REG, 1)
    assert s.cmd(REG, 2).is_success
    assert s.upcalls(REG, 1) == [(NODEVICE, 0, 0)]


def test_string_name_discover_after_restart_gives_new_identifier(k):
    s, c = App(k, "svc", short_id=7), App(k, "cli")
    s.allow_ro(REG, 0, s.name20("x"))
    s.cmd(REG, 1)
    c.allow_ro(REG, 0, c.name20("x"))
    c.cmd(REG, 2)
    old = c.upcalls(REG, 1)[-1]
    k.try_restart(s.p)
    s.rebase()
    s.allow_ro(REG, 0, s.name20("x"))
    s.cmd(REG, 1)
    c.cmd(REG, 2)
    new = c.upcalls(REG, 1)[-1]
    assert old[0] == new[0] == 0
    assert old[2] == new[2] == 7
    assert new[1] == s.p.identifier != old[1]


def test_string_name_subscribed_upcall_is_a_function_call(k):
    s = App(k, "svc")
    fn = s.p.flash_start + s.p.header_len + 0x80
    assert s.sys(C.SUBSCRIBE, REG, 0, fn, 0x55).is_success
    s.allow_ro(REG, 0, s.name20("svc"))
    s.cmd(REG, 1)
    t = s.p.tasks[-1]
    assert t.kind == "FunctionCall" and t.pc == fn and t.appdata == 0x55 and t.args == (0, 0, 0)


def test_string_name_yield_wait_for_registration(k):
    s = App(k, "svc")
    s.allow_ro(REG, 0, s.name20("svc"))
    s.cmd(REG, 1)
    r = s.sys(C.YIELD, 2, REG, 0)
    assert r.args == (0, 0, 0)


# ------------------------------------------------------------------ the registration filter
def test_filter_null_by_default(board):
    assert board.driver("registry_name").config_keys() == {"filter": "null"}


def test_filter_deny_refuses_with_fail(board, k):
    d = board.driver("registry_name")
    d.set_config("filter", "deny")
    a = App(k, "a")
    a.allow_ro(REG, 0, a.name20("svc"))
    assert a.cmd(REG, 1) == SyscallReturn.failure(ErrorCode.FAIL)
    assert a.upcalls(REG, 0) == []
    assert not a.p.grant_for_driver(REG).data.registered
    assert d.stats()["refused"] == 1
    assert any(r.kind == "note" and "refused" in r.data[0] for r in k.log)
    d.set_config("filter", "null")
    assert a.cmd(REG, 1).is_success


def test_filter_allow_list_by_package_and_short_id(board, k):
    d = board.driver("registry_name")
    d.set_config("filter", ["trusted", 0x99])
    t, s, x = App(k, "trusted"), App(k, "other", short_id=0x99), App(k, "x")
    for i, app in enumerate((t, s, x)):
        app.allow_ro(REG, 0, app.name20(f"n{i}"))
    assert t.cmd(REG, 1).is_success
    assert s.cmd(REG, 1).is_success
    assert x.cmd(REG, 1) == SyscallReturn.failure(ErrorCode.FAIL)
    assert d.config_keys()["filter"] == "trusted, 0x99"


def test_policy_register_per_name(board, k):
    d = board.driver("registry_name")
    d.policy_register("thread", ["thread_svc"])
    good, bad = App(k, "thread_svc"), App(k, "mallory")
    bad.allow_ro(REG, 0, bad.name20("thread"))
    assert bad.cmd(REG, 1) == SyscallReturn.failure(ErrorCode.FAIL)
    note = [r.data[0] for r in k.log if r.kind == "note"][-1]
    assert "register \"thread\" allow thread_svc" in note
    # Other names are not affected.
    bad.allow_ro(REG, 0, bad.name20("echo"))
    assert bad.cmd(REG, 1).is_success
    good.allow_ro(REG, 0, good.name20("thread"))
    assert good.cmd(REG, 1).is_success
    d.policy_register("thread", "any")
    k.terminate(good.p)
    bad.allow_ro(REG, 0, bad.name20("thread"))
    assert bad.cmd(REG, 1).is_success


def test_filter_python_function(board, k):
    d = board.driver("registry_name")
    seen = []

    def validate(process, name):
        seen.append((process.name, name))
        return ErrorCode.BUSY if name.startswith(b"no") else None

    d.filter = validate
    a = App(k, "a")
    a.allow_ro(REG, 0, a.name20("nope"))
    assert a.cmd(REG, 1) == SyscallReturn.failure(ErrorCode.BUSY)
    a.allow_ro(REG, 0, a.name20("yes"))
    assert a.cmd(REG, 1).is_success
    assert seen == [("a", a.name20("nope")), ("a", a.name20("yes"))]


def test_filter_function_raising_is_a_refusal_not_a_crash(board, k):
    d = board.driver("registry_name")
    d.filter = lambda p, n: 1 / 0
    a = App(k, "a")
    a.allow_ro(REG, 0, a.name20("x"))
    assert a.cmd(REG, 1) == SyscallReturn.failure(ErrorCode.FAIL)


def test_filter_runs_after_already(board, k):
    d = board.driver("registry_name")
    a, b = App(k, "a"), App(k, "b")
    a.allow_ro(REG, 0, a.name20("svc"))
    a.cmd(REG, 1)
    d.set_config("filter", "deny")
    b.allow_ro(REG, 0, b.name20("svc"))
    assert b.cmd(REG, 1).error == ErrorCode.ALREADY


@pytest.mark.parametrize("value", [3.5, [], [""], [True], [0], ["ok", None]])
def test_filter_bad_values_are_clear_errors(board, value):
    d = board.driver("registry_name")
    with pytest.raises(ValueError) as e:
        d.set_config("filter", value)
    assert "registry_name.filter" in str(e.value)


def test_unknown_config_key(board):
    with pytest.raises(ValueError, match="no setting 'colour'"):
        board.driver("registry_name").set_config("colour", "red")


def test_policy_name_too_long(board):
    with pytest.raises(ValueError, match="1 to 20 bytes"):
        board.driver("registry_name").policy_register("x" * 21, "any")


# ------------------------------------------------------------------ package name
def test_package_grant_slots(board):
    d = board.driver("registry_pkg")
    assert isinstance(d, IpcRegistryPackageName) and d.driver_num == PKG
    assert (d.grant.upcalls, d.grant.allow_ro, d.grant.allow_rw) == (2, 1, 0)
    assert d.grant.size == 4 + 8 * 3 + 4


def test_package_register_and_discover(k):
    s = App(k, "svc", package="org.tockos.thread-service", short_id=0xBEEF)
    c = App(k, "cli")
    assert s.cmd(PKG, 0).is_success
    assert s.cmd(PKG, 1) == SyscallReturn.success()
    assert s.upcalls(PKG, 0) == [(0, 0, 0)]
    c.allow_ro(PKG, 0, b"org.tockos.thread-service")
    assert c.cmd(PKG, 2) == SyscallReturn.success()
    assert c.upcalls(PKG, 1) == [(0, s.p.identifier, 0xBEEF)]


def test_package_register_empty_package_is_nomem(k):
    a = App(k, "anon", package="")
    assert a.cmd(PKG, 1) == SyscallReturn.failure(ErrorCode.NOMEM)
    assert a.upcalls(PKG, 0) == []


def test_package_discover_only_registered(k):
    s = App(k, "svc")  # package defaults to the name, but it never registers
    c = App(k, "cli")
    c.allow_ro(PKG, 0, b"svc")
    assert c.cmd(PKG, 2).is_success
    assert c.upcalls(PKG, 1) == [(NODEVICE, 0, 0)]
    s.cmd(PKG, 1)
    c.cmd(PKG, 2)
    assert c.upcalls(PKG, 1)[-1] == (0, s.p.identifier, 0)


@pytest.mark.parametrize("sought", [b"", b"sv", b"svc\0", b"SVC", b"svcx"])
def test_package_discover_compares_whole_names(k, sought):
    s, c = App(k, "svc"), App(k, "cli")
    s.cmd(PKG, 1)
    if sought:
        c.allow_ro(PKG, 0, sought)
    assert c.cmd(PKG, 2).is_success
    assert c.upcalls(PKG, 1) == [(NODEVICE, 0, 0)]


def test_package_duplicates_both_register_first_slot_wins(k):
    a = App(k, "a", package="dup")
    b = App(k, "b", package="dup")
    c = App(k, "c")
    assert a.cmd(PKG, 1).is_success and b.cmd(PKG, 1).is_success  # no ALREADY in this registry
    c.allow_ro(PKG, 0, b"dup")
    c.cmd(PKG, 2)
    assert c.upcalls(PKG, 1) == [(0, a.p.identifier, 0)]


def test_package_discover_skips_self(k):
    a = App(k, "a")
    a.cmd(PKG, 1)
    a.allow_ro(PKG, 0, b"a")
    a.cmd(PKG, 2)
    assert a.upcalls(PKG, 1) == [(NODEVICE, 0, 0)]


def test_package_filter(board, k):
    d = board.driver("registry_pkg")
    d.policy_register("svc", [0x77])
    s = App(k, "svc")
    assert s.cmd(PKG, 1) == SyscallReturn.failure(ErrorCode.FAIL)
    s2 = App(k, "svc2", package="svc", short_id=0x77)
    assert s2.cmd(PKG, 1).is_success
    assert d.describe_grant(s2.p.grant_for_driver(PKG).data) == "registered under its package name"
    assert d.registrations() == [(s2.p, '"svc"')]
    assert d.stats()["refused"] == 1 and d.stats()["registrations"] == 1


def test_package_registration_wiped_by_restart(k):
    s, c = App(k, "svc"), App(k, "cli")
    s.cmd(PKG, 1)
    k.try_restart(s.p)
    c.allow_ro(PKG, 0, b"svc")
    c.cmd(PKG, 2)
    assert c.upcalls(PKG, 1) == [(NODEVICE, 0, 0)]


def test_discover_with_a_full_task_queue_still_succeeds(k):
    s, c = App(k, "svc"), App(k, "cli")
    s.cmd(PKG, 1)
    c.allow_ro(PKG, 0, b"svc")
    for _ in range(12):
        assert c.cmd(PKG, 2).is_success  # the upcall is lost once the queue is full, as in Tock
    assert len(c.p.tasks) == 9
    assert c.p.dropped_upcalls == 3


def test_registry_stats_and_reset(board, k):
    d = board.driver("registry_name")
    s, c = App(k, "svc"), App(k, "cli")
    s.allow_ro(REG, 0, s.name20("a"))
    s.cmd(REG, 1)
    c.allow_ro(REG, 0, c.name20("a"))
    c.cmd(REG, 2)
    c.allow_ro(REG, 0, c.name20("b"))
    c.cmd(REG, 2)
    c.allow_ro(REG, 0, b"short")
    c.cmd(REG, 2)
    assert d.stats() == {"registrations": 1, "refused": 0, "discoveries": 1, "not_found": 1, "failures": 1}
    d.reset()
    assert set(d.stats().values()) == {0}


def test_show_name():
    assert show_name(b"thread".ljust(20, b"\0")) == '"thread"'
    assert show_name(b"\x01\x02") == 'x"01 02"'
    assert show_name(b"a\0b") == 'x"61 00 62"'


def test_results_print_in_trd104_terms(k):
    a = App(k, "a")
    a.allow_ro(REG, 0, b"short")
    r = a.cmd(REG, 1)
    assert str(r) == "Failure(SIZE)" and r.variant == Variant.FAILURE


def test_set_policy_entry_point_shared_with_ipcmgr(board, k):
    d = board.driver("registry_name")
    d.set_policy("register", "svc", ("owner",))
    d.set_policy("clients", "svc", ("anyone",))  # no discovery validation upstream: ignored
    with pytest.raises(ValueError):
        d.set_policy("bogus", "svc", ("x",))
    m = App(k, "mallory")
    m.allow_ro(REG, 0, m.name20("svc"))
    assert m.cmd(REG, 1).error == ErrorCode.FAIL
    c = App(k, "cli")
    c.allow_ro(REG, 0, c.name20("svc"))
    assert c.cmd(REG, 2).is_success  # discovery is never filtered


def test_filter_off_flag_is_null(board):
    d = board.driver("registry_name")
    d.set_config("filter", "deny")
    d.set_config("filter", False)
    assert d.config_keys()["filter"] == "null"
    d.set_config("filter", 0x42)
    assert d.config_keys()["filter"] == "0x42"
    d.set_config("filter", "solo")
    assert d.config_keys()["filter"] == "solo"
