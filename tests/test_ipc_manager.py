"""IPC Manager (ipc-2025.md §1-2): every row of its table, every error case, in the spec's order."""

from __future__ import annotations

import struct

import pytest

from test_ipc_harness import IPCMGR, World, pair
from tockshell.abi import ErrorCode, SyscallClass as C, SyscallReturn
from tockshell.capsules.ipc_manager import FIRST_CAPACITY, table_bytes

OK = SyscallReturn.success()


def fail(e):
    return SyscallReturn.failure(e)


@pytest.fixture
def w():
    return World()


def grant_sum(p):
    return sum(g.size for g in p.grants if g is not None) + sum(cg.size for cg in p.custom_grants)


# ------------------------------------------------------------------ command 0, unknown commands, slots

def test_exists_and_unknown_commands(w):
    p = w.spawn("p")
    assert w.cmd(p, IPCMGR, 0) == OK
    assert w.cmd(p, IPCMGR, 5) == fail(ErrorCode.NOSUPPORT)
    # The grant declares 1 upcall, 1 RO allow, 0 RW allows.
    assert w.subscribe(p, IPCMGR, 0).is_success
    assert w.subscribe(p, IPCMGR, 1).error is ErrorCode.NOSUPPORT
    assert w.allow_ro(p, IPCMGR, 1, b"x").error is ErrorCode.NOSUPPORT
    assert w.k.syscall(p, C.ALLOW_RW, IPCMGR, 0, 0, 0).error is ErrorCode.NOSUPPORT


def test_command_zero_allocates_nothing(w):
    p = w.spawn("p")
    w.cmd(p, IPCMGR, 0)
    assert w.k.grant_of(p, w.mgr) is None


# ------------------------------------------------------------------ register

def test_register_nothing_allowed_is_reserve(w):
    p = w.spawn("p")
    assert w.cmd(p, IPCMGR, 1) == fail(ErrorCode.RESERVE)
    assert "nothing in RO allow 0" in w.last_note()


def test_register_zero_length_is_reserve(w):
    p = w.spawn("p")
    w.allow_ro(p, IPCMGR, 0, b"echo")
    w.allow_ro(p, IPCMGR, 0, None)
    assert w.cmd(p, IPCMGR, 1) == fail(ErrorCode.RESERVE)


def test_register_size_limits(w):
    p = w.spawn("p")
    assert w.register(p, b"x" * 33) == fail(ErrorCode.SIZE)
    assert w.register(p, b"x" * 32) == OK
    q = w.spawn("q")
    assert w.register(q, b"y") == OK


def test_register_name_held_by_another_live_process(w):
    a, b = w.spawn("a"), w.spawn("b")
    assert w.register(a, b"echo") == OK
    assert w.register(b, b"echo") == fail(ErrorCode.ALREADY)
    assert "first come, first served" in w.last_note()


def test_register_second_name_is_already(w):
    a = w.spawn("a")
    assert w.register(a, b"one") == OK
    assert w.register(a, b"two") == fail(ErrorCode.ALREADY)
    assert w.register(a, b"one") == fail(ErrorCode.ALREADY)
    assert "one service per process" in w.last_note()


def test_register_checks_in_order_size_before_already(w):
    a = w.spawn("a")
    w.register(a, b"one")
    assert w.register(a, b"z" * 40) == fail(ErrorCode.SIZE)


def test_register_taken_name_is_already_even_when_policy_would_refuse(w):
    a, b = w.spawn("a"), w.spawn("b")
    w.mgr.set_policy("register", "echo", ["a"])
    assert w.register(a, b"echo") == OK
    assert w.register(b, b"echo") == fail(ErrorCode.ALREADY)


def test_register_policy_refuses_with_fail_and_names_the_rule(w):
    good, bad = w.spawn("good"), w.spawn("bad")
    w.mgr.set_policy("register", "echo", ["good"])
    assert w.register(bad, b"echo") == fail(ErrorCode.FAIL)
    note = w.last_note()
    assert "policy register echo allow good" in note and "package 'bad'" in note
    assert w.register(good, b"echo") == OK


def test_register_policy_by_short_id_and_any(w):
    a = w.spawn("a", short_id=0x1234)
    b = w.spawn("b")
    w.mgr.set_policy("register", "s1", [0x1234])
    w.mgr.set_policy("register", "s2", ["any"])
    assert w.register(b, b"s1") == fail(ErrorCode.FAIL)  # LocallyUnique matches no number
    assert w.register(a, b"s1") == OK
    assert w.register(b, b"s2") == OK


