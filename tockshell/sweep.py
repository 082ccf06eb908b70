"""``tockshell sweep``: run one scenario over a grid of parameters, in parallel, and tabulate its figures.

::

    tockshell sweep scenarios/thread_compare.tsh -p fifo=1,2,4,8,16 -p clients=1,2,4 --jobs 2
    tockshell sweep FILE.tsh -p NAME=V1,V2,... [-p ...] [-r FIGURE ...] [--jobs N]
                             [--csv FILE] [--json FILE] [--plot FILE.png]

Each ``-p NAME=V1,V2,...`` is one axis of the grid (a single value fixes the
parameter for every point); the grid is every combination, in the order the
axes are given, the last varying fastest. Values are written as for
``tockshell run -p``: each overrides the scenario's ``param NAME = DEFAULT``.

**How a scenario reports figures.** A comment line ``# report: a, b, c``
(anywhere in the file; several lines add up) names the variables whose
values, once the scenario has run, are the point's figures. Set them with
``let``: ``let fast_dropped = c1.thread.dropped + c2.thread.dropped``. ``-r
NAME`` on the command line replaces the file's list. Set the figures before
the ``expect`` lines, so that a point whose expectations do not hold still
reports them.

Each point runs in a fresh session in a worker process
(``concurrent.futures`` with the ``spawn`` start method, so it is safe
whatever the parent holds), its output discarded. The table gives the
parameters, the figures and a status: ``ok``, or why the point stopped
(``expect failed at line N``, a refused statement). CSV and JSON hold the
same rows; times are plain nanoseconds there. The exit status is 0 when
every point ran to its end with every expect holding, 1 otherwise, 2 on a
usage, file or parse error.

This module imports nothing heavy at the top: the CLI's ``run`` and
``check`` stay fast, and spawned workers start quickly.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import sys
import time
from typing import Any

__all__ = ["parse_axes", "grid", "report_names", "run_point", "run_sweep", "format_table", "write_csv",
           "write_json", "plot", "cmd_sweep", "SweepError"]

_REPORT_LINE = re.compile(r"^\s*#\s*report\s*:(.*)$", re.IGNORECASE | re.MULTILINE)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


class SweepError(Exception):
    """A usage problem: bad -p, no figures to report, an unreadable scenario (exit 2)."""


# ---------------------------------------------------------------------------- the grid
def parse_axes(items: list[str]) -> list[tuple[str, list[str]]]:
    """``["fifo=1,2,4", "clients=3"]`` -> ``[("fifo", ["1", "2", "4"]), ("clients", ["3"])]``."""
    axes: list[tuple[str, list[str]]] = []
    seen = set()
    for item in items:
        name, eq, values = item.partition("=")
        name = name.strip()
        if not eq or not _NAME.match(name):
            raise SweepError(f"-p takes NAME=V1,V2,..., not '{item}'")
        if name in seen:
            raise SweepError(f"-p {name} is given twice (list its values once: -p {name}=A,B,C)")
        vals = [v.strip() for v in values.split(",")]
        if any(v == "" for v in vals):
            raise SweepError(f"-p {name}: an empty value in '{values}'")
        seen.add(name)
        axes.append((name, vals))
    return axes


def grid(axes: list[tuple[str, list[str]]]) -> list[dict[str, str]]:
    """Every combination of the axes' values, the last axis varying fastest."""
    names = [n for n, _ in axes]
    return [dict(zip(names, combo)) for combo in itertools.product(*(vals for _, vals in axes))]


def report_names(text: str) -> list[str]:
    """The figures a scenario reports: the names on its ``# report:`` lines, in order."""
    out: list[str] = []
    for m in _REPORT_LINE.finditer(text):
        for name in re.split(r"[\s,]+", m.group(1).strip()):
            name = name.lstrip("$")
            if name and name not in out:
                out.append(name)
    return out


# ---------------------------------------------------------------------------- one point
def _plain(v: Any) -> tuple[Any, str, bool]:
    """A figure as (a JSON value, the text the table shows, whether it is a time in ns)."""
    from .lang.values import Time, format_time, show

    if v is None or isinstance(v, bool):
        return v, show(v), False
    if isinstance(v, Time):
        return int(v), format_time(int(v)), True
    if isinstance(v, (int, float)):
        return v, f"{v:g}" if isinstance(v, float) else str(v), False
    if isinstance(v, str):
        return str(v), str(v), False
    return show(v), show(v), False


