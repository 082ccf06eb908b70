"""The interpreter: statements against a live session (output, $_, errors with positions)."""

from __future__ import annotations

import pytest

from tockshell.lang import ast
from tockshell.lang.commands import STATEMENTS, handler_for, statement
from tockshell.lang.errors import TshError
from tockshell.lang.session import ExpectFailed, Quit
from tockshell.lang.values import ResultValue


# ------------------------------------------------------------------ spawn
def test_spawn_booted_prints_layout_and_runs_crt0(sh):
    out = sh("spawn client ram=4k")
    assert "spawned client  pid 0  slot 0  RAM 0x20000000.." in out
    assert "(booted: Running, break 0x20001000)" in out
    p = sh.kernel.process("client")
    assert p.state.name == "Running" and p.app_break == 0x20001000


def test_spawn_raw_is_left_as_tock_creates_it(sh):
    out = sh("spawn r raw=true")
    p = sh.kernel.process("r")
    assert p.state.name == "Yielded" and len(p.tasks) == 1
    assert "raw: Yielded, _start queued" in out


def test_spawn_options_short_id_package_sizes(sh):
    sh('spawn a ram=2k grant=1k flash=4k short_id=0x42 package="pkg"')
    p = sh.kernel.process("a")
    assert p.short_id.value == 0x42 and p.package == "pkg" and p.flash_len == 4096


@pytest.mark.parametrize("text,msg", [
    ("spawn a rma=4k", "unknown spawn option 'rma' — did you mean 'ram'?"),
    ("spawn a ram=\"x\"", "ram= must be a size"),
    ("spawn a short_id=0", "short_id= must be a nonzero"),
    ("spawn a raw=3", "raw= must be true or false"),
    ("spawn a ram=1 ram=2", "given twice"),
])
def test_spawn_bad_options(sh, text, msg):
    with pytest.raises(TshError) as e:
        sh(text)
    assert msg in e.value.message and e.value.pos.line == 1


def test_spawn_twice_is_refused_at_the_name(sh):
    sh("spawn a")
    with pytest.raises(TshError) as e:
        sh("spawn a")
    assert "already exists" in e.value.message and e.value.pos.column == 7


# ------------------------------------------------------------------ syscalls and $_
def test_command_result_and_registers(sh):
    sh("spawn c")
    out = sh("c: command led 0")
    assert out.startswith("→ Success(u32=4)")
    r = sh.session.last_result
    assert isinstance(r, ResultValue) and r.regs == (129, 4, 0, 0)
    sh("expect $_ == Success(u32=4) and $_.value == 4 and $_.r0 == 129 and $_.error == none")


def test_failure_registers_keep_unwritten_args(sh):
    sh("spawn c")
    sh("c: command 0x99 7 5 6")
    # Plain Failure writes r0 and r1 only: r2, r3 keep the caller's arguments (Cortex-M frame).
    assert sh.session.last_result.regs == (0, 11, 5, 6)
    sh("expect $_ == Failure(NODEVICE) and $_.error == NODEVICE and $_.r1 == 11")


def test_subscribe_gloss_grant_and_previous(sh):
    sh("spawn c")
    out = sh("c: subscribe console 1 @on_write")
    assert "previous upcall: null" in out
    assert "grant for console (0x1) allocated: 76 bytes" in out
    out = sh("c: subscribe console 1 @other")
    assert "previous upcall: @on_write" in out
    sh("expect $_.values[0] != 0 and $_.values[1] == 0")


def test_labels_are_stable_thumb_flash_addresses(sh):
    sh("spawn c")
    p = sh.kernel.process("c")
    a = sh.session.label_address(p, "x")
    b = sh.session.label_address(p, "y")
    assert a & 1 and b & 1 and b - a == 0x10
    assert p.flash_non_protected_start <= a < p.flash_end
    assert sh.session.label_address(p, "x") == a
    sh("restart c")
    assert sh.session.label_address(p, "x") == a  # flash does not move on restart
    sh("c: subscribe alarm 0 @x")
    sh("expect $_ == Success")


def test_invalid_upcall_pointer_is_explained(sh):
    sh("spawn c")
    out = sh("c: subscribe console 1 0x10")
    assert "Failure(INVAL, 0x10, 0)" in out and "not a valid upcall pointer" in out


