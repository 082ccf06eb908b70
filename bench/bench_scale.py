"""Scale: 256 processes exchanging Mailbox messages; crash-callback cost against the number of processes.

* **messages**: 256 app processes in a ring (IPC Manager names ``n0``..``n255``;
  each discovers the next and sends it 16-byte messages, one in flight at a
  time, reading whatever arrives). 25,000, 50,000 and 100,000 messages in all,
  each run in a fresh child process: CPU time per message must stay flat
  (time linear in messages). The child also reports its peak RSS.
* **crash callback**: on rings of 16 and of 256 processes with messages in
  flight, processes are faulted one after another (restart policy) and the
  Mailbox's crash callback is timed alone (it must cost the same at 256 as
  at 16: it visits the messages involved, never every process), beside the
  whole fault for context (every capsule's hooks, the restart).
* **IPC Manager hook**: on rings of 16 and of 256 processes where each node
  holds descriptors for the next few nodes (and they for it), processes are
  faulted one after another and the IPC Manager's process-state hook (the
  "pd N now stale" note) is timed alone: it visits the holders of the dead
  process through its reverse index, so it must cost the same at 256 as at 16.

``TOCKSHELL_BENCH_SCALE=0.25`` runs a quarter of the messages (a quick look).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import goal, machine, user_env  # noqa: E402

from tockshell.board import build_board  # noqa: E402
from tockshell.kernel import KernelConfig  # noqa: E402
from tockshell.userland import drivers as D  # noqa: E402
from tockshell.userland.ipc import MAILBOX_READ, MAILBOX_SEND, ipcmgr_discover, ipcmgr_register  # noqa: E402
from tockshell.userland.runtime import AppProgram  # noqa: E402

PROCESSES = 256
SCALE = float(os.environ.get("TOCKSHELL_BENCH_SCALE", "1"))
MESSAGES = [int(m * SCALE) for m in (25_000, 50_000, 100_000)]


def ring_node(tock, me=0, n=1, count=0):
    """Register ``n<me>``, discover ``n<me+1>``; send it ``count`` messages while reading what arrives."""
    inbox = tock.alloc(16)
    outbox = tock.buffer(b"0123456789abcdef")
    waiting = yield from tock.upcall_queue(D.MAILBOX, 0)
    done = yield from tock.upcall_queue(D.MAILBOX, 1)
    yield tock.allow_rw(D.MAILBOX, 0, inbox)
    yield from ipcmgr_register(tock, f"n{me}")
    pd = yield from ipcmgr_discover(tock, f"n{(me + 1) % n}", tries=100_000, retry_ms=1)
    yield tock.allow_ro(D.MAILBOX, 0, outbox)
    sent = 0
    busy = False
    while True:
        while waiting:
            sender_pd, _, _ = waiting.popleft()
            yield tock.command(D.MAILBOX, MAILBOX_READ, sender_pd)
        while done:
            status, _, _ = done.popleft()
            busy = False
        if not busy and sent < count:
            r = yield tock.command(D.MAILBOX, MAILBOX_SEND, pd)
            if r.is_success:
                busy = True
                sent += 1
            continue
        yield tock.yield_wait()


def ring(n: int, per_process: int, fault_policy: str = "panic"):
    """A board of ``n`` ring nodes, each to send ``per_process`` messages."""
    b = build_board(config=KernelConfig(num_procs=n), fault_policy=fault_policy)
    k = b.kernel
    for i in range(n):
        k.create_process(f"n{i}", program=AppProgram(ring_node, {"me": i, "n": n, "count": per_process}))
    return b


def child_run(messages: int) -> dict:
    """One message run (in a fresh process): CPU seconds, messages read, events, peak RSS."""
    b = ring(PROCESSES, messages // PROCESSES)
    k = b.kernel
    t0 = time.process_time()
    why = k.run(max_events=200_000_000)
    dt = time.process_time() - t0
    read = b.driver("mailbox").stats()["read"]
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"cpu": dt, "read": read, "events": k.ev, "why": why, "rss_mb": rss_kb / 1024}


def sender_only(tock, me=0, n=1):
    """Register, discover the next node, send it one message, then wait forever without reading."""
    outbox = tock.buffer(b"0123456789abcdef")
    yield from ipcmgr_register(tock, f"n{me}")
    pd = yield from ipcmgr_discover(tock, f"n{(me + 1) % n}", tries=100_000, retry_ms=1)
    yield tock.allow_ro(D.MAILBOX, 0, outbox)
    yield tock.command(D.MAILBOX, MAILBOX_SEND, pd)
    while True:
        yield tock.yield_wait()


def _time_hook(k, hook) -> list[float]:
    """Put a timer around one capsule's process-state hook; the returned cell sums its seconds."""
    spent = [0.0]

    def timed(p, old, cause):
        t = time.perf_counter()
        hook(p, old, cause)
        spent[0] += time.perf_counter() - t

    k._hooks[k._hooks.index(hook)] = timed
    return spent


