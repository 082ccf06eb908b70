"""Apps spawned from the language: `spawn NAME app=APP k=v`, `help apps`, a user's app file."""

from __future__ import annotations

import io

import pytest

from tockshell.lang.errors import TshError
from tockshell.lang.session import Session


def session():
    out = io.StringIO()
    return Session(out=out), out


def test_spawn_hello_and_blink_from_tsh():
    s, out = session()
    s.execute('spawn h app=hello\nspawn b app=blink period=250ms led=1\nrun for 1100ms\n'
              'expect h.console == "Hello World!\\n"\nexpect h.state == Yielded')
    assert s.board.led.toggles[1] == 4
    assert "(app hello: Yielded, _start queued" in out.getvalue()
    assert "h: memop(0, 0x20001000) = Success" in out.getvalue()  # crt0, visible as it runs


def test_crash_dummy_from_tsh_with_a_button_press():
    s, out = session()
    s.execute("config fault_policy = restart\nspawn c app=crash_dummy\nrun for 1ms\npress button 0\nrun for 1ms\n"
              "expect c.restarts == 1\nexpect c.state == Yielded")


@pytest.mark.parametrize("line, message", [
    ("spawn x app=helo", "unknown app 'helo' — did you mean 'hello'?"),
    ("spawn x app=blink speed=3", "app 'blink' has no parameter 'speed' (its parameters: led, period)"),
    ("spawn x app=blink period=\"soon\"", "app 'blink' parameter period is a time"),
    ("spawn x app=\"nothere.py:main\"", "app file 'nothere.py' not found"),
])
def test_bad_apps_are_refused_with_a_clear_message(line, message):
    s, _ = session()
    with pytest.raises(TshError) as e:
        s.execute(line)
    assert message in e.value.message and e.value.pos is not None
    assert s.find_process("x") is None


def test_help_apps_lists_every_app():
    s, out = session()
    s.execute("help apps")
    text = out.getvalue()
    for word in ("hello", "blink", "crash_dummy", "period=500ms", "after=0"):
        assert word in text


def test_a_users_app_is_found_next_to_the_script(tmp_path):
    (tmp_path / "mine.py").write_text(
        "def greet(tock, who='you'):\n    yield from tock.print('hi', who)\n")
    (tmp_path / "s.tsh").write_text('spawn g app="mine.py:greet" who="there"\nrun for 10ms\n'
                                    'expect g.console == "hi there\\n"\n')
    s, _ = session()
    s.run_file(str(tmp_path / "s.tsh"))
