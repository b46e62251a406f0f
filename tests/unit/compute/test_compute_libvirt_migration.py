"""Cold migration and resize of the libvirt driver against libvirt's test driver
(a private ``test:///<file>`` host per node) with real ``qemu-img``: resize up,
confirm and revert on one host, a resize down refused, a "second host" on the
same file system (its own instances_path and image cache), and what ``destroy``
does with a ``<uuid>_resize`` directory.
"""
from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

import pytest

libvirt = pytest.importorskip("libvirt")

from oslo_config import cfg  # noqa: E402

from compute.conf import virt as virt_conf  # noqa: E402
from compute.virt import exception  # noqa: E402
from compute.virt import model  # noqa: E402
from compute.virt import power_state  # noqa: E402
from compute.virt.libvirt import driver as libvirt_driver  # noqa: E402
from compute.virt.libvirt import imagecache  # noqa: E402
from compute.virt.libvirt import migration  # noqa: E402

GiB = 1024 ** 3
MiB = 1024 * 1024
IMAGE = model.ImageMeta(id="img-raw", disk_format="raw")
KERNEL_IMAGE = model.ImageMeta(id="img-ami", disk_format="ami", kernel_id="img-kernel",
                               ramdisk_id="img-ramdisk", os_command_line="quiet")
Driver = libvirt_driver.LibvirtDriver


def fetch_image(context: Any, image_id: str, dest: str) -> None:
    if image_id.startswith("qcow2-"):
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", dest,
                        image_id.split("-")[1]], check=True)
        return
    with open(dest, "wb") as out:
        out.write(b"STRATUS %s\n" % image_id.encode())
        out.truncate(MiB)


def _node(tmp_path: Any, name: str) -> Driver:
    (tmp_path / ("%s.xml" % name)).write_text("<node/>")
    conf = cfg.ConfigOpts()
    virt_conf.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override("connection_uri", "test://%s/%s.xml" % (tmp_path, name),
                      group="libvirt")
    conf.set_override("instances_path", str(tmp_path / name / "instances"), group="libvirt")
    conf.set_override("virt_type", "qemu", group="libvirt")
    node = Driver(conf, name, fetch_image=fetch_image, sleep=lambda s: None)
    node.init_host(name)
    return node


@pytest.fixture
def drv(tmp_path: Any) -> Iterator[Driver]:
    node = _node(tmp_path, "node-1")
    yield node
    node.cleanup_host("node-1")


def _instance(uid: str | None = None, memory_mb: int = 128, vcpus: int = 1,
              root_gb: int = 1) -> model.Instance:
    uid = uid or str(uuid.uuid4())
    return model.Instance(uuid=uid, name="instance-" + uid[:8], memory_mb=memory_mb,
                          vcpus=vcpus, root_gb=root_gb, display_name="vm", project_id="proj")


def _flavor(inst: model.Instance) -> dict[str, Any]:
    return {"memory_mb": inst.memory_mb, "vcpus": inst.vcpus, "root_gb": inst.root_gb,
            "ephemeral_gb": 0}


def _vif() -> model.VIF:
    port = str(uuid.uuid4())
    return model.VIF(port_id=port, mac="fa:16:3e:12:34:56", bridge="brq" + port[:11], mtu=1450)


def _xml(node: Driver, inst: model.Instance) -> ET.Element:
    return ET.fromstring(node.hypervisor.lookup(inst.uuid).XMLDesc(0))


def _state(node: Driver, inst: model.Instance) -> Any:
    return node.get_info(inst).state


def _size(path: str) -> int:
    return int(imagecache.image_info(path)["virtual-size"])


def _disk(node: Driver, inst: model.Instance) -> str:
    return os.path.join(node.instance_dir(inst.uuid), "disk")


def _write(path: str, text: str) -> None:
    with open(path, "w") as out:
        out.write(text)


def _read(path: str) -> str:
    with open(path) as handle:
        return handle.read()


def _resized(node: Driver, old: model.Instance, new: model.Instance, vifs: list[model.VIF],
             image: model.ImageMeta = IMAGE, dest: Driver | None = None,
             **kwargs: Any) -> dict[str, Any]:
    """Migrate ``old`` from ``node`` to ``dest`` (``node``) with ``new``'s size."""
    dest = dest or node
    disk_info = node.migrate_disk_and_power_off(None, old, dest.host, _flavor(new), vifs)
    disk_info = json.loads(json.dumps(disk_info))  # it travels through the database
    dest.finish_migration(None, {}, new, disk_info, vifs, image,
                          resize_instance=new.root_gb != old.root_gb, **kwargs)
    return disk_info


# -- resize up, confirm, revert on one host ----------------------------------------------

