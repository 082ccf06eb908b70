"""IPC Manager (``ipcmgr``, 0xA0100): register, discover, and process descriptors (ipc-2025.md §1-2).

A service registers a name (RO allow 0); a client discovers it and gets a
*process descriptor*: a small number naming the service in the client's own
table, as a file descriptor names a file. The service gets upcall 0 with the
number naming the client in *its* table. Apps never see a ProcessId, so a
guessed number only ever reaches an entry of the guesser's own table.

Storage is Tock's: each table lives in its holder's grant region as custom
(dynamically sized) grant blocks, 8 bytes of header plus 8 bytes per entry,
written into the process's RAM so ``mem`` shows them:

    header  u16 capacity, u16 entries open, u32 address of the previous block (0: first)
    entry   u32 peer slot index | 0x8000_0000 (open), u32 peer ProcessId identifier; 0, 0 = free

Tock's grant allocator never frees, so a table that regrows (capacity
doubles) leaves its old block behind until the process restarts. The
registered name is copied into the capsule's grant data (``T``): 32 name
bytes, u8 length, 3 padding, u32 address of the table's current block.

``ipcmgr.descriptors = dynamic | fixed(N) | raw`` (``raw``: no tables; the
raw ProcessId identifier is the "descriptor", which shows the forgery problem).
Board policies (``policy register|clients NAME allow ...``) live here too.
"""

from __future__ import annotations

import struct

from ..abi import ErrorCode, SyscallReturn
from ..kernel import CustomGrant, GrantError, GrantSpec, Process, ProcessId, SyscallDriver
from .ipc_common import NAME_MAX, BoardPolicy, parse_call, show_name, who

DRIVER_NUM = 0xA0100
TABLE_HEADER = 8
ENTRY_SIZE = 8
FIRST_CAPACITY = 4
_OPEN_BIT = 0x8000_0000
#: The grant's T: name[32], len u8, pad[3], table pointer u32.
DATA_SIZE = NAME_MAX + 4 + 4


def table_bytes(capacity: int) -> int:
    """Size of a table block holding ``capacity`` entries."""
    return TABLE_HEADER + ENTRY_SIZE * capacity


class Entry:
    """One open descriptor: the peer's ProcessId and when it was opened."""

    __slots__ = ("peer", "peer_name", "opened_at")

    def __init__(self, peer: ProcessId, peer_name: str, opened_at: int):
        self.peer = peer
        self.peer_name = peer_name
        self.opened_at = opened_at


class TableBlock:
    """One custom grant block a table occupies (or occupied, if ``retired`` by a regrowth)."""

    __slots__ = ("grant", "capacity", "retired")

    def __init__(self, grant: CustomGrant, capacity: int):
        self.grant = grant
        self.capacity = capacity
        self.retired = False

    @property
    def address(self) -> int:
        return self.grant.address

    @property
    def size(self) -> int:
        return self.grant.size


class DescriptorTable:
    """A process's descriptor table: ``entries[pd - 1]``, stored in ``blocks[-1]``."""

    __slots__ = ("blocks", "entries")

    def __init__(self) -> None:
        self.blocks: list[TableBlock] = []
        self.entries: list[Entry | None] = []

    @property
    def capacity(self) -> int:
        return len(self.entries)

    @property
    def current(self) -> TableBlock:
        return self.blocks[-1]

    @property
    def bytes_total(self) -> int:
        return sum(b.size for b in self.blocks)

    @property
    def bytes_wasted(self) -> int:
        """Bytes of blocks left behind by regrowth (Tock's grant allocator never frees)."""
        return sum(b.size for b in self.blocks if b.retired)

    @property
    def open_count(self) -> int:
        return sum(1 for e in self.entries if e is not None)

    def free_pd(self) -> int | None:
        for i, e in enumerate(self.entries):
            if e is None:
                return i + 1
        return None

    def entry(self, pd: int) -> Entry | None:
        if 1 <= pd <= len(self.entries):
            return self.entries[pd - 1]
        return None

    def pd_for(self, peer: ProcessId) -> int | None:
        """The descriptor naming exactly this peer instance, if one is open."""
        for i, e in enumerate(self.entries):
            if e is not None and e.peer == peer:
                return i + 1
        return None

    def open_items(self):
        """(pd, entry) for every open descriptor, in pd order."""
        return [(i + 1, e) for i, e in enumerate(self.entries) if e is not None]


