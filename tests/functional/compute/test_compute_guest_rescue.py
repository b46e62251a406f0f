"""Rescue and boot from volume with the libvirt driver and a real guest under
libvirtd/QEMU, as root (the world of test_libvirt_driver.py: the tiny guest
image booted directly, a bridge with dnsmasq and a metadata stand-in).

* Rescue: the guest is powered off and the rescue domain boots the image's
  kernel with the rescue disk first and the guest's own disk second (the guest
  reports ``disks vda vdb`` on its console); unrescue boots the guest's own
  domain again (``disks vda``) and leaves no rescue file behind.
* Boot from volume: a volume (a raw file, as block storage's file target hands
  it) made from the 1 MiB disk is the root disk, and the guest boots with the
  image's kernel and ramdisk, which the node takes from the instance's image
  metadata (no image id: a volume-backed server has no image), with no local
  disk at all.
"""
from __future__ import annotations

import os
import time

import pytest

from tests.functional.compute.test_libvirt_driver import (  # noqa: F401 (fixtures)
    BOOT_TIMEOUT, GuestEnv, _skip_reason, _wait_for, env, image, libvirtd)

pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


@pytest.fixture
def guest(env: GuestEnv) -> GuestEnv:  # noqa: F811 (the imported fixture)
    return env


def _disks(text: str) -> list[str]:
    """What each boot of the guest reported: its ``disks ...`` console lines."""
    return [line.strip()[len("stratus-guest: disks "):] for line in text.splitlines()
            if line.strip().startswith("stratus-guest: disks ")]


def test_rescue_and_unrescue_a_real_guest(guest: GuestEnv) -> None:
    from compute.virt import power_state
    from compute.virt.libvirt import rescue

    world = guest
    drv, inst, vif, log = world.drv, world.inst, world.vif, world.log
    drv.spawn(None, inst, world.image_meta, [vif], wait_for_vifs=world.plug)
    _wait_for("the guest's boot", lambda: _disks(log()) == ["vda"], BOOT_TIMEOUT, log)
    started = time.monotonic()
    drv.power_off(inst)
    drv.rescue(None, inst, [vif], world.image_meta, "rescue-pw")
    world.plug()
    assert drv.get_info(inst).state == power_state.RUNNING
    _wait_for("the rescue boot with both disks", lambda: _disks(log()) == ["vda", "vda vdb"],
              BOOT_TIMEOUT, log)
    print("rescue boot after %.1f s" % (time.monotonic() - started))
    directory = drv.instance_dir(inst.uuid)
    assert os.path.exists(os.path.join(directory, rescue.UNRESCUE_XML))

    drv.unrescue(None, inst, [vif])
    world.plug()
    assert drv.get_info(inst).state == power_state.RUNNING
    _wait_for("the guest's own boot again",
              lambda: _disks(log()) == ["vda", "vda vdb", "vda"], BOOT_TIMEOUT, log)
    assert sorted(f for f in os.listdir(directory) if "rescue" in f) == []
    drv.destroy(None, inst, [vif])
    assert not os.path.exists(directory)


def test_boot_from_a_volume_with_the_images_kernel(guest: GuestEnv) -> None:
    from compute.virt import model

    world = guest
    drv, inst, vif, log = world.drv, world.inst, world.vif, world.log
    volume = os.path.join(world.work, "volume-root.raw")
    with open(volume, "wb") as out:
        out.truncate(1024 * 1024)  # what block storage writes from the 1 MiB "ami"
    os.chmod(volume, 0o644)
    # The image metadata a volume-backed server keeps: kernel, ramdisk, command line.
    meta = model.ImageMeta(kernel_id=world.image_meta.kernel_id,
                           ramdisk_id=world.image_meta.ramdisk_id,
                           os_command_line="console=ttyS0", disk_format="ami")
    root = {"driver_volume_type": "file", "serial": "vol-" + world.suffix,
            "data": {"device_path": volume, "format": "raw"}}
    bdi = model.BlockDeviceInfo(volumes=(model.BlockDevice("/dev/vda", root),))
    drv.spawn(None, inst, meta, [vif], bdi, wait_for_vifs=world.plug)
    _wait_for("the guest's boot from its volume", lambda: _disks(log()) == ["vda"],
              BOOT_TIMEOUT, log)
    directory = drv.instance_dir(inst.uuid)
    assert not os.path.exists(os.path.join(directory, "disk"))
    xml = drv.hypervisor.lookup(inst.uuid).XMLDesc(0)
    assert volume in xml and os.path.join(directory, "kernel") in xml
    assert sorted(world.fetched) == sorted(world.images)  # kernel and ramdisk, no disk image
    drv.destroy(None, inst, [vif], bdi)
    assert os.path.exists(volume), "the volume is block storage's"
    assert not os.path.exists(directory)
