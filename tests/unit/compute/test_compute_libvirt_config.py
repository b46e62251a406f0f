"""Domain XML from compute.virt.libvirt.config, asserted element by element."""
from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import pytest

from compute.virt import model
from compute.virt.libvirt import config

UUID = "5f8e7c1a-0000-4000-8000-000000000001"
ROOT = config.GuestDisk(source_path="/var/lib/stratus/instances/%s/disk" % UUID)


def _vif(port: str, bridge: str = "brq-net1", mtu: int | None = 1450) -> model.VIF:
    return model.VIF(port_id=port, mac="fa:16:3e:aa:bb:%s" % port[:2], bridge=bridge, mtu=mtu)


def _domain(**kwargs: Any) -> ET.Element:
    args: dict[str, Any] = {"name": "instance-00000001", "uuid": UUID, "memory_mb": 128,
                            "vcpus": 2, "disks": (ROOT,)}
    args.update(kwargs)
    return ET.fromstring(config.domain_xml(config.GuestConfig(**args)))


def _one(element: ET.Element, path: str) -> ET.Element:
    found = element.findall(path)
    assert len(found) == 1, (path, found)
    return found[0]


def test_identity_and_size() -> None:
    dom = _domain()
    assert dom.tag == "domain"
    assert _one(dom, "name").text == "instance-00000001"
    assert _one(dom, "uuid").text == UUID
    assert _one(dom, "memory").text == "131072" and _one(dom, "memory").get("unit") == "KiB"
    assert _one(dom, "currentMemory").text == "131072"
    assert _one(dom, "vcpu").text == "2"
    assert _one(dom, "features/acpi") is not None
    assert _one(dom, "on_crash").text == "destroy"
    assert _one(dom, "clock").get("offset") == "utc"


def test_metadata_is_namespaced() -> None:
    dom = _domain(display_name="web-1", project_id="proj")
    ns = {"s": config.STRATUS_NS}
    assert dom.find("metadata/s:instance/s:name", ns).text == "web-1"  # type: ignore[union-attr]
    assert dom.find("metadata/s:instance/s:project", ns).text == "proj"  # type: ignore[union-attr]


def test_tcg() -> None:
    dom = _domain(virt_type="qemu")
    assert dom.get("type") == "qemu"
    assert dom.find("cpu") is None


def test_kvm_uses_host_model_cpu() -> None:
    dom = _domain(virt_type="kvm")
    assert dom.get("type") == "kvm"
    assert _one(dom, "cpu").get("mode") == "host-model"
    assert _one(_domain(virt_type="kvm", cpu_mode="host-passthrough"), "cpu").get(
        "mode") == "host-passthrough"
    assert _one(_domain(virt_type="qemu", cpu_mode="max"), "cpu").get("mode") == "max"


def test_direct_kernel_boot() -> None:
    dom = _domain(kernel="/k/vmlinuz", initrd="/k/initrd.img", cmdline="console=ttyS0")
    os_el = _one(dom, "os")
    assert _one(os_el, "type").text == "hvm"
    assert _one(os_el, "kernel").text == "/k/vmlinuz"
    assert _one(os_el, "initrd").text == "/k/initrd.img"
    assert _one(os_el, "cmdline").text == "console=ttyS0"
    assert os_el.find("boot") is None


def test_direct_kernel_boot_without_initrd_or_cmdline() -> None:
    os_el = _one(_domain(kernel="/k/vmlinuz"), "os")
    assert os_el.find("initrd") is None and os_el.find("cmdline") is None


def test_disk_boot_and_machine_type() -> None:
    os_el = _one(_domain(machine_type="pc-i440fx-7.2"), "os")
    assert _one(os_el, "boot").get("dev") == "hd"
    assert os_el.find("kernel") is None
    assert _one(os_el, "type").attrib == {"arch": "x86_64", "machine": "pc-i440fx-7.2"}
    assert "machine" not in _one(_domain(), "os/type").attrib


@pytest.mark.parametrize("fmt", ["qcow2", "raw"])
def test_root_disk(fmt: str) -> None:
    disk = _one(_domain(disks=(config.GuestDisk(source_path="/d", driver_type=fmt),)),
                "devices/disk")
    assert disk.attrib == {"type": "file", "device": "disk"}
    assert _one(disk, "driver").attrib == {"name": "qemu", "type": fmt}
    assert _one(disk, "source").get("file") == "/d"
    assert _one(disk, "target").attrib == {"dev": "vda", "bus": "virtio"}
    assert disk.find("readonly") is None


