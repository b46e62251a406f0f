"""The libvirt virt driver: QEMU guests (KVM where it works, TCG otherwise).

Domain UUID = instance UUID, domain name = instance name. Each instance has a
directory ``<instances_path>/<uuid>`` holding its root disk (``disk``, a qcow2
overlay of the cached base image, see :mod:`imagecache`), the kernel and
ramdisk of a direct kernel boot (hard links to the cache), ``console.log``,
the serial console as virtlogd writes it, and ``disk.config``, the config drive
of an instance that has one (a read-only CD-ROM, see :mod:`.config_drive`).
``destroy`` removes the directory (and a ``<uuid>_resize`` one a resize kept:
the rule is in :mod:`.migration`, which also holds cold migration and resize;
live migration is in :mod:`.live_migration`, snapshots in :mod:`.snapshot`).

How VIFs reach the bridge: interfaces are ``<interface type='ethernet'>`` with
``<target dev='tap<port id[:11]>'/>``. libvirt creates the tap when the guest
starts (and deletes it when the guest stops); the network service's bridge
agent finds it, applies the port's filters and plugs it into ``brq<network
id[:11]>``, creating that bridge when missing, then reports the port up. So the
driver never needs the bridge to exist, and the agent stays the only one to
enslave a device (never unfiltered). Verified on a host without systemd or
vhost-net: the tap appears with the port's MTU, is unplugged until the agent
(or the functional test) enslaves it, and disappears with the guest. With
``wait_for_vifs`` the guest is created paused (``VIR_DOMAIN_START_PAUSED``):
its tap exists, the agent plugs it, the manager hears the port is up, and the
guest's first DHCP request finds the bridge wired. (``type='bridge'`` would need
the bridge at every start, and the agent removes a brq bridge once nothing is
plugged in: a stopped guest's restart would race with that.) After power_on,
reboot or resume the tap is new again and the agent plugs it at its next poll.

Power operations map to libvirt as: pause/unpause = ``suspend``/``resume``;
suspend/resume = ``managedSave``/``create``; power_on and HARD reboot = destroy,
drop any saved state, start; SOFT reboot = ACPI shutdown, wait, start (HARD when
the guest does not stop in ``[libvirt] wait_soft_reboot_seconds``). Calls block
(the node manager runs them in its worker threads). Resource accounting,
console and VNC lookups are in :mod:`guest`.
"""
from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from xml.etree import ElementTree as ET

import libvirt  # type: ignore[import-untyped]
from oslo_config import cfg
from oslo_log import log as logging

from compute.virt import driver
from compute.virt import exception
from compute.virt import model
from compute.virt import power_state
from compute.virt import uptime
from compute.virt.libvirt import config
from compute.virt.libvirt import config_drive as cdrive
from compute.virt.libvirt import guest
from compute.virt.libvirt import host as libvirt_host
from compute.virt.libvirt import hotplug
from compute.virt.libvirt import imagecache
from compute.virt.libvirt import live_migration
from compute.virt.libvirt import migration as cold_migration
from compute.virt.libvirt import rescue as rescue_mod
from compute.virt.libvirt import snapshot as snapshot_mod
from compute.virt.libvirt import state
from compute.virt.libvirt import volume
from compute.virt.power_state import PowerState

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3

_ANY = frozenset(PowerState)
_RUNNING_OR_PAUSED = frozenset({power_state.RUNNING, power_state.PAUSED})


