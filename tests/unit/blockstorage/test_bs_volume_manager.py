"""The volume manager with the real file driver (qemu-img, files under tmp_path)
on a real migrated SQLite database. The scheduler's RPC client and the image
service are recorders at their boundaries; pooled work runs inline."""
from __future__ import annotations

import concurrent.futures
import inspect
import json
import os
import pathlib
import shutil
import subprocess
from typing import Any

import pytest
from oslo_config import cfg

from common import context
from common.db import engine
from common.db import migration
from blockstorage import conf as bs_conf
from blockstorage import exception
from blockstorage import rpcapi
from blockstorage.cmd import manage
from blockstorage.db import attachments as attachments_db
from blockstorage.db import backups as backups_db
from blockstorage.db import services as services_db
from blockstorage.db import snapshots as snapshots_db
from blockstorage.db import types as types_db
from blockstorage.db import volumes as volumes_db
from blockstorage.scheduler import manager as scheduler_manager
from blockstorage.volume import manager as manager_mod
from blockstorage.volume.drivers import file as file_driver

GiB = 1024 ** 3
HOST = "node1@file"


class InlineExecutor(concurrent.futures.Executor):
    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future.set_result(fn(*args, **kwargs))
        return future


class RecordingScheduler:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def create_volume(self, ctxt: Any, volume_id: str, request_spec: dict[str, Any],
                      filter_properties: dict[str, Any]) -> None:
        self.calls.append((volume_id, request_spec, filter_properties))


class RecordingBackupRPC:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    def restore_backup(self, ctxt: Any, backup_id: str, volume_id: str,
                       host: str | None = None) -> None:
        self.calls.append((backup_id, volume_id, host))