def test_register_policy_by_package_not_process_name(w):
    a = w.spawn("a", package="org.tockos.echo")
    w.mgr.set_policy("register", "echo", ["org.tockos.echo"])
    assert w.register(a, b"echo") == OK


def test_registration_disappears_on_terminate_and_restart(w):
    a, b = w.spawn("a"), w.spawn("b")
    assert w.register(a, b"echo") == OK
    w.k.terminate(a)
    assert w.discover(b, b"echo") == fail(ErrorCode.NODEVICE)
    assert w.register(b, b"echo") == OK  # the name is free again
    w.k.boot(a)
    assert w.register(a, b"echo") == fail(ErrorCode.ALREADY)
    w.k.try_restart(b)
    assert w.mgr.holder_of(b"echo") is None  # it must register again
    assert w.register(b, b"echo") == OK


def test_registered_name_is_copied_into_the_grant(w):
    a = w.spawn("a")
    w.register(a, b"echo")
    g = w.k.grant_of(a, w.mgr)
    data = a.read(g.address + g.size - 40, 40)
    assert data[:4] == b"echo" and data[32] == 4
    # Changing the allow afterwards changes nothing: the name was copied.
    w.allow_ro(a, IPCMGR, 0, b"other")
    assert w.mgr.holder_of(b"echo") is a


# ------------------------------------------------------------------ discover

def test_discover_nothing_allowed_is_reserve(w):
    c = w.spawn("c")
    assert w.cmd(c, IPCMGR, 2) == fail(ErrorCode.RESERVE)


def test_discover_unknown_name_is_nodevice(w):
    c = w.spawn("c")
    assert w.discover(c, b"nobody") == fail(ErrorCode.NODEVICE)


def test_discover_compares_byte_for_byte(w):
    s, c = w.spawn("s"), w.spawn("c")
    w.register(s, b"echo")
    assert w.discover(c, b"Echo") == fail(ErrorCode.NODEVICE)
    assert w.discover(c, b"echo\0") == fail(ErrorCode.NODEVICE)
    assert w.discover(c, b"ech") == fail(ErrorCode.NODEVICE)
    assert w.discover(c, b"echo").is_success


def test_discover_own_name_is_inval(w):
    s = w.spawn("s")
    w.register(s, b"echo")
    assert w.discover(s, b"echo") == fail(ErrorCode.INVAL)


def test_discover_order_nodevice_before_inval(w):
    s = w.spawn("s")
    assert w.discover(s, b"echo") == fail(ErrorCode.NODEVICE)


def test_client_policy_refusal_looks_like_a_missing_service(w):
    s, ok, bad = w.spawn("s"), w.spawn("ok"), w.spawn("bad", short_id=0x99)
    w.register(s, b"echo")
    w.mgr.set_policy("clients", "echo", ["ok", 0x42])
    w.allow_ro(bad, IPCMGR, 0, b"echo")
    before = (bad.kernel_memory_break, s.kernel_memory_break, len(s.tasks))
    assert w.cmd(bad, IPCMGR, 2) == fail(ErrorCode.NODEVICE)
    note = w.last_note()
    assert "refused by board policy `policy clients echo allow ok, 0x42`" in note
    assert "ShortId 0x99" in note
    # Nothing was opened or told: the refused app can learn nothing beyond NODEVICE.
    assert (bad.kernel_memory_break, s.kernel_memory_break, len(s.tasks)) == before
    assert w.mgr.table_of(bad) is None
    assert w.discover(ok, b"echo").is_success


def test_client_policy_checked_after_own_name(w):
    s = w.spawn("s")
    w.register(s, b"echo")
    w.mgr.set_policy("clients", "echo", ["someone_else"])
    assert w.discover(s, b"echo") == fail(ErrorCode.INVAL)


def test_discover_opens_both_tables_and_tells_the_service(w):
    s, c = w.spawn("s", short_id=0xBEEF), w.spawn("c", short_id=0x77)
    w.register(s, b"echo")
    w.subscribe(s, IPCMGR, 0)
    assert w.mgr.table_of(s) is None  # registering allocates no table
    r = w.discover(c, b"echo")
    assert r == SyscallReturn.success_u32(1)
    assert w.queued(s, IPCMGR, 0) == [(1, 0x77, 0)]
    ct, st = w.mgr.table_of(c), w.mgr.table_of(s)
    assert ct.entry(1).peer == s.pid and st.entry(1).peer == c.pid


