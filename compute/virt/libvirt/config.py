"""Libvirt domain XML, generated from plain data (no libvirt import).

``GuestConfig`` describes one guest; ``domain_xml`` renders it. Devices render on
their own too (``disk_xml``, ``interface_xml``) because hot-plug
(``attachDeviceFlags``) takes a single device's XML.

Choices that follow from ../shared/ENVIRONMENT.md: the caller picks ``qemu``
(TCG) or ``kvm``; interfaces use the ``qemu`` backend driver because hosts may
have no /dev/vhost-net; the serial console is logged to a file so that
``get_console_output`` works without attaching to the guest.

Interfaces are ``type='ethernet'`` by default: libvirt creates the tap device
(``tap`` + the port id) and leaves it unplugged, and the network service's
bridge agent plugs it into its network's bridge once its filters are in place
(the driver never needs the bridge to exist). ``type='bridge'`` is kept for
bridges that exist before the guest starts.

The ``stratus:`` metadata records the instance's name, project and flavor disk
sizes, so that the driver can account a host's disk from its domains alone.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Literal
from xml.etree import ElementTree as ET

from compute.virt import model

VirtType = Literal["qemu", "kvm"]
ConsoleMode = Literal["pty-log", "file"]
VifType = Literal["ethernet", "bridge"]
VIRT_TYPES: tuple[VirtType, ...] = ("qemu", "kvm")
DISK_FORMATS = ("qcow2", "raw")
STRATUS_NS = "http://stratus.dev/xmlns/libvirt/instance/1.0"


@dataclasses.dataclass(frozen=True)
class GuestDisk:
    """A disk: a local file or block device, or a network (iSCSI) volume."""

    target_dev: str = "vda"
    source_path: str | None = None
    source_type: Literal["file", "block", "network"] = "file"
    driver_type: str = "qcow2"
    bus: str = "virtio"
    device: Literal["disk", "cdrom"] = "disk"
    cache: str | None = None
    read_only: bool = False
    serial: str | None = None
    # Network disks: protocol ("iscsi"), name ("IQN/LUN") and (host, port) pairs.
    protocol: str | None = None
    source_name: str | None = None
    hosts: tuple[tuple[str, int], ...] = ()
    # CHAP for network disks: the user, and the usage name of the libvirt secret
    # (type iscsi) that holds the password.
    auth_username: str | None = None
    auth_secret_usage: str | None = None

    def __post_init__(self) -> None:
        if self.driver_type not in DISK_FORMATS:
            raise ValueError("disk format must be one of %s" % ", ".join(DISK_FORMATS))
        if self.source_type == "network":
            if not (self.protocol and self.source_name and self.hosts):
                raise ValueError("a network disk needs protocol, source_name and hosts")
        elif not self.source_path:
            raise ValueError("a %s disk needs source_path" % self.source_type)
        if bool(self.auth_username) != bool(self.auth_secret_usage):
            raise ValueError("disk authentication needs auth_username and auth_secret_usage")


@dataclasses.dataclass(frozen=True)
class GuestInterface:
    """A virtio NIC on tap device ``tap``: left for the network agent to plug
    (``ethernet``) or enslaved by libvirt to an existing ``bridge``."""

    mac: str
    bridge: str
    tap: str
    mtu: int | None = None
    nic_model: str = "virtio"
    # "qemu" is the userspace virtio backend; "vhost" needs /dev/vhost-net.
    driver_name: str = "qemu"
    vif_type: VifType = "ethernet"

    @classmethod
    def from_vif(cls, vif: model.VIF, vif_type: VifType = "ethernet") -> GuestInterface:
        return cls(mac=vif.mac, bridge=vif.bridge, tap=vif.tap_name, mtu=vif.mtu,
                   vif_type=vif_type)


@dataclasses.dataclass(frozen=True)
class GuestConfig:
    """Everything the domain XML says about one guest.

    Boot is direct kernel boot when ``kernel`` is set (``initrd`` and
    ``cmdline`` optional), else from the first disk. ``cpu_mode`` None means
    ``host-model`` under KVM and QEMU's default CPU under TCG.
    """

    name: str
    uuid: str
    memory_mb: int
    vcpus: int
    virt_type: VirtType = "qemu"
    arch: str = "x86_64"
    machine_type: str | None = None
    kernel: str | None = None
    initrd: str | None = None
    cmdline: str | None = None
    disks: tuple[GuestDisk, ...] = ()
    interfaces: tuple[GuestInterface, ...] = ()
    console_log: str | None = None
    console_mode: ConsoleMode = "pty-log"
    # Keep the log across boots (virtlogd rotates it); off truncates it at each start.
    console_append: bool = True
    vnc_listen: str | None = "127.0.0.1"
    vnc_keymap: str | None = None
    video_model: str = "virtio"
    memballoon: bool = True
    cpu_mode: str | None = None
    display_name: str | None = None
    project_id: str | None = None
    root_gb: int = 0
    ephemeral_gb: int = 0

    def __post_init__(self) -> None:
        if self.virt_type not in VIRT_TYPES:
            raise ValueError("virt_type must be one of %s" % ", ".join(VIRT_TYPES))
        if self.memory_mb <= 0 or self.vcpus <= 0:
            raise ValueError("memory_mb and vcpus must be positive")
        if (self.initrd or self.cmdline) and not self.kernel:
            raise ValueError("initrd and cmdline need a kernel (direct kernel boot)")
        if self.console_mode == "file" and not self.console_log:
            raise ValueError("a file console needs console_log")

    @property
    def direct_kernel_boot(self) -> bool:
        return self.kernel is not None


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _tostring(element: ET.Element) -> str:
    ET.indent(element)
    return ET.tostring(element, encoding="unicode")


def disk_element(disk: GuestDisk) -> ET.Element:
    element = ET.Element("disk", {"type": disk.source_type, "device": disk.device})
    driver = _sub(element, "driver", name="qemu", type=disk.driver_type)
    if disk.cache:
        # "none" (O_DIRECT) is safest but fails on tmpfs: the driver probes and picks.
        driver.set("cache", disk.cache)
    if disk.source_type == "network":
        source = _sub(element, "source", protocol=disk.protocol or "",
                      name=disk.source_name or "")
        for host, port in disk.hosts:
            _sub(source, "host", name=host, port=str(port))
        if disk.auth_username:
            auth = _sub(element, "auth", username=disk.auth_username)
            _sub(auth, "secret", type=disk.protocol or "iscsi",
                 usage=disk.auth_secret_usage or "")
    else:
        attr = "file" if disk.source_type == "file" else "dev"
        _sub(element, "source", **{attr: disk.source_path or ""})
    _sub(element, "target", dev=disk.target_dev, bus=disk.bus)
    if disk.read_only or disk.device == "cdrom":
        _sub(element, "readonly")
    if disk.serial:
        _sub(element, "serial", disk.serial)
    return element


def interface_element(iface: GuestInterface) -> ET.Element:
    element = ET.Element("interface", {"type": iface.vif_type})
    _sub(element, "mac", address=iface.mac)
    if iface.vif_type == "bridge":
        _sub(element, "source", bridge=iface.bridge)
    # ethernet: libvirt creates the tap (and removes it when the guest stops).
    _sub(element, "target", dev=iface.tap)
    _sub(element, "model", type=iface.nic_model)
    _sub(element, "driver", name=iface.driver_name)
    if iface.mtu is not None:
        _sub(element, "mtu", size=str(iface.mtu))
    return element


def disk_xml(disk: GuestDisk) -> str:
    return _tostring(disk_element(disk))


def interface_xml(iface: GuestInterface) -> str:
    return _tostring(interface_element(iface))


def _os_element(config: GuestConfig) -> ET.Element:
    element = ET.Element("os")
    type_attrs = {"arch": config.arch}
    if config.machine_type:
        type_attrs["machine"] = config.machine_type
    _sub(element, "type", "hvm", **type_attrs)
    if config.kernel:
        _sub(element, "kernel", config.kernel)
        if config.initrd:
            _sub(element, "initrd", config.initrd)
        if config.cmdline:
            _sub(element, "cmdline", config.cmdline)
    else:
        _sub(element, "boot", dev="hd")
    return element


def _metadata_element(config: GuestConfig) -> ET.Element:
    element = ET.Element("metadata")
    ns = "{%s}" % STRATUS_NS
    instance = ET.SubElement(element, ns + "instance")
    ET.SubElement(instance, ns + "name").text = config.display_name or config.name
    if config.project_id:
        ET.SubElement(instance, ns + "project").text = config.project_id
    ET.SubElement(instance, ns + "flavor", {"root_gb": str(config.root_gb),
                                            "ephemeral_gb": str(config.ephemeral_gb)})
    return element


def flavor_disk_gb(domain: ET.Element) -> int | None:
    """root_gb + ephemeral_gb from a domain's ``stratus:`` metadata (None when
    it has none: a domain Stratus did not define)."""
    flavor = domain.find("metadata/{%s}instance/{%s}flavor" % (STRATUS_NS, STRATUS_NS))
    if flavor is None:
        return None
    try:
        return int(flavor.get("root_gb", 0)) + int(flavor.get("ephemeral_gb", 0))
    except ValueError:
        return None


def _console_elements(devices: ET.Element, config: GuestConfig) -> None:
    if config.console_mode == "file":
        serial = _sub(devices, "serial", type="file")
        _sub(serial, "source", path=config.console_log or "")
        _sub(serial, "target", port="0")
        return
    # pty + <log>: virtlogd keeps the log and the pty stays usable interactively.
    serial = _sub(devices, "serial", type="pty")
    if config.console_log:
        _sub(serial, "log", file=config.console_log,
             append="on" if config.console_append else "off")
    _sub(serial, "target", port="0")
    console = _sub(devices, "console", type="pty")
    _sub(console, "target", type="serial", port="0")


def _devices_element(config: GuestConfig) -> ET.Element:
    devices = ET.Element("devices")
    for disk in config.disks:
        devices.append(disk_element(disk))
    for iface in config.interfaces:
        devices.append(interface_element(iface))
    _console_elements(devices, config)
    if config.vnc_listen is not None:
        graphics = _sub(devices, "graphics", type="vnc", autoport="yes",
                        listen=config.vnc_listen)
        if config.vnc_keymap:
            graphics.set("keymap", config.vnc_keymap)
        _sub(graphics, "listen", type="address", address=config.vnc_listen)
        video = _sub(devices, "video")
        _sub(video, "model", type=config.video_model)
    balloon = _sub(devices, "memballoon", model="virtio" if config.memballoon else "none")
    if config.memballoon:
        _sub(balloon, "stats", period="10")
    return devices


def domain_element(config: GuestConfig) -> ET.Element:
    """The ``<domain>`` element for ``config``."""
    domain = ET.Element("domain", {"type": config.virt_type})
    _sub(domain, "name", config.name)
    _sub(domain, "uuid", config.uuid)
    domain.append(_metadata_element(config))
    _sub(domain, "memory", str(config.memory_mb * 1024), unit="KiB")
    _sub(domain, "currentMemory", str(config.memory_mb * 1024), unit="KiB")
    _sub(domain, "vcpu", str(config.vcpus), placement="static")
    domain.append(_os_element(config))
    features = _sub(domain, "features")
    _sub(features, "acpi")
    _sub(features, "apic")
    cpu_mode = config.cpu_mode or ("host-model" if config.virt_type == "kvm" else None)
    if cpu_mode:
        _sub(domain, "cpu", mode=cpu_mode)
    _sub(domain, "clock", offset="utc")
    _sub(domain, "on_poweroff", "destroy")
    _sub(domain, "on_reboot", "restart")
    _sub(domain, "on_crash", "destroy")
    domain.append(_devices_element(config))
    return domain


def domain_xml(config: GuestConfig) -> str:
    """The domain XML libvirt's ``defineXML`` takes."""
    ET.register_namespace("stratus", STRATUS_NS)
    return _tostring(domain_element(config))