class LibvirtDriver(live_migration.LibvirtLiveMigration, driver.ComputeDriver):
    """One hypervisor host reached through libvirt (``[libvirt] connection_uri``)."""

    name: ClassVar[str] = "libvirt"
    supports_snapshot: ClassVar[bool] = True
    supports_migration: ClassVar[bool] = True
    supports_interface_hotplug: ClassVar[bool] = True
    supports_live_migration: ClassVar[bool] = True
    supports_rescue: ClassVar[bool] = True

    def __init__(self, conf: cfg.ConfigOpts, host: str = "",
                 fetch_image: driver.FetchImageCallback | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.conf = conf
        self.host = host or socket.gethostname()
        self.fetch_image = fetch_image
        self._clock = clock
        self._sleep = sleep
        self.hypervisor = libvirt_host.Host(conf.libvirt.connection_uri, self.host)
        self._probed_virt_type: config.VirtType | None = None
        self._cache_mode: str | None = None
        self._init_live_migration()

    # -- paths and settings ------------------------------------------------------

    @property
    def instances_path(self) -> str:
        return os.path.abspath(self.conf.libvirt.instances_path)

    def instance_dir(self, instance_uuid: str) -> str:
        return os.path.join(self.instances_path, instance_uuid)

    @property
    def image_cache(self) -> imagecache.ImageCache:
        return imagecache.ImageCache(os.path.join(self.instances_path, "_base"),
                                     self.fetch_image)

    @property
    def virt_type(self) -> config.VirtType:
        wanted = self.conf.libvirt.virt_type
        if wanted in config.VIRT_TYPES:
            return wanted  # type: ignore[no-any-return]
        if self._probed_virt_type is None:
            self._probed_virt_type = libvirt_host.probe_virt_type()
            LOG.info("virt_type auto: using %s", self._probed_virt_type)
        return self._probed_virt_type

    def _disk_cache_mode(self) -> str:
        if self._cache_mode is None:
            direct = imagecache.supports_direct_io(imagecache.ensure_dir(self.instances_path))
            self._cache_mode = "none" if direct else "writethrough"
        return self._cache_mode

    # -- the host ------------------------------------------------------------------

    def init_host(self, host: str) -> None:
        self.host = host
        self.hypervisor.close()
        self.hypervisor = libvirt_host.Host(self.conf.libvirt.connection_uri, host)
        conn = self.hypervisor.connect()
        imagecache.ensure_dir(self.instances_path)
        closed = imagecache.unsearchable_parent(self.instances_path)
        if closed:
            LOG.warning("%s is not searchable by others: QEMU (user libvirt-qemu) will not "
                        "reach the disks in %s (chmod o+x it)", closed, self.instances_path)
        LOG.info("libvirt %s at %s, domain type %s, instances in %s",
                 conn.getLibVersion(), self.hypervisor.uri, self.virt_type, self.instances_path)

    def cleanup_host(self, host: str) -> None:
        self.hypervisor.close()

    def get_host_uptime(self) -> str:
        """This host's uptime(1) line (libvirt runs here: the node is the host)."""
        try:
            return uptime.host_line()
        except (OSError, ValueError) as err:
            LOG.warning("Cannot read the host's uptime: %s", err)
            raise exception.HostUptimeNotSupported(driver=self.name) from err

    def get_available_resource(self) -> model.HostResources:
        conn = self.hypervisor.connect()
        with self.hypervisor.translate(None, exception.HypervisorUnavailable, host=self.host):
            return guest.host_resources(conn, self.hypervisor.domains(),
                                        imagecache.ensure_dir(self.instances_path), self.host)

    def list_instances(self) -> list[str]:
        return [dom.name() for dom in self.hypervisor.domains()]

    def list_instance_uuids(self) -> list[str]:
        return [dom.UUIDString() for dom in self.hypervisor.domains()]

    # -- spawn and destroy ----------------------------------------------------------

    def spawn(self, context: Any, instance: model.Instance, image_meta: model.ImageMeta,
              network_info: model.NetworkInfo,
              block_device_info: model.BlockDeviceInfo | None = None,
              wait_for_vifs: driver.WaitForVifsCallback | None = None,
              config_drive: model.ConfigDrive | None = None) -> None:
        conn = self.hypervisor.connect()
        self._check_absent(conn, instance)
        if image_meta.min_ram > instance.memory_mb:
            raise exception.ImageUnacceptable(
                image_id=image_meta.id, reason="needs %d MiB of RAM" % image_meta.min_ram)
        bdi = block_device_info or model.BlockDeviceInfo()
        dom = None
        try:
            xml = self._domain_xml(context, instance, image_meta, network_info, bdi,
                                   config_drive)
            with self.hypervisor.translate(instance.uuid, exception.InstanceDeployFailure):
                dom = conn.defineXML(xml)
                self._start(dom, paused=wait_for_vifs is not None)
            if wait_for_vifs is not None:
                wait_for_vifs()
                with self.hypervisor.translate(instance.uuid, exception.InstanceDeployFailure):
                    dom.resume()
        except BaseException:
            LOG.warning("Spawning instance %s failed; removing what was made", instance.uuid)
            with contextlib.suppress(Exception):
                self._remove(conn, instance, dom, bdi, destroy_disks=True)
            raise
        LOG.info("Instance %s (%s) spawned", instance.uuid, instance.name)

    def _check_absent(self, conn: Any, instance: model.Instance) -> None:
        for lookup, key in ((conn.lookupByUUIDString, instance.uuid),
                            (conn.lookupByName, instance.name)):
            try:
                lookup(key)
            except libvirt.libvirtError as err:
                if libvirt_host.is_connection_error(err):
                    raise exception.HypervisorUnavailable(host=self.host) from err
                continue
            raise exception.InstanceExists(name=instance.name)

    def _domain_xml(self, context: Any, instance: model.Instance,
                    image_meta: model.ImageMeta, network_info: model.NetworkInfo,
                    bdi: model.BlockDeviceInfo,
                    drive: model.ConfigDrive | None = None) -> str:
        root_target = _target(bdi.root_device_name)
        volumes = self._volumes(bdi)
        directory = imagecache.ensure_dir(self.instance_dir(instance.uuid))
        cache = self.image_cache
        root = None
        if image_meta.id and not any(v.target_dev == root_target for v in volumes):
            root = self._root_disk(context, instance, image_meta, directory)
        kernel = initrd = None
        if image_meta.kernel_id:
            kernel = imagecache.link(cache.fetch(context, image_meta.kernel_id),
                                     os.path.join(directory, "kernel"))
            if image_meta.ramdisk_id:
                initrd = imagecache.link(cache.fetch(context, image_meta.ramdisk_id),
                                         os.path.join(directory, "ramdisk"))
        return self._guest_xml(instance, image_meta, network_info, bdi, volumes,
                               root=root, kernel=kernel, initrd=initrd,
                               config_drive=cdrive.write(directory, drive, instance.uuid))

    def _volumes(self, bdi: model.BlockDeviceInfo) -> list[config.GuestDisk]:
        return [volume.guest_disk(bdm.connection_info, _target(bdm.mount_device))
                for bdm in bdi.volumes]

    def _guest_xml(self, instance: model.Instance, image_meta: model.ImageMeta,
                   network_info: model.NetworkInfo, bdi: model.BlockDeviceInfo,
                   volumes: list[config.GuestDisk], *, root: tuple[str, str] | None,
                   kernel: str | None, initrd: str | None,
                   config_drive: str | None = None) -> str:
        """The domain XML of ``instance`` whose files exist: ``root`` is the local
        root disk's (path, format), ``config_drive`` its config drive image; the
        volumes' CHAP secrets are defined."""
        for disk, bdm in zip(volumes, bdi.volumes, strict=True):
            hotplug.define_secret(self.hypervisor.connect(), bdm.connection_info, disk.target_dev)
        root_disk = None
        if root is not None:
            root_disk = config.GuestDisk(target_dev=_target(bdi.root_device_name),
                                         source_path=root[0], driver_type=root[1],
                                         cache=self._disk_cache_mode())
        guest_config = config.guest_config(
            instance, image_meta, network_info, virt_type=self.virt_type, root_disk=root_disk,
            kernel=kernel, initrd=initrd, volumes=volumes, config_drive=config_drive,
            console_log=os.path.join(self.instance_dir(instance.uuid), "console.log"),
            vnc_listen=self._vnc_listen())
        return config.domain_xml(guest_config)

    def _vnc_listen(self) -> str | None:
        """``[libvirt] vnc_listen``, None when empty or ``[vnc] enabled`` is false."""
        try:
            if not self.conf.vnc.enabled:
                return None
        except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
            pass
        return self.conf.libvirt.vnc_listen or None

    def _root_disk(self, context: Any, instance: model.Instance, image_meta: model.ImageMeta,
                   directory: str) -> tuple[str, str]:
        base = self.image_cache.fetch(context, image_meta.id or "")
        path = os.path.join(directory, "disk")
        imagecache.create_root_disk(base, image_meta, instance.root_gb * GiB, path)
        return path, "qcow2"

    def _start(self, dom: Any, paused: bool) -> None:
        if not paused:
            dom.createWithFlags(0)
            return
        try:
            dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
        except libvirt.libvirtError as err:
            if libvirt_host.error_code(err) not in libvirt_host.UNSUPPORTED:
                raise
            dom.createWithFlags(0)  # a hypervisor without START_PAUSED (the test driver)
            dom.suspend()

    def destroy(self, context: Any, instance: model.Instance, network_info: model.NetworkInfo,
                block_device_info: model.BlockDeviceInfo | None = None,
                destroy_disks: bool = True) -> None:
        conn = self.hypervisor.connect()
        try:
            dom = self.hypervisor.lookup(instance.uuid)
        except exception.InstanceNotFound:
            dom = None
        self._remove(conn, instance, dom, block_device_info, destroy_disks)
        LOG.info("Instance %s destroyed", instance.uuid)

    def _remove(self, conn: Any, instance: model.Instance, dom: Any,
                bdi: model.BlockDeviceInfo | None, destroy_disks: bool) -> None:
        with self.hypervisor.translate(None, exception.InstanceTerminationFailure):
            if dom is not None:
                guest.stop(dom, self._sleep)
                guest.undefine(dom)
        for bdm in (bdi.volumes if bdi else ()):
            hotplug.delete_secret(conn, bdm.connection_info, _target(bdm.mount_device))
        if destroy_disks:
            try:
                cold_migration.remove_instance_files(self.host, self.instance_dir(instance.uuid))
            except OSError as err:
                raise exception.InstanceTerminationFailure(reason=str(err)) from err

    # -- power ------------------------------------------------------------------------

    def _guest(self, instance: model.Instance, method: str,
               sources: frozenset[PowerState] = _ANY,
               target: PowerState | None = None) -> tuple[Any, PowerState] | None:
        """The domain and its state; None when it is already in ``target``.

        :raises: InstanceNotFound, InstanceInvalidState (a state not in ``sources``).
        """
        dom = self.hypervisor.lookup(instance.uuid)
        with self.hypervisor.translate(instance.uuid, exception.HypervisorUnavailable,
                                       host=self.host):
            current = guest.power_state(dom)
        if current == target:
            return None
        if current not in sources:
            raise exception.InstanceInvalidState(instance_uuid=instance.uuid,
                                                 attr="power_state", state=current.label,
                                                 method=method)
        return dom, current

    def _hard_start(self, dom: Any) -> None:
        guest.stop(dom, self._sleep)
        if dom.hasManagedSaveImage(0):
            dom.managedSaveRemove(0)
        dom.createWithFlags(0)

    def reboot(self, instance: model.Instance, network_info: model.NetworkInfo,
               reboot_type: model.RebootType) -> None:
        if reboot_type not in (model.SOFT, model.HARD):
            raise ValueError("reboot_type must be SOFT or HARD, not %r" % reboot_type)
        found = self._guest(instance, "reboot")
        assert found is not None
        dom, current = found
        with self.hypervisor.translate(instance.uuid, exception.InstanceRebootFailure):
            if reboot_type == model.SOFT and current == power_state.RUNNING:
                wait = self.conf.libvirt.wait_soft_reboot_seconds
                if guest.clean_shutdown(dom, wait, 0, self._clock, self._sleep):
                    dom.createWithFlags(0)
                    return
                LOG.warning("Instance %s did not shut down within %d s; rebooting it hard",
                            instance.uuid, wait)
            self._hard_start(dom)

    def power_off(self, instance: model.Instance, timeout: int = 0,
                  retry_interval: int = 0) -> None:
        found = self._guest(instance, "power_off", target=power_state.SHUTDOWN)
        if found is None:
            dom = self.hypervisor.lookup(instance.uuid)
            if not guest.active(dom):  # "in shutdown" is SHUTDOWN too, but still running
                return
            found = dom, power_state.SHUTDOWN
        dom, current = found
        with self.hypervisor.translate(instance.uuid, exception.InstancePowerOffFailure):
            if current == power_state.RUNNING and timeout > 0:
                if guest.clean_shutdown(dom, timeout, retry_interval, self._clock, self._sleep):
                    return
                LOG.warning("Instance %s did not shut down within %d s; powering it off",
                            instance.uuid, timeout)
            guest.stop(dom, self._sleep)
            if dom.hasManagedSaveImage(0):  # a suspended guest's memory is dropped
                dom.managedSaveRemove(0)

    def power_on(self, instance: model.Instance, network_info: model.NetworkInfo = (),
                 block_device_info: model.BlockDeviceInfo | None = None) -> None:
        found = self._guest(instance, "power_on", target=power_state.RUNNING)
        if found is not None:
            with self.hypervisor.translate(instance.uuid, exception.InstancePowerOnFailure):
                self._hard_start(found[0])

    def pause(self, instance: model.Instance) -> None:
        found = self._guest(instance, "pause", frozenset({power_state.RUNNING}),
                            power_state.PAUSED)
        if found is not None:
            with self.hypervisor.translate(instance.uuid, exception.InstancePauseFailure):
                found[0].suspend()

    def unpause(self, instance: model.Instance) -> None:
        found = self._guest(instance, "unpause", frozenset({power_state.PAUSED}),
                            power_state.RUNNING)
        if found is not None:
            with self.hypervisor.translate(instance.uuid, exception.InstanceUnpauseFailure):
                found[0].resume()

    def suspend(self, instance: model.Instance) -> None:
        found = self._guest(instance, "suspend", _RUNNING_OR_PAUSED, power_state.SUSPENDED)
        if found is None:
            return
        dom = found[0]
        with self.hypervisor.translate(instance.uuid, exception.InstanceSuspendFailure):
            try:  # restored running even when it was paused
                dom.managedSave(libvirt.VIR_DOMAIN_SAVE_RUNNING)
            except libvirt.libvirtError as err:
                if libvirt_host.error_code(err) not in libvirt_host.UNSUPPORTED:
                    raise
                dom.managedSave(0)

    def resume(self, instance: model.Instance) -> None:
        found = self._guest(instance, "resume", frozenset({power_state.SUSPENDED}),
                            power_state.RUNNING)
        if found is None:
            return
        dom = found[0]
        with self.hypervisor.translate(instance.uuid, exception.InstanceResumeFailure):
            if dom.state()[0] == state.VIR_DOMAIN_PMSUSPENDED:
                dom.pMWakeup(0)
            else:
                dom.createWithFlags(0)  # restores the managed save
            if dom.state()[0] == state.VIR_DOMAIN_PAUSED:
                dom.resume()

    def get_info(self, instance: model.Instance) -> model.InstanceInfo:
        dom = self.hypervisor.lookup(instance.uuid)
        with self.hypervisor.translate(instance.uuid, exception.HypervisorUnavailable,
                                       host=self.host):
            domain_id = dom.ID()
            return model.InstanceInfo(state=guest.power_state(dom),
                                      internal_id=str(domain_id) if domain_id >= 0 else None)

    # -- consoles ----------------------------------------------------------------------

    def get_console_output(self, instance: model.Instance) -> str:
        dom = self.hypervisor.lookup(instance.uuid)
        with self.hypervisor.translate(instance.uuid, exception.ConsoleLogOutputException,
                                       instance_id=instance.uuid):
            xml = ET.fromstring(dom.XMLDesc(0))
        return guest.console_output(instance.uuid, guest.console_log_path(xml))

    def has_config_drive(self, instance: model.Instance) -> bool:
        try:
            dom = self.hypervisor.lookup(instance.uuid)
            with self.hypervisor.translate(instance.uuid, exception.HypervisorUnavailable,
                                           host=self.host):
                xml = ET.fromstring(dom.XMLDesc(0))
        except exception.InstanceNotFound:
            return False
        found = cdrive.attached(xml)
        return found is not None and os.path.isfile(found)

    def get_diagnostics(self, instance: model.Instance) -> dict[str, Any]:
        dom = self.hypervisor.lookup(instance.uuid)
        with self.hypervisor.translate(instance.uuid, exception.InstanceNotReady,
                                       instance_id=instance.uuid):
            return guest.diagnostics(dom)

    def get_vnc_console(self, instance: model.Instance) -> dict[str, Any]:
        dom = self.hypervisor.lookup(instance.uuid)
        with self.hypervisor.translate(instance.uuid, exception.ConsoleTypeUnavailable,
                                       console_type="vnc"):
            if not guest.active(dom):
                raise exception.InstanceNotReady(instance_id=instance.uuid,
                                                 reason="it is not running")
            xml = ET.fromstring(dom.XMLDesc(0))
        listen, port = guest.vnc_address(instance.uuid, xml)
        address = self.conf.libvirt.vnc_proxyclient_address
        if not address:
            address = self.host if listen in ("", "0.0.0.0", "::") else listen
        return {"host": address, "port": port}

    # -- volumes -----------------------------------------------------------------------

    def attach_volume(self, context: Any, instance: model.Instance,
                      connection_info: Mapping[str, Any], mountpoint: str) -> None:
        target = _target(mountpoint)
        disk = volume.guest_disk(connection_info, target)
        dom = self._volume_guest(instance, "attach_volume")
        vol = volume.volume_id(connection_info) or mountpoint
        with self.hypervisor.translate(instance.uuid, exception.VolumeAttachFailed,
                                       volume_id=vol):
            hotplug.attach(self.hypervisor.connect(), dom, disk, connection_info, mountpoint)
        LOG.info("Volume %s attached to instance %s at %s", vol, instance.uuid, mountpoint)

    def detach_volume(self, context: Any, instance: model.Instance,
                      connection_info: Mapping[str, Any], mountpoint: str) -> None:
        target = _target(mountpoint)
        dom = self._volume_guest(instance, "detach_volume")
        with self.hypervisor.translate(instance.uuid, exception.DeviceDetachFailed,
                                       device=mountpoint):
            hotplug.detach(self.hypervisor.connect(), dom, connection_info, target, mountpoint,
                           timeout=self.conf.libvirt.device_detach_timeout,
                           clock=self._clock, sleep=self._sleep)
        LOG.info("Volume at %s detached from instance %s", mountpoint, instance.uuid)

    # -- interfaces (hot-plug in :mod:`.hotplug`) -----------------------------------------

    def attach_interface(self, context: Any, instance: model.Instance,
                         image_meta: model.ImageMeta, vif: model.VIF) -> None:
        dom = self._volume_guest(instance, "attach_interface")
        with self.hypervisor.translate(instance.uuid, exception.InterfaceAttachFailed,
                                       port_id=vif.port_id):
            hotplug.attach_interface(dom, config.GuestInterface.from_vif(vif))
        LOG.info("Port %s attached to instance %s as %s", vif.port_id, instance.uuid,
                 vif.tap_name)

    def detach_interface(self, context: Any, instance: model.Instance,
                         vif: model.VIF) -> None:
        dom = self._volume_guest(instance, "detach_interface")
        with self.hypervisor.translate(instance.uuid, exception.DeviceDetachFailed,
                                       device=vif.tap_name):
            found = hotplug.detach_interface(
                dom, vif.mac, vif.tap_name, timeout=self.conf.libvirt.device_detach_timeout,
                clock=self._clock, sleep=self._sleep)
        if not found:
            LOG.warning("Instance %s has no interface %s (port %s) to detach",
                        instance.uuid, vif.mac, vif.port_id)
            return
        LOG.info("Port %s detached from instance %s", vif.port_id, instance.uuid)

    def _volume_guest(self, instance: model.Instance, method: str) -> Any:
        found = self._guest(instance, method, _ANY - {power_state.SUSPENDED})
        assert found is not None
        return found[0]

    # -- snapshot (in :mod:`.snapshot`) -----------------------------------------------

    def snapshot(self, context: Any, instance: model.Instance, image_id: str,
                 upload: driver.UploadCallback) -> None:
        found = self._guest(instance, "snapshot")
        assert found is not None
        snapshot_mod.snapshot(self, instance, found[0], found[1], image_id, upload)

    # -- rescue (in :mod:`.rescue`) ----------------------------------------------------

    def rescue(self, context: Any, instance: model.Instance, network_info: model.NetworkInfo,
               image_meta: model.ImageMeta, rescue_password: str | None,
               block_device_info: model.BlockDeviceInfo | None = None) -> None:
        # The rescue password is not injected into the rescue disk (no file injection
        # here); the API hands it to the user, as Nova does.
        rescue_mod.rescue(self, context, instance, network_info, image_meta)

    def unrescue(self, context: Any, instance: model.Instance,
                 network_info: model.NetworkInfo) -> None:
        rescue_mod.restore(self, instance, start=True)

    # -- cold migration and resize (in :mod:`.migration`) ---------------------------------

    def migrate_disk_and_power_off(self, context: Any, instance: model.Instance,
                                   dest_host: str, flavor: Mapping[str, Any],
                                   network_info: model.NetworkInfo) -> dict[str, Any]:
        return cold_migration.migrate_disk_and_power_off(self, instance, dest_host, flavor)

    def finish_migration(self, context: Any, migration: Mapping[str, Any],
                         instance: model.Instance, disk_info: Mapping[str, Any],
                         network_info: model.NetworkInfo, image_meta: model.ImageMeta,
                         resize_instance: bool,
                         block_device_info: model.BlockDeviceInfo | None = None,
                         power_on: bool = True,
                         config_drive: model.ConfigDrive | None = None) -> None:
        cold_migration.finish_migration(self, context, instance, disk_info, network_info,
                                        resize_instance, block_device_info, power_on,
                                        config_drive)

    def confirm_migration(self, context: Any, migration: Mapping[str, Any],
                          instance: model.Instance, network_info: model.NetworkInfo) -> None:
        cold_migration.confirm_migration(self, instance)

    def finish_revert_migration(self, context: Any, instance: model.Instance,
                                network_info: model.NetworkInfo,
                                migration: Mapping[str, Any],
                                block_device_info: model.BlockDeviceInfo | None = None,
                                power_on: bool = True) -> None:
        cold_migration.finish_revert_migration(self, instance, network_info,
                                               block_device_info, power_on)


def _target(mountpoint: str) -> str:
    try:
        return model.disk_target(mountpoint)
    except ValueError:
        raise exception.InvalidDevicePath(path=mountpoint) from None