def test_allow_literal_is_placed_in_heap(sh):
    sh("spawn c ram=4k")
    out = sh('c: allow-ro console 1 "hello"')
    assert "placed 5 bytes at 0x20000800 (c heap)" in out
    p = sh.kernel.process("c")
    assert p.read(0x20000800, 5) == b"hello"
    sh('expect mem(c, 0x20000800, 5) == "hello"')
    out = sh("c: allow-ro console 1 null")
    assert "previous buffer: 0x20000800, 5 bytes" in out


def test_yield_with_nothing_queued_stays_yielded(sh):
    sh("spawn c")
    out = sh("c: yield")
    assert "c is Yielded: waiting in yield-wait for an upcall" in out
    assert sh.session.last_result is None


def test_yield_delivers_a_queued_upcall_inside_the_statement(sh):
    sh("spawn c\nc: subscribe console 1 @done\nc: allow-ro console 1 \"hi\"\nc: command console 1 2")
    sh("run for 1ms")
    assert sh.kernel.process("c").state.name == "Running"  # a Running manual process is never scheduled
    out = sh("c: yield")
    assert "delivered console/1 @done(0x2, 0x0, 0x0) — c is Running in its handler" in out


def test_yield_drops_a_null_upcall_event(sh):
    sh("spawn c\nc: command button 1 0\npress button 0")
    out = sh("c: yield")
    assert "dropped a null-upcall event of button/0" in out
    assert sh.kernel.process("c").state.name == "Yielded"


def test_yield_wait_for_at_once_sets_dollar_underscore(sh):
    sh("spawn c\nc: command button 1 0\npress button 0")
    out = sh("c: yield wait-for button 0")
    assert out.startswith("→ Upcall(0x0, 0x1, 0x0)")
    sh("expect $_.r0 == 0 and $_.r1 == 1 and $_.r2 == 0")


def test_yield_wait_for_satisfied_by_run_sets_dollar_underscore(sh):
    sh("spawn c\nc: command button 1 0\nc: yield wait-for button 0")
    assert sh.kernel.process("c").state.name == "YieldedFor"
    sh("at +1ms { press button 2 }\nrun for 1ms")
    sh("press button 0\nstep 2")
    sh("expect c.state == Running and $_.r1 == 1")


def test_yield_no_wait_with_nothing_keeps_running(sh):
    sh("spawn c")
    assert "keeps running" in sh("c: yield no-wait")


def test_memop_names_and_numbers(sh):
    sh("spawn c")
    sh("c: memop ram_start\nexpect $_.value == c.memory_start")
    sh("c: memop 3\nexpect $_.value == c.memory_end")
    sh("c: memop grant_start\nexpect $_.value == c.kernel_break")
    out = sh("c: memop sbrk 256")
    assert "app break now 0x20001100" in out
    out = sh("c: memop brk 0x10")
    assert "below the allow high-water mark" in out


def test_exit_terminate_and_restart(sh):
    sh("spawn c\nc: exit terminate 3")
    sh("expect c.state == Terminated and c.completion == 3")
    sh("boot c\nc: exit restart 1")
    sh("expect c.state == Running and c.restarts == 2")


def test_raw_invalid_class_faults_with_policy(sh):
    sh("config fault_policy = stop\nspawn c")
    out = sh("c: syscall 9 0")
    assert "c faulted: invalid syscall class 9" in out
    with pytest.raises(TshError) as e:
        sh("c: command led 0", file="f.tsh")
    assert e.value.message == ("c is Faulted: faulted: invalid syscall class 9 (was Running); "
                               "only a Running process can make a syscall")
    assert str(e.value).startswith("f.tsh:1:1:")


def test_syscall_from_app_process_is_refused(sh):
    sh("spawn a app=hello")
    with pytest.raises(TshError, match="runs the app 'hello'"):
        sh("a: command led 0")


def test_unknown_process_suggests(sh):
    sh("spawn client")
    with pytest.raises(TshError) as e:
        sh("clinet: command led 0")
    assert e.value.message == "unknown process 'clinet' — did you mean 'client'?"


def test_unknown_driver_number_is_nodevice(sh):
    sh("spawn c")
    assert "no driver 0x99 on this board" in sh("c: command 0x99 0")


# ------------------------------------------------------------------ process control
def test_process_console_verbs(sh):
    sh("config fault_policy = restart\nspawn c short_id=7")
    pid = sh.kernel.process("c").identifier
    assert "Process c stopped" in sh("stop c")
    assert "Process c resumed." in sh("start c")
    out = sh("fault c")
    assert "Process c now faulted" in out and "fault policy restart" in out
    p = sh.kernel.process("c")
    assert p.identifier != pid and p.index == 0 and p.short_id.value == 7
    assert "Process c terminated" in sh("terminate c")
    assert "booted as" in sh("boot c")
    assert "ProcessId [" in sh("restart c")
    assert sh("crash c").startswith("Process c now faulted")


