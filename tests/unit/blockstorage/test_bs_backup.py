"""The backup manager on a real SQLite database with the real object store driver:
the object store is an in-memory account (the driver's REST boundary, checked
against the real cluster in tests/api/blockstorage/test_bs_backup_objectstore.py)
and the volume daemon a stand-in exporting local files (its RPC boundary)."""
from __future__ import annotations

import hashlib
import inspect
import os
import pathlib
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from oslo_config import cfg

from blockstorage import conf as bs_conf
from blockstorage import exception
from blockstorage import rpcapi
from blockstorage import states
from blockstorage.backup import manager as manager_mod
from blockstorage.backup.drivers import objectstore as driver_mod
from blockstorage.cmd import daemon
from blockstorage.cmd import manage
from blockstorage.db import backups as backups_db
from blockstorage.db import volumes as volumes_db
from common import context
from common import rpc
from common.db import engine
from common.db import migration

KIB = 1024
FILE_BYTES = 512 * KIB
HOST = "backup-host"


class MemoryAccount:
    """One object store account in memory, with the client's interface and the
    server's checks (ETag, 404s)."""

    def __init__(self) -> None:
        self.containers: dict[str, dict[str, bytes]] = {}
        self.fail_puts_after: int | None = None
        self.fail_deletes = False

    def put_container(self, container: str, headers: dict[str, str] | None = None) -> None:
        self.containers.setdefault(container, {})

    def put_object(self, container: str, name: str, data: bytes | Iterable[bytes],
                   headers: dict[str, str] | None = None) -> str:
        if self.fail_puts_after is not None:
            if self.fail_puts_after <= 0:
                raise exception.ObjectStoreError(reason="HTTP 507", status=507)
            self.fail_puts_after -= 1
        body = data if isinstance(data, bytes) else b"".join(data)
        etag = hashlib.md5(body).hexdigest()
        if headers and headers.get("ETag") not in (None, etag):
            raise exception.ObjectStoreError(reason="HTTP 422", status=422)
        self.containers[container][name] = body
        return etag

    def get_object(self, container: str, name: str) -> Iterator[bytes]:
        try:
            body = self.containers[container][name]
        except KeyError:
            raise exception.ObjectStoreError(reason="HTTP 404", status=404) from None
        return iter([body[:1000], body[1000:]])

    def delete_object(self, container: str, name: str) -> bool:
        if self.fail_deletes:
            raise exception.ObjectStoreError(reason="HTTP 503", status=503)
        return self.containers.get(container, {}).pop(name, None) is not None

    def list_objects(self, container: str, prefix: str | None = None) -> list[str]:
        return sorted(n for n in self.containers.get(container, {})
                      if n.startswith(prefix or ""))


