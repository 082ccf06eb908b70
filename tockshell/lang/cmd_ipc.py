"""The IPC statements: ``policy``, ``descriptors p``, ``services``, ``mailbox [p]``, legacy shares in ``process p``.

::

    policy register NAME allow LIST     # who may register NAME (package names, 0xSHORTID, any)
    policy clients NAME allow LIST      # who may discover NAME
    descriptors p                       # p's process-descriptor table and where its blocks sit
    services                            # IPC Manager registrations with their policies
    mailbox [p]                         # Mailbox messages in flight (sent by or to p)

The capsules hold the state (tockshell/capsules/ipc_manager.py, mailbox.py,
ipc_legacy.py); this module only turns statements into their calls and their
state into text. Process fields ``p.descriptors``, ``p.descriptor_bytes``,
``p.inbox`` and ``p.mpu_regions`` make the same state usable in ``expect``.
"""

from __future__ import annotations

from ..capsules.ipc_common import BoardPolicy, process_label
from ..shell import render
from . import ast
from .commands import board_hook, process_field, statement
from .values import format_time, show

#: `help policy` etc. (synopsis, summary, example, details), read by tockshell.lang.help.
HELP = {
    "policy": ("policy register|clients NAME allow LIST",
               "board policies of the IPC Manager: who may register NAME, who may discover it",
               "policy clients echo allow echo_client, 0x2a",
               "LIST: package names (a spawned process's package defaults to its name), ShortIds (0x...), "
               "or any.\nA refused registration gets FAIL; a refused discovery gets NODEVICE, exactly as if "
               "the service did not exist.\nThe trace and `explain` name the rule that refused. A new "
               "statement for the same NAME replaces the old rule."),
    "descriptors": ("descriptors PROCESS",
                    "a process's descriptor table: pd, peer, ProcessId, live/stale, blocks in its grant region",
                    "descriptors client",
                    "Tables are custom grant blocks of the IPC Manager (8 B header + 8 B per entry), grown by "
                    "doubling;\nthe old block stays allocated (Tock never frees grant memory) and is shown as "
                    "wasted.\nconfig ipcmgr.descriptors = dynamic | fixed(N) | raw", "spawn client"),
    "services": ("services", "IPC Manager registrations and the board policies for each name", "services", ""),
    "mailbox": ("mailbox [PROCESS]", "Mailbox messages in flight: sender, receiver, length, age",
                "mailbox server",
                "A message is only metadata until its receiver reads it: the bytes are copied once, from the "
                "sender's RO allow 0\nstraight into the receiver's RW allow 0. config mailbox.crash_notify = on "
                "| off", "spawn server"),
}


def _ipcmgr(s, n):
    d = s.board.driver("ipcmgr")
    if d is None or not hasattr(d, "set_policy"):
        raise s.error(n, f"board '{s.board.name}' has no IPC Manager (ipcmgr)")
    return d


def _mailbox(s, n):
    d = s.board.driver("mailbox")
    if d is None or not hasattr(d, "in_flight"):
        raise s.error(n, f"board '{s.board.name}' has no Mailbox")
    return d


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Left-aligned columns, one leading space, trailing blanks trimmed."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [" " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]


# ------------------------------------------------------------------ policy

def _policy_item(s, e):
    if isinstance(e, ast.Number):
        return e.value
    if isinstance(e, ast.String):
        return e.text
    if isinstance(e, ast.Name):
        return e.name
    raise s.error(e, "a policy lists package names, ShortIds (0x...) or any")


def _glued(a, b) -> bool:
    """``a`` ends where ``b`` starts: ``x"00"`` read as the word ``x`` and the string ``"00"``."""
    pa, pb = getattr(a, "pos", None), getattr(b, "pos", None)
    return pa is not None and pb is not None and (pa.end_line, pa.end_column) == (pb.line, pb.column)


def _check_names(s, allow) -> None:
    """Refuse bytes literals and strings that no package name could be, at the item."""
    for i, e in enumerate(allow):
        nxt = allow[i + 1] if i + 1 < len(allow) else None
        if isinstance(e, ast.Name) and isinstance(nxt, ast.String) and _glued(e, nxt):
            raise s.error(e, f"{e.name}\"{nxt.text}\" is a bytes value, not a name: a policy lists package "
                             f"names (client or \"client\"), ShortIds (0x...) or any")
        if isinstance(e, ast.String) and (not e.text.isprintable() or any(c.isspace() for c in e.text)):
            raise s.error(e, f"{show(e.text)} is not a package name (names have no blanks or control "
                             f"characters): a policy lists package names, ShortIds (0x...) or any")


