"""The built-in apps and the app registry: hello, blink, crash_dummy, user apps, help."""

from __future__ import annotations

import textwrap

import pytest

from tockshell.board import build_board
from tockshell.kernel import fault_policy_from
from tockshell.userland.apps import APPS, Duration, Param, app_help, spawn_program

MS = 1_000_000


def spawn(board, name, app, **params):
    ram = params.get("ram", 4096)
    return board.kernel.create_process(name, ram=ram, program=spawn_program(app, params))


def board_with(policy: str):
    b = build_board()
    name, _, arg = policy.partition("(")
    b.kernel.fault_policy = fault_policy_from(name, int(arg.rstrip(")")) if arg else None)
    return b


# ---------------------------------------------------------------------------- hello
def test_hello_writes_hello_world_then_yields_forever():
    b = build_board()
    p = spawn(b, "h", "hello")
    b.kernel.run(until=50 * MS)
    assert b.console.output_of(p) == b"Hello World!\n"
    assert p.state.name == "Yielded" and not p.tasks
    assert b.kernel.run(until=100 * MS) == "time"  # nothing more happens
    assert b.console.output_of(p) == b"Hello World!\n"


def test_hello_text_parameter():
    b = build_board()
    p = spawn(b, "h", "hello", text="hi\n")
    b.kernel.run(until=50 * MS)
    assert b.console.output_of(p) == b"hi\n"


def test_two_hellos_each_write_their_line():
    b = build_board()
    p1, p2 = spawn(b, "a", "hello"), spawn(b, "b", "hello")
    b.kernel.run(until=50 * MS)
    assert b.console.output_of(p1) == b.console.output_of(p2) == b"Hello World!\n"


# ---------------------------------------------------------------------------- blink
def _toggle_times(k, led=0):
    return [r.time for r in k.log if r.kind == "note" and r.data[0].startswith(f"LED {led} ")]


def test_blink_toggles_led0_every_500ms():
    b = build_board()
    k = b.kernel
    spawn(b, "b", "blink")
    k.run(until=2_600 * MS)
    times = _toggle_times(k)
    assert len(times) == 5 and b.led.toggles[0] == 5
    assert [round(t / MS) for t in times] == [500, 1000, 1500, 2000, 2500]
    assert {b_ - a for a, b_ in zip(times, times[1:])} == {500 * MS}  # exactly, no drift
    assert b.led.on[0] is True
    cmds = [r for r in k.log if r.kind == "cmd" and r.data[0] == 0x2]
    assert {(r.data[1], r.data[2]) for r in cmds} == {(3, 0)}  # command led 3 0


def test_blink_period_and_led_parameters():
    b = build_board()
    k = b.kernel
    spawn(b, "b", "blink", period=Duration(250 * MS), led=2)
    k.run(until=1_100 * MS)
    assert [round(t / MS) for t in _toggle_times(k, 2)] == [250, 500, 750, 1000]
    assert b.led.toggles[0] == 0


# ---------------------------------------------------------------------------- crash_dummy
def test_crash_dummy_faults_after_n_syscalls():
    b = board_with("stop")
    p = spawn(b, "c", "crash_dummy", after=5)
    b.kernel.run(until=10 * MS)
    assert p.state.name == "Faulted"
    assert p.syscall_count == 5 + 3  # main's five, after crt0's three memops
    assert p.fault_reason.startswith("memory fault: write of 4 bytes at 0x0")


@pytest.mark.parametrize("policy", ["panic", "stop", "restart", "threshold(2)"])
def test_crash_dummy_after_n_under_each_fault_policy(policy):
    b = board_with(policy)
    k = b.kernel
    p = spawn(b, "c", "crash_dummy", after=2)
    why = k.run(until=10 * MS, max_events=300)
    if policy == "panic":
        assert why == "panic" and k.panicked and p.state.name == "Faulted"
    elif policy == "stop":
        assert p.state.name == "Faulted" and p.restart_count == 0
    elif policy == "restart":
        assert why == "events" and p.restart_count > 10  # crashes again every time
    else:
        assert p.state.name == "Faulted" and p.restart_count == 3  # restarts while count <= 2


@pytest.mark.parametrize("policy", ["panic", "stop", "restart", "threshold(0)"])
def test_crash_dummy_faults_on_a_button_press_under_each_policy(policy):
    b = board_with(policy)
    k = b.kernel
    p = spawn(b, "c", "crash_dummy")
    k.run(until=MS)
    assert p.state.name == "Yielded"  # waiting for the button
    b.press_button(0)
    k.run(until=2 * MS)
    if policy == "panic":
        assert k.panicked == "Process c had a fault"
    elif policy == "stop":
        assert p.state.name == "Faulted" and "0x0" in p.fault_reason
    else:
        assert p.restart_count == 1 and p.state.name == "Yielded"  # booted again, waiting again
        b.press_button(0)
        k.run(until=3 * MS)
        if policy == "restart":
            assert p.restart_count == 2 and p.state.name == "Yielded"
        else:
            assert p.state.name == "Faulted" and p.restart_count == 1