def test_resize_up_on_one_host(drv: Driver) -> None:
    old = _instance()
    vif = _vif()
    drv.spawn(None, old, IMAGE, [vif])
    directory = drv.instance_dir(old.uuid)
    kept = directory + "_resize"
    _write(os.path.join(directory, "console.log"), "first boot\n")
    disk_info = drv.migrate_disk_and_power_off(None, old, drv.host,
                                               {"root_gb": 2, "memory_mb": 256}, [vif])
    assert not drv.instance_exists(old) and old.uuid not in drv.list_instance_uuids()
    assert not os.path.exists(directory) and os.path.isfile(os.path.join(kept, "disk"))
    assert json.loads(json.dumps(disk_info)) == disk_info
    [disk] = disk_info["disks"]
    assert (disk["name"], disk["format"], disk["path"]) == ("disk", "qcow2",
                                                            os.path.join(kept, "disk"))
    assert disk["backing_file"] == os.path.join(drv.instances_path, "_base", "img-raw")
    assert (disk["image_id"], disk["backing_format"]) == ("img-raw", "raw")
    assert disk["virtual_size"] == GiB and disk["target"] == "vda"
    assert (disk_info["source_host"], disk_info["dest_host"]) == ("node-1", "node-1")
    assert disk_info["resize_dir"] == kept

    new = _instance(old.uuid, memory_mb=256, vcpus=2, root_gb=2)
    drv.finish_migration(None, {}, new, disk_info, [vif], IMAGE, resize_instance=True)
    assert _state(drv, new) == power_state.RUNNING
    xml = _xml(drv, new)
    assert xml.findtext("memory") == str(256 * 1024) and xml.findtext("vcpu") == "2"
    assert xml.find("devices/disk/source").get("file") == _disk(drv, new)  # type: ignore
    assert xml.find("devices/interface/target").get("dev") == vif.tap_name  # type: ignore
    assert _size(_disk(drv, new)) == 2 * GiB
    assert imagecache.image_info(_disk(drv, new))["backing-filename"] == disk["backing_file"]
    assert _size(os.path.join(kept, "disk")) == GiB  # a copy: the revert still has the old
    assert _read(os.path.join(directory, "console.log")) == "first boot\n"
    assert not os.path.exists(os.path.join(directory, migration.RESIZE_INFO))
    used = drv.get_available_resource()
    assert (used.memory_mb_used, used.vcpus_used, used.local_gb_used) == (256, 2, 2)


def test_confirm_removes_the_old_disks(drv: Driver) -> None:
    old, vif = _instance(), _vif()
    drv.spawn(None, old, IMAGE, [vif])
    new = _instance(old.uuid, memory_mb=256, root_gb=2)
    _resized(drv, old, new, [vif])
    kept = drv.instance_dir(old.uuid) + "_resize"
    assert os.path.isdir(kept)
    drv.confirm_migration(None, {}, new, [vif])
    assert not os.path.exists(kept)
    drv.confirm_migration(None, {}, new, [vif])  # idempotent
    assert _state(drv, new) == power_state.RUNNING and _size(_disk(drv, new)) == 2 * GiB
    drv.destroy(None, new, [vif])
    assert not os.path.exists(drv.instance_dir(new.uuid))


def test_revert_on_one_host_brings_the_old_guest_back(drv: Driver) -> None:
    old, vif = _instance(), _vif()
    drv.spawn(None, old, IMAGE, [vif])
    directory = drv.instance_dir(old.uuid)
    _write(os.path.join(directory, "console.log"), "old guest\n")
    new = _instance(old.uuid, memory_mb=256, vcpus=2, root_gb=2)
    _resized(drv, old, new, [vif])
    _write(os.path.join(directory, "console.log"), "resized guest\n")
    # What the node does on the destination (this host): destroy, keeping the disks.
    drv.destroy(None, new, [vif], destroy_disks=False)
    assert os.path.isdir(directory + "_resize")
    drv.finish_revert_migration(None, old, [vif], {})
    assert _state(drv, old) == power_state.RUNNING
    xml = _xml(drv, old)
    assert xml.findtext("memory") == str(128 * 1024) and xml.findtext("vcpu") == "1"
    assert _size(_disk(drv, old)) == GiB
    assert _read(os.path.join(directory, "console.log")) == "old guest\n"
    assert not os.path.exists(directory + "_resize")
    assert sorted(os.listdir(directory)) == ["console.log", "disk"]
    with pytest.raises(exception.InstanceNotFound):  # nothing kept any more
        drv.finish_revert_migration(None, old, [vif], {})


def test_revert_undefines_a_resized_guest_still_there(drv: Driver) -> None:
    old = _instance()
    drv.spawn(None, old, IMAGE, [])
    new = _instance(old.uuid, memory_mb=256)
    _resized(drv, old, new, [])
    drv.finish_revert_migration(None, old, [], {}, power_on=False)
    assert _state(drv, old) == power_state.SHUTDOWN
    assert _xml(drv, old).findtext("memory") == str(128 * 1024)


