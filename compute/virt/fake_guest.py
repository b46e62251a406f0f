"""The fake driver's guests, and how a fake node keeps them across a restart.

A fake node may name a file (``[fake_driver] guests_file``): it writes its
guests there when it stops cleanly and reads them back when it starts, as a
libvirt host keeps its persistent domains over a restart of the compute node.
That is what lets tests see what a node finds on its hypervisor after a
restart (the leftovers of an evacuated instance). A node killed outright keeps
nothing, like a host that lost power.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any

from compute.virt import model
from compute.virt import power_state
from compute.virt.power_state import PowerState

# A long-lived guest must not grow its console without bound.
CONSOLE_LINES = 200


@dataclasses.dataclass
class FakeGuest:
    """One guest of a fake node; ``console`` holds its serial output."""

    instance: model.Instance
    image_meta: model.ImageMeta
    network_info: tuple[model.VIF, ...]
    block_device_info: model.BlockDeviceInfo | None
    domain_id: int
    state: PowerState = power_state.RUNNING
    console: collections.deque[str] = dataclasses.field(
        default_factory=lambda: collections.deque(maxlen=CONSOLE_LINES))
    #: target device ("vdb") -> connection info, of the attached volumes.
    volumes: dict[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)

    @property
    def root_target(self) -> str:
        bdi = self.block_device_info or model.BlockDeviceInfo()
        return model.disk_target(bdi.root_device_name)


def to_dict(guest: FakeGuest) -> dict[str, Any]:
    """The guest as JSON-ready data (:func:`from_dict` reads it back)."""
    bdi = guest.block_device_info
    return {
        "instance": dataclasses.asdict(guest.instance),
        "image_meta": dict(dataclasses.asdict(guest.image_meta),
                           properties=dict(guest.image_meta.properties)),
        "network_info": [dict(dataclasses.asdict(v), fixed_ips=list(v.fixed_ips))
                         for v in guest.network_info],
        "block_device_info": None if bdi is None else {
            "root_device_name": bdi.root_device_name,
            "volumes": [{"mount_device": v.mount_device,
                         "connection_info": dict(v.connection_info)} for v in bdi.volumes]},
        "domain_id": guest.domain_id, "state": int(guest.state),
        "console": list(guest.console),
        "volumes": {k: dict(v) for k, v in guest.volumes.items()},
    }


def from_dict(data: Mapping[str, Any]) -> FakeGuest:
    """:raises: KeyError, TypeError, ValueError for data :func:`to_dict` did not write."""
    bdi = data.get("block_device_info")
    guest = FakeGuest(
        instance=model.Instance(**data["instance"]),
        image_meta=model.ImageMeta(**data["image_meta"]),
        network_info=tuple(model.VIF(**dict(v, fixed_ips=tuple(v.get("fixed_ips") or ())))
                           for v in data.get("network_info") or ()),
        block_device_info=None if bdi is None else model.BlockDeviceInfo(
            root_device_name=bdi["root_device_name"],
            volumes=tuple(model.BlockDevice(**v) for v in bdi.get("volumes") or ())),
        domain_id=int(data["domain_id"]), state=PowerState(int(data["state"])),
        volumes=dict(data.get("volumes") or {}))
    guest.console.extend(str(line) for line in data.get("console") or ())
    return guest


def save(path: str, guests: Mapping[str, FakeGuest]) -> None:
    """Write ``guests`` to ``path`` (atomically: a crash leaves the old file).

    :raises: OSError.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump({uuid: to_dict(g) for uuid, g in guests.items()}, handle)
    os.replace(tmp, path)


def load(path: str) -> dict[str, FakeGuest]:
    """The guests :func:`save` wrote to ``path`` ({} when there is no file).

    :raises: OSError, ValueError (a file that is not what save wrote).
    """
    try:
        with open(path) as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {}
    if not isinstance(data, dict):
        raise ValueError("%s does not hold fake guests" % path)
    try:
        return {str(uuid): from_dict(g) for uuid, g in data.items()}
    except (KeyError, TypeError) as err:
        raise ValueError("%s does not hold fake guests: %s" % (path, err)) from err