@statement(ast.Policy)
def _policy(s, n: ast.Policy):
    mgr = _ipcmgr(s, n)
    _check_names(s, n.allow)
    items = [_policy_item(s, e) for e in n.allow]
    for e, item in zip(n.allow, items):
        try:
            BoardPolicy([item])  # point at the item a malformed list trips on
        except ValueError as err:
            raise s.error(e, str(err)) from None
    try:
        policy = mgr.set_policy(n.kind, n.service, items)
    except ValueError as e:
        raise s.error(n, str(e)) from None
    verb = "register" if n.kind == "register" else "discover"
    s.say(f"policy: only {policy} may {verb} {show(n.service)}" if not policy.any else
          f"policy: any process may {verb} {show(n.service)}")
    return None


# ------------------------------------------------------------------ descriptors

def _stale_reason(k, pid) -> str:
    q = k.processes[pid.index] if 0 <= pid.index < len(k.processes) else None
    if q is None:
        return "its slot is empty"
    if q.identifier != pid.identifier:
        return f"{q.name} restarted: slot {pid.index} now holds [{q.identifier}]"
    return f"{q.name} is {q.state.name}"


def descriptors_text(s, p) -> str:
    """``descriptors p``."""
    k = s.kernel
    mgr = s.board.driver("ipcmgr")
    head = f"{p.name} [{p.identifier}]: process descriptors (ipcmgr.descriptors = {mgr.mode_text})"
    if mgr.raw:
        return (f"{head}\n no tables in raw mode: apps name peers by raw ProcessId identifiers (as p.pid shows "
                f"them), so any process can reach any identifier it guesses")
    if not p.alive:
        return f"{head}\n {p.name} is {p.state.name}: its grant region, and the table in it, were reclaimed"
    t = mgr.table_of(p)
    if t is None:
        return (f"{head}\n no table yet: the first discovery {p.name} takes part in (on either side) allocates "
                f"one in its grant region")
    lines = [head]
    items = t.open_items()
    if items:
        rows = []
        for pd, e in items:
            live = mgr.is_live(e.peer)
            rows.append((str(pd), e.peer_name, f"[{e.peer.identifier}] slot {e.peer.index}",
                         "live" if live else f"stale ({_stale_reason(k, e.peer)})",
                         format_time(e.opened_at)))
        lines += _table(("pd", "peer", "ProcessId", "state", "opened"), rows)
    else:
        lines.append(" no descriptor open (closed ones leave their slots free for reuse, lowest first)")
    lines.append(f" blocks in {p.name}'s grant region (Tock's grant allocator never frees them):")
    for b in t.blocks:
        role = ("left behind by regrowth (wasted)" if b.retired else
                f"current: {t.open_count} of {b.capacity} entries open")
        lines.append(f"  {b.address:#x}  {b.size:>4} B  {b.capacity:>3} entries  {role}")
    lines.append(f" {t.bytes_total} B of grant region for the table, {t.bytes_wasted} B wasted by regrowth; "
                 f"{p.name} has {p.kernel_memory_break - p.app_break} B left between its app break and its "
                 f"kernel memory break")
    return "\n".join(lines)


@statement(ast.ShowDescriptors)
def _descriptors(s, n: ast.ShowDescriptors):
    _ipcmgr(s, n)
    s.say(descriptors_text(s, s.process(n.process)))
    return None


# ------------------------------------------------------------------ services

def services_text(s) -> str:
    """``services``: registrations, then board policies for names nobody holds."""
    mgr = s.board.driver("ipcmgr")

    def policy(kind, name):
        p = mgr.policies.get((kind, name))
        return "anyone (default)" if p is None else str(p)

    regs = mgr.registrations()
    lines = [f"IPC Manager services (ipcmgr.descriptors = {mgr.mode_text})"]
    if regs:
        for name, p, at in regs:
            lines.append(f" {show(name.decode('utf-8', 'backslashreplace'))}: {p.name} [{p.identifier}], "
                         f"registered at {format_time(at)}")
            lines.append(f"    register: {policy('register', name)};  clients: {policy('clients', name)}")
    else:
        lines.append(" no service registered (command ipcmgr 1 registers the name in RO allow 0)")
    held = {name for name, _, _ in regs}
    orphans = sorted({name for _, name in mgr.policies} - held)
    for name in orphans:
        lines.append(f" {show(name.decode('utf-8', 'backslashreplace'))}: not registered")
        lines.append(f"    register: {policy('register', name)};  clients: {policy('clients', name)}")
    legacy = s.board.driver("ipc")
    if legacy is not None and hasattr(legacy, "shares"):
        lines.append(" legacy IPC (0x10000) has no registrations: a client discovers any process by its TBF "
                     "package name")
    return "\n".join(lines)


