"""The per-process task queue: nine slots, newest dropped, what counts as a task (tock-kernel.md 4.5, 6)."""

from __future__ import annotations

from tockshell.kernel import IpcType, UpcallError

from test_kernel_support import ALARM, BUTTON, YIELD, fn_ptr, lines, manual, mark, new_board, subscribe


def test_queue_holds_nine_and_drops_the_newest():
    b, k, p = manual()
    subscribe(k, p, ALARM, 0, appdata=9)
    for i in range(9):
        assert k.schedule_upcall(p, ALARM, 0, (i, 0, 0)) is None
    m = mark(k)
    assert k.schedule_upcall(p, ALARM, 0, (9, 0, 0)) is UpcallError.QUEUE_FULL
    assert k.schedule_upcall(p, ALARM, 0, (10, 0, 0)) is UpcallError.QUEUE_FULL
    assert [t.args[0] for t in p.tasks] == list(range(9))
    assert p.dropped_upcalls == 2 and k.stats.upcalls_dropped == 2
    assert lines(k, m) == [f"[0] schedule[0x0:0] @{fn_ptr(p):#x}(0x9, 0x0, 0x0, 0x9) = Err(QueueFull)",
                           f"[0] schedule[0x0:0] @{fn_ptr(p):#x}(0xa, 0x0, 0x0, 0x9) = Err(QueueFull)"]
    k.syscall(p, YIELD, 1, 0, 0, 0)  # one delivered: one slot free again
    assert k.schedule_upcall(p, ALARM, 0, (11, 0, 0)) is None


def test_start_task_and_null_upcall_events_use_slots():
    k = new_board().kernel
    p = k.create_process("raw", booted=False)
    assert len(p.tasks) == 1  # _start
    k.enter_grant(p, k.drivers[ALARM])  # a grant with the Null Upcall in every slot
    results = [k.schedule_upcall(p, ALARM, 0, (i, 0, 0)) for i in range(9)]
    assert results == [None] * 8 + [UpcallError.QUEUE_FULL]
    assert [t.kind for t in p.tasks] == ["FunctionCall"] + ["ReturnValue"] * 8
    assert lines(k)[-1] == "[0] schedule[0x0:0] @0x0(0x8, 0x0, 0x0, 0x0) = Err(QueueFull)"


def test_ipc_tasks_share_the_queue():
    b, k, p = manual()
    other = k.create_process("b")
    for _ in range(9):
        assert k.enqueue_ipc_task(p, other.pid, IpcType.SERVICE) is None
    assert k.enqueue_ipc_task(p, other.pid, IpcType.CLIENT) is not None
    assert p.dropped_upcalls == 1
    subscribe(k, p, ALARM, 0)
    assert k.schedule_upcall(p, ALARM, 0, (0, 0, 0)) is UpcallError.QUEUE_FULL


def test_schedule_on_a_bad_subscribe_number_or_a_dead_process():
    b, k, p = manual()
    subscribe(k, p, ALARM, 0)
    m = mark(k)
    assert k.schedule_upcall(p, ALARM, 1, (0, 0, 0)) is UpcallError.INVALID_SUBSCRIBE_NUM
    assert lines(k, m) == ["[0] schedule[0x0:1] invalid subscribe_num"]
    k.terminate(p)
    assert k.schedule_upcall(p, ALARM, 0, (0, 0, 0)) is UpcallError.KERNEL_ERROR
    assert p.dropped_upcalls == 0


def test_schedule_trace_line_and_arguments_are_32_bit():
    b, k, p = manual()
    subscribe(k, p, BUTTON, 0, appdata=0x1234)
    k.schedule_upcall(p, BUTTON, 0, (1, -1, 1 << 33 | 2))
    assert lines(k)[-1] == f"[0] schedule[0x3:0] @{fn_ptr(p):#x}(0x1, 0xffffffff, 0x2, 0x1234) = Ok(())"
    assert p.tasks[0].args == (1, 0xFFFF_FFFF, 2)


def test_a_full_queue_starves_yield_wait_for():
    """The hazard upcall.rs documents: the awaited upcall cannot be enqueued."""
    b, k, p = manual()
    subscribe(k, p, ALARM, 0)
    subscribe(k, p, BUTTON, 0)
    for i in range(9):
        k.schedule_upcall(p, ALARM, 0, (i, 0, 0))
    k.syscall(p, YIELD, 2, BUTTON, 0, 0)
    assert k.schedule_upcall(p, BUTTON, 0, (1, 1, 0)) is UpcallError.QUEUE_FULL
    assert k.run() == "idle"
    assert p.state.name == "YieldedFor"


def test_upcalls_wait_while_running():
    """Upcalls are delivered only in a yield: a Running process just accumulates them."""
    b, k, p = manual()
    subscribe(k, p, ALARM, 0)
    k.schedule_upcall(p, ALARM, 0, (1, 0, 0))
    assert k.run() == "idle"
    assert len(p.tasks) == 1 and p.state.name == "Running"
    assert "1 upcall pending; delivered at its next yield" in k.state_sentence(p)