def test_kernel_refusal_becomes_positioned_error(sh):
    sh("spawn c\nstop c")
    with pytest.raises(TshError) as e:
        sh("\nstop c")
    assert e.value.pos.line == 2 and "only a Running or Yielded process can be stopped" in e.value.message


def test_panic_policy_then_syscall_says_panicked(sh):
    sh("spawn c\nfault c")
    assert sh.kernel.panicked
    with pytest.raises(TshError, match="has panicked"):
        sh("spawn d")


# ------------------------------------------------------------------ memory statements
def test_alloc_bumps_aligned_and_resets_on_restart(sh):
    sh("spawn c ram=4k")
    assert sh("let a = alloc c 5").strip() == "c: 5 bytes at 0x20000800 (heap)"
    sh("let b = alloc c 4")
    sh("expect $b == $a + 8")
    with pytest.raises(TshError, match="heap is full"):
        sh("alloc c 100000")
    sh("restart c")
    sh("let a2 = alloc c 4\nexpect $a2 == $a")


def test_write_and_mem(sh):
    sh("spawn c\nlet a = alloc c 8")
    sh('write c $a x"de ad be ef"')
    out = sh("mem c $a 4")
    assert out.strip().startswith("0x20000800  de ad be ef")
    sh("write c $a 65, 66")
    sh('expect mem(c, $a, 2) == "AB"')
    with pytest.raises(TshError, match="cannot write"):
        sh('write c 0x20001000 "x"')
    with pytest.raises(TshError, match="256 is not a byte"):
        sh("write c $a 256")


def test_inspection_statements(sh):
    sh("spawn c\nc: subscribe console 1 @w\nc: allow-ro console 1 \"hi\"\nc: command button 1 0\npress button 1")
    assert "upcall 1: @w" in sh("grants c")
    assert "console/1: @w" in sh("subscriptions c")
    assert 'console allow-ro 1: 0x20000800, 2 bytes  "hi"' in sh("allows c")
    assert "0 pending tasks" in sh("upcalls c")
    assert "Total processes: 1" in sh("status")
    assert "App: c   -   [Running]" in sh("process c")
    assert "syscalls" in sh("stats")
    assert sh("stats reset").strip() == "statistics reset"
    assert sh.kernel.stats.syscalls == 0


def test_trace_lines_are_tocks(sh):
    sh("spawn c\nc: command led 0")
    out = sh("trace 1")
    assert out.strip().endswith("[0] cmd(0x2, 0, 0x0, 0x0) = SuccessU32(4)")
    sh("trace on")
    assert "    [0] cmd(0x2, 1, 0x0, 0x0) = Success" in sh("c: command led 1 0")
    sh("trace off")
    assert "[0]" not in sh("c: command led 2 0")


# ------------------------------------------------------------------ time
def test_run_prints_events_with_time(sh):
    sh('spawn c\nc: allow-ro console 1 "hello"\nc: command console 1 5')
    out = sh("run for 1ms")
    assert 'console: c wrote "hello"' in out and "schedule console/1 → c null upcall" in out
    line = next(x for x in out.splitlines() if "wrote" in x)
    assert line.split()[0].endswith("us")


def test_run_until_expression(sh):
    sh("spawn c\nc: command button 1 0\nevery 1ms { press button 0 }")
    out = sh("run until c.queue >= 4")
    assert "holds" in out
    assert len(sh.kernel.process("c").tasks) == 4


def test_unbounded_run_stops_at_max_events(sh):
    sh("config run.max_events = 50\nevery 1ms { echo \"t\" }")
    out = sh("run")
    assert "stopped after 50 events: the run.max_events limit" in out


def test_run_idle(sh):
    assert "idle at" in sh("run")


def test_step_counts_events(sh):
    sh("spawn r raw=true")
    ev = sh.kernel.ev
    sh("step")
    assert sh.kernel.ev == ev + 1


def test_at_and_every_fire_on_virtual_time(sh):
    sh("every 2ms for 6ms { echo \"tick\" now }\nat 3ms { echo \"at\" now }")
    out = sh("run for 10ms")
    ticks = [line for line in out.splitlines() if line.startswith(("tick", "at"))]
    assert [t.split()[0] for t in ticks] == ["tick", "at", "tick", "tick"]
    with pytest.raises(TshError, match="already past"):
        sh("at 1ms { echo \"late\" }")


