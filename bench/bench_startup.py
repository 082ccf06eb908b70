"""Start-up: the installed ``tockshell`` command beside the floors its interpreter and dependencies set.

Measured in the same run, wall clock, median of repetitions, each as a fresh
subprocess:

* ``python3 -c pass`` (the interpreter alone) and ``tockshell --version``;
  goal: within 3x (``--version`` should import almost nothing);
* ``python3 -c "import attrs, lark"`` (the floor tockshell's own dependencies
  set) and ``tockshell run`` of a two-line scenario; goal: within 1.3x.

The command is the console script pip installed next to this interpreter
(a version manager's shim in front of it would add its own start-up to one
side only). ``PYTHONPATH`` points at this checkout, so the code measured is
this tree's even when the editable install points elsewhere; bytecode is
cached (``PYTHONPYCACHEPREFIX``, a temporary directory) as it is for a user,
even if this environment says ``PYTHONDONTWRITEBYTECODE`` (see ``common.user_env``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import goal, machine, median_wall, user_env  # noqa: E402

REPS = int(os.environ.get("TOCKSHELL_BENCH_STARTUP_REPS", "9"))


def installed_command() -> str | None:
    """The ``tockshell`` console script beside ``sys.executable``, else the one on the PATH."""
    cand = Path(sys.executable).with_name("tockshell")
    return str(cand) if cand.exists() else shutil.which("tockshell")


def measure(reps: int = REPS) -> dict[str, float]:
    """Median seconds of each command (interleaved, so that all see the same machine)."""
    exe = installed_command()
    py = sys.executable
    with tempfile.TemporaryDirectory() as d:
        # As installed for a user: compiled modules are cached (in a private place, not in the tree);
        # without this every run would compile every module from source.
        env = user_env(os.path.join(d, "pycache"))
        scenario = os.path.join(d, "trivial.tsh")
        Path(scenario).write_text("spawn a ram=4k\na: command led 1 0\n")
        cmds = {
            "python -c pass": [py, "-c", "pass"],
            "tockshell --version": [exe, "--version"],
            "python -c 'import attrs, lark'": [py, "-c", "import attrs, lark"],
            "tockshell run trivial.tsh": [exe, "run", scenario],
        }
        if exe is None:
            return {}
        # Warm the caches (the grammar's, the OS's) once, untimed.
        for argv in cmds.values():
            median_wall(argv, 1, env=env)
        times: dict[str, list[float]] = {k: [] for k in cmds}
        for _ in range(reps):
            for name, argv in cmds.items():
                times[name].append(median_wall(argv, 1, env=env))
    return {k: sorted(v)[len(v) // 2] for k, v in times.items()}


def main() -> None:
    """Print each start-up time, its floor and the ratio against the goal."""
    t = measure()
    print(f"start-up, wall clock, median of {REPS} ({machine()})")
    if not t:
        print("  the tockshell command is not installed (pip install -e .)")
        return
    for k, v in t.items():
        print(f"  {k:<34} {v * 1000:7.1f} ms")
    r1 = t["tockshell --version"] / t["python -c pass"]
    r2 = t["tockshell run trivial.tsh"] / t["python -c 'import attrs, lark'"]
    print(f"  --version / bare interpreter       {r1:7.2f}x  " + goal(r1 <= 3, "within 3x"))
    print(f"  run / its dependencies' floor      {r2:7.2f}x  " + goal(r2 <= 1.3, "within 1.3x"))


if __name__ == "__main__":
    main()
