"""Mailbox (``mailbox``, 0xA0101): one copy, allow to allow (ipc-2025.md §3).

Each process has one outgoing slot (one message in flight) and one incoming
RW buffer. Nothing is buffered in the kernel: a message is the sender's RO
allow 0, copied once, straight into the receiver's RW allow 0, when the
receiver reads it. Peers are named by the IPC Manager's process descriptors
(or raw identifiers in ``raw`` mode).

The capsule keeps only metadata: each message in flight is indexed by its
sender (the outgoing slot) and by its receiver (the waiting list, oldest
first). The receiver index is what makes the crash callback cheap: when a
process dies the Mailbox examines only the messages involving it, instead of
scanning every process's mailbox grant; ``stats`` shows both numbers.

``mailbox.crash_notify = on | off``: with ``on`` (the 2025-08 design) the
kernel's process-state hook fails messages to a dead process (upcall 1 with
NODEVICE to each sender) and withdraws the dead process's own message; with
``off`` (what upstream chose in 2026) nothing is sent and senders stay BUSY
until they cancel.
"""

from __future__ import annotations

from ..abi import ErrorCode, SyscallReturn
from ..kernel import GrantError, GrantSpec, Process, ProcessId, SyscallDriver, UpcallId
from .ipc_common import fmt_ns, parse_on_off, process_label

DRIVER_NUM = 0xA0101
MESSAGE_WAITING = 0  # receiver's upcall (sender_pd, len, 0)
SEND_DONE = 1        # sender's upcall (status, receiver_pd, len)


class Message:
    """One message in flight: who, to whom, the numbers each side uses for the other, when."""

    __slots__ = ("seq", "sender", "receiver", "receiver_pd", "sender_pd", "length", "sent_at", "upcall_args")

    def __init__(self, seq: int, sender: ProcessId, receiver: ProcessId, receiver_pd: int, sender_pd: int,
                 length: int, sent_at: int):
        self.seq = seq
        self.sender = sender
        self.receiver = receiver
        self.receiver_pd = receiver_pd  # the number the sender used
        self.sender_pd = sender_pd      # the number in the receiver's table for the sender
        self.length = length            # RO allow length at send time (the upcall's len)
        self.sent_at = sent_at
        self.upcall_args = (sender_pd, length, 0)


class MailboxApp:
    """Per-process grant data: the outgoing slot."""

    __slots__ = ("outgoing",)

    def __init__(self) -> None:
        self.outgoing: Message | None = None


