"""``help`` and ``help COMMAND``: every command with a one-line description and an example.

The table is data (:data:`COMMANDS`), so tests can check that every statement
of the language has an entry and the REPL's completer can offer the topics.
Extra topics (``drivers``, ``config``, ``fields``, ``patterns``, ``apps``)
are built from the live session.
"""

from __future__ import annotations

from typing import NamedTuple

from .errors import TshError, suggestion

__all__ = ["COMMANDS", "GROUPS", "help_text", "topics"]


class Entry(NamedTuple):
    """One command's help; ``setup`` is what its example needs first (``help`` shows it too).

    Plugins give the same fields as a tuple; tests run ``setup`` then ``example`` on a fresh session.
    """

    synopsis: str
    summary: str
    example: str
    details: str = ""
    setup: str = ""


_CLIENT = "spawn client"


#: command word -> entry, in the order `help` lists them within their group.
COMMANDS: dict[str, Entry] = {
    # processes and the kernel
    "board": Entry("board [NAME]", "show the board, or start over on a fresh board profile",
                   "board cortex-m",
                   "A switch starts a fresh kernel: the processes of the old board are gone (a checkpoint\n"
                   "taken before it still restores them). Profiles (`help PROFILE` describes one):\n"
                   "default (4-byte memory protection), cortex-m (the ARMv7-M MPU: power-of-two RAM\n"
                   "blocks, an app break the hardware sees in subregions)."),
    "config": Entry("config KEY = VALUE", "set a kernel, shell or capsule setting (`help config` lists them)",
                    "config fault_policy = threshold(3)"),
    "spawn": Entry("spawn NAME [ram=4k grant=2k flash=2k short_id=N package=\"..\" raw=true app=APP]",
                   "create a process: booted like a libtock-c app (Running), or raw as Tock leaves it",
                   "spawn client ram=4k short_id=0x42",
                   "ram is the app memory (the TBF minimum RAM), grant the room left for grants; the RAM\n"
                   "block is ram + grant + the kernel's structures. raw=true leaves it Yielded with _start\n"
                   "queued and a 32-byte app break. app=APP runs an app program (`help apps`).\n"
                   "tbf=\"FILE\" (or tab=\"FILE\" [arch=ARCH]) loads a real Tock binary: its header gives\n"
                   "package, RAM, ShortId and the syscall filter; `config credentials` decides whether\n"
                   "its footers must carry an accepted credential (`help credentials`)."),
    "list": Entry("list", "the process table (the process console's columns) with each state in words", "list"),
    "status": Entry("status", "total and active processes, timeslice expirations", "status"),
    "process": Entry("process NAME", "one process in detail: counters, last syscall, memory map", "process client",
                     setup=_CLIENT),
    "kernel": Entry("kernel", "the kernel version and the board's drivers", "kernel"),
    "stop": Entry("stop NAME", "stop a process (it remembers its state)", "stop client", setup=_CLIENT),
    "start": Entry("start NAME", "resume a stopped process (it does not boot one)", "start client",
                   setup="spawn client; stop client"),
    "fault": Entry("fault NAME", "fault a process; the board's fault policy decides what follows (alias: crash)",
                   "fault client", setup=_CLIENT),
    "terminate": Entry("terminate NAME", "terminate a process (grants and queue wiped)", "terminate client",
                       setup=_CLIENT),
    "boot": Entry("boot NAME", "start a Terminated process again (new ProcessId)", "boot client",
                  setup="spawn client; terminate client"),
    "restart": Entry("restart NAME", "Tock's try_restart: terminate, reset, new ProcessId, same slot",
                     "restart client", setup=_CLIENT),
    # syscalls
    "command": Entry("NAME: command DRIVER CMD [ARG0 [ARG1]]", "a Command syscall", "client: command led 1 0",
                     setup=_CLIENT),
    "subscribe": Entry("NAME: subscribe DRIVER NUM HANDLER [APPDATA]",
                       "a Subscribe syscall; HANDLER is @label, an address or null",
                       "client: subscribe alarm 0 @tick",
                       "A @label gets a stable address in the process's flash after the TBF header, so\n"
                       "pointer validity is checked as Tock does; `@_start` is the entry point.", setup=_CLIENT),
    "allow-rw": Entry("NAME: allow-rw DRIVER NUM BUFFER", "a read-write Allow; BUFFER is ADDR LEN, null, \"text\" "
                      "or x\"..\" (a literal is placed in the heap first)", "client: allow-rw console 1 0x20000900 16",
                      setup=_CLIENT),
    "allow-ro": Entry("NAME: allow-ro DRIVER NUM BUFFER", "a read-only Allow", 'client: allow-ro console 1 "hello"',
                      setup=_CLIENT),
    "allow-ur": Entry("NAME: allow-ur DRIVER NUM BUFFER", "a userspace-readable Allow (class 7)",
                      "client: allow-ur console 0 null", setup=_CLIENT),
    "yield": Entry("NAME: yield [wait | no-wait | wait-for DRIVER NUM]",
                   "a Yield; a task already queued is delivered inside the statement",
                   "client: yield wait-for alarm 0",
                   "yield alone is yield wait. A function call leaves the process Running in its handler;\n"
                   "a null-upcall event is dropped and it stays Yielded; wait-for puts the upcall's\n"
                   "arguments in $_.r0..r2. Otherwise a later run or step delivers.", setup=_CLIENT),
    "memop": Entry("NAME: memop OP [ARG]", "a Memop: brk sbrk ram_start ram_end flash_start flash_end grant_start "
                   "flash_regions flash_region_start flash_region_end stack_start heap_start, or a number",
                   "client: memop sbrk 256", setup=_CLIENT),
    "exit": Entry("NAME: exit terminate [CODE] | exit restart [CODE]", "an Exit syscall", "client: exit terminate 0",
                  setup=_CLIENT),
    "syscall": Entry("NAME: syscall CLASS R0 [R1 [R2 [R3]]]", "raw registers, for invalid calls (they fault)",
                     "client: syscall 9 0", setup=_CLIENT),
    # memory and state
    "alloc": Entry("alloc NAME LEN", "bump-allocate in the process's heap; prints and returns the address",
                   "let buf = alloc client 64", setup=_CLIENT),
    "write": Entry("write NAME ADDR BYTES", "write \"text\", x\"..\" or a number list into the process's memory",
                   "write client $buf \"ping\"", setup="spawn client; let buf = alloc client 64"),
    "mem": Entry("mem NAME ADDR [LEN]", "hexdump (64 bytes unless LEN); as a value, the bytes", "mem client $buf 16",
                 setup="spawn client; let buf = alloc client 64"),
    "grants": Entry("grants NAME", "the grant region: each grant, its slots, its capsule data, sizes", "grants client",
                    setup="spawn client; client: subscribe console 1 @on_write"),
    "upcalls": Entry("upcalls NAME", "the pending task queue, oldest first", "upcalls client", setup=_CLIENT),
    "allows": Entry("allows NAME", "every buffer the process has allowed", "allows client", setup=_CLIENT),
    "subscriptions": Entry("subscriptions NAME", "every upcall the process has subscribed", "subscriptions client",
                           setup=_CLIENT),
    "stats": Entry("stats [reset]", "syscalls, context switches, upcalls, copies, kernel work", "stats"),
    "trace": Entry("trace [on | off | N]", "Tock's trace_syscalls lines: on/off as they happen, or the newest N",
                   "trace 10"),
    # time
    "step": Entry("step [N]", "N scheduler events (a syscall, an upcall delivery, a hardware event)", "step 3"),
    "run": Entry("run [for DURATION] [until EXPR]", "advance virtual time; events print as they happen",
                 "run for 10ms until client.queue > 0",
                 "Without a bound a run stops when nothing can happen; any run stops after run.max_events\n"
                 "events (so `run for` too, should an `every` fire faster than time goes by).\n"
                 "A manual process that is Running is never scheduled: its upcalls wait for its yield.",
                 setup=_CLIENT),
    "now": Entry("now", "the virtual time (a value for let)", "let t0 = now"),
    "press": Entry("press button N", "press and release a button (two hardware events)", "press button 0"),
    "console": Entry("console input DATA", "bytes arriving on the console UART", 'console input "hi\\n"'),
    "at": Entry("at TIME { ... }", "run statements at a virtual time (at +D: from now)", "at 5ms { press button 0 }"),
    "every": Entry("every PERIOD [for DURATION] { ... }", "run statements periodically",
                   "every 1ms for 10ms { press button 1 }"),
    # scripts
    "let": Entry("let NAME = EXPR | STATEMENT", "set a variable (a syscall, alloc, mem or now gives its value)",
                 "let r = client: command led 0", setup=_CLIENT),
    "echo": Entry("echo [EXPR ...]", "print values on one line", 'echo "queue:" client.queue', setup=_CLIENT),
    "print": Entry("print EXPR", "print a value as the shell shows values", "print $_"),
    "expect": Entry("expect EXPR", "fail the run (file:line, both sides) unless EXPR holds",
                    "expect $_ == Failure(NODEVICE)", setup="spawn client; client: command 0x99 0"),
    "include": Entry("include FILE", "run another .tsh file (relative to this one)", "include setup.tsh"),
    "param": Entry("param NAME = DEFAULT", "a variable `tockshell run -p NAME=V` can override", "param n = 3"),
    "pause": Entry("pause", "wait for Enter when interactive; nothing in batch", "pause"),
    "explain": Entry("explain", "the last event in words, with why anything was refused", "explain"),
    "quit": Entry("quit", "leave the shell or end the script", "quit"),
    "help": Entry("help [COMMAND | TOPIC]", "this help; topics: drivers config fields patterns apps", "help yield"),
    "demo": Entry("demo [NAME]", "list the shipped scenarios, or run one on a fresh board", "demo hello"),
}

