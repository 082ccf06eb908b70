"""The IPC Manager's reverse index (peer -> holders) against a full scan of every descriptor table.

Random register / discover / close / fault / restart / terminate / exit /
boot sequences (and mode changes, and a panic now and then) on manual
processes. After every step the index must equal what a scan of every live
table finds; and every "now stale" note the process-state hook wrote must be
word for word the note the former full scan wrote at the same moment (a
reference hook computes that one beside it).
"""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from test_ipc_harness import IPCMGR, World
from tockshell.abi import SyscallClass as C
from tockshell.kernel import StateKind

N = 6
NAMES = [f"n{i}".encode() for i in range(N)]
STALE = "now stale (NODEVICE on use)"

# Discovery weighs most, so tables fill, regrow and hold stale entries beside live ones.
op = st.one_of(
    st.tuples(st.just("register"), st.integers(0, N - 1)),
    st.tuples(st.just("register"), st.integers(0, N - 1)),
    st.tuples(st.just("discover"), st.integers(0, N - 1), st.integers(0, N - 1)),
    st.tuples(st.just("discover"), st.integers(0, N - 1), st.integers(0, N - 1)),
    st.tuples(st.just("discover"), st.integers(0, N - 1), st.integers(0, N - 1)),
    st.tuples(st.just("close"), st.integers(0, N - 1), st.integers(0, 9)),
    st.tuples(st.sampled_from(["fault", "restart", "exit_restart"]), st.integers(0, N - 1)),
    st.tuples(st.sampled_from(["fault", "terminate", "exit_terminate", "boot"]), st.integers(0, N - 1)),
    st.tuples(st.just("mode"), st.sampled_from(["dynamic", "fixed(3)", "raw"])),
)


def scan_index(w: World) -> dict[int, dict[int, list[int]]]:
    """peer identifier -> {holder identifier: pds}, by reading every live process's table."""
    out: dict[int, dict[int, list[int]]] = {}
    for q in w.k.live_processes():
        t = w.mgr.table_of(q)
        if t is None:
            continue
        for pd, e in t.open_items():
            out.setdefault(e.peer.identifier, {}).setdefault(q.identifier, []).append(pd)
    return out


def scan_note(w: World, p, old, cause: str) -> str | None:
    """The note the former hook wrote: every live process's table scanned with ``pd_for``."""
    held = []
    for q in w.k.live_processes():
        t = w.mgr.table_of(q)
        pd = t.pd_for(old) if t is not None else None
        if pd is not None:
            held.append(f"{q.name}'s pd {pd}")
    if not held or w.mgr.raw:
        return None
    return f"ipcmgr: {p.name} [{old.identifier}] {cause}: {', '.join(held)} {STALE}"


