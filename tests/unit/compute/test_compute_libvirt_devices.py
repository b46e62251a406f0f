"""Volume hot-plug, VNC and CHAP secrets of the libvirt driver, on a stub domain
(libvirt's test driver has no attachDevice and no VNC ports)."""
from __future__ import annotations

import copy
import uuid
from typing import Any
from xml.etree import ElementTree as ET

import pytest

libvirt = pytest.importorskip("libvirt")

from oslo_config import cfg  # noqa: E402

from compute.virt import exception  # noqa: E402
from compute.virt import model  # noqa: E402
from compute.virt.libvirt import driver as libvirt_driver  # noqa: E402
from tests.fixtures import libvirt as fx_libvirt  # noqa: E402
from tests.fixtures.libvirt import Clock  # noqa: E402

LIVE, CONFIG = libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG
DOMAIN = """<domain type='qemu'><name>instance-1</name><uuid>%s</uuid><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='/instances/x/disk'/><target dev='vda' bus='virtio'/></disk>
<graphics type='vnc' port='%s' autoport='yes' listen='%s'>
<listen type='address' address='%s'/></graphics></devices></domain>"""
FILE_VOLUME = {"driver_volume_type": "file", "serial": "vol-1",
               "data": {"device_path": "/volumes/vol-1.qcow2", "format": "qcow2"}}
ISCSI_CHAP = {"driver_volume_type": "iscsi", "serial": "vol-2",
              "data": {"target_portal": "127.0.0.1:3260", "target_iqn": "iqn.2010-10.x:vol-2",
                       "target_lun": 1, "auth_method": "CHAP", "auth_username": "u",
                       "auth_password": "s3cret"}}


class StubDomain:
    """A domain's persistent and live XML, changed by (de)attach calls; the guest
    lets go of a live-detached disk after ``release_after`` requests."""

    def __init__(self, uid: str, active: bool = True, saved: bool = False, port: int = 5901,
                 listen: str = "127.0.0.1", vnc: bool = True) -> None:
        self.persistent = ET.fromstring(DOMAIN % (uid, port, listen, listen))
        if not vnc:
            devices = self.persistent.find("devices")
            assert devices is not None
            devices.remove(devices.find("graphics"))  # type: ignore[arg-type]
        self.live = copy.deepcopy(self.persistent) if active else None
        self.saved = saved
        self.calls: list[tuple[str, int]] = []
        self.release_after = 1
        self.live_requests = 0
        self.fail: Exception | None = None

    def isActive(self) -> int:  # noqa: N802 (libvirt's names)
        return int(self.live is not None)

    def state(self) -> list[int]:
        return [1, 1] if self.live is not None else [5, 0]

    def hasManagedSaveImage(self, flags: int) -> int:  # noqa: N802
        return int(self.saved)

    def XMLDesc(self, flags: int) -> str:  # noqa: N802
        inactive = flags & libvirt.VIR_DOMAIN_XML_INACTIVE or self.live is None
        return ET.tostring(self.persistent if inactive else self.live, encoding="unicode")

    def attachDeviceFlags(self, xml: str, flags: int) -> None:  # noqa: N802
        self.calls.append(("attach", flags))
        if self.fail:
            raise self.fail
        for tree, flag in ((self.persistent, CONFIG), (self.live, LIVE)):
            if flags & flag and tree is not None:
                tree.find("devices").append(ET.fromstring(xml))  # type: ignore[union-attr]

    def detachDeviceFlags(self, xml: str, flags: int) -> None:  # noqa: N802
        self.calls.append(("detach", flags))
        dev = ET.fromstring(xml).find("target").get("dev")  # type: ignore[union-attr]
        if flags & LIVE:
            self.live_requests += 1
            if self.live_requests < self.release_after:
                return
        for tree, flag in ((self.persistent, CONFIG), (self.live, LIVE)):
            if flags & flag and tree is not None:
                devices = tree.find("devices")
                assert devices is not None
                for disk in devices.findall("disk"):
                    if disk.find("target").get("dev") == dev:  # type: ignore[union-attr]
                        devices.remove(disk)

    def disks(self, live: bool = False) -> list[str]:
        tree = self.live if live else self.persistent
        assert tree is not None
        return [d.find("target").get("dev") for d in tree.findall("devices/disk")]  # type: ignore[union-attr,misc]


class StubSecret:
    def __init__(self, xml: str, secrets: dict[str, StubSecret]) -> None:
        self.usage = ET.fromstring(xml).findtext("usage/target") or ""
        self.value = b""
        self._secrets = secrets
        secrets[self.usage] = self

    def setValue(self, value: bytes) -> None:  # noqa: N802
        self.value = value

    def undefine(self) -> None:
        del self._secrets[self.usage]


