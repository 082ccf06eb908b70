"""Random register / discover / send / read / cancel / close / crash / restart sequences.

A hypothesis RuleBasedStateMachine drives four manual processes through real
syscalls and keeps its own shadow of every descriptor table, built only from
what the apps were told (discover results, "client connected" upcalls). After
every step it checks:

* every message sent ends exactly once, as read, cancelled, failed (with a
  NODEVICE upcall to its sender), withdrawn or dropped (its sender died), or
  is still in flight; with crash_notify on, nothing in flight involves a dead
  process;
* no process ever reaches a peer it holds no live descriptor for;
* each live process's grant bytes equal the sum of the allocations shown.
"""

from __future__ import annotations

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from test_ipc_harness import IPCMGR, MAILBOX, World
from tockshell.abi import ErrorCode
from tockshell.kernel import StateKind

N = 4
NAMES = [f"n{i}".encode() for i in range(N)]
#: Rules draw a "who" and a "which" and map them with IpcMachine.actor / .pick, so that
#: most actions are meaningful (a process that holds descriptors sends through one of them)
#: and some are not (an unopened number, a process with nothing to read).
who = st.integers(0, 7)
which = st.integers(0, 7)
END = ("read", "cancelled", "failed", "withdrawn", "dropped")


class IpcMachine(RuleBasedStateMachine):
    """The model's shadow state: what each process instance was told, and every message's fate."""

    @initialize(crash_notify=st.booleans(), table=st.sampled_from(["dynamic", "fixed(3)"]),
                links=st.lists(st.tuples(st.integers(0, N - 1), st.integers(0, N - 1)), min_size=3, max_size=8))
    def setup(self, crash_notify, table, links):
        self.w = World(fault_policy="restart")
        self.k, self.mgr, self.mb = self.w.k, self.w.mgr, self.w.mb
        self.mgr.set_config("descriptors", table)
        self.mb.set_config("crash_notify", crash_notify)
        # Different grant sizes, so some tables run out of room (NOMEM) and some do not.
        self.ps = [self.w.spawn(f"p{i}", ram=2048, grant=240 + 64 * i) for i in range(N)]
        self.shadow: list[dict[int, object]] = [{} for _ in range(N)]  # pd -> peer ProcessId
        self.sent = 0
        self.seen_outcomes: dict[int, str] = {}
        self.messages: dict[int, tuple] = {}  # seq -> (sender pid, the pd it used)
        self.records: list = []
        self.k.listeners.append(self.records.append)
        for i in range(N):
            self.register(i)
        for i, j in links:  # start from a connected world
            self.discover(i, j)

    # ------------------------------------------------------------------ choosing
    def actor(self, n: int, want) -> int:
        """A Running process for which ``want(i)`` holds, chosen by n; else process n % N."""
        fit = [i for i in range(N) if self.ps[i].state.kind is StateKind.RUNNING and want(i)]
        return fit[n % len(fit)] if fit and n < 6 else n % N

    def pick(self, i: int, n: int, zero: int = 0) -> int:
        """Mostly one of the numbers process i holds; sometimes one it never opened, or ``zero``."""
        held = sorted(self.shadow[i])
        if n < 6 and held:
            return held[n % len(held)]
        return zero if n == 7 else 40 + n

    def running(self, i):
        p = self.ps[i]
        return p if p.state.kind is StateKind.RUNNING else None

    def holds(self, i):
        return bool(self.shadow[i])

    # ------------------------------------------------------------------ rules
    @rule(i=st.integers(0, N - 1))
    def register(self, i):
        p = self.running(i)
        if p is not None:
            r = self.w.register(p, NAMES[i])
            assert r.is_success or r.error is ErrorCode.ALREADY

    @rule(i=st.integers(0, N - 1), j=st.integers(0, N - 1))
    def discover(self, i, j):
        p = self.running(i)
        if p is None:
            return
        start = len(self.records)
        r = self.w.discover(p, NAMES[j])
        svc = self.mgr.holder_of(NAMES[j])
        if svc is None:
            assert r.error is ErrorCode.NODEVICE
            return
        if svc is p:
            assert r.error is ErrorCode.INVAL
            return
        if not r.is_success:
            assert r.error is ErrorCode.NOMEM
            return
        pd = r.value
        assert pd >= 1
        known = self.shadow[i].get(pd)
        assert known is None or known == svc.pid  # a pd is never silently re-pointed
        self.shadow[i][pd] = svc.pid
        k = self.ps.index(svc)
        for rec in self.records[start:]:
            if rec.kind == "schedule" and rec.pid == svc.identifier and rec.data[:2] == (IPCMGR, 0):
                self.shadow[k][rec.data[3]] = p.pid  # what the service was told: its pd for the client

    @rule(n=who, m=which, size=st.integers(0, 20))
    def send(self, n, m, size):
        i = self.actor(n, self.holds)
        p = self.running(i)
        if p is None:
            return
        pd = self.pick(i, m)
        r = self.w.send(p, pd, bytes(range(65, 65 + size)))
        peer = self.shadow[i].get(pd)
        if r.is_success:
            self.sent += 1
            # Reached only through a live descriptor of its own table.
            q = self.k.lookup(peer) if peer is not None else None
            assert q is not None and q.alive
            msg = next(x for x in self.mb.in_flight() if x.sender == p.pid)
            assert msg.receiver == peer
            self.messages[msg.seq] = (p.pid, pd)
        elif r.error is ErrorCode.INVAL:
            assert peer is None
        elif r.error is ErrorCode.NODEVICE:
            q = self.k.lookup(peer) if peer is not None else None
            assert q is None or not q.alive or self.mgr.number_for(q, p) is None
        else:
            assert r.error is ErrorCode.BUSY

    @rule(n=who, m=which, room=st.integers(0, 24))
    def read(self, n, m, room):
        i = self.actor(n, lambda i: self.mb.waiting_for(self.ps[i]))
        p = self.running(i)
        if p is None:
            return
        if self.k.rw_buffer(p, self.mb, 0)[1] != room:
            self.w.allow_rw(p, MAILBOX, 0, room)
        pd = self.pick(i, m, zero=0) if m % 2 else 0
        r = self.w.read(p, pd)
        if pd != 0 and pd not in self.shadow[i]:
            assert r.error is ErrorCode.INVAL
        elif r.is_success or r.error is ErrorCode.SIZE:
            copied, sender_pd = r.values
            assert copied <= room
            assert sender_pd in self.shadow[i], "a message from a peer the reader holds no descriptor for"
            assert pd in (0, sender_pd)
        else:
            assert r.error is ErrorCode.NODEVICE

    @rule(n=who)
    def cancel(self, n):
        i = self.actor(n, lambda i: self.mb.in_flight(self.ps[i]))
        p = self.running(i)
        if p is not None:
            had = any(x.sender == p.pid for x in self.mb.in_flight())
            assert self.w.cancel(p).is_success == had

    @rule(n=who, m=which)
    def close(self, n, m):
        # Mostly a receiver with messages waiting: closing then reusing a number is where a stale
        # label could slip through.
        i = self.actor(n, lambda i: self.mb.waiting_for(self.ps[i]) or self.mb.in_flight(self.ps[i]))
        p = self.running(i)
        if p is None:
            return
        pd = self.pick(i, m)
        r = self.w.cmd(p, IPCMGR, 3, pd)
        assert r.is_success == (pd in self.shadow[i])
        self.shadow[i].pop(pd, None)

    @rule(n=who, how=st.sampled_from(["fault", "restart", "terminate", "boot"]))
    def lifecycle(self, n, how):
        """A process with messages to or from it (mostly) faults (restart policy), restarts or terminates;
        ``boot`` starts a Terminated one again."""
        if how == "boot":
            dead = [p for p in self.ps if not p.alive]
            if dead:
                self.k.boot(dead[n % len(dead)])
            return
        i = self.actor(n, lambda i: self.mb.in_flight(self.ps[i]))
        p = self.ps[i]
        if p.alive:
            {"fault": self.k.fault, "restart": self.k.try_restart, "terminate": self.k.terminate}[how](p)
            self.shadow[i] = {}  # that instance's table is gone with its grant

    # ------------------------------------------------------------------ invariants
    @invariant()
    def every_message_ends_once(self):
        outcomes = self.mb.outcomes
        in_flight = self.mb.in_flight()
        assert self.sent == len(outcomes) + len(in_flight)
        assert not (set(outcomes) & {x.seq for x in in_flight})
        for seq, how in self.seen_outcomes.items():
            assert outcomes[seq] == how  # an end is final
        for seq, how in outcomes.items():
            if seq in self.seen_outcomes:
                continue
            assert how in END
            if how == "failed":
                sender, pd = self.messages[seq]
                assert any(r.kind == "schedule" and r.pid == sender.identifier and r.data[:2] == (MAILBOX, 1)
                           and r.data[3:6] == (int(ErrorCode.NODEVICE), pd, 0) for r in self.records), \
                    "a failed message without a NODEVICE upcall to its sender"
            if how == "dropped":
                assert not self.mb.crash_notify  # found lazily only when nobody was told
            self.seen_outcomes[seq] = how
        # Every "message waiting" upcall (only a send schedules one, and its message is still in flight
        # right after that rule) names the actual sender by a number the receiver was given.
        for r in self.records:
            if r.kind == "schedule" and r.data[:2] == (MAILBOX, 0):
                i = next(i for i, p in enumerate(self.ps) if p.identifier == r.pid)
                x = next(x for x in in_flight if x.receiver == self.ps[i].pid and x.sender_pd == r.data[3])
                assert self.shadow[i].get(r.data[3]) == x.sender, "a message from a peer the receiver cannot name"
        if self.mb.crash_notify:
            for x in in_flight:
                for pid in (x.sender, x.receiver):
                    q = self.k.lookup(pid)
                    assert q is not None and q.alive, "crash_notify on, yet a message involves a dead process"
        self.records.clear()

    @invariant()
    def grant_bytes_add_up(self):
        for p in self.ps:
            if not p.alive:
                continue
            shown = sum(g.size for g in p.grants if g is not None) + sum(cg.size for cg in p.custom_grants)
            assert p.grant_bytes == shown
            t = self.mgr.table_of(p)
            tables = sum(cg.size for cg in p.custom_grants if cg.driver_num == IPCMGR)
            assert (t.bytes_total if t is not None else 0) == tables


IpcMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=50, deadline=None,
                                        derandomize=True)
TestIpcMachine = IpcMachine.TestCase