class Mailbox(SyscallDriver):
    """The Mailbox capsule; ``ipcmgr`` is the IPC Manager whose descriptors name the peers."""

    driver_num = DRIVER_NUM
    name = "mailbox"
    summary = ("Mailbox: cmd 1 send RO allow 0 to pd, 2 read from pd (0 = oldest) into RW allow 0, 3 cancel; "
               "upcalls 0 message waiting, 1 send done")

    def __init__(self, ipcmgr) -> None:
        self.ipcmgr = ipcmgr
        self.crash_notify = True
        self._by_receiver: dict[ProcessId, list[Message]] = {}
        self._by_sender: dict[ProcessId, Message] = {}
        self._seq = 0
        #: Every message's end, for tests and `explain`: seq -> 'read' | 'cancelled' | 'withdrawn' |
        #: 'failed' | 'dropped'. Bounded by the number of messages ever sent.
        self.outcomes: dict[int, str] = {}
        self._stats = self._zero_stats()
        super().__init__()
        ipcmgr.mode_change_guards.append(self._mode_guard)
        ipcmgr.close_hooks.append(self._descriptor_closed)

    def make_grant(self):
        return GrantSpec(self.driver_num, upcalls=2, allow_ro=1, allow_rw=1, data_size=8,
                         data_factory=MailboxApp)

    def attach(self, kernel) -> None:
        super().attach(kernel)
        kernel.add_process_state_hook(self._process_changed)

    # ------------------------------------------------------------------ the driver
    def command(self, cmd, arg0, arg1, pid):
        if cmd == 0:
            return SyscallReturn.success()
        if cmd not in (1, 2, 3):
            return SyscallReturn.failure(ErrorCode.NOSUPPORT)
        p = self.kernel.lookup(pid)
        if cmd == 1:
            return self._send(p, arg0)
        if cmd == 2:
            return self._read(p, arg0)
        return self._cancel(p)

    def _refuse(self, p: Process, err: ErrorCode, why: str) -> SyscallReturn:
        self.kernel.note(f"mailbox: {why} → {err.name}", p)
        return SyscallReturn.failure(err)

    # -- send ----------------------------------------------------------------------
    def _send(self, p: Process, pd: int) -> SyscallReturn:
        k = self.kernel
        state, peer = self.ipcmgr.resolve(p, pd)
        if state == "not_open":
            return self._refuse(p, ErrorCode.INVAL, f"{p.name} sends to pd {pd}, which is not open")
        if state == "self":
            return self._refuse(p, ErrorCode.INVAL, f"{p.name} sends to its own identifier {pd}")
        busy = self._by_sender.get(p.pid)
        if busy is not None:
            return self._refuse(p, ErrorCode.BUSY, f"{p.name} already has a message in flight "
                                                   f"(to {process_label(k, busy.receiver)}, sent at "
                                                   f"{fmt_ns(busy.sent_at)}); one at a time")
        if state == "stale":
            why = (f"no live process has identifier {pd}" if self.ipcmgr.raw else
                   f"pd {pd} of {p.name} is stale (its peer restarted, faulted or terminated)")
            return self._refuse(p, ErrorCode.NODEVICE, why)
        receiver = k.lookup(peer)
        sender_pd = self.ipcmgr.number_for(receiver, p)
        if sender_pd is None:
            return self._refuse(p, ErrorCode.NODEVICE, f"{receiver.name} has closed its descriptor for "
                                                       f"{p.name} (it hung up)")
        try:
            sg = k.enter_grant(p, self)
            k.enter_grant(receiver, self)
        except GrantError:
            return self._refuse(p, ErrorCode.NOMEM, "the mailbox grant of the sender or the receiver "
                                                    "cannot be allocated")
        _, length = k.ro_buffer(p, self, 0)
        self._seq += 1
        m = Message(self._seq, p.pid, receiver.pid, pd, sender_pd, length, k.now)
        sg.data.outgoing = m
        self._by_sender[p.pid] = m
        self._by_receiver.setdefault(receiver.pid, []).append(m)
        self._stats["sent"] += 1
        k.note(f"mailbox: {p.name} → {receiver.name}: {length}-byte message waiting (no bytes moved yet; "
               f"copied from {p.name}'s RO allow when {receiver.name} reads)", p)
        k.schedule_upcall(receiver, self.driver_num, MESSAGE_WAITING, m.upcall_args)
        return SyscallReturn.success()

    # -- read ----------------------------------------------------------------------
    def _read(self, p: Process, pd: int) -> SyscallReturn:
        k = self.kernel
        want: ProcessId | None = None
        if pd != 0:
            state, want = self.ipcmgr.resolve(p, pd)
            if state == "not_open":
                return self._refuse(p, ErrorCode.INVAL, f"{p.name} reads from pd {pd}, which is not open")
        waiting = self._by_receiver.get(p.pid, [])
        m = None
        for cand in list(waiting):
            if not self.crash_notify and not self.alive(cand.sender):
                # No crash callback told us: this is where the Mailbox finds the sender gone.
                self._finish(cand, "dropped")
                k.note(f"mailbox: the message from {process_label(k, cand.sender)} is dropped at read: "
                       f"its sender is gone and its RO allow with it (crash_notify is off)", p)
                continue
            if pd == 0 or cand.sender == want:
                m = cand
                break
        if m is None:
            src = "" if pd == 0 else f" from pd {pd}"
            return self._refuse(p, ErrorCode.NODEVICE, f"no message waiting for {p.name}{src}")
        s_addr, s_len = k.ro_buffer(m.sender, self, 0)
        r_addr, r_len = k.rw_buffer(p, self, 0)
        n = min(s_len, r_len)
        data = k.read_buffer(m.sender, s_addr, n)
        k.write_buffer(p, r_addr, data)
        k.charge_copy(n)
        self._finish(m, "read")
        self._stats["bytes copied"] += n
        latency = k.now - m.sent_at
        self._stats["latency sum"] += latency
        self._stats["latency max"] = max(self._stats["latency max"], latency)
        whole = n == s_len
        if not whole:
            self._stats["truncated"] += 1
        k.note(f"mailbox: {p.name} read {n} of {s_len} bytes from {process_label(k, m.sender)} "
               f"({'whole' if whole else 'truncated: RW allow 0 holds ' + str(r_len)}), "
               f"{fmt_ns(latency)} after the send", p)
        status = 0 if whole else int(ErrorCode.SIZE)
        k.schedule_upcall(m.sender, self.driver_num, SEND_DONE, (status, m.receiver_pd, n))
        if whole:
            return SyscallReturn.success_u32_u32(n, m.sender_pd)
        return SyscallReturn.failure_u32_u32(ErrorCode.SIZE, n, m.sender_pd)

    # -- cancel --------------------------------------------------------------------
    def _cancel(self, p: Process) -> SyscallReturn:
        m = self._by_sender.get(p.pid)
        if m is None:
            return self._refuse(p, ErrorCode.INVAL, f"{p.name} has no message in flight to cancel")
        self._withdraw(m, "cancelled")
        return SyscallReturn.success()

    _WHY = {"cancelled": "cancelled", "withdrawn": "withdrawn: its sender died",
            "failed": "failed: the receiver closed its descriptor for the sender",
            "dropped": "dropped: its sender is gone"}

    def _withdraw(self, m: Message, outcome: str) -> None:
        """Take a message back before it is read; its "message waiting" upcall goes too if undelivered."""
        k = self.kernel
        self._finish(m, outcome)
        receiver = k.lookup(m.receiver)
        removed = receiver is not None and k.remove_upcall(receiver, UpcallId(self.driver_num, MESSAGE_WAITING),
                                                           m.upcall_args)
        k.note(f"mailbox: the message from {process_label(k, m.sender)} to {process_label(k, m.receiver)} "
               f"is {self._WHY[outcome]}"
               + ("; its undelivered 'message waiting' upcall was removed" if removed else ""),
               k.lookup(m.sender))

    def _finish(self, m: Message, outcome: str) -> None:
        """A message leaves flight: both indexes forget it and its outcome is counted once."""
        if self._by_sender.get(m.sender) is m:
            del self._by_sender[m.sender]
        lst = self._by_receiver.get(m.receiver)
        if lst is not None:
            lst.remove(m)
            if not lst:
                del self._by_receiver[m.receiver]
        g = self.kernel.grant_of(m.sender, self)
        if g is not None and g.data.outgoing is m:
            g.data.outgoing = None
        self.outcomes[m.seq] = outcome
        self._stats[outcome] += 1

    def _descriptor_closed(self, holder: Process, pd: int, peer: ProcessId) -> None:
        """``holder`` closed ``pd`` (naming ``peer``): settle the messages that travel through it.

        Once closed, the number may be handed out again for another peer, so
        no later upcall or read result may carry it for the old one. The
        holder's own message sent through it is withdrawn as if cancelled (it
        asked); a message from that peer waiting for the holder fails as a send
        to a receiver that hung up would: NODEVICE to its sender.
        """
        k = self.kernel
        own = self._by_sender.get(holder.pid)
        if own is not None and own.receiver_pd == pd:
            self._withdraw(own, "cancelled")
        for m in list(self._by_receiver.get(holder.pid, ())):
            if m.sender != peer:
                continue
            if self.alive(m.sender):
                self._withdraw(m, "failed")
                k.schedule_upcall(m.sender, self.driver_num, SEND_DONE, (int(ErrorCode.NODEVICE), m.receiver_pd, 0))
            else:
                self._withdraw(m, "dropped")

    def alive(self, pid: ProcessId) -> bool:
        """Whether the process instance ``pid`` still exists and has neither faulted nor terminated."""
        q = self.kernel.lookup(pid)
        return q is not None and q.alive

    # ------------------------------------------------------------------ crash callbacks
    def _process_changed(self, p: Process, old: ProcessId, cause: str) -> None:
        if not self.crash_notify:
            return
        self._crash_callback(old, f"{p.name} [{old.identifier}] {cause}")

    def _crash_callback(self, old: ProcessId, what: str) -> None:
        k = self.kernel
        examined = 0
        failed = []
        for m in list(self._by_receiver.get(old, ())):
            examined += 1
            self._finish(m, "failed")
            failed.append(process_label(k, m.sender))
            k.schedule_upcall(m.sender, self.driver_num, SEND_DONE, (int(ErrorCode.NODEVICE), m.receiver_pd, 0))
        own = self._by_sender.get(old)
        if own is not None:
            examined += 1
            self._withdraw(own, "withdrawn")
        # What a scan of every mailbox grant would visit: counted by the kernel, not by scanning here
        # (the callback's own cost must not grow with the number of processes).
        naive = k.grant_holder_count(self)
        self._stats["crash callbacks"] += 1
        self._stats["crash work"] += examined
        self._stats["naive scan work"] += naive
        if examined:
            told = f"; NODEVICE sent to {', '.join(failed)}" if failed else ""
            msgs = "1 message" if examined == 1 else f"{examined} messages"
            k.note(f"mailbox: {what}: {msgs} involved{told} ({examined} examined through the index by "
                   f"receiver; a scan of every mailbox grant would visit {naive})", None)

    def _sweep_orphans(self) -> None:
        """Turning crash_notify on: handle the deaths that happened while it was off, now."""
        dead = {m.receiver for ms in self._by_receiver.values() for m in ms if not self.alive(m.receiver)}
        dead |= {s for s in self._by_sender if not self.alive(s)}
        for pid in sorted(dead, key=lambda x: x.identifier):
            self._crash_callback(pid, f"[{pid.identifier}] (died while crash_notify was off)")

    def _mode_guard(self) -> str | None:
        if self._by_sender:
            return f"{len(self._by_sender)} mailbox message(s) in flight name their peers in the current mode"
        return None

    # ------------------------------------------------------------------ inspection
    def in_flight(self, process: Process | None = None) -> list[Message]:
        """Messages in flight, oldest first; with ``process``, those it sent or will receive."""
        ms = sorted(self._by_sender.values(), key=lambda m: m.seq)
        if process is None:
            return ms
        return [m for m in ms if process.pid in (m.sender, m.receiver)]

    def waiting_for(self, process: Process) -> list[Message]:
        return list(self._by_receiver.get(process.pid, ()))

    def describe_grant(self, data: MailboxApp) -> str:
        m = data.outgoing
        if m is None:
            return "no message in flight"
        return (f"message in flight to {process_label(self.kernel, m.receiver)} (pd {m.receiver_pd}), "
                f"{m.length} B, sent at {fmt_ns(m.sent_at)}")

    # ------------------------------------------------------------------ config
    def config_keys(self) -> dict[str, str]:
        return {"crash_notify": "on" if self.crash_notify else "off"}

    def config_help(self) -> dict[str, str]:
        return {"crash_notify": "on (2025-08): a death fails messages to it (NODEVICE) and withdraws its own; "
                                "off (upstream 2026): senders stay BUSY until they cancel"}

    def set_config(self, key: str, value) -> None:
        if key != "crash_notify":
            raise ValueError(f"mailbox has no setting '{key}' (it has: crash_notify)")
        on = parse_on_off(value, "mailbox.crash_notify")
        was = self.crash_notify
        self.crash_notify = on
        if on and not was:
            self._sweep_orphans()

    def reset(self) -> None:
        self.crash_notify = True
        self._by_receiver.clear()
        self._by_sender.clear()
        self.outcomes.clear()
        self.reset_stats()

    # ------------------------------------------------------------------ stats
    @staticmethod
    def _zero_stats() -> dict[str, int]:
        return {"sent": 0, "read": 0, "truncated": 0, "cancelled": 0, "withdrawn": 0, "failed": 0,
                "dropped": 0, "bytes copied": 0, "latency sum": 0, "latency max": 0, "crash callbacks": 0,
                "crash work": 0, "naive scan work": 0}

    def stats(self) -> dict[str, int | str]:
        """Mailbox figures for ``stats``: label -> value (latencies in virtual time)."""
        s = self._stats
        mean = s["latency sum"] / s["read"] if s["read"] else 0
        return {
            "messages sent": s["sent"], "read": s["read"], "truncated": s["truncated"],
            "cancelled": s["cancelled"], "withdrawn (sender died)": s["withdrawn"],
            "failed (receiver died or hung up)": s["failed"], "dropped (sender gone, crash_notify off)": s["dropped"],
            "in flight": len(self._by_sender), "bytes copied": s["bytes copied"],
            "latency send→read mean": fmt_ns(mean), "latency send→read max": fmt_ns(s["latency max"]),
            "crash callbacks": s["crash callbacks"],
            "crash-callback work (entries examined)": s["crash work"],
            "naive scan of every mailbox grant": s["naive scan work"],
        }

    def reset_stats(self) -> None:
        self._stats = self._zero_stats()


def _factory(board) -> Mailbox:
    mgr = board.driver("ipcmgr")
    if mgr is None:
        raise RuntimeError("the Mailbox needs the IPC Manager on the board (ipcmgr)")
    return Mailbox(mgr)


def _register_capsule() -> None:
    from .. import board as board_mod
    from . import ipc_manager  # noqa: F401 - the Mailbox's factory needs the IPC Manager before it

    if not any(name == "mailbox" for name, _ in board_mod.EXTRA_CAPSULES):
        board_mod.EXTRA_CAPSULES.append(("mailbox", _factory))


_register_capsule()