def test_crash_dummy_ignores_other_buttons_and_releases():
    b = board_with("stop")
    p = spawn(b, "c", "crash_dummy", button=1)
    b.kernel.run(until=MS)
    b.press_button(0)
    b.kernel.run(until=2 * MS)
    assert p.state.name == "Yielded"
    b.press_button(1)
    b.kernel.run(until=3 * MS)
    assert p.state.name == "Faulted"


# ---------------------------------------------------------------------------- registry
def test_registry_lists_the_apps_with_their_params():
    assert {"hello", "blink", "crash_dummy"} <= set(APPS)
    main, params = APPS["blink"]
    assert params["period"] == Param(500, params["period"].doc, None, "ms")
    text = app_help()
    for name in ("hello", "blink", "crash_dummy", "period=500ms", "after=0", "path.py:Name"):
        assert name in text


@pytest.mark.parametrize("app, params, message", [
    ("helo", {}, "unknown app 'helo' — did you mean 'hello'?"),
    ("nothing_like_it", {}, "built-in apps:"),
    ("blink", {"speed": 3}, "app 'blink' has no parameter 'speed' (its parameters: led, period)"),
    ("blink", {"period": "fast"}, "app 'blink' parameter period is a time"),
    ("blink", {"period": 0}, "must be a positive time"),
    ("crash_dummy", {"on": "alarm"}, "parameter on is one of auto, button, none, not 'alarm'"),
    ("crash_dummy", {"after": "x"}, "parameter after is a number"),
])
def test_spawn_program_errors_are_clear(app, params, message):
    with pytest.raises(ValueError) as e:
        spawn_program(app, params)
    assert message in str(e.value)


def test_process_keys_are_not_app_params():
    prog = spawn_program("hello", {"ram": 8192, "grant": 1024, "app": "hello", "package": "x"})
    assert prog.ram == 8192 and prog.params == {"text": "Hello World!\n"}


def test_period_accepts_numbers_text_and_durations():
    assert spawn_program("blink", {"period": 100}).params["period"] == 100
    assert spawn_program("blink", {"period": "1s"}).params["period"] == 1000
    assert spawn_program("blink", {"period": Duration(1_500_000)}).params["period"] == 1.5


# ---------------------------------------------------------------------------- user apps
def test_a_users_app_from_a_file(tmp_path):
    f = tmp_path / "myapp.py"
    f.write_text(textwrap.dedent('''
        from tockshell.userland import drivers as D

        def counter(tock, times=2, word="hi"):
            for _ in range(times):
                yield from tock.print(word)
    '''))
    b = build_board()
    prog = spawn_program(f"{f.name}:counter", {"times": 3, "ram": 2048}, base_dir=str(tmp_path))
    assert prog.name == "counter" and prog.ram == 2048
    p = b.kernel.create_process("u", ram=2048, program=prog)
    b.kernel.run(until=50 * MS)
    assert b.console.output_of(p) == b"hi\nhi\nhi\n"


@pytest.mark.parametrize("body, ref, message", [
    ("def main(tock):\n    yield\n", "missing.py:main", "app file 'missing.py' not found"),
    ("def main(tock):\n    yield\n", "app.py:other", "app.py has no 'other' (generator functions there: main)"),
    ("def main(tock:\n", "app.py:main", "app.py:1: syntax error in the app file"),
    ("raise ImportError('nope')\n", "app.py:main", "loading the app file raised ImportError: nope"),
    ("main = 3\n", "app.py:main", "app.py:main is not an app's main function (it is int)"),
    ("def main(tock, n):\n    yield\n", "app.py:main", "app 'app.py:main' needs parameter n"),
    ("def main(tock, n=1):\n    yield\n", "app.py:main?x=1", "a user app is named as path.py:Name"),
])
def test_user_app_errors_are_clear(tmp_path, body, ref, message):
    (tmp_path / "app.py").write_text(body)
    with pytest.raises(ValueError) as e:
        spawn_program(ref, {}, base_dir=str(tmp_path))
    assert message in str(e.value)


def test_user_app_params_are_checked_against_its_signature(tmp_path):
    (tmp_path / "app.py").write_text("def main(tock, n=1):\n    yield tock.yield_wait()\n")
    with pytest.raises(ValueError, match="has no parameter 'm'"):
        spawn_program("app.py:main", {"m": 2}, base_dir=str(tmp_path))
    assert spawn_program("app.py:main", {"n": "7"}, base_dir=str(tmp_path)).params == {"n": 7}
