"""Legacy IPC (0x10000) as Tock codes it: discover, two-step notify, sharing, MPU bookkeeping, quirks."""

from __future__ import annotations

import pytest

from test_ipc_harness import LEGACY, World
from tockshell.abi import ErrorCode, SyscallClass as C, SyscallReturn
from tockshell.capsules.ipc_legacy import MPU_REGION_SLOTS
from tockshell.kernel import IpcTask
from tockshell.kernel.upcall import TASK_QUEUE_CAPACITY

OK = SyscallReturn.success()
ROT13 = b"org.tockos.examples.rot13"


def fail(e):
    return SyscallReturn.failure(e)


@pytest.fixture
def w():
    return World()


def spawn_pair(w, **kw):
    svc = w.spawn("rot13_service", package=ROT13.decode(), **kw)
    cli = w.spawn("rot13_client", **kw)
    return svc, cli


def run_ipc(w, p):
    """p yields; the kernel runs its queued Task::IPC (and whatever follows) until it is Running again."""
    w.k.syscall(p, C.YIELD, 1, 0, 0)
    for _ in range(20):
        if p.state.name == "Running":
            return
        if not w.k.step():
            return


def test_driver_is_the_kernels_ipc_and_grant_shape(w):
    assert w.k.ipc is w.legacy
    n = w.k.config.num_procs
    spec = w.legacy.grant
    assert (spec.upcalls, spec.allow_ro, spec.allow_rw) == (n, 1, n)
    assert spec.size == 4 + 8 * (2 * n + 1)


def test_exists_and_nosupport(w):
    p = w.spawn("p")
    assert w.cmd(p, LEGACY, 0) == OK
    assert w.cmd(p, LEGACY, 4) == fail(ErrorCode.NOSUPPORT)


# ------------------------------------------------------------------ discover

def test_discover_by_package_name_returns_the_index(w):
    pad = w.spawn("pad")
    svc, cli = spawn_pair(w)
    w.allow_ro(cli, LEGACY, 0, ROT13)
    assert w.cmd(cli, LEGACY, 1) == SyscallReturn.success_u32(svc.index)
    assert svc.index == 1 and pad.index == 0


def test_discover_errors(w):
    svc, cli = spawn_pair(w)
    assert w.cmd(cli, LEGACY, 1) == fail(ErrorCode.INVAL)  # nothing allowed
    w.allow_ro(cli, LEGACY, 0, b"org.tockos.examples.rot")
    assert w.cmd(cli, LEGACY, 1) == fail(ErrorCode.NODEVICE)


def test_discover_finds_itself_and_dead_processes(w):
    svc, cli = spawn_pair(w)
    # libtock-c's ipc_register_service_callback discovers its own name to learn its index.
    w.allow_ro(svc, LEGACY, 0, ROT13)
    assert w.cmd(svc, LEGACY, 1) == SyscallReturn.success_u32(svc.index)
    w.k.terminate(svc)
    w.allow_ro(cli, LEGACY, 0, ROT13)
    assert w.cmd(cli, LEGACY, 1) == SyscallReturn.success_u32(svc.index)


def test_discover_duplicate_package_first_match_wins(w):
    a = w.spawn("a", package="dup")
    b = w.spawn("b", package="dup")
    c = w.spawn("c")
    w.allow_ro(c, LEGACY, 0, b"dup")
    assert w.cmd(c, LEGACY, 1) == SyscallReturn.success_u32(a.index)


def test_discover_nomem_when_the_grant_cannot_be_entered(w):
    tiny = w.spawn("tiny", ram=1024, grant=0)
    assert w.cmd(tiny, LEGACY, 1) == fail(ErrorCode.NOMEM)


# ------------------------------------------------------------------ notify

def test_notify_bad_index_is_inval(w):
    p = w.spawn("p")
    assert w.cmd(p, LEGACY, 2, 7) == fail(ErrorCode.INVAL)
    assert w.cmd(p, LEGACY, 3, 99) == fail(ErrorCode.INVAL)


def test_notify_dead_target_is_nodevice(w):
    svc, cli = spawn_pair(w)
    w.k.terminate(svc)
    assert w.cmd(cli, LEGACY, 2, svc.index) == fail(ErrorCode.NODEVICE)


def test_notify_full_queue_is_nomem(w):
    svc, cli = spawn_pair(w)
    for _ in range(TASK_QUEUE_CAPACITY):
        assert w.cmd(cli, LEGACY, 2, svc.index) == OK
    assert w.cmd(cli, LEGACY, 2, svc.index) == fail(ErrorCode.NOMEM)
    assert svc.dropped_upcalls == 1


def test_notify_only_queues_a_task(w):
    svc, cli = spawn_pair(w)
    assert w.cmd(cli, LEGACY, 2, svc.index) == OK
    assert len(svc.tasks) == 1 and isinstance(svc.tasks[0], IpcTask)
    assert w.k.grant_of(svc, w.legacy) is None  # nothing entered yet


def test_service_notify_with_shared_buffer(w):
    svc, cli = spawn_pair(w)
    w.subscribe(svc, LEGACY, svc.index)  # a service subscribes at its own index
    buf = w.allow_rw(cli, LEGACY, svc.index, 64, align=64)
    assert w.cmd(cli, LEGACY, 2, svc.index) == OK
    run_ipc(w, svc)
    fc = [r for r in w.k.log if r.kind == "function_call" and r.name == svc.name][-1]
    assert fc.data[1:4] == (cli.index, 64, buf)
    assert fc.data[0] == w.fn(svc, svc.index)
    assert svc.mpu_regions == [(buf, 64)]
    assert w.legacy.shares(svc)["mapped"] == [(buf, 64, cli.name)]
    assert w.legacy.shares(cli)["shared"] == [(svc.index, svc.name, buf, 64)]