def run_point(path: str, params: dict[str, str], report: list[str], board: str = "default") -> dict:
    """Run the scenario once with ``params``; its figures, status and wall time (a plain, picklable dict)."""
    from .lang.errors import TshError
    from .lang.session import ExpectFailed, Quit, Session

    t0 = time.perf_counter()
    status = "ok"
    ok = True
    try:
        session = Session(board, out=io.StringIO(), interactive=False, params=params)
    except TshError as e:
        return {"params": params, "figures": {}, "status": f"error: {e.message}", "ok": False,
                "seconds": time.perf_counter() - t0}
    try:
        session.run_file(path)
    except Quit:
        pass
    except ExpectFailed as e:
        ok = False
        status = f"expect failed at line {e.pos.line}" if e.pos is not None else "expect failed"
    except TshError as e:
        ok = False
        where = f"line {e.pos.line}: " if e.pos is not None else ""
        status = f"stopped: {where}{e.message}"
    except Exception as e:  # noqa: BLE001 - one broken point must not take the sweep down; say what it was
        ok = False
        status = f"internal error: {type(e).__name__}: {e}"
    figures = {}
    for name in report:
        if name in session.variables:
            figures[name] = _plain(session.variables[name])
        else:
            figures[name] = (None, "-", False)
    unused = sorted(set(params) - session.params_used)
    if unused and ok:
        status = f"ok (no param {', '.join(unused)} in the file)"
    return {"params": params, "figures": figures, "status": status, "ok": ok,
            "seconds": time.perf_counter() - t0}


def _point_star(args):
    return run_point(*args)


def run_sweep(path: str, axes: list[tuple[str, list[str]]], report: list[str], jobs: int = 1,
              board: str = "default") -> list[dict]:
    """Run every grid point (``jobs`` worker processes; 1 runs them here, one after the other)."""
    points = grid(axes)
    work = [(os.path.abspath(path), p, report, board) for p in points]
    if jobs <= 1 or len(points) <= 1:
        return [run_point(*w) for w in work]
    import concurrent.futures
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(jobs, len(points)), mp_context=ctx) as pool:
        return list(pool.map(_point_star, work, chunksize=1))


