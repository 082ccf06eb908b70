"""Run every benchmark: each ``bench/bench_*.py`` exposes ``main()``, which prints its figures and ratios.

Usage: ``python3 bench/run.py [NAME...]`` (from anywhere; names select
benchmarks, e.g. ``kernel script``). Figures are this machine's; the ratios
against each benchmark's own baseline or floor, measured in the same run, are
what to compare between machines. ``TOCKSHELL_BENCH_SCALE=0.25`` shortens the
scale run, ``TOCKSHELL_BENCH_ROUNDS`` sets the rounds of the rate measurements.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))  # bench/common.py


def main() -> int:
    """Import and run each benchmark module in name order; a failing one is reported, the rest still run."""
    failed = 0
    wanted = set(sys.argv[1:])
    for path in sorted(HERE.glob("bench_*.py")):
        if wanted and path.stem.removeprefix("bench_") not in wanted and path.stem not in wanted:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        t0 = time.perf_counter()
        try:
            spec.loader.exec_module(mod)
            mod.main()
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
            failed += 1
            print(f"{path.name}: FAILED: {type(exc).__name__}: {exc}")
        print(f"({path.name} took {time.perf_counter() - t0:.1f} s)\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