@pytest.mark.parametrize("before", [power_state.SHUTDOWN, power_state.PAUSED],
                         ids=lambda s: s.label)
def test_resize_of_a_guest_not_running(drv: Driver, before: Any) -> None:
    old = _instance()
    drv.spawn(None, old, IMAGE, [])
    getattr(drv, {power_state.SHUTDOWN: "power_off", power_state.PAUSED: "pause"}[before])(old)
    new = _instance(old.uuid, memory_mb=192)
    _resized(drv, old, new, [], power_on=False)
    assert _state(drv, new) == power_state.SHUTDOWN
    assert _xml(drv, new).findtext("memory") == str(192 * 1024)


def test_a_running_guest_is_asked_to_shut_down_first(drv: Driver, monkeypatch: Any) -> None:
    old = _instance()
    drv.spawn(None, old, IMAGE, [])
    calls: list[str] = []
    real = libvirt.virDomain.shutdown
    monkeypatch.setattr(libvirt.virDomain, "shutdown",
                        lambda dom: (calls.append("shutdown"), real(dom))[1])
    drv.migrate_disk_and_power_off(None, old, drv.host, _flavor(old), [])
    assert calls == ["shutdown"]


def test_direct_kernel_boot_survives_a_resize(drv: Driver) -> None:
    old = _instance()
    drv.spawn(None, old, KERNEL_IMAGE, [])
    new = _instance(old.uuid, memory_mb=256)
    disk_info = _resized(drv, old, new, [], image=model.ImageMeta())
    directory = drv.instance_dir(old.uuid)
    assert disk_info["boot"] == {"kernel": "kernel", "initrd": "ramdisk",
                                 "cmdline": "quiet console=ttyS0"}
    xml = _xml(drv, new)
    assert xml.findtext("os/kernel") == os.path.join(directory, "kernel")
    assert xml.findtext("os/initrd") == os.path.join(directory, "ramdisk")
    assert xml.findtext("os/cmdline") == "quiet console=ttyS0"
    kept_kernel = os.path.join(directory + "_resize", "kernel")
    assert os.stat(kept_kernel).st_ino == os.stat(os.path.join(directory, "kernel")).st_ino
    drv.destroy(None, new, [], destroy_disks=False)
    drv.finish_revert_migration(None, old, [], {})
    assert _xml(drv, old).findtext("os/cmdline") == "quiet console=ttyS0"


# -- refusals and failures -----------------------------------------------------------------

@pytest.mark.parametrize(("image", "old_gb", "new_gb"), [
    (IMAGE, 2, 1), (IMAGE, 1, 0), (model.ImageMeta(id="qcow2-2G", disk_format="qcow2"), 0, 1),
], ids=["smaller", "zero", "smaller-than-the-image"])
def test_resize_to_a_smaller_disk_is_refused(drv: Driver, image: model.ImageMeta,
                                             old_gb: int, new_gb: int) -> None:
    old = _instance(root_gb=old_gb)
    drv.spawn(None, old, image, [])
    with pytest.raises(exception.ResizeRefused, match="resize disk down") as err:
        drv.migrate_disk_and_power_off(None, old, drv.host, {"root_gb": new_gb}, [])
    assert err.value.code == 400
    assert _state(drv, old) == power_state.RUNNING  # untouched
    assert os.path.exists(_disk(drv, old))
    assert not os.path.exists(drv.instance_dir(old.uuid) + "_resize")


def test_a_volume_backed_guest_has_no_disk_to_refuse(drv: Driver) -> None:
    old = _instance(root_gb=5)
    root = {"driver_volume_type": "block", "data": {"device_path": "/dev/loop7"}}
    bdi = model.BlockDeviceInfo(volumes=(model.BlockDevice("/dev/vda", root),))
    drv.spawn(None, old, IMAGE, [], bdi)
    new = _instance(old.uuid, root_gb=0, memory_mb=256)
    disk_info = _resized(drv, old, new, [], block_device_info=bdi)
    assert disk_info["disks"] == []
    [disk] = _xml(drv, new).findall("devices/disk")
    assert disk.get("type") == "block"


def test_unknown_instances(drv: Driver) -> None:
    inst = _instance()
    with pytest.raises(exception.InstanceNotFound):
        drv.migrate_disk_and_power_off(None, inst, drv.host, _flavor(inst), [])
    with pytest.raises(exception.InstanceNotFound):
        drv.finish_revert_migration(None, inst, [], {})
    drv.confirm_migration(None, {}, inst, [])


