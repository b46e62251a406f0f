"""Connection info -> guest disks (volume), what the driver reads from domain XML
(guest), the KVM probe and the libvirt connection (host)."""
from __future__ import annotations

import os
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from compute.virt import exception
from compute.virt.libvirt import guest
from compute.virt.libvirt import volume

# -- volume -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["file", "local"])
def test_file_volume(kind: str) -> None:
    disk = volume.guest_disk({"driver_volume_type": kind, "serial": "0123456789abcdef01234567",
                              "data": {"device_path": "/v/vol.img"}}, "vdb")
    assert (disk.source_type, disk.source_path, disk.driver_type) == ("file", "/v/vol.img", "raw")
    assert (disk.target_dev, disk.bus, disk.serial) == ("vdb", "virtio", "0123456789abcdef0123")
    assert not disk.read_only


def test_qcow2_read_only_volume_on_scsi() -> None:
    disk = volume.guest_disk({"driver_volume_type": "file", "data": {
        "device_path": "/v/vol.qcow2", "format": "qcow2", "access_mode": "ro",
        "volume_id": "vol-9"}}, "sdb")
    assert (disk.driver_type, disk.read_only, disk.bus, disk.serial) == (
        "qcow2", True, "scsi", "vol-9")


def test_block_volume() -> None:
    disk = volume.guest_disk({"driver_volume_type": "block",
                              "data": {"device_path": "/dev/loop3"}}, "vdc")
    assert (disk.source_type, disk.source_path, disk.cache) == ("block", "/dev/loop3", "none")


def test_iscsi_volume() -> None:
    disk = volume.guest_disk({"driver_volume_type": "iscsi", "data": {
        "target_portal": "127.0.0.1:3260", "target_iqn": "iqn.2010-10.org.x:vol-1",
        "target_lun": 1}}, "vdb")
    assert (disk.source_type, disk.protocol) == ("network", "iscsi")
    assert disk.source_name == "iqn.2010-10.org.x:vol-1/1"
    assert disk.hosts == (("127.0.0.1", 3260),) and disk.auth_username is None


@pytest.mark.parametrize(("portal", "expected"), [
    ("192.0.2.1:3261", ("192.0.2.1", 3261)), ("192.0.2.1", ("192.0.2.1", 3260)),
    ("[2001:db8::1]:3262", ("2001:db8::1", 3262)), ("2001:db8::1", ("2001:db8::1", 3260)),
    ("storage.example:3260", ("storage.example", 3260))])
def test_portals(portal: str, expected: tuple[str, int]) -> None:
    assert volume.parse_portal(portal) == expected


@pytest.mark.parametrize("portal", ["", ":3260", "host:port", "host:0", "[::1]:99999"])
def test_bad_portals(portal: str) -> None:
    with pytest.raises(exception.InvalidConnectionInfo):
        volume.parse_portal(portal)


def test_chap() -> None:
    info = {"driver_volume_type": "iscsi", "serial": "vol-2", "data": {
        "target_portal": "h:3260", "target_iqn": "iqn.x", "auth_method": "chap",
        "auth_username": "u", "auth_password": "p"}}
    disk = volume.guest_disk(info, "vdb")
    assert (disk.auth_username, disk.auth_secret_usage) == ("u", "stratus-volume-vol-2")
    assert volume.chap(info) == ("u", "p")
    assert volume.chap({"data": {}}) is None


@pytest.mark.parametrize(("info", "error"), [
    ({"driver_volume_type": "rbd", "data": {}}, exception.VolumeDriverNotFound),
    ({"data": {}}, exception.VolumeDriverNotFound),
    ("not a mapping", exception.InvalidConnectionInfo),
    ({"driver_volume_type": "file"}, exception.InvalidConnectionInfo),
    ({"driver_volume_type": "file", "data": {"device_path": "relative"}},
     exception.InvalidConnectionInfo),
    ({"driver_volume_type": "file", "data": {"device_path": "/v", "format": "vmdk"}},
     exception.InvalidConnectionInfo),
    ({"driver_volume_type": "iscsi", "data": {"target_portal": "h"}},
     exception.InvalidConnectionInfo),
    ({"driver_volume_type": "iscsi", "data": {"target_portal": "h", "target_iqn": "i",
                                              "auth_method": "kerberos"}},
     exception.InvalidConnectionInfo),
    ({"driver_volume_type": "iscsi", "data": {"target_portal": "h", "target_iqn": "i",
                                              "auth_method": "CHAP"}},
     exception.InvalidConnectionInfo),
])
def test_bad_connection_info(info: Any, error: type[Exception]) -> None:
    with pytest.raises(error) as err:
        volume.guest_disk(info, "vdb")
    assert err.value.code == 400  # type: ignore[attr-defined]


# -- guest ---------------------------------------------------------------------------

CAPABILITIES = """<capabilities><host><cpu><arch>x86_64</arch><model>Skylake</model>
<vendor>Intel</vendor><topology sockets='1' cores='4' threads='2'/>
<feature name='vmx'/><feature name='aes'/></cpu></host></capabilities>"""


