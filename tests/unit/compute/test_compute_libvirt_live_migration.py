"""Live migration of the libvirt driver: the checks and the destination's
preparation against libvirt's test driver (a private ``test:///<file>`` host
per node, real ``qemu-img``), and the migration itself against a fake domain
recording ``migrateToURI3`` (one machine has one libvirtd: a real migration
between two needs two hosts)."""
from __future__ import annotations

import json
import os
import threading
import uuid
from typing import Any
from xml.etree import ElementTree as ET

import pytest

libvirt = pytest.importorskip("libvirt")

from oslo_config import cfg  # noqa: E402

from compute.conf import virt as virt_conf  # noqa: E402
from compute.virt import exception  # noqa: E402
from compute.virt import model  # noqa: E402
from compute.virt.libvirt import driver as libvirt_driver  # noqa: E402
from compute.virt.libvirt import imagecache  # noqa: E402
from compute.virt.libvirt import live_migration  # noqa: E402

MiB = 1024 * 1024
IMAGE = model.ImageMeta(id="img-raw", disk_format="raw")
Driver = libvirt_driver.LibvirtDriver
FLAGS = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER
         | libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)
VOLUME = {"driver_volume_type": "iscsi", "data": {
    "target_portal": "192.0.2.7:3260", "target_iqn": "iqn.2026-01.org.stratus:vol-1",
    "target_lun": 1}}


def fetch_image(context: Any, image_id: str, dest: str) -> None:
    with open(dest, "wb") as out:
        out.write(b"STRATUS %s\n" % image_id.encode())
        out.truncate(MiB)


def _node(tmp_path: Any, name: str, instances: str | None = None) -> Driver:
    (tmp_path / ("%s.xml" % name)).write_text("<node/>")
    conf = cfg.ConfigOpts()
    virt_conf.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override("connection_uri", "test://%s/%s.xml" % (tmp_path, name),
                      group="libvirt")
    conf.set_override("instances_path", str(tmp_path / (instances or name) / "instances"),
                      group="libvirt")
    conf.set_override("virt_type", "qemu", group="libvirt")
    node = Driver(conf, name, fetch_image=fetch_image, sleep=lambda s: None)
    node.init_host(name)
    return node


def _instance() -> model.Instance:
    uid = str(uuid.uuid4())
    return model.Instance(uuid=uid, name="instance-" + uid[:8], memory_mb=128, vcpus=1,
                          root_gb=1, display_name="vm", project_id="proj")


def _json(data: Any) -> Any:
    return json.loads(json.dumps(data))  # migrate_data travels by RPC


def _checked(source: Driver, dest: Driver, inst: model.Instance,
             block: bool | None = None) -> dict[str, Any]:
    data = _json(dest.check_can_live_migrate_destination(None, inst, block))
    return _json(source.check_can_live_migrate_source(None, inst, data))