class FakeImageService:
    """Images as local files; uploads are kept as copies."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        self.images: dict[str, dict[str, Any]] = {}
        self.uploaded: dict[str, tuple[str, bytes]] = {}
        self.deleted: list[str] = []
        self.fail_upload = False

    def add(self, image_id: str, fmt: str, size: str, data: bytes, **props: Any) -> None:
        path = self.root / image_id
        subprocess.run(["qemu-img", "create", "-f", "raw", str(path), size], check=True,
                       capture_output=True)
        with open(path, "r+b") as handle:
            handle.write(data)
        if fmt != "raw":
            subprocess.run(["qemu-img", "convert", "-O", fmt, str(path), str(path) + ".c"],
                           check=True)
            os.replace(str(path) + ".c", path)
        self.images[image_id] = {"id": image_id, "name": "img-" + image_id,
                                 "disk_format": fmt, "container_format": "bare",
                                 "status": "active", "min_disk": 0, "min_ram": 0,
                                 "size": path.stat().st_size, "visibility": "public",
                                 **props}

    def download_image(self, ctxt: Any, image_id: str, path: str) -> dict[str, Any]:
        if image_id not in self.images:
            raise exception.ImageNotFound(image_id=image_id)
        shutil.copy(self.root / image_id, path)
        return dict(self.images[image_id])

    def upload_image_data(self, ctxt: Any, image_id: str, path: str) -> dict[str, Any]:
        if self.fail_upload:
            raise exception.ImageServiceUnavailable(reason="image API down")
        # What the image service would store: the format and the first bytes (a
        # copy of a sparse GiB would be slow).
        with open(path, "rb") as handle:
            head = handle.read(64)
        self.uploaded[image_id] = (qemu_info(path)["format"], head)
        return {"id": image_id, "status": "active"}

    def delete_image(self, ctxt: Any, image_id: str) -> None:
        self.deleted.append(image_id)


class FailingDriver(file_driver.FileDriver):
    def create_volume(self, volume: dict[str, Any]) -> dict[str, Any]:
        raise exception.VolumeDriverException(message="backend on fire")

    def extend_volume(self, volume: dict[str, Any], new_size: int) -> None:
        raise exception.VolumeDriverException(message="cannot grow")


@pytest.fixture(scope="module")
def template(tmp_path_factory: Any) -> pathlib.Path:
    path = tmp_path_factory.mktemp("schema") / "blockstorage.sqlite"
    migration.sync(manage.MIGRATIONS, "sqlite:///" + str(path))
    return pathlib.Path(path)


class Env:
    def __init__(self, tmp: pathlib.Path, template: pathlib.Path,
                 driver_cls: type[file_driver.FileDriver] = file_driver.FileDriver) -> None:
        shutil.copy(template, tmp / "blockstorage.sqlite")
        self.db = engine.Database(engine.create_engine(
            "sqlite:///" + str(tmp / "blockstorage.sqlite")))
        self.conf = cfg.ConfigOpts()
        bs_conf.register_opts(self.conf)
        self.conf([], project="stratus-test", default_config_files=[])
        self.conf.set_override("host", "node1")
        self.conf.set_override("state_path", str(tmp))
        self.scheduler = RecordingScheduler()
        (tmp / "images").mkdir()
        self.images = FakeImageService(tmp / "images")
        self.driver = driver_cls(self.conf, "file")
        self.backup_rpc = RecordingBackupRPC()
        self.manager = manager_mod.VolumeManager(
            self.conf, self.db, driver=self.driver, scheduler_rpc=self.scheduler,
            image_api=self.images, backup_rpc=self.backup_rpc, executor=InlineExecutor())
        self.volumes = volumes_db.VolumeStore(self.db)
        self.snapshots = snapshots_db.SnapshotStore(self.db)
        self.attachments = attachments_db.AttachmentStore(self.db)
        self.services = services_db.ServiceStore(self.db)
        self.ctxt = context.admin_context()
        self.manager.init_host()

    def volume(self, size: int = 1, **values: Any) -> dict[str, Any]:
        row = {"project_id": "p", "user_id": "u", "size": size, "status": "creating",
               "attach_status": "detached", "availability_zone": "nova",
               "host": HOST + "#file", **values}
        return self.volumes.create(row)

    def created(self, size: int = 1, **values: Any) -> dict[str, Any]:
        vid = self.volume(size, **values)["id"]
        self.manager.create_volume(self.ctxt, vid, {}, {})
        return self.volumes.get(vid)

    def snapshot(self, volume_id: str, status: str = "creating") -> dict[str, Any]:
        return self.snapshots.create({"project_id": "p", "user_id": "u",
                                      "volume_id": volume_id, "size": 1, "status": status})


@pytest.fixture
def env(tmp_path: pathlib.Path, template: pathlib.Path) -> Env:
    return Env(tmp_path, template)


def qemu_info(path: str) -> dict[str, Any]:
    out = subprocess.run(["qemu-img", "info", "--output=json", path], check=True,
                         capture_output=True, text=True).stdout
    return dict(json.loads(out))


def read(path: str, offset: int, size: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(size)


def test_init_host_reports_capacity(env: Env) -> None:
    service = env.services.get_by_host(HOST, rpcapi.VOLUME_BINARY)
    caps = service["capabilities"]
    assert caps["volume_backend_name"] == "file"
    assert caps["total_capacity_gb"] > 0 and "timestamp" in caps
    assert env.manager.get_capabilities(env.ctxt)["storage_protocol"] == "file"


def test_create_empty_volume(env: Env) -> None:
    volume = env.created(2)
    assert volume["status"] == "available"
    assert volume["launched_at"] is not None
    path = env.driver.local_path(volume)
    assert volume["provider_location"] == "raw:" + path
    assert os.path.getsize(path) == 2 * GiB


def test_create_from_snapshot_and_clone_copy_data_and_bootability(env: Env) -> None:
    source = env.created(1)
    env.volumes.update(source["id"], {"bootable": True})
    env.volumes.set_metadata(source["id"], {"image_id": "img1"}, kind="glance_metadata")
    with open(env.driver.local_path(source), "r+b") as handle:
        handle.write(b"source-data")
    snap = env.snapshot(source["id"])
    env.manager.create_snapshot(env.ctxt, snap["id"])
    snap = env.snapshots.get(snap["id"])
    assert (snap["status"], snap["progress"]) == ("available", "100%")
    from_snap = env.created(2, snapshot_id=snap["id"])
    clone = env.created(1, source_volid=source["id"])
    for volume in (from_snap, clone):
        assert volume["status"] == "available"
        assert volume["bootable"] is True
        assert volume["glance_metadata"] == {"image_id": "img1"}
        assert read(env.driver.local_path(volume), 0, 11) == b"source-data"
    assert qemu_info(env.driver.local_path(from_snap))["virtual-size"] == 2 * GiB


def test_create_from_image(env: Env) -> None:
    env.images.add("img1", "qcow2", "32M", b"bootloader", os_distro="cirros")
    volume = env.created(1, image_id="img1")
    assert volume["status"] == "available"
    assert volume["bootable"] is True
    assert volume["glance_metadata"]["image_id"] == "img1"
    assert volume["glance_metadata"]["image_name"] == "img-img1"
    assert volume["glance_metadata"]["os_distro"] == "cirros"
    assert volume["glance_metadata"]["disk_format"] == "qcow2"
    path = env.driver.local_path(volume)
    assert read(path, 0, 10) == b"bootloader"
    assert os.path.getsize(path) == GiB
    assert os.listdir(env.conf.volume.image_conversion_dir) == []


def test_missing_image_fails_without_reschedule(env: Env) -> None:
    volume = env.created(1, image_id="nope")
    assert volume["status"] == "error"
    assert "nope" in volume["admin_metadata"]["fail_reason"]
    assert env.scheduler.calls == []
    assert not os.path.exists(env.driver.local_path(volume))


def test_driver_failure_reschedules(tmp_path: pathlib.Path, template: pathlib.Path) -> None:
    env = Env(tmp_path, template, FailingDriver)
    vid = env.volume(1)["id"]
    props = {"retry": {"num_attempts": 1, "hosts": [HOST + "#file"]}}
    env.manager.create_volume(env.ctxt, vid, {"size": 1}, props)
    assert env.volumes.get(vid)["status"] == "creating"
    (rescheduled, spec, new_props), = env.scheduler.calls
    assert (rescheduled, spec) == (vid, {"size": 1})
    assert new_props["retry"]["hosts"] == [HOST + "#file"]
    assert "backend on fire" in new_props["retry"]["exc"]
    # Not allowed to reschedule: error, with the reason.
    other = env.volume(1)["id"]
    env.manager.create_volume(env.ctxt, other, {}, {}, allow_reschedule=False)
    volume = env.volumes.get(other)
    assert volume["status"] == "error"
    assert "backend on fire" in volume["admin_metadata"]["fail_reason"]


def test_create_from_backup_hands_over_to_the_backup_daemon(env: Env) -> None:
    backups = backups_db.BackupStore(env.db)
    source = env.created(1)
    backup = backups.create({"project_id": "p", "user_id": "u", "volume_id": source["id"],
                             "size": 1, "status": "available", "host": "backup-host"})
    volume = env.created(1, backup_id=backup["id"])
    assert volume["status"] == "restoring-backup"
    assert os.path.getsize(env.driver.local_path(volume)) == GiB
    restoring = backups.get(backup["id"])
    assert (restoring["status"], restoring["restore_volume_id"]) == ("restoring",
                                                                      volume["id"])
    assert env.backup_rpc.calls == [(backup["id"], volume["id"], "backup-host")]
    # The backup is busy now: a second restore from it fails the volume.
    other = env.created(1, backup_id=backup["id"])
    assert other["status"] == "error_restoring"
    assert len(env.backup_rpc.calls) == 1


def test_create_skips_volumes_not_creating(env: Env) -> None:
    vid = env.volume(1, status="deleting")["id"]
    env.manager.create_volume(env.ctxt, vid, {}, {})
    assert env.volumes.get(vid)["provider_location"] is None


def test_delete_volume(env: Env) -> None:
    volume = env.created(1)
    path = env.driver.local_path(volume)
    env.volumes.update(volume["id"], {"status": "deleting"})
    env.manager.delete_volume(env.ctxt, volume["id"])
    assert not os.path.exists(path)
    with pytest.raises(exception.VolumeNotFound):
        env.volumes.get(volume["id"])


def test_delete_with_snapshots_needs_cascade(env: Env) -> None:
    volume = env.created(1)
    snap = env.snapshot(volume["id"])
    env.manager.create_snapshot(env.ctxt, snap["id"])
    snap_path = env.driver.snapshot_path(env.snapshots.get(snap["id"]))
    env.volumes.update(volume["id"], {"status": "deleting"})
    env.manager.delete_volume(env.ctxt, volume["id"])
    kept = env.volumes.get(volume["id"])
    assert kept["status"] == "available"
    assert "snapshots" in kept["admin_metadata"]["fail_reason"]
    env.volumes.update(volume["id"], {"status": "deleting"})
    env.manager.delete_volume(env.ctxt, volume["id"], cascade=True)
    assert not os.path.exists(snap_path)
    with pytest.raises(exception.SnapshotNotFound):
        env.snapshots.get(snap["id"])
    with pytest.raises(exception.VolumeNotFound):
        env.volumes.get(volume["id"])


def test_delete_snapshot(env: Env) -> None:
    volume = env.created(1)
    snap = env.snapshot(volume["id"])
    env.manager.create_snapshot(env.ctxt, snap["id"])
    path = env.driver.snapshot_path(env.snapshots.get(snap["id"]))
    assert os.path.exists(path)
    env.manager.delete_snapshot(env.ctxt, snap["id"])  # not deleting: left alone
    assert os.path.exists(path)
    env.snapshots.update(snap["id"], {"status": "deleting"})
    env.manager.delete_snapshot(env.ctxt, snap["id"])
    assert not os.path.exists(path)
    with pytest.raises(exception.SnapshotNotFound):
        env.snapshots.get(snap["id"])


def test_extend_keeps_in_use(env: Env) -> None:
    volume = env.created(1)
    env.volumes.update(volume["id"], {"status": "extending", "attach_status": "attached"})
    env.manager.extend_volume(env.ctxt, volume["id"], 3)
    volume = env.volumes.get(volume["id"])
    assert (volume["status"], volume["size"]) == ("in-use", 3)
    assert qemu_info(env.driver.local_path(volume))["virtual-size"] == 3 * GiB


def test_extend_failure(tmp_path: pathlib.Path, template: pathlib.Path) -> None:
    env = Env(tmp_path, template, FailingDriver)
    vid = env.volume(1, status="extending")["id"]
    env.manager.extend_volume(env.ctxt, vid, 3)
    volume = env.volumes.get(vid)
    assert (volume["status"], volume["size"]) == ("error_extending", 1)
    assert "cannot grow" in volume["admin_metadata"]["fail_reason"]


def test_upload_to_image_converts_when_asked(env: Env) -> None:
    volume = env.created(1)
    with open(env.driver.local_path(volume), "r+b") as handle:
        handle.write(b"volume-bytes")
    env.volumes.update(volume["id"], {"status": "uploading"})
    env.manager.copy_volume_to_image(env.ctxt, volume["id"],
                                     {"id": "i1", "disk_format": "qcow2"})
    assert env.volumes.get(volume["id"])["status"] == "available"
    assert env.images.uploaded["i1"][0] == "qcow2"
    env.volumes.update(volume["id"], {"status": "uploading"})
    env.manager.copy_volume_to_image(env.ctxt, volume["id"],
                                     {"id": "i2", "disk_format": "raw"})
    assert env.images.uploaded["i2"] == ("raw", b"volume-bytes".ljust(64, b"\0"))
    assert os.listdir(env.conf.volume.image_conversion_dir) == []


def test_failed_upload_deletes_the_image(env: Env) -> None:
    volume = env.created(1)
    env.volumes.update(volume["id"], {"status": "uploading", "attach_status": "attached"})
    env.images.fail_upload = True
    env.manager.copy_volume_to_image(env.ctxt, volume["id"], {"id": "i1",
                                                              "disk_format": "raw"})
    volume = env.volumes.get(volume["id"])
    assert volume["status"] == "in-use"
    assert "image API down" in volume["admin_metadata"]["fail_reason"]
    assert env.images.deleted == ["i1"]


def test_retype(env: Env) -> None:
    volume = env.created(1)
    env.volumes.update(volume["id"], {"status": "retyping"})
    type_id = types_db.TypeStore(env.db).create("gold")["id"]
    env.manager.retype(env.ctxt, volume["id"], type_id)
    volume = env.volumes.get(volume["id"])
    assert (volume["status"], volume["volume_type_id"]) == ("available", type_id)
    # A type that vanished meanwhile: the volume is not left retyping.
    env.volumes.update(volume["id"], {"status": "retyping"})
    env.manager.retype(env.ctxt, volume["id"], "00000000-0000-0000-0000-000000000000")
    volume = env.volumes.get(volume["id"])
    assert (volume["status"], volume["volume_type_id"]) == ("available", type_id)
    assert "Retype failed" in volume["admin_metadata"]["fail_reason"]


def test_connections_and_attachments(env: Env) -> None:
    volume = env.created(1)
    info = env.manager.initialize_connection(env.ctxt, volume["id"], {"host": "c1"})
    assert info["driver_volume_type"] == "file"
    assert info["data"]["device_path"] == env.driver.local_path(volume)
    assert info["data"]["access_mode"] == "rw"
    env.volumes.set_metadata(volume["id"], {"readonly": "True"}, kind="admin_metadata")
    attachment = env.attachments.create(volume["id"], {"attach_status": "reserved",
                                                       "instance_uuid": None})
    connector = {"host": "c1", "mountpoint": "/dev/vdb", "initiator": "iqn.c1"}
    info = env.manager.attachment_update(env.ctxt, volume["id"], connector,
                                         attachment["id"])
    assert info["data"]["access_mode"] == "ro"
    row = env.attachments.get(attachment["id"])
    assert row["connector"] == connector
    assert row["connection_info"] == info
    assert (row["attached_host"], row["mountpoint"], row["attach_mode"]) == \
        ("c1", "/dev/vdb", "ro")
    env.manager.attachment_delete(env.ctxt, volume["id"], attachment["id"])
    env.manager.terminate_connection(env.ctxt, volume["id"], {"host": "c1"})


def test_recovery_after_a_crash(tmp_path: pathlib.Path, template: pathlib.Path) -> None:
    env = Env(tmp_path, template)
    half = env.volume(1)                                  # crashed mid-create
    env.driver.create_volume(half)
    deleting = env.created(1)
    env.volumes.update(deleting["id"], {"status": "deleting"})
    extending = env.created(1)
    env.volumes.update(extending["id"], {"status": "extending"})
    uploading = env.created(1)
    env.volumes.update(uploading["id"], {"status": "uploading", "attach_status": "attached"})
    snap = env.snapshot(uploading["id"])                  # crashed mid-snapshot
    elsewhere = env.volume(1, host="node2@file#file")     # another backend's: untouched
    # A new daemon on the same database and directory.
    manager = manager_mod.VolumeManager(env.conf, env.db, driver=env.driver,
                                        scheduler_rpc=env.scheduler, image_api=env.images,
                                        backup_rpc=env.backup_rpc, executor=InlineExecutor())
    manager.init_host()
    half = env.volumes.get(half["id"])
    assert half["status"] == "error"
    assert "restarted" in half["admin_metadata"]["fail_reason"]
    assert not os.path.exists(env.driver.local_path(half))
    with pytest.raises(exception.VolumeNotFound):
        env.volumes.get(deleting["id"])
    assert env.volumes.get(extending["id"])["status"] == "error_extending"
    assert env.volumes.get(uploading["id"])["status"] == "in-use"
    assert env.snapshots.get(snap["id"])["status"] == "error"
    assert env.volumes.get(elsewhere["id"])["status"] == "creating"


def _public(cls: type) -> dict[str, list[str]]:
    return {name: [p for p in inspect.signature(func).parameters if p != "self"]
            for name, func in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")}


def test_managers_serve_exactly_the_rpc_api() -> None:
    """Every VolumeAPI/SchedulerAPI method exists on its manager with the same
    keyword arguments (minus the client's routing ``host``), and the versions agree."""
    pairs = ((rpcapi.VolumeAPI, manager_mod.VolumeManager),
             (rpcapi.SchedulerAPI, scheduler_manager.SchedulerManager))
    for client, server in pairs:
        served = _public(server)
        for name, params in _public(client).items():
            wanted = [p for p in params if p != "host"]
            assert served.get(name) == wanted, (client.__name__, name)
        assert client.RPC_API_VERSION == server.RPC_API_VERSION
