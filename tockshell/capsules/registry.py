"""The 2026 IPC registries, as Tock's branches code them (reference/tock-ipc.md §2.4).

* **IPC Registry String Name** (``registry_name``, 0xA0000): a process
  registers the 20-byte name in its RO allow 0; clients discover it with the
  same 20 bytes.
* **IPC Registry Package Name** (``registry_pkg``, 0xA0001): a process
  registers its TBF package name (no buffer); clients discover it with an
  arbitrary-length RO allow 0.

Both answer discovery with an upcall carrying an **IPC Identifier**: a u64 whose
lower 32 bits are the ProcessId identifier and upper 32 bits the ShortId (0 for
``LocallyUnique``). It changes on every restart and is forgeable: anybody can
guess it (the TRD says so).

Registration passes a board-level **registration filter** (the
``IpcRegistrationValidationFunction`` / ``RegistrationFilter`` hook of the
branches): :class:`RegistrationPolicy`, set from tsh with
``config registry_name.filter = ...`` or ``policy register NAME allow ...``,
or from Python with any callable. A refusal fails the command with ``FAIL``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ..abi import MASK32, ErrorCode, SyscallReturn
from ..kernel import GrantError, GrantSpec, SyscallDriver

#: ``MAX_STRING_LEN`` of the string-name registry.
MAX_STRING_LEN = 20

# ----------------------------------------------------------------- IPC Identifier
def ipc_identifier(process) -> int:
    """``IpcIdentifier::new_from_processid`` as its u64 encoding: ShortId << 32 | ProcessId identifier."""
    short = process.short_id.value or 0
    return ((short & MASK32) << 32) | (process.identifier & MASK32)


def ipc_id_from_halves(lower: int, upper: int) -> int:
    """``IpcIdentifier::new_from_halves``: every u64 is exactly one identifier."""
    return ((upper & MASK32) << 32) | (lower & MASK32)


def ipc_id_halves(ipc_id: int) -> tuple[int, int]:
    """(lower, upper): how the identifier travels in syscall and upcall arguments."""
    return ipc_id & MASK32, (ipc_id >> 32) & MASK32


def format_ipc_id(ipc_id: int) -> str:
    """``0x0000002a_00000003``: the ShortId half, then the ProcessId half."""
    lo, hi = ipc_id_halves(ipc_id)
    return f"{hi:#010x}_{lo:08x}"


def show_name(name: bytes) -> str:
    """A registered name for people: text without its zero padding, else hex bytes."""
    text = name.rstrip(b"\0")
    try:
        s = text.decode("utf-8")
    except UnicodeDecodeError:
        s = None
    if s is not None and s.isprintable() and b"\0" not in text:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return 'x"' + " ".join(f"{b:02x}" for b in name) + '"'


# ----------------------------------------------------------------- registration filter
def _principals(value: Any, what: str) -> tuple:
    """Parse an allow list: package names (str), ShortIds (int) or ``any``."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        items: Iterable = (value,)
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise ValueError(f"{what}: expected package names, ShortIds (0x...) or 'any', not {value!r}")
    out = []
    for it in items:
        if isinstance(it, bool) or not isinstance(it, (str, int)):
            raise ValueError(f"{what}: '{it}' is neither a package name nor a ShortId")
        if isinstance(it, int) and not 0 < it <= MASK32:
            raise ValueError(f"{what}: ShortId {it:#x} is out of range (1..0xffffffff)")
        if isinstance(it, str) and not it:
            raise ValueError(f"{what}: an empty package name never matches")
        out.append(it)
    if not out:
        raise ValueError(f"{what}: the allow list is empty")
    return tuple(out)


def _allowed(process, principals: tuple) -> bool:
    for it in principals:
        if it == "any":
            return True
        if isinstance(it, int):
            if process.short_id.value == it:
                return True
        elif process.package == it:
            return True
    return False


