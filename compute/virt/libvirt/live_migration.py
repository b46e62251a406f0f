"""Live migration of libvirt guests (a mixin of ``LibvirtDriver``).

The source's libvirtd migrates the domain itself, peer to peer, with
``migrateToURI3`` and the flags ``VIR_MIGRATE_LIVE | PEER2PEER | PERSIST_DEST |
UNDEFINE_SOURCE`` (plus ``NON_SHARED_INC`` for a block migration: the local
disks are copied while the guest runs) to ``[libvirt] live_migration_uri``
with the destination's address (``[libvirt] live_migration_inbound_addr`` of
the destination, else its host name): ``qemu+tcp://<dest>/system`` by default,
so each libvirtd must accept the other's connections there.

Shared storage is found out as Nova does: the destination creates a test file
in its ``instances_path`` (``check_can_live_migrate_destination``) and the
source looks for it. Without shared storage ``block_migration`` auto (None)
means a block migration: the destination's ``pre_live_migration`` creates
empty disks of the same size over the same base images (fetched into its
image cache) and links the kernel and ramdisk, at the same paths. With it,
the files are already there. Volumes are connected to the destination by the
node (block storage exports them to its connector); their new ``<source>`` go
into the destination's domain XML (``VIR_MIGRATE_PARAM_DEST_XML``), as does the
destination's VNC listen address. Only the local disks are copied
(``VIR_MIGRATE_PARAM_MIGRATE_DISKS``). A config drive is not one of them (libvirt
does not copy a read-only CD-ROM): without shared storage the destination's
``pre_live_migration`` writes it from the documents its node gathered, at the
same path, before the guest arrives (Nova copies the source's file instead).

Two nodes of one libvirtd (one machine) cannot migrate to each other: the
check compares the libvirt host UUIDs of both ends and says so before anything
moves. Abort is ``abortJob`` (the migration call then fails and the guest keeps
running on the source); force-complete pauses the guest so the migration
converges, and the destination resumes it.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from typing import Any
from xml.etree import ElementTree as ET

import libvirt  # type: ignore[import-untyped]
from oslo_config import cfg
from oslo_log import log as logging

from compute.virt import driver
from compute.virt import exception
from compute.virt import model
from compute.virt import power_state
from compute.virt.libvirt import config
from compute.virt.libvirt import config_drive as cdrive
from compute.virt.libvirt import guest
from compute.virt.libvirt import host as libvirt_host
from compute.virt.libvirt import hotplug
from compute.virt.libvirt import imagecache
from compute.virt.libvirt import migration as cold_migration
from compute.virt.libvirt import volume

LOG = logging.getLogger(__name__)

LIVE_FLAGS = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER
              | libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)
BLOCK_FLAGS = libvirt.VIR_MIGRATE_NON_SHARED_INC
DEFAULT_URI = "qemu+tcp://%s/system"
TEST_FILE_PREFIX = ".stratus-shared-storage-"
_MIGRATABLE = (power_state.RUNNING, power_state.PAUSED)
_BOOT_FILES = ("kernel", "ramdisk")
# A force-complete that paused the guest (the destination resumes it).
PAUSED_TO_COMPLETE = "paused-to-complete"


def host_uuid(conn: Any) -> str:
    """The libvirt host UUID (``<capabilities><host><uuid>``), "" when unknown."""
    try:
        return ET.fromstring(conn.getCapabilities()).findtext("host/uuid") or ""
    except (libvirt.libvirtError, ET.ParseError):
        return ""


def migration_uri(conf: cfg.ConfigOpts, address: str) -> str:
    """``[libvirt] live_migration_uri`` with the destination's address."""
    template = conf.libvirt.live_migration_uri or DEFAULT_URI
    if template.count("%s") != 1:
        raise exception.MigrationPreCheckError(
            reason="[libvirt] live_migration_uri %r must contain one %%s" % template)
    return str(template % address)


def _test_file(instances_path: str, name: str) -> str:
    if os.path.basename(name) != name or not name.startswith(TEST_FILE_PREFIX):
        raise ValueError("not a shared storage test file: %r" % name)
    return os.path.join(instances_path, name)


def _image_id_of(base_dir: str, path: str) -> str | None:
    """The cached image ``path`` is (a hard link to or an overlay over)."""
    if os.path.dirname(path) == base_dir:
        return os.path.basename(path)
    with contextlib.suppress(OSError):
        for name in os.listdir(base_dir):
            candidate = os.path.join(base_dir, name)
            if not name.startswith(".") and os.path.samefile(candidate, path):
                return name
    return None


