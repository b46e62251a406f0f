"""The file driver: one file per volume, made and changed with ``qemu-img``.

Volumes are ``<[volume] file_volumes_dir>/volume-<id>`` in ``[volume]
file_volume_format`` (raw by default, sparse; qcow2 optional). Snapshots are
``snapshot-<id>``: a full, independent copy (``qemu-img convert``, which keeps
raw files sparse), so a snapshot never depends on its volume nor a volume
made from a snapshot or a clone on its source — both are copies too, grown to
the new volume's size. (README deviation: no qcow2 backing chains, so deleting
a snapshot or a source never breaks another volume.) Copies read with ``-U`` so
an attached volume can be copied. Extending grows a raw file in place (the guest
may hold it) and resizes a qcow2 one with ``qemu-img resize``.

The volume's file format is stored in ``provider_location``
(``<format>:<path>``) so changing the option later does not misread old
volumes. Capacity comes from the filesystem (statvfs) or ``[volume]
file_capacity_gb``; the allocated total is the sum of the volumes' sizes.

Consumers get the file's path (``target_protocol = file``, compute on this
host) or a tgt iSCSI target with CHAP (``iscsi``, raw volumes only).
"""
from __future__ import annotations

import os
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from blockstorage import exception
from blockstorage.volume.drivers import base
from blockstorage.volume.targets import tgt

LOG = logging.getLogger(__name__)

DIR_MODE = 0o755
FILE_MODE = 0o644


