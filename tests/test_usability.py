"""A new user's session: every help example runs, and the mistakes people make get one clear message.

Each test here is a regression test for something found by using the tool as a
newcomer would (piped input, `tockshell run`, `help X`, typos, impossible values).
"""

from __future__ import annotations

import io

import pytest

from tockshell import cli
from tockshell.lang import help as tsh_help
from tockshell.lang.errors import TshError
from tockshell.lang.session import Quit, Session
from tockshell.lang.values import quote_bytes, quote_str, show, show_echo


def _session() -> tuple[Session, io.StringIO]:
    out = io.StringIO()
    return Session(out=out), out


def _error(s: Session, text: str) -> TshError:
    with pytest.raises(TshError) as e:
        s.execute(text)
    return e.value


# ------------------------------------------------------------------ help examples
def _entries() -> dict[str, tsh_help.Entry]:
    Session(out=io.StringIO())  # loads the plugins, whose HELP tables join the core one
    entries = dict(tsh_help.COMMANDS)
    entries.update(tsh_help._plugin_entries())
    return entries


def _run_example(entry, tmp_path, monkeypatch) -> TshError | None:
    """Run an entry's setup and example on a fresh session; the TshError it gives, if any."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "setup.tsh").write_text("spawn client\n")
    s, _ = _session()
    try:
        if entry.setup:
            s.execute(entry.setup)
        s.execute(entry.example)
    except Quit:
        pass
    except TshError as e:
        return e
    return None


@pytest.mark.parametrize("word", sorted(tsh_help.COMMANDS))
def test_every_core_help_example_runs(word, tmp_path, monkeypatch):
    # The example a user copies from `help WORD` must work as written (after its declared setup).
    err = _run_example(tsh_help.COMMANDS[word], tmp_path, monkeypatch)
    assert err is None, f"help {word}: {err}"


def test_plugin_help_examples_never_crash(tmp_path, monkeypatch):
    # Plugin examples may need a setup their owner has not declared yet; a refusal is a clear
    # message, but a Python exception is a bug.
    for word, entry in _entries().items():
        if word in tsh_help.COMMANDS:
            continue
        _run_example(entry, tmp_path, monkeypatch)


def test_help_shows_an_examples_setup():
    s, out = _session()
    s.execute("help mem")
    assert "example: mem client $buf 16   (after `spawn client; let buf = alloc client 64`)" in out.getvalue()


def test_every_help_word_and_topic_answers():
    s, out = _session()
    for word in tsh_help.topics():
        s.execute(f"help {word}")
    assert "Traceback" not in out.getvalue()


# ------------------------------------------------------------------ demos
def test_demo_statement_runs_inside_a_session():
    # Nested record captures were removed by equality, and a demo's on a fresh board equal their parent's.
    s, out = _session()
    s.execute("spawn x")
    s.execute("demo hello")
    assert "Hello World!" in out.getvalue()
    assert s.find_process("client") is not None and s.find_process("x") is None


def test_unknown_demo_says_how_to_list_them(capsys):
    s, _ = _session()
    assert "`demo` lists them" in _error(s, "demo nosuch").message
    assert cli.main(["demo", "helo"]) == 2
    assert "did you mean 'hello'? (`tockshell demo` lists them)" in capsys.readouterr().err


def test_demo_list_keeps_long_names_apart(capsys):
    assert cli.main(["demo"]) == 0
    for line in capsys.readouterr().out.splitlines()[1:]:
        name = line.split()[0]
        assert line.startswith(f"  {name}  "), line


# ------------------------------------------------------------------ command line
def test_unknown_board_on_the_command_line_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--board", "cortx-m", "check", "x.tsh"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "unknown board 'cortx-m'" in err and "did you mean 'cortex-m'" in err and "Traceback" not in err


# ------------------------------------------------------------------ impossible values
def test_a_syscall_argument_must_fit_a_register():
    s, _ = _session()
    s.execute("spawn a")
    e = _error(s, "a: command console 99999999999999999999999")
    assert "99999999999999999999999 does not fit in a 32-bit register" in e.message
    assert e.pos.column == 20
    e = _error(s, "let x = 0x100000000\na: allow-rw console 1 $x 16")
    assert "$x (0x100000000) does not fit" in e.message
    for text in ("a: subscribe console 1 0x100000000", "a: memop brk 0x100000000", "a: syscall 9 0x100000000",
                 "a: exit terminate 0x1ffffffff", "a: command console 1 2 -3000000000"):
        assert "32-bit register" in _error(s, text).message, text
    # A negative argument is its two's complement, as a C caller's would be.
    s, out = _session()
    s.execute("spawn a\na: command console -1")
    assert "command 4294967295" in out.getvalue()


def test_spawn_refuses_sizes_no_board_has():
    s, _ = _session()
    e = _error(s, "spawn a ram=5000000k")
    assert "NotEnoughMemory" in e.message and e.pos.column == 9
    assert "NotEnoughFlash" in _error(s, "spawn a flash=4000000k").message
    e = _error(s, "spawn a ram=4k short_id=-1")
    assert e.pos.column == 16
    assert s.find_process("a") is None
    s.execute("spawn a ram=1024k")  # the largest allowed still loads


def test_after_a_panic_step_and_spawn_say_how_to_go_on():
    s, _ = _session()
    s.execute("config fault_policy = panic\nspawn a\nfault a")
    for text in ("step", "spawn b"):
        assert "`board default` starts a fresh board, `rewind` or `restore` goes back before the panic" in _error(s, text).message
    e = _error(s, "step -1")
    assert e.pos.column == 6


# ------------------------------------------------------------------ printing values
def test_control_characters_are_escaped_when_shown():
    assert quote_str("a\x01b\x1b") == '"a\\x01b\\x1b"'
    assert quote_str("\u200b") == '"\\xe2\\x80\\x8b"'
    assert show("tab\tnl\n") == '"tab\\tnl\\n"'


def test_random_bytes_are_shown_as_bytes_even_when_valid_utf8():
    assert quote_bytes(b"\xde\xad") == 'x"de ad"'
    assert quote_bytes("héllo".encode()) == '"héllo"'
    assert quote_bytes(b"hi\n") == '"hi\\n"'


def test_echo_never_sends_raw_control_bytes_to_the_terminal():
    assert show_echo(b"\x01\x02\x1b[2J") == 'x"01 02 1b 5b 32 4a"'
    assert show_echo(b"hi\n") == "hi\n"
    s, out = _session()
    s.execute('spawn m\nlet b = alloc m 8\nwrite m $b 1 2 0x1b 0xde 0xad\necho mem(m, $b, 5)')
    assert out.getvalue().splitlines()[-1] == 'x"01 02 1b de ad"'


def test_expect_failure_shows_a_bytes_literal_as_written():
    s, _ = _session()
    s.execute('spawn m\nlet b = alloc m 8\nwrite m $b 1 2')
    e = _error(s, 'expect mem(m, $b, 2) == x"de ad"')
    assert 'left is x"01 02", right is x"de ad"' in e.message


# ------------------------------------------------------------------ sentences
def test_radio_frame_nobody_reads_is_one_sentence():
    s, out = _session()
    s.execute('inject radio x"41 88 00"')
    assert "3-byte frame (lqi 255) dropped: no process has an RX ring" in out.getvalue()


def test_help_drivers_counts_in_words():
    s, out = _session()
    s.execute("help drivers")
    text = out.getvalue()
    assert "1 upcall, 0 ro" in text and "1 upcalls" not in text


def test_help_apps_keeps_long_app_names_apart_from_their_text():
    s, out = _session()
    s.execute("help apps")
    for line in out.getvalue().splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            name = line.split()[0]
            assert line.startswith(f"  {name}  "), line


# ------------------------------------------------------------------ config
def test_config_errors_point_at_the_key_or_the_value():
    s, _ = _session()
    e = _error(s, "config   faultpolicy = stop")
    assert e.pos.column == 10 and "did you mean 'fault_policy'" in e.message
    assert _error(s, "config radio.chanel = 3").pos.column == 8
    e = _error(s, "config fault_policy = sometimes")
    assert e.pos.column == 23
    e = _error(s, "config scheduler = round_robin(1ns)")
    assert "whole microseconds" in e.message and "not 1ns" in e.message


# ------------------------------------------------------------------ alloc, write
def test_alloc_before_crt0_ran_says_there_is_no_heap_yet():
    s, _ = _session()
    s.execute("spawn r raw=true\nspawn h app=hello")
    e = _error(s, "alloc r 16")
    assert "r has no heap yet" in e.message and "once Running" in e.message
    assert "runs an app" in _error(s, "alloc h 4").message


def test_write_counts_in_words():
    s, out = _session()
    s.execute('spawn y\nwrite y 0x20000000 "x"')
    assert "y: wrote 1 byte at 0x20000000" in out.getvalue()


# ------------------------------------------------------------------ time
def test_every_without_end_warns_and_an_empty_one_says_so():
    s, out = _session()
    s.execute("every 1ms { echo 1 }")
    assert "with no end" in out.getvalue()
    s.execute("every 1ms for 0ms { echo 1 }")
    assert "nothing scheduled" in out.getvalue()


def test_run_until_that_never_holds_says_so():
    s, out = _session()
    s.execute("spawn a\nrun until now > 50ms")
    assert "now > 50ms still does not hold" in out.getvalue()
    s.execute("run for 1ms until a.queue > 0")
    assert "reached t=" in out.getvalue() and "a.queue > 0 still does not hold" in out.getvalue()


# ------------------------------------------------------------------ expressions
def test_division_truncates_toward_zero_as_in_c():
    s, out = _session()
    s.execute("echo (-7 / 2) (7 / -2) (-7 % 3) (7 % -3) (7 / 2) (7 % 3)")
    assert out.getvalue().split() == ["-3", "-3", "-1", "1", "3", "1"]


def test_expect_of_a_plain_value_says_it_is_false():
    s, _ = _session()
    assert _error(s, "expect 0").message == "expect failed: 0 is false"
    s.execute("spawn a")
    assert _error(s, "expect a.queue").message == "expect failed: a.queue is 0, which is false"


# ------------------------------------------------------------------ app parameters and durations
def test_durations_stay_durations_through_arithmetic():
    s, out = _session()
    s.execute("print -1ms\nprint 2 * 1ms\nprint 10ms / 4\nprint 10ms / 1ms\nprint 10ms % 3ms")
    assert out.getvalue().split() == ["-1ms", "2ms", "2.5ms", "10", "1ms"]


def test_app_parameters_refuse_negative_counts_and_show_times_as_written():
    s, out = _session()
    assert "parameter after is 0 or more, not -1" in _error(s, "spawn c app=crash_dummy after=-1").message
    assert "positive time, not -1ms" in _error(s, "spawn b app=blink period=-1ms").message
    assert "0 or more" in _error(s, "spawn t app=thread_client priority=-1").message  # it would fault later
    # A computed duration is a duration, not a number of milliseconds.
    s.execute("spawn b app=blink period=(2 * 250ms)\nrun for 600ms")
    led = [ln for ln in out.getvalue().splitlines() if ln.endswith("LED 0 on")]
    assert led and led[0].split()[0].startswith("500.0"), led


def test_an_expression_nested_too_deeply_says_so():
    s, _ = _session()
    assert "nested too deeply" in _error(s, "echo " + " + ".join(["1"] * 20000)).message


def test_spawn_app_and_tbf_errors_point_at_their_option():
    s, _ = _session()
    assert _error(s, "spawn x1 app=blink period=-1ms").pos.column == 20
    assert _error(s, "spawn x ram=4k app=nosuch").pos.column == 16
    assert _error(s, "spawn x app=hello foo=1").pos.column == 19


def test_a_bare_absolute_path_is_told_to_be_quoted():
    s, _ = _session()
    e = _error(s, "spawn x tbf=/bin/ls")
    assert 'quote a path: "/bin/ls"' in e.message


def test_refused_values_are_shown_in_tsh_terms_not_python_reprs():
    s, _ = _session()
    for text, shown in (("config radio.channel = 1,2", "not 1, 2"), ("config relay.scan = 1,2", "not 1, 2"),
                        ('spawn a app=crash_dummy on=x"00"', 'not x"00"'),
                        ('spawn b app=blink led=x"01"', 'not x"01"')):
        e = _error(s, text)
        assert e.message.endswith(shown), e.message
        assert "b'" not in e.message and "(1, 2)" not in e.message
    e = _error(s, 'config radio.seed = x"00"')
    assert e.pos.column == 21


def test_memory_errors_point_at_the_address_and_say_where_memory_is():
    s, _ = _session()
    s.execute("spawn a")
    e = _error(s, "mem a 0x10")
    assert e.pos.column == 7 and "RAM [0x20000000, 0x20001ad0), flash [0x40000, 0x40800)" in e.message
    assert _error(s, 'write a 0x10 "x"').pos.column == 9
    assert _error(s, "mem a 0x20000000 -1").pos.column == 18
    assert _error(s, "a: syscall 300 0").pos.column == 12
    assert _error(s, "trace 0").pos.column == 7


def test_wrong_state_refusals_point_at_the_process_name():
    s, _ = _session()
    s.execute("spawn y")
    assert _error(s, "start y").pos.column == 7
    s.execute("terminate y")
    assert _error(s, "stop y").pos.column == 6
    assert _error(s, "alloc y 99999").pos.column == 9
    assert _error(s, "press button 9").pos.column == 14


def test_nomem_gloss_tells_a_full_grant_region_from_a_capsule_without_grant():
    s, out = _session()
    s.execute("spawn x ram=4k grant=0\nx: subscribe console 1 @w")
    assert "only 0 B free between the app break and the kernel memory break (its grant needs 76 B)" in out.getvalue()
    s.execute("spawn y\ny: subscribe led 0 @w")
    assert "led has no grant to store it in" in out.getvalue()


def test_a_negative_duration_is_named_as_such():
    s, _ = _session()
    for text in ("run for -1ms", "every -1ms { echo 1 }", "at -5ms { echo 1 }"):
        assert _error(s, text).message.startswith("a duration cannot be negative"), text


def test_a_block_that_could_not_run_is_refused_when_scheduled():
    s, out = _session()
    e = _error(s, "at +1ms { every 1ms for 2ms { step } }")
    assert e.pos.column == 31 and "cannot be used inside an at/every block" in e.message
    assert "scheduled" not in out.getvalue()
    s.execute("run for 5ms")  # nothing was left behind to fail later


def test_traffic_rate_is_printed_as_written():
    s, out = _session()
    s.execute("traffic radio rate=100000000 for 1ms")
    assert "100000000 frames/s" in out.getvalue() and "e+" not in out.getvalue()