def test_a_failed_move_restores_the_guest(drv: Driver, monkeypatch: Any) -> None:
    old = _instance()
    drv.spawn(None, old, IMAGE, [])

    def undefine(dom: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(migration.guest, "undefine", undefine)
    with pytest.raises(exception.ResizeRefused, match="No space left"):
        drv.migrate_disk_and_power_off(None, old, drv.host, _flavor(old), [])
    assert _state(drv, old) == power_state.RUNNING
    assert os.path.exists(_disk(drv, old))
    assert not os.path.exists(drv.instance_dir(old.uuid) + "_resize")
    assert not os.path.exists(os.path.join(drv.instance_dir(old.uuid), migration.RESIZE_INFO))


def test_finish_migration_conflicts_and_unreachable_disks(drv: Driver) -> None:
    old = _instance()
    drv.spawn(None, old, IMAGE, [])
    disk_info = drv.migrate_disk_and_power_off(None, old, "node-2", _flavor(old), [])
    drv.spawn(None, old, IMAGE, [])  # someone took the name meanwhile
    with pytest.raises(exception.InstanceExists):
        drv.finish_migration(None, {}, old, disk_info, [], IMAGE, False)
    drv.destroy(None, old, [], destroy_disks=False)
    assert os.path.isdir(disk_info["resize_dir"])
    with pytest.raises(exception.InstanceDeployFailure, match="shared storage"):
        drv.finish_migration(None, {}, old, dict(disk_info, resize_dir="/nonexistent"), [],
                             IMAGE, False)


def test_a_failed_finish_removes_the_copy_and_keeps_the_old(drv: Driver,
                                                           monkeypatch: Any) -> None:
    old = _instance()
    drv.spawn(None, old, IMAGE, [])
    disk_info = drv.migrate_disk_and_power_off(None, old, drv.host, _flavor(old), [])
    bad = model.BlockDeviceInfo(volumes=(model.BlockDevice("/dev/vdb", {
        "driver_volume_type": "rbd", "data": {}}),))
    with pytest.raises(exception.VolumeDriverNotFound):
        drv.finish_migration(None, {}, old, disk_info, [], IMAGE, False, bad)
    assert not os.path.exists(drv.instance_dir(old.uuid))
    assert not drv.instance_exists(old)
    drv.finish_revert_migration(None, old, [], {})
    assert _state(drv, old) == power_state.RUNNING


# -- two hosts on one file system, and destroy vs <uuid>_resize ------------------------------

def test_migration_to_another_host_on_the_same_file_system(drv: Driver, tmp_path: Any) -> None:
    other = _node(tmp_path, "node-2")
    try:
        old, vif = _instance(), _vif()
        drv.spawn(None, old, IMAGE, [vif])
        new = _instance(old.uuid, memory_mb=256, root_gb=3)
        _resized(drv, old, new, [vif], dest=other)
        disk = _disk(other, new)
        assert _state(other, new) == power_state.RUNNING and _size(disk) == 3 * GiB
        # Rebased onto node-2's own cache (fetched there).
        assert imagecache.image_info(disk)["backing-filename"] == os.path.join(
            other.instances_path, "_base", "img-raw")
        # Revert: node-2 destroys its guest with its disks, node-1 takes the old back.
        other.destroy(None, new, [vif])
        assert not os.path.exists(other.instance_dir(new.uuid))
        drv.finish_revert_migration(None, old, [vif], {})
        assert _state(drv, old) == power_state.RUNNING and _size(_disk(drv, old)) == GiB
        # Again, and confirm.
        _resized(drv, old, new, [vif], dest=other)
        drv.confirm_migration(None, {}, old, [vif])
        assert not os.path.exists(drv.instance_dir(old.uuid) + "_resize")
        assert _state(other, new) == power_state.RUNNING
    finally:
        other.cleanup_host("node-2")


def test_destroy_removes_a_leftover_resize_directory(drv: Driver) -> None:
    old = _instance()
    drv.spawn(None, old, IMAGE, [])
    new = _instance(old.uuid, memory_mb=256)
    _resized(drv, old, new, [])
    kept = drv.instance_dir(old.uuid) + "_resize"
    drv.destroy(None, new, [], destroy_disks=False)
    assert os.path.isdir(kept)  # the same-host revert keeps it
    drv.destroy(None, new, [])  # a delete of the resized instance: nothing is left
    assert not os.path.exists(kept) and not os.path.exists(drv.instance_dir(old.uuid))


def test_destroy_keeps_what_another_host_kept(drv: Driver) -> None:
    inst = _instance()
    kept = drv.instance_dir(inst.uuid) + "_resize"
    os.makedirs(kept)
    _write(os.path.join(kept, migration.RESIZE_INFO), json.dumps({"source_host": "node-0"}))
    drv.destroy(None, inst, [])
    assert os.path.isdir(kept)
    _write(os.path.join(kept, migration.RESIZE_INFO), "not json")
    drv.destroy(None, inst, [])
    assert not os.path.exists(kept)