def crash_costs(n: int) -> tuple[float, float, float]:
    """(Mailbox crash callback us, whole fault us, messages examined per callback) on a ring of ``n``.

    Every process has one message in flight to the next and one waiting from the previous, so
    every crash involves the same two messages whatever ``n`` is; each process is crashed once
    (stop policy: it stays down).
    """
    b = build_board(config=KernelConfig(num_procs=n), fault_policy="stop")
    k = b.kernel
    for i in range(n):
        k.create_process(f"n{i}", program=AppProgram(sender_only, {"me": i, "n": n}))
    k.run(max_events=1_000_000)
    mb = b.driver("mailbox")
    assert len(mb.in_flight()) == n, "every node should have its message in flight"
    spent = _time_hook(k, mb._process_changed)
    total = 0.0
    work0 = mb._stats["crash work"]
    for p in [q for q in k.processes if q is not None]:
        t = time.perf_counter()
        k.fault(p, "bench: crash")
        total += time.perf_counter() - t
    examined = (mb._stats["crash work"] - work0) / n
    return spent[0] / n * 1e6, total / n * 1e6, examined


def fan_node(tock, me=0, n=1, fan=1):
    """Register ``n<me>``, discover the next ``fan`` nodes of the ring, then wait forever."""
    yield from ipcmgr_register(tock, f"n{me}")
    for step in range(1, fan + 1):
        yield from ipcmgr_discover(tock, f"n{(me + step) % n}", tries=100_000, retry_ms=1)
    while True:
        yield tock.yield_wait()


def ipcmgr_hook_costs(n: int, fan: int = 3) -> tuple[float, float]:
    """(IPC Manager hook us per crash, holders named per note) on a ring of ``n`` holding ``fan`` peers each.

    Node i holds pds for i+1..i+fan and, as their service side, i-fan..i-1 hold pds for it, so a
    crash names the same few holders whatever ``n`` is; each process is crashed once (stop policy).
    """
    b = build_board(config=KernelConfig(num_procs=n), fault_policy="stop")
    k = b.kernel
    for i in range(n):
        k.create_process(f"n{i}", program=AppProgram(fan_node, {"me": i, "n": n, "fan": fan}))
    k.run(max_events=1_000_000)
    mgr = b.driver("ipcmgr")
    assert all(mgr.table_of(q).open_count == 2 * fan for q in k.processes), "every node should hold its pds"
    spent = _time_hook(k, mgr._process_changed)
    for p in [q for q in k.processes if q is not None]:
        k.fault(p, "bench: crash")
    named = sum(r.data[0].count("'s pd ") for r in k.log if r.kind == "note" and "now stale" in r.data[0])
    return spent[0] / n * 1e6, named / n


def main() -> None:
    """Print time per message at three sizes, peak RSS, and the crash-callback costs at 16 and 256."""
    print(f"scale: {PROCESSES} processes, Mailbox ring ({machine()})")
    env = user_env()
    runs = []
    for m in MESSAGES:
        out = subprocess.run([sys.executable, __file__, "--child", str(m)], capture_output=True, text=True,
                             env=env, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        runs.append(r)
        print(f"  {m:>7,} messages: {r['read']:>7,} read in {r['cpu']:6.2f} s CPU = "
              f"{r['cpu'] / max(r['read'], 1) * 1e6:6.1f} us/message, {r['events']:,} events, "
              f"peak RSS {r['rss_mb']:.0f} MB")
    # Registration and discovery are a fixed cost; what must stay flat is the cost of each further message.
    marginal = [(b["cpu"] - a["cpu"]) / max(b["read"] - a["read"], 1) for a, b in zip(runs, runs[1:])]
    growth = marginal[-1] / marginal[0]
    print(f"  each further message: {', '.join(f'{m * 1e6:.1f}' for m in marginal)} us (between the runs "
          f"above); last / first = {growth:.2f}  " + goal(growth <= 1.25, "time linear in messages (within 25%)"))
    print(f"  peak RSS of the {MESSAGES[-1]:,}-message run: {runs[-1]['rss_mb']:.0f} MB")
    small = crash_costs(16)
    big = crash_costs(PROCESSES)
    print(f"  Mailbox crash callback: {small[0]:6.1f} us per crash at 16 processes, {big[0]:6.1f} us at "
          f"{PROCESSES} ({small[2]:.1f} and {big[2]:.1f} messages examined)  "
          + goal(big[0] <= 2 * small[0], "cost independent of the number of processes"))
    print(f"  whole fault (every capsule's hook): {small[1]:6.1f} us at 16, {big[1]:6.1f} us at "
          f"{PROCESSES}")
    # Best of three fresh rings: a crash costs microseconds, so one busy moment of a neighbour shows.
    small_m = min(ipcmgr_hook_costs(16) for _ in range(3))
    big_m = min(ipcmgr_hook_costs(PROCESSES) for _ in range(3))
    ratio = big_m[0] / small_m[0]
    print(f"  IPC Manager process-state hook: {small_m[0]:6.1f} us per crash at 16 processes, {big_m[0]:6.1f} us "
          f"at {PROCESSES} = {ratio:.2f}x ({small_m[1]:.1f} and {big_m[1]:.1f} holders named per crash)  "
          + goal(ratio <= 2, "cost independent of the number of processes"))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child_run(int(sys.argv[2]))))
    else:
        main()