class FileDriver(base.VolumeDriver):
    """Volumes as raw or qcow2 files in one directory."""

    def __init__(self, conf: cfg.ConfigOpts, backend_name: str,
                 runner: base.Runner | None = None) -> None:
        super().__init__(conf, backend_name, runner)
        self.target = tgt.TgtAdm(conf, self.run)

    # -- paths --------------------------------------------------------------------

    @property
    def directory(self) -> str:
        return str(self.conf.volume.file_volumes_dir)

    @property
    def protocol(self) -> str:
        return str(self.conf.volume.target_protocol)

    def _path(self, template: str, object_id: str) -> str:
        name = template % object_id
        if os.sep in name or name.startswith("."):
            raise exception.VolumeDriverException(message="bad object name %r" % name)
        return os.path.join(self.directory, name)

    def local_path(self, volume: base.Volume) -> str:
        location = volume.get("provider_location") or ""
        if ":" in location:
            return location.split(":", 1)[1]
        return self._path(self.conf.volume_name_template, str(volume["id"]))

    def volume_format(self, volume: base.Volume) -> str:
        location = volume.get("provider_location") or ""
        if ":" in location:
            return location.split(":", 1)[0]
        return str(self.conf.volume.file_volume_format)

    def snapshot_path(self, snapshot: base.Snapshot) -> str:
        location = snapshot.get("provider_location") or ""
        if ":" in location:
            return location.split(":", 1)[1]
        return self._path(self.conf.snapshot_name_template, str(snapshot["id"]))

    def _snapshot_format(self, snapshot: base.Snapshot) -> str:
        location = snapshot.get("provider_location") or ""
        return location.split(":", 1)[0] if ":" in location else "raw"

    # -- set-up and capacity ---------------------------------------------------------

    def do_setup(self) -> None:
        os.makedirs(self.directory, mode=DIR_MODE, exist_ok=True)

    def check_for_setup_error(self) -> None:
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise exception.VolumeDriverException(
                message="%s is not a writable directory" % self.directory)
        self.run(["qemu-img", "--version"])
        if self.protocol == "iscsi" and self.conf.volume.file_volume_format != "raw":
            raise exception.VolumeDriverException(
                message="iSCSI exports need raw files ([volume] file_volume_format)")
        if self.protocol == "iscsi":
            self.target.targets()

    def _update_stats(self) -> dict[str, Any]:
        stats = self._base_stats("iSCSI" if self.protocol == "iscsi" else "file")
        fs = os.statvfs(self.directory)
        fs_total = fs.f_blocks * fs.f_frsize / base.GiB
        fs_free = fs.f_bavail * fs.f_frsize / base.GiB
        cap = int(self.conf.volume.file_capacity_gb)
        allocated = self._allocated_gb()
        used = self._used_gb()
        total = float(cap) if cap else fs_total
        free = min(fs_free, max(total - used, 0.0)) if cap else fs_free
        thin = bool(self.conf.volume.file_thin_provisioning)
        stats.update({"total_capacity_gb": round(total, 2),
                      "free_capacity_gb": round(free, 2),
                      "allocated_capacity_gb": allocated,
                      "provisioned_capacity_gb": allocated,
                      "thin_provisioning_support": thin,
                      "thick_provisioning_support": not thin,
                      "pools": []})
        return stats

    def _entries(self) -> list[os.DirEntry[str]]:
        try:
            return [e for e in os.scandir(self.directory) if e.is_file()]
        except FileNotFoundError:
            return []

    def _allocated_gb(self) -> int:
        """Sum of the virtual sizes of the volume files (whole GiB, rounded up)."""
        prefix = self.conf.volume_name_template.split("%s")[0]
        total = 0
        for entry in self._entries():
            if entry.name.startswith(prefix):
                total += -(-entry.stat().st_size // base.GiB)
        return int(total)

    def _used_gb(self) -> float:
        """Blocks really written under the directory (sparse files count what they use)."""
        return sum(e.stat().st_blocks * 512 for e in self._entries()) / base.GiB

    # -- volumes ---------------------------------------------------------------------

    def _location(self, fmt: str, path: str) -> str:
        return "%s:%s" % (fmt, path)

    def _model_update(self, volume: base.Volume, fmt: str, path: str) -> base.ModelUpdate:
        update: base.ModelUpdate = {"provider_location": self._location(fmt, path)}
        if self.protocol == "iscsi" and not volume.get("provider_auth"):
            update["provider_auth"] = tgt.generate_auth()
        return update

    def create_volume(self, volume: base.Volume) -> base.ModelUpdate:
        fmt = str(self.conf.volume.file_volume_format)
        path = self._path(self.conf.volume_name_template, str(volume["id"]))
        if fmt == "raw":  # a sparse file: what qemu-img would make, without a process
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
            try:
                os.ftruncate(fd, int(volume["size"]) * base.GiB)
                os.fsync(fd)
            finally:
                os.close(fd)
        else:
            self.run(["qemu-img", "create", "-f", fmt, path, base.size_arg(volume["size"])])
        os.chmod(path, FILE_MODE)
        return self._model_update(volume, fmt, path)

    def _copy_into_new(self, volume: base.Volume, source: str,
                       source_format: str) -> base.ModelUpdate:
        fmt = str(self.conf.volume.file_volume_format)
        path = self._path(self.conf.volume_name_template, str(volume["id"]))
        # -U: the source may be attached to a running guest (QEMU holds its lock).
        self.run(["qemu-img", "convert", "-U", "-f", source_format, "-O", fmt, source, path])
        self._grow(path, fmt, int(volume["size"]))
        os.chmod(path, FILE_MODE)
        return self._model_update(volume, fmt, path)

    def create_volume_from_snapshot(self, volume: base.Volume,
                                    snapshot: base.Snapshot) -> base.ModelUpdate:
        return self._copy_into_new(volume, self.snapshot_path(snapshot),
                                   self._snapshot_format(snapshot))

    def create_cloned_volume(self, volume: base.Volume,
                             src_volume: base.Volume) -> base.ModelUpdate:
        return self._copy_into_new(volume, self.local_path(src_volume),
                                   self.volume_format(src_volume))

    def _grow(self, path: str, fmt: str, size_gb: int) -> None:
        info = base.qemu_img_info(self.run, path)
        if int(info.get("virtual-size") or 0) < size_gb * base.GiB:
            self.run(["qemu-img", "resize", "-f", fmt, path, base.size_arg(size_gb)])

    def delete_volume(self, volume: base.Volume) -> None:
        if self.protocol == "iscsi":
            self.target.remove_target(str(volume["id"]), volume.get("provider_auth"))
        _remove(self.local_path(volume))

    def extend_volume(self, volume: base.Volume, new_size: int) -> None:
        """Grow the file. A raw file grows in place (also while a guest holds it
        open, which locks it against ``qemu-img resize``); qcow2 needs qemu-img."""
        fmt = self.volume_format(volume)
        if fmt == "raw":
            path = self.local_path(volume)
            if os.path.getsize(path) < new_size * base.GiB:
                os.truncate(path, new_size * base.GiB)
            return
        self.run(["qemu-img", "resize", "-f", fmt, self.local_path(volume),
                  base.size_arg(new_size)])

    def create_snapshot(self, snapshot: base.Snapshot,
                        volume: base.Volume) -> base.ModelUpdate:
        fmt = self.volume_format(volume)
        path = self._path(self.conf.snapshot_name_template, str(snapshot["id"]))
        self.run(["qemu-img", "convert", "-U", "-f", fmt, "-O", fmt, self.local_path(volume),
                  path])
        os.chmod(path, FILE_MODE)
        return {"provider_location": self._location(fmt, path)}

    def delete_snapshot(self, snapshot: base.Snapshot) -> None:
        _remove(self.snapshot_path(snapshot))

    # -- exports ----------------------------------------------------------------------

    def ensure_export(self, volume: base.Volume) -> None:
        if self.protocol == "iscsi":
            self.target.create_target(str(volume["id"]), self.local_path(volume),
                                      volume.get("provider_auth"))

    def remove_export(self, volume: base.Volume) -> None:
        if self.protocol == "iscsi":
            self.target.remove_target(str(volume["id"]), volume.get("provider_auth"))

    def local_consumer(self, connector: base.Connector) -> bool:
        return ("file" in (connector.get("protocols") or ())
                and connector.get("host") == self.conf.host)

    def initialize_connection(self, volume: base.Volume,
                              connector: base.Connector) -> base.ConnectionInfo:
        mode = str(connector.get("access_mode") or volume.get("access_mode") or "rw")
        if self.protocol == "iscsi" and not self.local_consumer(connector):
            self.ensure_export(volume)
            return self.target.connection_info(volume, mode)
        return {"driver_volume_type": "file",
                "data": {"device_path": self.local_path(volume),
                         "format": self.volume_format(volume),
                         "volume_id": volume["id"], "access_mode": mode,
                         "encrypted": False}}


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        LOG.info("%s was already gone", path)