def test_notify_without_sharing_gives_zero_len_and_addr(w):
    svc, cli = spawn_pair(w)
    w.subscribe(svc, LEGACY, svc.index)
    w.cmd(cli, LEGACY, 2, svc.index)
    run_ipc(w, svc)
    fc = [r for r in w.k.log if r.kind == "function_call" and r.name == svc.name][-1]
    assert fc.data[1:4] == (cli.index, 0, 0)
    assert svc.mpu_regions == []


def test_client_notify_uses_the_callers_index_slot(w):
    svc, cli = spawn_pair(w)
    w.subscribe(cli, LEGACY, svc.index)  # a client subscribes at the service's index
    buf = w.allow_rw(svc, LEGACY, cli.index, 32)
    assert w.cmd(svc, LEGACY, 3, cli.index) == OK
    run_ipc(w, cli)
    fc = [r for r in w.k.log if r.kind == "function_call" and r.name == cli.name][-1]
    assert fc.data[0] == w.fn(cli, svc.index) and fc.data[1:4] == (svc.index, 32, buf)


def test_notify_before_subscribe_is_lost(w):
    svc, cli = spawn_pair(w)
    assert w.cmd(cli, LEGACY, 2, svc.index) == OK  # Success: queued, not delivered
    w.k.syscall(svc, C.YIELD, 1, 0, 0)  # the task becomes a null-upcall event...
    assert any("is lost" in n for n in w.notes())
    w.k.step()  # ...which the yield drops
    assert not svc.tasks and w.k.stats.null_events_dropped >= 1
    assert w.legacy.stats()["notifies lost (no upcall subscribed)"] == 1


def test_self_notify_is_refused_at_delivery(w):
    svc, _ = spawn_pair(w)
    w.subscribe(svc, LEGACY, svc.index)
    assert w.cmd(svc, LEGACY, 2, svc.index) == OK
    run_ipc(w, svc)
    assert not any(r.kind == "function_call" and r.name == svc.name and r.data[0] == w.fn(svc, svc.index)
                   for r in w.k.log)
    assert w.legacy.stats()["self notifies refused"] == 1


def test_stale_client_reaches_the_new_instance(w):
    svc, cli = spawn_pair(w)
    w.allow_ro(cli, LEGACY, 0, ROT13)
    idx = w.cmd(cli, LEGACY, 1).value
    old = svc.identifier
    w.k.try_restart(svc)
    assert svc.identifier != old
    w.subscribe(svc, LEGACY, svc.index)
    assert w.cmd(cli, LEGACY, 2, idx) == OK  # no generation check: the new instance gets it
    run_ipc(w, svc)
    assert [r for r in w.k.log if r.kind == "function_call" and r.name == svc.name][-1].data[1] == cli.index


def test_notify_from_a_caller_gone_before_delivery_is_lost(w):
    svc, cli = spawn_pair(w)
    w.subscribe(svc, LEGACY, svc.index)
    w.cmd(cli, LEGACY, 2, svc.index)
    w.k.try_restart(cli)
    run_ipc_state = w.k.syscall(svc, C.YIELD, 1, 0, 0)
    assert run_ipc_state is None
    assert "grant enter failed (NoSuchApp)" in w.last_note()


def test_mpu_regions_six_never_removed(w):
    svc, cli = spawn_pair(w)
    w.subscribe(svc, LEGACY, svc.index)
    w.allow_rw(cli, LEGACY, svc.index, 64)
    for i in range(MPU_REGION_SLOTS + 2):
        assert w.cmd(cli, LEGACY, 2, svc.index) == OK
        run_ipc(w, svc)
    assert len(svc.mpu_regions) == MPU_REGION_SLOTS  # the same buffer mapped six times
    st = w.legacy.stats()
    assert st["MPU regions added"] == 6 and st["MPU regions refused"] == 2
    # Unsharing does not unmap, and the upcall still carries the pointer.
    w.k.syscall(cli, C.ALLOW_RW, LEGACY, svc.index, 0, 0)
    assert len(svc.mpu_regions) == MPU_REGION_SLOTS


def test_cortex_m_board_refuses_unaligned_buffers_silently():
    w = World(name="cortex-m")
    svc, cli = spawn_pair(w)
    w.subscribe(svc, LEGACY, svc.index)
    w.put(cli, b"x")  # misalign what follows
    buf = w.allow_rw(cli, LEGACY, svc.index, 48)
    assert w.cmd(cli, LEGACY, 2, svc.index) == OK
    run_ipc(w, svc)
    assert svc.mpu_regions == []
    fc = [r for r in w.k.log if r.kind == "function_call" and r.name == svc.name][-1]
    assert fc.data[1:4] == (cli.index, 48, buf)  # the notify goes on anyway


def test_stats_reset(w):
    svc, cli = spawn_pair(w)
    w.cmd(cli, LEGACY, 2, svc.index)
    assert w.legacy.stats()["notifies queued"] == 1
    w.legacy.reset_stats()
    assert w.legacy.stats()["notifies queued"] == 0