def test_client_short_id_zero_when_locally_unique(w):
    s, c, _, _ = pair(w)
    assert w.queued(s, IPCMGR, 0) == [(1, 0, 0)]


def test_client_pd_is_the_number_in_the_services_table(w):
    s = w.spawn("s")
    w.register(s, b"echo")
    clients = [w.spawn(f"c{i}") for i in range(3)]
    for i, c in enumerate(clients):
        assert w.discover(c, b"echo") == SyscallReturn.success_u32(1)  # each client's own table
        assert w.queued(s, IPCMGR, 0)[-1] == (i + 1, 0, 0)


def test_rediscovery_returns_the_same_pd_and_creates_nothing(w):
    s, c, pd, _ = pair(w)
    state = (c.kernel_memory_break, s.kernel_memory_break, len(s.tasks), w.mgr.table_of(s).open_count)
    assert w.discover(c, b"echo") == SyscallReturn.success_u32(pd)
    assert (c.kernel_memory_break, s.kernel_memory_break, len(s.tasks),
            w.mgr.table_of(s).open_count) == state


def test_service_side_reuses_its_live_entry(w):
    s, c, pd, svc_pd = pair(w)
    assert w.cmd(c, IPCMGR, 3, pd) == OK  # the client closes; the service still holds its entry
    r = w.discover(c, b"echo")
    assert r == SyscallReturn.success_u32(pd)  # lowest free number again
    assert w.mgr.table_of(s).open_count == 1
    assert w.queued(s, IPCMGR, 0)[-1] == (svc_pd, 0, 0)


def test_mutual_services_share_one_entry_each(w):
    a, b = w.spawn("a"), w.spawn("b")
    w.register(a, b"A")
    w.register(b, b"B")
    pd_ab = w.discover(a, b"B").value
    pd_ba = w.discover(b, b"A").value
    assert (pd_ab, pd_ba) == (1, 1)
    assert w.mgr.table_of(a).open_count == 1 and w.mgr.table_of(b).open_count == 1


def test_discover_of_restarted_service_opens_a_new_descriptor(w):
    s, c, pd, _ = pair(w)
    w.k.try_restart(s)
    assert w.register(s, b"echo") == OK
    assert w.cmd(c, IPCMGR, 4, pd) == SyscallReturn.success_u32(0)
    r = w.discover(c, b"echo")
    assert r == SyscallReturn.success_u32(2)  # pd 1 stays, stale, until closed


# ------------------------------------------------------------------ descriptors: numbering, growth, NOMEM

def test_numbers_start_at_one_and_lowest_free_first(w):
    c = w.spawn("c")
    svcs = [w.spawn(f"s{i}") for i in range(4)]
    for i, s in enumerate(svcs):
        w.register(s, f"n{i}".encode())
    pds = [w.discover(c, f"n{i}".encode()).value for i in range(4)]
    assert pds == [1, 2, 3, 4]
    assert w.cmd(c, IPCMGR, 3, 2) == OK
    assert w.cmd(c, IPCMGR, 3, 3) == OK
    w.k.try_restart(svcs[1])
    w.register(svcs[1], b"n1")
    assert w.discover(c, b"n1").value == 2


def test_pd_zero_is_never_valid(w):
    s, c, pd, _ = pair(w)
    assert w.cmd(c, IPCMGR, 3, 0) == fail(ErrorCode.INVAL)
    assert w.cmd(c, IPCMGR, 4, 0) == fail(ErrorCode.INVAL)


def test_regrowth_doubles_and_the_old_block_stays(w):
    c = w.spawn("c")
    svcs = [w.spawn(f"s{i}") for i in range(9)]
    for i, s in enumerate(svcs):
        w.register(s, f"n{i}".encode())
    used0 = c.grant_bytes
    for i in range(4):
        w.discover(c, f"n{i}".encode())
    t = w.mgr.table_of(c)
    assert [b.capacity for b in t.blocks] == [FIRST_CAPACITY]
    first_block = c.grant_bytes
    assert w.discover(c, b"n4") == SyscallReturn.success_u32(5)
    assert [b.capacity for b in t.blocks] == [4, 8]
    assert c.grant_bytes - first_block == table_bytes(8)
    assert t.bytes_wasted == table_bytes(4) == 40
    for i in range(5, 9):
        w.discover(c, f"n{i}".encode())
    assert [b.capacity for b in t.blocks] == [4, 8, 16]
    assert t.bytes_wasted == 40 + 72
    assert c.grant_bytes == grant_sum(c)
    assert c.grant_bytes > used0
    assert "regrew from 8 to 16" in "\n".join(w.notes())


