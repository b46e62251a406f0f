"""The object store backup driver against the real object store: a 3-replica
cluster in process (tests.fixtures.objectstore) served over HTTP, reached through
a keystoneauth Adapter (no auth in that pipeline)."""
from __future__ import annotations

import hashlib
import io
import json
import os
import pathlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import session as ks_session
from oslo_config import cfg

from blockstorage import exception
from blockstorage.backup.drivers import objectstore as driver_mod
from blockstorage.clients import objectstore
from blockstorage.conf import backup as backup_conf
from tests.fixtures.objectstore import Cluster

ACCOUNT = "/v1/AUTH_backuptest"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    instance = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="module")
def store(cluster: Cluster) -> objectstore.ObjectStoreAPI:
    api = ks_adapter.Adapter(ks_session.Session(),
                             endpoint_override=cluster.serve_proxy() + ACCOUNT)
    return objectstore.ObjectStoreAPI(api, timeout=30)


def make_conf(**backup: Any) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    backup_conf.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])
    for name, value in backup.items():
        conf.set_override(name, value, group="backup")
    return conf


def volume_image(path: pathlib.Path) -> bytes:
    """20 MiB: random data, long zero runs (whole pieces and partial), more random,
    and a short tail that is not a whole piece."""
    data = (os.urandom(3 * MIB) + bytes(5 * MIB) + os.urandom(MIB // 2) + bytes(3 * MIB)
            + os.urandom(8 * MIB) + bytes(MIB // 2 - 4096) + os.urandom(4096))
    assert len(data) == 20 * MIB
    path.write_bytes(data)
    return data


def new_backup(**fields: Any) -> dict[str, Any]:
    record = {"id": str(uuid.uuid4()), "volume_id": str(uuid.uuid4()),
              "project_id": "backuptest", "name": "b", "description": None,
              "availability_zone": "nova", "container": None,
              "created_at": "2024-05-06T07:08:09.000000"}
    record.update(fields)
    return record


def names(cluster: Cluster, container: str) -> list[str]:
    resp = cluster.client.get(ACCOUNT + "/" + container + "?format=json", status=(200, 204, 404))
    return [entry["name"] for entry in resp.json] if resp.status_int == 200 else []


@pytest.mark.parametrize("compression", ["zlib", "none"])
def test_backup_restore_delete_round_trip(cluster: Cluster, store: objectstore.ObjectStoreAPI,
                                          tmp_path: pathlib.Path, compression: str) -> None:
    conf = make_conf(backup_object_size=3 * MIB, backup_compression_algorithm=compression)
    drv = driver_mod.ObjectStoreBackupDriver(conf, store)
    source = tmp_path / "volume-src"
    data = volume_image(source)
    backup = new_backup()
    with open(source, "rb") as volume_file:
        update = drv.backup(backup, volume_file)
    prefix = "volume_%s/20240506070809/az_nova_backup_%s" % (backup["volume_id"], backup["id"])
    assert update == {"container": "volumebackups", "object_count": 7,
                      "service_metadata": prefix, "service": "objectstore"}
    stored = names(cluster, "volumebackups")
    expected = sorted(["%s-%05d" % (prefix, n) for n in range(1, 8)] + [prefix + "_metadata"])
    assert sorted(n for n in stored if n.startswith(prefix)) == expected

    manifest = json.loads(cluster.client.get(ACCOUNT + "/volumebackups/" + prefix
                                             + "_metadata").body)
    assert manifest["backup_id"] == backup["id"] and manifest["size_bytes"] == len(data)
    pieces = manifest["objects"]
    assert [p["offset"] for p in pieces] == [n * 3 * MIB for n in range(7)]
    assert [p["length"] for p in pieces] == [3 * MIB] * 6 + [2 * MIB]
    assert {p["compression"] for p in pieces} == {compression}
    second = cluster.client.get(ACCOUNT + "/volumebackups/" + pieces[1]["name"]).body
    assert hashlib.md5(second).hexdigest() == pieces[1]["md5"]
    if compression == "zlib":  # the piece of zeros (3-6 MiB) is stored tiny
        assert len(second) < 64 * 1024
    else:
        assert second == data[3 * MIB:6 * MIB]

    backup.update(update)
    target = tmp_path / "volume-dst"
    with open(target, "wb") as out:
        out.truncate(24 * MIB)  # a larger volume, already holding other bytes
        out.seek(MIB)
        out.write(b"\xff" * MIB)
    with open(target, "r+b") as volume_file:
        drv.restore(backup, "vol-2", volume_file)
    restored = target.read_bytes()
    assert restored[:len(data)] == data
    assert restored[len(data):] == bytes(4 * MIB)

    drv.delete_backup(backup)
    assert [n for n in names(cluster, "volumebackups") if n.startswith(prefix)] == []
    drv.delete_backup(backup)  # again: nothing left, nothing fails


def test_backup_into_requested_container_and_empty_volume(
        cluster: Cluster, store: objectstore.ObjectStoreAPI, tmp_path: pathlib.Path) -> None:
    drv = driver_mod.ObjectStoreBackupDriver(make_conf(), store)
    backup = new_backup(container="mine", created_at=None)
    update = drv.backup(backup, io.BytesIO(b""))
    assert update["container"] == "mine" and update["object_count"] == 0
    assert names(cluster, "mine") == [update["service_metadata"] + "_metadata"]
    backup.update(update)
    target = io.BytesIO(b"keep")
    drv.restore(backup, "v", target)
    assert target.getvalue() == b"keep"
    drv.delete_backup(backup)
    assert names(cluster, "mine") == []


def test_restore_detects_missing_and_corrupt_objects(
        cluster: Cluster, store: objectstore.ObjectStoreAPI, tmp_path: pathlib.Path) -> None:
    drv = driver_mod.ObjectStoreBackupDriver(make_conf(backup_object_size=MIB), store)
    backup = new_backup()
    backup.update(drv.backup(backup, io.BytesIO(os.urandom(2 * MIB + 10))))
    prefix = backup["service_metadata"]
    cluster.client.put(ACCOUNT + "/volumebackups/%s-00002" % prefix, b"garbage", status=201)
    with pytest.raises(exception.BackupDriverException, match="md5"):
        drv.restore(backup, "v", io.BytesIO())
    cluster.client.delete(ACCOUNT + "/volumebackups/%s-00002" % prefix, status=204)
    with pytest.raises(exception.BackupDriverException, match="missing"):
        drv.restore(backup, "v", io.BytesIO())
    cluster.client.delete(ACCOUNT + "/volumebackups/%s_metadata" % prefix, status=204)
    with pytest.raises(exception.BackupDriverException, match="no manifest"):
        drv.restore(backup, "v", io.BytesIO())
    drv.delete_backup(backup)  # removes what is left of an incomplete backup
    assert [n for n in names(cluster, "volumebackups") if n.startswith(prefix)] == []


class FailingRead(io.RawIOBase):
    """A volume whose read fails after two pieces."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            raise OSError(5, "Input/output error")
        take = min(size, self.left)
        self.left -= take
        return os.urandom(take)


def test_failed_backup_leaves_no_objects(cluster: Cluster,
                                         store: objectstore.ObjectStoreAPI) -> None:
    drv = driver_mod.ObjectStoreBackupDriver(make_conf(backup_object_size=MIB), store)
    backup = new_backup()
    with pytest.raises(OSError):
        drv.backup(backup, FailingRead(2 * MIB))  # type: ignore[arg-type]
    prefix = driver_mod.object_prefix(backup)
    assert [n for n in names(cluster, "volumebackups") if n.startswith(prefix)] == []


def test_client_listing_pages_and_errors(cluster: Cluster,
                                         store: objectstore.ObjectStoreAPI,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store.put_container("listing")
    for n in range(5):
        assert store.put_object("listing", "p/%d" % n, iter([b"a", b"bc"])) == \
            hashlib.md5(b"abc").hexdigest()
    store.put_object("listing", "q/x", b"")
    monkeypatch.setattr(objectstore, "LISTING_LIMIT", 2)
    assert store.list_objects("listing", prefix="p/") == ["p/%d" % n for n in range(5)]
    assert len(store.list_objects("listing")) == 6
    assert store.list_objects("no-such-container") == []
    assert b"".join(store.get_object("listing", "p/3")) == b"abc"
    with pytest.raises(exception.ObjectStoreError) as err:
        store.get_object("listing", "nothing")
    assert err.value.kwargs["status"] == 404
    with pytest.raises(exception.ObjectStoreError) as err:
        store.put_object("listing", "bad", b"abc", {"ETag": "0" * 32})
    assert err.value.kwargs["status"] == 422
    assert store.delete_object("listing", "p/0") is True
    assert store.delete_object("listing", "p/0") is False