def test_block_cdrom_and_cache() -> None:
    disks = (config.GuestDisk(source_path="/dev/loop0", source_type="block", driver_type="raw",
                              target_dev="vdb", cache="none", serial="vol-1"),
             config.GuestDisk(source_path="/cd.iso", device="cdrom", driver_type="raw",
                              bus="sata", target_dev="sda"))
    block, cdrom = _domain(disks=disks).findall("devices/disk")
    assert _one(block, "source").attrib == {"dev": "/dev/loop0"}
    assert _one(block, "driver").get("cache") == "none"
    assert _one(block, "serial").text == "vol-1"
    assert cdrom.get("device") == "cdrom"
    assert _one(cdrom, "readonly") is not None
    assert _one(cdrom, "target").attrib == {"dev": "sda", "bus": "sata"}


def test_iscsi_disk_for_hot_plug() -> None:
    disk = ET.fromstring(config.disk_xml(config.GuestDisk(
        source_type="network", protocol="iscsi", target_dev="vdb", driver_type="raw",
        source_name="iqn.2010-10.org.openstack:volume-1/1", hosts=(("127.0.0.1", 3260),))))
    assert disk.get("type") == "network"
    source = _one(disk, "source")
    assert source.attrib == {"protocol": "iscsi",
                             "name": "iqn.2010-10.org.openstack:volume-1/1"}
    assert _one(source, "host").attrib == {"name": "127.0.0.1", "port": "3260"}


@pytest.mark.parametrize("kwargs", [
    {"source_path": "/d", "driver_type": "vmdk"}, {"source_path": None},
    {"source_type": "network", "protocol": "iscsi"}])