def test_interrupt_flag_stops_run(sh):
    sh("every 1ms { echo \"x\" }")
    sh.session.interrupt()
    out = sh("run for 1s")
    assert "interrupted" in out and not sh.session.interrupted


def test_press_and_console_input_print_events(sh):
    out = sh("press button 1")
    assert "button 1 pressed" in out and "button 1 released" in out
    assert "dropped: no process is reading" in sh('console input "hi"')


# ------------------------------------------------------------------ scripts
def test_let_echo_print(sh):
    sh("let x = 3 * (2 + 1)")
    assert sh('echo "x is" $x').strip() == "x is 9"
    assert sh('print "a"').strip() == '"a"'
    sh("spawn c")
    sh("let r = c: command led 0")
    sh("expect $r == Success(u32=4)")
    with pytest.raises(TshError, match="set by the shell"):
        sh("let _ = 1")


def test_expect_failure_shows_both_sides(sh):
    sh("spawn c")
    with pytest.raises(ExpectFailed) as e:
        sh("expect c.state == Yielded", file="x.tsh")
    assert e.value.message == "expect failed: c.state == Yielded — left is Running, right is Yielded"
    assert str(e.value).startswith("x.tsh:1:1:")
    with pytest.raises(ExpectFailed, match="is false"):
        sh("expect c.queue > 0 and false")


def test_expect_bare_pattern_matches_last_result(sh):
    sh("spawn c\nc: command led 0\nexpect Success(u32=4)")
    with pytest.raises(ExpectFailed):
        sh("expect Failure")


def test_include_relative_and_cycle(sh, tmp_path):
    (tmp_path / "a.tsh").write_text('include b.tsh\necho "a"\n')
    (tmp_path / "b.tsh").write_text('let fromb = 1\n')
    sh.session.run_file(str(tmp_path / "a.tsh"))
    assert sh.session.variables["fromb"] == 1
    (tmp_path / "c.tsh").write_text("include d.tsh\n")
    (tmp_path / "d.tsh").write_text("include c.tsh\n")
    with pytest.raises(TshError, match="include cycle: c.tsh → d.tsh → c.tsh"):
        sh.session.run_file(str(tmp_path / "c.tsh"))
    with pytest.raises(TshError, match="no such file"):
        sh.session.run_file(str(tmp_path / "none.tsh"))


def test_param_default_and_override(make_shell):
    s = make_shell(params={"n": "4k", "word": "hello"})
    s("param n = 3\nparam word = \"x\"\nparam other = 5")
    assert s.session.variables == {"n": 4096, "word": "hello", "other": 5}
    assert s.session.params_used == {"n", "word"}


def test_quit_raises(sh):
    with pytest.raises(Quit):
        sh("quit")


def test_pause_is_a_no_op_in_batch(sh):
    assert sh("pause") == ""


def test_explain_says_why(sh):
    sh("spawn c\nc: subscribe led 0 @x")
    out = sh("explain")
    assert "why NOMEM: led has no grant" in out


def test_explain_after_a_refusal(sh):
    sh("spawn c\nstop c")
    with pytest.raises(TshError):
        sh("c: command led 0")
    assert "refused by the shell" in sh("explain")


def test_help_and_topics(sh):
    out = sh("help")
    for word in ("spawn", "subscribe", "run", "expect", "explain"):
        assert f"  {word} " in out
    assert "example: client: yield wait-for alarm 0" in sh("help yield")
    assert "costs.syscall" in sh("help config") and "keys, with their current values" in sh("help config")
    assert "console" in sh("help drivers")
    with pytest.raises(TshError, match="did you mean 'yield'"):
        sh("help yeld")


def test_every_statement_has_help():
    from tockshell.lang.help import COMMANDS

    for word in ("board", "config", "spawn", "list", "status", "process", "stop", "start", "fault",
                 "terminate", "boot", "restart", "command", "subscribe", "allow-rw", "allow-ro", "allow-ur",
                 "yield", "memop", "exit", "syscall", "alloc", "write", "mem", "grants", "upcalls", "allows",
                 "subscriptions", "stats", "trace", "step", "run", "now", "press", "console", "at", "every",
                 "let", "echo", "expect", "include", "param", "pause", "explain", "quit", "help", "demo",
                 "kernel"):
        assert word in COMMANDS and COMMANDS[word].example