class StubConnection:
    def __init__(self) -> None:
        self.secrets: dict[str, StubSecret] = {}

    def secretLookupByUsage(self, kind: int, usage: str) -> StubSecret:  # noqa: N802
        assert kind == libvirt.VIR_SECRET_USAGE_TYPE_ISCSI
        try:
            return self.secrets[usage]
        except KeyError:
            libvirt.virResetLastError()
            raise libvirt.libvirtError("no secret") from None

    def secretDefineXML(self, xml: str) -> StubSecret:  # noqa: N802
        return StubSecret(xml, self.secrets)




@pytest.fixture
def conf(tmp_path: Any) -> cfg.ConfigOpts:
    return fx_libvirt.make_conf(tmp_path)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def drv(conf: cfg.ConfigOpts, clock: Clock) -> libvirt_driver.LibvirtDriver:
    return libvirt_driver.LibvirtDriver(conf, "node-1", clock=clock, sleep=clock.sleep)


@pytest.fixture
def inst() -> model.Instance:
    return model.Instance(uuid=str(uuid.uuid4()), name="instance-1", memory_mb=128, vcpus=1)


def _with(drv: libvirt_driver.LibvirtDriver, monkeypatch: Any, dom: StubDomain,
          conn: StubConnection | None = None) -> StubDomain:
    monkeypatch.setattr(drv.hypervisor, "lookup", lambda uid: dom)
    if conn is not None:
        monkeypatch.setattr(drv.hypervisor, "connect", lambda: conn)
    return dom


# -- attach -------------------------------------------------------------------------

def test_attach_to_a_running_guest_is_live_and_persistent(
        drv: libvirt_driver.LibvirtDriver, inst: model.Instance, monkeypatch: Any) -> None:
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid))
    drv.attach_volume(None, inst, FILE_VOLUME, "/dev/vdb")
    assert dom.calls == [("attach", LIVE | CONFIG)]
    assert dom.disks() == dom.disks(live=True) == ["vda", "vdb"]
    disk = ET.fromstring(dom.XMLDesc(0)).findall("devices/disk")[1]
    assert disk.find("source").get("file") == "/volumes/vol-1.qcow2"  # type: ignore[union-attr]
    assert disk.find("driver").get("type") == "qcow2"  # type: ignore[union-attr]
    assert disk.findtext("serial") == "vol-1"


def test_attach_to_a_stopped_guest_changes_its_definition(
        drv: libvirt_driver.LibvirtDriver, inst: model.Instance, monkeypatch: Any) -> None:
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid, active=False))
    drv.attach_volume(None, inst, FILE_VOLUME, "vdc")
    assert dom.calls == [("attach", CONFIG)] and dom.disks() == ["vda", "vdc"]


@pytest.mark.parametrize(("mountpoint", "info", "error"), [
    ("/dev/vda", FILE_VOLUME, exception.DeviceIsBusy),
    ("/mnt/data", FILE_VOLUME, exception.InvalidDevicePath),
    ("/dev/vdb", {"driver_volume_type": "rbd", "data": {}}, exception.VolumeDriverNotFound),
    ("/dev/vdb", {"driver_volume_type": "file", "data": {}}, exception.InvalidConnectionInfo),
])
def test_attach_is_checked(drv: libvirt_driver.LibvirtDriver, inst: model.Instance,
                           monkeypatch: Any, mountpoint: str, info: dict[str, Any],
                           error: type[Exception]) -> None:
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid))
    with pytest.raises(error):
        drv.attach_volume(None, inst, info, mountpoint)
    assert dom.calls == []


def test_attach_twice_is_busy(drv: libvirt_driver.LibvirtDriver, inst: model.Instance,
                              monkeypatch: Any) -> None:
    _with(drv, monkeypatch, StubDomain(inst.uuid))
    drv.attach_volume(None, inst, FILE_VOLUME, "/dev/vdb")
    with pytest.raises(exception.DeviceIsBusy):
        drv.attach_volume(None, inst, FILE_VOLUME, "/dev/vdb")


def test_no_volumes_on_a_suspended_guest(drv: libvirt_driver.LibvirtDriver,
                                         inst: model.Instance, monkeypatch: Any) -> None:
    _with(drv, monkeypatch, StubDomain(inst.uuid, active=False, saved=True))
    for call in (drv.attach_volume, drv.detach_volume):
        with pytest.raises(exception.InstanceInvalidState):
            call(None, inst, FILE_VOLUME, "/dev/vdb")


def test_libvirt_refusing_an_attach(drv: libvirt_driver.LibvirtDriver, inst: model.Instance,
                                    monkeypatch: Any) -> None:
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid))
    libvirt.virResetLastError()  # a libvirtError made here takes the thread's last error
    dom.fail = libvirt.libvirtError("unable to open /volumes/vol-1.qcow2")
    with pytest.raises(exception.VolumeAttachFailed, match="vol-1"):
        drv.attach_volume(None, inst, FILE_VOLUME, "/dev/vdb")