def test_disk_is_checked(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        config.GuestDisk(**kwargs)


def test_ethernet_interfaces_are_left_for_the_agent() -> None:
    vifs = [_vif("11aabbccddeeff00"), _vif("22aabbccddeeff00", mtu=None)]
    ifaces = _domain(interfaces=tuple(config.GuestInterface.from_vif(v) for v in vifs)
                     ).findall("devices/interface")
    assert [i.get("type") for i in ifaces] == ["ethernet", "ethernet"]
    first, second = ifaces
    assert first.find("source") is None
    assert _one(first, "target").attrib == {"dev": "tap11aabbccdde"}
    assert _one(first, "mac").get("address") == "fa:16:3e:aa:bb:11"
    assert _one(first, "driver").get("name") == "qemu"
    assert _one(first, "mtu").get("size") == "1450"
    assert second.find("mtu") is None


def test_bridge_interfaces() -> None:
    vifs = [_vif("11aabbccddeeff00"), _vif("22aabbccddeeff00", bridge="brq-net2", mtu=None)]
    ifaces = _domain(interfaces=tuple(config.GuestInterface.from_vif(v, "bridge")
                                      for v in vifs)).findall("devices/interface")
    assert len(ifaces) == 2
    first, second = ifaces
    assert first.get("type") == "bridge"
    assert _one(first, "mac").get("address") == "fa:16:3e:aa:bb:11"
    assert _one(first, "source").attrib == {"bridge": "brq-net1"}
    assert _one(first, "target").attrib == {"dev": "tap11aabbccdde"}
    assert _one(first, "model").get("type") == "virtio"
    assert _one(first, "driver").get("name") == "qemu"
    assert _one(first, "mtu").get("size") == "1450"
    assert _one(second, "source").get("bridge") == "brq-net2"
    assert second.find("mtu") is None


def test_interface_xml_alone() -> None:
    iface = ET.fromstring(config.interface_xml(config.GuestInterface.from_vif(_vif("33ab"))))
    assert iface.tag == "interface" and _one(iface, "target").get("dev") == "tap33ab"


def test_serial_pty_logged_by_virtlogd() -> None:
    devices = _one(_domain(console_log="/var/log/c.log"), "devices")
    serial = _one(devices, "serial")
    assert serial.get("type") == "pty"
    assert _one(serial, "log").attrib == {"file": "/var/log/c.log", "append": "on"}
    assert _one(serial, "target").get("port") == "0"
    assert _one(devices, "console/target").attrib == {"type": "serial", "port": "0"}
    assert _one(_domain(), "devices/serial").find("log") is None
    once = _domain(console_log="/c.log", console_append=False)
    assert _one(once, "devices/serial/log").get("append") == "off"


def test_serial_to_a_file() -> None:
    devices = _one(_domain(console_mode="file", console_log="/c.log"), "devices")
    serial = _one(devices, "serial")
    assert serial.get("type") == "file"
    assert _one(serial, "source").get("path") == "/c.log"
    assert devices.find("console") is None


def test_vnc() -> None:
    graphics = _one(_domain(vnc_listen="0.0.0.0", vnc_keymap="de"), "devices/graphics")
    assert graphics.get("type") == "vnc" and graphics.get("autoport") == "yes"
    assert graphics.get("listen") == "0.0.0.0" and graphics.get("keymap") == "de"
    assert _one(graphics, "listen").attrib == {"type": "address", "address": "0.0.0.0"}
    assert _one(_domain(video_model="vga"), "devices/video/model").get("type") == "vga"
    no_vnc = _domain(vnc_listen=None)
    assert no_vnc.find("devices/graphics") is None and no_vnc.find("devices/video") is None


def test_memballoon() -> None:
    assert _one(_domain(), "devices/memballoon").get("model") == "virtio"
    off = _one(_domain(memballoon=False), "devices/memballoon")
    assert off.get("model") == "none" and off.find("stats") is None


@pytest.mark.parametrize("kwargs", [{"virt_type": "xen"}, {"memory_mb": 0}, {"vcpus": 0},
                                    {"initrd": "/i"}, {"cmdline": "x"},
                                    {"console_mode": "file"}])
def test_config_is_checked(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _domain(**kwargs)


def test_guest_config_from_instance_and_image() -> None:
    inst = model.Instance(uuid=UUID, name="instance-00000007", memory_mb=256, vcpus=1,
                          display_name="web", project_id="proj")
    image = model.ImageMeta(id="img", kernel_id="k", ramdisk_id="r",
                            os_command_line="console=ttyS0 quiet")
    cfg = config.guest_config(inst, image, [_vif("44aabbccddee")], virt_type="kvm",
                              root_disk=ROOT, kernel="/cache/k", initrd="/cache/r",
                              console_log="/c.log", machine_type="q35")
    assert (cfg.name, cfg.uuid, cfg.memory_mb, cfg.vcpus) == ("instance-00000007", UUID, 256, 1)
    assert cfg.cmdline == "console=ttyS0 quiet" and cfg.direct_kernel_boot
    assert cfg.interfaces[0].tap == "tap44aabbccdde"
    assert (cfg.machine_type, cfg.console_log, cfg.display_name) == ("q35", "/c.log", "web")
    dom = ET.fromstring(config.domain_xml(cfg))
    assert dom.get("type") == "kvm" and _one(dom, "os/initrd").text == "/cache/r"


def test_guest_config_defaults() -> None:
    inst = model.Instance(uuid=UUID, name="i", memory_mb=128, vcpus=1)
    kernel_boot = config.guest_config(inst, model.ImageMeta(kernel_id="k"), [],
                                      virt_type="qemu", root_disk=ROOT, kernel="/k")
    assert kernel_boot.cmdline == "root=/dev/vda console=ttyS0"
    disk_boot = config.guest_config(inst, model.ImageMeta(), [], virt_type="qemu",
                                    root_disk=ROOT)
    assert disk_boot.cmdline is None and not disk_boot.direct_kernel_boot
    assert disk_boot.disks == (ROOT,) and disk_boot.display_name is None


def test_iscsi_disk_with_chap() -> None:
    disk = ET.fromstring(config.disk_xml(config.GuestDisk(
        source_type="network", protocol="iscsi", target_dev="vdc", driver_type="raw",
        source_name="iqn.x:vol/0", hosts=(("192.0.2.1", 3260),), auth_username="u",
        auth_secret_usage="stratus-volume-1")))
    auth = _one(disk, "auth")
    assert auth.get("username") == "u"
    assert _one(auth, "secret").attrib == {"type": "iscsi", "usage": "stratus-volume-1"}
    with pytest.raises(ValueError):
        config.GuestDisk(source_path="/d", auth_username="u")


def test_flavor_disk_sizes_in_metadata() -> None:
    assert config.flavor_disk_gb(_domain(root_gb=10, ephemeral_gb=5)) == 15
    assert config.flavor_disk_gb(ET.fromstring("<domain><metadata/></domain>")) is None
    assert config.flavor_disk_gb(ET.fromstring("<domain/>")) is None


@pytest.mark.parametrize(("command_line", "expected"), [
    (None, "root=/dev/vda console=ttyS0"),
    ("console=ttyS0", "console=ttyS0"),
    ("quiet", "quiet console=ttyS0"),
    ("console=tty0 quiet", "console=tty0 quiet console=ttyS0"),
    ("  ", "root=/dev/vda console=ttyS0"),
])
def test_kernel_cmdline_always_has_the_serial_console(command_line: str | None,
                                                      expected: str) -> None:
    assert config.kernel_cmdline(model.ImageMeta(os_command_line=command_line)) == expected


def test_guest_config_with_volumes_and_flavor() -> None:
    inst = model.Instance(uuid=UUID, name="i", memory_mb=128, vcpus=1, root_gb=2,
                          ephemeral_gb=1)
    vol = config.GuestDisk(source_path="/v", target_dev="vdb", driver_type="raw")
    cfg = config.guest_config(inst, model.ImageMeta(), [_vif("55aa")], virt_type="qemu",
                              root_disk=ROOT, volumes=[vol], vif_type="bridge")
    assert cfg.disks == (ROOT, vol)
    assert (cfg.root_gb, cfg.ephemeral_gb) == (2, 1)
    assert cfg.interfaces[0].vif_type == "bridge"
    no_root = config.guest_config(inst, model.ImageMeta(), [], virt_type="qemu",
                                  root_disk=None, volumes=[vol])
    assert no_root.disks == (vol,)
