"""The LVM driver's command lines, with a fake LVM at the process boundary.

This machine has no device-mapper (lvcreate fails), so the driver cannot run
against a real volume group here: the fake keeps the logical volumes the
commands made and answers ``vgs``/``lvs`` from them, and the tests check every
command the driver issues.
"""
from __future__ import annotations

from typing import Any

import pytest

from blockstorage import exception
from blockstorage.volume import drivers
from blockstorage.volume.drivers import base
from blockstorage.volume.drivers import lvm

from test_bs_tgt import FakeTgtd, make_conf


class FakeLVM:
    """vgs/lvs/lvcreate/lvremove/lvextend of one volume group, plus tgtadm."""

    def __init__(self, vg: str = "stratus-volumes", size: float = 100.0) -> None:
        self.vg = vg
        self.size = size
        self.lvs: dict[str, float] = {}
        self.calls: list[list[str]] = []
        self.tgtd = FakeTgtd()
        self.pool_used_percent = 12.5

    def lvm_calls(self) -> list[list[str]]:
        return [c for c in self.calls if c[0] not in ("tgtadm", "vgs", "lvs")]

    def __call__(self, cmd: Any, check: bool = True, timeout: float = 0) -> base.CommandResult:
        argv = list(cmd)
        if argv[0] == "tgtadm":
            self.calls.append(argv)
            return self.tgtd(argv, check=check)
        self.calls.append(argv)
        result = self._answer(argv)
        if check and result.returncode:
            raise base.ProcessExecutionError(cmd=" ".join(argv), code=result.returncode,
                                             stderr=result.stderr)
        return result

    def _answer(self, argv: list[str]) -> base.CommandResult:
        if argv[0] == "vgs":
            if argv[-1] != self.vg:
                return base.CommandResult(5, "", "Volume group not found")
            if "vg_name" in argv:
                return base.CommandResult(0, "  %s\n" % self.vg)
            free = self.size - sum(self.lvs.values())
            return base.CommandResult(0, "  %.2f %.2f\n" % (self.size, free))
        if argv[0] == "lvs":
            return self._lvs(argv)
        if argv[0] == "lvcreate":
            self._lvcreate(argv)
        elif argv[0] == "lvremove":
            self.lvs.pop(argv[-1].split("/")[1])
        elif argv[0] == "lvextend":
            self.lvs[argv[-1].split("/")[1]] = float(argv[2].rstrip("G"))
        return base.CommandResult(0)

    def _lvs(self, argv: list[str]) -> base.CommandResult:
        target = argv[-1]
        if "/" in target:
            name = target.split("/")[1]
            if name not in self.lvs:
                return base.CommandResult(5, "", "Failed to find logical volume")
            if any("data_percent" in arg for arg in argv):
                return base.CommandResult(0, "  %.2f %.2f\n" % (self.lvs[name],
                                                                self.pool_used_percent))
            return base.CommandResult(0, "  %s\n" % name)
        out = "".join("  %s %.2f\n" % item for item in self.lvs.items())
        return base.CommandResult(0, out)

    def _lvcreate(self, argv: list[str]) -> None:
        opts = dict(zip(argv, argv[1:] + [""], strict=False))
        name = opts.get("-n") or argv[-1].split("/")[1]
        if "-s" in argv:
            origin = argv[-1].split("/")[1]
            self.lvs[name] = float(opts["-L"].rstrip("G")) if "-L" in opts else self.lvs[origin]
        elif "-V" in opts:
            self.lvs[name] = float(opts["-V"].rstrip("G"))
        else:
            self.lvs[name] = float(opts["-L"].rstrip("Gg"))


def volume(vid: str = "v1", size: int = 1) -> dict[str, Any]:
    return {"id": vid, "size": size, "provider_auth": None, "provider_location": None}


def thick() -> tuple[lvm.LVMDriver, FakeLVM]:
    fake = FakeLVM()
    drv = drivers.load(make_conf(volume_driver="lvm", backend_name="lvm1"), fake)
    assert isinstance(drv, lvm.LVMDriver)
    drv.do_setup()
    drv.check_for_setup_error()
    return drv, fake


def thin() -> tuple[lvm.LVMDriver, FakeLVM]:
    fake = FakeLVM()
    drv = lvm.LVMDriver(make_conf(lvm_type="thin"), "lvm1", fake)
    drv.do_setup()
    drv.check_for_setup_error()
    return drv, fake


def test_missing_volume_group_is_a_setup_error() -> None:
    drv = lvm.LVMDriver(make_conf(volume_group="nope"), "lvm1", FakeLVM())
    with pytest.raises(exception.VolumeDriverException):
        drv.check_for_setup_error()