class RegistrationPolicy:
    """The board's registration filter for one registry capsule.

    Three layers, all of which must allow a registration:

    * ``mode``: ``null`` (Tock's ``IpcStringNameRegistrationFilterNull``:
      everything passes; the default), ``deny`` (nothing passes) or an allow
      list of package names / ShortIds that may register any name;
    * per-name rules from ``policy register NAME allow LIST``;
    * ``function``: a Python callable ``(process, name: bytes) -> ErrorCode | None``
      (the ``IpcRegistrationValidationFunction`` of ``dev/ipc/validation-function``).
    """

    def __init__(self) -> None:
        self.mode: str | tuple = "null"
        self.rules: dict[bytes, tuple] = {}
        self.function: Callable[[Any, bytes], ErrorCode | None] | None = None

    def describe_mode(self) -> str:
        if isinstance(self.mode, tuple):
            return ", ".join(f"{x:#x}" if isinstance(x, int) else x for x in self.mode)
        return self.mode

    def set_mode(self, value: Any) -> None:
        if callable(value):
            self.function = value
            return
        if value is None or value is False or value in ("null", "none", "off"):
            self.mode = "null"
        elif value == "deny":
            self.mode = "deny"
        else:
            self.mode = _principals(value, "filter")

    def add_rule(self, name: bytes, allow: Any) -> None:
        self.rules[name] = _principals(allow, f"policy register {show_name(name)}")

    def check(self, process, name: bytes, key: bytes | None = None) -> tuple[ErrorCode | None, str]:
        """(None, "") if the registration may go ahead, else (error, the rule that refused)."""
        if self.mode == "deny":
            return ErrorCode.FAIL, "the board's filter denies every registration"
        if isinstance(self.mode, tuple) and not _allowed(process, self.mode):
            return ErrorCode.FAIL, f"the board's filter allows only {self.describe_mode()}"
        rule = self.rules.get(name if key is None else key)
        if rule is not None and not _allowed(process, rule):
            return (ErrorCode.FAIL, "board policy 'register " + show_name(name if key is None else key)
                    + " allow " + ", ".join(f"{x:#x}" if isinstance(x, int) else x for x in rule) + "'")
        if self.function is not None:
            try:
                err = self.function(process, name)
            except Exception as exc:  # a user's validator must not crash the kernel model
                return ErrorCode.FAIL, f"the board's validation function raised {type(exc).__name__}: {exc}"
            if err is not None:
                return ErrorCode(err), "the board's validation function refused"
        return None, ""


class RegistryStats:
    """Counters for ``stats``."""

    __slots__ = ("registrations", "refused", "discoveries", "not_found", "failures")

    def __init__(self) -> None:
        self.registrations = 0
        self.refused = 0
        self.discoveries = 0
        self.not_found = 0
        self.failures = 0

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__slots__}


# ----------------------------------------------------------------- the common driver
class _Registry(SyscallDriver):
    """What the two registries share: subscribe 0/1, RO allow 0, the filter, the stats."""

    def __init__(self) -> None:
        self.policy = RegistrationPolicy()
        self._stats = RegistryStats()
        super().__init__()

    # -- Python API ------------------------------------------------------------------
    @property
    def filter(self):
        """The board's validation function (a callable), if any."""
        return self.policy.function

    @filter.setter
    def filter(self, fn) -> None:
        self.policy.function = fn

    def policy_register(self, name: str | bytes, allow: Any) -> None:
        """``policy register NAME allow LIST`` for this registry."""
        self.policy.add_rule(self._policy_key(name), allow)

    def set_policy(self, kind: str, name: str | bytes, items) -> None:
        """The board-policy entry point shared with the IPC Manager (``policy register|clients``).

        ``register`` rules apply at registration. ``clients`` rules are accepted
        and ignored: upstream's registries validate only the registering
        service (comments mark where discovery validation would go; none exists).
        """
        if kind == "register":
            self.policy_register(name, items)
        elif kind != "clients":
            raise ValueError(f"a policy is 'register' or 'clients', not '{kind}'")

    def reset_stats(self) -> None:
        """``stats reset``."""
        self._stats = RegistryStats()

    def _policy_key(self, name: str | bytes) -> bytes:
        return name.encode() if isinstance(name, str) else bytes(name)

    def stats(self) -> dict[str, int]:
        """registrations, refused (by the filter), discoveries, not_found, failures (command errors)."""
        return self._stats.as_dict()

    def reset(self) -> None:
        self._stats = RegistryStats()
        self.policy = RegistrationPolicy()

    def config_keys(self) -> dict[str, str]:
        return {"filter": self.policy.describe_mode()}

    def config_help(self) -> dict[str, str]:
        return {"filter": "board registration filter: null (all pass) | deny | package names and ShortIds "
                          "that may register"}

    def set_config(self, key: str, value) -> None:
        if key != "filter":
            raise ValueError(f"{self.name} has no setting '{key}' (it has: filter)")
        try:
            self.policy.set_mode(value)
        except ValueError as e:
            raise ValueError(f"{self.name}.{e} (use null, deny, or a list of package names and ShortIds)") \
                from None
        return self._filter_meaning()

    def _filter_meaning(self) -> str | None:
        """What the filter now lets through, and which listed principals no live process has (legitimate:
        a process with that package name or ShortId may be loaded later)."""
        mode = self.policy.mode
        if mode == "null":
            return "Tock's null filter: every registration passes"
        if mode == "deny":
            return "no process may register"
        if "any" in mode:
            return "any process may register"
        live = self.kernel.live_processes()
        nobody = [it for it in mode if not any(_allowed(p, (it,)) for p in live)]
        text = f"only {self.policy.describe_mode()} may register"
        if len(mode) == 1 and nobody:
            what = "that ShortId" if isinstance(nobody[0], int) else "that package name"
            text += f"; no process has {what} now"
        elif nobody:
            text += "; no process has " + " or ".join(
                f"ShortId {x:#x}" if isinstance(x, int) else f"package name {x}" for x in nobody) + " now"
        return text

    # -- helpers -----------------------------------------------------------------------
    def _fail(self, err: ErrorCode) -> SyscallReturn:
        self._stats.failures += 1
        return SyscallReturn.failure(err)

    def _discovered(self, pid, server) -> None:
        k = self.kernel
        self._stats.discoveries += 1
        lo, hi = ipc_id_halves(ipc_identifier(server))
        k.schedule_upcall(pid, self.driver_num, 1, (0, lo, hi))

    def _not_found(self, pid, what: str) -> None:
        k = self.kernel
        self._stats.not_found += 1
        p = k.lookup(pid)
        k.note(f"{self.name}: no registered process matches {what}; discovery upcall gets NODEVICE", p)
        k.schedule_upcall(pid, self.driver_num, 1, (int(ErrorCode.NODEVICE), 0, 0))

    def registrations(self) -> list[tuple[Any, str]]:
        """(process, registered name as text) for `services`."""
        raise NotImplementedError