# ---------------------------------------------------------------------------- output
def varying(axes: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """The axes with more than one value (the others are fixed for every point)."""
    return [(n, v) for n, v in axes if len(v) > 1] or axes[:1]


def format_table(axes: list[tuple[str, list[str]]], report: list[str], rows: list[dict]) -> str:
    """Varying parameters, figures and status, one line per point, columns aligned (numbers to the right)."""
    names = [n for n, _ in varying(axes)]
    header = names + report + ["status"]
    body = []
    for r in rows:
        body.append([r["params"][n] for n in names] + [r["figures"][f][1] for f in report] + [r["status"]])
    widths = [max(len(h), *(len(line[i]) for line in body)) if body else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) if i < len(header) - 1 else h for i, (h, w) in enumerate(zip(header, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for line in body:
        lines.append("  ".join(c.rjust(w) if i < len(line) - 1 else c for i, (c, w) in enumerate(zip(line, widths))))
    return "\n".join(lines)


def _records(axes, report, rows) -> list[dict]:
    out = []
    for r in rows:
        rec: dict[str, Any] = {n: _param_value(r["params"][n]) for n, _ in axes}
        rec.update({f: r["figures"][f][0] for f in report})
        rec["status"] = r["status"]
        out.append(rec)
    return out


def _param_value(text: str) -> Any:
    try:
        return int(text, 0)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def write_csv(fh, axes, report, rows) -> None:
    """One CSV row per point: the parameters, the figures (times in ns) and the status."""
    w = csv.writer(fh)
    w.writerow([n for n, _ in axes] + report + ["status"])
    for rec in _records(axes, report, rows):
        w.writerow(["" if v is None else v for v in rec.values()])


def write_json(fh, axes, report, rows, meta: dict | None = None) -> None:
    """``{"scenario": .., "axes": {..}, "report": [..], "points": [{param.., figure.., "status"}]}``."""
    doc = dict(meta or {})
    doc.update({"axes": {n: [_param_value(v) for v in vals] for n, vals in axes}, "report": report,
                "points": _records(axes, report, rows)})
    json.dump(doc, fh, indent=2)
    fh.write("\n")


def plot(filename: str, axes, report, rows, title: str = "") -> None:
    """Draw each figure against the first axis, one line per combination of the other axes (matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = varying(axes)
    x_name = axes[0][0]
    others = [n for n, _ in axes[1:]]
    numeric = [f for f in report if all(isinstance(r["figures"][f][0], (int, float)) or r["figures"][f][0] is None
                                         for r in rows)]
    if not numeric:
        raise SweepError("nothing to plot: no figure is a number")
    fig, axs = plt.subplots(len(numeric), 1, figsize=(7, 2.6 * len(numeric)), squeeze=False)
    series: dict[tuple, list] = {}
    for r in rows:
        series.setdefault(tuple(r["params"][n] for n in others), []).append(r)
    for ax, f in zip(axs[:, 0], numeric):
        for key, pts in series.items():
            xs = [_param_value(p["params"][x_name]) for p in pts]
            ys = [_y(p["figures"][f]) for p in pts]
            if all(isinstance(x, (int, float)) for x in xs):
                label = ", ".join(f"{n}={v}" for n, v in zip(others, key)) or None
                ax.plot(xs, ys, marker="o", label=label)
            else:
                ax.plot(range(len(xs)), ys, marker="o", label=", ".join(f"{n}={v}" for n, v in zip(others, key)))
                ax.set_xticks(range(len(xs)), [str(x) for x in xs])
        ax.set_ylabel(f + (" (ms)" if any(r["figures"][f][2] for r in rows) else ""))
        ax.grid(True, alpha=0.3)
        if others:
            ax.legend(fontsize="small")
    axs[-1, 0].set_xlabel(x_name)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(filename, dpi=100)
    plt.close(fig)


def _y(fig):
    value, _text, is_time = fig
    return value / 1e6 if is_time and value is not None else value


def plot_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------- the command
def cmd_sweep(args, out=None, err=None) -> int:
    """``tockshell sweep``, from the parsed arguments (file, param, report, jobs, csv, json, plot, board)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return _sweep(args, out)
    except SweepError as e:
        err.write(f"tockshell sweep: {e}\n")
        return 2


def _sweep(args, out) -> int:
    from .lang.errors import TshError
    from .lang.parser import parse
    from .lang.session import read_script

    try:
        text = read_script(args.file)
        parse(text, args.file)
    except TshError as e:
        raise SweepError(e.format(text if "text" in locals() else None)) from None
    axes = parse_axes(args.param)
    if not axes:
        raise SweepError("give at least one -p NAME=V1,V2,... to sweep over")
    declared = set(re.findall(r"^\s*param\s+([A-Za-z_][A-Za-z0-9_.\-]*)", text, re.MULTILINE))
    missing = [n for n, _ in axes if n not in declared]
    if missing:
        raise SweepError(f"{args.file} has no `param {missing[0]} = ...` for -p {missing[0]}"
                         + (f" (its params: {', '.join(sorted(declared))})" if declared else " (it declares no param)"))
    report = list(args.report) if args.report else report_names(text)
    if not report:
        raise SweepError(f"{args.file} reports no figures: add a `# report: NAME, ...` line naming variables "
                         f"it sets with `let`, or give -r NAME")
    bad = [r for r in report if not _NAME.match(r)]
    if bad:
        raise SweepError(f"'{bad[0]}' is not a variable name")
    if args.plot and not plot_available():
        raise SweepError("--plot needs matplotlib, the optional extra 'plot': pip install 'tockshell[plot]'")
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise SweepError(f"--jobs is at least 1, not {jobs}")
    # A grid can take minutes: refuse an output that cannot be written before running it, not after.
    for target, kind in ((args.csv, "CSV"), (args.json, "JSON"), (args.plot, "plot")):
        if not target:
            continue
        folder = os.path.dirname(os.path.abspath(target))
        why = ("it is a directory" if os.path.isdir(target) else f"no directory {folder}"
               if not os.path.isdir(folder) else f"the directory {folder} is not writable"
               if not os.access(folder, os.W_OK) else None)
        if why:
            raise SweepError(f"cannot write the {kind} file {target}: {why} (nothing was run)")
    n = len(grid(axes))
    t0 = time.perf_counter()
    rows = run_sweep(args.file, axes, report, jobs, getattr(args, "board", "default"))
    wall = time.perf_counter() - t0
    shape = " x ".join(f"{name} ({len(vals)})" for name, vals in varying(axes))
    fixed = [f"{name}={vals[0]}" for name, vals in axes if (name, vals) not in varying(axes)]
    out.write(f"sweep {args.file}: {n} point{'s' if n != 1 else ''} ({shape}"
              + (f"; {' '.join(fixed)} in every point" if fixed else "") + f"), {min(jobs, n)} "
              f"job{'s' if min(jobs, n) != 1 else ''}, {wall:.1f} s\n\n")
    out.write(format_table(axes, report, rows) + "\n")
    failed = sum(1 for r in rows if not r["ok"])
    if failed:
        out.write(f"\n{failed} of {n} point{'s' if n != 1 else ''} did not run to the end with every expect "
                  f"holding (see status)\n")
    meta = {"scenario": args.file}
    for target, kind in ((args.csv, "CSV"), (args.json, "JSON"), (args.plot, "plot")):
        if not target:
            continue
        try:
            if kind == "CSV":
                with open(target, "w", newline="", encoding="utf-8") as fh:
                    write_csv(fh, axes, report, rows)
            elif kind == "JSON":
                with open(target, "w", encoding="utf-8") as fh:
                    write_json(fh, axes, report, rows, meta)
            else:
                plot(target, axes, report, rows, title=os.path.basename(args.file))
        except OSError as e:
            raise SweepError(f"cannot write the {kind} file {target}: {e.strerror or e}") from None
        out.write(f"{kind} written to {target}\n")
    return 1 if failed else 0
