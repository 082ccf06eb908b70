"""The debugger: breakpoints, catchpoints, watchpoints, displays and stepping, in app and manual processes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tockshell.lang.errors import TshError


def stop(sh):
    st = sh.session.last_stop
    return None if st is None else (st.kind, st.process, st.number)


def dbg(sh):
    from tockshell.debugger.commands import debugger_of

    return debugger_of(sh.session)


# ------------------------------------------------------------------ cost when unused
def test_no_breakpoint_no_hooks(sh):
    sh("spawn a app=hello")
    k = sh.kernel
    assert k.syscall_hook is None and k.delivery_hook is None
    assert dbg(sh)._on_record not in k.listeners
    sh("break syscall a command")
    assert k.syscall_hook is not None and k.delivery_hook is None
    sh("disable 1")
    assert k.syscall_hook is None
    sh("enable 1\ndelete 1")
    assert k.syscall_hook is None
    sh("catch fault")
    assert dbg(sh)._on_record in k.listeners
    sh("delete")
    assert dbg(sh)._on_record not in k.listeners


# ------------------------------------------------------------------ break syscall
def test_break_syscall_in_an_app_stops_before_the_kernel_handles_it(sh):
    sh("spawn a app=hello\nbreak syscall a command console")
    out = sh("run for 1s")
    assert "stopped: breakpoint 1, a: cmd(0x1, 1, 0xd, 0x0) [console]" in out
    assert stop(sh) == ("break", "a", 1)
    p = sh.kernel.process("a")
    assert p.state.name == "Running"
    assert p.pending_action == ("syscall", 2, 1, 1, 13, 0)
    assert sh.session.board.console.output_of(p) == b""  # not handled yet
    ev = sh.kernel.ev
    assert "cmd(0x1, 1, 0xd, 0x0) = Success" in sh("step")
    assert sh.kernel.ev == ev + 1
    assert p.pending_action is None
    sh("run for 10ms")
    assert sh.session.board.console.output_of(p) == b"Hello World!\n"


def test_stops_do_not_change_the_trace(make_shell):
    """Stopping and going on gives the very trace of a run with no breakpoints (same event numbers)."""
    script = "spawn a app=hello\nspawn b app=blink period=50\nspawn m\nm: command console 1 0 0\n"
    plain = make_shell()
    plain(script + "run for 300ms")
    sh = make_shell()
    sh(script + "break syscall b command\nbreak upcall a\nwatch b.state\ncatch error NOSUPPORT")
    stops = 0
    while sh.kernel.now < 300_000_000:
        sh.session.last_stop = None
        sh(f"run for {300_000_000 - sh.kernel.now}ns")
        if sh.session.last_stop is None:
            break
        stops += 1
    assert stops > 10
    assert [r.key() for r in sh.kernel.log] == [r.key() for r in plain.kernel.log]


def test_break_syscall_filters_class_driver_process(sh):
    sh("spawn a app=hello\nspawn b app=blink")
    sh("break syscall b subscribe")
    sh("run for 1s")
    assert stop(sh) == ("break", "b", 1)
    assert sh.kernel.process("b").pending_action[1] == 1
    sh("delete 1\nbreak syscall any 0x2")  # any class, the LED driver
    sh("run for 1s")
    assert stop(sh) == ("break", "b", 2)
    assert sh.kernel.process("b").pending_action[:4] == ("syscall", 2, 2, 3)
    sh("delete\nbreak syscall yield")
    sh("run for 1s")
    assert stop(sh)[0] == "break" and sh.kernel.process("b").pending_action[1] == 0


def test_break_condition_sees_the_syscall(sh):
    sh("spawn b app=blink\nbreak syscall b command alarm if $syscall.r1 == 6")
    sh("run for 2s")
    assert stop(sh) == ("break", "b", 1)
    assert sh.kernel.process("b").pending_action[3] == 6
    assert "syscall" not in sh.session.variables  # bound only while the condition is evaluated


def test_condition_and_ignore_counts(sh):
    sh("spawn b app=blink period=10\nbreak syscall b command led")
    sh("ignore 1 2")
    sh("run for 1s")
    assert stop(sh) == ("break", "b", 1)
    assert sh.session.board.led.toggles[0] == 2  # two toggles let through, the third held
    bp = dbg(sh).table.breakpoints[1]
    assert bp.hits == 3 and bp.ignore == 0
    sh("condition 1 b.syscalls > 1000")
    sh("run for 100ms")
    assert sh.session.last_stop is None
    out = sh("condition 1")
    assert "unconditional" in out
    sh("run for 100ms")
    assert stop(sh) == ("break", "b", 1)


def test_condition_error_stops_and_says_so(sh):
    sh("spawn b app=blink\nbreak syscall b if $nope == 1")
    out = sh("run for 1s")
    assert "error in the condition of breakpoint 1" in out
    assert stop(sh) == ("break", "b", 1)


def test_tbreak_is_deleted_when_it_stops(sh):
    sh("spawn b app=blink\ntbreak syscall b command")
    out = sh("run for 1s")
    assert "temporary breakpoint 1 deleted" in out
    assert dbg(sh).table.breakpoints == {}
    assert "no breakpoints" in sh("info breakpoints")


def test_commands_run_when_the_breakpoint_stops(sh):
    sh("spawn b app=blink period=10\nbreak syscall b command led")
    sh('commands { echo "toggles" b.syscalls\nlet n = 1 }')
    out = sh("run for 1s")
    assert "toggles" in out
    assert sh.session.variables["n"] == 1
    assert "{ echo" in sh("info breakpoints")


def test_commands_that_continue_chain_until_the_run_ends(sh):
    sh("spawn b app=blink period=10\nbreak syscall b command led")
    sh("commands 1 { continue }")
    sh("config run.max_events = 400")
    sh("run for 100ms")
    assert sh.session.board.led.toggles[0] >= 5


def test_disable_enable_delete_and_info(sh):
    sh("spawn b app=blink")
    sh("break syscall b\ncatch fault\nwatch b.state")
    out = sh("info breakpoints")
    assert "breakpoint" in out and "catchpoint" in out and "watchpoint" in out
    assert "b.state = Yielded" in out
    sh("disable 1 2")
    out = sh("info breakpoints")
    lines = [ln for ln in out.splitlines() if ln[:1].isdigit()]
    assert [ln.split()[3] for ln in lines] == ["n", "n", "y"]
    assert "watchpoint" in sh("info watchpoints") and "catchpoint" not in sh("info watchpoints")
    sh("enable")
    sh("delete 2")
    assert sorted(dbg(sh).table.breakpoints) == [1, 3]
    with pytest.raises(TshError, match="no breakpoint number 7"):
        sh("ignore 7 1")


# ------------------------------------------------------------------ manual processes
def test_break_on_a_shell_syscall_holds_it_until_continue(sh):
    sh("spawn m\nbreak syscall m command console")
    out = sh("m: command console 1 0 0")
    assert "held" in out and "→" not in out
    assert stop(sh) == ("break", "m", 1)
    assert sh.kernel.stats.syscalls == 3  # crt0's memops only
    with pytest.raises(TshError, match="stopped at breakpoint 1"):
        sh("m: command led 1 0")
    assert "held: m:" in sh("info breakpoints")
    out = sh("continue")
    assert "handed to the kernel" in out and "→ Success" in out
    assert sh.kernel.stats.syscalls == 4


def test_next_hands_over_a_held_shell_syscall(sh):
    sh("spawn m\nbreak syscall m memop")
    sh("m: memop ram_start")
    assert stop(sh)[0] == "break"
    out = sh("next m")
    assert "Success(u32=0x20000000)" in out or "0x20000000" in out
    with pytest.raises(TshError, match="manual process"):
        sh("next m")


def test_break_upcall_in_a_manual_process(sh):
    sh("spawn m\nbreak upcall m alarm 0")
    sh("m: subscribe alarm 0 @fired\nm: command alarm 5 100\nm: yield")
    out = sh("run for 10ms")
    assert "about to deliver alarm/0 @fired" in out
    p = sh.kernel.process("m")
    assert stop(sh) == ("break", "m", 1)
    assert p.state.name == "Yielded" and len(p.tasks) == 1
    out = sh("step")
    assert "delivered" in out
    assert p.state.name == "Running" and len(p.tasks) == 0


def test_break_upcall_inside_a_shell_yield(sh):
    sh("spawn m\nm: subscribe alarm 0 @fired\nm: command alarm 5 1\nrun for 1ms")
    assert len(sh.kernel.process("m").tasks) == 1
    sh("break upcall m")
    out = sh("m: yield")
    assert "about to deliver alarm/0" in out
    p = sh.kernel.process("m")
    assert p.state.name == "Yielded" and len(p.tasks) == 1
    sh("step")
    assert p.state.name == "Running" and p.in_handler


def test_break_upcall_in_an_app_with_a_condition(sh):
    sh("spawn b app=blink period=10\nbreak upcall b alarm 0 if $upcall.a0 > 0x40000")
    sh("run for 1s")
    assert stop(sh) == ("break", "b", 1)
    p = sh.kernel.process("b")
    assert p.tasks[0].args[0] > 0x40000
    assert "delivered" in sh("step")


# ------------------------------------------------------------------ catchpoints
def test_catch_fault_in_an_app(sh):
    sh("config fault_policy = restart\nspawn c app=crash_dummy after=3\ncatch fault c")
    out = sh("run for 10ms")
    assert "catchpoint 1 (fault), c faulted: memory fault" in out
    assert stop(sh) == ("catch", "c", 1)


def test_catch_restart_and_a_process_filter(sh):
    sh("config fault_policy = restart\nspawn c app=crash_dummy after=3\nspawn m\ncatch restart m")
    sh("run for 1ms")
    assert sh.session.last_stop is None
    out = sh("fault m")
    assert "catchpoint 1 (restart), m restarted" in out
    assert stop(sh) == ("catch", "m", 1)


def test_catch_error_on_a_shell_syscall_stops_after_dollar_underscore_is_set(sh):
    sh("spawn m\ncatch error NODEVICE")
    out = sh("m: command 0x99 0")
    assert out.index("Failure(NODEVICE)") < out.index("stopped: catchpoint 1 (error NODEVICE)")
    assert stop(sh) == ("catch", "m", 1)
    sh("expect $_ == Failure(NODEVICE)\nexpect $stop.kind == catch")
    sh("m: command console 1 0 0")  # another error code: no stop
    assert sh.session.last_stop.number == 1
    sh("catch error 1")  # by number: FAIL
    assert dbg(sh).table.breakpoints[2].code.name == "FAIL"


def test_catch_error_in_an_app_with_ignore(sh):
    sh("spawn b app=blink period=5\ncatch error NOSUPPORT")
    sh("run for 50ms")
    assert sh.session.last_stop is None
    sh("spawn m\ncatch error NOMEM m\nignore 2 1")
    sh("m: memop brk 0")
    assert sh.session.last_stop is None
    sh("m: memop brk 0")
    assert stop(sh) == ("catch", "m", 2)
    assert dbg(sh).table.breakpoints[2].hits == 2


def test_catch_dropped(sh):
    sh("spawn m\ncatch dropped\nm: subscribe button 0 @pressed\nm: command button 1 0")
    for _ in range(4):
        sh("press button 0")
    assert sh.session.last_stop is None
    out = sh("press button 0\npress button 0")
    assert "catchpoint 1 (dropped), upcall button/0 for m dropped" in out
    assert stop(sh) == ("catch", "m", 1)


def test_catch_ipc_in_apps(sh):
    sh('spawn svc app=echo_service\nspawn cli app=echo_client\ncatch ipc cli')
    sh("run for 100ms")
    assert stop(sh) == ("catch", "cli", 1)
    assert dbg(sh).table.breakpoints[1].hits == 1


def test_catch_ipc_on_a_shell_syscall(sh):
    sh("spawn m\ncatch ipc")
    out = sh("m: command ipcmgr 0")
    assert "catchpoint 1 (ipc)" in out
    assert stop(sh) == ("catch", "m", 1)


def test_unknown_error_code_is_one_clear_message(sh):
    with pytest.raises(TshError, match="did you mean 'NODEVICE'"):
        sh("catch error NODEVICES")
    with pytest.raises(TshError, match="not one of Tock's error codes"):
        sh("catch error 99")


# ------------------------------------------------------------------ watch and display
def test_watch_state_in_an_app_and_displays(sh):
    sh("spawn b app=blink\nwatch b.state\ndisplay b.syscalls")
    out = sh("run for 1s")
    assert "watchpoint 1: b.state changed: Yielded → Running" in out
    assert "1: b.syscalls = 0" in out
    assert stop(sh) == ("watch", "b", 1)
    out = sh("run for 1s")
    assert "Running → Yielded" in out
    assert "undisplay" not in out
    out = sh("display")
    assert "1: b.syscalls =" in out
    sh("undisplay 1")
    assert "no displays" in sh("info display")


def test_watch_memory_of_a_manual_process(sh):
    sh("spawn m\nlet buf = alloc m 4\nwatch mem(m, $buf, 4)")
    out = sh('write m $buf "abcd"')
    assert 'changed: x"00 00 00 00" → "abcd"' in out or "changed:" in out
    assert stop(sh)[0] == "watch"


def test_watch_queue_with_a_condition(sh):
    sh("spawn m\nm: subscribe button 0 @pressed\nm: command button 1 0\nwatch m.queue\ncondition 1 m.queue >= 3")
    sh("press button 0")
    assert sh.session.last_stop is None
    sh("press button 0")
    assert stop(sh) == ("watch", "m", 1)


def test_watch_needs_an_expression_that_reads_now(sh):
    with pytest.raises(TshError, match="process"):
        sh("watch nobody.state")


def test_watch_grant_slots_and_descriptor_tables(sh):
    sh("spawn m\nwatch grant(m, console, allow_ro)")
    assert "= none" in sh("info watchpoints")
    sh("m: subscribe console 1 @w")
    assert sh.session.last_stop.kind == "watch"  # none → the grant's RO slots
    sh.session.last_stop = None
    out = sh('m: allow-ro console 1 "hi"')
    assert "changed: [[0, 0], [0, 0]] → [[0, 0], [0x20000800, 2]]" in out
    sh("watch m.descriptors")
    with pytest.raises(TshError, match="did you mean 'upcalls'"):
        sh("print grant(m, console, upcals)")
    with pytest.raises(TshError, match="grant\\(\\) takes"):
        sh("print grant(m)")


def test_watch_on_a_grant_field(sh):
    sh("spawn b app=blink\nwatch b.grant_bytes")
    sh("run for 1s")
    assert stop(sh)[0] == "watch"
    assert "0 → 24" in sh("info breakpoints") or sh.kernel.process("b").grant_bytes == 24


# ------------------------------------------------------------------ next, finish, continue
def test_next_runs_to_the_process_next_syscall(sh):
    sh("spawn a app=hello\nspawn b app=blink")
    out = sh("next b")
    assert "b: about to make memop(0," in out
    assert stop(sh) == ("break", "b", None)
    p = sh.kernel.process("b")
    assert p.pending_action[1] == 5
    sh("next b")
    assert sh.kernel.process("b").pending_action[2] == 10  # memop 10, the stack top
    sh("expect $stop.kind == break")


def test_next_stops_when_the_process_dies(sh):
    sh("config fault_policy = stop\nspawn c app=crash_dummy after=2")
    outs = []
    for _ in range(10):
        outs.append(sh("next c"))
        if "did not reach another syscall" in outs[-1]:
            break
    assert "faulted" in outs[-1]
    assert sh.kernel.process("c").state.name == "Faulted"
    with pytest.raises(TshError, match="`next` needs a live process"):
        sh("next c")


def test_finish_runs_until_the_handler_returns(sh):
    sh("spawn b app=blink\nbreak upcall b alarm 0")
    sh("run for 1s\nstep")
    p = sh.kernel.process("b")
    assert p.program.depth == 1
    out = sh("finish")
    assert "the upcall handler returned" in out
    assert p.program.depth == 0
    assert p.pending_action is not None
    with pytest.raises(TshError, match="not inside an upcall handler"):
        sh("finish")


def test_continue_runs_on(sh):
    sh("spawn b app=blink period=10\nbreak syscall b command led\nconfig run.max_events = 300")
    sh("run for 1s")
    n = sh.session.board.led.toggles[0]
    sh("continue")
    assert sh.session.board.led.toggles[0] == n + 1
    assert stop(sh) == ("break", "b", 1)


def test_stepping_statements_refused_inside_blocks(sh):
    sh("spawn b app=blink\nat 1ms { continue }")
    with pytest.raises(TshError, match="cannot be used inside an at/every block"):
        sh("run for 2ms")
    sh("at +1ms { rewind 1 }")
    with pytest.raises(TshError, match="cannot be used inside an at/every block"):
        sh("run for 2ms")


def test_help_lists_debugger_words(sh):
    out = sh("help break")
    assert "break syscall" in out
    assert "reverse-continue" in sh("help reverse-continue")


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("text, message", [
    ("ignore 1 2", "no breakpoint number 1"),
    ("break syscall b command\nignore 1 -1", "0 or more"),
    ("condition 9 true", "no breakpoint number 9"),
    ("delete 4", "no breakpoint number 4"),
    ("undisplay 5", "no display number 5"),
    ("commands { echo 1 }", "no breakpoint to attach commands to"),
    ("break syscall b 9", "syscall classes are 0 to 7"),
    ("break syscall b command 0x99 if", "expected"),
    ("break upcall b nosuch 0", "nosuch"),
    ("restore here", "none yet"),
    ("diff a b", "checkpoint"),
    ("next nobody", "nobody"),
    ("finish", "finish needs a process stopped in an upcall handler"),
    ("goto \"x\"", "expected a number"),
    ("rewind -2", "rewind"),
    ("export perfetto \"/nonexistent/d/x.json\"", "no directory"),
    ("record \"/nonexistent/d/x.tsh\"", "no directory"),
    ("timeline for 0ms", "positive duration"),
    ("display nobody.state", "nobody"),
])
def test_bad_input_is_one_clear_message_with_a_position(sh, text, message):
    from tockshell.lang.errors import TshSyntaxError

    sh("spawn b app=blink")
    with pytest.raises((TshError, TshSyntaxError)) as e:
        sh(text)
    assert message.lower() in e.value.message.lower() or message.lower() in str(e.value).lower()
    assert e.value.pos is not None


DEBUG_WORDS = ["break syscall b", "break syscall m command", "tbreak upcall m", "break upcall b alarm 0 if $upcall.a0 > 1",
               "catch fault", "catch error NODEVICE", "catch dropped m", "catch ipc", "catch restart",
               "watch b.state", "watch m.queue", "display m.queue", "undisplay", "delete", "disable", "enable",
               "ignore 1 2", "condition 1 m.queue > 1", "commands { echo \"hit\" }", "continue", "next b",
               "finish", "step", "run for 3ms", "m: yield", "m: command 0x99 0", "press button 0",
               "m: command alarm 5 20", "info breakpoints", "rewind 3", "goto 10", "reverse-step",
               "reverse-continue", "checkpoint x", "restore x", "diff x now", "fault b", "timeline"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(DEBUG_WORDS), min_size=1, max_size=12))
def test_random_debugging_sessions_fail_only_with_clear_messages(lines):
    import io

    from tockshell.lang.session import Session

    s = Session(out=io.StringIO())
    s.execute("config fault_policy = restart\nconfig run.max_events = 2000\nspawn b app=blink period=2\nspawn m\n"
              "m: subscribe alarm 0 @f\nm: subscribe button 0 @p\nm: command button 1 0")
    for line in lines:
        try:
            s.execute(line)
        except TshError as e:
            assert e.message and "Traceback" not in e.message


def test_catch_dropped_sees_a_legacy_ipc_notify_dropped_from_a_full_queue(sh):
    sh('spawn svc package="org.svc"\nspawn cli\ncatch dropped svc\nsvc: command ipc 0\n'
       'cli: allow-ro ipc 0 "org.svc"\ncli: command ipc 1 0')
    for _ in range(9):  # Tock's task queue holds 9: each notify is one Task::IPC, none run yet
        sh("cli: command ipc 2 0 0")
    assert sh.session.last_stop is None
    out = sh("cli: command ipc 2 0 0")
    assert "Failure(NOMEM)" in out
    assert "catchpoint 1 (dropped), legacy IPC Service notify from cli to svc dropped: its task queue is full" in out
    assert stop(sh) == ("catch", "svc", 1)
    assert sh.session.kernel.process("svc").dropped_upcalls == 1
