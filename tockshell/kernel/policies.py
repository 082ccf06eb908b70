"""Fault policies (``capsules/system/src/process_policies.rs``)."""

from __future__ import annotations

import enum


class FaultAction(enum.Enum):
    PANIC = "Panic"
    RESTART = "Restart"
    STOP = "Stop"


class FaultPolicy:
    """``ProcessFaultPolicy``: decides what a fault does to the process."""

    name = "?"

    def action(self, process) -> FaultAction:  # pragma: no cover - abstract
        raise NotImplementedError

    def __str__(self) -> str:
        return self.name


class PanicFaultPolicy(FaultPolicy):
    name = "panic"

    def action(self, process):
        return FaultAction.PANIC


class StopFaultPolicy(FaultPolicy):
    name = "stop"

    def action(self, process):
        return FaultAction.STOP


class RestartFaultPolicy(FaultPolicy):
    name = "restart"

    def action(self, process):
        return FaultAction.RESTART


class ThresholdRestartFaultPolicy(FaultPolicy):
    """Restart while ``restart_count <= n`` (so n+1 restarts in all), then stop."""

    def __init__(self, threshold: int):
        self.threshold = threshold
        self.name = f"threshold({threshold})"

    def action(self, process):
        return FaultAction.RESTART if process.restart_count <= self.threshold else FaultAction.STOP


class ThresholdRestartThenPanicFaultPolicy(FaultPolicy):
    def __init__(self, threshold: int):
        self.threshold = threshold
        self.name = f"threshold_panic({threshold})"

    def action(self, process):
        return FaultAction.RESTART if process.restart_count <= self.threshold else FaultAction.PANIC


def fault_policy_from(name: str, arg: int | None = None) -> FaultPolicy:
    """Build a policy from its tsh spelling: panic | stop | restart | threshold(N) | threshold_panic(N)."""
    simple = {"panic": PanicFaultPolicy, "stop": StopFaultPolicy, "restart": RestartFaultPolicy}
    if name in simple:
        if arg is not None:
            raise ValueError(f"fault policy '{name}' takes no argument")
        return simple[name]()
    if name in ("threshold", "threshold_panic"):
        if arg is None or arg < 0:
            raise ValueError(f"fault policy '{name}' needs a restart count, e.g. {name}(3)")
        return (ThresholdRestartFaultPolicy if name == "threshold" else ThresholdRestartThenPanicFaultPolicy)(arg)
    raise ValueError(f"unknown fault policy '{name}' (panic, stop, restart, threshold(N), threshold_panic(N))")
