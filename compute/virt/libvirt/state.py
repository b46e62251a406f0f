"""Libvirt domain states as Nova power states.

Takes libvirt's numeric ``virDomainState`` (what ``virDomain.state()`` and
``info()`` return) or the words ``virsh domstate``/``virsh dominfo`` print.
"""
from __future__ import annotations

from compute.virt import power_state
from compute.virt.power_state import PowerState

# virDomainState values.
VIR_DOMAIN_NOSTATE = 0
VIR_DOMAIN_RUNNING = 1
VIR_DOMAIN_BLOCKED = 2
VIR_DOMAIN_PAUSED = 3
VIR_DOMAIN_SHUTDOWN = 4
VIR_DOMAIN_SHUTOFF = 5
VIR_DOMAIN_CRASHED = 6
VIR_DOMAIN_PMSUSPENDED = 7

LIBVIRT_POWER_STATE: dict[int, PowerState] = {
    VIR_DOMAIN_NOSTATE: power_state.NOSTATE,
    VIR_DOMAIN_RUNNING: power_state.RUNNING,
    # Blocked on a resource is still running as far as users are concerned.
    VIR_DOMAIN_BLOCKED: power_state.RUNNING,
    VIR_DOMAIN_PAUSED: power_state.PAUSED,
    # "in shutdown" reports SHUTDOWN already, as Nova does.
    VIR_DOMAIN_SHUTDOWN: power_state.SHUTDOWN,
    VIR_DOMAIN_SHUTOFF: power_state.SHUTDOWN,
    VIR_DOMAIN_CRASHED: power_state.CRASHED,
    VIR_DOMAIN_PMSUSPENDED: power_state.SUSPENDED,
}

VIRSH_STATES: dict[str, int] = {
    "no state": VIR_DOMAIN_NOSTATE,
    "running": VIR_DOMAIN_RUNNING,
    "idle": VIR_DOMAIN_BLOCKED,
    "blocked": VIR_DOMAIN_BLOCKED,
    "paused": VIR_DOMAIN_PAUSED,
    "in shutdown": VIR_DOMAIN_SHUTDOWN,
    "shut off": VIR_DOMAIN_SHUTOFF,
    "crashed": VIR_DOMAIN_CRASHED,
    "pmsuspended": VIR_DOMAIN_PMSUSPENDED,
}


def power_state_from_libvirt(state: int, has_managed_save: bool = False) -> PowerState:
    """The power state of a domain in libvirt ``state``.

    A shut-off domain with a managed save image is a suspended guest (our
    suspend is ``managedSave``). Unknown values map to NOSTATE.
    """
    if state == VIR_DOMAIN_SHUTOFF and has_managed_save:
        return power_state.SUSPENDED
    return LIBVIRT_POWER_STATE.get(state, power_state.NOSTATE)


def parse_dominfo(text: str) -> dict[str, str]:
    """``virsh dominfo`` output (``Key:   value`` lines) as a dict."""
    info: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            info[key.strip()] = value.strip()
    return info


def power_state_from_virsh(text: str) -> PowerState:
    """The power state in ``virsh domstate`` or ``virsh dominfo`` output.

    :raises: ValueError for a state word libvirt does not print.
    """
    info = parse_dominfo(text)
    if "State" in info:
        word = info["State"]
        managed_save = info.get("Managed save", "no").lower() == "yes"
    else:
        word, managed_save = text.strip().split("(")[0].strip(), False
    try:
        return power_state_from_libvirt(VIRSH_STATES[word.lower()], managed_save)
    except KeyError:
        raise ValueError("unknown domain state %r" % word) from None
