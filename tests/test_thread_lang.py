"""The Thread scenario from tsh: `p.thread`, `config run.events`, app parameters given as durations."""

from __future__ import annotations

import pytest

from tockshell.lang.errors import TshError


def test_thread_field_of_service_and_clients(sh):
    sh("config run.events = off\n"
       "spawn svc app=thread_service fifo=4\n"
       "spawn c1 app=thread_client port=1\n"
       "spawn c2 app=thread_client port=2 wait=30ms\n"
       "traffic radio rate=100 ports=1,2 for 800ms\n"
       "run for 900ms\n")
    c1 = sh.session.execute("print c1.thread")[0]
    assert c1["port"] == 1 and c1["delivered"] > 20 and c1["dropped"] == 0
    assert set(c1) == {"port", "delivered", "dropped", "gone", "overwrites", "arrived", "latency_mean",
                       "latency_max", "sent"}
    out = sh("print svc.thread.design\nprint svc.thread.blocked\necho c2.thread.latency_max")
    lines = out.splitlines()
    assert lines[0] == "mailbox" and lines[1] == "0us"
    assert lines[2].endswith("ms")
    sh("expect svc.thread.delivered == c1.thread.delivered + c2.thread.delivered")
    sh("expect c2.thread.dropped > 0")  # 30 ms asleep per packet, 50 packets a second


def test_thread_field_on_a_manual_process_is_a_clear_error(sh):
    sh("spawn m\nspawn svc app=thread_service")
    with pytest.raises(TshError, match="m runs no Thread app"):
        sh("print m.thread")
    with pytest.raises(TshError, match="svc's Thread app has not started yet"):
        sh("print svc.thread")
    with pytest.raises(TshError, match="field of svc.thread"):
        sh("config run.events = off\nrun for 1ms\nprint svc.thread.nosuch")


def test_run_events_off_silences_run_but_not_results(sh):
    sh("spawn h app=hello")
    noisy = sh("run for 5ms")
    assert "hello" in noisy or "console" in noisy
    sh("board default\nconfig run.events = off\nspawn h app=hello")
    assert sh("run for 5ms") == ""
    assert "run.events" in sh("help config") and "off" in sh("help config").split("run.events", 1)[1][:40]
    sh("config run.events = on\nspawn h2 app=hello")
    assert sh("run for 5ms") != ""


def test_duration_in_a_variable_is_a_duration_for_apps(sh):
    sh("param slow = 12ms\nconfig run.events = off\nspawn svc app=thread_service\n"
       "spawn c1 app=thread_client port=1 cost=$slow")
    p = sh.kernel.process("c1")
    assert p.program.params["cost"] == 12


def test_help_mentions_compare_and_the_apps(sh):
    assert "compare" in sh("help compare")
    apps = sh("help apps")
    for name in ("thread_service", "thread_client", "thread_service_relay", "thread_client_relay",
                 "thread_service_legacy", "thread_client_legacy"):
        assert name in apps
