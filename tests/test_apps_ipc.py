"""The IPC apps: rot13 on the legacy IPC, echo on the IPC Manager and the Mailbox."""

from __future__ import annotations

from tockshell.board import build_board
from tockshell.kernel import fault_policy_from
from tockshell.userland.apps import spawn_program
from tockshell.userland.apps.rot13 import rot13

MS = 1_000_000


def spawn(b, pname, app, **params):
    return b.kernel.create_process(pname, program=spawn_program(app, params))


def out(b, p):
    return b.console.output_of(p).decode()


# ---------------------------------------------------------------------------- rot13 (legacy IPC)
def test_rot13_function():
    assert rot13(b"Hello, World! z") == b"Uryyb, Jbeyq! m"
    assert rot13(rot13(b"abcXYZ")) == b"abcXYZ"


def test_rot13_ping_pong_through_shared_memory():
    b = build_board()
    svc = spawn(b, "rot13", "rot13_service")
    cli = spawn(b, "client", "rot13_client")
    b.kernel.run(until=1_200 * MS)
    assert out(b, cli).splitlines() == ["Uryyb Jbeyq!", "Hello World!", "Uryyb Jbeyq!"]
    # The service changed the client's memory through the MPU region legacy IPC gave it.
    (addr, length), = set(svc.mpu_regions)  # one more region per notify: never removed
    assert length == 64 and addr % 64 == 0 and cli.memory_start <= addr < cli.memory_end
    assert out(b, svc) == ""


def test_rot13_client_without_a_service_gives_up():
    b = build_board()
    cli = spawn(b, "client", "rot13_client")
    b.kernel.run(until=50 * MS)
    assert out(b, cli) == "No rot13 service (Failure(NODEVICE))\n"


def test_rot13_discovery_race_loses_the_notify():
    # Discovery only checks package names: the client finds the service before it has subscribed,
    # its notify becomes a null upcall at the service and is lost; the client waits forever.
    b = build_board()
    spawn(b, "rot13", "rot13_service", delay=50)
    cli = spawn(b, "client", "rot13_client")
    b.kernel.run(until=2_000 * MS)
    assert out(b, cli) == ""
    assert any(r.kind == "note" and "has no upcall subscribed" in r.data[0] for r in b.kernel.log)


def test_rot13_service_with_another_name_cannot_register():
    b = build_board()
    svc = spawn(b, "svc", "rot13_service")  # its package is "svc", not "rot13"
    b.kernel.run(until=50 * MS)
    assert "cannot register 'rot13'" in out(b, svc)


# ---------------------------------------------------------------------------- echo (Mailbox)
def test_echo_client_gets_its_replies():
    b = build_board()
    cli = spawn(b, "client", "echo_client")  # before the service: it retries discovery
    svc = spawn(b, "svc", "echo_service")
    b.kernel.run(until=2_000 * MS)
    assert out(b, cli).splitlines() == ["echo_client: reply 'ping 0'", "echo_client: reply 'ping 1'",
                                        "echo_client: reply 'ping 2'"]
    assert b.driver("mailbox").stats()["messages sent"] == 6
    assert svc.state.name == "Yielded"


def test_echo_parameters():
    b = build_board()
    spawn(b, "svc", "echo_service", name="e2")
    cli = spawn(b, "client", "echo_client", name="e2", text="hi", count=1)
    b.kernel.run(until=500 * MS)
    assert out(b, cli) == "echo_client: reply 'hi 0'\n"


def test_echo_client_without_a_service():
    b = build_board()
    cli = spawn(b, "client", "echo_client", tries=3)
    b.kernel.run(until=500 * MS)
    assert out(b, cli) == "echo_client: no service 'echo' (Failure(NODEVICE))\n"


def test_echo_client_rediscovers_a_restarted_service():
    b = build_board()
    k = b.kernel
    k.fault_policy = fault_policy_from("restart")
    svc = spawn(b, "svc", "echo_service")
    cli = spawn(b, "client", "echo_client", count=0, period=100)
    k.run(until=250 * MS)
    k.fault(svc)
    k.run(until=600 * MS)
    lines = out(b, cli).splitlines()
    assert "echo_client: 'ping 3' not delivered (NODEVICE); discovering 'echo' again" in lines
    assert lines[-1].startswith("echo_client: reply 'ping") and len(lines) >= 6
    assert svc.restart_count == 1


def test_echo_with_crash_notify_off_leaves_the_client_waiting():
    b = build_board()
    k = b.kernel
    b.driver("mailbox").set_config("crash_notify", False)
    svc = spawn(b, "svc", "echo_service")
    cli = spawn(b, "client", "echo_client", count=0, period=100)
    k.run(until=150 * MS)
    k.stop(svc)  # the service stops reading; then it dies with the client's message in flight
    k.run(until=250 * MS)
    k.resume(svc)
    k.terminate(svc)
    k.run(until=1_000 * MS)
    assert "not delivered" not in out(b, cli)
    assert cli.state.name == "Yielded" and not cli.tasks  # nobody will ever tell it
