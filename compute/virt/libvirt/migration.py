"""Cold migration and resize of libvirt guests: the bodies of the driver's
``migrate_disk_and_power_off``, ``finish_migration``, ``confirm_migration`` and
``finish_revert_migration`` (see :mod:`compute.virt.driver` for the flow).

Files, as on Nova. The source powers the guest off (ACPI shutdown for ``[compute]
shutdown_timeout`` seconds, asking again every ``shutdown_retry_interval``, then
by force), renames its directory ``<uuid>`` to ``<uuid>_resize`` (the disks a
revert brings back), writes ``RESIZE_INFO`` there and undefines the domain (with
its managed save and NVRAM, as ``destroy`` does). The destination copies the
kept directory into its own ``<uuid>`` (a copy: the kept one must survive for a
revert; the kernel and ramdisk are hard-linked), points the root disk at its own
cached base image when the source's is not there (``qemu-img rebase -u``),
grows the root disk to the new flavor's ``root_gb`` (``qemu-img resize``, only
when ``resize_instance``; disks never shrink, the source refuses that with
``ResizeRefused`` before it touches the guest), and defines a domain with the
new memory and vCPUs, the same disks, boot (kernel, ramdisk and command line as
the source's domain had them) and VIFs, hence the same tap names (the network
agent plugs them as after any restart). The config drive (``disk.config``)
travels with the directory: the destination keeps it when the node still wants
one (writing it when none came along) and drops it when not; a revert defines
the source's domain with the drive its directory holds. Confirming removes ``<uuid>_resize``;
reverting renames it back to ``<uuid>`` (over the destination's copy when that is
this host) and defines the old size again.

Where the disks travel: the destination copies the kept directory by the path
``disk_info`` names. That works when source and destination are this host (the
case tested here) or share the file system holding ``instances_path`` by the
same path. Copying between hosts without shared storage (Nova pushes the files
over SSH or rsync from the source) is not implemented: ``finish_migration``
then fails with ``InstanceDeployFailure`` naming the directory it cannot see.

``destroy`` and ``<uuid>_resize`` (the rule): ``destroy(destroy_disks=True)``
removes ``<uuid>`` and also ``<uuid>_resize`` unless ``RESIZE_INFO`` there says
another host kept it (the source of a migration between hosts sharing
storage); ``destroy_disks=False`` keeps both. So deleting a resized instance, or
a leftover of a failed resize, leaves nothing; a destination never deletes its
source's revert copy; and a revert on one host works because the node destroys
the resized guest there with ``destroy_disks=False`` (Nova does the same for any
shared instance storage) and ``finish_revert_migration`` replaces the copy.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

import libvirt  # type: ignore[import-untyped]
from oslo_config import cfg
from oslo_log import log as logging

from compute.virt import exception
from compute.virt import model
from compute.virt import power_state
from compute.virt.libvirt import config_drive as cdrive
from compute.virt.libvirt import guest
from compute.virt.libvirt import imagecache

if TYPE_CHECKING:
    from compute.virt.libvirt.driver import LibvirtDriver

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3
RESIZE_SUFFIX = "_resize"
# disk_info as the source wrote it, kept with the disks: who kept them, and the
# boot settings a revert needs (finish_revert_migration gets no image).
RESIZE_INFO = "stratus-resize.json"
ROOT_DISK = "disk"
# [compute] shutdown_timeout and shutdown_retry_interval when the node's options
# are not registered (a driver used on its own).
SHUTDOWN_TIMEOUT = 60
SHUTDOWN_RETRY_INTERVAL = 10
COPY_TIMEOUT = 3600


def resize_dir(instance_dir: str) -> str:
    return instance_dir.rstrip(os.sep) + RESIZE_SUFFIX


def remove_tree(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(path)


def read_info(kept: str) -> dict[str, Any] | None:
    """The ``RESIZE_INFO`` of a kept directory (None when missing or unreadable)."""
    try:
        with open(os.path.join(kept, RESIZE_INFO)) as handle:
            info = json.load(handle)
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def remove_instance_files(host: str, instance_dir: str) -> None:
    """What ``destroy(destroy_disks=True)`` removes (the rule in the module docstring).

    :raises: OSError.
    """
    remove_tree(instance_dir)
    kept = resize_dir(instance_dir)
    if not os.path.isdir(kept):
        return
    info = read_info(kept)
    owner = info.get("source_host") if info else None
    if owner and owner != host:
        LOG.info("Keeping %s: host %s keeps it for a revert", kept, owner)
        return
    remove_tree(kept)


def _shutdown_options(conf: cfg.ConfigOpts) -> tuple[int, int]:
    try:
        return (int(conf.compute.shutdown_timeout), int(conf.compute.shutdown_retry_interval))
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return SHUTDOWN_TIMEOUT, SHUTDOWN_RETRY_INTERVAL


def _relative(path: str | None, directory: str) -> str | None:
    """``path`` relative to ``directory`` when inside it, else as is."""
    if not path:
        return None
    if os.path.dirname(path) == directory:
        return os.path.basename(path)
    return path


def describe(drv: LibvirtDriver, xml: ET.Element, directory: str) -> dict[str, Any]:
    """The boot settings and local disk files (those in ``directory``) of a domain.

    :raises: QemuImgError.
    """
    disks = []
    base_dir = drv.image_cache.base_dir
    for disk in xml.findall("devices/disk[@type='file'][@device='disk']"):
        source, driver, target = disk.find("source"), disk.find("driver"), disk.find("target")
        path = source.get("file") if source is not None else None
        if not path or os.path.dirname(path) != directory:
            continue  # a volume
        details = imagecache.image_info(path)
        backing = details.get("full-backing-filename") or details.get("backing-filename")
        disks.append({
            "name": os.path.basename(path), "path": path,
            "target": target.get("dev") if target is not None else None,
            "format": (driver.get("type") if driver is not None else None)
            or details.get("format") or "raw",
            "virtual_size": int(details.get("virtual-size") or 0),
            "backing_file": backing,
            "backing_format": details.get("backing-filename-format"),
            "image_id": (os.path.basename(backing)
                         if backing and os.path.dirname(backing) == base_dir else None)})
    return {"boot": {"kernel": _relative(xml.findtext("os/kernel"), directory),
                     "initrd": _relative(xml.findtext("os/initrd"), directory),
                     "cmdline": xml.findtext("os/cmdline")},
            "disks": disks}


def _check_size(instance: model.Instance, flavor: Mapping[str, Any],
                disks: list[dict[str, Any]]) -> None:
    root = next((d for d in disks if d["name"] == ROOT_DISK), None)
    if root is None:
        return  # booted from a volume: no local root disk to resize
    new_gb = int(flavor.get("root_gb") or 0)
    if new_gb < instance.root_gb or (new_gb and new_gb * GiB < root["virtual_size"]):
        raise exception.ResizeRefused(instance_id=instance.uuid,
                                      reason="unable to resize disk down")


def migrate_disk_and_power_off(drv: LibvirtDriver, instance: model.Instance, dest_host: str,
                               flavor: Mapping[str, Any]) -> dict[str, Any]:
    dom = drv.hypervisor.lookup(instance.uuid)
    directory = drv.instance_dir(instance.uuid)
    kept = resize_dir(directory)
    with drv.hypervisor.translate(instance.uuid, exception.InstancePowerOffFailure):
        xml = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        try:
            info = describe(drv, xml, directory)
        except imagecache.QemuImgError as err:
            raise exception.ResizeRefused(instance_id=instance.uuid, reason=str(err)) from err
        _check_size(instance, flavor, info["disks"])
        was_active = guest.active(dom)
        timeout, retry_interval = _shutdown_options(drv.conf)
        if guest.power_state(dom) == power_state.RUNNING and timeout > 0:
            if not guest.clean_shutdown(dom, timeout, retry_interval, drv._clock,
                                        drv._sleep):
                LOG.warning("Instance %s did not shut down within %d s; powering it off",
                            instance.uuid, timeout)
        guest.stop(dom, drv._sleep)
    info.update(source_host=drv.host, dest_host=dest_host, instance_dir=directory,
                resize_dir=kept)
    for disk in info["disks"]:
        disk["path"] = os.path.join(kept, disk["name"])
    moved = False
    try:
        remove_tree(kept)  # the leftover of an earlier resize that failed
        if os.path.isdir(directory):
            os.rename(directory, kept)
            moved = True
        else:
            imagecache.ensure_dir(kept)
        with open(os.path.join(kept, RESIZE_INFO), "w") as handle:
            json.dump(info, handle, indent=1)
        if dest_host != drv.host:
            _delete_secrets(drv.hypervisor.connect(), xml)
        with drv.hypervisor.translate(instance.uuid, exception.InstancePowerOffFailure):
            guest.undefine(dom)
    except BaseException as err:
        LOG.warning("Resize of instance %s failed (%s); restoring its guest", instance.uuid, err)
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(kept, RESIZE_INFO))
        if moved:
            with contextlib.suppress(OSError):
                os.rename(kept, directory)
        if was_active:
            with contextlib.suppress(Exception):
                dom.createWithFlags(0)
        if isinstance(err, OSError):
            raise exception.ResizeRefused(
                instance_id=instance.uuid,
                reason="its disks could not be set aside: %s" % err) from err
        raise
    LOG.info("Instance %s powered off and its disks kept in %s for %s", instance.uuid, kept,
             dest_host)
    return info


def _delete_secrets(conn: Any, xml: ET.Element) -> None:
    """The CHAP secrets of the domain's iSCSI volumes (the destination defines its own)."""
    for secret in xml.findall("devices/disk/auth/secret"):
        usage = secret.get("usage")
        if usage:
            with contextlib.suppress(libvirt.libvirtError):
                conn.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_ISCSI, usage).undefine()