def test_iscsi_with_chap_uses_a_libvirt_secret(drv: libvirt_driver.LibvirtDriver,
                                               inst: model.Instance, monkeypatch: Any) -> None:
    conn = StubConnection()
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid), conn)
    drv.attach_volume(None, inst, ISCSI_CHAP, "/dev/vdb")
    assert conn.secrets["stratus-volume-vol-2"].value == b"s3cret"
    disk = ET.fromstring(dom.XMLDesc(0)).findall("devices/disk")[1]
    assert disk.get("type") == "network"
    assert disk.find("source").get("name") == "iqn.2010-10.x:vol-2/1"  # type: ignore[union-attr]
    assert disk.find("auth/secret").get("usage") == "stratus-volume-vol-2"  # type: ignore[union-attr]
    drv.detach_volume(None, inst, ISCSI_CHAP, "/dev/vdb")
    assert conn.secrets == {}


# -- detach -------------------------------------------------------------------------

def test_detach_from_a_running_guest(drv: libvirt_driver.LibvirtDriver, inst: model.Instance,
                                     monkeypatch: Any, clock: Clock) -> None:
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid))
    drv.attach_volume(None, inst, FILE_VOLUME, "/dev/vdb")
    dom.calls.clear()
    dom.release_after = 3  # a slow guest: asked again every 5 s
    drv.detach_volume(None, inst, FILE_VOLUME, "/dev/vdb")
    assert dom.calls == [("detach", CONFIG)] + [("detach", LIVE)] * 3
    assert dom.disks() == dom.disks(live=True) == ["vda"]
    assert 10 <= clock.now < 11


def test_detach_that_the_guest_ignores(drv: libvirt_driver.LibvirtDriver, conf: cfg.ConfigOpts,
                                       inst: model.Instance, monkeypatch: Any,
                                       clock: Clock) -> None:
    conf.set_override("device_detach_timeout", 12, group="libvirt")
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid))
    drv.attach_volume(None, inst, FILE_VOLUME, "/dev/vdb")
    dom.release_after = 1000
    with pytest.raises(exception.DeviceDetachFailed, match="within 12 s"):
        drv.detach_volume(None, inst, FILE_VOLUME, "/dev/vdb")
    assert dom.disks() == ["vda"] and dom.disks(live=True) == ["vda", "vdb"]


def test_detach_from_a_stopped_guest(drv: libvirt_driver.LibvirtDriver, inst: model.Instance,
                                     monkeypatch: Any) -> None:
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid, active=False))
    drv.attach_volume(None, inst, FILE_VOLUME, "/dev/vdb")
    drv.detach_volume(None, inst, FILE_VOLUME, "/dev/vdb")
    assert dom.calls[1:] == [("detach", CONFIG)] and dom.disks() == ["vda"]


def test_detach_of_nothing(drv: libvirt_driver.LibvirtDriver, inst: model.Instance,
                           monkeypatch: Any) -> None:
    _with(drv, monkeypatch, StubDomain(inst.uuid))
    with pytest.raises(exception.DiskNotFound) as err:
        drv.detach_volume(None, inst, FILE_VOLUME, "/dev/vdc")
    assert err.value.code == 404


# -- VNC ----------------------------------------------------------------------------

def test_vnc_console(drv: libvirt_driver.LibvirtDriver, conf: cfg.ConfigOpts,
                     inst: model.Instance, monkeypatch: Any) -> None:
    _with(drv, monkeypatch, StubDomain(inst.uuid, port=5907))
    assert drv.get_vnc_console(inst) == {"host": "127.0.0.1", "port": 5907}
    conf.set_override("vnc_proxyclient_address", "192.0.2.10", group="libvirt")
    assert drv.get_vnc_console(inst) == {"host": "192.0.2.10", "port": 5907}


def test_vnc_on_a_wildcard_is_reached_by_host_name(drv: libvirt_driver.LibvirtDriver,
                                                   inst: model.Instance,
                                                   monkeypatch: Any) -> None:
    _with(drv, monkeypatch, StubDomain(inst.uuid, listen="0.0.0.0"))
    assert drv.get_vnc_console(inst) == {"host": "node-1", "port": 5901}


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"active": False}, exception.InstanceNotReady),
    ({"port": -1}, exception.InstanceNotReady),
    ({"vnc": False}, exception.ConsoleTypeUnavailable),
])
def test_no_vnc_console(drv: libvirt_driver.LibvirtDriver, inst: model.Instance,
                        monkeypatch: Any, kwargs: dict[str, Any],
                        error: type[Exception]) -> None:
    _with(drv, monkeypatch, StubDomain(inst.uuid, **kwargs))
    with pytest.raises(error):
        drv.get_vnc_console(inst)


def test_vnc_follows_the_vnc_options(drv: libvirt_driver.LibvirtDriver,
                                     conf: cfg.ConfigOpts) -> None:
    assert drv._vnc_listen() == "127.0.0.1"
    conf.set_override("vnc_listen", "", group="libvirt")
    assert drv._vnc_listen() is None
    conf.clear_override("vnc_listen", group="libvirt")
    conf.register_opt(cfg.BoolOpt("enabled", default=True), group="vnc")
    conf.set_override("enabled", False, group="vnc")
    assert drv._vnc_listen() is None
