"""Script speed: a ``.tsh`` file of 10,000 syscall statements, parse included. Goal: 20,000 statements/s.

The file is one manual process and a mix of the syscalls a scenario makes by
hand: commands to several drivers, subscribes and allows that swap what was
there, memops and yield-no-waits (so the process stays Running). Measured
two ways:

* in-process: ``Session.run_file`` (read, parse, execute, print into a
  buffer), CPU time, best of rounds; parse and execution also shown apart;
* the installed command: ``tockshell run FILE`` as a subprocess (in a
  user's environment, ``common.user_env``), wall clock, median of
  repetitions, minus the same command on a two-line file (its start-up), so
  that the figure is statements per second of the run itself.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROUNDS, cpu, goal, machine, median_wall, user_env  # noqa: E402

STATEMENTS = 10_000
GOAL = 20_000

_MIX = [
    "client: command led 1 {i3}",
    "client: command alarm 0",
    "client: subscribe console 1 @on_write{i2}",
    "client: allow-rw console 1 0x20000900 {n}",
    "client: memop ram_start",
    "client: command rng 0",
    "client: allow-ro console 1 0x20000a00 {n}",
    "client: yield no-wait",
    "client: command button 0",
    "client: memop flash_end",
]


def script_text(n: int = STATEMENTS) -> str:
    """A scenario of one spawn and ``n`` syscall statements."""
    lines = ["# bench_script: syscall statements, one after another", "spawn client ram=8k"]
    for i in range(n):
        lines.append(_MIX[i % len(_MIX)].format(i=i, i2=i % 2, i3=i % 4, n=4 + i % 60))
    return "\n".join(lines) + "\n"


def _in_process(path: str) -> tuple[float, float, float]:
    """(total, parse, execute) CPU seconds of one run of ``path`` in a fresh Session."""
    from tockshell.lang.parser import parse
    from tockshell.lang.session import Session

    text = Path(path).read_text()
    t0 = cpu()
    parse(text, path)
    t_parse = cpu() - t0
    s = Session(out=io.StringIO())
    t0 = cpu()
    s.run_file(path)
    total = cpu() - t0
    return total, t_parse, total - t_parse


def _installed() -> str | None:
    # The command pip installed next to this interpreter (a version manager's shim would add its own start-up).
    cand = Path(sys.executable).with_name("tockshell")
    return str(cand) if cand.exists() else shutil.which("tockshell")


def main() -> None:
    """Print statements per second in-process and through the installed command."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bench_10k.tsh")
        Path(path).write_text(script_text())
        small = os.path.join(d, "bench_2.tsh")
        Path(small).write_text("spawn client ram=8k\nclient: command led 1 0\n")
        runs = [_in_process(path) for _ in range(max(2, ROUNDS - 2))]
        total, t_parse, t_exec = min(runs)
        n = STATEMENTS + 1
        print(f"script speed: {STATEMENTS:,} syscall statements ({machine()})")
        print(f"  in-process, CPU time, best of {len(runs)}: {n / total:>9,.0f} statements/s "
              f"(parse {n / t_parse:,.0f}/s, execute {n / t_exec:,.0f}/s)  "
              + goal(n / total >= GOAL, f"{GOAL:,}/s parse included"))
        exe = _installed()
        if exe is None:
            print("  installed command: not found (pip install -e . puts `tockshell` on the PATH)")
            return
        reps = 3
        env = user_env(os.path.join(d, "pycache"))
        median_wall([exe, "run", small], 1, env=env)  # compiles and caches the modules, untimed
        big = median_wall([exe, "run", path], reps, env=env)
        base = median_wall([exe, "run", small], reps, env=env)
        print(f"  `tockshell run`, wall, median of {reps}: {big:.2f} s, start-up {base:.2f} s -> "
              f"{n / max(big - base, 1e-9):,.0f} statements/s after start-up")


if __name__ == "__main__":
    main()