def _copy_file(source: str, dest: str) -> None:
    """Copy a (possibly sparse, possibly large) disk file: a reflink where the
    file system can, holes kept.

    :raises: OSError.
    """
    try:
        done = subprocess.run(
            ["cp", "--sparse=always", "--reflink=auto", "--preserve=mode,timestamps",
             "--", source, dest], capture_output=True, text=True, timeout=COPY_TIMEOUT,
            check=False)
    except subprocess.TimeoutExpired as err:
        raise OSError("copying %s timed out" % source) from err
    if done.returncode != 0:
        raise OSError("cp %s %s: %s" % (source, dest, done.stderr.strip()))


def _copy_dir(kept: str, directory: str, linked: set[str]) -> None:
    """``directory`` as a copy of the files of ``kept`` (``linked`` names are hard
    links: the kernel and ramdisk, never written), made beside it and renamed
    into place so a half copy never looks like an instance directory.

    :raises: OSError.
    """
    parent = imagecache.ensure_dir(os.path.dirname(directory))
    remove_tree(directory)
    tmp = tempfile.mkdtemp(prefix=".%s.copy-" % os.path.basename(directory), dir=parent)
    try:
        for name in sorted(os.listdir(kept)):
            source = os.path.join(kept, name)
            if name == RESIZE_INFO or os.path.islink(source) or not os.path.isfile(source):
                continue
            if name in linked:
                imagecache.link(source, os.path.join(tmp, name))
            else:
                _copy_file(source, os.path.join(tmp, name))
        os.chmod(tmp, imagecache.DIR_MODE)
        os.rename(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _rebase(drv: LibvirtDriver, context: Any, path: str, disk: Mapping[str, Any]) -> None:
    """Point a copied overlay at this host's cached base (fetched when missing)."""
    backing = disk.get("backing_file")
    if not backing:
        return
    wanted = str(backing)
    if disk.get("image_id"):
        wanted = drv.image_cache.fetch(context, str(disk["image_id"]))
    if not os.path.exists(wanted):
        raise exception.InstanceDeployFailure(
            reason="the backing file %s of %s is missing" % (wanted, path))
    if wanted != backing:
        args = ["rebase", "-u", "-f", str(disk.get("format") or "qcow2"), "-b", wanted]
        if disk.get("backing_format"):
            args += ["-F", str(disk["backing_format"])]
        imagecache.qemu_img(*args, path)


def _boot_files(directory: str, boot: Mapping[str, Any]) -> tuple[str | None, str | None]:
    kernel, initrd = boot.get("kernel"), boot.get("initrd")
    return (os.path.join(directory, kernel) if kernel else None,
            os.path.join(directory, initrd) if initrd and kernel else None)


def _define(drv: LibvirtDriver, instance: model.Instance, network_info: model.NetworkInfo,
            bdi: model.BlockDeviceInfo | None, info: Mapping[str, Any], root_format: str | None,
            power_on: bool) -> Any:
    """Define (and start when ``power_on``) the domain of ``instance`` from the
    files in its directory; the domain."""
    bdi = bdi or model.BlockDeviceInfo()
    directory = drv.instance_dir(instance.uuid)
    boot: Mapping[str, Any] = info.get("boot") or {}
    kernel, initrd = _boot_files(directory, boot)
    root_path = os.path.join(directory, ROOT_DISK)
    root = (root_path, root_format or "qcow2") if os.path.exists(root_path) else None
    # Only the command line matters to the domain XML: the files are in place.
    image_meta = model.ImageMeta(os_command_line=boot.get("cmdline"))
    xml = drv._guest_xml(instance, image_meta, network_info, bdi, drv._volumes(bdi),
                         root=root, kernel=kernel, initrd=initrd,
                         config_drive=cdrive.existing(directory))
    conn = drv.hypervisor.connect()
    dom = conn.defineXML(xml)
    if power_on:
        dom.createWithFlags(0)
    return dom


def _root_format(info: Mapping[str, Any]) -> str | None:
    for disk in info.get("disks") or ():
        if disk.get("name") == ROOT_DISK:
            return str(disk.get("format") or "qcow2")
    return None


def finish_migration(drv: LibvirtDriver, context: Any, instance: model.Instance,
                     disk_info: Mapping[str, Any], network_info: model.NetworkInfo,
                     resize_instance: bool, bdi: model.BlockDeviceInfo | None,
                     power_on: bool, drive: model.ConfigDrive | None = None) -> None:
    conn = drv.hypervisor.connect()
    drv._check_absent(conn, instance)
    kept = str(disk_info.get("resize_dir") or "")
    if not kept or not os.path.isdir(kept):
        raise exception.InstanceDeployFailure(
            reason="the disks of instance %s kept on host %s (%s) are not reachable from "
            "host %s: migrating between hosts needs instances_path on shared storage "
            "(copying the disks over SSH is not implemented)"
            % (instance.uuid, disk_info.get("source_host"), kept or "no path", drv.host))
    directory = drv.instance_dir(instance.uuid)
    boot = disk_info.get("boot") or {}
    dom = None
    try:
        try:
            _copy_dir(kept, directory, {str(boot[k]) for k in ("kernel", "initrd")
                                        if boot.get(k) and os.sep not in str(boot[k])})
            for disk in disk_info.get("disks") or ():
                path = os.path.join(directory, str(disk["name"]))
                _rebase(drv, context, path, disk)
                wanted = instance.root_gb * GiB
                if resize_instance and disk["name"] == ROOT_DISK and \
                        wanted > int(imagecache.image_info(path).get("virtual-size") or 0):
                    imagecache.qemu_img("resize", "-q", "-f", str(disk.get("format") or "qcow2"),
                                        path, str(wanted))
        except (OSError, imagecache.QemuImgError) as err:
            raise exception.InstanceDeployFailure(reason=str(err)) from err
        # The drive that came with the disks stays (Nova does not overwrite one).
        cdrive.write(directory, drive, instance.uuid, keep=True)
        with drv.hypervisor.translate(instance.uuid, exception.InstanceDeployFailure):
            dom = _define(drv, instance, network_info, bdi, disk_info,
                          _root_format(disk_info), power_on)
    except BaseException:
        LOG.warning("Finishing the migration of instance %s failed; removing its copy",
                    instance.uuid)
        with contextlib.suppress(Exception):
            if dom is not None:
                guest.stop(dom, drv._sleep)
                guest.undefine(dom)
        with contextlib.suppress(Exception):
            remove_tree(directory)
        raise
    LOG.info("Instance %s migrated from %s (%d MiB, %d vCPUs, root %d GiB)", instance.uuid,
             disk_info.get("source_host"), instance.memory_mb, instance.vcpus, instance.root_gb)


def confirm_migration(drv: LibvirtDriver, instance: model.Instance) -> None:
    kept = resize_dir(drv.instance_dir(instance.uuid))
    try:
        remove_tree(kept)
    except OSError as err:
        raise exception.InstanceTerminationFailure(reason=str(err)) from err
    LOG.info("Resize of instance %s confirmed: %s removed", instance.uuid, kept)


def finish_revert_migration(drv: LibvirtDriver, instance: model.Instance,
                            network_info: model.NetworkInfo,
                            bdi: model.BlockDeviceInfo | None, power_on: bool) -> None:
    directory = drv.instance_dir(instance.uuid)
    kept = resize_dir(directory)
    if not os.path.isdir(kept):
        raise exception.InstanceNotFound(instance_id=instance.uuid)
    conn = drv.hypervisor.connect()
    try:  # the resized guest, when it was on this host and is still defined
        dom = drv.hypervisor.lookup(instance.uuid)
    except exception.InstanceNotFound:
        dom = None
    if dom is not None:
        with drv.hypervisor.translate(instance.uuid, exception.InstanceTerminationFailure):
            guest.stop(dom, drv._sleep)
            guest.undefine(dom)
    drv._check_absent(conn, instance)
    info = read_info(kept) or {}
    try:
        remove_tree(directory)  # the destination's copy (this host) or a leftover
        os.rename(kept, directory)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(directory, RESIZE_INFO))
    except OSError as err:
        raise exception.InstanceDeployFailure(reason=str(err)) from err
    if not info.get("boot"):  # no RESIZE_INFO: the files spawn makes
        info["boot"] = {key: name for key, name in (("kernel", "kernel"), ("initrd", "ramdisk"))
                        if os.path.exists(os.path.join(directory, name))}
    with drv.hypervisor.translate(instance.uuid, exception.InstancePowerOnFailure):
        _define(drv, instance, network_info, bdi, info, _root_format(info), power_on)
    LOG.info("Resize of instance %s reverted (%d MiB, %d vCPUs)", instance.uuid,
             instance.memory_mb, instance.vcpus)