def test_thick_volume_lifecycle_commands() -> None:
    drv, fake = thick()
    vol = volume()
    update = drv.create_volume(vol)
    assert update["provider_location"] == "stratus-volumes/volume-v1"
    assert update["provider_auth"].startswith("CHAP ")
    vol.update(update)
    assert drv.local_path(vol) == "/dev/stratus-volumes/volume-v1"
    drv.extend_volume(vol, 3)
    vol["size"] = 3
    snap = {"id": "s1", "volume_id": "v1", "volume_size": 3}
    assert drv.create_snapshot(snap, vol) == {
        "provider_location": "stratus-volumes/snapshot-s1"}
    drv.delete_snapshot(snap)
    drv.delete_volume(vol)
    drv.delete_volume(vol)  # gone already: no lvremove
    assert fake.lvm_calls() == [
        ["lvcreate", "-L", "1G", "-n", "volume-v1", "stratus-volumes"],
        ["lvextend", "-L", "3G", "stratus-volumes/volume-v1"],
        ["lvcreate", "-s", "-L", "3G", "-n", "snapshot-s1", "stratus-volumes/volume-v1"],
        ["lvremove", "-f", "stratus-volumes/snapshot-s1"],
        ["lvremove", "-f", "stratus-volumes/volume-v1"],
    ]
    assert fake.lvs == {}


def test_thick_copies_go_through_qemu_img() -> None:
    drv, fake = thick()
    src = volume("v1", 1)
    src.update(drv.create_volume(src))
    clone = volume("v2", 2)
    drv.create_cloned_volume(clone, src)
    snap = {"id": "s1", "volume_id": "v1", "volume_size": 1}
    drv.create_snapshot(snap, src)
    from_snap = volume("v3", 1)
    drv.create_volume_from_snapshot(from_snap, snap)
    assert fake.lvm_calls()[1:] == [
        ["lvcreate", "-L", "2G", "-n", "volume-v2", "stratus-volumes"],
        ["qemu-img", "convert", "-n", "-f", "raw", "-O", "raw",
         "/dev/stratus-volumes/volume-v1", "/dev/stratus-volumes/volume-v2"],
        ["lvcreate", "-s", "-L", "1G", "-n", "snapshot-s1", "stratus-volumes/volume-v1"],
        ["lvcreate", "-L", "1G", "-n", "volume-v3", "stratus-volumes"],
        ["qemu-img", "convert", "-n", "-f", "raw", "-O", "raw",
         "/dev/stratus-volumes/snapshot-s1", "/dev/stratus-volumes/volume-v3"],
    ]


def test_thin_pool_volumes_and_snapshots() -> None:
    drv, fake = thin()
    assert fake.lvm_calls()[0] == ["lvcreate", "-T", "-L", "95g",
                                   "stratus-volumes/stratus-volumes-pool"]
    src = volume("v1", 1)
    src.update(drv.create_volume(src))
    snap = {"id": "s1", "volume_id": "v1", "volume_size": 1}
    drv.create_snapshot(snap, src)
    drv.create_volume_from_snapshot(volume("v2", 2), snap)
    drv.create_cloned_volume(volume("v3", 1), src)
    assert fake.lvm_calls()[1:] == [
        ["lvcreate", "-T", "-V", "1G", "-n", "volume-v1",
         "stratus-volumes/stratus-volumes-pool"],
        ["lvcreate", "-s", "-n", "snapshot-s1", "stratus-volumes/volume-v1"],
        ["lvcreate", "-s", "-ay", "-kn", "-n", "volume-v2", "stratus-volumes/snapshot-s1"],
        ["lvextend", "-L", "2G", "stratus-volumes/volume-v2"],
        ["lvcreate", "-s", "-ay", "-kn", "-n", "volume-v3", "stratus-volumes/volume-v1"],
    ]
    # A second start finds the pool and does not make it again.
    again = lvm.LVMDriver(make_conf(lvm_type="thin"), "lvm1", fake)
    before = len(fake.lvm_calls())
    again.do_setup()
    assert len(fake.lvm_calls()) == before


def test_stats_thick_and_thin() -> None:
    drv, fake = thick()
    drv.create_volume(volume("v1", 10))
    stats = drv.get_stats(refresh=True)
    assert stats["storage_protocol"] == "iSCSI"
    assert stats["volume_backend_name"] == "lvm1"
    assert (stats["total_capacity_gb"], stats["free_capacity_gb"]) == (100.0, 90.0)
    assert stats["allocated_capacity_gb"] == 10.0
    assert stats["thin_provisioning_support"] is False

    tdrv, tfake = thin()
    tdrv.create_volume(volume("v1", 30))
    stats = tdrv.get_stats(refresh=True)
    assert stats["total_capacity_gb"] == 95.0
    assert stats["free_capacity_gb"] == round(95.0 * 0.875, 2)
    assert stats["allocated_capacity_gb"] == 30.0
    assert stats["thin_provisioning_support"] is True


def test_export_and_delete_go_through_tgt() -> None:
    drv, fake = thick()
    vol = volume()
    vol.update(drv.create_volume(vol))
    info = drv.initialize_connection(vol, {"host": "node1"})
    assert info["driver_volume_type"] == "iscsi"
    assert info["data"]["target_iqn"] == "iqn.2010-10.org.openstack:volume-v1"
    assert info["data"]["auth_password"] == vol["provider_auth"].split()[2]
    lun = [c for c in fake.calls if "logicalunit" in c]
    assert lun[0][-2:] == ["--backing-store", "/dev/stratus-volumes/volume-v1"]
    drv.delete_volume(vol)
    assert fake.tgtd.targets == {}
    assert fake.tgtd.accounts == set()
