"""The app runtime: what the kernel drives when a process runs an app program.

The kernel calls four methods (see ``Kernel._deliver_one`` and ``_run_app``):

* ``attach(memory)`` once, at process creation: the MPU-checked view of RAM;
* ``start(pc, (app_start, memory_start, memory_len, app_break))`` when
  ``_start`` is delivered: the runtime then plays libtock-c's crt0 *as real
  syscalls* (memop 0 brk to ``memory_start + min RAM``, memop 10 stack top,
  memop 11 heap start, then the stack pointer), calls ``main`` and, if main
  returns, yields forever, as crt0 does;
* ``upcall(pc, (a0, a1, a2, appdata))`` when a yield delivers an upcall: the
  handler subscribed at ``pc`` runs on top of the interrupted code; when it
  returns, the interrupted yield returns;
* ``resume(value) -> action`` once per scheduler step: ``value`` is the last
  syscall's result and the action is ``("syscall", cls, r0, r1, r2, r3)``,
  ``("compute", ns)``, ``("sp", addr)`` or ``("fault", reason)``;

and ``reset()`` on restart, after which the next ``start`` runs the app from
scratch. An exception escaping the app (an :class:`AppError`, a MemoryFault
from touching memory it does not own, any bug) faults the process: the
kernel catches it around ``resume``.

Handler addresses. Subscribing gives each distinct handler an address in the
app's flash: the init function's address (the ``pc`` of ``start``) plus
``0x10 * k`` for the k-th handler, so the kernel's pointer validity check
holds and traces show stable, real-looking pointers. A handler is identified
by its code (a C function pointer is, too): subscribing another closure of the
same function rebinds that address to the newest closure; appdata tells
instances apart, as in C.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from .libtock import YIELD_WAIT, AppError, Libtock, arity

_MEMOP = 5
HANDLER_STRIDE = 0x10


def crt0_layout(memory_start: int, ram: int) -> tuple[int, int, int]:
    """(stack_top, heap_start, app_break) of libtock-c's crt0 for an app of ``ram`` bytes of RAM.

    The stack sits lowest, at most 2 KiB or half the app RAM; the heap runs
    from the stack top to the break at ``memory_start + min RAM`` (the
    kernel's ``crt0_layout`` says the same for manual processes).
    """
    min_ram = max((ram + 3) // 4 * 4, 32)
    stack = max(32, min(2048, (min_ram // 2 + 7) // 8 * 8))  # at least one exception frame, as the kernel's layout
    top = memory_start + stack
    return top, top, memory_start + min_ram


def _handler_key(fn) -> Any:
    f = getattr(fn, "__func__", None)
    if f is not None:  # a bound method: its function and its object
        return (getattr(f, "__code__", f), id(fn.__self__))
    return getattr(fn, "__code__", fn)


def _deferred_error(exc: BaseException):
    # Raised at the next resume, where the kernel turns it into a fault.
    raise exc
    yield  # pragma: no cover - makes this a generator


def _plain_handler(fn, args):
    res = fn(*args)
    if inspect.isgenerator(res):
        yield from res


def _bad_action_message(action) -> str:
    if isinstance(action, str):
        return (f"the app yielded {action!r}, not a syscall: a one-syscall wrapper is used with "
                f"`yield`, not `yield from`")
    if inspect.isgenerator(action):
        return (f"the app yielded a generator ({action.__qualname__}): a composite wrapper is used "
                f"with `yield from`, not `yield`")
    if action is None:
        return "the app yielded nothing (a bare `yield`): yield a syscall such as `yield tock.yield_wait()`"
    return f"the app yielded {type(action).__name__} {action!r}, which is not a syscall request"


class AppProgram:
    """One app program bound to one process: the generator stack, handler table and crt0.

    ``main`` is a generator function called as ``main(tock, **params)``;
    ``ram`` is the spawn's ``ram`` (the TBF minimum RAM crt0 asks for).
    """

    __slots__ = ("name", "main", "params", "ram", "memory", "tock", "_stack", "_send",
                 "_init_pc", "_addr_of", "_handlers", "starts", "resume")

    def __init__(self, main: Callable, params: dict | None = None, *, name: str | None = None,
                 ram: int = 4096):
        self.name = name or getattr(main, "__name__", "app")
        self.main = main
        self.params = dict(params or {})
        self.ram = ram
        self.memory = None
        self.tock: Libtock | None = None
        self.starts = 0
        self._clear()

    def _clear(self) -> None:
        self._stack: list = []
        self._send = self._not_started
        self.resume = self._resume
        self._init_pc = 0
        self._addr_of: dict = {}
        self._handlers: dict[int, tuple[Callable, bool, int]] = {}

    # ------------------------------------------------------------------ the kernel's protocol
    def attach(self, memory) -> None:
        """The process's RAM as its MPU lets the app see it."""
        self.memory = memory

    def reset(self) -> None:
        """The process restarted: forget everything; the next ``start`` begins anew."""
        for g in self._stack:
            g.close()
        self.tock = None
        self._clear()

    def start(self, pc: int, args) -> None:
        """``_start`` delivered: crt0 and then ``main`` will run from the next ``resume``."""
        for g in self._stack:
            g.close()
        self._clear()
        self.starts += 1
        self._init_pc = pc
        gen = self._crt0(args[1])
        self._stack = [gen]
        self._send = gen.send
        # crt0 never returns and the kernel checks what comes out, so while no handler runs
        # the kernel may resume the generator itself: one Python call less per syscall.
        self.resume = gen.send

    def upcall(self, pc: int, args) -> None:
        """An upcall delivered by a yield: its handler runs from the next ``resume``."""
        entry = self._handlers.get(pc)
        if entry is None:
            gen = _deferred_error(AppError(f"upcall to {pc:#x}, which is not a handler of this app"))
        else:
            fn, is_gen, n = entry
            if is_gen:
                try:
                    gen = fn(*args[:n])
                except Exception as exc:  # noqa: BLE001 - a bad handler signature is an app bug
                    gen = _deferred_error(exc)
            else:
                gen = _plain_handler(fn, args[:n])
        self._stack.append(gen)
        self._send = gen.send
        self.resume = self._resume

    def _resume(self, value):
        """The next action of the app, given the result of its last syscall.

        This is ``resume`` while a handler runs (its end must pop the stack) and
        before ``start``; otherwise ``resume`` is the crt0 generator's ``send``.
        """
        try:
            action = self._send(value)
        except StopIteration:
            return self._handler_returned()
        if action.__class__ is tuple:
            return action
        return ("fault", _bad_action_message(action))

    def _handler_returned(self):
        stack = self._stack
        stack.pop()
        if not stack:
            return ("fault", "the app's main context ended")  # crt0 never returns; defensive
        self._send = stack[-1].send
        if len(stack) == 1:
            self.resume = self._send
        # The interrupted yield returns to the code below the handler.
        return self._resume(None)

    @staticmethod
    def explain_action(action) -> str | None:
        """Why ``action`` (not a tuple) is no syscall request, in an app writer's terms (the kernel asks)."""
        return None if action.__class__ is tuple else _bad_action_message(action)

    @staticmethod
    def _not_started(value):
        raise AppError("the app was resumed before its _start upcall")

    # ------------------------------------------------------------------ crt0
    def _crt0(self, memory_start: int):
        stack_top, heap_start, brk = crt0_layout(memory_start, self.ram)
        r = yield ("syscall", _MEMOP, 0, brk, 0, 0)
        if r is None or not r.is_success:
            yield ("fault", f"crt0: brk to {brk:#x} for {self.ram} bytes of RAM failed ({r})")
            return
        yield ("syscall", _MEMOP, 10, stack_top, 0, 0)
        yield ("syscall", _MEMOP, 11, heap_start, 0, 0)
        yield ("sp", stack_top)
        tock = self.tock = Libtock(self, self.memory, heap_start, brk, self.params)
        res = self.main(tock, **self.params)
        if inspect.isgenerator(res):
            yield from res
        while True:  # libtock-c: main returned, so yield forever; handlers still run
            yield YIELD_WAIT

    # ------------------------------------------------------------------ handler addresses
    def handler_address(self, fn) -> int:
        """The flash address that stands for ``fn`` (0 for None; an int is taken as a raw pointer)."""
        if fn is None:
            return 0
        if isinstance(fn, int):
            return fn
        if not callable(fn):
            raise AppError(f"a handler must be a function, not {type(fn).__name__}")
        key = _handler_key(fn)
        addr = self._addr_of.get(key)
        if addr is None:
            addr = self._init_pc + HANDLER_STRIDE * (len(self._addr_of) + 1)
            self._addr_of[key] = addr
        entry = self._handlers.get(addr)
        if entry is None:
            self._handlers[addr] = (fn, inspect.isgeneratorfunction(fn), arity(fn, 4))
        elif entry[0] is not fn:
            # Same key, same code: the shape is known (inspect.signature is slow, and apps
            # resubscribe in loops).
            self._handlers[addr] = (fn, entry[1], entry[2])
        return addr

    def handler_at(self, addr: int) -> Callable | None:
        """The handler bound to ``addr`` (for debuggers: name a pointer)."""
        e = self._handlers.get(addr)
        return None if e is None else e[0]

    def handler_name(self, addr: int) -> str | None:
        """The name the trace shows for ``addr``: ``app.handler`` (Python's ``<locals>`` left out)."""
        fn = self.handler_at(addr)
        if fn is None:
            return None
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
        return None if name is None else name.replace(".<locals>", "").replace("<lambda>", "lambda")

    @property
    def depth(self) -> int:
        """Handlers running on top of main (0: main, or the crt0 loop, is running)."""
        return max(0, len(self._stack) - 1)

    def __repr__(self) -> str:
        return f"<app {self.name}>"
