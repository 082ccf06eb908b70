"""Syscalls per second of the kernel model on a null command, against a bare-Python dispatch loop.

The null command is ``command alarm 0`` (the alarm's "exists"): the capsule
does nothing, so what is measured is the model's own cost per syscall
(decode, bookkeeping, trace record, return value, scheduler step).

The baseline does the same dispatch with no bookkeeping at all: a generator
yields syscall requests to a loop that looks the driver up in a dict and
calls its ``command``. The ratio model/baseline is the price of the model.
Both sides run in the same process, one after the other, so the ratio holds
on any machine even though the absolute figures do not.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tockshell.abi import SyscallReturn  # noqa: E402
from tockshell.board import build_board  # noqa: E402

COMMAND = 2
ALARM = 0x0
#: Wall-clock budget per measurement; the whole benchmark stays within a few seconds.
BUDGET_S = 0.6


class _NullDriver:
    """What the baseline dispatches to: a command that only returns Success."""

    def command(self, cmd, arg0, arg1, pid):
        return SyscallReturn.success()


def _app_requests():
    # The baseline's "app": yields one request per syscall and receives each result.
    while True:
        yield (COMMAND, ALARM, 0, 0, 0)


def baseline_rate() -> float:
    """Calls per second of generator -> dict lookup -> command(), nothing else."""
    drivers = {ALARM: _NullDriver()}
    gen = _app_requests()
    send = gen.send
    req = next(gen)
    done = 0
    chunk = 50_000
    t0 = time.perf_counter()
    while True:
        for _ in range(chunk):
            cls, r0, r1, r2, r3 = req
            drv = drivers.get(r0)
            req = send(drv.command(r1, r2, r3, None))
        done += chunk
        dt = time.perf_counter() - t0
        if dt >= BUDGET_S:
            return done / dt


class NullCommandApp:
    """An app program whose every step is ``command alarm 0`` (after _start)."""

    name = "null_command"

    def attach(self, mem):
        pass

    def start(self, pc, args):
        pass

    def upcall(self, pc, args):
        pass

    def reset(self):
        pass

    def resume(self, value):
        return ("syscall", COMMAND, ALARM, 0, 0, 0)


def model_run_rate() -> tuple[float, int]:
    """Syscalls per second of an app program stepped by ``Kernel.run(max_events=N)``, and its timeslice count."""
    b = build_board()
    k = b.kernel
    k.create_process("bench", program=NullCommandApp())
    k.run(max_events=1_000)  # _start and a warm-up
    chunk = 20_000
    start_calls = k.stats.syscalls
    t0 = time.perf_counter()
    while True:
        k.run(max_events=chunk)
        dt = time.perf_counter() - t0
        if dt >= BUDGET_S:
            return (k.stats.syscalls - start_calls) / dt, sum(p.timeslice_expirations for p in k.live_processes())


def model_syscall_rate() -> float:
    """Syscalls per second of ``Kernel.syscall`` for a manual (shell-driven) process."""
    b = build_board()
    k = b.kernel
    p = k.create_process("bench")
    syscall = k.syscall
    for _ in range(1_000):
        syscall(p, COMMAND, ALARM, 0, 0, 0)
    chunk = 20_000
    done = 0
    t0 = time.perf_counter()
    while True:
        for _ in range(chunk):
            syscall(p, COMMAND, ALARM, 0, 0, 0)
        done += chunk
        dt = time.perf_counter() - t0
        if dt >= BUDGET_S:
            return done / dt


def main() -> None:
    """Print the three rates and the model/baseline ratios."""
    base = baseline_rate()
    run_rate, expirations = model_run_rate()
    call_rate = model_syscall_rate()
    print("kernel: null command (command alarm 0), syscalls per second")
    print(f"  bare-Python dispatch baseline          {base:>12,.0f} /s")
    print(f"  model: app program via run()           {run_rate:>12,.0f} /s   "
          f"baseline/model = {base / run_rate:5.1f}x   ({expirations} timeslice expirations on the way)")
    print(f"  model: manual process via syscall()    {call_rate:>12,.0f} /s   "
          f"baseline/model = {base / call_rate:5.1f}x")


if __name__ == "__main__":
    main()
