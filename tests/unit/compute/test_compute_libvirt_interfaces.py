"""Interface hot-plug of the libvirt driver: on a stub domain at the
attachDeviceFlags/detachDeviceFlags boundary (libvirt's test driver has no
attachDevice), and on test:///default where it answers (unknown domains)."""
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
PORT = "0f3a9c1e-2b4d-4e5f-8a7b-9c0d1e2f3a4b"
DOMAIN = """<domain type='qemu'><name>instance-1</name><uuid>%s</uuid><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='/instances/x/disk'/><target dev='vda' bus='virtio'/></disk>
<interface type='ethernet'><mac address='fa:16:3e:00:00:01'/>
<target dev='tap11111111-11'/><model type='virtio'/></interface>
</devices></domain>"""


class StubDomain:
    """Persistent and live XML, changed by (de)attach calls; the guest lets go of
    a live-detached NIC after ``release_after`` requests."""

    def __init__(self, uid: str, active: bool = True, saved: bool = False) -> None:
        self.persistent = ET.fromstring(DOMAIN % uid)
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

    def _trees(self, flags: int) -> list[ET.Element]:
        return [tree for tree, flag in ((self.persistent, CONFIG), (self.live, LIVE))
                if flags & flag and tree is not None]

    def attachDeviceFlags(self, xml: str, flags: int) -> None:  # noqa: N802
        self.calls.append(("attach", flags))
        if self.fail:
            raise self.fail
        for tree in self._trees(flags):
            tree.find("devices").append(ET.fromstring(xml))  # type: ignore[union-attr]

    def detachDeviceFlags(self, xml: str, flags: int) -> None:  # noqa: N802
        self.calls.append(("detach", flags))
        mac = ET.fromstring(xml).find("mac").get("address")  # type: ignore[union-attr]
        if flags & LIVE:
            self.live_requests += 1
            if self.live_requests < self.release_after:
                return
        for tree in self._trees(flags):
            devices = tree.find("devices")
            assert devices is not None
            for nic in devices.findall("interface"):
                if nic.find("mac").get("address") == mac:  # type: ignore[union-attr]
                    devices.remove(nic)

    def macs(self, live: bool = False) -> list[str]:
        tree = self.live if live else self.persistent
        assert tree is not None
        return [n.find("mac").get("address")  # type: ignore[union-attr,misc]
                for n in tree.findall("devices/interface")]




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


VIF = model.VIF(port_id=PORT, mac="fa:16:3e:00:00:02", bridge="brqnet", mtu=1450,
                network_id="net")
IMAGE = model.ImageMeta(id="img-1", disk_format="qcow2")


def _with(drv: libvirt_driver.LibvirtDriver, monkeypatch: Any, dom: StubDomain) -> StubDomain:
    monkeypatch.setattr(drv.hypervisor, "lookup", lambda uid: dom)
    return dom


def test_attach_to_a_running_guest_is_live_and_persistent(
        drv: libvirt_driver.LibvirtDriver, inst: model.Instance, monkeypatch: Any) -> None:
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid))
    drv.attach_interface(None, inst, IMAGE, VIF)
    assert dom.calls == [("attach", LIVE | CONFIG)]
    assert dom.macs() == dom.macs(live=True) == ["fa:16:3e:00:00:01", "fa:16:3e:00:00:02"]
    nic = ET.fromstring(dom.XMLDesc(0)).findall("devices/interface")[1]
    assert nic.get("type") == "ethernet"
    assert nic.find("target").get("dev") == "tap" + PORT[:11]  # type: ignore[union-attr]
    assert nic.find("model").get("type") == "virtio"  # type: ignore[union-attr]
    assert nic.find("mtu").get("size") == "1450"  # type: ignore[union-attr]
    assert nic.find("source") is None  # the network agent plugs the tap


def test_attach_to_a_stopped_guest_changes_its_definition(
        drv: libvirt_driver.LibvirtDriver, inst: model.Instance, monkeypatch: Any) -> None:
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid, active=False))
    drv.attach_interface(None, inst, IMAGE, VIF)
    assert dom.calls == [("attach", CONFIG)]
    assert dom.macs() == ["fa:16:3e:00:00:01", "fa:16:3e:00:00:02"]