class FileExports:
    """The volume daemon as the backup host sees it: each volume a local file."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        self.formats: dict[str, str] = {}
        self.exported: set[str] = set()
        self.calls: list[tuple[str, str, str]] = []
        self.refuse = False

    def path(self, volume_id: str) -> pathlib.Path:
        return self.root / ("volume-" + volume_id)

    def initialize_connection(self, ctxt: Any, host: str, volume_id: str,
                              connector: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("initialize", host, connector["host"]))
        if self.refuse:
            raise exception.VolumeBackendAPIException(data="export failed")
        self.exported.add(volume_id)
        return {"driver_volume_type": "file",
                "data": {"device_path": str(self.path(volume_id)), "volume_id": volume_id,
                         "format": self.formats.get(volume_id, "raw"), "access_mode": "rw"}}

    def terminate_connection(self, ctxt: Any, host: str, volume_id: str,
                             connector: dict[str, Any], force: bool = False) -> None:
        self.calls.append(("terminate", host, connector["host"]))
        self.exported.discard(volume_id)


class Env:
    def __init__(self, tmp: pathlib.Path, schema: pathlib.Path,
                 object_size: int = 64 * KIB) -> None:
        shutil.copy(schema, tmp / "blockstorage.sqlite")
        url = "sqlite:///" + str(tmp / "blockstorage.sqlite")
        self.db = engine.Database(engine.create_engine(url))
        self.conf = cfg.ConfigOpts()
        bs_conf.register_opts(self.conf)
        self.conf([], project="stratus-test", default_config_files=[])
        self.conf.set_override("host", HOST)
        self.conf.set_override("state_path", str(tmp))
        self.conf.set_override("backup_object_size", object_size, group="backup")
        (tmp / "volumes").mkdir()
        self.exports = FileExports(tmp / "volumes")
        self.account = MemoryAccount()
        self.manager = manager_mod.BackupManager(
            self.conf, self.db, volume_api=self.exports,
            load_driver=lambda conf, ctxt, backup: driver_mod.ObjectStoreBackupDriver(
                conf, self.account))  # type: ignore[arg-type]
        self.volumes = volumes_db.VolumeStore(self.db)
        self.backups = backups_db.BackupStore(self.db)
        self.ctxt = context.RequestContext(user_id="u", project_id="p", auth_token="t")

    def volume(self, status: str, size: int = 1, data: bytes | None = None,
               attach_status: str = states.DETACHED) -> dict[str, Any]:
        volume = self.volumes.create({
            "project_id": "p", "user_id": "u", "size": size, "status": status,
            "attach_status": attach_status, "host": "node1@file#file",
            "availability_zone": "nova"})
        with open(self.exports.path(volume["id"]), "wb") as out:
            # The files stand for volumes of ``size`` GiB; they are kept small.
            out.truncate(size * FILE_BYTES)
            if data is not None:
                out.write(data)
        return volume

    def backup(self, volume: dict[str, Any], status: str = states.CREATING,
               **values: Any) -> dict[str, Any]:
        fields = {"project_id": "p", "user_id": "u", "volume_id": volume["id"],
                  "size": volume["size"], "status": status, "availability_zone": "nova",
                  "name": "nightly"}
        fields.update(values)
        return self.backups.create(fields)

    def read(self, volume_id: str, length: int) -> bytes:
        with open(self.exports.path(volume_id), "rb") as src:
            return src.read(length)


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A migrated database file, copied for each test (migrating takes a second)."""
    path = tmp_path_factory.mktemp("schema") / "blockstorage.sqlite"
    migration.sync(manage.MIGRATIONS, "sqlite:///" + str(path))
    return path


@pytest.fixture
def env(tmp_path: pathlib.Path, schema: pathlib.Path) -> Iterator[Env]:
    environment = Env(tmp_path, schema)
    yield environment
    environment.manager.cleanup_host()
    environment.db.dispose()


def _payload(size: int = 300 * KIB) -> bytes:
    return os.urandom(100 * KIB) + bytes(100 * KIB) + os.urandom(size - 200 * KIB)


def test_backup_then_restore_into_a_new_volume(env: Env) -> None:
    data = _payload()
    volume = env.volume(states.BACKING_UP, data=data)
    backup = env.backup(volume)
    env.manager.create_backup(env.ctxt, backup["id"])

    done = env.backups.get(backup["id"])
    assert done["status"] == states.AVAILABLE and done["fail_reason"] is None
    assert (done["container"], done["host"], done["service"]) == (
        "volumebackups", HOST, "objectstore")
    assert done["object_count"] == FILE_BYTES // (64 * KIB)  # the whole file, in pieces
    assert done["size"] == 1
    prefix = done["service_metadata"]
    assert prefix.startswith("volume_%s/" % volume["id"])
    assert prefix.endswith("/az_nova_backup_%s" % backup["id"])
    assert env.volumes.get(volume["id"])["status"] == states.AVAILABLE
    assert env.exports.exported == set()
    assert env.exports.calls == [("initialize", "node1@file#file", HOST),
                                 ("terminate", "node1@file#file", HOST)]

    target = env.volume(states.RESTORING_BACKUP, size=2, data=b"\xff" * 1000)
    env.backups.update(backup["id"], {"status": states.RESTORING,
                                      "restore_volume_id": target["id"]})
    env.manager.restore_backup(env.ctxt, backup["id"], target["id"])
    assert env.volumes.get(target["id"])["status"] == states.AVAILABLE
    after = env.backups.get(backup["id"])
    assert after["status"] == states.AVAILABLE and after["restore_volume_id"] is None
    assert env.read(target["id"], len(data) + 10) == data + bytes(10)


def test_backup_of_attached_volume_returns_it_in_use(env: Env) -> None:
    volume = env.volume(states.BACKING_UP, attach_status=states.ATTACHED)
    backup = env.backup(volume)
    env.manager.create_backup(env.ctxt, backup["id"])
    assert env.backups.get(backup["id"])["status"] == states.AVAILABLE
    assert env.volumes.get(volume["id"])["status"] == states.IN_USE


