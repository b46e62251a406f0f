"""The libvirt driver's free-form diagnostics from a stub domain: state,
memory, vCPU times, and the disks' and vNICs' counters of the domain XML."""
from __future__ import annotations

from typing import Any

import pytest

libvirt = pytest.importorskip("libvirt")

from compute.virt.libvirt import guest  # noqa: E402
from compute.virt.libvirt import state  # noqa: E402

XML = """<domain type='kvm'><devices>
<disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk>
<interface type='bridge'><target dev='tap1234'/></interface>
</devices></domain>"""


class Dom:
    def __init__(self, running: bool = True) -> None:
        self.running = running

    def state(self) -> list[int]:
        return [state.VIR_DOMAIN_RUNNING if self.running else state.VIR_DOMAIN_SHUTOFF, 0]

    def hasManagedSaveImage(self, flags: int) -> int:
        return 0

    def isActive(self) -> int:
        return int(self.running)

    def info(self) -> list[int]:
        return [1, 131072, 131072, 1, 10]

    def vcpus(self) -> tuple[list[tuple[int, int, int, int]], list[Any]]:
        return [(0, 1, 17300000000, 0)], []

    def memoryStats(self) -> dict[str, int]:
        return {"actual": 131072, "rss": 60000}

    def XMLDesc(self, flags: int) -> str:
        return XML

    def blockStats(self, dev: str) -> tuple[int, int, int, int, int]:
        return (112, 262144, 488, 5778432, -1)

    def interfaceStats(self, dev: str) -> tuple[int, ...]:
        if dev != "tap1234":
            raise libvirt.libvirtError("no such interface")
        return (2070139, 26701, 0, 0, 140208, 662, 0, 0)


def test_running_domain() -> None:
    found = guest.diagnostics(Dom())
    assert found["state"] == "running" and found["memory"] == 131072
    assert found["cpu0_time"] == 17300000000
    assert found["memory-actual"] == 131072 and found["memory-rss"] == 60000
    assert (found["vda_read"], found["vda_read_req"], found["vda_write"],
            found["vda_write_req"], found["vda_errors"]) == (262144, 112, 5778432, 488, -1)
    assert found["tap1234_rx"] == 2070139 and found["tap1234_tx_packets"] == 662


def test_stopped_domain_has_no_counters() -> None:
    assert guest.diagnostics(Dom(running=False)) == {"state": "shutdown", "memory": 131072}
