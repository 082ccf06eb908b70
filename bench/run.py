"""Run every benchmark: each ``bench/bench_*.py`` exposes ``main()``, which prints its figures and ratios.

Usage: ``python3 bench/run.py`` (from anywhere). Figures are wall-clock
rates of this machine; the ratios against each benchmark's own baseline,
measured in the same run, are what to compare between machines.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main() -> int:
    """Import and run each benchmark module in name order; a failing one is reported, the rest still run."""
    failed = 0
    for path in sorted(HERE.glob("bench_*.py")):
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