def test_cpu_info() -> None:
    assert guest.cpu_info(CAPABILITIES) == {
        "arch": "x86_64", "model": "Skylake", "vendor": "Intel",
        "topology": {"sockets": 1, "cores": 4, "threads": 2}, "features": ["aes", "vmx"]}
    assert guest.cpu_info("<capabilities/>") == {}
    assert guest.cpu_info("not xml") == {}


def test_console_log_path() -> None:
    pty = ET.fromstring("<domain><devices><serial type='pty'><log file='/i/console.log'/>"
                        "</serial></devices></domain>")
    file = ET.fromstring("<domain><devices><serial type='file'><source path='/i/c.log'/>"
                         "</serial></devices></domain>")
    assert guest.console_log_path(pty) == "/i/console.log"
    assert guest.console_log_path(file) == "/i/c.log"
    assert guest.console_log_path(ET.fromstring("<domain><devices/></domain>")) is None


def test_console_output(tmp_path: Any) -> None:
    log = tmp_path / "console.log"
    assert guest.console_output("u", str(log)) == ""
    log.write_bytes(b"a" * guest.CONSOLE_MAX_BYTES + b"tail\n")
    text = guest.console_output("u", str(log))
    assert len(text) == guest.CONSOLE_MAX_BYTES and text.endswith("atail\n")
    with pytest.raises(exception.ConsoleNotAvailable):
        guest.console_output("u", None)
    with pytest.raises(exception.ConsoleLogOutputException):
        guest.console_output("u", str(tmp_path))  # a directory


def test_root_disk() -> None:
    xml = ET.fromstring("""<domain><devices>
      <disk type='network' device='disk'><source protocol='iscsi' name='x/0'/></disk>
      <disk type='file' device='cdrom'><source file='/cd.iso'/></disk>
      <disk type='file' device='disk'><driver type='raw'/><source file='/v/vol'/></disk>
      <disk type='file' device='disk'><driver type='qcow2'/><source file='/i/disk'/></disk>
      </devices></domain>""")
    assert guest.root_disk(xml, "/i/disk") == ("/i/disk", "qcow2")
    assert guest.root_disk(xml, "/elsewhere") == ("/v/vol", "raw")
    assert guest.root_disk(ET.fromstring("<domain><devices/></domain>"), "/i/disk") is None


def test_find_disk() -> None:
    xml = ET.fromstring("<domain><devices><disk><target dev='vdb'/></disk></devices></domain>")
    assert guest.find_disk(xml, "vdb") is not None
    assert guest.find_disk(xml, "vdc") is None and guest.find_disk(None, "vdb") is None


# -- host ----------------------------------------------------------------------------

def test_kvm_probe(tmp_path: Any) -> None:
    dev, modules = tmp_path / "kvm", tmp_path / "module"
    modules.mkdir()
    assert volume_probe(dev, modules) == "qemu"  # no /dev/kvm
    dev.write_text("")
    (modules / "kvm").mkdir()
    (modules / "kvm_pvm").mkdir()
    assert volume_probe(dev, modules) == "qemu"  # a /dev/kvm of kvm_pvm only
    (modules / "kvm_amd").mkdir()
    assert volume_probe(dev, modules) == "kvm"


def volume_probe(dev: Any, modules: Any) -> str:
    host = pytest.importorskip("compute.virt.libvirt.host")
    return str(host.probe_virt_type(str(dev), str(modules)))


def test_this_machine_is_probed_without_error() -> None:
    host = pytest.importorskip("compute.virt.libvirt.host")
    expected = "kvm" if os.path.exists("/dev/kvm") and any(
        os.path.isdir("/sys/module/" + m) for m in ("kvm_intel", "kvm_amd")) else "qemu"
    assert host.probe_virt_type() == expected


def test_connection_is_reopened_when_it_died(tmp_path: Any) -> None:
    host = pytest.importorskip("compute.virt.libvirt.host")
    (tmp_path / "node.xml").write_text("<node/>")
    node = host.Host("test://%s/node.xml" % tmp_path, "node-1")
    first = node.connect()
    assert node.connect() is first
    first.close()  # as if libvirtd restarted
    second = node.connect()
    assert second is not first and second.isAlive()
    node.close()
    assert host.Host("", "n").uri == "qemu:///system"


def test_errors_are_translated(tmp_path: Any) -> None:
    host = pytest.importorskip("compute.virt.libvirt.host")
    libvirt = pytest.importorskip("libvirt")
    (tmp_path / "node.xml").write_text("<node/>")
    node = host.Host("test://%s/node.xml" % tmp_path, "node-1")
    with pytest.raises(exception.InstanceNotFound):
        node.lookup("5f8e7c1a-0000-4000-8000-000000000001")
    with pytest.raises(exception.InstanceNotFound):
        node.lookup("not-a-uuid")
    with pytest.raises(exception.InstancePowerOnFailure, match="no such thing"):
        with node.translate("u", exception.InstancePowerOnFailure):
            libvirt.virResetLastError()
            raise libvirt.libvirtError("no such thing")