@pytest.mark.parametrize("vif", [
    model.VIF(port_id="other", mac="FA:16:3E:00:00:01", bridge="brq-x"),  # its MAC
    model.VIF(port_id="11111111-1111", mac="fa:16:3e:00:00:09", bridge="brq-x"),  # its tap
])
def test_a_nic_the_guest_has_is_busy(drv: libvirt_driver.LibvirtDriver, inst: model.Instance,
                                     monkeypatch: Any, vif: model.VIF) -> None:
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid))
    with pytest.raises(exception.DeviceIsBusy):
        drv.attach_interface(None, inst, IMAGE, vif)
    assert dom.calls == []


def test_no_hotplug_on_a_suspended_guest(drv: libvirt_driver.LibvirtDriver,
                                         inst: model.Instance, monkeypatch: Any) -> None:
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid, active=False, saved=True))
    with pytest.raises(exception.InstanceInvalidState):
        drv.attach_interface(None, inst, IMAGE, VIF)
    with pytest.raises(exception.InstanceInvalidState):
        drv.detach_interface(None, inst, VIF)
    assert dom.calls == []


def test_libvirt_refusing_an_attach(drv: libvirt_driver.LibvirtDriver, inst: model.Instance,
                                    monkeypatch: Any) -> None:
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid))
    libvirt.virResetLastError()
    dom.fail = libvirt.libvirtError("cannot create tap device")
    with pytest.raises(exception.InterfaceAttachFailed, match=PORT):
        drv.attach_interface(None, inst, IMAGE, VIF)


def test_detach_from_a_running_guest(drv: libvirt_driver.LibvirtDriver, inst: model.Instance,
                                     monkeypatch: Any, clock: Clock) -> None:
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid))
    drv.attach_interface(None, inst, IMAGE, VIF)
    dom.calls.clear()
    dom.release_after = 3  # a slow guest: asked again every 5 s
    drv.detach_interface(None, inst, VIF)
    assert dom.calls == [("detach", CONFIG)] + [("detach", LIVE)] * 3
    assert dom.macs() == dom.macs(live=True) == ["fa:16:3e:00:00:01"]
    assert 10 <= clock.now < 11


def test_detach_that_the_guest_ignores(drv: libvirt_driver.LibvirtDriver, conf: cfg.ConfigOpts,
                                       inst: model.Instance, monkeypatch: Any) -> None:
    conf.set_override("device_detach_timeout", 12, group="libvirt")
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid))
    drv.attach_interface(None, inst, IMAGE, VIF)
    dom.release_after = 1000
    with pytest.raises(exception.DeviceDetachFailed, match="within 12 s"):
        drv.detach_interface(None, inst, VIF)
    assert dom.macs() == ["fa:16:3e:00:00:01"]
    assert dom.macs(live=True) == ["fa:16:3e:00:00:01", "fa:16:3e:00:00:02"]


def test_detach_from_a_stopped_guest(drv: libvirt_driver.LibvirtDriver, inst: model.Instance,
                                     monkeypatch: Any) -> None:
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid, active=False))
    drv.attach_interface(None, inst, IMAGE, VIF)
    drv.detach_interface(None, inst, VIF)
    assert dom.calls[1:] == [("detach", CONFIG)] and dom.macs() == ["fa:16:3e:00:00:01"]


def test_detach_of_a_nic_the_guest_lacks_is_a_no_op(
        drv: libvirt_driver.LibvirtDriver, inst: model.Instance, monkeypatch: Any) -> None:
    dom = _with(drv, monkeypatch, StubDomain(inst.uuid))
    drv.detach_interface(None, inst, VIF)
    assert dom.calls == []


def test_unknown_domain_on_the_test_driver(drv: libvirt_driver.LibvirtDriver,
                                           inst: model.Instance) -> None:
    assert drv.supports_interface_hotplug
    with pytest.raises(exception.InstanceNotFound):
        drv.attach_interface(None, inst, IMAGE, VIF)
    with pytest.raises(exception.InstanceNotFound):
        drv.detach_interface(None, inst, VIF)
