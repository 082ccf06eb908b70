"""The IPC statements in the language: policy, descriptors, services, mailbox, config keys, fields."""

from __future__ import annotations

import pytest

from tockshell.lang.errors import TshError

CONNECT = """
config fault_policy = restart
spawn svc short_id=0x2a
spawn cli
svc: subscribe ipcmgr 0 @connected
svc: allow-ro ipcmgr 0 "echo"
svc: command ipcmgr 1
cli: allow-ro ipcmgr 0 "echo"
cli: command ipcmgr 2
let pd = $_.value
"""


def test_policy_statement_and_services(sh):
    out = sh('policy clients echo allow cli, 0x99, "org.x"\npolicy register echo allow svc')
    assert 'only cli, org.x, 0x99 may discover "echo"' in out
    assert 'only svc may register "echo"' in out
    sh(CONNECT)
    out = sh("services")
    assert '"echo": svc [0], registered at' in out
    assert "register: svc;  clients: cli, org.x, 0x99" in out


def test_policy_any_and_unregistered_names(sh):
    out = sh("policy register other allow any\nservices")
    assert 'any process may register "other"' in out
    assert '"other": not registered' in out and "register: any;  clients: anyone (default)" in out


@pytest.mark.parametrize("text, msg", [
    ("policy register echo allow 0", "non-zero 32-bit"),
    ("policy register echo allow 0x100000000", "non-zero 32-bit"),
    ('policy clients "' + "x" * 33 + '" allow any', "1 to 32 bytes"),
])
def test_policy_errors_are_one_line_with_position(sh, text, msg):
    with pytest.raises(TshError, match=msg) as e:
        sh(text)
    assert e.value.pos is not None and e.value.pos.line == 1


def test_policy_error_points_at_the_item(sh):
    with pytest.raises(TshError, match="non-zero") as e:
        sh("policy clients echo allow cli, 0x0")
    assert e.value.pos.column == 32


def test_refused_discovery_is_explained_by_the_rule(sh):
    sh("policy clients echo allow someone")
    sh(CONNECT.replace("let pd = $_.value", ""))
    assert sh("expect $_ == Failure(NODEVICE)") == ""
    out = sh("explain")
    assert "refused by board policy `policy clients echo allow someone`" in out
    assert "package 'cli'" in out


def test_refused_registration_is_explained(sh):
    sh("policy register echo allow other\nspawn svc\nsvc: allow-ro ipcmgr 0 \"echo\"\nsvc: command ipcmgr 1")
    sh("expect $_ == Failure(FAIL)")
    assert "policy register echo allow other" in sh("explain")


def test_descriptors_live_stale_and_blocks(sh):
    sh(CONNECT)
    out = sh("descriptors cli")
    assert "pd  peer  ProcessId" in out and "1   svc   [0] slot 0  live" in out
    assert "current: 1 of 4 entries open" in out and "0 B wasted by regrowth" in out
    sh("restart svc")
    out = sh("descriptors cli")
    assert "stale (svc restarted: slot 0 now holds [" in out
    assert sh("descriptors svc").endswith("allocates one in its grant region\n")


def test_descriptors_after_regrowth(sh):
    lines = ["spawn c"]
    for i in range(5):
        lines += [f"spawn s{i}", f's{i}: allow-ro ipcmgr 0 "n{i}"', f"s{i}: command ipcmgr 1",
                  f'c: allow-ro ipcmgr 0 "n{i}"', "c: command ipcmgr 2", f"expect $_ == Success(u32={i + 1})"]
    sh("\n".join(lines))
    out = sh("descriptors c")
    assert "40 B    4 entries  left behind by regrowth (wasted)" in out
    assert "72 B    8 entries  current: 5 of 8 entries open" in out
    assert "112 B of grant region for the table, 40 B wasted by regrowth" in out
    assert sh("expect c.descriptor_bytes == 112\nexpect c.descriptors == 5") == ""
    assert "custom ipcmgr: pd table (8)" in sh("process c")
    assert "pd table (4)" in sh("grants c")