@statement(ast.ShowServices)
def _services(s, n):
    _ipcmgr(s, n)
    s.say(services_text(s))
    return None


# ------------------------------------------------------------------ mailbox

def mailbox_text(s, p=None) -> str:
    """``mailbox [p]``."""
    k = s.kernel
    mb = s.board.driver("mailbox")
    ms = mb.in_flight(p)
    scope = "" if p is None else f" sent by or to {p.name}"
    head = (f"mailbox: {len(ms)} message{'s' if len(ms) != 1 else ''} in flight{scope} "
            f"(mailbox.crash_notify = {'on' if mb.crash_notify else 'off'})")
    if not ms:
        return head
    rows = []
    for m in ms:
        note = ""
        if not mb.alive(m.receiver):
            note = "receiver gone: the sender stays BUSY until it cancels"
        elif not mb.alive(m.sender):
            note = "sender gone: dropped at the receiver's next read"
        rows.append((process_label(k, m.sender), process_label(k, m.receiver), f"{m.length} B",
                     format_time(m.sent_at), format_time(k.now - m.sent_at), str(m.receiver_pd),
                     str(m.sender_pd), note))
    lines = [head, *_table(("sender", "receiver", "length", "sent", "age", "pd used",
                            "sender's pd at receiver", ""), rows)]
    lines.append(" (no bytes have moved: each is copied from the sender's RO allow 0 when the receiver reads)")
    return "\n".join(lines)


@statement(ast.ShowMailbox)
def _show_mailbox(s, n: ast.ShowMailbox):
    _mailbox(s, n)
    p = s.process(n.process) if n.process is not None else None
    s.say(mailbox_text(s, p))
    return None


# ------------------------------------------------------------------ process p: legacy shares

def legacy_lines(s, p) -> list[str]:
    """The legacy IPC part of ``process p``: buffers it shares, regions IPC mapped for it."""
    legacy = s.board.driver("ipc")
    if legacy is None or not hasattr(legacy, "shares"):
        return []
    sh = legacy.shares(p)
    if not sh["shared"] and not sh["mapped"]:
        return []
    lines = [" legacy IPC (0x10000):"]
    for idx, peer, addr, length in sh["shared"]:
        who = f"{peer} (index {idx})" if peer else f"index {idx} (no process there)"
        lines.append(f"  shares RW allow {idx}: {addr:#x}, {length} bytes with {who}")
    if sh["mapped"]:
        from ..capsules.ipc_legacy import MPU_REGION_SLOTS

        lines.append(f"  MPU regions added by IPC: {len(sh['mapped'])} of {MPU_REGION_SLOTS} slots "
                     f"(never removed; a full set silently maps nothing more)")
        for addr, length, owner in sh["mapped"]:
            lines.append(f"   {addr:#x}+{length}  in {owner or '?'}'s memory")
    return lines


render.PROCESS_SECTIONS.append(legacy_lines)


# ------------------------------------------------------------------ fields, names

@process_field("descriptors", "open descriptors in its IPC Manager table (stale ones included)")
def _field_descriptors(s, p):
    mgr = s.board.driver("ipcmgr")
    t = mgr.table_of(p) if mgr is not None and hasattr(mgr, "table_of") else None
    return 0 if t is None else t.open_count


@process_field("descriptor_bytes", "grant-region bytes of its descriptor table blocks (wasted ones included)")
def _field_descriptor_bytes(s, p):
    mgr = s.board.driver("ipcmgr")
    t = mgr.table_of(p) if mgr is not None and hasattr(mgr, "table_of") else None
    return 0 if t is None else t.bytes_total


@process_field("inbox", "Mailbox messages waiting for it")
def _field_inbox(s, p):
    mb = s.board.driver("mailbox")
    return len(mb.waiting_for(p)) if mb is not None and hasattr(mb, "waiting_for") else 0


@process_field("mpu_regions", "MPU regions legacy IPC added for it (6 at most, never removed)")
def _field_mpu_regions(s, p):
    return len(p.mpu_regions)


@board_hook
def _names(s) -> None:
    mgr = s.board.driver("ipcmgr")
    if mgr is not None and hasattr(mgr, "registrations"):
        s.name_sources["services"] = lambda: [n.decode("utf-8", "backslashreplace")
                                              for n, _, _ in mgr.registrations()]