class StringNameApp:
    """Per-process data: the registered 20-byte name (all zero = not registered)."""

    __slots__ = ("registered_name",)

    def __init__(self) -> None:
        self.registered_name = bytes(MAX_STRING_LEN)

    @property
    def registered(self) -> bool:
        return any(self.registered_name)


class IpcRegistryStringName(_Registry):
    """IPC Registry String Name (0xA0000): first come, first served 20-byte names."""

    driver_num = 0xA0000
    name = "registry_name"
    summary = ("IPC registry by 20-byte name: cmd 1 register / 2 discover the name in RO allow 0; "
               "upcall 0 registered, 1 discovered (status, id_lo, id_hi)")

    def make_grant(self):
        # App { registered_name: [u8; 20] }: 2 upcalls, 1 RO allow, no RW allow.
        return GrantSpec(self.driver_num, upcalls=2, allow_ro=1, allow_rw=0,
                         data_size=MAX_STRING_LEN, data_factory=StringNameApp)

    def _policy_key(self, name: str | bytes) -> bytes:
        raw = name.encode() if isinstance(name, str) else bytes(name)
        if not raw or len(raw) > MAX_STRING_LEN:
            raise ValueError(f"a string-name registration is 1 to {MAX_STRING_LEN} bytes, "
                             f"not {len(raw)}")
        return raw.ljust(MAX_STRING_LEN, b"\0")

    def command(self, cmd, arg0, arg1, pid):
        if cmd == 0:
            return SyscallReturn.success()
        if cmd not in (1, 2):
            return SyscallReturn.failure(ErrorCode.NOSUPPORT)
        k = self.kernel
        try:
            g = k.enter_grant(pid, self)
        except GrantError as e:
            return self._fail(e.error_code)
        addr, length = g.allow_ro[0]
        if length != MAX_STRING_LEN:
            k.note(f"{self.name}: RO allow 0 holds {length} bytes; a name is exactly {MAX_STRING_LEN}",
                   k.lookup(pid))
            return self._fail(ErrorCode.SIZE)
        name = k.read_buffer(pid, addr, MAX_STRING_LEN)
        # All zero is the grant's "not registered" value, so it can neither be held nor sought.
        if not any(name):
            k.note(f"{self.name}: a name of {MAX_STRING_LEN} zero bytes is the grant's \"not registered\" value; "
                   f"it can be neither registered nor discovered → INVAL", k.lookup(pid))
            return self._fail(ErrorCode.INVAL)
        return self._register(pid, g, name) if cmd == 1 else self._discover(pid, name)

    def _register(self, pid, g, name: bytes) -> SyscallReturn:
        k = self.kernel
        p = k.lookup(pid)
        for other, og in self.grant_holders():
            if other.pid != pid and og.data.registered_name == name:
                k.note(f"{self.name}: {show_name(name)} is already held by {other.name} "
                       f"(first come, first served)", p)
                return self._fail(ErrorCode.ALREADY)
        err, why = self.policy.check(p, name)
        if err is not None:
            self._stats.refused += 1
            k.note(f"{self.name}: registration of {show_name(name)} by {p.name} refused: {why}", p)
            return self._fail(err)
        g.data.registered_name = name
        self._stats.registrations += 1
        k.schedule_upcall(pid, self.driver_num, 0, (0, 0, 0))
        return SyscallReturn.success()

    def _discover(self, pid, name: bytes) -> SyscallReturn:
        for other, og in self.grant_holders():
            if other.pid != pid and og.data.registered_name == name:
                self._discovered(pid, other)
                return SyscallReturn.success()
        self._not_found(pid, show_name(name))
        return SyscallReturn.success()

    def describe_grant(self, data) -> str:
        if data is None or not data.registered:
            return "not registered"
        return f"registered as {show_name(data.registered_name)}"

    def registrations(self):
        return [(p, show_name(g.data.registered_name)) for p, g in self.grant_holders() if g.data.registered]