def test_descriptors_in_raw_mode_and_of_a_dead_process(sh):
    sh("config ipcmgr.descriptors = raw\nspawn p")
    assert "no tables in raw mode" in sh("descriptors p")
    sh("config ipcmgr.descriptors = dynamic\nterminate p")
    assert "p is Terminated: its grant region, and the table in it, were reclaimed" in sh("descriptors p")


def test_descriptors_of_an_unknown_process(sh):
    with pytest.raises(TshError, match="nobody"):
        sh("descriptors nobody")


def test_config_keys(sh):
    assert sh("config ipcmgr.descriptors = fixed(8)") == "ipcmgr.descriptors = fixed(8)\n"
    assert sh("config ipcmgr.descriptors = raw") == "ipcmgr.descriptors = raw\n"
    assert sh("config mailbox.crash_notify = off") == "mailbox.crash_notify = off\n"
    assert sh("config mailbox.crash_notify = on") == "mailbox.crash_notify = on\n"
    with pytest.raises(TshError, match="on or off"):
        sh("config mailbox.crash_notify = maybe")
    with pytest.raises(TshError, match="fixed\\(N\\) needs a table size"):
        sh("config ipcmgr.descriptors = fixed(0)")
    with pytest.raises(TshError, match="dynamic, fixed\\(N\\) or raw"):
        sh("config ipcmgr.descriptors = static")


def test_config_refused_while_tables_exist(sh):
    sh(CONNECT)
    with pytest.raises(TshError, match="held by svc, cli"):
        sh("config ipcmgr.descriptors = raw")


def test_mailbox_listing_and_fields(sh):
    sh(CONNECT)
    assert sh("mailbox") == "mailbox: 0 messages in flight (mailbox.crash_notify = on)\n"
    sh('cli: allow-ro mailbox 0 "hello"\ncli: command mailbox 1 $pd\nrun for 1ms')
    out = sh("mailbox svc")
    assert "1 message in flight sent by or to svc" in out
    assert "cli [1]  svc [0]   5 B" in out
    assert sh("expect svc.inbox == 1\nexpect cli.inbox == 0") == ""
    out = sh("mailbox")
    assert "1ms" in out  # its age


def test_mailbox_listing_marks_a_dead_receiver_with_crash_notify_off(sh):
    sh(CONNECT)
    sh('config mailbox.crash_notify = off\ncli: allow-ro mailbox 0 "x"\ncli: command mailbox 1 $pd\nfault svc')
    out = sh("mailbox cli")
    assert "svc [0] (old instance)" in out and "the sender stays BUSY until it cancels" in out
    sh("cli: command mailbox 1 $pd\nexpect $_ == Failure(BUSY)\ncli: command mailbox 3\nexpect $_ == Success")


def test_stats_show_ipc_figures(sh):
    sh(CONNECT)
    sh('cli: allow-ro mailbox 0 "hello"\ncli: command mailbox 1 $pd\nrun for 2ms')
    sh("let buf = alloc svc 8\nsvc: allow-rw mailbox 0 $buf 8\nsvc: command mailbox 2 0")
    out = sh("stats")
    assert "ipcmgr" in out and "discoveries" in out
    assert "messages sent" in out and "latency send→read max" in out and "bytes copied" in out
    sh("stats reset")
    quiet = [line for line in sh("stats").splitlines() if line.startswith("nothing counted yet")]
    assert quiet and "mailbox" in quiet[0] and "ipcmgr" in quiet[0]


def test_process_shows_legacy_shares(sh):
    sh("""
spawn rot13_service package="org.tockos.examples.rot13"
spawn cli
rot13_service: subscribe ipc 0 @on_notify
let buf = alloc cli 64
cli: allow-rw ipc 0 $buf 64
cli: command ipc 2 0
rot13_service: yield
run for 1ms
""")
    out = sh("process cli")
    assert "legacy IPC (0x10000):" in out and "shares RW allow 0:" in out and "with rot13_service (index 0)" in out
    out = sh("process rot13_service")
    assert "MPU regions added by IPC: 1 of 6 slots" in out and "in cli's memory" in out
    assert sh("expect rot13_service.mpu_regions == 1") == ""
    assert "legacy IPC" not in sh("spawn other\nprocess other")


def test_help_entries(sh):
    out = sh("help descriptors")
    assert "descriptors PROCESS" in out
