"""Power states as Nova reports them (``OS-EXT-STS:power_state`` is the number)."""
from __future__ import annotations

import enum


class PowerState(enum.IntEnum):
    """What the hypervisor says about a guest; gaps (2, 5) are Nova's retired values."""

    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 6
    SUSPENDED = 7

    @property
    def label(self) -> str:
        """Nova's name for the state (``pending`` for NOSTATE)."""
        return "pending" if self is PowerState.NOSTATE else self.name.lower()


NOSTATE = PowerState.NOSTATE
RUNNING = PowerState.RUNNING
PAUSED = PowerState.PAUSED
SHUTDOWN = PowerState.SHUTDOWN
CRASHED = PowerState.CRASHED
SUSPENDED = PowerState.SUSPENDED