GROUPS = [
    ("Processes and the kernel", ["board", "config", "spawn", "list", "status", "process", "kernel", "stop",
                                  "start", "fault", "terminate", "boot", "restart"]),
    ("Syscalls (NAME: ...)", ["command", "subscribe", "allow-rw", "allow-ro", "allow-ur", "yield", "memop", "exit",
                              "syscall"]),
    ("Memory and kernel state", ["alloc", "write", "mem", "grants", "upcalls", "allows", "subscriptions", "stats",
                                 "trace"]),
    ("Time and events", ["step", "run", "now", "press", "console", "at", "every"]),
    ("Scripts", ["let", "echo", "print", "expect", "include", "param", "pause", "explain", "quit", "help", "demo"]),
]

_ALIASES = {"crash": "fault", "source": "include", "allow": "allow-rw", "wait": "yield"}
_TOPICS = ("drivers", "config", "fields", "patterns", "apps", "expressions")


def topics(session=None) -> list[str]:
    """Every word `help` accepts (with a session: its config keys too)."""
    from ..board import BOARDS, DRIVER_NUMBERS
    from .commands import CONFIG_KEYS

    words = list(COMMANDS) + list(_ALIASES) + list(_TOPICS) + [d for d in DRIVER_NUMBERS if d not in COMMANDS]
    keys = CONFIG_KEYS if session is None else __import__(
        "tockshell.lang.interpreter", fromlist=["all_config_keys"]).all_config_keys(session)
    return words + [b for b in BOARDS if b not in words] + [k for k in keys if k not in words]