def test_table_bytes_are_in_ram(w):
    s, c, pd, _ = pair(w)
    t = w.mgr.table_of(c)
    blk = t.current
    raw = c.read(blk.address, blk.size)
    cap, n_open, prev = struct.unpack_from("<HHI", raw, 0)
    assert (cap, n_open, prev) == (4, 1, 0)
    word0, ident = struct.unpack_from("<II", raw, 8)
    assert word0 == (s.index | 0x8000_0000) and ident == s.identifier
    assert raw[16:] == bytes(blk.size - 16)
    # The grant's T points at the table.
    g = w.k.grant_of(c, w.mgr)
    assert struct.unpack_from("<I", c.read(g.address + g.size - 4, 4))[0] == blk.address
    w.cmd(c, IPCMGR, 3, pd)
    assert c.read(blk.address + 8, 8) == bytes(8)


def test_regrown_table_links_to_its_old_block(w):
    c = w.spawn("c")
    for i in range(5):
        s = w.spawn(f"s{i}")
        w.register(s, f"n{i}".encode())
        w.discover(c, f"n{i}".encode())
    t = w.mgr.table_of(c)
    cap, n_open, prev = struct.unpack_from("<HHI", c.read(t.current.address, 8))
    assert (cap, n_open, prev) == (8, 5, t.blocks[0].address)


def _small(w, name, grant):
    """A process whose grant region leaves exactly ``room`` bytes for descriptor blocks (after its grant)."""
    return w.spawn(name, ram=1024, grant=grant)


def test_nomem_when_the_grant_region_meets_the_app_break(w):
    ipcmgr_grant = w.mgr.grant.size
    # Room for the IPC Manager grant and one 40-byte block, not for the 72-byte regrowth.
    c = _small(w, "c", ipcmgr_grant + 40 + 8)
    names = []
    for i in range(5):
        s = w.spawn(f"s{i}")
        names.append(f"n{i}".encode())
        w.register(s, names[-1])
    for i in range(4):
        assert w.discover(c, names[i]).is_success
    svc4 = w.mgr.holder_of(names[4])
    before = (c.kernel_memory_break, svc4.kernel_memory_break, w.mgr.table_of(svc4))
    assert w.discover(c, names[4]) == fail(ErrorCode.NOMEM)
    assert "neither side keeps an entry" in w.last_note()
    assert (c.kernel_memory_break, svc4.kernel_memory_break, w.mgr.table_of(svc4)) == before
    assert svc4.tasks == type(svc4.tasks)()  # no client-connected upcall


def test_rollback_when_only_the_service_side_can_be_allocated(w):
    # The client fits, the service does not: nothing is kept on the client either.
    s = _small(w, "s", w.mgr.grant.size + 8)
    c = w.spawn("c")
    w.register(s, b"echo")
    w.allow_ro(c, IPCMGR, 0, b"echo")
    c_break = c.kernel_memory_break
    assert w.cmd(c, IPCMGR, 2) == fail(ErrorCode.NOMEM)
    assert c.kernel_memory_break == c_break and w.mgr.table_of(c) is None
    assert w.mgr.table_of(s) is None
    assert "s's grant region has" in w.last_note()


def test_rollback_when_only_the_client_side_can_be_allocated(w):
    s = w.spawn("s")
    c = _small(w, "c", w.mgr.grant.size + 8)
    w.register(s, b"echo")
    s_break, s_tasks = s.kernel_memory_break, len(s.tasks)
    assert w.discover(c, b"echo") == fail(ErrorCode.NOMEM)
    assert s.kernel_memory_break == s_break and w.mgr.table_of(s) is None and len(s.tasks) == s_tasks
    assert w.mgr.table_of(c) is None