def local_files(xml: ET.Element, directory: str, base_dir: str) -> dict[str, Any]:
    """The domain's files in its instance ``directory``: disks (name, target,
    format, virtual size, base image) and boot files (name -> image id)."""
    disks = []
    for disk in xml.findall("devices/disk[@type='file'][@device='disk']"):
        source, target = disk.find("source"), disk.find("target")
        path = source.get("file") if source is not None else None
        if not path or os.path.dirname(path) != directory or target is None:
            continue  # a volume, or a file of no instance directory
        info = imagecache.image_info(path)
        backing = info.get("full-backing-filename") or info.get("backing-filename")
        disks.append({"name": os.path.basename(path), "target": target.get("dev"),
                      "format": info.get("format") or "raw",
                      "virtual_size": int(info.get("virtual-size") or 0),
                      "image_id": _image_id_of(base_dir, backing) if backing else None,
                      "backing_format": info.get("backing-filename-format")})
    boot = {}
    for tag, name in (("os/kernel", "kernel"), ("os/initrd", "ramdisk")):
        path = xml.findtext(tag)
        if path and os.path.dirname(path) == directory:
            boot[name] = _image_id_of(base_dir, path)
    drive = cdrive.attached(xml)
    return {"disks": disks, "boot": boot,
            "config_drive": drive is not None and os.path.dirname(drive) == directory}


def dest_xml(xml: str, volume_disks: Mapping[str, str], vnc_listen: str | None) -> str:
    """The domain XML for the destination: the volumes' ``<source>`` (and type,
    auth) of their connections there, the VNC listen address there. Everything
    else, device addresses above all, stays (the guest must not notice)."""
    root = ET.fromstring(xml)
    for target, snippet in volume_disks.items():
        old = guest.find_disk(root, target)
        if old is None:
            continue
        new = ET.fromstring(snippet)
        old.set("type", new.get("type", old.get("type", "file")))
        for tag in ("source", "auth"):
            for child in old.findall(tag):
                old.remove(child)
            found = new.find(tag)
            if found is not None:
                old.insert(1, found)
    if vnc_listen:
        for graphics in root.findall("devices/graphics[@type='vnc']"):
            graphics.set("listen", vnc_listen)
            for listen in graphics.findall("listen"):
                if listen.get("type") == "address":
                    listen.set("address", vnc_listen)
    return ET.tostring(root, encoding="unicode")


