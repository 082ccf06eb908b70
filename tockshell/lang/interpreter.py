"""The core statements of tsh: processes, syscalls, memory, time, scripts.

Each handler is registered in :mod:`tockshell.lang.commands` for its AST
class; :meth:`Session.exec_statement` dispatches. Handlers print through
``session.say`` (using :mod:`tockshell.shell.render` for anything larger than
a line) and return the statement's value (for ``let``).

Statements that belong to later parts of the project (IPC inspection, the
debugger, radio traffic) are not handled here; until their plugin is
installed they give a clear "not available yet".
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..abi import SyscallClass, SyscallReturn, YieldWaitForReturn
from ..board import BOARDS, DRIVER_NUMBERS
from ..kernel import KernelAPIError, KernelPanic, MemoryFault, fault_policy_from, scheduler_from
from ..kernel.process import StateKind
from ..shell import render
from . import ast
from .commands import (CONFIG_KEYS, SPAWN_KEYS, ConfigValue, SpawnContext, config_key, spawn_key,
                       statement)
from .errors import TshError, did_you_mean, panic_hint, suggestion
from .expr import CONSTANTS, compare, evaluate, evaluate_bytes, evaluate_int, expr_text
from .values import Pattern, ResultValue, Symbol, Time, format_time, show, show_echo, truthy

__all__ = ["all_config_keys", "CONFIG_VALUE_WORDS", "scenario_list", "scenario_listing", "scenario_path", "run_demo",
           "MEMOP_OPS", "CLASS_NUMBERS", "driver_number"]

MEMOP_OPS = {
    "brk": 0, "sbrk": 1, "ram_start": 2, "ram_end": 3, "flash_start": 4, "flash_end": 5,
    "grant_start": 6, "flash_regions": 7, "flash_region_start": 8, "flash_region_end": 9,
    "stack_start": 10, "stack_top": 10, "heap_start": 11,
}
CLASS_NUMBERS = {"yield": 0, "subscribe": 1, "command": 2, "allow-rw": 3, "allow-ro": 4, "memop": 5,
                 "exit": 6, "allow-ur": 7}
_ALLOW_CLASS = {"rw": SyscallClass.ALLOW_RW, "ro": SyscallClass.ALLOW_RO, "ur": SyscallClass.ALLOW_UR}
MAX_MEM_DUMP = 64 * 1024
#: Largest ram=, grant= and flash= one spawned process may ask for (as the TBF loader's limit):
#: real Tock chips have far less in all, and the model must not allocate gigabytes on a typo.
MAX_SPAWN_SIZE = 1 << 20

#: Statements that must not run inside an at/every block (they would re-enter the kernel loop).
_NOT_IN_BLOCKS = (ast.Run, ast.Step, ast.Board, ast.Demo)


# ================================================================== helpers
def _int(s, e, what="a number") -> int:
    return evaluate_int(s, e, what)


def _opt_int(s, e, default=0, what="a number") -> int:
    return default if e is None else evaluate_int(s, e, what)


def _reg(s, e, what="a number") -> int:
    """A syscall argument: it must fit a 32-bit register (a negative one is its two's complement)."""
    v = evaluate_int(s, e, what)
    if not -(1 << 31) <= v <= 0xFFFF_FFFF:
        written = expr_text(e)
        if isinstance(e, (ast.Number, ast.Size)) or written in (str(v), show(v)):
            shown = written
        else:
            shown = f"{written} ({show(v)})"
        raise s.error(e, f"{shown} does not fit in a 32-bit register (-2147483648..0xffffffff)")
    return v


def _opt_reg(s, e, default=0, what="a number") -> int:
    return default if e is None else _reg(s, e, what)


def driver_number(s, d: ast.Driver) -> int:
    """A driver operand's number (a name from the board or the language, or a number)."""
    if d.name is not None:
        drv = s.board.drivers_by_name.get(d.name)
        if drv is not None:
            return drv.driver_num
        if d.name in DRIVER_NUMBERS:
            return DRIVER_NUMBERS[d.name]
        raise s.error(d, suggestion("driver", d.name, list(s.board.drivers_by_name) + list(DRIVER_NUMBERS)))
    n = evaluate_int(s, d.number, "a driver number")
    if not 0 <= n <= 0xFFFF_FFFF:
        raise s.error(d, f"driver number {n} does not fit in a register")
    return n


def _refuse_if_panicked(s, node) -> None:
    k = s.kernel
    if k.panicked:
        raise s.error(node, f"the kernel has panicked ({k.panicked}); {panic_hint(s.board.name)}")


def running(s, node):
    """The process of a syscall statement, which must be a Running manual process."""
    p = s.process(node.process)
    _refuse_if_panicked(s, node)
    if p.program is not None:
        raise s.error(node.process, f"{p.name} runs the app '{getattr(p.program, 'name', '?')}'; its syscalls "
                                    f"come from the app (spawn a process without app= to drive it by hand)")
    if p.state.kind is not StateKind.RUNNING:
        raise s.error(node.process, f"{render.state_phrase(s, p)}; only a Running process can make a syscall")
    return p


def do_syscall(s, node, p, cls: int, regs: tuple) -> Any:
    """Issue one syscall for ``p``, print the result and what it did, set ``$_``."""
    k = s.kernel
    r0, r1, r2, r3 = regs  # (spelled out: this runs once per statement of a long script)
    regs = (r0 & 0xFFFF_FFFF, r1 & 0xFFFF_FFFF, r2 & 0xFFFF_FFFF, r3 & 0xFFFF_FFFF)
    if s.syscall_gate is not None and s.syscall_gate(s, node, p, cls, regs):
        return s.last_result  # held at a breakpoint: the debugger said so; `continue` issues it
    s.in_syscall = True
    try:
        with s.capture() as recs:
            r = k.syscall(p, cls, *regs)
    finally:
        s.in_syscall = False
    if isinstance(r, SyscallReturn):
        s.last_result = ResultValue(r, regs)
        gloss = render.result_gloss(s, p, cls, regs, r, recs)
        s.say(render.result_line(str(r), gloss))
    elif isinstance(r, YieldWaitForReturn):
        s.last_result = ResultValue(r, regs)
        s.say(render.result_line(str(r), f"yield-wait-for {render.upcall_name(s, regs[1], regs[2])} returned at "
                                         f"once: a matching upcall was queued"))
    else:
        s.last_result = None
    # A capsule's note that explains the result is its gloss already; print it once.
    used = gloss if isinstance(r, SyscallReturn) and gloss else None
    shown = set()
    for line in render.syscall_glosses(s, p, recs):
        if line != used:
            s.say("  " + line)
            shown.add(line)
    if cls == SyscallClass.YIELD and not isinstance(r, YieldWaitForReturn):
        after = _after_yield(s, p, regs, recs)
        # e.g. a legacy IPC task, already told as an event line: say where that left the process instead
        s.say("  " + (after if after not in shown else render.state_phrase(s, p)))
    elif cls == SyscallClass.EXIT and r is None:
        s.say("  " + render.state_phrase(s, p))
    return s.last_result


def _after_yield(s, p, regs, recs) -> str:
    for rec in recs:
        if rec.kind == "function_call":
            d = rec.data
            src = d[6] if len(d) > 6 else None
            what = render.upcall_name(s, *src) if src is not None else "upcall"
            return (f"delivered {what} {render.fn_name(s, p, d[0])}({', '.join(f'{a:#x}' for a in d[1:4])}) — "
                    f"{p.name} is Running in its handler")
        if rec.kind == "null_dropped":
            what = render.upcall_name(s, rec.data[0], rec.data[1])
            if regs[0] == 0:
                return (f"dropped a null-upcall event of {what}: yield-no-wait found it queued, so as Tock "
                        f"codes it {p.name} yielded and the event was discarded (TRD104 says no-wait returns "
                        f"at once); {p.name} stays Yielded")
            return f"dropped a null-upcall event of {what} (a plain yield discards them); {p.name} stays Yielded"
        if rec.kind == "ipc_task":
            return render.event_text(s, rec) or ""
        if rec.kind == "fault":
            return render.state_phrase(s, p)
    if regs[0] == 0 and p.state.kind is StateKind.RUNNING:
        return f"no task queued: yield-no-wait returns at once and {p.name} keeps running"
    return render.state_phrase(s, p)


# ================================================================== processes and the kernel
@statement(ast.Board, core=True)
def _board(s, n: ast.Board):
    if n.name is None:
        s.say(render.board_summary(s))
        return None
    if n.name not in BOARDS:
        listed = "" if did_you_mean(n.name, BOARDS) else f" (boards: {', '.join(sorted(BOARDS))})"
        raise s.error(n, suggestion("board", n.name, list(BOARDS)) + listed)
    old_board, gone = s.board.name, [p.name for p in s.kernel.live_processes()]
    old_config = all_config_keys(s)
    s.new_board(n.name)
    s.say(f"board \"{n.name}\": a fresh kernel (no processes, t=0, empty trace); variables are kept")
    # A switch is easy to type with work in hand: say what it took away (a setting such as
    # credentials = sha256 silently back at none would load binaries the user meant to refuse).
    if gone:
        names = ", ".join(gone) if len(gone) <= 8 else ", ".join(gone[:8]) + ", ..."
        what = f"the {len(gone)} processes" if len(gone) != 1 else "the process"
        s.say(f"  {what} of board \"{old_board}\" ({names}) {'are' if len(gone) != 1 else 'is'} gone; "
              f"a checkpoint taken before the switch restores {'them' if len(gone) != 1 else 'it'}")
    new_config = all_config_keys(s)
    reset = [f"{k} {v} → {new_config[k]}" for k, v in old_config.items() if k in new_config and new_config[k] != v]
    if reset:
        s.say(f"  settings back at this board's defaults: {', '.join(reset)}")
    return None


@statement(ast.ShowKernel, core=True)
def _kernel(s, n):
    s.say(render.kernel_summary(s))


@statement(ast.ListProcesses, core=True)
def _list(s, n):
    s.say(render.process_table(s))


@statement(ast.Status, core=True)
def _status(s, n):
    s.say(render.status(s))


def _state_line(s, p) -> str:
    return "  " + render.state_phrase(s, p)


@statement(ast.StopProcess, core=True)
def _stop(s, n):
    p = s.process(n.process)
    s.kernel.stop(p)
    s.say(f"Process {p.name} stopped")
    s.say(_state_line(s, p))


@statement(ast.StartProcess, core=True)
def _start(s, n):
    p = s.process(n.process)
    s.kernel.resume(p)
    s.say(f"Process {p.name} resumed.")
    s.say(_state_line(s, p))


@statement(ast.FaultProcess, core=True)
def _fault(s, n):
    p = s.process(n.process)
    with s.capture() as recs:
        s.kernel.fault(p, f"forced from the shell (`{n.alias or 'fault'} {p.name}`)")
    s.say(f"Process {p.name} now faulted")
    for rec in recs:
        text = render.event_text(s, rec)
        if text and rec.kind not in ("function_call", "memop"):
            s.say("  " + text)
    s.say(_state_line(s, p))


@statement(ast.TerminateProcess, core=True)
def _terminate(s, n):
    p = s.process(n.process)
    s.kernel.terminate(p)
    s.say(f"Process {p.name} terminated")
    s.say(_state_line(s, p))


@statement(ast.BootProcess, core=True)
def _boot(s, n):
    p = s.process(n.process)
    s.kernel.boot(p)
    s.say(f"Process {p.name} booted as [{p.identifier}] (restart count {p.restart_count})")
    s.say(_state_line(s, p))


@statement(ast.RestartProcess, core=True)
def _restart(s, n):
    p = s.process(n.process)
    old = p.identifier
    s.kernel.try_restart(p)
    s.say(f"Process {p.name} restarted: ProcessId [{old}] → [{p.identifier}], same slot {p.index}, "
          f"ShortId {p.short_id} kept, restart count {p.restart_count}")
    s.say(_state_line(s, p))


# ------------------------------------------------------------------ spawn
_CORE_SPAWN_KEYS = {"ram": "app memory (TBF minimum RAM)", "grant": "room left for grants",
                    "flash": "flash size", "short_id": "ShortId (a number, or Unique)",
                    "package": "package name (defaults to NAME)", "raw": "leave it as Tock creates it",
                    "app": "a built-in app to run", "tbf": "load a TBF file", "tab": "load an app from a TAB"}


def option_value(s, e) -> Any:
    """An option's value: bare words are words (``app=hello``, ``raw=true``), the rest evaluates."""
    if isinstance(e, ast.Name):
        if e.name in CONSTANTS:
            return CONSTANTS[e.name]
        return Symbol(e.name)
    if isinstance(e, ast.ListValue):
        return tuple(option_value(s, x) for x in e.items)
    return evaluate(s, e)


def _pathish(e) -> str | None:
    """``tbf=data/app.tbf`` unquoted parses as a division of names: read it back as the path."""
    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.BinaryOp) and e.op == "/":
        a, b = _pathish(e.left), _pathish(e.right)
        if a is not None and b is not None:
            return f"{a}/{b}"
    return None


