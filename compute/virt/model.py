"""Plain data the node manager hands to virt drivers, and what drivers report back.

Frozen dataclasses rather than ORM rows or RPC payloads: a driver only sees what
it needs to build a guest. ``from_dict`` accepts the wider dicts the manager has
(instance rows, Glance v2 images, network service ports) and ignores the rest.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from compute.virt import power_state

# Linux interface names hold at most 15 bytes (IFNAMSIZ - 1).
MAX_IFNAME = 15
_MAC = re.compile(r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")
# A disk's device name in the guest: /dev/vdb (virtio), /dev/sdb (SCSI), ...
_DISK_DEVICE = re.compile(r"^(?:/dev/)?((?:vd|sd|hd|xvd)[a-z]{1,2})$")

RebootType = Literal["SOFT", "HARD"]
SOFT: RebootType = "SOFT"
HARD: RebootType = "HARD"


def _int(value: Any, default: int = 0) -> int:
    return default if value in (None, "") else int(value)


@dataclasses.dataclass(frozen=True)
class Instance:
    """A server as the driver sees it: identity and size (from its flavor)."""

    uuid: str
    name: str
    memory_mb: int
    vcpus: int
    root_gb: int = 0
    ephemeral_gb: int = 0
    display_name: str = ""
    project_id: str | None = None
    image_ref: str | None = None

    def __post_init__(self) -> None:
        if self.memory_mb <= 0 or self.vcpus <= 0:
            raise ValueError("memory_mb and vcpus must be positive")
        if self.root_gb < 0 or self.ephemeral_gb < 0:
            raise ValueError("root_gb and ephemeral_gb must not be negative")

    @property
    def disk_gb(self) -> int:
        return self.root_gb + self.ephemeral_gb

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Instance:
        """Build from an instance row; ``flavor`` may hold the size instead."""
        flavor: Mapping[str, Any] = data.get("flavor") or {}

        def size(key: str) -> int:
            return _int(data.get(key, flavor.get(key)))

        uuid = str(data["uuid"])
        return cls(uuid=uuid, name=str(data.get("name") or "instance-" + uuid),
                   memory_mb=size("memory_mb"), vcpus=size("vcpus"),
                   root_gb=size("root_gb"), ephemeral_gb=size("ephemeral_gb"),
                   display_name=str(data.get("display_name") or ""),
                   project_id=data.get("project_id"), image_ref=data.get("image_ref"))


@dataclasses.dataclass(frozen=True)
class ImageMeta:
    """The image an instance boots from: format and direct kernel boot settings.

    ``kernel_id``/``ramdisk_id`` name images of the image service; the driver's
    image cache turns them into local files. ``os_command_line`` is Glance's
    property for the kernel command line.
    """

    id: str | None = None
    name: str | None = None
    disk_format: str = "qcow2"
    container_format: str = "bare"
    kernel_id: str | None = None
    ramdisk_id: str | None = None
    os_command_line: str | None = None
    min_ram: int = 0
    min_disk: int = 0
    properties: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def direct_kernel_boot(self) -> bool:
        return self.kernel_id is not None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageMeta:
        """Build from a Glance v2 image (custom properties at the top level) or
        a v1-style dict with a ``properties`` mapping."""
        props: dict[str, Any] = dict(data.get("properties") or {})
        props.update({k: v for k, v in data.items() if k not in _IMAGE_FIELDS})

        def prop(key: str) -> str | None:
            value = data.get(key, props.get(key))
            return None if value in (None, "") else str(value)

        return cls(id=prop("id"), name=prop("name"),
                   disk_format=prop("disk_format") or "qcow2",
                   container_format=prop("container_format") or "bare",
                   kernel_id=prop("kernel_id"), ramdisk_id=prop("ramdisk_id"),
                   os_command_line=prop("os_command_line"),
                   min_ram=_int(data.get("min_ram")), min_disk=_int(data.get("min_disk")),
                   properties={k: str(v) for k, v in props.items()
                               if k not in _IMAGE_PROPS and isinstance(v, (str, int, float))})


_IMAGE_PROPS = ("kernel_id", "ramdisk_id", "os_command_line")
_IMAGE_FIELDS = frozenset({
    "id", "name", "disk_format", "container_format", "min_ram", "min_disk", "properties",
    "status", "visibility", "protected", "size", "virtual_size", "checksum", "os_hash_algo",
    "os_hash_value", "owner", "created_at", "updated_at", "tags", "file", "schema", "self",
    "direct_url", "locations", "os_hidden", "stores"})


@dataclasses.dataclass(frozen=True)
class VIF:
    """One port of the network service plugged into a bridge on this host.

    The tap device is named after the port (``tap`` + 11 characters of its id)
    so that the network agent can find it, as on Nova/Neutron.
    """

    port_id: str
    mac: str
    bridge: str
    mtu: int | None = None
    network_id: str | None = None
    fixed_ips: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _MAC.match(self.mac):
            raise ValueError("invalid MAC address %r" % self.mac)
        if not self.bridge or len(self.bridge) > MAX_IFNAME:
            raise ValueError("invalid bridge name %r" % self.bridge)
        if self.mtu is not None and not 68 <= self.mtu <= 65535:
            raise ValueError("invalid MTU %r" % self.mtu)

    @property
    def tap_name(self) -> str:
        return ("tap" + self.port_id)[:MAX_IFNAME - 1]

    @classmethod
    def from_port(cls, port: Mapping[str, Any], bridge: str,
                  mtu: int | None = None) -> VIF:
        """Build from a network service port (``id``, ``mac_address``, ``fixed_ips``)."""
        ips = tuple(str(ip["ip_address"]) for ip in port.get("fixed_ips") or ())
        return cls(port_id=str(port["id"]), mac=str(port["mac_address"]), bridge=bridge,
                   mtu=mtu, network_id=port.get("network_id"), fixed_ips=ips)


NetworkInfo = Sequence[VIF]


@dataclasses.dataclass(frozen=True)
class BlockDevice:
    """A volume to attach: its device name and block storage's connection info."""

    mount_device: str
    connection_info: Mapping[str, Any]