class HolderIndex:
    """Who holds a descriptor naming each peer instance: the reverse of every live descriptor table.

    ``by_peer[peer identifier][holder identifier]`` is the set of pds in that
    holder's table naming that peer; ``holders[holder identifier]`` is the
    holder's ProcessId and its ``{pd: peer identifier}``, so a holder whose
    table is wiped leaves the index in time proportional to its own entries.
    Keys are ProcessId identifiers, which Tock never reuses. Kept in step by
    open, close and the process-state hook; a regrowth copies entries to the
    same pds, so it changes nothing here.
    """

    __slots__ = ("by_peer", "holders")

    def __init__(self) -> None:
        self.by_peer: dict[int, dict[int, set[int]]] = {}
        self.holders: dict[int, tuple[ProcessId, dict[int, int]]] = {}

    def add(self, holder: ProcessId, pd: int, peer: ProcessId) -> None:
        """``holder``'s table now has ``pd`` open, naming ``peer``."""
        self.by_peer.setdefault(peer.identifier, {}).setdefault(holder.identifier, set()).add(pd)
        self.holders.setdefault(holder.identifier, (holder, {}))[1][pd] = peer.identifier

    def remove(self, holder: ProcessId, pd: int) -> None:
        """``holder`` closed ``pd``."""
        entry = self.holders.get(holder.identifier)
        if entry is None or pd not in entry[1]:
            return
        peer = entry[1].pop(pd)
        if not entry[1]:
            del self.holders[holder.identifier]
        self._unlink(peer, holder.identifier, pd)

    def drop_holder(self, holder: ProcessId) -> None:
        """``holder``'s table is gone (its grants were wiped): forget every entry it held."""
        entry = self.holders.pop(holder.identifier, None)
        if entry is not None:
            for pd, peer in entry[1].items():
                self._unlink(peer, holder.identifier, pd)

    def _unlink(self, peer: int, holder: int, pd: int) -> None:
        by_holder = self.by_peer[peer]
        pds = by_holder[holder]
        pds.discard(pd)
        if not pds:
            del by_holder[holder]
            if not by_holder:
                del self.by_peer[peer]

    def holders_of(self, peer: ProcessId) -> list[tuple[ProcessId, int]]:
        """(holder, pd) for every holder of a descriptor naming ``peer``: holders in slot order, each with
        its lowest such pd (what ``DescriptorTable.pd_for`` finds first)."""
        by_holder = self.by_peer.get(peer.identifier)
        if not by_holder:
            return []
        out = [(self.holders[h][0], min(pds)) for h, pds in by_holder.items()]
        out.sort(key=lambda item: item[0].index)
        return out


class IpcMgrApp:
    """The IPC Manager's per-process grant data."""

    __slots__ = ("name", "registered_at", "table")

    def __init__(self) -> None:
        self.name: bytes | None = None
        self.registered_at: int | None = None
        self.table: DescriptorTable | None = None