def kernel_cmdline(image_meta: model.ImageMeta) -> str:
    """The image's ``os_command_line`` (else ``root=/dev/vda``), with
    ``console=ttyS0`` added when absent: the console log is the serial port."""
    cmdline = (image_meta.os_command_line or "").strip() or "root=/dev/vda"
    if "console=ttyS0" not in cmdline.split():
        cmdline = (cmdline + " console=ttyS0").strip()
    return cmdline


def config_drive_disk(path: str, machine_type: str | None = None) -> GuestDisk:
    """The config drive image at ``path`` as a read-only CD-ROM, where Nova puts
    it on x86: the last IDE slot (``hdd``) of the i440fx (``pc``) machine, the
    first SATA one (``sda``) of a q35 machine, which has no IDE controller. The
    guest's own disks are virtio (``vd*``), so the names never clash."""
    if "q35" in (machine_type or ""):
        return GuestDisk(target_dev="sda", source_path=path, driver_type="raw", bus="sata",
                         device="cdrom", read_only=True)
    return GuestDisk(target_dev="hdd", source_path=path, driver_type="raw", bus="ide",
                     device="cdrom", read_only=True)


def guest_config(instance: model.Instance, image_meta: model.ImageMeta,
                 network_info: Sequence[model.VIF], *, virt_type: VirtType,
                 root_disk: GuestDisk | None, kernel: str | None = None,
                 initrd: str | None = None, volumes: Sequence[GuestDisk] = (),
                 vif_type: VifType = "ethernet", config_drive: str | None = None,
                 **options: Any) -> GuestConfig:
    """The config of ``instance``: size from its flavor, kernel command line from
    the image, the root disk then ``volumes`` then the config drive image at
    ``config_drive`` (a CD-ROM), one NIC per VIF. ``options`` are further
    GuestConfig fields."""
    cmdline = kernel_cmdline(image_meta) if kernel else None
    disks = ((root_disk,) if root_disk else ()) + tuple(volumes)
    if config_drive:
        disks += (config_drive_disk(config_drive, options.get("machine_type")),)
    return GuestConfig(
        name=instance.name, uuid=instance.uuid, memory_mb=instance.memory_mb,
        vcpus=instance.vcpus, virt_type=virt_type, kernel=kernel, initrd=initrd,
        cmdline=cmdline, disks=disks,
        interfaces=tuple(GuestInterface.from_vif(v, vif_type) for v in network_info),
        display_name=instance.display_name or None, project_id=instance.project_id,
        root_gb=instance.root_gb, ephemeral_gb=instance.ephemeral_gb, **options)
