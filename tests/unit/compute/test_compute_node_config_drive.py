"""The config drive, built by the node and attached by the driver.

Node level (the real ComputeManager, the fake driver writing its images in a
temporary directory, a fake conductor): a drive only when the instance asked
for one, its image demands one or ``[DEFAULT] force_config_drive``; what it holds
(read back from the ISO); the same documents as the metadata API; rebuild,
unshelve, resize, delete; diagnostics. Driver level (libvirt's test driver, real
``qemu-img``): the ``disk.config`` CD-ROM in the domain XML (bus, target,
read-only), removed with the instance, kept by a rescue and a resize.
"""
from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

import pytest

from compute import states
from compute.metadata import configdrive
from compute.metadata import content
from compute.node import manager as node_manager
from compute.virt import exception as virt_exception
from compute.virt import fake
from compute.virt import model
from compute.virt.libvirt import config
from tests.fixtures import compute_node as fx
from tests.fixtures import libvirt as fx_libvirt

if TYPE_CHECKING:
    from compute.virt.libvirt import driver as libvirt_driver

LIMITS = {"vcpu": 64.0, "memory_mb": 65536.0, "disk_gb": 1000.0}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOfTheTest test@stratus"
USER_DATA = b"#!/bin/sh\necho hello from the config drive\n"
MIGRATION = "9a9a9a9a-0000-4000-8000-000000000002"
SHELVED_IMAGE = "99999999-8888-7777-6666-555555555555"


@pytest.fixture
def cloud(tmp_path: Any) -> Iterator[fx.Cloud]:
    found = fx.Cloud(str(tmp_path))
    yield found
    found.close()


def _node(cloud: fx.Cloud, tmp_path: Any, host: str = "node-1") -> node_manager.ComputeManager:
    driver = fake.FakeDriver(host, vcpus=8, memory_mb=4096, local_gb=100,
                             config_drive_dir=str(tmp_path / host / "drives"))
    manager = cloud.add_node(host, driver=driver)
    manager.init_host()
    return manager


def _driver(node: node_manager.ComputeManager) -> fake.FakeDriver:
    assert isinstance(node.driver, fake.FakeDriver)
    return node.driver


def _boot(cloud: fx.Cloud, node: node_manager.ComputeManager, **values: Any) -> dict[str, Any]:
    inst = cloud.conductor.new_instance(node.host, **values)
    cloud.conductor.store.set_metadata(inst["uuid"], {"role": "db"}, False)
    node.build_and_run_instance(fx.ctxt(), inst["uuid"], {}, LIMITS, node.host)
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert got["vm_state"] == states.ACTIVE
    return got


def _asked(**values: Any) -> dict[str, Any]:
    """A server created with config_drive true, a key, user data and a name."""
    return dict({"config_drive": "True", "key_name": "mykey", "key_data": KEY,
                 "user_data": base64.b64encode(USER_DATA).decode(), "hostname": "web-1",
                 "display_name": "web 1", "availability_zone": "zone-a"}, **values)


def _files(node: node_manager.ComputeManager, uuid_: str) -> dict[str, bytes]:
    path = _driver(node).config_drive_path(uuid_)
    assert path is not None and os.path.isfile(path)
    assert configdrive.volume_label(path) == "config-2"
    return configdrive.read_config_drive(path)


def _meta(files: dict[str, bytes]) -> dict[str, Any]:
    return dict(json.loads(files["openstack/latest/meta_data.json"]))


def _diagnostics(node: node_manager.ComputeManager, uuid_: str) -> dict[str, Any]:
    return node.get_diagnostics(fx.ctxt(), uuid_)


# -- when ---------------------------------------------------------------------------


def test_no_drive_unless_asked(cloud: fx.Cloud, tmp_path: Any) -> None:
    node = _node(cloud, tmp_path)
    got = _boot(cloud, node)
    assert _driver(node).config_drives == {}
    path = _driver(node).config_drive_path(got["uuid"])
    assert path is not None and not os.path.exists(path)
    diagnostics = _diagnostics(node, got["uuid"])
    assert diagnostics["config_drive"] is False and diagnostics["num_disks"] == 1


