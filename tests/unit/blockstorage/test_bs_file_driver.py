"""The file driver against the real qemu-img, on files under tmp_path."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from typing import Any

import pytest
from oslo_config import cfg

from blockstorage import conf as bs_conf
from blockstorage import exception
from blockstorage.volume import drivers
from blockstorage.volume.drivers import base
from blockstorage.volume.drivers import file as file_driver

GiB = 1024 ** 3


def make_conf(tmp_path: Any, **volume: Any) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    bs_conf.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])
    conf.set_override("state_path", str(tmp_path))
    for key, value in volume.items():
        conf.set_override(key, value, group="volume")
    return conf


def info(path: str) -> dict[str, Any]:
    out = subprocess.run(["qemu-img", "info", "--output=json", path], check=True,
                         capture_output=True, text=True).stdout
    return dict(json.loads(out))


def new_volume(size: int = 1) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "size": size, "provider_location": None,
            "provider_auth": None}


@pytest.fixture
def driver(tmp_path: Any) -> file_driver.FileDriver:
    drv = drivers.load(make_conf(tmp_path))
    assert isinstance(drv, file_driver.FileDriver)
    drv.do_setup()
    drv.check_for_setup_error()
    return drv


def _write(path: str, offset: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def _read(path: str, offset: int, size: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(size)


def test_create_is_a_sparse_raw_file_of_the_size(driver: file_driver.FileDriver,
                                                 tmp_path: Any) -> None:
    volume = new_volume(2)
    update = driver.create_volume(volume)
    path = str(tmp_path / "volumes" / ("volume-%s" % volume["id"]))
    assert update == {"provider_location": "raw:" + path}
    volume.update(update)
    assert driver.local_path(volume) == path
    assert os.path.getsize(path) == 2 * GiB
    assert os.stat(path).st_blocks * 512 < 1024 * 1024  # sparse
    assert info(path)["format"] == "raw"


def test_qcow2_volumes(tmp_path: Any) -> None:
    drv = file_driver.FileDriver(make_conf(tmp_path, file_volume_format="qcow2"), "file")
    drv.do_setup()
    volume = new_volume(1)
    volume.update(drv.create_volume(volume))
    assert volume["provider_location"].startswith("qcow2:")
    assert info(drv.local_path(volume))["format"] == "qcow2"
    drv.extend_volume(volume, 3)
    assert info(drv.local_path(volume))["virtual-size"] == 3 * GiB
    conn = drv.initialize_connection(volume, {"host": "h"})
    assert conn["data"]["format"] == "qcow2"


def test_snapshot_clone_and_volume_from_snapshot_copy_the_data(
        driver: file_driver.FileDriver) -> None:
    volume = new_volume(1)
    volume.update(driver.create_volume(volume))
    _write(driver.local_path(volume), 4096, b"first data")
    snapshot = {"id": str(uuid.uuid4()), "volume_id": volume["id"], "volume_size": 1}
    snapshot.update(driver.create_snapshot(snapshot, volume))
    # The snapshot is frozen: later writes to the volume do not reach it.
    _write(driver.local_path(volume), 4096, b"later data")
    snap_path = driver.snapshot_path(snapshot)
    assert _read(snap_path, 4096, 10) == b"first data"

    from_snap = new_volume(2)
    from_snap.update(driver.create_volume_from_snapshot(from_snap, snapshot))
    assert _read(driver.local_path(from_snap), 4096, 10) == b"first data"
    assert info(driver.local_path(from_snap))["virtual-size"] == 2 * GiB

    clone = new_volume(1)
    clone.update(driver.create_cloned_volume(clone, volume))
    assert _read(driver.local_path(clone), 4096, 10) == b"later data"

    # Copies are independent: deleting the snapshot and the source leaves them whole.
    driver.delete_snapshot(snapshot)
    driver.delete_volume(volume)
    assert not os.path.exists(snap_path)
    assert _read(driver.local_path(from_snap), 4096, 10) == b"first data"
    driver.delete_snapshot(snapshot)  # already gone: fine
    driver.delete_volume(volume)


def test_extend_and_delete(driver: file_driver.FileDriver) -> None:
    volume = new_volume(1)
    volume.update(driver.create_volume(volume))
    driver.extend_volume(volume, 4)
    assert info(driver.local_path(volume))["virtual-size"] == 4 * GiB
    driver.delete_volume(volume)
    assert not os.path.exists(driver.local_path(volume))


def test_stats_report_capacity_and_allocation(tmp_path: Any) -> None:
    drv = file_driver.FileDriver(make_conf(tmp_path, file_capacity_gb=50,
                                           reserved_percentage=5), "gold")
    drv.do_setup()
    for size in (1, 3):
        volume = new_volume(size)
        drv.create_volume(volume)
    stats = drv.get_stats(refresh=True)
    assert stats["volume_backend_name"] == "gold"
    assert stats["storage_protocol"] == "file"
    assert stats["total_capacity_gb"] == 50
    assert 49 <= stats["free_capacity_gb"] <= 50
    assert stats["allocated_capacity_gb"] == 4
    assert stats["reserved_percentage"] == 5
    assert stats["thin_provisioning_support"] is True
    assert stats["max_over_subscription_ratio"] == 20.0


def test_image_into_volume_keeps_the_volume_size(driver: file_driver.FileDriver,
                                                 tmp_path: Any) -> None:
    image = str(tmp_path / "image.qcow2")
    raw = str(tmp_path / "image.raw")
    subprocess.run(["qemu-img", "create", "-f", "raw", raw, "64M"], check=True,
                   capture_output=True)
    _write(raw, 0, b"bootsector")
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", raw, image], check=True)
    volume = new_volume(1)
    volume.update(driver.create_volume(volume))
    driver.copy_image_to_volume(volume, image)
    path = driver.local_path(volume)
    assert _read(path, 0, 10) == b"bootsector"
    assert os.path.getsize(path) == GiB
    assert driver.copy_volume_to_image(volume) == path


def test_image_bigger_than_the_volume_is_refused(driver: file_driver.FileDriver,
                                                 tmp_path: Any) -> None:
    image = str(tmp_path / "big.qcow2")
    subprocess.run(["qemu-img", "create", "-f", "qcow2", image, "2G"], check=True,
                   capture_output=True)
    volume = new_volume(1)
    volume.update(driver.create_volume(volume))
    with pytest.raises(exception.ImageCopyFailure):
        driver.copy_image_to_volume(volume, image)


def test_file_connection_info(driver: file_driver.FileDriver) -> None:
    volume = new_volume(1)
    volume.update(driver.create_volume(volume))
    conn = driver.initialize_connection(volume, {"host": "node1", "initiator": "iqn.x"})
    assert conn == {"driver_volume_type": "file",
                    "data": {"device_path": driver.local_path(volume), "format": "raw",
                             "volume_id": volume["id"], "access_mode": "rw",
                             "encrypted": False}}


def test_failing_command_raises_with_its_stderr(driver: file_driver.FileDriver) -> None:
    volume = new_volume(1)
    volume["provider_location"] = "qcow2:/nonexistent/dir/volume-x"
    with pytest.raises(base.ProcessExecutionError) as err:
        driver.extend_volume(volume, 2)
    assert "qemu-img resize" in err.value.message


@pytest.mark.skipif(not shutil.which("qemu-system-x86_64"), reason="needs qemu-system-x86")
def test_attached_volume_can_be_snapshotted_cloned_and_extended(
        driver: file_driver.FileDriver) -> None:
    """A running QEMU holds the volume's file (and its image lock), as an attached
    volume is held by its guest."""
    volume = new_volume(1)
    volume.update(driver.create_volume(volume))
    path = driver.local_path(volume)
    _write(path, 4096, b"attached data")
    qemu = subprocess.Popen(
        ["qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m", "32", "-nographic",
         "-nodefaults", "-S", "-drive", "file=%s,format=raw,if=none,id=d0" % path,
         "-device", "virtio-blk-pci,drive=d0"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        locked = False
        while time.monotonic() < deadline and qemu.poll() is None:
            # A resize to the same size writes nothing; it fails once QEMU holds the lock.
            probe = subprocess.run(["qemu-img", "resize", "-f", "raw", path, "1G"],
                                   capture_output=True, text=True)
            if probe.returncode != 0:
                locked = "lock" in probe.stderr
                break
            time.sleep(0.05)
        assert locked, qemu.stderr.read() if qemu.stderr and qemu.poll() is not None else ""
        snapshot = {"id": str(uuid.uuid4()), "volume_id": volume["id"], "size": 1,
                    "provider_location": None}
        snapshot.update(driver.create_snapshot(snapshot, volume))
        clone = new_volume(1)
        clone.update(driver.create_cloned_volume(clone, volume))
        driver.extend_volume(volume, 2)
    finally:
        qemu.kill()
        qemu.wait()
    assert _read(driver.snapshot_path(snapshot), 4096, 13) == b"attached data"
    assert _read(driver.local_path(clone), 4096, 13) == b"attached data"
    assert os.path.getsize(path) == 2 * GiB
    assert _read(path, 4096, 13) == b"attached data"


def test_iscsi_needs_raw(tmp_path: Any) -> None:
    drv = file_driver.FileDriver(make_conf(tmp_path, file_volume_format="qcow2",
                                           target_protocol="iscsi"), "file")
    drv.do_setup()
    with pytest.raises(exception.VolumeDriverException):
        drv.check_for_setup_error()


def test_iscsi_volumes_get_chap_credentials(tmp_path: Any) -> None:
    calls: list[list[str]] = []

    def runner(cmd: Any, check: bool = True, timeout: float = 0) -> base.CommandResult:
        calls.append(list(cmd))
        return base.execute(cmd, check=check) if cmd[0] == "qemu-img" else \
            base.CommandResult(0, "", "")

    drv = file_driver.FileDriver(make_conf(tmp_path, target_protocol="iscsi"), "file",
                                 runner)
    drv.do_setup()
    volume = new_volume(1)
    update = drv.create_volume(volume)
    kind, user, secret = update["provider_auth"].split()
    assert kind == "CHAP" and len(secret) == 16
    volume.update(update)
    conn = drv.initialize_connection(volume, {"host": "h"})
    assert conn["driver_volume_type"] == "iscsi"
    assert conn["data"]["auth_username"] == user
    assert conn["data"]["target_iqn"] == "iqn.2010-10.org.openstack:volume-%s" % volume["id"]
    assert ["tgtadm", "--lld", "iscsi", "--op", "new", "--mode", "logicalunit", "--tid", "1",
            "--lun", "1", "--backing-store", drv.local_path(volume)] in calls
    # The backup daemon on this host reads the file itself: no export for it.
    calls.clear()
    local = {"host": drv.conf.host, "protocols": ["file"]}
    assert drv.local_consumer(local)
    conn = drv.initialize_connection(volume, local)
    assert conn["driver_volume_type"] == "file"
    assert conn["data"]["device_path"] == drv.local_path(volume)
    assert not [c for c in calls if c[0] == "tgtadm"]
    assert not drv.local_consumer({"host": "elsewhere", "protocols": ["file"]})
    assert not drv.local_consumer({"host": drv.conf.host})
