"""The ``tockshell`` command: the interactive shell, batch runs, syntax checks, demos.

    tockshell                       interactive shell on the default board
    tockshell run FILE [-p K=V]...  run a scenario: exit 0 if every statement ran and every
                                    expect held, 1 if an expect failed or a statement was
                                    refused, 2 on a usage, file or parse error
    tockshell check FILE            parse only
    tockshell demo [NAME]           list the shipped scenarios, or run one
    tockshell sweep FILE -p K=A,B   run a scenario over a parameter grid, in parallel; a table of
                                    its reported figures (tockshell/sweep.py)

Start-up matters (scripts run it in loops), so everything beyond argparse is
imported lazily, and ``run``/``check`` never import prompt_toolkit.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__

__all__ = ["main", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERRUPTED"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="tockshell",
        description="A syscall-level REPL and debugger for a model of the Tock 2.3 kernel.",
        epilog="With no command: the interactive shell. `tockshell demo` lists the guided scenarios.")
    ap.add_argument("--version", action="version", version=f"tockshell {__version__} (Tock 2.3 kernel model)")
    ap.add_argument("--board", default="default", help="board profile to start on (default: %(default)s)")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="run a .tsh scenario in batch",
                         description="Run a .tsh file. Exit 0 when every statement ran and every expect held, "
                                     "1 when an expect failed or a statement was refused, 2 on a usage, file "
                                     "or parse error.")
    run.add_argument("file", help="the .tsh file")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="override `param NAME = DEFAULT` (repeatable)")
    check = sub.add_parser("check", help="parse a .tsh file without running it")
    check.add_argument("file", help="the .tsh file")
    demo = sub.add_parser("demo", help="list the shipped scenarios, or run one")
    demo.add_argument("name", nargs="?", help="the scenario to run")
    demo.add_argument("--no-shell", action="store_true",
                      help="at a terminal, exit after the scenario instead of continuing in the shell")
    demo.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                      help="override `param NAME = DEFAULT` (repeatable)")
    sweep = sub.add_parser("sweep", help="run a scenario over a grid of parameters, in parallel",
                           description="Run a .tsh file once per combination of the -p values (each point in a "
                                       "fresh session, in worker processes) and print a table of the figures "
                                       "it reports: the variables named on its `# report: a, b` line. Exit 0 "
                                       "when every point ran with every expect holding, 1 otherwise, 2 on a "
                                       "usage, file or parse error.")
    sweep.add_argument("file", help="the .tsh file")
    sweep.add_argument("-p", "--param", action="append", default=[], metavar="NAME=V1,V2,...",
                       help="one axis of the grid: the values of `param NAME` (repeatable)")
    sweep.add_argument("-r", "--report", action="append", default=[], metavar="NAME",
                       help="a variable to report (repeatable; replaces the file's `# report:` list)")
    sweep.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                       help="worker processes (default: one per CPU)")
    sweep.add_argument("--csv", metavar="FILE", help="also write the table as CSV (times in ns)")
    sweep.add_argument("--json", metavar="FILE", help="also write the table as JSON (times in ns)")
    sweep.add_argument("--plot", metavar="FILE.png", help="draw the figures (needs matplotlib: tockshell[plot])")
    # `tockshell run --board cortex-m x.tsh` is as natural as `tockshell --board cortex-m run x.tsh`:
    # without this, argparse took `cortex-m` for the file and refused `--board x.tsh`.
    for p in (run, check, demo, sweep):
        p.add_argument("--board", default=argparse.SUPPRESS, help="board profile to start on (as before COMMAND)")
    return ap


def _params(ap, items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not name or not (name[0].isalpha() or name[0] == "_"):
            ap.error(f"-p takes NAME=VALUE, not '{item}'")
        out[name] = value
    return out


def _report(err, e, session=None) -> None:
    """An error with its position, the source line and a caret, on stderr."""
    source = None
    if session is not None and e.pos is not None:
        source = session.sources.get(e.pos.file)
    sys.stdout.flush()
    err.write(e.format(source) + "\n")
    err.flush()


def _run_file(session, path: str, echo: bool = False) -> int:
    from .lang.errors import TshError, TshSyntaxError
    from .lang.session import Quit, TshFileError

    try:
        session.run_file(path, echo=echo)
    except Quit as q:
        return q.code
    except TshError as e:
        # A file that cannot be read or parsed is a usage error; a failed expect or statement is a failure.
        _report(sys.stderr, e, session)
        return EXIT_USAGE if isinstance(e, (TshFileError, TshSyntaxError)) else EXIT_FAILED
    except KeyboardInterrupt:
        sys.stdout.flush()
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    finally:
        sys.stdout.flush()
    return EXIT_OK


def _warn_unused(session, path: str) -> None:
    unused = sorted(set(session.params) - session.params_used)
    for name in unused:
        sys.stderr.write(f"tockshell: warning: -p {name}=... matches no `param {name}` in {path}\n")


def cmd_run(ap, args) -> int:
    from .lang.session import Session

    params = _params(ap, args.param)
    session = Session(args.board, out=sys.stdout, interactive=False, params=params)
    code = _run_file(session, args.file)
    if code == EXIT_OK:
        # A run that stopped early may not have reached the `param` (or could not parse it):
        # "matches no param" would then be false.
        _warn_unused(session, args.file)
    return code


def cmd_check(ap, args) -> int:
    from .lang.errors import TshError
    from .lang.parser import parse
    from .lang.session import read_script

    try:
        text = read_script(args.file)
        program = parse(text, args.file)
    except TshError as e:
        sys.stderr.write(e.format(text if "text" in locals() else None) + "\n")
        return EXIT_USAGE
    n = len(program.statements)
    print(f"{args.file}: OK ({n} statement{'s' if n != 1 else ''})")
    return EXIT_OK


def cmd_demo(ap, args) -> int:
    from .lang.interpreter import scenario_list, scenario_listing, scenario_path

    if args.name is None:
        print(scenario_listing("scenarios (`tockshell demo NAME` runs one):"))
        return EXIT_OK
    path = scenario_path(args.name)
    if path is None:
        from .lang.errors import suggestion

        sys.stderr.write("tockshell: " + suggestion("demo", args.name, [n for n, _ in scenario_list()])
                         + " (`tockshell demo` lists them)\n")
        return EXIT_USAGE
    from .lang.session import Session

    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    session = Session(args.board, out=sys.stdout, interactive=interactive, params=_params(ap, args.param))
    print(f"demo {args.name}: each statement is shown as if typed")
    print()
    code = _run_file(session, path, echo=True)
    if not interactive or args.no_shell:
        return code
    # At a terminal the demo hands over to the shell with its processes still there,
    # so a student can go on poking at what the scenario built.
    print()
    print(f"demo {args.name} finished; the shell continues with its state (Ctrl-D leaves).")
    return _enter_shell(session)


def cmd_repl(args) -> int:
    from .lang.session import Session

    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    session = Session(args.board, out=sys.stdout, interactive=interactive)
    return _enter_shell(session)


def _enter_shell(session) -> int:
    try:
        from .shell import repl
    except ModuleNotFoundError as e:
        if e.name != "tockshell.shell.repl":
            raise
        return _plain_loop(session)
    return repl.main(session)


def _plain_loop(session) -> int:
    """The shell without prompt_toolkit: a plain input() loop with the same prompt."""
    from .lang.errors import TshError
    from .lang.session import Quit

    while True:
        try:
            line = input(session.prompt())
        except EOFError:
            return EXIT_OK
        except KeyboardInterrupt:
            print()
            continue
        if not line.strip():
            continue
        try:
            session.execute(line)
        except Quit as q:
            return q.code
        except TshError as e:
            sys.stdout.flush()
            print(e.format(line), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tockshell`` console script."""
    ap = _parser()
    args = ap.parse_args(argv)
    if args.board != "default":
        from .board import BOARDS

        if args.board not in BOARDS:
            from .lang.errors import suggestion

            ap.error(suggestion("board", args.board, list(BOARDS)) + f" (boards: {', '.join(BOARDS)})")
    try:
        if args.command == "run":
            return cmd_run(ap, args)
        if args.command == "check":
            return cmd_check(ap, args)
        if args.command == "demo":
            return cmd_demo(ap, args)
        if args.command == "sweep":
            from .sweep import cmd_sweep

            return cmd_sweep(args)
        return cmd_repl(args)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `tockshell run x.tsh | head`: the reader left; nothing more to say.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
