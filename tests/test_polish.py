"""Regressions from the new-user QA pass: debugger, IPC and Thread commands."""

from __future__ import annotations

import pytest

from tockshell.lang.errors import TshError


# ------------------------------------------------------------------ diff speaks Tock's terms
def test_diff_leaves_out_model_internals(sh):
    sh("spawn svc\nspawn cli\ncheckpoint a")
    sh('svc: subscribe ipcmgr 0 @client_connected\nsvc: allow-ro ipcmgr 0 "echo"\nsvc: command ipcmgr 1\n'
       'cli: allow-ro ipcmgr 0 "echo"\ncli: command ipcmgr 2\nsvc: yield wait-for ipcmgr 0\n'
       'svc: allow-ro mailbox 0 "status: all good"\nsvc: command mailbox 1 1\nspawn h app=hello\n'
       "run for 1ms\ncheckpoint b")
    out = sh("diff a b")
    for internal in ("_stats", "program", "next_identifier", "MEMOP", "COMMAND", "hw_seq", "stats.",
                     "pending_return", "<fn", "{'"):
        assert internal not in out, internal
    assert "svc.last_syscall: Memop { operand: 11" in out
    assert "Command { driver_number: 655617, subdriver_number: 1" in out
    assert "svc.descriptors: 0 → 1 open\n    + pd 1: cli [1]" in out
    assert "svc.grants.ipcmgr.upcall 0: null → @0x" in out
    assert "mailbox.messages in flight: [] → [svc [0] → cli [1] (pd 1), 16 B]" in out
    assert "process h: created" in out


def test_goto_inside_a_statement_says_which(sh):
    sh("spawn client\nclient: command console 1 0")
    out = sh("goto 2")
    assert ("event 2 lies inside `spawn client` (events 1-4, which cannot be split); stopped at event 4, "
            "the first point after it") in out
    assert sh.kernel.ev == 4


def test_restore_unknown_lists_the_checkpoints(sh):
    sh("spawn client\ncheckpoint before\ncheckpoint")
    with pytest.raises(TshError) as e:
        sh("restore befor")
    msg = str(e.value)
    assert "did you mean 'before'?" in msg and 'checkpoints: 1 "before", 2' in msg
    assert ":1:9:" in msg  # at the name, not the statement
    with pytest.raises(TshError) as e:
        sh("diff before nosuch")
    assert "unknown checkpoint 'nosuch'" in str(e.value) and "`now`" in str(e.value)


# ------------------------------------------------------------------ help examples run after their setup
def _plugin_entries():
    import io

    from tockshell.lang import help as tsh_help
    from tockshell.lang.session import Session

    Session(out=io.StringIO())  # loads the plugins, whose HELP tables join the core one
    return tsh_help._plugin_entries()


@pytest.mark.parametrize("word", ["watch", "display", "next", "delete", "disable", "enable", "condition", "ignore",
                                  "commands", "restore", "diff", "undisplay", "finish", "reverse-continue",
                                  "grant", "descriptors", "mailbox"])
def test_debugger_and_ipc_help_examples_run_after_their_setup(word, tmp_path, monkeypatch):
    import io

    from tockshell.lang.session import Session

    monkeypatch.chdir(tmp_path)
    entry = _plugin_entries()[word]
    assert entry.setup, word
    s = Session(out=io.StringIO())
    s.execute(entry.setup)
    s.execute(entry.example)  # a TshError here fails the test with the message


# ------------------------------------------------------------------ IPC
@pytest.mark.parametrize("text, col, words", [
    ('policy register echo allow x"00"', 28, 'x"00" is a bytes value, not a name'),
    ('policy register echo allow client b"ab"', 35, 'b"ab" is a bytes value, not a name'),
    ('policy register echo allow "a b"', 28, '"a b" is not a package name'),
])
def test_policy_refuses_values_that_are_not_names(sh, text, col, words):
    with pytest.raises(TshError) as e:
        sh(text)
    assert f":1:{col}: " in str(e.value) and words in str(e.value)
    assert "policy: only" in sh('policy register echo allow "client" 0x12')


def test_help_config_describes_every_capsule_key(sh):
    out = sh("help config")
    keys = [line.split() for line in out.splitlines() if line.startswith("  ") and "." in line.split()[0]]
    capsule_keys = {k[0] for k in keys if k[0].split(".")[0] in sh.session.board.drivers_by_name}
    assert {"ipcmgr.descriptors", "mailbox.crash_notify", "relay.scan", "registry_name.filter",
            "radio.channel"} <= capsule_keys
    for k in keys:
        assert len(k) > 2, f"no description for {k[0]}"


def test_registry_filter_confirmation_says_what_it_means(sh):
    sh("spawn client")
    assert ("registry_name.filter = nosuch — only nosuch may register; no process has that package name now"
            in sh("config registry_name.filter = nosuch"))
    assert sh("config registry_name.filter = client").strip() == \
        "registry_name.filter = client — only client may register"
    assert "no process may register" in sh("config registry_pkg.filter = deny")


# ------------------------------------------------------------------ Thread
@pytest.mark.parametrize("text, col, words", [
    ("compare clients=-1", 9, "clients is 1..12"),
    ("compare designs=foo", 9, "unknown design 'foo' (designs: mailbox, relay, legacy)"),
    ("compare rate=5 designs=legacy,mailbx", 16, "did you mean 'mailbox'? (designs: mailbox, relay, legacy)"),
    ("compare clients=1 slow=3", 19, "slow is 0..clients (1), not 3"),
])
def test_compare_errors_point_at_the_option(sh, text, col, words):
    with pytest.raises(TshError) as e:
        sh(text)
    assert f":1:{col}: " in str(e.value) and words in str(e.value)


# ------------------------------------------------------------------ notes told once
def test_a_refusal_note_is_printed_once(sh):
    sh('spawn svc\nspawn evil\nsvc: allow-ro ipcmgr 0 "echo"\nsvc: command ipcmgr 1\npolicy clients echo allow svc\n'
       'evil: allow-ro ipcmgr 0 "echo"')
    out = sh("evil: command ipcmgr 2")
    assert out.startswith("→ Failure(NODEVICE)")
    assert out.count("refused by board policy") == 1


def test_a_legacy_notify_delivered_at_a_yield_is_printed_once(sh):
    sh('spawn rot13_service package="org.tockos.examples.rot13"\nspawn rot13_client\n'
       'rot13_client: allow-ro ipc 0 "org.tockos.examples.rot13"\nrot13_client: command ipc 1\nlet svc = $_.value\n'
       'rot13_service: allow-ro ipc 0 "org.tockos.examples.rot13"\nrot13_service: command ipc 1\n'
       "rot13_service: subscribe ipc 0 @rot13_callback\nrot13_client: command ipc 2 $svc")
    out = sh("rot13_service: yield")
    assert out.count("notify from [1] delivered") == 1
    assert out.rstrip().endswith("rot13_service is Yielded — 1 task queued")