def test_spawn_builds_the_drive_the_server_asked_for(cloud: fx.Cloud, tmp_path: Any) -> None:
    node = _node(cloud, tmp_path)
    got = _boot(cloud, node, **_asked())
    uid = got["uuid"]
    files = _files(node, uid)
    meta = _meta(files)
    assert meta["uuid"] == uid
    assert meta["hostname"] == "web-1.novalocal"
    assert meta["name"] == "web 1" and meta["availability_zone"] == "zone-a"
    assert meta["public_keys"] == {"mykey": KEY}
    assert meta["keys"] == [{"name": "mykey", "type": "ssh", "data": KEY}]
    assert meta["meta"] == {"role": "db"} and meta["project_id"] == "p1"
    assert files["openstack/latest/user_data"] == USER_DATA
    assert files["ec2/latest/user-data"] == USER_DATA
    ec2 = json.loads(files["ec2/latest/meta-data.json"])
    assert ec2["public-keys"]["0"]["openssh-key"] == KEY
    network = json.loads(files["openstack/latest/network_data.json"])
    vif = got["network_info"][0]
    assert [(link["id"], link["ethernet_mac_address"]) for link in network["links"]] == [
        ("tap" + vif["id"][:11], vif["address"])]
    assert network["networks"][0]["link"] == "tap" + vif["id"][:11]
    assert "openstack/latest/password" not in files  # the metadata API's only
    assert _driver(node).config_drives[uid].file("openstack/latest/user_data") == USER_DATA
    diagnostics = _diagnostics(node, uid)
    assert diagnostics["config_drive"] is True and diagnostics["num_disks"] == 2


def test_force_config_drive_gives_every_server_one(cloud: fx.Cloud, tmp_path: Any) -> None:
    cloud.conf.set_override("force_config_drive", True)
    node = _node(cloud, tmp_path)
    got = _boot(cloud, node)
    assert _meta(_files(node, got["uuid"]))["uuid"] == got["uuid"]
    assert "openstack/latest/user_data" not in _files(node, got["uuid"])


def test_an_image_that_demands_one(cloud: fx.Cloud, tmp_path: Any) -> None:
    cloud.neighbours.images[fx.IMAGE_ID]["img_config_drive"] = "mandatory"
    node = _node(cloud, tmp_path)
    got = _boot(cloud, node)
    assert set(_driver(node).config_drives) == {got["uuid"]}


def test_vendor_data_and_domain_from_the_nodes_metadata_options(cloud: fx.Cloud,
                                                               tmp_path: Any) -> None:
    vendor = tmp_path / "vendor.json"
    vendor.write_text(json.dumps({"ntp": "10.0.0.1"}))
    cloud.conf.set_override("vendordata_jsonfile_path", str(vendor), group="metadata")
    cloud.conf.set_override("dhcp_domain", "example.org", group="metadata")
    node = _node(cloud, tmp_path)
    files = _files(node, _boot(cloud, node, **_asked())["uuid"])
    assert json.loads(files["openstack/latest/vendor_data.json"]) == {"ntp": "10.0.0.1"}
    assert _meta(files)["hostname"] == "web-1.example.org"


def test_the_same_documents_as_the_metadata_api(cloud: fx.Cloud, tmp_path: Any) -> None:
    """Tagged devices from the mappings the conductor has; the API's function."""
    node = _node(cloud, tmp_path)
    inst = cloud.conductor.new_instance(node.host, **_asked())
    uid = inst["uuid"]
    cloud.conductor.bdms[uid] = [{
        "uuid": str(uuid.uuid4()), "instance_uuid": uid, "source_type": "image",
        "destination_type": "local", "boot_index": 0, "device_name": "/dev/vda",
        "tag": "os-disk", "volume_id": None, "disk_bus": "virtio"}]
    node.build_and_run_instance(fx.ctxt(), uid, {"block_device_mapping": []}, LIMITS,
                                node.host)
    got = cloud.conductor.instance_get(None, uid)
    meta = _meta(_files(node, uid))
    assert meta["devices"] == [{"type": "disk", "serial": None, "path": "/dev/vda",
                                "bus": "pci", "tags": ["os-disk"]}]
    served = content.instance_metadata(cloud.conf, got, cloud.conductor.bdms[uid])
    expected = served.meta_data()
    assert {k: v for k, v in meta.items() if k != "random_seed"} == \
        {k: v for k, v in expected.items() if k != "random_seed"}
    drive = _driver(node).config_drives[uid]
    assert drive.file("openstack/latest/network_data.json") == \
        served.lookup("openstack/latest/network_data.json").body


# -- the paths that make the disks again --------------------------------------------