class LibvirtLiveMigration:
    """The live migration hooks of ``compute.virt.driver.ComputeDriver``."""

    conf: cfg.ConfigOpts
    host: str
    hypervisor: libvirt_host.Host
    fetch_image: driver.FetchImageCallback | None
    _sleep: Callable[[float], None]

    def _init_live_migration(self) -> None:
        self._live_lock = threading.Lock()
        #: instance uuid -> "running", "abort" or "force-complete".
        self._live: dict[str, str] = {}

    def _vnc_listen(self) -> str | None:
        raise NotImplementedError

    @property
    def _instances_path(self) -> str:
        return os.path.abspath(self.conf.libvirt.instances_path)

    def _cache(self) -> imagecache.ImageCache:
        return imagecache.ImageCache(os.path.join(self._instances_path, "_base"),
                                     self.fetch_image)

    def _directory(self, instance_uuid: str) -> str:
        return os.path.join(self._instances_path, instance_uuid)

    # -- shared storage ----------------------------------------------------------

    def create_shared_storage_test_file(self) -> str | None:
        directory = imagecache.ensure_dir(self._instances_path)
        fd, path = tempfile.mkstemp(prefix=TEST_FILE_PREFIX, dir=directory)
        os.close(fd)
        return os.path.basename(path)

    def check_shared_storage_test_file(self, name: str) -> bool:
        return os.path.exists(_test_file(self._instances_path, name))

    def cleanup_shared_storage_test_file(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(_test_file(self._instances_path, name))

    # -- checks ------------------------------------------------------------------------

    def check_can_live_migrate_destination(self, context: Any, instance: model.Instance,
                                           block_migration: bool | None) -> dict[str, Any]:
        conn = self.hypervisor.connect()
        try:
            self.hypervisor.lookup(instance.uuid)
        except exception.InstanceNotFound:
            pass
        else:
            raise exception.MigrationPreCheckError(
                reason="a domain of instance %s is defined on %s" % (instance.uuid, self.host))
        return {"dest_host": self.host, "libvirt_host_uuid": host_uuid(conn),
                "target_connect_addr": self.conf.libvirt.live_migration_inbound_addr or None,
                "shared_storage_file": self.create_shared_storage_test_file(),
                "block_migration": block_migration, "vnc_listen": self._vnc_listen()}

    def check_can_live_migrate_source(self, context: Any, instance: model.Instance,
                                      dest_check_data: dict[str, Any]) -> dict[str, Any]:
        data = dict(dest_check_data)
        dom = self.hypervisor.lookup(instance.uuid)
        with self.hypervisor.translate(instance.uuid, exception.MigrationPreCheckError):
            state = guest.power_state(dom)
            own = host_uuid(self.hypervisor.connect())
            xml = ET.fromstring(dom.XMLDesc(0))
        if state not in _MIGRATABLE:
            raise exception.MigrationPreCheckError(
                reason="instance %s is %s, not running or paused" % (instance.uuid,
                                                                     state.label))
        if own and own == data.get("libvirt_host_uuid"):
            raise exception.MigrationPreCheckError(
                reason="the destination %s is served by the same libvirt daemon as %s "
                "(host UUID %s): libvirt cannot migrate a domain to the host it runs on"
                % (data.get("dest_host"), self.host, own))
        marker = data.get("shared_storage_file")
        shared = bool(marker) and self.check_shared_storage_test_file(str(marker))
        try:
            files = local_files(xml, self._directory(instance.uuid), self._cache().base_dir)
        except imagecache.QemuImgError as err:
            raise exception.MigrationPreCheckError(reason=str(err)) from err
        block = data.get("block_migration")
        if block is None:
            block = not shared
        elif block and shared:
            raise exception.MigrationPreCheckError(
                reason="Block migration can not be used with shared storage.")
        elif not block and not shared and files["disks"]:
            raise exception.MigrationPreCheckError(
                reason="Shared storage live-migration requires either shared storage or "
                "boot-from-volume with no local disks.")
        data.update(source_host=self.host, block_migration=bool(block),
                    is_shared_instance_path=shared, **files)
        return data

    # -- the destination ---------------------------------------------------------------

    def pre_live_migration(self, context: Any, instance: model.Instance,
                           network_info: model.NetworkInfo,
                           block_device_info: model.BlockDeviceInfo | None,
                           migrate_data: dict[str, Any],
                           config_drive: model.ConfigDrive | None = None) -> dict[str, Any]:
        data = dict(migrate_data)
        conn = self.hypervisor.connect()
        if data.get("shared_storage_file"):
            self.cleanup_shared_storage_test_file(str(data["shared_storage_file"]))
        try:
            self.hypervisor.lookup(instance.uuid)
        except exception.InstanceNotFound:
            pass
        else:
            raise exception.InstanceExists(name=instance.name)
        if not data.get("is_shared_instance_path"):
            if data.get("config_drive") and config_drive is None:
                raise exception.MigrationPreCheckError(
                    reason="instance %s has a config drive and this host was given none to "
                    "write" % instance.uuid)
            try:
                self._prepare_files(context, instance.uuid, data)
                if data.get("config_drive"):
                    cdrive.write(self._directory(instance.uuid), config_drive, instance.uuid)
            except (OSError, imagecache.QemuImgError, exception.InstanceDeployFailure) as err:
                raise exception.MigrationPreCheckError(
                    reason="cannot prepare the disks of %s: %s" % (instance.uuid, err)) from err
        volume_disks = {}
        for bdm in (block_device_info.volumes if block_device_info else ()):
            target = model.disk_target(bdm.mount_device)
            hotplug.define_secret(conn, bdm.connection_info, target)
            volume_disks[target] = config.disk_xml(volume.guest_disk(bdm.connection_info,
                                                                     target))
        data["volume_disks"] = volume_disks
        return data

    def _prepare_files(self, context: Any, instance_uuid: str, data: Mapping[str, Any]) -> None:
        """Empty disks over the same bases, and the boot files, where the source has
        them (the block migration fills the disks)."""
        directory = imagecache.ensure_dir(self._directory(instance_uuid))
        cache = self._cache()
        for disk in data.get("disks") or ():
            path = os.path.join(directory, os.path.basename(str(disk["name"])))
            size = str(int(disk["virtual_size"]))
            if disk.get("image_id"):
                base = cache.fetch(context, str(disk["image_id"]))
                base_format = disk.get("backing_format") or imagecache.image_info(base).get(
                    "format") or "raw"
                imagecache.create_overlay(base, str(base_format), path, int(size))
            else:
                imagecache.qemu_img("create", "-q", "-f", str(disk["format"]), path, size)
        for name, image_id in dict(data.get("boot") or {}).items():
            if name in _BOOT_FILES and image_id:
                imagecache.link(cache.fetch(context, str(image_id)),
                                os.path.join(directory, name))

    def post_live_migration_at_destination(self, context: Any, instance: model.Instance,
                                           network_info: model.NetworkInfo,
                                           block_device_info: model.BlockDeviceInfo | None,
                                           migrate_data: dict[str, Any]) -> None:
        dom = self.hypervisor.lookup(instance.uuid)
        if migrate_data.get("resume"):
            with self.hypervisor.translate(instance.uuid, exception.LiveMigrationFailed,
                                           instance_id=instance.uuid):
                if guest.power_state(dom) == power_state.PAUSED:
                    dom.resume()

    def rollback_live_migration_at_destination(
            self, context: Any, instance: model.Instance, network_info: model.NetworkInfo,
            block_device_info: model.BlockDeviceInfo | None,
            migrate_data: dict[str, Any]) -> None:
        if migrate_data.get("shared_storage_file"):
            self.cleanup_shared_storage_test_file(str(migrate_data["shared_storage_file"]))
        conn = self.hypervisor.connect()
        try:
            dom = self.hypervisor.lookup(instance.uuid)
        except exception.InstanceNotFound:
            dom = None
        if dom is not None:
            if guest.active(dom):
                # The guest runs here: whatever failed, its files are not ours to drop.
                LOG.warning("Instance %s runs on %s after a failed live migration; "
                            "leaving it", instance.uuid, self.host)
                return
            guest.undefine(dom)
        for bdm in (block_device_info.volumes if block_device_info else ()):
            hotplug.delete_secret(conn, bdm.connection_info, model.disk_target(bdm.mount_device))
        if not migrate_data.get("is_shared_instance_path") and migrate_data.get("source_host"):
            cold_migration.remove_tree(self._directory(instance.uuid))

    # -- the source ------------------------------------------------------------------------

    def live_migration(self, context: Any, instance: model.Instance, dest: str,
                       migrate_data: dict[str, Any]) -> dict[str, Any]:
        data = dict(migrate_data)
        dom = self.hypervisor.lookup(instance.uuid)
        uri = migration_uri(self.conf, str(data.get("target_connect_addr") or dest))
        flags = LIVE_FLAGS | (BLOCK_FLAGS if data.get("block_migration") else 0)
        with self.hypervisor.translate(instance.uuid, exception.LiveMigrationFailed,
                                       instance_id=instance.uuid):
            xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
        params: dict[str, Any] = {libvirt.VIR_MIGRATE_PARAM_DEST_XML: dest_xml(
            xml, data.get("volume_disks") or {}, data.get("vnc_listen"))}
        if data.get("block_migration"):
            params[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = [
                str(d["target"]) for d in data.get("disks") or ()]
        bandwidth = int(self.conf.libvirt.live_migration_bandwidth or 0)
        if bandwidth:
            params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = bandwidth
        with self._live_lock:
            self._live[instance.uuid] = "running"
        LOG.info("Live-migrating instance %(uuid)s to %(uri)s (flags %(flags)d)",
                 {"uuid": instance.uuid, "uri": uri, "flags": flags})
        try:
            dom.migrateToURI3(uri, params, flags)
        except libvirt.libvirtError as err:
            with self._live_lock:
                request = self._live.pop(instance.uuid, None)
            if request == PAUSED_TO_COMPLETE:
                with contextlib.suppress(libvirt.libvirtError):
                    dom.resume()  # the guest stays here: let it run again
            if request == "abort":
                raise exception.LiveMigrationAborted(instance_id=instance.uuid) from err
            raise exception.LiveMigrationFailed(
                instance_id=instance.uuid, reason=err.get_error_message() or str(err)) from err
        with self._live_lock:
            request = self._live.pop(instance.uuid, None)
        data["resume"] = request == PAUSED_TO_COMPLETE
        return data

    def post_live_migration(self, context: Any, instance: model.Instance,
                            block_device_info: model.BlockDeviceInfo | None,
                            migrate_data: dict[str, Any]) -> None:
        conn = self.hypervisor.connect()
        try:
            dom = self.hypervisor.lookup(instance.uuid)
        except exception.InstanceNotFound:
            dom = None
        if dom is not None and not guest.active(dom):
            guest.undefine(dom)  # UNDEFINE_SOURCE did it, unless libvirt could not
        for bdm in (block_device_info.volumes if block_device_info else ()):
            hotplug.delete_secret(conn, bdm.connection_info, model.disk_target(bdm.mount_device))
        if not migrate_data.get("is_shared_instance_path"):
            cold_migration.remove_tree(self._directory(instance.uuid))

    def live_migration_abort(self, instance: model.Instance) -> None:
        self._request(instance, "abort")

    def live_migration_force_complete(self, instance: model.Instance) -> None:
        self._request(instance, "force-complete")

    def _request(self, instance: model.Instance, what: str) -> None:
        with self._live_lock:
            if instance.uuid not in self._live:
                LOG.info("No live migration of %s runs here to %s", instance.uuid, what)
                return
            self._live[instance.uuid] = what
        dom = self.hypervisor.lookup(instance.uuid)
        with self.hypervisor.translate(instance.uuid, exception.LiveMigrationFailed,
                                       instance_id=instance.uuid):
            if what == "abort":
                dom.abortJob()
            elif guest.power_state(dom) == power_state.RUNNING:
                dom.suspend()
                with self._live_lock:
                    if instance.uuid in self._live:
                        self._live[instance.uuid] = PAUSED_TO_COMPLETE