def disk_target(mountpoint: str) -> str:
    """The target device of ``mountpoint``: ``/dev/vdb`` -> ``vdb``.

    :raises: ValueError for anything but ``[/dev/](vd|sd|hd|xvd)`` + 1-2 letters.
    """
    match = _DISK_DEVICE.match(mountpoint or "")
    if not match:
        raise ValueError("invalid device path %r" % mountpoint)
    return match.group(1)


@dataclasses.dataclass(frozen=True)
class BlockDeviceInfo:
    root_device_name: str = "/dev/vda"
    volumes: tuple[BlockDevice, ...] = ()


@dataclasses.dataclass(frozen=True)
class ConfigDrive:
    """What an instance's config drive holds: the node gathered the documents
    (the metadata API's, :mod:`compute.metadata.content`), the driver writes
    them as an ISO 9660 ``config-2`` image and attaches it read-only."""

    files: tuple[tuple[str, bytes], ...]

    def file(self, name: str) -> bytes | None:
        """The data of ``name`` (``openstack/latest/meta_data.json`` …), None
        when the drive has no such file."""
        return next((data for path, data in self.files if path == name), None)


@dataclasses.dataclass(frozen=True)
class InstanceInfo:
    """What ``get_info`` reports: the power state and the hypervisor's own id."""

    state: power_state.PowerState
    internal_id: str | None = None


@dataclasses.dataclass(frozen=True)
class HostResources:
    """The node's size and use, as the resource tracker reports it."""

    vcpus: int
    memory_mb: int
    local_gb: int
    vcpus_used: int
    memory_mb_used: int
    local_gb_used: int
    hypervisor_type: str
    hypervisor_version: int
    hypervisor_hostname: str
    cpu_info: Mapping[str, Any]
    disk_available_least: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["cpu_info"] = dict(self.cpu_info)
        return data


def version_to_int(version: str) -> int:
    """``9.0.0`` -> 9000000, the integer Nova reports as hypervisor_version."""
    parts = [int(p) for p in version.split(".")[:3]]
    parts += [0] * (3 - len(parts))
    return parts[0] * 1_000_000 + parts[1] * 1_000 + parts[2]
