"""Time travel: goto, rewind, reverse-*, checkpoints, diff, save and record, exact to the byte.

The property: for random scenarios and a random event E, ``goto E`` followed
by a dump equals the dump taken when the run first reached E; ``rewind``
then ``run`` reproduces the original trace exactly.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tockshell.debugger.dump import diff, dump
from tockshell.lang.errors import TshError
from tockshell.lang.session import Session

SETUP = """config fault_policy = restart
spawn a app=hello
spawn b app=blink period=3
spawn c app=crash_dummy
spawn m
m: subscribe alarm 0 @fired
m: subscribe button 0 @pressed
m: command button 1 0"""

STATEMENTS = [
    "run for 1ms", "run for 4ms", "run for 9ms", "run for 30ms", "step", "step 3", "step 17",
    "press button 0", "m: yield", "m: yield no-wait", "m: command alarm 5 40", "m: command console 1 0 0",
    "m: command led 3 1", "let x = m: command alarm 2", "fault c", "restart b", "console input \"hi\"",
    "m: memop sbrk 16", "write m 0x20000900 \"tock\"", "at +2ms { press button 0 }",
]
DEBUG_STATEMENTS = ["break syscall b command led", "break upcall m", "catch fault", "watch b.state",
                    "catch dropped", "delete", "tbreak syscall a"]


class Recorder:
    """Runs statements and keeps the dump of the first moment the event counter reached ``target``."""

    def __init__(self, target: int):
        self.out = io.StringIO()
        self.s = Session(out=self.out)
        self.target = target
        self.first: dict | None = None
        self.first_ev: int | None = None

    def _check(self, _s):
        self._look()
        return None

    def _look(self):
        if self.first is None and self.s.kernel.ev >= self.target:
            self.first = dump(self.s)
            self.first_ev = self.s.kernel.ev

    def run(self, lines):
        s = self.s
        for line in lines:
            self._look()
            s.stop_checks.insert(0, self._check)
            try:
                s.execute(line)
            except TshError:
                pass
            finally:
                if self._check in s.stop_checks:
                    s.stop_checks.remove(self._check)
        self._look()


scenario = st.lists(st.sampled_from(STATEMENTS + DEBUG_STATEMENTS), min_size=1, max_size=10)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario, st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=400))
def test_goto_reproduces_the_state_first_seen(lines, e1, e2):
    lines = SETUP.splitlines() + lines
    probe = Recorder(1 << 60)
    probe.run(lines)
    target = e1 % (probe.s.kernel.ev + 1)
    rec = Recorder(target)  # the first pass: the dump of the first moment ev reached the target
    rec.run(lines)
    s = rec.s
    assert s.kernel.ev == probe.s.kernel.ev  # deterministic
    s.execute("checkpoint end")
    end = dump(s)
    s.execute(f"goto {target}")
    assert s.kernel.ev == rec.first_ev
    got = dump(s)
    assert got == rec.first, "\n".join(diff(rec.first, got))
    # Back to a checkpoint at the end, elsewhere, and back again: still exact.
    s.execute("restore end")
    got = dump(s)
    assert got == end, "\n".join(diff(end, got))
    s.execute(f"goto {e2 % (s.kernel.ev + 1)}")
    s.execute("restore end")
    got = dump(s)
    assert got == end, "\n".join(diff(end, got))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(STATEMENTS), min_size=0, max_size=6), st.integers(min_value=1, max_value=300))
def test_rewind_then_run_reproduces_the_trace(lines, back):
    s = Session(out=io.StringIO())
    for line in SETUP.splitlines() + lines:
        try:
            s.execute(line)
        except TshError:
            pass
    ev_run = s.kernel.ev
    s.execute("run for 20ms")
    k = s.kernel
    trace = [r.key() for r in k.log]
    t_end, ev_end = k.now, k.ev
    span = ev_end - ev_run
    if span < 2:
        return
    # Back to an event inside the last run, which `run` does again. (At ev_run itself the first-seen
    # state is the one before the statements that made no event, such as `fault c`.)
    back = back % (span - 1) + 1
    s.execute(f"rewind {back}")
    assert s.kernel.ev <= ev_end
    s.execute(f"run for {t_end - s.kernel.now}ns")
    assert s.kernel.now == t_end and s.kernel.ev == ev_end
    assert [r.key() for r in s.kernel.log] == trace


# ------------------------------------------------------------------ goto and rewind
def test_goto_and_rewind_print_where_they_land(sh):
    sh("spawn b app=blink\nrun for 1s")
    ev = sh.kernel.ev
    out = sh("goto 5")
    assert "now at ev=5" in out and sh.kernel.ev == 5
    out = sh("rewind 2")
    assert sh.kernel.ev == 3 and "now at ev=3" in out
    assert "now at ev=3" in sh("goto 3")
    sh(f"goto {ev}")
    assert sh.kernel.ev == ev


def test_goto_inside_a_statement_lands_just_after_it(sh):
    sh("spawn m\nm: subscribe alarm 0 @f\nm: command alarm 5 1\nrun for 1ms")
    ev0 = sh.kernel.ev
    sh("m: yield")  # the yield and the delivery it causes: two events, one statement
    assert sh.kernel.ev == ev0 + 2
    out = sh(f"goto {ev0 + 1}")
    assert sh.kernel.ev == ev0 + 2
    assert f"inside `m: yield` (events {ev0 + 1}-{ev0 + 2}, which cannot be split)" in out


def test_goto_forward_past_the_recording_runs(sh):
    sh("spawn b app=blink period=1")
    out = sh("goto 30")
    assert "going forward 30 events" in out
    assert sh.kernel.ev == 30
    sh("goto 10\ngoto 30")
    assert sh.kernel.ev == 30


def test_goto_keeps_breakpoints_as_rr_does(sh):
    sh("spawn b app=blink period=2\nrun for 10ms\nbreak syscall b command led")
    sh("goto 4")
    assert 1 in __import__("tockshell.debugger.commands", fromlist=["x"]).debugger_of(sh.session).table.breakpoints
    sh("run for 10ms")
    assert sh.session.last_stop.kind == "break"


def test_variables_and_dollar_underscore_travel_too(sh):
    sh("spawn m\nlet a = 1\nm: command console 1 0 0\nlet a = 2\nm: command led 3 0")
    sh("goto 5")
    assert sh.session.variables["a"] == 1
    assert "console" in str(sh.session.last_result) or str(sh.session.last_result) == "Success"


def test_time_travel_refused_where_it_cannot_work(sh):
    sh("spawn b app=blink")
    with pytest.raises(TshError, match="events are numbered from 0"):
        sh("goto -1")
    with pytest.raises(TshError, match="positive number"):
        sh("rewind 0")
    with pytest.raises(TshError, match="nothing to go back to"):
        sh("reverse-continue")
    with pytest.raises(TshError, match="cannot be used inside a breakpoint's commands"):
        sh("break syscall b\ncommands 1 { rewind 1 }\nrun for 1s")
        sh("step")


def test_rewind_undoes_a_shell_syscall(sh):
    sh("spawn m")
    before = dump(sh.session)
    sh("m: command console 1 0 0")
    sh("rewind 1")
    assert dump(sh.session) == before


# ------------------------------------------------------------------ reverse-step / reverse-continue
def test_reverse_step_goes_back_one_step_of_the_stopped_process(sh):
    sh("spawn a app=hello\nspawn b app=blink\nbreak syscall b command led\nrun for 1s")
    assert sh.session.last_stop.process == "b"
    p_ev = sh.kernel.ev
    sh("reverse-step")
    assert sh.kernel.ev < p_ev
    recs = [r for r in sh.kernel.log if r.name == "b"]
    assert recs[-1].ev <= sh.kernel.ev


def test_reverse_continue_lands_in_the_previous_stop(sh):
    sh("spawn b app=blink period=5\nbreak syscall b command led\nrun for 1s\ncontinue\ncontinue")
    toggles = sh.session.board.led.toggles[0]
    ev = sh.kernel.ev
    out = sh("reverse-continue")
    assert "stopped: breakpoint 1" in out
    assert sh.kernel.ev < ev
    assert sh.session.board.led.toggles[0] == toggles - 1
    p = sh.kernel.process("b")
    assert p.pending_action is not None and p.pending_action[2] == 2  # the LED command, held again
    sh("continue")
    assert sh.kernel.ev == ev and sh.session.board.led.toggles[0] == toggles


def test_reverse_continue_to_a_catchpoint(sh):
    sh("config fault_policy = restart\nspawn c app=crash_dummy after=2\ncatch fault\nrun for 1ms\nrun for 1ms")
    assert sh.session.last_stop.kind == "catch"
    second = sh.kernel.ev
    sh("reverse-continue")
    assert sh.session.last_stop.kind == "catch"
    assert sh.kernel.ev < second
    assert sh.kernel.log[-1].kind in ("fault", "restart", "function_call", "memop")


# ------------------------------------------------------------------ checkpoints and diff
def test_checkpoint_restore_diff(sh):
    sh("spawn m\ncheckpoint start")
    sh("m: command console 1 0 0\nm: subscribe alarm 0 @f\ncheckpoint later")
    out = sh("diff start later")
    assert "m.grants.console: allocated" in out and "m.grants.alarm" in out
    assert "m.syscall_count: 3 → 5" in out
    sh("restore start")
    assert sh.kernel.process("m").syscall_count == 3
    out = sh("diff start now")
    assert "no difference" in out
    sh("restore later")
    assert sh.kernel.process("m").syscall_count == 5
    assert "later" in sh("info checkpoints")
    with pytest.raises(TshError, match="did you mean 'later'"):
        sh("restore latr")


def test_diff_shows_memory_queue_and_mailbox_changes(sh):
    sh("spawn svc app=echo_service\nspawn cli app=echo_client\ncheckpoint a\nrun for 20ms\ncheckpoint b")
    out = sh("diff a b")
    assert "cli.memory:" in out
    assert "mailbox." in out or "ipcmgr." in out


# ------------------------------------------------------------------ save and record
def test_save_replays_to_the_same_state(sh, tmp_path):
    sh("spawn b app=blink period=2\nspawn m\nm: command console 1 0 0\nrun for 7ms\nlet q = m.queue")
    sh("break syscall b command led\nrun for 10ms\nrewind 3\nrun for 1ms")
    path = tmp_path / "s.tsh"
    sh(f'save "{path}"')
    s2 = Session(out=io.StringIO())
    s2.run_file(str(path))
    a, b = dump(sh.session), dump(s2)
    assert a == b, "\n".join(diff(a, b))


def test_save_keeps_a_refused_statement_as_a_comment(sh, tmp_path):
    sh("spawn m")
    with pytest.raises(TshError):
        sh("restart nobody")
    path = tmp_path / "s.tsh"
    sh(f'save "{path}"')
    text = path.read_text()
    assert "# refused: restart nobody" in text


def test_record_writes_a_replayable_transcript(sh, tmp_path):
    path = tmp_path / "t.tsh"
    sh(f'record "{path}"')
    sh("spawn m\nm: command console 1 0 0")
    sh("record off")
    sh("m: command led 3 0")
    text = path.read_text()
    assert "spawn m\n" in text and "m: command console 1 0 0\n" in text
    assert "# → Success" in text
    assert "led" not in text
    s2 = Session(out=io.StringIO())
    s2.run_file(str(path))
    assert s2.kernel.process("m").syscall_count == 4


def test_save_to_a_missing_directory_is_one_clear_message(sh):
    with pytest.raises(TshError, match="no directory"):
        sh('save "/nonexistent/dir/x.tsh"')


def test_ctrl_c_during_a_replay_stops_the_travel_where_it_is(sh):
    sh("spawn b app=blink period=1\nrun for 50ms")
    s = sh.session
    first = {}

    def look(_s):
        first.setdefault(s.kernel.ev, dump(s))
        return None

    s.stop_checks.insert(0, look)
    sh("run for 20ms")
    s.stop_checks.remove(look)
    end_ev = s.kernel.ev
    k_before = s.kernel
    calls = {"n": 0}

    def press(_s):  # Ctrl-C arrives while the replay runs
        calls["n"] += 1
        if calls["n"] == 40:
            s.interrupt()
        return None

    from tockshell.debugger.commands import history_of

    h = history_of(s)
    orig = h._reset_session

    def reset():
        orig()
        s.stop_checks.append(press)

    h._reset_session = reset
    try:
        out = sh(f"goto {end_ev - 5}")
    finally:
        h._reset_session = orig
        if press in s.stop_checks:
            s.stop_checks.remove(press)
    assert "interrupted: time travel stopped here" in out
    assert s.kernel is not k_before and s.kernel.ev < end_ev - 5
    assert not s.interrupted
    ev = s.kernel.ev
    if ev in first:
        assert dump(s) == first[ev]
    sh(f"goto {ev}")
    assert s.kernel.ev == ev


def test_travel_inside_an_included_file_and_a_demo(sh, tmp_path):
    inc = tmp_path / "part.tsh"
    inc.write_text("spawn b app=blink period=2\nrun for 10ms\nrewind 3\nlet here = b.syscalls\nrun for 1ms\n")
    sh("spawn m\nlet v = 1")
    sh(f'include "{inc}"')
    ev = sh.kernel.ev
    end = dump(sh.session)
    sh("goto 2\ngoto 6")
    assert sh.session.variables["v"] == 1 and "here" not in sh.session.variables
    sh(f"goto {ev}")  # forward again, along what was recorded
    assert sh.session.variables["here"] == end["session"]["variables"]["here"]
    path = tmp_path / "saved.tsh"
    sh(f'save "{path}"')
    text = path.read_text()
    assert "include" not in text and "spawn b app=blink period=2" in text
    s2 = Session(out=io.StringIO())
    s2.run_file(str(path))
    assert dump(s2) == dump(sh.session)
    out = sh("demo debugging")
    assert "restored checkpoint" in out
    sh("goto 10")
    assert sh.kernel.process("hello") is not None and sh.session.variables["v"] == 1


def test_lines_typed_at_the_shell_replay_and_save_as_typed(sh, tmp_path):
    for line in ["spawn b app=blink period=2", "at 3ms { press button 0 }", "break syscall b command led",
                 'commands 1 { echo "toggle" }', "run for 10ms", "goto 5", "run for 1ms"]:
        sh(line, file="<stdin>")
    path = tmp_path / "s.tsh"
    sh(f'save "{path}"', file="<stdin>")
    text = path.read_text()
    for line in ["spawn b app=blink period=2", "at 3ms { press button 0 }", 'commands 1 { echo "toggle" }']:
        assert line in text
    assert '{ echo "toggle" }' in sh("info breakpoints", file="<stdin>")
    s2 = Session(out=io.StringIO())
    s2.run_file(str(path))
    a, b = dump(s2), dump(sh.session)
    for d in (a, b):  # an at block's label names its line, which differs between the shell and the file
        for e in d["kernel"]["hardware_queue"]:
            e[2] = e[2].split(": the block of line")[0]
    assert a == b, "\n".join(diff(a, b))