def test_rebuild_builds_it_again(cloud: fx.Cloud, tmp_path: Any) -> None:
    node = _node(cloud, tmp_path)
    got = _boot(cloud, node, **_asked())
    uid = got["uuid"]
    cloud.conductor.store.update(uid, {
        "task_state": states.REBUILDING, "user_data": base64.b64encode(b"v2").decode()})
    node.rebuild_instance(fx.ctxt(), uid, fx.IMAGE_ID, False)
    assert cloud.conductor.instance_get(None, uid)["vm_state"] == states.ACTIVE
    files = _files(node, uid)
    assert files["openstack/latest/user_data"] == b"v2"
    assert _meta(files)["uuid"] == uid


def test_evacuation_builds_it_on_the_destination(cloud: fx.Cloud, tmp_path: Any) -> None:
    source, dest = _node(cloud, tmp_path), _node(cloud, tmp_path, "node-2")
    got = _boot(cloud, source, **_asked())
    uid = got["uuid"]
    cloud.conductor.store.update(uid, {"task_state": states.REBUILDING})
    cloud.conductor.migration_update(None, MIGRATION, {
        "instance_uuid": uid, "migration_type": "evacuation", "status": "accepted",
        "source_compute": "node-1", "source_node": "node-1"})
    dest.evacuate_instance(fx.ctxt(), uid, MIGRATION, "node-2", LIMITS)
    assert cloud.conductor.instance_get(None, uid)["host"] == "node-2"
    files = _files(dest, uid)
    assert _meta(files)["uuid"] == uid and files["openstack/latest/user_data"] == USER_DATA


def test_unshelve_on_another_node_builds_it(cloud: fx.Cloud, tmp_path: Any) -> None:
    node, other = _node(cloud, tmp_path), _node(cloud, tmp_path, "node-2")
    got = _boot(cloud, node, **_asked())
    uid = got["uuid"]
    cloud.conductor.store.update(uid, {"task_state": states.SHELVING})
    node.shelve_instance(fx.ctxt(), uid, SHELVED_IMAGE)
    assert _driver(node).config_drives == {}
    assert not os.path.exists(str(_driver(node).config_drive_path(uid)))
    cloud.neighbours.images[SHELVED_IMAGE] = dict(
        cloud.neighbours.images[fx.IMAGE_ID], id=SHELVED_IMAGE)
    cloud.conductor.store.update(uid, {"task_state": states.UNSHELVING, "host": "node-2",
                                       "node": "node-2"})
    other.unshelve_instance(fx.ctxt(), uid, "node-2", LIMITS)
    assert cloud.conductor.instance_get(None, uid)["vm_state"] == states.ACTIVE
    assert _meta(_files(other, uid))["uuid"] == uid


def test_resize_to_another_node_builds_it_there(cloud: fx.Cloud, tmp_path: Any) -> None:
    node, other = _node(cloud, tmp_path), _node(cloud, tmp_path, "node-2")
    got = _boot(cloud, node, **_asked())
    uid = got["uuid"]
    cloud.conductor.store.update(uid, {"task_state": states.RESIZE_PREP})
    cloud.conductor.migration_update(None, MIGRATION, {"status": "migrating",
                                                       "instance_uuid": uid})
    other.prep_resize(fx.ctxt(), uid, fx.BIG, MIGRATION, "node-2", LIMITS)
    cloud.rpc.pump()
    assert cloud.conductor.instance_get(None, uid)["vm_state"] == states.RESIZED
    assert _meta(_files(other, uid))["uuid"] == uid
    assert _diagnostics(other, uid)["config_drive"] is True
    assert uid in _driver(node).resized_config_drives  # kept for a revert


def test_live_migration_gives_the_destination_its_drive(cloud: fx.Cloud,
                                                         tmp_path: Any) -> None:
    source, dest = _node(cloud, tmp_path), _node(cloud, tmp_path, "node-2")
    uid = _boot(cloud, source, **_asked())["uuid"]
    ctxt = fx.ctxt()
    cloud.conductor.store.update(uid, {"task_state": states.MIGRATING})
    cloud.conductor.migration_update(None, MIGRATION, {
        "instance_uuid": uid, "migration_type": "live-migration", "status": "accepted",
        "source_compute": "node-1", "source_node": "node-1", "dest_compute": "node-2",
        "dest_node": "node-2"})
    data = dest.check_can_live_migrate_destination(ctxt, uid, MIGRATION, None, LIMITS)
    data = source.check_can_live_migrate_source(ctxt, uid, fx._json(data))
    source.live_migration(ctxt, uid, MIGRATION, "node-2", fx._json(data))
    cloud.rpc.pump()
    assert cloud.conductor.instance_get(None, uid)["host"] == "node-2"
    assert _meta(_files(dest, uid))["uuid"] == uid
    assert _driver(source).config_drives == {}
    assert not os.path.exists(str(_driver(source).config_drive_path(uid)))