def _size_option(s, ctx, key, node) -> int | None:
    v = ctx.options.get(key)
    if v is None:
        return None
    ctx.use(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0 or (key == "flash" and v == 0):
        raise s.error(node, f"{key}= must be a {'positive ' if key == 'flash' else ''}size in bytes "
                            f"(e.g. {key}=4k), not {show(v)}")
    if v > MAX_SPAWN_SIZE:
        what = "flash" if key == "flash" else "RAM"
        raise s.error(node, f"{key}={v} is more than the {MAX_SPAWN_SIZE // 1024}k of {what} the board gives "
                            f"one process (Tock's loader: {'NotEnoughFlash' if key == 'flash' else 'NotEnoughMemory'})")
    return v


def _option_node(n, key: str):
    """The ``key=value`` node of a spawn option (for the error's position), or the statement."""
    for kv in n.options:
        if kv.key == key:
            return kv
    return n


@statement(ast.Spawn, core=True)
def _spawn(s, n: ast.Spawn):
    name = n.name.name
    if s.find_process(name) is not None:
        raise s.error(n.name, f"a process named '{name}' already exists")
    options: dict[str, Any] = {}
    kinds: dict[str, type] = {}
    for kv in n.options:
        if kv.key in options:
            raise s.error(kv, f"spawn option '{kv.key}' is given twice")
        path = _pathish(kv.value) if kv.key in ("tbf", "tab") else None
        options[kv.key] = path if path is not None else option_value(s, kv.value)
        kinds[kv.key] = type(kv.value)
    if "tbf" in options and "tab" in options:
        raise s.error(_option_node(n, "tab"), "give one binary: tbf= (a .tbf file) or tab= (a bundle), not both")
    ctx = SpawnContext(name, options, node=n, kinds=kinds)
    for key in ("ram", "grant", "flash"):
        v = _size_option(s, ctx, key, _option_node(n, key))
        if v is not None:
            ctx.kwargs[key] = v
    if "short_id" in options:
        ctx.use("short_id")
        v = options["short_id"]
        if v is None or v == "Unique":
            ctx.kwargs["short_id"] = None
        elif isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 0xFFFF_FFFF:
            ctx.kwargs["short_id"] = v
        else:
            raise s.error(_option_node(n, "short_id"), f"short_id= must be a nonzero 32-bit number or Unique, "
                                                       f"not {show(v)}")
    if "package" in options:
        ctx.use("package")
        if not isinstance(options["package"], str):
            raise s.error(_option_node(n, "package"), f"package= must be a string, not {show(options['package'])}")
        ctx.kwargs["package"] = str(options["package"])
    raw = options.get("raw", False)
    ctx.use("raw")
    if not isinstance(raw, bool):
        raise s.error(_option_node(n, "raw"), f"raw= must be true or false, not {show(raw)}")
    ctx.kwargs["booted"] = not raw
    for key in ("tbf", "tab", "app"):
        if key in options:
            handler = SPAWN_KEYS.get(key)
            if handler is None:
                raise s.error(n, f"spawn {key}= is not available yet")
            ctx.use(key)
            handler(s, ctx)
    for key in list(ctx.unused()):
        handler = SPAWN_KEYS.get(key)
        if handler is not None:
            ctx.use(key)
            handler(s, ctx)
    left = ctx.unused()
    if left:
        key = next(iter(left))
        raise s.error(_option_node(n, key), suggestion("spawn option", key, list(_CORE_SPAWN_KEYS) + list(SPAWN_KEYS)))
    if ctx.program is not None:
        ctx.kwargs["program"] = ctx.program
    try:
        p = s.kernel.create_process(name, **ctx.kwargs)
    except KernelPanic:
        raise  # the session says how to get out of it
    except (KernelAPIError, ValueError) as e:
        source = next((k for k in ("tbf", "tab") if k in options), None)
        if source is None:
            raise s.error(n, str(e)) from None
        # A load error of a binary file points at the file and names it, as the header checks do.
        raise s.error(_option_node(n, source), f"{options[source]}: {e}{_flash_hint(s, ctx, str(e))}") from None
    s.say(_spawn_line(s, p))
    return None


def _flash_hint(s, ctx, message: str) -> str:
    """Why a TBF's flash may not fit a Cortex-M MPU region: its size is not a power of two."""
    size = ctx.kwargs.get("flash")
    if "MpuInvalidFlashLength" not in message or not isinstance(size, int) or size & (size - 1) == 0:
        return ""
    return (f" (its total_size, {size} B, is not a power of two: elf2tab pads a TBF for ARM to one, at least "
            f"512 B, and this one was not padded)")


def _spawn_line(s, p) -> str:
    k = s.kernel
    if p.program is not None:
        how = (f"app {getattr(p.program, 'name', '?')}: {p.state.name}, _start queued; it runs when the "
               f"scheduler picks it")
    elif p.booted:
        how = f"booted: {p.state.name}, break {p.app_break:#x}"
    else:
        how = f"raw: {p.state.name}, _start queued, break {p.app_break:#x}"
    if not p.alive:
        how = f"{p.state.name}: {k.state_sentence(p)}"
    return (f"spawned {p.name}  pid {p.identifier}  slot {p.index}  RAM {p.memory_start:#010x}..{p.memory_end:#010x}"
            f"  flash {p.flash_start:#010x}..{p.flash_end:#010x}  ({how})")


def _script_dir(s, node) -> str | None:
    f = getattr(getattr(node, "pos", None), "file", None)
    if f and not f.startswith("<"):
        return os.path.dirname(os.path.abspath(f))
    return None


def _script_relative(s, node, path: str) -> str:
    """A relative path written in a script file is relative to that file (typed ones to the working directory)."""
    base = _script_dir(s, node)
    if base and not os.path.isabs(path) and os.path.isfile(node.pos.file):
        return os.path.join(base, path)
    return path


@spawn_key("app", core=True)
def _spawn_app(s, ctx: SpawnContext):
    try:
        from ..userland import apps
    except ImportError:
        apps = None
    fn = getattr(apps, "spawn_program", None)
    if fn is None:
        raise s.error(ctx.node, "app programs are not available yet")
    app = ctx.options["app"]
    if not isinstance(app, str):
        raise s.error(ctx.node, f"app= must name an app, not {show(app)}")
    dur = getattr(apps, "Duration", None)
    kinds = ctx.kinds
    params = {}
    for key, v in ctx.unused().items():
        if dur is not None and (kinds.get(key) is ast.Duration or isinstance(v, Time)):
            v = dur(v)  # a duration, written or held in a variable (cost=$slow), is not a count of ms
        params[key] = str(v) if isinstance(v, Symbol) else v
        ctx.use(key)
    try:
        ctx.program = fn(str(app), params, ram=ctx.kwargs.get("ram", 4096), base_dir=_script_dir(s, ctx.node))
    except (ValueError, OSError) as e:
        # Point at the parameter the message names, else at app=.
        m = re.search(r"parameter '?([A-Za-z_]\w*)", str(e))
        node = _option_node(ctx.node, m.group(1) if m else "app")
        raise s.error(node if node is not ctx.node else _option_node(ctx.node, "app"), str(e)) from None


@spawn_key("tbf", "tab", core=True)
def _spawn_tbf(s, ctx: SpawnContext):
    try:
        from .. import tbf
    except ImportError:
        tbf = None
    fn = getattr(tbf, "spawn_args", None)
    if fn is None:
        raise s.error(ctx.node, "loading TBF files is not available yet")
    key = "tbf" if "tbf" in ctx.options else "tab"
    path = _script_relative(s, ctx.node, str(ctx.options[key]))
    arch = ctx.options.get("arch")
    ctx.use("arch")
    try:
        # label: messages and `process` name the file as written, not the machine-specific joined path.
        loaded = fn(path, key, s.board, arch=None if arch is None else str(arch), label=str(ctx.options[key]))
    except (ValueError, OSError) as e:
        raise s.error(_option_node(ctx.node, key), str(e)) from None
    except Exception as e:  # noqa: BLE001 - a loader's own error type (TbfError) carries the message
        if type(e).__name__.endswith("Error") and str(e):
            raise s.error(_option_node(ctx.node, key), str(e)) from None
        raise
    # What the user wrote explicitly (ram=, short_id=, package=...) wins over the header.
    for k, v in loaded.items():
        if k not in ctx.kwargs or k in ("booted",):
            ctx.kwargs[k] = v


# ------------------------------------------------------------------ config
CONFIG_VALUE_WORDS = {
    "fault_policy": ("panic", "stop", "restart", "threshold(", "threshold_panic("),
    "scheduler": ("round_robin(10ms)", "cooperative", "priority"),
    "trd104": ("on", "off"), "waitfor_quirk": ("on", "off"), "trace": ("on", "off"), "run.events": ("on", "off"),
}


def config_value(s, e) -> ConfigValue:
    """The right-hand side of ``config`` in every form a setter may want."""
    source = expr_text(e)
    if isinstance(e, ast.Name):
        return ConfigValue(source, word=e.name)
    if isinstance(e, ast.Call):
        return ConfigValue(source, call=(e.func, *(evaluate(s, a) for a in e.args)))
    if isinstance(e, ast.ListValue):
        return ConfigValue(source, items=tuple(config_value(s, x).value for x in e.items))
    v = evaluate(s, e)
    if v is None:
        return ConfigValue(source, word="none")  # `-p policy=none` reaches `config ... = $policy` as none
    if isinstance(v, bool):
        return ConfigValue(source, word="on" if v else "off")
    if isinstance(v, int):
        return ConfigValue(source, number=v)
    if isinstance(v, str):
        return ConfigValue(source, text=str(v))
    raise TshError(f"config takes a word, a number, a string or a call such as threshold(3), not {show(v)}",
                   getattr(e, "pos", None))


def _flag(v: ConfigValue, key: str) -> bool:
    f = v.flag
    if f is None:
        raise ValueError(f"{key} is on or off, not {v}")
    return f


def _set_fault_policy(s, v: ConfigValue):
    if v.call is not None:
        name, *args = v.call
        if len(args) != 1 or not isinstance(args[0], int):
            raise ValueError(f"{name}(N) takes one restart count")
        s.kernel.fault_policy = fault_policy_from(name, args[0])
    elif v.word is not None:
        s.kernel.fault_policy = fault_policy_from(v.word)
    else:
        raise ValueError("fault_policy is panic, stop, restart, threshold(N) or threshold_panic(N)")


def _set_scheduler(s, v: ConfigValue):
    k = s.kernel
    if v.call is not None:
        name, *args = v.call
        if name != "round_robin" or len(args) != 1 or not isinstance(args[0], int):
            raise ValueError("only round_robin takes an argument: round_robin(10ms)")
        us = args[0] // 1000 if _was_duration(v) else args[0]
        if us <= 0:
            raise ValueError(f"the timeslice is whole microseconds (Tock's timeslice_us), at least 1us, "
                             f"not {v.source[v.source.find('(') + 1:v.source.rfind(')')] or v.source}")
        sched = scheduler_from("round_robin", us)
    elif v.word is not None:
        sched = scheduler_from(v.word)
    else:
        raise ValueError("scheduler is round_robin(10ms), cooperative or priority")
    k.scheduler = sched
    k.current = None  # the old scheduler's choice means nothing to the new one


def _was_duration(v: ConfigValue) -> bool:
    # round_robin(10ms) gives ns; a bare number is microseconds, as Tock's new_with_time takes.
    inner = v.source[v.source.find("(") + 1:v.source.rfind(")")].strip()
    return not inner.replace("_", "").isdigit() and not inner.lower().startswith("0x")


def _set_num_procs(s, v: ConfigValue):
    k = s.kernel
    if v.number is None or not 1 <= v.number <= 64:
        raise ValueError("num_procs is a number of process slots from 1 to 64")
    if any(p is not None for p in k.processes):
        raise ValueError("num_procs can only change on a board with no processes (`board default` starts one)")
    k.config.num_procs = v.number
    k.processes = [None] * v.number


def _set_max_events(s, v: ConfigValue):
    if v.number is None or v.number < 1:
        raise ValueError("run.max_events is a positive number of events")
    s.max_events = v.number


def _cost_setter(attr):
    def setter(s, v: ConfigValue):
        if v.number is None or v.number < (1 if attr == "cpu_hz" else 0):
            raise ValueError(f"costs.{attr} is a {'positive' if attr == 'cpu_hz' else 'non-negative'} number")
        setattr(s.kernel.config.costs, attr, v.number)
        s.kernel.costs_changed()
    return setter


def _register_config_keys() -> None:
    def onoff(b):
        return "on" if b else "off"

    core = [
        ("fault_policy", lambda s: str(s.kernel.fault_policy), _set_fault_policy,
         "panic | stop | restart | threshold(N) | threshold_panic(N)"),
        ("scheduler", lambda s: s.kernel.scheduler.describe(), _set_scheduler,
         "round_robin(10ms) | cooperative | priority"),
        ("trd104", lambda s: onoff(s.kernel.config.trd104),
         lambda s, v: setattr(s.kernel.config, "trd104", _flag(v, "trd104")),
         "on: follow TRD104's text where Tock's code differs"),
        ("waitfor_quirk", lambda s: onoff(s.kernel.config.waitfor_flag_quirk),
         lambda s, v: setattr(s.kernel.config, "waitfor_flag_quirk", _flag(v, "waitfor_quirk")),
         "on: Tock's yield-wait-for readiness flag is overwritten by each enqueue"),
        ("num_procs", lambda s: str(s.kernel.config.num_procs), _set_num_procs,
         "process slots (on a board with no processes)"),
        ("trace", lambda s: onoff(s.trace_on), lambda s, v: setattr(s, "trace_on", _flag(v, "trace")),
         "print Tock's trace_syscalls lines as they happen"),
        ("run.max_events", lambda s: str(s.max_events), _set_max_events,
         "event limit of a `run` with no time bound"),
        ("run.events", lambda s: onoff(s.show_events), lambda s, v: setattr(s, "show_events", _flag(v, "run.events")),
         "off: run, step, press print no event lines (long runs in scenarios)"),
    ]
    for attr in ("cpu_hz", "syscall", "context_switch", "upcall", "copy_per_byte", "hw_event"):
        core.append((f"costs.{attr}", lambda s, a=attr: str(getattr(s.kernel.config.costs, a)),
                     _cost_setter(attr), "cycles" if attr != "cpu_hz" else "CPU clock in Hz"))
    for name, getter, setter, text in core:
        if name not in CONFIG_KEYS:
            config_key(name, getter, setter, text)


_register_config_keys()


def all_config_keys(s) -> dict[str, str]:
    """Every config key with its current value as text (kernel, session, plugin and capsule keys)."""
    out = {}
    for name, ck in CONFIG_KEYS.items():
        try:
            out[name] = ck.getter(s)
        except Exception:  # noqa: BLE001 - a plugin's getter must not break a listing
            out[name] = "?"
    for dname, drv in s.board.drivers_by_name.items():
        for key, value in (drv.config_keys() or {}).items():
            out[f"{dname}.{key}"] = str(value)
    return out


@statement(ast.Config, core=True)
def _config(s, n: ast.Config):
    key = n.key
    value = config_value(s, n.value)
    if value.word is None and value.text in CONFIG_VALUE_WORDS.get(key, ()):
        # `config credentials = $policy` (a param a sweep varies) or a quoted word: the word it holds.
        value = ConfigValue(value.source, word=value.text)
    ck = CONFIG_KEYS.get(key)
    try:
        if ck is not None:
            ck.setter(s, value)
            s.say(f"{key} = {ck.getter(s)}")
            return None
        dname, _, sub = key.partition(".")
        drv = s.board.drivers_by_name.get(dname)
        if drv is not None and sub:
            keys = drv.config_keys() or {}
            if sub not in keys:
                raise TshError(suggestion(f"{dname} setting", sub, list(keys)) if keys else
                               f"{dname} has no settings", _key_pos(s, n))
            note = drv.set_config(sub, value.value)
            s.say(f"{key} = {(drv.config_keys() or {}).get(sub, value)}" + (f" — {note}" if note else ""))
            return None
    except ValueError as e:
        # A refused value: point at the value, not at `config`.
        raise s.error(n.value if getattr(n.value, "pos", None) else n, str(e)) from None
    except TshError as e:
        if e.pos is None and getattr(n.value, "pos", None) is not None:
            e.pos = n.value.pos
        raise
    raise TshError(suggestion("config key", key, list(all_config_keys(s))), _key_pos(s, n))


def _key_pos(s, n: ast.Config):
    """Where the key of a config statement is written (the AST keeps only its text)."""
    pos = n.pos
    if pos is None:
        return None
    lines = s.sources.get(pos.file, "").splitlines()
    if not 1 <= pos.line <= len(lines):
        return pos
    col = lines[pos.line - 1].find(n.key, pos.column - 1)
    if col < 0:
        return pos
    return ast.Pos(pos.file, pos.line, col + 1, pos.line, col + 1 + len(n.key))


# ================================================================== syscalls
@statement(ast.Command, core=True)
def _command(s, n: ast.Command):
    p = running(s, n)
    regs = (driver_number(s, n.driver), _reg(s, n.command_num, "a command number"),
            _opt_reg(s, n.arg0), _opt_reg(s, n.arg1))
    return do_syscall(s, n, p, SyscallClass.COMMAND, regs)


@statement(ast.Subscribe, core=True)
def _subscribe(s, n: ast.Subscribe):
    p = running(s, n)
    h = n.handler
    if isinstance(h, ast.Label):
        fn = s.label_address(p, h.name, h)
    elif isinstance(h, ast.Null):
        fn = 0
    else:
        fn = _reg(s, h, "an upcall address")
    regs = (driver_number(s, n.driver), _reg(s, n.subscribe_num, "a subscribe number"), fn,
            _opt_reg(s, n.appdata))
    return do_syscall(s, n, p, SyscallClass.SUBSCRIBE, regs)


@statement(ast.Allow, core=True)
def _allow(s, n: ast.Allow):
    p = running(s, n)
    drv = driver_number(s, n.driver)
    num = _reg(s, n.allow_num, "an allow number")
    b = n.buffer
    if isinstance(b, ast.AddressRange):
        addr, length = _reg(s, b.address, "an address"), _reg(s, b.length, "a length")
    elif isinstance(b, ast.Null):
        addr, length = 0, 0
    else:
        data = b.data
        if not data:
            addr, length = 0, 0
        else:
            addr = s.alloc(p, len(data), b)
            p.write(addr, data)
            length = len(data)
            s.say(f"  placed {render._plural(len(data), 'byte')} at {addr:#x} ({p.name} heap)")
    return do_syscall(s, n, p, _ALLOW_CLASS[n.kind], (drv, num, addr, length))


@statement(ast.Yield, core=True)
def _yield(s, n: ast.Yield):
    p = running(s, n)
    if n.mode == "no-wait":
        regs = (0, 0, 0, 0)
    elif n.mode == "wait-for":
        regs = (2, driver_number(s, n.driver), _reg(s, n.upcall_num, "a subscribe number"), 0)
    else:
        regs = (1, 0, 0, 0)
    return do_syscall(s, n, p, SyscallClass.YIELD, regs)


@statement(ast.Memop, core=True)
def _memop(s, n: ast.Memop):
    p = running(s, n)
    if isinstance(n.op, str):
        if n.op not in MEMOP_OPS:
            raise s.error(n, suggestion("memop operation", n.op, list(MEMOP_OPS)))
        op = MEMOP_OPS[n.op]
    else:
        op = _reg(s, n.op, "a memop number")
    return do_syscall(s, n, p, SyscallClass.MEMOP, (op, _opt_reg(s, n.arg), 0, 0))


@statement(ast.Exit, core=True)
def _exit(s, n: ast.Exit):
    p = running(s, n)
    which = 0 if n.kind == "terminate" else 1
    return do_syscall(s, n, p, SyscallClass.EXIT, (which, _opt_reg(s, n.code), 0, 0))


@statement(ast.RawSyscall, core=True)
def _raw(s, n: ast.RawSyscall):
    p = running(s, n)
    if isinstance(n.cls, str):
        if n.cls not in CLASS_NUMBERS:
            raise s.error(n, suggestion("syscall class", n.cls, list(CLASS_NUMBERS)))
        cls = CLASS_NUMBERS[n.cls]
    else:
        cls = _int(s, n.cls, "a syscall class")
        if not 0 <= cls <= 255:
            raise s.error(n.cls, f"a syscall class is the 8-bit svc immediate (0..255), not {cls}")
    regs = (_reg(s, n.r0), _opt_reg(s, n.r1), _opt_reg(s, n.r2), _opt_reg(s, n.r3))
    return do_syscall(s, n, p, cls, regs)


# ================================================================== memory and kernel state
@statement(ast.Alloc, core=True)
def _alloc(s, n: ast.Alloc):
    p = s.process(n.process)
    size = _int(s, n.length, "a length")
    if size <= 0:
        raise s.error(n.length, f"alloc takes a positive number of bytes, not {size}")
    addr = s.alloc(p, size, n.length)
    s.say(f"{p.name}: {size} bytes at {addr:#x} (heap)")
    return addr


@statement(ast.Write, core=True)
def _write(s, n: ast.Write):
    p = s.process(n.process)
    addr = _int(s, n.address, "an address")
    if isinstance(n.data, tuple):
        out = bytearray()
        for e in n.data:
            b = _int(s, e, "a byte")
            if not 0 <= b <= 255:
                raise s.error(e, f"{b} is not a byte (0..255)")
            out.append(b)
        data = bytes(out)
    else:
        data = evaluate_bytes(s, n.data)
    if not p.in_app_owned_memory(addr, len(data)):
        raise s.error(n.address, f"{p.name} cannot write [{addr:#x}, {addr + len(data):#x}): its memory is "
                                 f"[{p.memory_start:#x}, {p.app_break:#x}) below the app break")
    p.write(addr, data)
    s.say(f"{p.name}: wrote {len(data)} byte{'' if len(data) == 1 else 's'} at {addr:#x}")
    return None


@statement(ast.ShowMemory, core=True)
def _mem(s, n: ast.ShowMemory):
    p = s.process(n.process)
    addr = _int(s, n.address, "an address")
    length = _opt_int(s, n.length, 64, "a length")
    if not 0 <= length <= MAX_MEM_DUMP:
        raise s.error(n.length, f"mem shows 0..{MAX_MEM_DUMP} bytes, not {length}")
    try:
        data = p.read(addr, length)
    except MemoryFault as e:
        raise s.error(n.address, f"{e} (RAM [{p.memory_start:#x}, {p.memory_end:#x}), flash "
                                 f"[{p.flash_start:#x}, {p.flash_end:#x}))") from None
    s.say(render.hexdump(addr, data))
    return data


def _process_view(view: str):
    """The handler of a statement that prints one :mod:`render` view of the named process."""
    def handler(s, n):
        s.say(getattr(render, view)(s, s.process(n.process)))
    return handler


for _node, _view in ((ast.ProcessDetail, "process_detail"), (ast.ShowGrants, "grants"),
                     (ast.ShowUpcalls, "upcalls"), (ast.ShowAllows, "allows"),
                     (ast.ShowSubscriptions, "subscriptions")):
    statement(_node, core=True)(_process_view(_view))


@statement(ast.Stats, core=True)
def _stats(s, n: ast.Stats):
    if n.reset:
        from ..kernel import Stats

        s.kernel.stats = Stats()
        for d in s.kernel.drivers.values():
            fn = getattr(d, "reset_stats", None)
            if callable(fn):
                fn()
        s.say("statistics reset")
        return None
    s.say(render.stats(s))
    return None


@statement(ast.Trace, core=True)
def _trace(s, n: ast.Trace):
    if n.setting in ("on", "off"):
        s.trace_on = n.setting == "on"
        s.say(f"trace {n.setting}" + (": Tock's trace_syscalls lines are printed as they happen"
                                      if s.trace_on else ""))
        return None
    count = _opt_int(s, n.lines, 20, "a number of lines")
    if count <= 0:
        raise s.error(n.lines, f"trace N shows the newest N lines; N must be positive, not {count}")
    from ..kernel import trace

    everything = n.setting == "all"
    lines = []
    for rec in reversed(s.kernel.log):
        line = trace.trace_line(rec)
        if line is None and everything:
            line = f"({trace.describe(rec)})"
        if line is not None:
            lines.append(f"  {format_time(rec.time):>9}  {line}")
            if len(lines) >= count:
                break
    s.say("\n".join(reversed(lines)) if lines else "  (no trace lines yet)")
    return None


# ================================================================== time, events, running
def _report_stop(s, stop) -> None:
    if stop.kind == "interrupt":
        s.say(f"  interrupted at t={format_time(s.kernel.now)} ev={s.kernel.ev}")
        s.interrupted = False
        return
    s.last_stop = stop
    s.say(f"  stopped: {stop.message or stop.kind}")


def _not_in_block(s, n) -> TshError:
    return s.error(n, f"`{_first_word(s, n)}` cannot be used inside an at/every block: the block runs "
                      f"inside the kernel's event loop")


def _guard_block(s, n):
    if s.block_depth:
        raise _not_in_block(s, n)


def _check_block_body(s, body) -> None:
    """Refuse, when the block is scheduled, a statement that could not run inside it later."""
    for st in body or ():
        if isinstance(st, _NOT_IN_BLOCKS):
            raise _not_in_block(s, st)
        _check_block_body(s, getattr(st, "body", None))


def _first_word(s, n) -> str:
    src = s.sources.get(n.pos.file) if n.pos else None
    if src:
        return n.pos.text(src).split()[0] if n.pos.text(src).split() else "?"
    return type(n).__name__.lower()


@statement(ast.Step, core=True)
def _step(s, n: ast.Step):
    _guard_block(s, n)
    k = s.kernel
    count = _opt_int(s, n.count, 1, "a number of events")
    if count < 1:
        raise s.error(n.count, f"step takes a positive number of events, not {count}")
    _refuse_if_panicked(s, n)
    s.last_stop = None
    with s.live_events():
        for _ in range(min(count, s.max_events)):
            if k.panicked:
                break
            if not k.step():
                s.say(f"  idle at t={format_time(k.now)}: no process is ready and no hardware event is pending")
                break
            stop = s.check_stop()
            if stop is not None:
                _report_stop(s, stop)
                break
        else:
            if count > s.max_events:
                s.say(f"  stopped after {s.max_events} events: the run.max_events limit bounds `step` too; "
                      f"`config run.max_events = N` moves it")
    return None


@statement(ast.Run, core=True)
def _run(s, n: ast.Run):
    _guard_block(s, n)
    k = s.kernel
    until = None
    if n.duration is not None:
        d = _int(s, n.duration, "a duration")
        if d < 0:
            raise s.error(n.duration, f"run for takes a positive duration, not {d}")
        until = k.now + d
    cond = n.until
    if cond is not None and truthy(evaluate(s, cond)):
        s.say(f"  until condition already holds: {expr_text(cond)}; nothing run")
        return None
    _refuse_if_panicked(s, n)
    s.last_stop = None
    why: dict[str, Any] = {}

    def stop_fn() -> bool:
        st = s.check_stop()
        if st is not None:
            why["stop"] = st
            return True
        if cond is not None and truthy(evaluate(s, cond)):
            why["until"] = True
            return True
        return False

    # `run for D` is bounded by events too: an `every 1ns` would otherwise make it a hang.
    limit = s.max_events
    start_ev = k.ev
    with s.live_events():
        reason = k.run(until=until, max_events=limit, stop=stop_fn)
    # With an until condition, say that it never came true: the user is waiting for it.
    unmet = f"; {expr_text(cond)} still does not hold" if cond is not None else ""
    if reason == "idle":
        s.say(f"  idle at t={format_time(k.now)}: no process is ready and no hardware event is pending{unmet}")
    elif reason == "time" and cond is not None:
        s.say(f"  reached t={format_time(k.now)}{unmet}")
    elif reason == "events" and until is not None:
        s.say(f"  stopped at t={format_time(k.now)}, before t={format_time(until)}, after {k.ev - start_ev} "
              f"events: the run.max_events limit ({s.max_events}) bounds `run for` too; "
              f"`config run.max_events = N` moves it")
    elif reason == "events":
        s.say(f"  stopped after {k.ev - start_ev} events: the run.max_events limit ({s.max_events}); "
              f"`run for D` bounds a run by time, `config run.max_events = N` moves the limit")
    elif reason == "stop":
        if "stop" in why:
            _report_stop(s, why["stop"])
        else:
            s.say(f"  stopped at t={format_time(k.now)}: {expr_text(cond)} holds")
    return None


@statement(ast.Now, core=True)
def _now(s, n):
    k = s.kernel
    s.say(f"t={format_time(k.now)} ({k.now} ns), {k.ev} events")
    return Time(k.now)


@statement(ast.Press, core=True)
def _press(s, n: ast.Press):
    b = _int(s, n.button, "a button number")
    if not 0 <= b < s.board.button.count:
        raise s.error(n.button, f"the board has buttons 0..{s.board.button.count - 1}, not {b}")
    with s.live_events():
        s.board.press_button(b)


@statement(ast.ConsoleInput, core=True)
def _console_input(s, n: ast.ConsoleInput):
    data = evaluate_bytes(s, n.data)
    with s.live_events():
        s.board.console_input(data)


def _run_block(s, body, source: tuple[str, str] | None = None) -> None:
    s.block_depth += 1
    if source is not None:
        # The shell reuses one file name for every input line: give the block its own text back.
        s.sources[source[0]] = source[1]
    try:
        with s.live_events(False):
            for st in body:
                if isinstance(st, _NOT_IN_BLOCKS):
                    _guard_block(s, st)
                s.exec_statement(st)
    finally:
        s.block_depth -= 1


def _source_snapshot(s, n):
    f = n.pos.file if n.pos is not None else None
    return (f, s.sources[f]) if f in s.sources else None


@statement(ast.At, core=True)
def _at(s, n: ast.At):
    k = s.kernel
    _check_block_body(s, n.body)
    t = _int(s, n.time, "a time")
    when = k.now + t if n.relative else t
    if when < k.now:
        raise s.error(n.time, f"t={format_time(when)} is already past (now t={format_time(k.now)}); "
                              f"`at +D` counts from now")
    label = f"at {format_time(when)}: the block of line {n.pos.line if n.pos else '?'}"
    source = _source_snapshot(s, n)

    def fire():
        _run_block(s, n.body, source)
        return None

    s.scheduled.append(k.schedule_hw(when - k.now, fire, label))
    s.say(f"scheduled at t={format_time(when)}: {len(n.body)} statement{'s' if len(n.body) != 1 else ''}")


@statement(ast.Every, core=True)
def _every(s, n: ast.Every):
    k = s.kernel
    _check_block_body(s, n.body)
    period = _int(s, n.period, "a period")
    if period <= 0:
        raise s.error(n.period, f"every takes a positive period, not {period}")
    end = None
    if n.duration is not None:
        end = k.now + _int(s, n.duration, "a duration")
    label = f"every {format_time(period)}: the block of line {n.pos.line if n.pos else '?'}"
    source = _source_snapshot(s, n)

    def schedule(at: int) -> None:
        if end is not None and at > end:
            return
        s.scheduled.append(k.schedule_hw(at - k.now, lambda: fire(at), label))

    def fire(at: int):
        _run_block(s, n.body, source)
        schedule(at + period)
        return None

    if end is not None and k.now + period > end:
        s.say(f"nothing scheduled: the first run at t={format_time(k.now + period)} would be after the end "
              f"t={format_time(end)}")
        return
    schedule(k.now + period)
    # Without an end the block keeps the board busy: say so before a bare `run` spins to its event limit.
    until = (f" until t={format_time(end)}" if end is not None else
             " with no end (a bare `run` then goes on to run.max_events: bound it with `run for D`)")
    s.say(f"scheduled every {format_time(period)} from t={format_time(k.now + period)}{until}")


# ================================================================== scripts
@statement(ast.Let, core=True)
def _let(s, n: ast.Let):
    if n.name in ("_", "stop"):
        raise s.error(n, f"${n.name} is set by the shell; choose another name")
    if isinstance(n.value, ast.Statement):
        v = s.exec_statement(n.value)
    else:
        v = evaluate(s, n.value)
    s.variables[n.name] = v
    return v


@statement(ast.Echo, core=True)
def _echo(s, n: ast.Echo):
    s.say(" ".join(show_echo(evaluate(s, a)) for a in n.args))


@statement(ast.Print, core=True)
def _print(s, n: ast.Print):
    v = evaluate(s, n.expr)
    s.say(show(v))
    return v


def _source_text(s, e) -> str:
    pos = getattr(e, "pos", None)
    src = s.sources.get(pos.file) if pos is not None else None
    if src is not None:
        text = " ".join(pos.text(src).split())
        if text:
            return text
    return expr_text(e)


@statement(ast.Expect, core=True)
def _expect(s, n: ast.Expect):
    from .session import ExpectFailed

    e = n.expr
    if isinstance(e, ast.Comparison):
        a = evaluate(s, e.left)
        b = evaluate(s, e.right)
        if compare(e, e.op, a, b):
            return None
        raise ExpectFailed(f"expect failed: {_source_text(s, e)} — left is {show(a)}, right is {show(b)}", n.pos)
    v = evaluate(s, e)
    if isinstance(v, Pattern):
        if v.matches(s.last_result):
            return None
        raise ExpectFailed(f"expect failed: $_ is {show(s.last_result)}, not {v}", n.pos)
    if truthy(v):
        return None
    written, shown = _source_text(s, e), show(v)
    why = "false" if v is False or shown == written else f"{shown}, which is false"
    raise ExpectFailed(f"expect failed: {written} is {why}", n.pos)


@statement(ast.Include, core=True)
def _include(s, n: ast.Include):
    from .session import TshFileError, read_script

    path = _script_relative(s, n, n.path)
    try:
        text = read_script(path, n.pos)
    except TshFileError as e:
        # Name the file as the script wrote it: absolute paths differ from machine to machine.
        e.message = e.message.replace(path, n.path)
        raise
    s._run_source(text, path, pos=n.pos)


@statement(ast.Param, core=True)
def _param(s, n: ast.Param):
    if n.name in s.params:
        s.params_used.add(n.name)
        v = param_value(s, s.params[n.name])
    else:
        v = evaluate(s, n.default)
    s.variables[n.name] = v
    return v


def param_value(s, text: str) -> Any:
    """A ``-p NAME=VALUE`` value: an expression if it parses as one (``4k``, ``0x10``, ``"x"``), else the text."""
    from .parser import parse_expression

    try:
        e = parse_expression(text, "<-p>")
        if isinstance(e, ast.Name) and e.name not in CONSTANTS:
            return text
        return evaluate(s, e)
    except TshError:
        return text


@statement(ast.Pause, core=True)
def _pause(s, n):
    s.pause()


@statement(ast.Explain, core=True)
def _explain(s, n):
    s.say(render.explain(s))


@statement(ast.Quit, core=True)
def _quit(s, n):
    from .session import Quit

    raise Quit(0)


@statement(ast.Help, core=True)
def _help(s, n: ast.Help):
    from .help import help_text

    s.say(help_text(s, n.topic, n))


# ------------------------------------------------------------------ demos
def _scenario_dir() -> str:
    try:
        import importlib.resources

        return str(importlib.resources.files("tockshell.scenarios"))
    except (ImportError, ModuleNotFoundError, TypeError):
        return os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "scenarios")


