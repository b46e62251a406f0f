"""Libvirt domain states (numbers and virsh words) as Nova power states."""
from __future__ import annotations

import pytest

from compute.virt import power_state
from compute.virt.libvirt import state

DOMINFO = """Id:             3
Name:           instance-00000001
UUID:           5f8e7c1a-0000-4000-8000-000000000001
OS Type:        hvm
State:          %s
CPU(s):         1
Managed save:   %s
"""


@pytest.mark.parametrize(("libvirt_state", "expected"), [
    (0, power_state.NOSTATE), (1, power_state.RUNNING), (2, power_state.RUNNING),
    (3, power_state.PAUSED), (4, power_state.SHUTDOWN), (5, power_state.SHUTDOWN),
    (6, power_state.CRASHED), (7, power_state.SUSPENDED), (42, power_state.NOSTATE)])
def test_numbers(libvirt_state: int, expected: power_state.PowerState) -> None:
    assert state.power_state_from_libvirt(libvirt_state) == expected


def test_managed_save_is_suspended() -> None:
    assert state.power_state_from_libvirt(5, has_managed_save=True) == power_state.SUSPENDED
    assert state.power_state_from_libvirt(1, has_managed_save=True) == power_state.RUNNING


@pytest.mark.parametrize(("word", "expected"), [
    ("running", power_state.RUNNING), ("idle", power_state.RUNNING),
    ("paused", power_state.PAUSED), ("in shutdown", power_state.SHUTDOWN),
    ("shut off", power_state.SHUTDOWN), ("crashed", power_state.CRASHED),
    ("pmsuspended", power_state.SUSPENDED), ("no state", power_state.NOSTATE)])
def test_virsh_words(word: str, expected: power_state.PowerState) -> None:
    assert state.power_state_from_virsh(word + "\n") == expected
    assert state.power_state_from_virsh(DOMINFO % (word, "no")) == expected


def test_domstate_with_reason() -> None:
    assert state.power_state_from_virsh("shut off (destroyed)\n") == power_state.SHUTDOWN
    assert state.power_state_from_virsh("Paused (user)") == power_state.PAUSED


def test_dominfo_with_managed_save() -> None:
    assert state.power_state_from_virsh(DOMINFO % ("shut off", "yes")) == power_state.SUSPENDED
    info = state.parse_dominfo(DOMINFO % ("running", "no"))
    assert info["Name"] == "instance-00000001" and info["CPU(s)"] == "1"


def test_unknown_word() -> None:
    with pytest.raises(ValueError):
        state.power_state_from_virsh("dancing")