def _overview(session) -> str:
    lines = ["tsh commands (`help COMMAND` for details, `demo` for guided scenarios):"]
    for title, words in GROUPS:
        lines.append(f"{title}:")
        for w in words:
            e = COMMANDS[w]
            lines.append(f"  {w:<14} {e.summary}")
    extra = _plugin_entries()
    if extra:
        lines.append("More (from plugins):")
        for w, e in extra.items():
            lines.append(f"  {w:<14} {e.summary}")
    lines.append("Topics: " + " ".join(_TOPICS))
    return "\n".join(lines)


def _plugin_entries() -> dict[str, Entry]:
    """Help entries plugins registered (a module-level HELP dict of word -> Entry-like tuples)."""
    import sys

    out: dict[str, Entry] = {}
    from .session import PLUGIN_MODULES

    for name in PLUGIN_MODULES:
        mod = sys.modules.get(name)
        table = getattr(mod, "HELP", None)
        if isinstance(table, dict):
            for w, e in table.items():
                if w not in COMMANDS and isinstance(e, (tuple, list)) and 3 <= len(e) <= len(Entry._fields):
                    out[w] = Entry(*e) if not isinstance(e, Entry) else e
    return out


def _entry_text(word: str, e: Entry) -> str:
    lines = [f"{e.synopsis}", f"  {e.summary}"]
    if e.details:
        lines += ["  " + line for line in e.details.splitlines()]
    lines.append(f"  example: {e.example}" + (f"   (after `{e.setup}`)" if e.setup else ""))
    return "\n".join(lines)