def test_failed_backup_is_error_and_volume_is_back(env: Env) -> None:
    volume = env.volume(states.BACKING_UP)
    backup = env.backup(volume)
    env.account.fail_puts_after = 3
    env.manager.create_backup(env.ctxt, backup["id"])
    failed = env.backups.get(backup["id"])
    assert failed["status"] == states.ERROR
    assert "507" in failed["fail_reason"]
    assert env.volumes.get(volume["id"])["status"] == states.AVAILABLE
    assert env.account.list_objects("volumebackups") == []  # pieces removed again
    assert env.exports.exported == set()

    other = env.backup(env.volume(states.BACKING_UP))
    env.exports.refuse = True
    env.manager.create_backup(env.ctxt, other["id"])
    assert "export failed" in env.backups.get(other["id"])["fail_reason"]
    assert env.volumes.get(other["volume_id"])["status"] == states.AVAILABLE


def test_backup_not_creating_or_volume_not_backing_up(env: Env) -> None:
    volume = env.volume(states.AVAILABLE)
    moved = env.backup(volume, status=states.DELETING)
    env.manager.create_backup(env.ctxt, moved["id"])  # not touched
    assert env.backups.get(moved["id"])["status"] == states.DELETING
    env.manager.create_backup(env.ctxt, str(uuid.uuid4()))  # gone: nothing to do
    backup = env.backup(volume)
    env.manager.create_backup(env.ctxt, backup["id"])
    failed = env.backups.get(backup["id"])
    assert failed["status"] == states.ERROR and "backing-up" in failed["fail_reason"]
    assert env.volumes.get(volume["id"])["status"] == states.AVAILABLE


def _available_backup(env: Env, data: bytes, size: int = 1) -> dict[str, Any]:
    volume = env.volume(states.BACKING_UP, size=size, data=data)
    backup = env.backup(volume)
    env.manager.create_backup(env.ctxt, backup["id"])
    return env.backups.get(backup["id"])


def test_restore_into_smaller_volume_fails(env: Env) -> None:
    backup = _available_backup(env, b"abc", size=2)
    target = env.volume(states.RESTORING_BACKUP, size=1, data=b"keep")
    env.backups.update(backup["id"], {"status": states.RESTORING})
    env.manager.restore_backup(env.ctxt, backup["id"], target["id"])
    assert env.volumes.get(target["id"])["status"] == states.ERROR_RESTORING
    assert env.backups.get(backup["id"])["status"] == states.AVAILABLE
    assert env.read(target["id"], 4) == b"keep"
    assert env.exports.exported == set()


def test_restore_of_damaged_backup_is_error_restoring(env: Env) -> None:
    backup = _available_backup(env, b"abc")
    first = backup["service_metadata"] + "-00001"
    env.account.containers["volumebackups"][first] = b"bitrot"
    target = env.volume(states.RESTORING_BACKUP)
    env.backups.update(backup["id"], {"status": states.RESTORING})
    env.manager.restore_backup(env.ctxt, backup["id"], target["id"])
    assert env.volumes.get(target["id"])["status"] == states.ERROR_RESTORING
    assert env.backups.get(backup["id"])["status"] == states.AVAILABLE


def test_delete_removes_objects_and_row(env: Env) -> None:
    backup = _available_backup(env, b"abc")
    assert env.account.list_objects("volumebackups")
    env.backups.update(backup["id"], {"status": states.DELETING})
    env.manager.delete_backup(env.ctxt, backup["id"])
    with pytest.raises(exception.BackupNotFound):
        env.backups.get(backup["id"])
    assert env.account.list_objects("volumebackups") == []
    env.manager.delete_backup(env.ctxt, backup["id"])  # already gone: fine


def test_failed_delete_is_error_deleting(env: Env) -> None:
    backup = _available_backup(env, b"abc")
    env.backups.update(backup["id"], {"status": states.DELETING})
    env.account.fail_deletes = True
    env.manager.delete_backup(env.ctxt, backup["id"])
    failed = env.backups.get(backup["id"])
    assert failed["status"] == states.ERROR_DELETING and "503" in failed["fail_reason"]