class FakeDomain:
    """The domain calls live_migration makes, recorded; ``migrateToURI3`` blocks
    while ``hold`` is set, then fails when ``error`` (or an abort) says so."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: list[tuple[str, Any]] = []
        self.error: Exception | None = None
        self.blocking = False
        self.release = threading.Event()
        self.started = threading.Event()
        self.paused = False

    def XMLDesc(self, flags: int) -> str:  # noqa: N802 - libvirt's name
        self.calls.append(("XMLDesc", flags))
        return str(self.real.XMLDesc(0))

    def migrateToURI3(self, uri: str, params: dict[str, Any], flags: int) -> None:  # noqa: N802
        self.calls.append(("migrateToURI3", (uri, params, flags)))
        self.started.set()
        if self.blocking:
            self.release.wait(10)
        if self.error is not None:
            raise self.error

    def abortJob(self) -> None:  # noqa: N802
        self.calls.append(("abortJob", None))
        self.error = libvirt.libvirtError("operation aborted: migration job: canceled")
        self.release.set()

    def suspend(self) -> None:
        self.calls.append(("suspend", None))
        self.paused = True
        self.release.set()

    def resume(self) -> None:
        self.calls.append(("resume", None))
        self.paused = False

    def state(self) -> list[int]:
        return [libvirt.VIR_DOMAIN_PAUSED if self.paused else libvirt.VIR_DOMAIN_RUNNING, 0]

    def isActive(self) -> int:  # noqa: N802
        return 1

    def hasManagedSaveImage(self, flags: int) -> int:  # noqa: N802
        return 0


def _fake(node: Driver, inst: model.Instance, monkeypatch: Any) -> FakeDomain:
    domain = FakeDomain(node.hypervisor.lookup(inst.uuid))
    monkeypatch.setattr(node.hypervisor, "lookup", lambda uid: domain)
    return domain


# -- small parts ---------------------------------------------------------------------------


def test_the_host_uuid_and_the_uri_template() -> None:
    class Conn:
        def getCapabilities(self) -> str:  # noqa: N802
            return "<capabilities><host><uuid>abc-1</uuid></host></capabilities>"
    assert live_migration.host_uuid(Conn()) == "abc-1"
    conf = cfg.ConfigOpts()
    virt_conf.register_opts(conf)
    conf([], default_config_files=[])
    assert live_migration.migration_uri(conf, "node-2") == "qemu+tcp://node-2/system"
    conf.set_override("live_migration_uri", "qemu+ssh://stack@%s/system", group="libvirt")
    assert live_migration.migration_uri(conf, "10.0.0.2") == "qemu+ssh://stack@10.0.0.2/system"
    conf.set_override("live_migration_uri", "qemu+tcp://fixed/system", group="libvirt")
    with pytest.raises(exception.MigrationPreCheckError):
        live_migration.migration_uri(conf, "node-2")


def test_the_destination_xml_keeps_addresses_and_takes_the_new_connections() -> None:
    xml = """<domain><devices>
      <disk type='block' device='disk'><driver name='qemu' type='raw'/>
        <source dev='/dev/disk/by-path/old'/><target dev='vdb' bus='virtio'/>
        <address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></disk>
      <graphics type='vnc' port='-1' listen='10.0.0.1'><listen type='address'
        address='10.0.0.1'/></graphics></devices></domain>"""
    new_disk = "<disk type='network' device='disk'><source protocol='iscsi' " \
               "name='iqn/1'><host name='192.0.2.7' port='3260'/></source>" \
               "<target dev='vdb' bus='virtio'/></disk>"
    root = ET.fromstring(live_migration.dest_xml(xml, {"vdb": new_disk}, "10.0.0.2"))
    disk = root.find("devices/disk")
    assert disk is not None and disk.get("type") == "network"
    assert disk.find("source/host").get("name") == "192.0.2.7"  # type: ignore[union-attr]
    assert disk.find("address").get("slot") == "0x07"  # type: ignore[union-attr]
    graphics = root.find("devices/graphics")
    assert graphics is not None and graphics.get("listen") == "10.0.0.2"
    assert graphics.find("listen").get("address") == "10.0.0.2"  # type: ignore[union-attr]


# -- checks and preparation -------------------------------------------------------------------


def test_without_shared_storage_the_disks_are_copied(tmp_path: Any, monkeypatch: Any) -> None:
    source, dest = _node(tmp_path, "node-1"), _node(tmp_path, "node-2")
    inst = _instance()
    source.spawn(None, inst, IMAGE, [])
    data = _checked(source, dest, inst)
    assert data["block_migration"] is True and data["is_shared_instance_path"] is False
    [disk] = data["disks"]
    assert (disk["name"], disk["target"], disk["image_id"]) == ("disk", "vda", "img-raw")
    marker = os.path.join(dest.instances_path, data["shared_storage_file"])
    assert os.path.exists(marker)

    bdi = model.BlockDeviceInfo(volumes=(model.BlockDevice("/dev/vdb", VOLUME),))
    data = _json(dest.pre_live_migration(None, inst, [], bdi, data))
    assert not os.path.exists(marker)
    copy = os.path.join(dest.instance_dir(inst.uuid), "disk")
    info = imagecache.image_info(copy)
    assert info["format"] == "qcow2" and info["virtual-size"] == disk["virtual_size"]
    assert info["backing-filename"] == os.path.join(dest.instances_path, "_base", "img-raw")
    assert "192.0.2.7" in data["volume_disks"]["vdb"]

    domain = _fake(source, inst, monkeypatch)
    result = source.live_migration(None, inst, "node-2", data)
    [(uri, params, flags)] = [args for name, args in domain.calls if name == "migrateToURI3"]
    assert uri == "qemu+tcp://node-2/system"
    assert flags == FLAGS | libvirt.VIR_MIGRATE_NON_SHARED_INC
    assert params[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] == ["vda"]
    assert ("XMLDesc", libvirt.VIR_DOMAIN_XML_MIGRATABLE) in domain.calls
    assert ET.fromstring(params[libvirt.VIR_MIGRATE_PARAM_DEST_XML]).get("type") is not None
    assert result["resume"] is False

    monkeypatch.undo()
    # The guest left (libvirt stops it); a definition left behind goes too.
    source.hypervisor.lookup(inst.uuid).destroy()
    source.post_live_migration(None, inst, None, result)
    assert not os.path.exists(source.instance_dir(inst.uuid))
    assert source.list_instance_uuids() == []


def test_with_shared_storage_nothing_is_copied(tmp_path: Any, monkeypatch: Any) -> None:
    source = _node(tmp_path, "node-1", instances="shared")
    dest = _node(tmp_path, "node-2", instances="shared")
    dest.conf.set_override("live_migration_inbound_addr", "192.0.2.2", group="libvirt")
    inst = _instance()
    source.spawn(None, inst, IMAGE, [])
    with pytest.raises(exception.MigrationPreCheckError, match="shared storage"):
        _checked(source, dest, inst, block=True)
    data = _checked(source, dest, inst)
    assert data["block_migration"] is False and data["is_shared_instance_path"] is True
    data = _json(dest.pre_live_migration(None, inst, [], None, data))
    domain = _fake(source, inst, monkeypatch)
    source.live_migration(None, inst, "node-2", data)
    [(uri, params, flags)] = [args for name, args in domain.calls if name == "migrateToURI3"]
    assert (uri, flags) == ("qemu+tcp://192.0.2.2/system", FLAGS)
    assert libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS not in params
    monkeypatch.undo()
    source.post_live_migration(None, inst, None, data)
    assert os.path.exists(source.instance_dir(inst.uuid)), "the destination's disks stay"


def test_a_shared_storage_migration_of_local_disks_without_it_is_refused(
        tmp_path: Any) -> None:
    source, dest = _node(tmp_path, "node-1"), _node(tmp_path, "node-2")
    inst = _instance()
    source.spawn(None, inst, IMAGE, [])
    with pytest.raises(exception.MigrationPreCheckError, match="requires either shared"):
        _checked(source, dest, inst, block=False)


def test_two_nodes_of_one_libvirtd_are_told_so(tmp_path: Any, monkeypatch: Any) -> None:
    source, dest = _node(tmp_path, "node-1"), _node(tmp_path, "node-2")
    inst = _instance()
    source.spawn(None, inst, IMAGE, [])
    monkeypatch.setattr(live_migration, "host_uuid", lambda conn: "11111111-aaaa")
    with pytest.raises(exception.MigrationPreCheckError) as caught:
        _checked(source, dest, inst)
    assert "same libvirt daemon" in str(caught.value) and "node-2" in str(caught.value)


def test_the_destination_refuses_an_instance_it_has(tmp_path: Any) -> None:
    node = _node(tmp_path, "node-1")
    inst = _instance()
    node.spawn(None, inst, IMAGE, [])
    with pytest.raises(exception.MigrationPreCheckError, match="is defined on node-1"):
        node.check_can_live_migrate_destination(None, inst, None)


def test_a_rollback_at_the_destination_removes_what_it_prepared(tmp_path: Any) -> None:
    source, dest = _node(tmp_path, "node-1"), _node(tmp_path, "node-2")
    inst = _instance()
    source.spawn(None, inst, IMAGE, [])
    data = _json(dest.pre_live_migration(None, inst, [], None, _checked(source, dest, inst)))
    assert os.path.isdir(dest.instance_dir(inst.uuid))
    dest.rollback_live_migration_at_destination(None, inst, [], None, data)
    assert not os.path.exists(dest.instance_dir(inst.uuid))
    assert [n for n in os.listdir(dest.instances_path)
            if n.startswith(live_migration.TEST_FILE_PREFIX)] == []
    assert os.path.isdir(source.instance_dir(inst.uuid))


# -- the migration ------------------------------------------------------------------------


def test_a_libvirt_failure_is_a_failed_migration(tmp_path: Any, monkeypatch: Any) -> None:
    source = _node(tmp_path, "node-1")
    inst = _instance()
    source.spawn(None, inst, IMAGE, [])
    domain = _fake(source, inst, monkeypatch)
    domain.error = libvirt.libvirtError("unable to connect to server at 'node-2:16509'")
    with pytest.raises(exception.LiveMigrationFailed, match="unable to connect"):
        source.live_migration(None, inst, "node-2", {"block_migration": False})


def _running(source: Driver, inst: model.Instance, domain: FakeDomain,
             result: dict[str, Any]) -> threading.Thread:
    domain.blocking = True

    def run() -> None:
        try:
            result["data"] = source.live_migration(None, inst, "node-2", {})
        except Exception as err:  # the test looks at it
            result["error"] = err
    thread = threading.Thread(target=run)
    thread.start()
    assert domain.started.wait(10)
    return thread


def test_abort_cancels_the_job(tmp_path: Any, monkeypatch: Any) -> None:
    source = _node(tmp_path, "node-1")
    inst = _instance()
    source.spawn(None, inst, IMAGE, [])
    domain = _fake(source, inst, monkeypatch)
    result: dict[str, Any] = {}
    thread = _running(source, inst, domain, result)
    source.live_migration_abort(inst)
    thread.join(10)
    assert isinstance(result.get("error"), exception.LiveMigrationAborted)
    assert ("abortJob", None) in domain.calls
    source.live_migration_abort(inst)  # nothing runs: nothing to do
    assert [c for c in domain.calls if c[0] == "abortJob"] == [("abortJob", None)]


def test_force_complete_pauses_and_the_destination_resumes(tmp_path: Any,
                                                           monkeypatch: Any) -> None:
    source = _node(tmp_path, "node-1")
    inst = _instance()
    source.spawn(None, inst, IMAGE, [])
    domain = _fake(source, inst, monkeypatch)
    result: dict[str, Any] = {}
    thread = _running(source, inst, domain, result)
    source.live_migration_force_complete(inst)
    thread.join(10)
    assert result["data"]["resume"] is True and ("suspend", None) in domain.calls
    # At the destination (the same fake domain stands for the arrived one).
    source.post_live_migration_at_destination(None, inst, [], None, result["data"])
    assert domain.calls[-1] == ("resume", None) and not domain.paused