def test_delete_removes_it(cloud: fx.Cloud, tmp_path: Any) -> None:
    node = _node(cloud, tmp_path)
    uid = _boot(cloud, node, **_asked())["uuid"]
    path = _driver(node).config_drive_path(uid)
    assert path is not None and os.path.isfile(path)
    cloud.conductor.store.update(uid, {"task_state": states.DELETING})
    node.terminate_instance(fx.ctxt(), uid)
    assert _driver(node).config_drives == {} and not os.path.exists(path)


# -- the libvirt driver -------------------------------------------------------------


IMAGE = model.ImageMeta(id="img-raw", disk_format="raw")
RESCUE_IMAGE = model.ImageMeta(id="img-rescue", disk_format="raw")
DRIVE = model.ConfigDrive(files=(("openstack/latest/meta_data.json", b'{"uuid": "x"}'),))


def _fetch(context: Any, image_id: str, dest: str) -> None:
    with open(dest, "wb") as out:
        out.write(b"STRATUS %s\n" % image_id.encode())
        out.truncate(1024 * 1024)


def _libvirt(tmp_path: Any, name: str) -> libvirt_driver.LibvirtDriver:
    """A node on its own libvirt test host, its instances in ``tmp_path/name``."""
    found = pytest.importorskip("compute.virt.libvirt.driver")
    (tmp_path / name).mkdir()
    (tmp_path / name / "node.xml").write_text("<node/>")
    conf = fx_libvirt.make_conf(tmp_path / name, "test://%s/node.xml" % (tmp_path / name))
    conf.set_override("virt_type", "qemu", group="libvirt")
    clock = fx_libvirt.Clock()
    node: libvirt_driver.LibvirtDriver = found.LibvirtDriver(
        conf, name, fetch_image=_fetch, clock=clock, sleep=clock.sleep)
    node.init_host(name)
    return node


@pytest.fixture
def drv(tmp_path: Any) -> Iterator[libvirt_driver.LibvirtDriver]:
    node = _libvirt(tmp_path, "lv-1")
    yield node
    node.cleanup_host("lv-1")


def _instance() -> model.Instance:
    uid = str(uuid.uuid4())
    return model.Instance(uuid=uid, name="instance-" + uid[:8], memory_mb=128, vcpus=1,
                          root_gb=1, display_name="vm", project_id="proj")


def _xml(drv: libvirt_driver.LibvirtDriver, inst: model.Instance) -> ET.Element:
    return ET.fromstring(drv.hypervisor.lookup(inst.uuid).XMLDesc(0))


def _cdroms(dom: ET.Element) -> list[tuple[str | None, str | None, str | None, bool]]:
    found = []
    for disk in dom.findall("devices/disk[@device='cdrom']"):
        source, target = disk.find("source"), disk.find("target")
        assert source is not None and target is not None
        found.append((source.get("file"), target.get("dev"), target.get("bus"),
                      disk.find("readonly") is not None))
    return found


def _drive_path(drv: libvirt_driver.LibvirtDriver, inst: model.Instance) -> str:
    return os.path.join(drv.instance_dir(inst.uuid), "disk.config")


