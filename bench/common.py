"""What every benchmark shares: CPU-time measurement, best-of rounds, the bare-Python baseline, goal lines.

Rates are measured in *CPU time of this process* (``time.process_time``),
best of several interleaved rounds: the machine is shared (other jobs, two
cores), and a busy neighbour slows the wall clock of a run without telling
us anything about the model. Interleaving the baseline with the model inside
each round means both see the same machine, so their ratio is what to
compare between machines; the absolute rates are this machine's.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: CPU seconds each measurement may take per round; a quick run (`--quick`) halves it.
BUDGET_S = float(os.environ.get("TOCKSHELL_BENCH_BUDGET", "0.35"))
#: Interleaved rounds; the best round of each measurement is kept.
ROUNDS = int(os.environ.get("TOCKSHELL_BENCH_ROUNDS", "5"))

from tockshell.abi import SUCCESS  # noqa: E402

COMMAND = 2
ALARM = 0x0


def cpu() -> float:
    return time.process_time()


def rate(run_chunk: Callable[[], int], budget_s: float = BUDGET_S) -> float:
    """Operations per CPU second: call ``run_chunk()`` (which returns how many it did) until the budget is spent."""
    done = 0
    t0 = cpu()
    while True:
        done += run_chunk()
        dt = cpu() - t0
        if dt >= budget_s:
            return done / dt


def best_of(measurements: dict[str, Callable[[], float]], rounds: int = ROUNDS) -> dict[str, float]:
    """Run every measurement once per round, in turn; keep each one's best (highest) rate."""
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, m in measurements.items():
            r = m()
            if r > best.get(name, 0.0):
                best[name] = r
    return best


# ---------------------------------------------------------------------------- the bare-Python baseline
class _NullDriver:
    """What the baseline dispatches to: a command that only returns Success."""

    def command(self, cmd, arg0, arg1, pid):
        return SUCCESS  # the prebuilt value, as the alarm's null command returns it: the strictest baseline


def _app_requests():
    # The baseline's "app": yields one request per syscall and receives each result.
    while True:
        yield (COMMAND, ALARM, 0, 0, 0)


def baseline_rate() -> float:
    """Calls per CPU second of a generator app -> dict lookup -> ``command()``, and nothing else."""
    drivers = {ALARM: _NullDriver()}
    gen = _app_requests()
    send = gen.send
    state = [next(gen)]

    def chunk() -> int:
        req = state[0]
        for _ in range(50_000):
            cls, r0, r1, r2, r3 = req
            drv = drivers.get(r0)
            req = send(drv.command(r1, r2, r3, None))
        state[0] = req
        return 50_000

    return rate(chunk)


# ---------------------------------------------------------------------------- printing
def goal(ok: bool, text: str) -> str:
    return f"[{'met' if ok else 'MISSED'}: {text}]"


def machine() -> str:
    """One line of machine facts for the printout."""
    return (f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, "
            f"{platform.machine()}, load average {os.getloadavg()[0]:.1f}")


def user_env(pycache: str | None = None) -> dict:
    """The environment of a user's shell for a subprocess: this checkout on the path, bytecode
    cached (in ``pycache``, not in the tree), output buffered as usual. This sandbox sets
    PYTHONDONTWRITEBYTECODE and PYTHONUNBUFFERED, which a user's shell normally does not."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONUNBUFFERED", None)
    if pycache is not None:
        env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def median_wall(argv: list[str], reps: int, env: dict | None = None, cwd: str | None = None) -> float:
    """Median wall-clock seconds of running ``argv`` to completion ``reps`` times (output discarded)."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