def _config_keys_text(session) -> str:
    from .commands import CONFIG_KEYS
    from .interpreter import all_config_keys

    capsule_help = {f"{name}.{key}": text for name, drv in session.board.drivers_by_name.items()
                    for key, text in (getattr(drv, "config_help", dict)() or {}).items()}
    lines = ["keys, with their current values:"]
    for key, value in all_config_keys(session).items():
        ck = CONFIG_KEYS.get(key)
        text = ck.help if ck else capsule_help.get(key, "")
        lines.append(f"  {key:<24} {value:<20} {text}".rstrip())
    return "\n".join(lines)


def _config_key_text(session, key: str) -> str | None:
    """`help KEY` for a config key (`help credentials`): its values, what it does, its current value."""
    from .commands import CONFIG_KEYS
    from .interpreter import CONFIG_VALUE_WORDS, all_config_keys

    current = all_config_keys(session)
    if key not in current:
        return None
    ck = CONFIG_KEYS.get(key)
    dname, _, sub = key.partition(".")
    drv = session.board.drivers_by_name.get(dname)
    text = ck.help if ck else ((getattr(drv, "config_help", dict)() or {}).get(sub, "") if drv else "")
    # The example sets something other than what is set now (a word ending in '(' takes a number).
    words = [w + "3)" if w.endswith("(") else w for w in CONFIG_VALUE_WORDS.get(key, ())]
    example = next((w for w in words if w != current[key]), current[key])
    lines = [f"config {key} = VALUE   (now: {current[key]})"]
    if text:
        lines.append(f"  {text}")
    lines.append(f"  example: config {key} = {example}   (`help config` lists every key)")
    return "\n".join(lines)


def _board_profile_text(name: str) -> str | None:
    """`help cortex-m`: what a board profile is (the profile function's docstring)."""
    from ..board import BOARDS

    fn = BOARDS.get(name)
    if fn is None:
        return None
    text = _BOARD_PROFILES.get(name) or (" ".join((fn.__doc__ or "").split()).split(". ")[0] or "a board profile")
    return f"board {name}: {text}\n  example: board {name}   (starts a fresh kernel on that profile)"


#: `help PROFILE` for the shipped board profiles (a plugin's profile shows its docstring's first sentence).
_BOARD_PROFILES = {
    "default": "the board every session starts on: Tock's base drivers and the IPC capsules, memory\n"
               "  protection of 4-byte granularity (a RAM block is exactly what was asked, brk may go anywhere\n"
               "  below the kernel memory break)",
    "cortex-m": "the same drivers with a Cortex-M4's MPU as Tock 2.3 programs it: flash in one region, RAM\n"
                "  in a power-of-two block of two regions whose subregions (eighths) open as the app break\n"
                "  grows, so a brk or a grant that would expose kernel memory is refused (NOMEM); `process p`\n"
                "  shows the regions (`demo mpu_cortexm`, docs/kernel.md \"The cortex-m board\")",
}