def test_libvirt_attaches_the_drive_as_a_read_only_cdrom(
        drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _instance()
    drv.spawn(None, inst, IMAGE, [], config_drive=DRIVE)
    path = _drive_path(drv, inst)
    dom = _xml(drv, inst)
    # The pc (i440fx) machine: the last IDE slot, after the root disk.
    assert _cdroms(dom) == [(path, "hdd", "ide", True)]
    disks = dom.findall("devices/disk")
    assert [d.find("target").get("dev") for d in disks] == ["vda", "hdd"]  # type: ignore
    assert disks[1].find("driver").get("type") == "raw"  # type: ignore[union-attr]
    assert configdrive.read_config_drive(path) == dict(DRIVE.files)
    assert configdrive.volume_label(path) == "config-2"
    assert drv.has_config_drive(inst)
    drv.destroy(None, inst, [])
    assert not os.path.exists(path) and not drv.has_config_drive(inst)


def test_libvirt_without_a_drive_has_no_cdrom(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _instance()
    drv.spawn(None, inst, IMAGE, [])
    assert _cdroms(_xml(drv, inst)) == []
    assert not os.path.exists(_drive_path(drv, inst)) and not drv.has_config_drive(inst)


def test_q35_puts_the_drive_on_sata() -> None:
    disk = config.config_drive_disk("/i/disk.config", "pc-q35-7.2")
    assert (disk.bus, disk.target_dev, disk.device, disk.read_only) == (
        "sata", "sda", "cdrom", True)
    inst = _instance()
    xml = config.domain_xml(config.guest_config(
        inst, IMAGE, [], virt_type="qemu", root_disk=None, config_drive="/i/disk.config",
        machine_type="q35"))
    assert _cdroms(ET.fromstring(xml)) == [("/i/disk.config", "sda", "sata", True)]


def test_libvirt_rescue_keeps_the_drive(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _instance()
    drv.spawn(None, inst, IMAGE, [], config_drive=DRIVE)
    path = _drive_path(drv, inst)
    drv.rescue(None, inst, [], RESCUE_IMAGE, None)
    dom = _xml(drv, inst)
    assert [d.find("target").get("dev") for d in dom.findall("devices/disk")] == [  # type: ignore
        "vda", "vdb", "hdd"]
    assert _cdroms(dom) == [(path, "hdd", "ide", True)]
    drv.unrescue(None, inst, [])
    assert _cdroms(_xml(drv, inst)) == [(path, "hdd", "ide", True)]
    assert drv.has_config_drive(inst)


def test_libvirt_resize_keeps_the_drive_that_moved(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _instance()
    drv.spawn(None, inst, IMAGE, [], config_drive=DRIVE)
    path = _drive_path(drv, inst)
    flavor = {"memory_mb": 256, "vcpus": 1, "root_gb": 1, "ephemeral_gb": 0}
    bigger = model.Instance(uuid=inst.uuid, name=inst.name, memory_mb=256, vcpus=1,
                            root_gb=1)
    disk_info = drv.migrate_disk_and_power_off(None, inst, drv.host, flavor, [])
    other = model.ConfigDrive(files=(("openstack/latest/meta_data.json", b"{}"),))
    drv.finish_migration(None, {}, bigger, disk_info, [], IMAGE, False, config_drive=other)
    assert _cdroms(_xml(drv, bigger)) == [(path, "hdd", "ide", True)]
    assert configdrive.read_config_drive(path) == dict(DRIVE.files)  # not overwritten
    drv.destroy(None, bigger, [], destroy_disks=False)
    drv.finish_revert_migration(None, inst, [], {})
    assert _cdroms(_xml(drv, inst)) == [(path, "hdd", "ide", True)]
    # Resized again, now without a drive: the one that came along is dropped.
    disk_info = drv.migrate_disk_and_power_off(None, inst, drv.host, flavor, [])
    drv.finish_migration(None, {}, bigger, disk_info, [], IMAGE, False)
    assert _cdroms(_xml(drv, bigger)) == [] and not os.path.exists(path)


def test_libvirt_block_live_migration_writes_the_drive_at_the_destination(
        tmp_path: Any) -> None:
    source, dest = _libvirt(tmp_path, "lv-1"), _libvirt(tmp_path, "lv-2")
    inst = _instance()
    source.spawn(None, inst, IMAGE, [], config_drive=DRIVE)
    checked = dest.check_can_live_migrate_destination(None, inst, None)
    data = json.loads(json.dumps(source.check_can_live_migrate_source(None, inst, checked)))
    # The drive is not one of the disks libvirt copies; the destination writes it.
    assert data["block_migration"] is True and data["config_drive"] is True
    assert [d["target"] for d in data["disks"]] == ["vda"]
    with pytest.raises(virt_exception.MigrationPreCheckError, match="config drive"):
        dest.pre_live_migration(None, inst, [], None, data)
    dest.pre_live_migration(None, inst, [], None, data, config_drive=DRIVE)
    written = _drive_path(dest, inst)
    assert written != _drive_path(source, inst)
    assert configdrive.read_config_drive(written) == dict(DRIVE.files)
