"""Kernel throughput: syscalls per second of the model, each beside the bare-Python baseline of the same run.

Cases (all driven by app programs through ``Kernel.run``, as a scenario's
``run`` drives them, except the last):

* **null command**: ``command alarm 0`` (the alarm's "exists") in a loop. The
  capsule does nothing, so this is the model's own price per syscall:
  decode, bookkeeping, the trace record, the return value, the scheduler.
  Goal: within 10x of the baseline and never under 500,000 per second.
* **subscribe/allow swap**: a subscribe that swaps the alarm's upcall 0
  between two handlers, then a read-write allow that swaps the console's
  buffer 1 between two buffers (each returns the previous one).
* **yield delivering an upcall**: a command to a benchmark capsule that
  schedules an upcall at once, then a yield that delivers it; the handler
  runs and the yield returns. One round trip = 3 scheduler events.
* **Mailbox send+read**: two processes; the sender sends 16 bytes, the
  receiver is woken by "message waiting", reads (the one copy), the sender
  is woken by "send done" and sends the next. Rate in messages per second.
* **manual syscall()**: what the shell's `p: command alarm 0` costs below
  the language (``Kernel.syscall`` on a manual process).

The baseline is a generator app yielding requests to a loop that looks the
driver up in a dict and calls its ``command``: the least any model can do.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ALARM, COMMAND, baseline_rate, best_of, cpu, goal, machine, rate  # noqa: E402

from tockshell.abi import SyscallReturn  # noqa: E402
from tockshell.board import build_board  # noqa: E402
from tockshell.kernel import GrantSpec, SyscallDriver  # noqa: E402
from tockshell.userland import drivers as D  # noqa: E402
from tockshell.userland.ipc import (MAILBOX_MESSAGE_WAITING, MAILBOX_READ, MAILBOX_SEND,  # noqa: E402
                                    MAILBOX_SEND_DONE, ipcmgr_discover, ipcmgr_register)
from tockshell.userland.runtime import AppProgram  # noqa: E402

CHUNK = 20_000
PING = 0x9_0000


# ---------------------------------------------------------------------------- apps
def null_command(tock):
    """``command alarm 0`` forever."""
    while True:
        yield tock.command(ALARM, 0)


def swap(tock):
    """Subscribe and allow, each swapping what was there before."""
    a, b = tock.alloc(16), tock.alloc(16)

    def h1(*_):
        pass

    def h2(*_):
        pass

    while True:
        yield tock.subscribe(D.ALARM, 0, h1)
        yield tock.allow_rw(D.CONSOLE, 1, a)
        yield tock.subscribe(D.ALARM, 0, h2)
        yield tock.allow_rw(D.CONSOLE, 1, b)


class Ping(SyscallDriver):
    """Benchmark capsule: command 1 schedules upcall 0 for the caller at once."""

    driver_num = PING
    name = "bench_ping"
    summary = "benchmark: command 1 schedules upcall 0 at once"

    def make_grant(self):
        return GrantSpec(self.driver_num, upcalls=1, allow_ro=0, allow_rw=0, data_size=0)

    def command(self, cmd, arg0, arg1, pid):
        if cmd == 1:
            self.kernel.enter_grant(pid, self)
            self.kernel.schedule_upcall(pid, self.driver_num, 0, (arg0, arg1, 0))
            return SyscallReturn.success()
        return SyscallReturn.success() if cmd == 0 else SyscallReturn.failure(10)


def ping(tock):
    """Command ping 1, then yield: the yield delivers the upcall; the handler counts it."""
    got = [0]

    def handler(a0, a1, a2, appdata):
        got[0] += 1

    yield tock.subscribe(PING, 0, handler)
    while True:
        yield tock.command(PING, 1, 7)
        yield tock.yield_wait()


def mb_receiver(tock):
    inbox = tock.alloc(16)
    waiting = yield from tock.upcall_queue(D.MAILBOX, MAILBOX_MESSAGE_WAITING)
    yield tock.allow_rw(D.MAILBOX, 0, inbox)
    yield from ipcmgr_register(tock, "sink")
    while True:
        sender_pd, _, _ = yield from tock.next_upcall(waiting)
        yield tock.command(D.MAILBOX, MAILBOX_READ, sender_pd)


def mb_sender(tock):
    outbox = tock.buffer(b"0123456789abcdef")
    done = yield from tock.upcall_queue(D.MAILBOX, MAILBOX_SEND_DONE)
    pd = yield from ipcmgr_discover(tock, "sink", tries=100)
    yield tock.allow_ro(D.MAILBOX, 0, outbox)
    while True:
        r = yield tock.command(D.MAILBOX, MAILBOX_SEND, pd)
        if r.is_success:
            yield from tock.next_upcall(done)


# ---------------------------------------------------------------------------- measurements
def _run_rate(setup, events: int, count=lambda k: k.stats.syscalls):
    """``count(kernel)`` per CPU second of one ``run(max_events=events)`` on a fresh, warmed-up board.

    One call, as a scenario's `run` is one call: the kernel collects garbage on its own schedule
    inside a run, and a benchmark made of many short runs would measure something else.
    """
    gc.collect()  # the boards of earlier rounds (cycles, hundreds of thousands of records) go first, untimed
    b = build_board()
    setup(b)
    k = b.kernel
    k.run(max_events=2_000)
    start = count(k)
    t0 = cpu()
    k.run(max_events=events)
    return (count(k) - start) / (cpu() - t0)


def null_rate() -> float:
    return _run_rate(lambda b: b.kernel.create_process("bench", program=AppProgram(null_command)), 250_000)


def swap_rate() -> float:
    return _run_rate(lambda b: b.kernel.create_process("bench", program=AppProgram(swap)), 60_000)


def ping_rate() -> float:
    def setup(b):
        b.add(Ping())
        b.kernel.create_process("bench", program=AppProgram(ping))

    return _run_rate(setup, 60_000, lambda k: k.stats.upcalls_delivered)


def mailbox_rate() -> float:
    def setup(b):
        b.kernel.create_process("sink", program=AppProgram(mb_receiver))
        b.kernel.create_process("source", program=AppProgram(mb_sender))

    return _run_rate(setup, 40_000, lambda k: k.drivers[D.MAILBOX].stats()["read"])


def manual_rate() -> float:
    gc.collect()
    b = build_board()
    k = b.kernel
    p = k.create_process("bench")
    syscall = k.syscall
    for _ in range(1_000):
        syscall(p, COMMAND, ALARM, 0, 0, 0)

    def chunk() -> int:
        for _ in range(CHUNK):
            syscall(p, COMMAND, ALARM, 0, 0, 0)
        return CHUNK

    return rate(chunk)


def measure() -> dict[str, float]:
    """Best-of-rounds rates of every case and of the baseline, interleaved."""
    return best_of({"baseline": baseline_rate, "null": null_rate, "swap": swap_rate, "ping": ping_rate,
                    "mailbox": mailbox_rate, "manual": manual_rate})


def main() -> None:
    """Print every rate with its ratio to the baseline, and the null command's goals."""
    r = measure()
    base = r["baseline"]
    print(f"kernel throughput, CPU-time rates, best of rounds ({machine()})")
    print(f"  bare-Python dispatch baseline        {base:>12,.0f} calls/s")
    rows = [("null command (command alarm 0)", "null", "syscalls/s"),
            ("subscribe/allow swap", "swap", "syscalls/s"),
            ("yield that delivers an upcall", "ping", "round trips/s"),
            ("Mailbox send+read (16 B)", "mailbox", "messages/s"),
            ("manual process via syscall()", "manual", "syscalls/s")]
    for label, key, unit in rows:
        print(f"  {label:<36} {r[key]:>12,.0f} {unit:<14} baseline/model = {base / r[key]:6.1f}x")
    null = r["null"]
    print("  null command goals:", goal(base / null <= 10, f"within 10x of the baseline: {base / null:.1f}x"),
          goal(null >= 500_000, f"at least 500,000/s: {null:,.0f}/s"))


if __name__ == "__main__":
    main()