def _driver_text(d) -> str:
    """`help DRIVER`: what the capsule is, its number, its grant and its settings."""
    g = d.grant
    slots = (f"grant: {g.upcalls} upcall{'' if g.upcalls == 1 else 's'}, {g.allow_ro} ro allow(s), "
             f"{g.allow_rw} rw allow(s), {g.size} B per process" if g else "no grant (subscribe and allow give NOMEM)")
    lines = [f"driver {d.name} ({d.driver_num:#x}): {d.summary}", f"  {slots}"]
    keys = d.config_keys() or {}
    descriptions = getattr(d, "config_help", dict)() or {}
    for key, value in keys.items():
        lines.append(f"  config {d.name}.{key} = {value}   {descriptions.get(key, '')}".rstrip())
    lines.append(f"  example: p: command {d.name} 0   (command 0: does the driver exist?)")
    return "\n".join(lines)


def help_text(session, topic: str | None = None, node=None) -> str:
    """The text of ``help`` or ``help TOPIC``; a did-you-mean TshError for an unknown topic."""
    if not topic:
        return _overview(session)
    word = topic.split()[0]
    word = _ALIASES.get(word, word)
    if word == "config":
        return _entry_text(word, COMMANDS[word]) + "\n" + _config_keys_text(session)
    key_help = _config_key_text(session, word)
    if key_help is not None and word not in COMMANDS:
        return key_help
    profile = _board_profile_text(word)
    if profile is not None:
        return profile
    drv = session.board.drivers_by_name.get(word)
    about_driver = "" if drv is None else "\n" + _driver_text(drv)
    if word in COMMANDS:
        return _entry_text(word, COMMANDS[word]) + about_driver
    extra = _plugin_entries()
    if word in extra:
        return _entry_text(word, extra[word]) + about_driver
    if drv is not None:
        return about_driver.lstrip("\n")
    if word == "drivers":
        k = session.kernel
        lines = ["drivers on this board (by name or number in syscalls):"]
        for num in sorted(k.drivers):
            d = k.drivers[num]
            g = d.grant
            slots = (f"{g.upcalls} upcall{'' if g.upcalls == 1 else 's'}, {g.allow_ro} ro, {g.allow_rw} rw"
                     if g else "no grant")
            lines.append(f"  {d.name:<14} {num:#08x}  {slots:<26} {d.summary}".rstrip())
        return "\n".join(lines)
    if word == "fields":
        from .commands import PROCESS_FIELDS

        lines = ["process fields (p.FIELD in expressions):"]
        for name, (_, text) in PROCESS_FIELDS.items():
            lines.append(f"  {name:<16} {text}")
        lines.append("result fields: $_.r0 .. $_.r3 (registers as the kernel wrote them), $_.error, $_.value, "
                     "$_.values[i]")
        return "\n".join(lines)
    if word in ("patterns", "expressions"):
        return ("expressions: numbers (42 0x1F 1_000 4k 10ms), \"strings\", x\"bytes\", $vars, + - * / %,\n"
                "  == != < <= > >=, and or not, process fields (client.state), mem(p, ADDR, LEN), len(x), hex(n)\n"
                "result patterns compare only what they name:\n"
                "  Success               every success variant\n"
                "  Failure(NODEVICE)     every failure carrying NODEVICE\n"
                "  Success(u32=3)        only Success-with-u32 holding 3\n"
                "  Failure(INVAL, 0x20001000, 16)   the error, then the values in order\n"
                "bytes compare equal to a string with the same UTF-8 bytes: expect client.console == \"hi\"")
    if word == "apps":
        try:
            from ..userland import apps
        except ImportError:
            apps = None
        fn = getattr(apps, "app_help", None)
        if fn is None:
            return "app programs are not available yet"
        return fn()
    raise TshError(suggestion("help topic", word, topics(session)), getattr(node, "pos", None))
