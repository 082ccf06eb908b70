"""`compare`: one Thread workload on the three IPC designs, one table, $compare."""

from __future__ import annotations

import pytest

from tockshell.lang.cmd_thread import Workload, compare, format_table, run_design
from tockshell.lang.errors import TshError
from tockshell.lang.values import Time

SHORT = dict(duration=600_000_000, clients=2)


@pytest.fixture(scope="module")
def results():
    return compare(Workload(**SHORT))


def test_every_design_runs_and_reports_every_figure(results):
    assert list(results) == ["mailbox", "relay", "legacy"]
    keys = {"delivered", "dropped", "overwrites", "latency_mean", "latency_max", "blocked", "syscalls",
            "context_switches", "bytes_copied", "kernel_cycles", "grant_service", "grant_client", "arrived",
            "clients", "service"}
    for d, r in results.items():
        assert set(r) == keys, d
        assert r["delivered"] > 20 and r["syscalls"] > r["delivered"]
        assert r["blocked"] == 0
        assert isinstance(r["latency_max"], Time) and r["latency_max"] >= r["latency_mean"] > 0
        assert set(r["clients"]) == {"c1", "c2"}
        assert r["delivered"] == sum(c["delivered"] for c in r["clients"].values())
        assert r["delivered"] + r["dropped"] + r["overwrites"] <= r["arrived"]


def test_what_each_design_costs(results):
    # Legacy: shared memory, no kernel copy, and a grant sized for every process slot.
    assert results["legacy"]["bytes_copied"] == 0
    assert results["mailbox"]["bytes_copied"] > 0 and results["relay"]["bytes_copied"] > 0
    assert results["legacy"]["grant_client"] > results["mailbox"]["grant_client"] > results["relay"]["grant_client"]
    # The same traffic reaches every design (seeded).
    assert len({r["arrived"] for r in results.values()}) == 1


def test_runs_are_deterministic():
    wl = Workload(designs="relay", **SHORT)
    assert run_design("relay", wl) == run_design("relay", wl)


def test_table_has_one_column_per_design_and_per_client_rows(results):
    table = format_table(results)
    lines = table.splitlines()
    assert lines[0].split() == ["mailbox", "relay", "legacy"]
    labels = [ln[:30].strip() for ln in lines[1:]]
    for label in ("delivered", "dropped at the service", "RX ring overwrites (kernel)",
                  "latency mean (radio to read)", "latency max", "service blocked on clients", "syscalls",
                  "context switches", "bytes copied by the kernel", "kernel work (cycles)",
                  "grant bytes: service", "grant bytes: a client (most)", "c1 (port 1)", "c2 (port 2)"):
        assert label in labels, label
    blocked = next(ln for ln in lines if ln.startswith("service blocked"))
    assert blocked.split()[-3:] == ["0us", "0us", "0us"]


def test_compare_statement_prints_and_sets_the_variable(sh):
    out = sh("compare designs=mailbox,legacy clients=2 duration=500ms slow_cost=8ms")
    assert out.startswith("compare: 2 clients on ports 1..2 (c2 slow: 8ms a packet; others 200us)")
    assert "fifo=4 (one for all) drop=oldest" in out
    assert out.splitlines()[3].split() == ["mailbox", "legacy"]
    sh("expect $compare.mailbox.delivered > 0\nexpect $compare.legacy.bytes_copied == 0\n"
       "expect $compare.mailbox.clients.c1.port == 1")
    with pytest.raises(TshError, match="relay"):
        sh("print $compare.relay")
    # compare runs on boards of its own: the session's board is untouched.
    assert sh.kernel.now == 0 and not sh.kernel.live_processes()


def test_compare_options(sh):
    sh("compare designs=relay clients=1 slow=0 rate=20 duration=300 per_client=true drop=newest priority=on "
       "fifo=2 ring=3 svc_cost=50us send=100ms seed=9 periodic=true slow_wait=0")
    assert sh.session.variables["compare"]["relay"]["clients"]["c1"]["sent"] >= 2


@pytest.mark.parametrize("text,message", [
    ("compare fifoo=3", "unknown compare option 'fifoo' — did you mean 'fifo'?"),
    ("compare designs=mailbox,shmem", "unknown design 'shmem'"),
    ("compare clients=0", "clients is 1..12"),
    ("compare clients=2 slow=3", "slow is 0..clients (2)"),
    ("compare fifo=0", "fifo holds at least 1 packet"),
    ("compare drop=middle", "drop= is oldest or newest"),
    ("compare per_client=maybe", "per_client= is true or false"),
    ("compare duration=-5", "duration= is a time"),
    ("compare cost=\"x\"", "cost= is a time (200us, 12ms"),
    ("compare fifo=\"x\"", "fifo= is a number"),
    ("compare fifo=1 fifo=2", "option 'fifo' is given twice"),
])
def test_bad_compare_options_are_one_clear_error(sh, text, message):
    with pytest.raises(TshError) as e:
        sh(text)
    assert message in e.value.message
    assert e.value.pos is not None


def test_workload_description():
    wl = Workload(clients=4, slow=2, slow_wait=20, rate=30, slow_rate=10, priority=True)
    text = wl.describe()
    assert "c3, c4 slow: 12ms + 20ms asleep a packet; others 200us" in text
    assert "30 frames/s per port (10 for the slow)" in text and "priority" in text
    assert [wl.is_slow(i) for i in (1, 2, 3, 4)] == [False, False, True, True]


def test_completion_offers_compare_keys(sh):
    from tockshell.lang.completion import complete

    assert [c.text for c in complete("compare per", sh.session.names)] == ["per_client=", "periodic="]