def test_nomem_uses_the_app_break_not_the_block_end(w):
    # Moving the app break up (brk) takes room from the grant region.
    s, c, _, _ = pair(w)
    t = w.mgr.table_of(c)
    room = c.kernel_memory_break - c.app_break
    assert w.k.syscall(c, C.MEMOP, 0, c.app_break + room - 8, 0, 0).is_success
    for i in range(3):
        q = w.spawn(f"q{i}")
        w.register(q, f"m{i}".encode())
        assert w.discover(c, f"m{i}".encode()).is_success  # free slots: no allocation
    q = w.spawn("q3")
    w.register(q, b"m3")
    assert w.discover(c, b"m3") == fail(ErrorCode.NOMEM)
    assert t.capacity == 4


def test_fixed_table(w):
    w.mgr.set_config("descriptors", "fixed(2)")
    c = w.spawn("c")
    for i in range(3):
        s = w.spawn(f"s{i}")
        w.register(s, f"n{i}".encode())
    assert w.discover(c, b"n0").value == 1
    t = w.mgr.table_of(c)
    assert [b.capacity for b in t.blocks] == [2] and t.current.size == table_bytes(2)
    assert w.discover(c, b"n1").value == 2
    assert w.discover(c, b"n2") == fail(ErrorCode.NOMEM)
    assert "fixed table of 2 entries is full" in w.last_note()
    w.cmd(c, IPCMGR, 3, 1)
    assert w.discover(c, b"n2").value == 1
    assert len(t.blocks) == 1


def test_fixed_table_full_on_the_service_side_rolls_back(w):
    w.mgr.set_config("descriptors", "fixed(1)")
    s = w.spawn("s")
    w.register(s, b"echo")
    c1, c2 = w.spawn("c1"), w.spawn("c2")
    assert w.discover(c1, b"echo").is_success
    assert w.discover(c2, b"echo") == fail(ErrorCode.NOMEM)
    assert w.mgr.table_of(c2) is None


# ------------------------------------------------------------------ close and query

def test_close(w):
    s, c, pd, svc_pd = pair(w)
    assert w.cmd(c, IPCMGR, 3, 7) == fail(ErrorCode.INVAL)
    assert w.cmd(c, IPCMGR, 3, pd) == OK
    assert w.cmd(c, IPCMGR, 3, pd) == fail(ErrorCode.INVAL)
    # Closing does not touch the peer's table.
    assert w.cmd(s, IPCMGR, 4, svc_pd) == SyscallReturn.success_u32(1)


def test_close_without_any_table_is_inval(w):
    c = w.spawn("c")
    assert w.cmd(c, IPCMGR, 3, 1) == fail(ErrorCode.INVAL)


def test_query(w):
    s, c, pd, svc_pd = pair(w)
    assert w.cmd(c, IPCMGR, 4, 9) == fail(ErrorCode.INVAL)
    assert w.cmd(c, IPCMGR, 4, pd) == SyscallReturn.success_u32(1)


@pytest.mark.parametrize("how", ["restart", "terminate", "fault_stop", "fault_restart", "exit_restart"])
def test_staleness(how):
    w = World(fault_policy="stop" if how == "fault_stop" else "restart")
    s, c, pd, svc_pd = pair(w)
    if how == "restart":
        w.k.try_restart(s)
    elif how == "terminate":
        w.k.terminate(s)
    elif how.startswith("fault"):
        w.k.fault(s)
    else:
        w.k.syscall(s, C.EXIT, 1, 0)
    assert w.cmd(c, IPCMGR, 4, pd) == SyscallReturn.success_u32(0)
    assert w.mgr.resolve(c, pd)[0] == "stale"
    # Stale entries stay until closed.
    assert w.mgr.table_of(c).entry(pd) is not None
    assert any("now stale" in n for n in w.notes())
    assert w.cmd(c, IPCMGR, 3, pd) == OK


def test_own_table_is_wiped_on_restart_and_others_go_stale(w):
    s, c, pd, svc_pd = pair(w)
    w.k.try_restart(c)
    assert w.mgr.table_of(c) is None
    assert c.custom_grants == []
    assert w.cmd(s, IPCMGR, 4, svc_pd) == SyscallReturn.success_u32(0)


def test_stopped_peer_is_still_live(w):
    s, c, pd, _ = pair(w)
    w.k.stop(s)
    assert w.cmd(c, IPCMGR, 4, pd) == SyscallReturn.success_u32(1)


# ------------------------------------------------------------------ raw mode

