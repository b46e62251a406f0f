"""The LVM driver: one logical volume per volume in ``[volume] volume_group``,
exported over iSCSI with tgt and CHAP.

``[volume] lvm_type``:

* ``default`` (thick): ``lvcreate -L <n>G -n volume-<id> VG``; snapshots are
  copy-on-write snapshots sized like their volume (``lvcreate -s -L``); a volume
  from a snapshot or a clone is a new LV filled with ``qemu-img convert``.
* ``thin``: volumes are thin LVs in the pool ``<VG>-pool`` (``lvcreate -T -V``),
  made at start when missing; snapshots, volumes from snapshots and clones are
  thin snapshots (instant, no copy), activated with ``-ay -kn``.

The volume group itself (on a disk or a loop file) is the installer's job;
``do_setup`` checks it exists. This machine has no device-mapper, so this driver
is exercised only through the command lines it issues (unit tests with a
recording runner), never against a real volume group here.
"""
from __future__ import annotations

from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from blockstorage import exception
from blockstorage.volume.drivers import base
from blockstorage.volume.targets import tgt

LOG = logging.getLogger(__name__)


def _float(text: str) -> float:
    text = text.strip()
    return float(text) if text else 0.0


class LVMDriver(base.VolumeDriver):
    """Logical volumes in one volume group, thin or thick."""

    def __init__(self, conf: cfg.ConfigOpts, backend_name: str,
                 runner: base.Runner | None = None) -> None:
        super().__init__(conf, backend_name, runner)
        self.target = tgt.TgtAdm(conf, self.run)

    @property
    def vg(self) -> str:
        return str(self.conf.volume.volume_group)

    @property
    def thin(self) -> bool:
        return self.conf.volume.lvm_type == "thin"

    @property
    def pool(self) -> str:
        return "%s-pool" % self.vg

    def _lv_name(self, volume: base.Volume) -> str:
        return str(self.conf.volume_name_template % volume["id"])

    def _snap_name(self, snapshot: base.Snapshot) -> str:
        return str(self.conf.snapshot_name_template % snapshot["id"])

    def local_path(self, volume: base.Volume) -> str:
        return "/dev/%s/%s" % (self.vg, self._lv_name(volume))

    def _snapshot_path(self, snapshot: base.Snapshot) -> str:
        return "/dev/%s/%s" % (self.vg, self._snap_name(snapshot))

    # -- set-up and capacity ---------------------------------------------------------

    def _lv_exists(self, name: str) -> bool:
        result = self.run(["lvs", "--noheadings", "-o", "lv_name", "%s/%s" % (self.vg, name)],
                          check=False)
        return result.returncode == 0 and bool(result.stdout.strip())

    def do_setup(self) -> None:
        if self.thin and not self._lv_exists(self.pool):
            size = self._vg_sizes()[0] * float(self.conf.volume.lvm_thin_pool_ratio)
            self.run(["lvcreate", "-T", "-L", "%dg" % int(size), "%s/%s" % (self.vg, self.pool)])
            LOG.info("Created thin pool %s/%s", self.vg, self.pool)

    def check_for_setup_error(self) -> None:
        result = self.run(["vgs", "--noheadings", "-o", "vg_name", self.vg], check=False)
        if result.returncode != 0 or not result.stdout.strip():
            raise exception.VolumeDriverException(
                message="volume group %s does not exist" % self.vg)
        if self.thin and not self._lv_exists(self.pool):
            raise exception.VolumeDriverException(
                message="thin pool %s/%s does not exist" % (self.vg, self.pool))
        self.target.targets()

    def _vg_sizes(self) -> tuple[float, float]:
        out = self.run(["vgs", "--noheadings", "--nosuffix", "--units", "g",
                        "-o", "vg_size,vg_free", self.vg]).stdout.split()
        return _float(out[0]), _float(out[1])

    def _allocated_gb(self) -> float:
        out = self.run(["lvs", "--noheadings", "--nosuffix", "--units", "g",
                        "-o", "lv_name,lv_size", self.vg]).stdout
        prefix = self.conf.volume_name_template.split("%s")[0]
        total = 0.0
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0].startswith(prefix):
                total += _float(parts[1])
        return total

    def _update_stats(self) -> dict[str, Any]:
        stats = self._base_stats("iSCSI")
        allocated = round(self._allocated_gb(), 2)
        if self.thin:
            out = self.run(["lvs", "--noheadings", "--nosuffix", "--units", "g",
                            "-o", "lv_size,data_percent",
                            "%s/%s" % (self.vg, self.pool)]).stdout.split()
            total = _float(out[0])
            free = total * (100.0 - _float(out[1] if len(out) > 1 else "0")) / 100.0
        else:
            total, free = self._vg_sizes()
        stats.update({"total_capacity_gb": round(total, 2), "free_capacity_gb": round(free, 2),
                      "allocated_capacity_gb": allocated,
                      "provisioned_capacity_gb": allocated,
                      "thin_provisioning_support": self.thin,
                      "thick_provisioning_support": not self.thin, "pools": []})
        return stats

    # -- volumes ---------------------------------------------------------------------

    def _model_update(self, volume: base.Volume) -> base.ModelUpdate:
        update: base.ModelUpdate = {"provider_location": "%s/%s" % (self.vg,
                                                                    self._lv_name(volume))}
        if not volume.get("provider_auth"):
            update["provider_auth"] = tgt.generate_auth()
        return update

    def _lvcreate(self, name: str, size_gb: int) -> None:
        if self.thin:
            self.run(["lvcreate", "-T", "-V", base.size_arg(size_gb), "-n", name,
                      "%s/%s" % (self.vg, self.pool)])
        else:
            self.run(["lvcreate", "-L", base.size_arg(size_gb), "-n", name, self.vg])

    def create_volume(self, volume: base.Volume) -> base.ModelUpdate:
        self._lvcreate(self._lv_name(volume), int(volume["size"]))
        return self._model_update(volume)

    def _thin_copy(self, volume: base.Volume, origin: str, origin_size: int) -> None:
        name = self._lv_name(volume)
        self.run(["lvcreate", "-s", "-ay", "-kn", "-n", name, "%s/%s" % (self.vg, origin)])
        if int(volume["size"]) > origin_size:
            self.extend_volume(volume, int(volume["size"]))

    def _thick_copy(self, volume: base.Volume, source_path: str) -> None:
        self._lvcreate(self._lv_name(volume), int(volume["size"]))
        self.run(["qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", source_path,
                  self.local_path(volume)])

    def create_volume_from_snapshot(self, volume: base.Volume,
                                    snapshot: base.Snapshot) -> base.ModelUpdate:
        size = int(snapshot.get("volume_size") or snapshot.get("size") or volume["size"])
        if self.thin:
            self._thin_copy(volume, self._snap_name(snapshot), size)
        else:
            self._thick_copy(volume, self._snapshot_path(snapshot))
        return self._model_update(volume)

    def create_cloned_volume(self, volume: base.Volume,
                             src_volume: base.Volume) -> base.ModelUpdate:
        if self.thin:
            self._thin_copy(volume, self._lv_name(src_volume), int(src_volume["size"]))
        else:
            self._thick_copy(volume, self.local_path(src_volume))
        return self._model_update(volume)

    def delete_volume(self, volume: base.Volume) -> None:
        self.target.remove_target(str(volume["id"]), volume.get("provider_auth"))
        self._lvremove(self._lv_name(volume))

    def _lvremove(self, name: str) -> None:
        if not self._lv_exists(name):
            LOG.info("%s/%s was already gone", self.vg, name)
            return
        self.run(["lvremove", "-f", "%s/%s" % (self.vg, name)])

    def extend_volume(self, volume: base.Volume, new_size: int) -> None:
        self.run(["lvextend", "-L", base.size_arg(new_size),
                  "%s/%s" % (self.vg, self._lv_name(volume))])

    def create_snapshot(self, snapshot: base.Snapshot,
                        volume: base.Volume) -> base.ModelUpdate:
        name = self._snap_name(snapshot)
        origin = "%s/%s" % (self.vg, self._lv_name(volume))
        if self.thin:
            self.run(["lvcreate", "-s", "-n", name, origin])
        else:
            self.run(["lvcreate", "-s", "-L", base.size_arg(volume["size"]), "-n", name,
                      origin])
        return {"provider_location": "%s/%s" % (self.vg, name)}

    def delete_snapshot(self, snapshot: base.Snapshot) -> None:
        self._lvremove(self._snap_name(snapshot))

    # -- exports ----------------------------------------------------------------------

    def ensure_export(self, volume: base.Volume) -> None:
        self.target.create_target(str(volume["id"]), self.local_path(volume),
                                  volume.get("provider_auth"))

    def remove_export(self, volume: base.Volume) -> None:
        self.target.remove_target(str(volume["id"]), volume.get("provider_auth"))

    def initialize_connection(self, volume: base.Volume,
                              connector: base.Connector) -> base.ConnectionInfo:
        self.ensure_export(volume)
        mode = str(connector.get("access_mode") or "rw")
        return self.target.connection_info(volume, mode)
