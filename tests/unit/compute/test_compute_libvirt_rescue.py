"""The libvirt driver's rescue and unrescue (compute/virt/libvirt/rescue.py)
against libvirt's test driver (a private ``test:///<file>`` host per test),
with real ``qemu-img`` for the disks and a fake ``fetch_image``: the rescue
domain (rescue disk first, the instance's root disk second, the rescue image's
kernel), the kept definition, unrescue, a failed rescue and destroy."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

import pytest

libvirt = pytest.importorskip("libvirt")

from compute.virt import exception  # noqa: E402
from compute.virt import model  # noqa: E402
from compute.virt import power_state  # noqa: E402
from compute.virt.libvirt import driver as libvirt_driver  # noqa: E402
from compute.virt.libvirt import rescue  # noqa: E402
from tests.fixtures import libvirt as fx_libvirt  # noqa: E402
from tests.fixtures.libvirt import Clock  # noqa: E402

MiB = 1024 * 1024
IMAGE = model.ImageMeta(id="img-raw", disk_format="raw")
RESCUE_IMAGE = model.ImageMeta(id="img-rescue", disk_format="ami", kernel_id="img-kernel",
                               ramdisk_id="img-ramdisk", os_command_line="rescue")


class Images:
    """A fake image service: every id is a 1 MiB raw image naming itself."""

    def __init__(self) -> None:
        self.fail: Exception | None = None

    def __call__(self, context: Any, image_id: str, dest: str) -> None:
        if self.fail is not None:
            raise self.fail
        with open(dest, "wb") as out:
            out.write(b"STRATUS %s\n" % image_id.encode())
            out.truncate(MiB)


@pytest.fixture
def images() -> Images:
    return Images()


@pytest.fixture
def drv(tmp_path: Any, images: Images) -> Iterator[libvirt_driver.LibvirtDriver]:
    (tmp_path / "node.xml").write_text("<node/>")
    conf = fx_libvirt.make_conf(tmp_path, "test://%s/node.xml" % tmp_path)
    conf.set_override("virt_type", "qemu", group="libvirt")
    clock = Clock()
    node = libvirt_driver.LibvirtDriver(conf, "node-1", fetch_image=images, clock=clock,
                                        sleep=clock.sleep)
    node.init_host("node-1")
    yield node
    node.cleanup_host("node-1")


VIF = model.VIF(port_id=str(uuid.uuid4()), mac="fa:16:3e:12:34:56", bridge="brq-net",
                mtu=1450, network_id="net-1")


def _spawned(drv: libvirt_driver.LibvirtDriver) -> model.Instance:
    uid = str(uuid.uuid4())
    inst = model.Instance(uuid=uid, name="instance-" + uid[:8], memory_mb=128, vcpus=1,
                          root_gb=1, display_name="vm", project_id="proj")
    drv.spawn(None, inst, IMAGE, [VIF])
    return inst


def _xml(drv: libvirt_driver.LibvirtDriver, inst: model.Instance) -> ET.Element:
    return ET.fromstring(drv.hypervisor.lookup(inst.uuid).XMLDesc(0))


def _disks(xml: ET.Element) -> list[tuple[str | None, str | None]]:
    return [(d.find("target").get("dev"), d.find("source").get("file"))  # type: ignore[union-attr]
            for d in xml.findall("devices/disk")]


def test_rescue_and_unrescue(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _spawned(drv)
    directory = drv.instance_dir(inst.uuid)
    own = _xml(drv, inst)
    tap = own.find("devices/interface/target").get("dev")  # type: ignore[union-attr]
    drv.power_off(inst)
    drv.rescue(None, inst, [VIF], RESCUE_IMAGE, "pw")
    assert drv.get_info(inst).state == power_state.RUNNING
    xml = _xml(drv, inst)
    assert (xml.findtext("name"), xml.findtext("uuid")) == (inst.name, inst.uuid)
    assert _disks(xml) == [("vda", os.path.join(directory, rescue.RESCUE_DISK)),
                           ("vdb", os.path.join(directory, "disk"))]
    assert xml.findtext("os/kernel") == os.path.join(directory, rescue.RESCUE_KERNEL)
    assert xml.findtext("os/initrd") == os.path.join(directory, rescue.RESCUE_RAMDISK)
    assert xml.findtext("os/cmdline") == "rescue console=ttyS0"
    # The same tap (the network agent plugs it again) and console log.
    assert xml.find("devices/interface/target").get("dev") == tap  # type: ignore[union-attr]
    assert xml.find("devices/serial/log").get("file") == os.path.join(  # type: ignore[union-attr]
        directory, "console.log")
    assert os.path.exists(os.path.join(directory, rescue.UNRESCUE_XML))

    drv.unrescue(None, inst, [VIF])
    assert drv.get_info(inst).state == power_state.RUNNING
    back = _xml(drv, inst)
    assert _disks(back) == _disks(own) == [("vda", os.path.join(directory, "disk"))]
    assert back.find("os/kernel") is None
    assert sorted(os.listdir(directory)) == ["disk"]


def test_a_second_rescue_keeps_the_instances_own_definition(
        drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _spawned(drv)
    own = _disks(_xml(drv, inst))
    drv.rescue(None, inst, [], RESCUE_IMAGE, None)
    drv.rescue(None, inst, [], IMAGE, None)
    assert _xml(drv, inst).find("os/kernel") is None
    assert _disks(_xml(drv, inst))[1] == ("vdb", own[0][1])
    drv.unrescue(None, inst, [])
    assert _disks(_xml(drv, inst)) == own


def test_unrescue_of_a_guest_not_rescued_starts_it(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _spawned(drv)
    drv.power_off(inst)
    drv.unrescue(None, inst, [])
    assert drv.get_info(inst).state == power_state.RUNNING
    missing = model.Instance(uuid=str(uuid.uuid4()), name="nobody", memory_mb=64, vcpus=1)
    with pytest.raises(exception.InstanceNotFound):
        drv.unrescue(None, missing, [])
    with pytest.raises(exception.InstanceNotFound):
        drv.rescue(None, missing, [], RESCUE_IMAGE, None)


def test_a_failed_rescue_puts_the_instances_guest_back(drv: libvirt_driver.LibvirtDriver,
                                                      images: Images) -> None:
    inst = _spawned(drv)
    own = _disks(_xml(drv, inst))
    drv.power_off(inst)
    images.fail = OSError("the image service is gone")
    with pytest.raises(OSError):
        drv.rescue(None, inst, [], model.ImageMeta(id="img-new", disk_format="raw"), None)
    assert _disks(_xml(drv, inst)) == own
    assert drv.get_info(inst).state == power_state.SHUTDOWN
    assert sorted(os.listdir(drv.instance_dir(inst.uuid))) == ["disk"]
    with pytest.raises(exception.InstanceRescueFailure):
        drv.rescue(None, inst, [], model.ImageMeta(), None)
    assert _disks(_xml(drv, inst)) == own


def test_destroy_of_a_rescued_guest_leaves_nothing(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _spawned(drv)
    drv.rescue(None, inst, [], RESCUE_IMAGE, None)
    drv.destroy(None, inst, [])
    assert inst.uuid not in drv.list_instance_uuids()
    assert not os.path.exists(drv.instance_dir(inst.uuid))
