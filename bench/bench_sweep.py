"""``tockshell sweep`` in parallel: the same 24-point grid with one worker process and with two.

The grid is the FIFO-sizing question of the Thread scenario:
``scenarios/thread_compare.tsh`` (the three IPC designs on one workload) over
``fifo = 1,2,3,4,6,8,12,16`` and ``clients = 1,2,4``. Each point is a fresh
session running 3 boards for 3.2 s of virtual time. ``--jobs 1`` runs the
points one after the other in this process; ``--jobs 2`` spreads them over
two spawned workers. Both runs must give the same table (the model is
deterministic); the ratio of their wall-clock times is the speed-up, which
on a 2-core machine should approach 2 (less the workers' start-up). Each is
timed three times, interleaved, and the best time kept, so that a burst of other
work on the machine does not decide the ratio.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tockshell.sweep import format_table, report_names, run_sweep  # noqa: E402

REPEAT = 3
SCENARIO = ROOT / "scenarios" / "thread_compare.tsh"
AXES = [("fifo", ["1", "2", "3", "4", "6", "8", "12", "16"]), ("clients", ["1", "2", "4"]), ("duration", ["3s"])]


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _timed(jobs: int, report: list[str]) -> tuple[float, float, list[dict]]:
    """(wall seconds, CPU seconds of this process and its finished workers, rows)."""
    wall0, cpu0 = time.perf_counter(), _cpu()
    rows = run_sweep(str(SCENARIO), AXES, report, jobs=jobs)
    return time.perf_counter() - wall0, _cpu() - cpu0, rows


def main() -> None:
    """Print the wall-clock time of the sweep with --jobs 1 and --jobs 2, and their ratio."""
    report = report_names(SCENARIO.read_text(encoding="utf-8"))
    n = len(AXES[0][1]) * len(AXES[1][1])  # the duration axis is fixed
    times: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[float]] = {1: [], 2: []}
    rows: dict[int, list[dict]] = {}
    for _ in range(REPEAT):
        for jobs in (1, 2):
            t, c, rows[jobs] = _timed(jobs, report)
            times[jobs].append(t)
            cpu[jobs].append(c)
    t1, t2 = min(times[1]), min(times[2])
    rows1, rows2 = rows[1], rows[2]
    same = format_table(AXES, report, rows1) == format_table(AXES, report, rows2)
    print(f"sweep of {SCENARIO.name} over {n} points (fifo x clients)")
    print(f"  --jobs 1: {t1:6.2f} s wall (best of {', '.join(f'{t:.2f}' for t in times[1])})")
    print(f"  --jobs 2: {t2:6.2f} s wall (best of {', '.join(f'{t:.2f}' for t in times[2])})")
    print(f"  speed-up: {t1 / t2:.2f}x   (same table both ways: {'yes' if same else 'NO'})")
    print(f"  CPU time: {min(cpu[1]):.2f} s with one job, {min(cpu[2]):.2f} s over two (the work is the same; "
          f"a wall time far above CPU/2 means the machine was busy)")
    # What the sweep is for: the Mailbox design's drops against the FIFO size, 4 clients.
    drops = [(r["params"]["fifo"], r["figures"]["mailbox_dropped"][0]) for r in rows2 if r["params"]["clients"] == "4"]
    print("  mailbox drops with 4 clients, by fifo: " + ", ".join(f"{f}: {d}" for f, d in drops))
    if not same:
        raise RuntimeError("--jobs 1 and --jobs 2 gave different tables: a point is not deterministic")


if __name__ == "__main__":
    main()