class PackageNameApp:
    """Per-process data: whether the process registered its package name."""

    __slots__ = ("is_registered",)

    def __init__(self) -> None:
        self.is_registered = False


class IpcRegistryPackageName(_Registry):
    """IPC Registry Package Name (0xA0001): register the TBF package name, discover by any-length name."""

    driver_num = 0xA0001
    name = "registry_pkg"
    summary = ("IPC registry by TBF package name: cmd 1 register (no buffer) / 2 discover the name in "
               "RO allow 0; upcall 0 registered, 1 discovered (status, id_lo, id_hi)")

    def make_grant(self):
        # App { is_registered: bool }: 2 upcalls, 1 RO allow, no RW allow.
        return GrantSpec(self.driver_num, upcalls=2, allow_ro=1, allow_rw=0, data_size=1,
                         data_factory=PackageNameApp)

    def command(self, cmd, arg0, arg1, pid):
        if cmd == 0:
            return SyscallReturn.success()
        if cmd == 1:
            return self._register(pid)
        if cmd == 2:
            return self._discover(pid)
        return SyscallReturn.failure(ErrorCode.NOSUPPORT)

    def _register(self, pid) -> SyscallReturn:
        k = self.kernel
        p = k.lookup(pid)
        if p is None or not p.package:
            if p is not None:
                k.note(f"{self.name}: {p.name} has no TBF package name", p)
            return self._fail(ErrorCode.NOMEM)
        package = p.package.encode()
        err, why = self.policy.check(p, package)
        if err is not None:
            self._stats.refused += 1
            k.note(f"{self.name}: registration of package {show_name(package)} refused: {why}", p)
            return self._fail(err)
        # Tock enters the grant only now and ignores a failure here: the command
        # has already succeeded, so an out-of-memory registration is silently lost.
        try:
            g = k.enter_grant(pid, self)
        except GrantError:
            k.note(f"{self.name}: {p.name}'s grant could not be allocated; the registration is lost", p)
            return SyscallReturn.success()
        g.data.is_registered = True
        self._stats.registrations += 1
        k.schedule_upcall(pid, self.driver_num, 0, (0, 0, 0))
        return SyscallReturn.success()

    def _sought(self, pid) -> bytes | None:
        """The client's RO allow 0; comparing enters (so allocates) its grant, as Tock's does."""
        k = self.kernel
        try:
            k.enter_grant(pid, self)
        except GrantError:
            return None  # Tock's comparison then reads as "no match"
        addr, length = k.ro_buffer(pid, self, 0)
        return k.read_buffer(pid, addr, length)

    def _discover(self, pid) -> SyscallReturn:
        k = self.kernel
        sought: bytes | None = None
        for other, og in self.grant_holders():
            if other.pid == pid or not og.data.is_registered:
                continue
            if sought is None:
                sought = self._sought(pid)
            # Registered packages are never empty, so an empty allow matches nothing.
            if sought is not None and other.package.encode() == sought:
                self._discovered(pid, other)
                return SyscallReturn.success()
        try:
            k.enter_grant(pid, self)
        except GrantError as e:
            return self._fail(e.error_code)
        if sought is None:
            sought = self._sought(pid) or b""
        self._not_found(pid, f"package {show_name(sought)}" if sought else "an empty name")
        return SyscallReturn.success()

    def describe_grant(self, data) -> str:
        if data is None or not data.is_registered:
            return "not registered"
        return "registered under its package name"

    def registrations(self):
        return [(p, show_name(p.package.encode())) for p, g in self.grant_holders() if g.data.is_registered]


def _string_factory(board) -> IpcRegistryStringName:
    return IpcRegistryStringName()


def _package_factory(board) -> IpcRegistryPackageName:
    return IpcRegistryPackageName()


def _register_with_board() -> None:
    from .. import board as board_mod

    names = {n for n, _ in board_mod.EXTRA_CAPSULES}
    if "registry_name" not in names:
        board_mod.EXTRA_CAPSULES.append(("registry_name", _string_factory))
    if "registry_pkg" not in names:
        board_mod.EXTRA_CAPSULES.append(("registry_pkg", _package_factory))


_register_with_board()