def scenario_list() -> list[tuple[str, str]]:
    """(name, one-line description) of each shipped scenario, from its first comment line."""
    d = _scenario_dir()
    out = []
    try:
        names = sorted(f for f in os.listdir(d) if f.endswith(".tsh"))
    except OSError:
        return []
    missing_tbf = None
    for f in names:
        desc = ""
        try:
            with open(os.path.join(d, f), encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError):
            text = ""
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("#"):
                desc = line.lstrip("#").strip()
                break
            if line:
                break
        if _TBF_SPAWN.search(text):
            if missing_tbf is None:
                import importlib.util

                missing_tbf = importlib.util.find_spec("tockloader") is None
            if missing_tbf:
                # The optional dependency is absent: say so before the demo stops at its first spawn.
                desc += " (needs tockloader: pip install 'tockshell[tbf]')"
        out.append((f[:-4], desc))
    return out


_TBF_SPAWN = re.compile(r"^[ \t]*spawn\b[^#\n]*\b(?:tbf|tab)=", re.M)


def scenario_listing(head: str) -> str:
    """``head``, then each shipped scenario on its own line with its description (for `demo` and the CLI)."""
    items = scenario_list()
    width = max([16] + [len(name) for name, _ in items])
    return "\n".join([head] + [f"  {name:<{width}}  {desc}" for name, desc in items])


def scenario_path(name: str) -> str | None:
    path = os.path.join(_scenario_dir(), name + ".tsh")
    return path if os.path.isfile(path) else None


def run_demo(s, name: str, node=None) -> None:
    """Run a shipped scenario on a fresh board, echoing each statement as if typed."""
    path = scenario_path(name)
    if path is None:
        raise TshError(suggestion("demo", name, [n for n, _ in scenario_list()]) + " (`demo` lists them)",
                       getattr(node, "pos", None))
    s.new_board("default")
    s.say(f"demo {name}: a fresh board; each statement is shown as if typed")
    s.say()
    s.run_file(path, echo=True)


@statement(ast.Demo, core=True)
def _demo(s, n: ast.Demo):
    _guard_block(s, n)
    if n.name is None:
        s.say(scenario_listing("demos (`demo NAME` runs one on a fresh board):"))
        return None
    run_demo(s, n.name, n)
    return None