def test_qcow2_volume_round_trip(env: Env, tmp_path: pathlib.Path) -> None:
    source = env.volume(states.BACKING_UP)
    target = env.volume(states.RESTORING_BACKUP)
    data = _payload()
    raw = tmp_path / "seed.raw"
    raw.write_bytes(data + bytes(4 * 1024 * 1024 - len(data)))
    for volume_id, seed in ((source["id"], raw), (target["id"], None)):
        path = env.exports.path(volume_id)
        path.unlink()
        if seed is None:
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "4M"],
                           check=True)
        else:
            subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(seed),
                            str(path)], check=True)
        env.exports.formats[volume_id] = "qcow2"
    backup = env.backup(source)
    env.manager.create_backup(env.ctxt, backup["id"])
    done = env.backups.get(backup["id"])
    assert done["status"] == states.AVAILABLE
    assert done["object_count"] == 4 * 1024 * 1024 // (64 * KIB)  # the virtual size
    env.backups.update(backup["id"], {"status": states.RESTORING})
    env.manager.restore_backup(env.ctxt, backup["id"], target["id"])
    assert env.volumes.get(target["id"])["status"] == states.AVAILABLE
    out = tmp_path / "out.raw"
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw",
                    str(env.exports.path(target["id"])), str(out)], check=True)
    assert out.read_bytes() == raw.read_bytes()
    assert not [n for n in os.listdir(tmp_path) if n.startswith("backup-")]  # temp dirs gone


def test_iscsi_export_is_refused_with_a_reason(env: Env) -> None:
    volume = env.volume(states.BACKING_UP)
    backup = env.backup(volume)

    def iscsi(*args: Any) -> dict[str, Any]:
        return {"driver_volume_type": "iscsi", "data": {"target_iqn": "iqn.x"}}
    env.exports.initialize_connection = iscsi  # type: ignore[method-assign,assignment]
    env.manager.create_backup(env.ctxt, backup["id"])
    assert "iscsi" in env.backups.get(backup["id"])["fail_reason"]


def test_init_host_settles_what_a_crash_left(env: Env) -> None:
    creating_volume = env.volume(states.BACKING_UP)
    creating = env.backup(creating_volume, host=HOST)
    elsewhere = env.backup(env.volume(states.BACKING_UP), host="other-host")
    restored = _available_backup(env, b"abc")
    target = env.volume(states.RESTORING_BACKUP)
    env.backups.update(restored["id"], {"status": states.RESTORING,
                                        "restore_volume_id": target["id"]})
    doomed = _available_backup(env, b"xyz")
    env.backups.update(doomed["id"], {"status": states.DELETING})
    env.manager.init_host()

    failed = env.backups.get(creating["id"])
    assert failed["status"] == states.ERROR and "restarted" in failed["fail_reason"]
    assert env.volumes.get(creating_volume["id"])["status"] == states.AVAILABLE
    assert env.backups.get(elsewhere["id"])["status"] == states.CREATING
    assert env.backups.get(restored["id"])["status"] == states.AVAILABLE
    assert env.volumes.get(target["id"])["status"] == states.ERROR_RESTORING
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            env.backups.get(doomed["id"])
        except exception.BackupNotFound:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the deleting backup was not deleted at start")
    assert not env.account.list_objects("volumebackups", doomed["service_metadata"])


def test_manager_serves_every_backup_api_method() -> None:
    assert manager_mod.BackupManager.RPC_API_VERSION == rpcapi.BackupAPI.RPC_API_VERSION
    for name in ("create_backup", "restore_backup", "delete_backup"):
        client = inspect.signature(getattr(rpcapi.BackupAPI, name))
        server = inspect.signature(getattr(manager_mod.BackupManager, name))
        sent = [p for p in client.parameters if p not in ("self", "ctxt", "host")]
        assert [p for p in server.parameters if p not in ("self", "ctxt")] == sent


def test_backup_daemon_over_rpc(env: Env) -> None:
    """The daemon as stratus-blockstorage-backup builds it, on the in-memory
    transport: a cast from BackupAPI ends in an available backup."""
    env.conf.set_override("transport_url", "kombu+memory:////")
    rpc.init(env.conf, exmods=rpcapi.EXMODS, publisher="blockstorage")
    server = daemon.build(env.conf, env.db, env.manager, rpcapi.BACKUP_TOPIC,
                          rpcapi.BACKUP_BINARY)
    server.start()
    try:
        volume = env.volume(states.BACKING_UP, data=b"over rpc")
        backup = env.backup(volume)
        rpcapi.BackupAPI().create_backup(env.ctxt, backup["id"])
        deadline = time.monotonic() + 20
        while env.backups.get(backup["id"])["status"] == states.CREATING:
            assert time.monotonic() < deadline, "the cast was not served"
            time.sleep(0.05)
        assert env.backups.get(backup["id"])["status"] == states.AVAILABLE
        assert env.volumes.get(volume["id"])["status"] == states.AVAILABLE
    finally:
        server.stop()
        rpc.cleanup()