def test_kernel_and_board(sh):
    assert "Kernel version: 2.3" in sh("kernel")
    sh("spawn c")
    assert "a fresh kernel" in sh("board default")
    assert sh.kernel.live_processes() == []


def test_demo_lists_scenarios(sh):
    out = sh("demo")
    assert "hello" in out and "grants" in out


# ------------------------------------------------------------------ config
def test_config_kernel_keys(sh):
    assert sh("config fault_policy = threshold(3)").strip() == "fault_policy = threshold(3)"
    assert sh("config scheduler = round_robin(5ms)").strip() == "scheduler = round_robin(5ms)"
    assert sh("config scheduler = cooperative").strip() == "scheduler = cooperative"
    sh("config trd104 = on\nconfig waitfor_quirk = off\nconfig costs.syscall = 100\nconfig num_procs = 4")
    k = sh.kernel
    assert k.config.trd104 and not k.config.waitfor_flag_quirk and k.costs.syscall == 100
    assert len(k.processes) == 4
    sh("spawn a")
    with pytest.raises(TshError, match="no processes"):
        sh("config num_procs = 8")
    with pytest.raises(TshError, match="did you mean 'fault_policy'"):
        sh("config falt_policy = stop")
    with pytest.raises(TshError, match="on or off"):
        sh("config trd104 = maybe")


def test_config_capsule_keys_go_to_the_driver(sh):
    drv = sh.session.board.driver("console")
    seen = {}
    drv.config_keys = lambda: {"speed": "115200"}
    drv.set_config = lambda key, value: seen.update({key: value})
    sh("config console.speed = 9600")
    assert seen == {"speed": 9600}
    with pytest.raises(TshError, match="did you mean 'speed'"):
        sh("config console.sped = 1")


# ------------------------------------------------------------------ plugins
def test_plugin_statement_registration_wins_over_core(sh):
    old = STATEMENTS.get(ast.Now)
    try:
        @statement(ast.Now)
        def my_now(session, node):
            session.say("plugin now")
            return 42

        assert handler_for(ast.Now) is my_now
        assert sh("now").strip() == "plugin now"
    finally:
        if old is None:
            STATEMENTS.pop(ast.Now, None)
        else:
            STATEMENTS[ast.Now] = old


def test_missing_plugin_statement_is_not_available_yet(sh):
    for cls in (ast.Timeline, ast.Compare):
        if handler_for(cls) is None:
            node = cls(pos=ast.Pos("<t>", 1, 1, 1, 5))
            with pytest.raises(TshError, match="not available yet"):
                sh.session.exec_statement(node)


def test_stop_checks_end_a_run(sh):
    from tockshell.lang.commands import Stop

    sh("every 1ms { echo \"x\" }")
    calls = []

    def check(session):
        calls.append(1)
        return Stop("watch", process=None, number=1, message="watch 1 changed") if len(calls) == 3 else None

    sh.session.stop_checks.append(check)
    out = sh("run for 1s")
    assert "stopped: watch 1 changed" in out
    sh("expect $stop.kind == watch and $stop.number == 1")


# ------------------------------------------------------------------ REPL helpers
def test_prompt_toolbar_names(sh):
    assert sh.session.prompt() == "[t=0us ev=0] tsh> "
    sh("spawn client\nclient: subscribe alarm 0 @tick\nlet v = 1")
    assert "1 Running" in sh.session.toolbar() and "board default" in sh.session.toolbar()
    names = sh.session.names
    assert "client" in names.processes and "console" in names.drivers
    assert "@tick" in names.labels("client") and "v" in names.variables
    assert "fault_policy" in names.config_keys and "hello" in names.scenarios


def test_board_hooks_run_for_every_new_board(make_shell):
    from tockshell.lang.commands import BOARD_HOOKS, board_hook

    seen = []

    def hook(session):
        seen.append(session.kernel)

    board_hook(hook)
    try:
        s = make_shell()
        s("board default")
        assert len(seen) == 2 and seen[0] is not seen[1] and seen[1] is s.kernel
    finally:
        BOARD_HOOKS.remove(hook)


def test_name_sources_feed_completion(sh):
    sh.session.name_sources["breakpoints"] = lambda: ["1", "2"]
    assert sh.session.names.breakpoints() == ["1", "2"]
    assert tuple(sh.session.names.displays) == ()


def test_not_available_names_the_word_written(sh):
    from tockshell.lang.commands import handler_for

    if handler_for(ast.ShowDescriptors) is None:
        with pytest.raises(TshError, match="`descriptors` is not available yet"):
            sh("spawn a\ndescriptors a")