def test_raw_mode_hands_out_identifiers(w):
    w.mgr.set_config("descriptors", "raw")
    pad = w.spawn("pad")  # so identifiers and slots differ from small numbers
    w.k.try_restart(pad)
    s, c = w.spawn("s"), w.spawn("c")
    w.register(s, b"echo")
    w.subscribe(s, IPCMGR, 0)
    assert w.discover(c, b"echo") == SyscallReturn.success_u32(s.identifier)
    assert w.queued(s, IPCMGR, 0) == [(c.identifier, 0, 0)]
    assert w.mgr.table_of(c) is None and c.custom_grants == []
    assert w.cmd(c, IPCMGR, 4, s.identifier) == SyscallReturn.success_u32(1)
    assert w.cmd(c, IPCMGR, 4, 999) == SyscallReturn.success_u32(0)
    assert w.cmd(c, IPCMGR, 3, 999) == OK
    assert w.discover(s, b"echo") == fail(ErrorCode.INVAL)


# ------------------------------------------------------------------ config and policies

def test_config_keys_and_errors(w):
    assert w.mgr.config_keys() == {"descriptors": "dynamic"}
    w.mgr.set_config("descriptors", "fixed(8)")
    assert w.mgr.config_keys() == {"descriptors": "fixed(8)"}
    w.mgr.set_config("descriptors", ("fixed", 3))
    assert w.mgr.mode_text == "fixed(3)"
    w.mgr.set_config("descriptors", "dynamic")
    for bad in ("fixed", "fixed(0)", "fixed(x)", "static", "raw(2)"):
        with pytest.raises(ValueError, match="ipcmgr.descriptors"):
            w.mgr.set_config("descriptors", bad)
    with pytest.raises(ValueError, match="no setting 'colour'"):
        w.mgr.set_config("colour", "red")


def test_config_accepts_language_values(w):
    from tockshell.lang import ast

    w.mgr.set_config("descriptors", ast.Call("fixed", (ast.Number(4),)))
    assert w.mgr.mode_text == "fixed(4)"
    w.mgr.set_config("descriptors", ast.Name("raw"))
    assert w.mgr.raw


def test_mode_cannot_change_while_tables_exist(w):
    s, c, _, _ = pair(w)
    with pytest.raises(ValueError, match="held by s, c|held by svc, cli"):
        w.mgr.set_config("descriptors", "raw")
    w.mgr.set_config("descriptors", "dynamic")  # no change is always fine
    w.k.try_restart(s)
    w.k.try_restart(c)
    w.mgr.set_config("descriptors", "raw")


def test_policy_validation(w):
    with pytest.raises(ValueError):
        w.mgr.set_policy("discover", "echo", ["a"])
    with pytest.raises(ValueError):
        w.mgr.set_policy("register", "x" * 33, ["a"])
    with pytest.raises(ValueError):
        w.mgr.set_policy("register", "echo", [0])
    with pytest.raises(ValueError):
        w.mgr.set_policy("register", "echo", [])
    p = w.mgr.set_policy("clients", "echo", ["a", 0x10, "any"])
    assert str(p) == "any"


def test_policy_is_checked_once_at_discovery(w):
    s, c, pd, _ = pair(w)
    w.mgr.set_policy("clients", "echo", ["nobody"])
    # An open descriptor keeps working: validation happens at discovery, not per use.
    assert w.cmd(c, IPCMGR, 4, pd) == SyscallReturn.success_u32(1)
    assert w.discover(c, b"echo") == fail(ErrorCode.NODEVICE)


def test_registrations_listing(w):
    s, c, _, _ = pair(w)
    regs = w.mgr.registrations()
    assert [(n, p.name) for n, p, _ in regs] == [(b"echo", "svc")]


def test_grant_bytes_equal_the_allocations(w):
    s, c, _, _ = pair(w)
    for p in (s, c):
        assert p.grant_bytes == grant_sum(p)


def test_stats(w):
    pair(w)
    st = w.mgr.stats()
    assert st["registrations"] == 1 and st["discoveries"] == 1 and st["table blocks"] == 2
    assert st["table bytes"] == 80 and st["descriptors"] == "dynamic"
    w.mgr.reset_stats()
    assert w.mgr.stats()["discoveries"] == 0


def test_describe_grant(w):
    s, c, _, _ = pair(w)
    text = w.mgr.describe_grant(w.mgr.app_of(s))
    assert text.startswith('registered "echo"; descriptor table: 1 open of 4 at 0x')