class IpcManager(SyscallDriver):
    """The IPC Manager capsule. Board-level state: the descriptor mode and the board policies."""

    driver_num = DRIVER_NUM
    name = "ipcmgr"
    summary = ("IPC Manager: cmd 1 register / 2 discover the name in RO allow 0, 3 close pd, 4 query pd; "
               "upcall 0 (client_pd, client_short_id, 0)")

    def __init__(self) -> None:
        self.mode = "dynamic"
        self.fixed_size = 8
        #: (kind, name) -> policy; kind is "register" or "clients".
        self.policies: dict[tuple[str, bytes], BoardPolicy] = {}
        #: Callables returning a reason (str) why the descriptor mode may not change now, or None.
        self.mode_change_guards: list = []
        #: Callables ``fn(holder, pd, peer_pid)`` run after a descriptor is closed (the Mailbox settles
        #: messages that travel through it, so a reused number never labels an old message).
        self.close_hooks: list = []
        #: peer -> holders of a descriptor naming it, so a process-state change visits those holders only.
        self._index = HolderIndex()
        self._stats = self._zero_stats()
        super().__init__()

    def make_grant(self):
        return GrantSpec(self.driver_num, upcalls=1, allow_ro=1, allow_rw=0, data_size=DATA_SIZE,
                         data_factory=IpcMgrApp)

    def attach(self, kernel) -> None:
        super().attach(kernel)
        kernel.add_process_state_hook(self._process_changed)

    @property
    def raw(self) -> bool:
        return self.mode == "raw"

    @property
    def mode_text(self) -> str:
        return f"fixed({self.fixed_size})" if self.mode == "fixed" else self.mode

    # ------------------------------------------------------------------ the driver
    def command(self, cmd, arg0, arg1, pid):
        if cmd == 0:
            return SyscallReturn.success()
        if cmd not in (1, 2, 3, 4):
            return SyscallReturn.failure(ErrorCode.NOSUPPORT)
        p = self.kernel.lookup(pid)
        if cmd == 1:
            return self._register(p)
        if cmd == 2:
            return self._discover(p)
        if cmd == 3:
            return self._close(p, arg0)
        return self._query(p, arg0)

    def _refuse(self, p: Process, err: ErrorCode, why: str) -> SyscallReturn:
        self.kernel.note(f"ipcmgr: {why} → {err.name}", p)
        return SyscallReturn.failure(err)

    def _allowed_name(self, p: Process) -> bytes | None:
        """RO allow 0's bytes, or None when nothing is allowed (zero length)."""
        k = self.kernel
        addr, length = k.ro_buffer(p, self, 0)
        if length == 0:
            return None
        return k.read_buffer(p, addr, length)

    def holder_of(self, name: bytes) -> Process | None:
        """The live process that registered ``name``, if any."""
        k = self.kernel
        for q in k.processes:
            if q is not None and q.alive:
                g = k.grant_of(q, self)
                if g is not None and g.data.name == name:
                    return q
        return None

    # -- register ---------------------------------------------------------------
    def _register(self, p: Process) -> SyscallReturn:
        k = self.kernel
        name = self._allowed_name(p)
        if name is None:
            return self._refuse(p, ErrorCode.RESERVE, f"{p.name} registers with nothing in RO allow 0")
        if len(name) > NAME_MAX:
            return self._refuse(p, ErrorCode.SIZE, f"{p.name} registers a {len(name)}-byte name "
                                                   f"(at most {NAME_MAX})")
        holder = self.holder_of(name)
        if holder is not None and holder is not p:
            return self._refuse(p, ErrorCode.ALREADY, f"{show_name(name)} is held by {holder.name} "
                                                      f"[{holder.identifier}] (first come, first served)")
        g = k.grant_of(p, self)
        if g.data.name is not None:
            return self._refuse(p, ErrorCode.ALREADY, f"{p.name} already holds {show_name(g.data.name)} "
                                                      f"(one service per process)")
        policy = self.policies.get(("register", name))
        if policy is not None and not policy.allows(p):
            self._stats["refused by register policy"] += 1
            return self._refuse(p, ErrorCode.FAIL, f"{p.name} may not register {show_name(name)}: refused by "
                                                   f"board policy `policy register {_tsh_name(name)} allow "
                                                   f"{policy}` ({who(p)})")
        g.data.name = name
        g.data.registered_at = k.now
        self._write_data(p, g)
        self._stats["registrations"] += 1
        k.note(f"ipcmgr: {p.name} registered {show_name(name)}", p)
        return SyscallReturn.success()

    # -- discover ----------------------------------------------------------------
    def _discover(self, p: Process) -> SyscallReturn:
        k = self.kernel
        name = self._allowed_name(p)
        if name is None:
            return self._refuse(p, ErrorCode.RESERVE, f"{p.name} discovers with nothing in RO allow 0")
        svc = self.holder_of(name)
        if svc is None:
            return self._refuse(p, ErrorCode.NODEVICE, f"no live process holds {show_name(name)}")
        if svc is p:
            return self._refuse(p, ErrorCode.INVAL, f"{p.name} discovers its own name {show_name(name)}")
        policy = self.policies.get(("clients", name))
        if policy is not None and not policy.allows(p):
            self._stats["refused by clients policy"] += 1
            return self._refuse(p, ErrorCode.NODEVICE, f"discovery of {show_name(name)} by {p.name} refused by "
                                                       f"board policy `policy clients {_tsh_name(name)} allow "
                                                       f"{policy}` ({who(p)}); the client cannot tell this "
                                                       f"from a missing service")
        if self.raw:
            self._stats["discoveries"] += 1
            self._client_connected(svc, p, p.identifier)
            return SyscallReturn.success_u32(svc.identifier)
        cg = k.grant_of(p, self)
        sg = k.grant_of(svc, self)
        pd = cg.data.table.pd_for(svc.pid) if cg.data.table is not None else None
        if pd is not None:
            k.note(f"ipcmgr: {p.name} already holds pd {pd} for {svc.name} [{svc.identifier}]: the same "
                   f"descriptor again", p)
            return SyscallReturn.success_u32(pd)
        svc_pd = sg.data.table.pd_for(p.pid) if sg.data.table is not None else None
        # Both sides are checked before either allocates: Tock's grant allocator cannot give a block back.
        for q, g, needed in ((p, cg, True), (svc, sg, svc_pd is None)):
            if not needed:
                continue
            size = self._block_needed(g.data.table)
            if size is None:
                return self._nomem(p, q, f"{q.name}'s fixed table of {self.fixed_size} entries is full")
            if size and size > q.kernel_memory_break - q.app_break:
                return self._nomem(p, q, f"{q.name}'s grant region has {q.kernel_memory_break - q.app_break} "
                                         f"bytes left above its app break, the table needs a {size}-byte block")
        pd = self._open(p, cg, svc)
        if svc_pd is None:
            svc_pd = self._open(svc, sg, p)
        self._stats["discoveries"] += 1
        k.note(f"ipcmgr: {p.name} discovered {show_name(name)}: pd {pd} in {p.name}'s table names "
               f"{svc.name} [{svc.identifier}]; pd {svc_pd} in {svc.name}'s names {p.name} [{p.identifier}]", p)
        self._client_connected(svc, p, svc_pd)
        return SyscallReturn.success_u32(pd)

    def _nomem(self, p: Process, q: Process, why: str) -> SyscallReturn:
        self._stats["NOMEM"] += 1
        return self._refuse(p, ErrorCode.NOMEM, f"discovery by {p.name} cannot open its descriptors: {why}; "
                                                f"neither side keeps an entry")

    def _client_connected(self, svc: Process, client: Process, client_pd: int) -> None:
        sid = client.short_id.value or 0
        self.kernel.schedule_upcall(svc, self.driver_num, 0, (client_pd, sid, 0))

    def _block_needed(self, table: DescriptorTable | None) -> int | None:
        """Bytes of new block one more entry needs: 0 if a slot is free, None if the table may not grow."""
        if table is None:
            return table_bytes(self.fixed_size if self.mode == "fixed" else FIRST_CAPACITY)
        if table.free_pd() is not None:
            return 0
        if self.mode == "fixed":
            return None
        return table_bytes(2 * table.capacity)

    def _open(self, holder: Process, g, peer: Process) -> int:
        """Open an entry for ``peer`` in ``holder``'s table (room was checked): its pd."""
        k = self.kernel
        app: IpcMgrApp = g.data
        table = app.table
        if table is None or table.free_pd() is None:
            cap = (self.fixed_size if self.mode == "fixed" else FIRST_CAPACITY) if table is None \
                else 2 * table.capacity
            cg = k.allocate_custom_grant(holder, self, table_bytes(cap), f"pd table ({cap})")
            if table is None:
                table = app.table = DescriptorTable()
            else:
                table.current.retired = True
                self._stats["regrowths"] += 1
                k.note(f"ipcmgr: {holder.name}'s descriptor table regrew from {table.capacity} to {cap} entries; "
                       f"the old {table.current.size}-byte block at {table.current.address:#x} stays allocated",
                       holder)
            table.blocks.append(TableBlock(cg, cap))
            table.entries.extend([None] * (cap - len(table.entries)))
            self._stats["table blocks"] += 1
            self._stats["table bytes"] += cg.size
            self._write_data(holder, g)
        pd = table.free_pd()
        table.entries[pd - 1] = Entry(peer.pid, peer.name, k.now)
        self._index.add(holder.pid, pd, peer.pid)
        self._write_table(holder, table)
        return pd

    # -- close, query ------------------------------------------------------------
    def _close(self, p: Process, pd: int) -> SyscallReturn:
        if self.raw:
            return SyscallReturn.success()
        g = self.kernel.grant_of(p, self)
        table = g.data.table if g is not None else None
        if table is None or table.entry(pd) is None:
            return self._refuse(p, ErrorCode.INVAL, f"{p.name} closes pd {pd}, which is not open")
        peer = table.entries[pd - 1].peer
        table.entries[pd - 1] = None
        self._index.remove(p.pid, pd)
        self._write_table(p, table)
        for hook in self.close_hooks:
            hook(p, pd, peer)
        return SyscallReturn.success()

    def _query(self, p: Process, pd: int) -> SyscallReturn:
        if self.raw:
            return SyscallReturn.success_u32(int(self._live_by_identifier(pd) is not None))
        state = self.resolve(p, pd)[0]
        if state == "not_open":
            return self._refuse(p, ErrorCode.INVAL, f"{p.name} queries pd {pd}, which is not open")
        return SyscallReturn.success_u32(1 if state == "live" else 0)

    # ------------------------------------------------------------------ API for the Mailbox
    def _live_by_identifier(self, identifier: int) -> Process | None:
        for q in self.kernel.processes:
            if q is not None and q.identifier == identifier and q.alive:
                return q
        return None

    def resolve(self, holder: Process, number: int) -> tuple[str, ProcessId | None]:
        """What ``number`` names for ``holder``: ('not_open' | 'stale' | 'live' | 'self', peer ProcessId).

        With descriptors, a number is not open, or names a stale or a live
        peer. In raw mode every number is an identifier: a live process's
        ('live'), nobody's ('stale'), or the holder's own ('self').
        """
        if self.raw:
            if number == holder.identifier:
                return "self", holder.pid
            q = self._live_by_identifier(number)
            return ("live", q.pid) if q is not None else ("stale", None)
        g = self.kernel.grant_of(holder, self)
        e = g.data.table.entry(number) if g is not None and g.data.table is not None else None
        if e is None:
            return "not_open", None
        return ("live" if self.is_live(e.peer) else "stale"), e.peer

    def number_for(self, holder: Process, peer: Process) -> int | None:
        """The number ``holder`` uses for this instance of ``peer`` (raw: its identifier), None if none is open."""
        if self.raw:
            return peer.identifier
        g = self.kernel.grant_of(holder, self)
        if g is None or g.data.table is None:
            return None
        return g.data.table.pd_for(peer.pid)

    def is_live(self, peer: ProcessId) -> bool:
        """A descriptor is live while its peer instance exists and has neither faulted nor terminated."""
        q = self.kernel.lookup(peer)
        return q is not None and q.alive

    # ------------------------------------------------------------------ inspection
    def app_of(self, process: Process) -> IpcMgrApp | None:
        g = self.kernel.grant_of(process, self)
        return None if g is None else g.data

    def table_of(self, process: Process) -> DescriptorTable | None:
        app = self.app_of(process)
        return None if app is None else app.table

    def registrations(self) -> list[tuple[bytes, Process, int]]:
        """(name, process, registered_at) of every live registration, in slot order."""
        out = []
        for q in self.kernel.processes:
            app = self.app_of(q) if q is not None else None
            if app is not None and app.name is not None:
                out.append((app.name, q, app.registered_at))
        return out

    def describe_grant(self, data: IpcMgrApp) -> str:
        parts = [f"registered {show_name(data.name)}" if data.name is not None else "no name registered"]
        t = data.table
        if t is None:
            parts.append("no descriptor table")
        else:
            parts.append(f"descriptor table: {t.open_count} open of {t.capacity} at {t.current.address:#x}"
                         + (f", {t.bytes_wasted} B left behind by regrowth" if t.bytes_wasted else ""))
        return "; ".join(parts)

    # ------------------------------------------------------------------ policies
    def set_policy(self, kind: str, name: str | bytes, items) -> BoardPolicy:
        """``policy register|clients NAME allow ITEMS``: replace that rule. ValueError if malformed."""
        if kind not in ("register", "clients"):
            raise ValueError(f"a policy is 'register' or 'clients', not '{kind}'")
        raw = name.encode("utf-8") if isinstance(name, str) else bytes(name)
        if not 1 <= len(raw) <= NAME_MAX:
            raise ValueError(f"a service name is 1 to {NAME_MAX} bytes; {show_name(raw)} is {len(raw)}")
        policy = BoardPolicy(items)
        self.policies[(kind, raw)] = policy
        return policy

    # ------------------------------------------------------------------ config
    def config_keys(self) -> dict[str, str]:
        return {"descriptors": self.mode_text}

    def config_help(self) -> dict[str, str]:
        return {"descriptors": "dynamic (tables grow by doubling) | fixed(N) (N slots, then NOMEM) | raw "
                               "(peers named by raw ProcessId identifiers, no tables)"}

    def set_config(self, key: str, value) -> None:
        if key != "descriptors":
            raise ValueError(f"ipcmgr has no setting '{key}' (it has: descriptors)")
        try:
            mode, arg = parse_call(value)
        except ValueError:
            mode, arg = "?", None
        size = self.fixed_size
        if mode == "fixed":
            if arg is None or not _is_int(arg) or int(arg, 0) < 1 or int(arg, 0) > 0xFFFF:
                raise ValueError("ipcmgr.descriptors = fixed(N) needs a table size N from 1 to 65535, "
                                 "e.g. fixed(8)")
            size = int(arg, 0)
        elif mode not in ("dynamic", "raw") or arg is not None:
            raise ValueError("ipcmgr.descriptors is dynamic, fixed(N) or raw")
        if mode == self.mode and (mode != "fixed" or size == self.fixed_size):
            return  # no change is always fine
        holders = [q.name for q in self.kernel.live_processes() if self.table_of(q) is not None]
        if holders:
            raise ValueError(f"ipcmgr.descriptors cannot change while descriptor tables exist "
                             f"(held by {', '.join(holders)}); restart or terminate those processes first")
        for guard in self.mode_change_guards:
            why = guard()
            if why:
                raise ValueError(f"ipcmgr.descriptors cannot change now: {why}")
        self.mode, self.fixed_size = mode, size

    def reset(self) -> None:
        self.mode = "dynamic"
        self.fixed_size = 8
        self.policies.clear()
        self.reset_stats()

    # ------------------------------------------------------------------ stats
    @staticmethod
    def _zero_stats() -> dict[str, int]:
        return {"registrations": 0, "discoveries": 0, "refused by register policy": 0,
                "refused by clients policy": 0, "NOMEM": 0, "table blocks": 0, "table bytes": 0,
                "regrowths": 0}

    def stats(self) -> dict[str, int | str]:
        """IPC Manager figures for ``stats``: label -> value."""
        out: dict[str, int | str] = {"descriptors": self.mode_text}
        out.update(self._stats)
        return out

    def reset_stats(self) -> None:
        self._stats = self._zero_stats()

    # ------------------------------------------------------------------ RAM images
    def _write_data(self, p: Process, g) -> None:
        app: IpcMgrApp = g.data
        name = app.name or b""
        ptr = app.table.current.address if app.table is not None else 0
        addr = g.address + g.spec.size - DATA_SIZE
        self.kernel.write_buffer(p, addr, name.ljust(NAME_MAX, b"\0") + struct.pack("<B3xI", len(name), ptr))

    def _write_table(self, p: Process, table: DescriptorTable) -> None:
        blk = table.current
        prev = table.blocks[-2].address if len(table.blocks) > 1 else 0
        image = bytearray(struct.pack("<HHI", blk.capacity, table.open_count, prev))
        for e in table.entries:
            image += struct.pack("<II", 0, 0) if e is None else struct.pack("<II", e.peer.index | _OPEN_BIT,
                                                                            e.peer.identifier)
        self.kernel.write_buffer(p, blk.address, bytes(image))

    # ------------------------------------------------------------------ process changes
    def holder_index(self) -> dict[int, dict[int, list[int]]]:
        """peer identifier -> {holder identifier: its pds naming that peer, ascending}, live holders only.

        Exactly what a scan of every live process's table finds (tests compare the two).
        """
        k = self.kernel
        out: dict[int, dict[int, list[int]]] = {}
        for peer, by_holder in self._index.by_peer.items():
            for holder, pds in by_holder.items():
                q = k.lookup(self._index.holders[holder][0])
                if q is not None and q.alive:
                    out.setdefault(peer, {})[holder] = sorted(pds)
        return out

    def stale_holders(self, old: ProcessId) -> list[tuple[Process, int]]:
        """(holder, pd) for every live process whose table names ``old``, in slot order, each holder's
        first such pd: what a scan of every table finds, in the time of ``old``'s holders only."""
        k = self.kernel
        out = []
        for holder, pd in self._index.holders_of(old):
            # A holder that died without its hook firing (a kernel panic) keeps its entries here;
            # its table is out of reach, as a scan would find it.
            q = k.lookup(holder)
            if q is not None and q.alive:
                out.append((q, pd))
        return out

    def _process_changed(self, p: Process, old: ProcessId, cause: str) -> None:
        # The dead instance's own table went with its grants.
        self._index.drop_holder(old)
        # Nothing to do for correctness (staleness is checked at each use); this explains it in the trace.
        if self.raw:
            return
        held = [f"{q.name}'s pd {pd}" for q, pd in self.stale_holders(old)]
        if held:
            self.kernel.note(f"ipcmgr: {p.name} [{old.identifier}] {cause}: {', '.join(held)} "
                             f"now stale (NODEVICE on use)", p)


def _tsh_name(name: bytes) -> str:
    text = name.decode("utf-8", "backslashreplace")
    plain = text and (text[0].isalpha() or text[0] == "_") and all(c.isalnum() or c in "_.-" for c in text)
    return text if plain else show_name(name)


def _is_int(text: str) -> bool:
    try:
        int(text, 0)
    except ValueError:
        return False
    return True


def _factory(board) -> IpcManager:
    return IpcManager()


def _register_capsule() -> None:
    from .. import board as board_mod

    if not any(name == "ipcmgr" for name, _ in board_mod.EXTRA_CAPSULES):
        board_mod.EXTRA_CAPSULES.append(("ipcmgr", _factory))


_register_capsule()