def play(fault_policy: str, links, ops) -> None:
    w = World(fault_policy=fault_policy)
    k, mgr = w.k, w.mgr
    ps = [w.spawn(f"p{i}", ram=2048, grant=240 + 96 * (i % 3)) for i in range(N)]
    expected: list[str] = []
    k.add_process_state_hook(lambda p, old, cause: expected.append(scan_note(w, p, old, cause)))
    seen = {p.pid for p in ps}
    for i, p in enumerate(ps):  # start from a connected world
        w.register(p, NAMES[i])
    for step in [("discover", i, j) for i, j in links] + ops:
        if k.panicked:
            break
        kind, i = step[0], step[1]
        p = ps[i] if kind != "mode" else None
        running = p is not None and p.state.kind is StateKind.RUNNING
        if kind == "register" and running:
            w.register(p, NAMES[i])
        elif kind == "discover" and running:
            w.discover(p, NAMES[step[2]])
        elif kind == "close" and running:
            t = mgr.table_of(p)
            open_pds = [pd for pd, _ in t.open_items()] if t is not None else []
            # Mostly a number that is open, sometimes one that is not.
            pd = open_pds[step[2] % len(open_pds)] if open_pds and step[2] < 8 else step[2] + 1
            w.cmd(p, IPCMGR, 3, pd)
        elif kind == "mode":
            try:
                mgr.set_config("descriptors", step[1])
            except ValueError:
                pass  # tables exist: refused, as it should be
        elif kind == "boot":
            if p.state.kind is StateKind.TERMINATED:
                k.boot(p)
        elif kind in ("exit_restart", "exit_terminate"):
            if running:
                k.syscall(p, C.EXIT, 1 if kind == "exit_restart" else 0, 0)
        elif kind == "fault":
            if p.alive:
                k.fault(p, "test")
        elif kind == "restart":
            if p.state.kind is not StateKind.TERMINATED:
                k.try_restart(p)
        elif kind == "terminate":
            if p.state.kind is not StateKind.TERMINATED:
                k.terminate(p)
        seen.update(q.pid for q in ps)

        scan = scan_index(w)
        assert mgr.holder_index() == scan
        # The index itself, not only its live view: a holder's entries leave with its table (so the
        # index stays as small as the tables), and both directions agree. Only a panic, which fires
        # no hook, leaves the panicked process's entries behind.
        index = {peer: {h: sorted(pds) for h, pds in by.items()} for peer, by in mgr._index.by_peer.items()}
        mirror: dict[int, dict[int, list[int]]] = {}
        for h, (pid, pds) in mgr._index.holders.items():
            assert pid.identifier == h
            for pd, peer in sorted(pds.items()):
                mirror.setdefault(peer, {}).setdefault(h, []).append(pd)
        assert index == mirror
        if not k.panicked:
            assert index == scan
        for pid in seen:
            want = []
            for q in k.live_processes():
                t = mgr.table_of(q)
                pd = t.pd_for(pid) if t is not None else None
                if pd is not None:
                    want.append((q, pd))
            assert mgr.stale_holders(pid) == want
    got = [r.data[0] for r in k.log if r.kind == "note" and STALE in r.data[0]]
    assert got == [n for n in expected if n is not None]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(policy=st.sampled_from(["restart", "restart", "stop", "panic"]),
       links=st.lists(st.tuples(st.integers(0, N - 1), st.integers(0, N - 1)), min_size=4, max_size=16),
       ops=st.lists(op, min_size=20, max_size=80))
def test_index_equals_a_full_scan_and_notes_are_unchanged(policy, links, ops):
    play(policy, links, ops)


def test_holder_with_two_pds_for_one_peer_is_named_by_its_first():
    """pd_for finds a holder's lowest pd for a peer; the note keeps naming that one."""
    w = World(fault_policy="restart")
    s, other, c = w.spawn("s"), w.spawn("other"), w.spawn("c")
    w.register(s, b"svc")
    w.register(other, b"other")
    assert w.discover(c, b"other").value == 1
    assert w.discover(c, b"svc").value == 2
    assert w.cmd(c, IPCMGR, 3, 1).is_success
    # Syscalls never open a second entry for one peer; put one below the first, as a table could
    # hold it, to pin the order the note promises.
    t = w.mgr.table_of(c)
    t.entries[0] = type(t.entries[1])(s.pid, s.name, w.k.now)
    w.mgr._index.add(c.pid, 1, s.pid)
    assert t.pd_for(s.pid) == 1
    assert w.mgr.stale_holders(s.pid) == [(c, 1)]
    old = s.pid
    w.k.fault(s, "test")
    notes = [r.data[0] for r in w.k.log if r.kind == "note" and STALE in r.data[0]]
    assert notes == [f"ipcmgr: s [{old.identifier}] faulted: c's pd 1 {STALE}"]
    assert w.mgr.holder_index() == scan_index(w)


def test_holders_are_named_in_slot_order_and_a_dead_holder_leaves_the_index():
    w = World(fault_policy="restart")
    s = w.spawn("s")
    cs = [w.spawn(f"c{i}") for i in range(3)]
    w.register(s, b"svc")
    for c in reversed(cs):  # discovered in reverse: the note still follows slot order
        w.discover(c, b"svc")
    assert [q.name for q, _ in w.mgr.stale_holders(s.pid)] == ["c0", "c1", "c2"]
    w.k.terminate(cs[1])
    assert [q.name for q, _ in w.mgr.stale_holders(s.pid)] == ["c0", "c2"]
    assert cs[1].identifier not in {h for by in w.mgr.holder_index().values() for h in by}
    assert w.mgr.holder_index() == scan_index(w)
