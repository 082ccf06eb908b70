"""Schedulers (``capsules/system/src/scheduler/*.rs``) on virtual time.

A scheduler picks the next process to run among the *schedulable* ones (alive,
``ready()``, and not a manual process that the shell user is driving) and
says how long its timeslice is. The kernel's loop in ``kernel.py`` plays
``do_process``: it charges time, checks the 500 us threshold and reports back
why the process stopped so the scheduler can rotate its list.
"""

from __future__ import annotations

MIN_QUANTA_THRESHOLD_NS = 500_000


class Scheduler:
    name = "?"
    #: Timeslice in ns, or None (cooperative: a dummy timer always reports time left).
    timeslice_ns: int | None = None
    #: Whether continue_process can say no (only then does the loop ask it).
    preemptive = False

    def next(self, kernel):  # pragma: no cover - abstract
        raise NotImplementedError

    def result(self, process, reason: str) -> None:
        """``StoppedExecutingReason``: no_work | expired | preempted | stopped."""

    def continue_process(self, process, kernel) -> bool:
        return True

    def describe(self) -> str:
        return self.name


class RoundRobin(Scheduler):
    """``RoundRobinSched``: process-array order, the process that ran goes to the tail."""

    def __init__(self, timeslice_us: int = 10_000):
        self.timeslice_ns = timeslice_us * 1000
        self.order: list[int] = []  # slot indices, head first
        self._synced: tuple = (None, -1)  # (process list, kernel.process_generation) order was built from
        self.name = f"round_robin({timeslice_us // 1000}ms)" if timeslice_us % 1000 == 0 \
            else f"round_robin({timeslice_us}us)"

    def _sync(self, kernel) -> None:
        # Asked before every scheduling decision: rebuilding the order from a scan of every slot
        # was most of the cost of a decision on a board of hundreds of processes.
        seen = (kernel.processes, getattr(kernel, "process_generation", None))
        if seen[1] is not None and seen[0] is self._synced[0] and seen[1] == self._synced[1]:
            return
        self._synced = seen
        slots = [p.index for p in kernel.processes if p is not None]
        if len(slots) != len(self.order) or set(slots) != set(self.order):
            known = [i for i in self.order if i in slots]
            self.order = known + [i for i in slots if i not in known]

    def next(self, kernel):
        self._sync(kernel)
        procs = kernel.processes
        for i in self.order:
            p = procs[i]
            if kernel.schedulable(p):
                return p
        return None

    def result(self, process, reason):
        if reason in ("no_work", "expired", "stopped") and process.index in self.order:
            self.order.remove(process.index)
            self.order.append(process.index)


class Cooperative(RoundRobin):
    """``CooperativeSched``: round robin with no preemption."""

    def __init__(self):
        super().__init__()
        self.timeslice_ns = None
        self.name = "cooperative"


class Priority(Scheduler):
    """``PrioritySched``: lower slot index = higher priority; a higher-priority ready process preempts."""

    name = "priority"
    timeslice_ns = None
    preemptive = True

    def next(self, kernel):
        for p in kernel.processes:
            if p is not None and kernel.schedulable(p):
                return p
        return None

    def continue_process(self, process, kernel):
        for p in kernel.processes:
            if p is None:
                continue
            if p is process:
                return True
            if kernel.schedulable(p):
                return False
        return True


def scheduler_from(name: str, arg_us: int | None = None) -> Scheduler:
    if name == "round_robin":
        return RoundRobin(arg_us if arg_us is not None else 10_000)
    if name == "cooperative":
        return Cooperative()
    if name == "priority":
        return Priority()
    raise ValueError(f"unknown scheduler '{name}' (round_robin(10ms), cooperative, priority)")
