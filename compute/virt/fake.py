"""The fake virt driver: guests in memory, every operation instant.

Each ``FakeDriver`` is one compute node with its own guests and lock, and
nothing is shared between instances of the class, so one process can run
hundreds of fake nodes side by side (scale runs, functional tests). Power state
transitions follow the rules in ``driver``'s docstring, modelled on libvirt's.

Tests can reach behind the hypervisor: ``set_power_state`` (a guest that shut
itself down or crashed) and ``fail_next`` (the next call of an operation
raises), which is how the node manager's error paths are exercised.
``volumes`` of a guest are what ``attach_volume`` recorded (target device ->
connection info); its ``network_info`` gains and loses the VIFs
``attach_interface`` and ``detach_interface`` plug and unplug. Live migration
is in :mod:`.fake_live`, rescue in :mod:`.fake_rescue`; a node given a
``guests_file`` keeps its guests over a clean restart (:mod:`.fake_guest`).
Config drives are recorded (and written only when asked) by
:mod:`.fake_config_drive`.
"""
from __future__ import annotations

import dataclasses
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from compute.virt import driver
from compute.virt import exception
from compute.virt import fake_config_drive
from compute.virt import fake_guest
from compute.virt import fake_live
from compute.virt import fake_rescue
from compute.virt import model
from compute.virt import power_state
from compute.virt import uptime
from compute.virt.power_state import PowerState

# Sized so that a few hundred m1.tiny..m1.large guests fit on each fake node.
DEFAULT_VCPUS = 128
DEFAULT_MEMORY_MB = 262144
DEFAULT_LOCAL_GB = 4096
HYPERVISOR_VERSION = model.version_to_int("1.0.0")
CONSOLE_LINES = fake_guest.CONSOLE_LINES
FakeGuest = fake_guest.FakeGuest

_ANY = frozenset(PowerState)
# operation -> (states it may start from, state it ends in). Starting in the
# target state is a no-op; any other state is InstanceInvalidState.
_TRANSITIONS: dict[str, tuple[frozenset[PowerState], PowerState]] = {
    "pause": (frozenset({power_state.RUNNING}), power_state.PAUSED),
    "unpause": (frozenset({power_state.PAUSED}), power_state.RUNNING),
    "suspend": (frozenset({power_state.RUNNING, power_state.PAUSED}), power_state.SUSPENDED),
    "resume": (frozenset({power_state.SUSPENDED}), power_state.RUNNING),
    # A suspended guest's saved memory is dropped; power_on is a hard (re)start.
    "power_off": (_ANY, power_state.SHUTDOWN),
    "power_on": (_ANY, power_state.RUNNING),
}


class FakeDriver(fake_live.FakeLiveMigration, fake_rescue.FakeRescue,
                 fake_config_drive.FakeConfigDrives, driver.ComputeDriver):
    """An in-memory compute node of a configurable size."""

    name: ClassVar[str] = "fake"
    supports_snapshot: ClassVar[bool] = True
    supports_migration: ClassVar[bool] = True
    supports_interface_hotplug: ClassVar[bool] = True
    supports_live_migration: ClassVar[bool] = True
    supports_rescue: ClassVar[bool] = True

    def __init__(self, host: str = "fake-host", vcpus: int = DEFAULT_VCPUS,
                 memory_mb: int = DEFAULT_MEMORY_MB, local_gb: int = DEFAULT_LOCAL_GB,
                 spawn_delay: float = 0.0, guests_file: str = "",
                 config_drive_dir: str = "") -> None:
        if min(vcpus, memory_mb, local_gb) <= 0:
            raise ValueError("a fake host needs positive vcpus, memory_mb and local_gb")
        self.host = host
        self.vcpus = vcpus
        self.memory_mb = memory_mb
        self.local_gb = local_gb
        #: Seconds each spawn sleeps first (outside the lock): a slow hypervisor.
        self.spawn_delay = spawn_delay
        self.initialized = False
        #: image id -> instance uuid, for every snapshot taken.
        self.snapshots: dict[str, str] = {}
        self._guests: dict[str, FakeGuest] = {}
        #: instance uuid -> the guest migrate_disk_and_power_off kept (its "disks")
        #: until confirm_migration drops it or finish_revert_migration restores it.
        self.resized: dict[str, FakeGuest] = {}
        self._failures: dict[str, list[Exception]] = {}
        self._next_domain_id = 1
        self._lock = threading.Lock()
        #: When this fake host "booted" (its uptime counts from there).
        self.started_at = time.time()
        #: Where the guests are kept while the node is stopped ("": nowhere).
        self.guests_file = guests_file
        self._init_config_drives(config_drive_dir)
        self._init_live_migration()
        self._init_rescue()

    # -- test hooks -------------------------------------------------------

    def fail_next(self, operation: str, error: Exception, times: int = 1) -> None:
        """Make the next ``times`` calls of ``operation`` (a method name) raise ``error``."""
        if not callable(getattr(self, operation, None)):
            raise ValueError("FakeDriver has no operation %r" % operation)
        with self._lock:
            self._failures.setdefault(operation, []).extend([error] * times)

    def set_power_state(self, instance_uuid: str, state: PowerState) -> None:
        """Change a guest's state behind the manager's back (it crashed, or shut
        itself down from inside)."""
        with self._lock:
            guest = self._guest(instance_uuid)
            guest.state = PowerState(state)
            guest.console.append("fake-guest: power state is now %s" % guest.state.label)

    def _maybe_fail(self, operation: str) -> None:
        queued = self._failures.get(operation)
        if queued:
            raise queued.pop(0)

    def _guest(self, instance_uuid: str) -> FakeGuest:
        try:
            return self._guests[instance_uuid]
        except KeyError:
            raise exception.InstanceNotFound(instance_id=instance_uuid) from None

    # -- the host -----------------------------------------------------------

    def init_host(self, host: str) -> None:
        with self._lock:
            self._maybe_fail("init_host")
            self.host = host
            self.initialized = True
            if self.guests_file:
                self._guests.update(fake_guest.load(self.guests_file))
                self._next_domain_id = max([self._next_domain_id] + [
                    g.domain_id + 1 for g in self._guests.values()])

    def cleanup_host(self, host: str) -> None:
        if self.guests_file:
            with self._lock:
                fake_guest.save(self.guests_file, self._guests)

    def get_available_resource(self) -> model.HostResources:
        with self._lock:
            guests = [g.instance for g in self._guests.values()]
            host = self.host
        used_gb = sum(i.disk_gb for i in guests)
        return model.HostResources(
            vcpus=self.vcpus, memory_mb=self.memory_mb, local_gb=self.local_gb,
            vcpus_used=sum(i.vcpus for i in guests),
            memory_mb_used=sum(i.memory_mb for i in guests), local_gb_used=used_gb,
            hypervisor_type=self.name, hypervisor_version=HYPERVISOR_VERSION,
            hypervisor_hostname=host,
            cpu_info={"arch": "x86_64", "model": "fake", "vendor": "Stratus",
                      "topology": {"sockets": 1, "cores": self.vcpus, "threads": 1},
                      "features": []},
            disk_available_least=self.local_gb - used_gb)

    def list_instances(self) -> list[str]:
        with self._lock:
            return [g.instance.name for g in self._guests.values()]

    def list_instance_uuids(self) -> list[str]:
        with self._lock:
            return list(self._guests)

    # -- guests -------------------------------------------------------------

    def spawn(self, context: Any, instance: model.Instance, image_meta: model.ImageMeta,
              network_info: model.NetworkInfo,
              block_device_info: model.BlockDeviceInfo | None = None,
              wait_for_vifs: driver.WaitForVifsCallback | None = None,
              config_drive: model.ConfigDrive | None = None) -> None:
        if self.spawn_delay:
            time.sleep(self.spawn_delay)
        with self._lock:
            self._maybe_fail("spawn")
            if instance.uuid in self._guests:
                raise exception.InstanceExists(name=instance.name)
            if image_meta.min_ram > instance.memory_mb:
                raise exception.ImageUnacceptable(
                    image_id=image_meta.id, reason="needs %d MiB of RAM" % image_meta.min_ram)
            self._set_config_drive(instance.uuid, config_drive)
            guest = FakeGuest(instance=instance, image_meta=image_meta,
                              network_info=tuple(network_info),
                              block_device_info=block_device_info,
                              domain_id=self._next_domain_id, state=power_state.PAUSED)
            for bdm in (block_device_info.volumes if block_device_info else ()):
                guest.volumes[model.disk_target(bdm.mount_device)] = bdm.connection_info
            self._next_domain_id += 1
            self._guests[instance.uuid] = guest
            if wait_for_vifs is None:
                self._boot(guest)
                return
        # Outside the lock: the manager may wait minutes for the network service.
        try:
            wait_for_vifs()
        except BaseException:
            with self._lock:
                if self._guests.get(instance.uuid) is guest:
                    del self._guests[instance.uuid]
                    self._set_config_drive(instance.uuid, None)
            raise
        with self._lock:
            if self._guests.get(instance.uuid) is not guest:
                raise exception.InstanceNotFound(instance_id=instance.uuid)
            self._boot(guest)

    def destroy(self, context: Any, instance: model.Instance, network_info: model.NetworkInfo,
                block_device_info: model.BlockDeviceInfo | None = None,
                destroy_disks: bool = True) -> None:
        with self._lock:
            self._maybe_fail("destroy")
            self._guests.pop(instance.uuid, None)
            self._forget_rescue(instance.uuid)
            self._set_config_drive(instance.uuid, None)

    def reboot(self, instance: model.Instance, network_info: model.NetworkInfo,
               reboot_type: model.RebootType) -> None:
        if reboot_type not in (model.SOFT, model.HARD):
            raise ValueError("reboot_type must be SOFT or HARD, not %r" % reboot_type)
        with self._lock:
            self._maybe_fail("reboot")
            guest = self._guest(instance.uuid)
            if reboot_type == model.SOFT and guest.state == power_state.RUNNING:
                guest.console.append("reboot: Restarting system")
            self._boot(guest)

    def power_off(self, instance: model.Instance, timeout: int = 0,
                  retry_interval: int = 0) -> None:
        self._transition(instance, "power_off", "reboot: Power down")

    def power_on(self, instance: model.Instance, network_info: model.NetworkInfo = (),
                 block_device_info: model.BlockDeviceInfo | None = None) -> None:
        with self._lock:
            self._maybe_fail("power_on")
            guest = self._guest(instance.uuid)
            if guest.state != power_state.RUNNING:
                self._boot(guest)

    def pause(self, instance: model.Instance) -> None:
        self._transition(instance, "pause")

    def unpause(self, instance: model.Instance) -> None:
        self._transition(instance, "unpause")

    def suspend(self, instance: model.Instance) -> None:
        self._transition(instance, "suspend", "PM: suspend to disk")

    def resume(self, instance: model.Instance) -> None:
        self._transition(instance, "resume", "PM: restore complete")

    def get_info(self, instance: model.Instance) -> model.InstanceInfo:
        with self._lock:
            guest = self._guest(instance.uuid)
            return model.InstanceInfo(state=guest.state, internal_id=str(guest.domain_id))

    def get_diagnostics(self, instance: model.Instance) -> dict[str, Any]:
        """Counters in the libvirt driver's shape (made up, but consistent)."""
        with self._lock:
            guest = self._guest(instance.uuid)
            running = guest.state == power_state.RUNNING
            found: dict[str, Any] = {
                "state": guest.state.label, "memory": instance.memory_mb * 1024,
                "memory-actual": instance.memory_mb * 1024 if running else 0}
            for cpu in range(instance.vcpus):
                found["cpu%d_time" % cpu] = 17300000000 if running else 0
            for name in [guest.root_target] + sorted(guest.volumes):
                found.update({name + "_read": 262144, name + "_read_req": 112,
                              name + "_write": 5778432, name + "_write_req": 488,
                              name + "_errors": -1})
            for vif in guest.network_info:
                tap = vif.tap_name
                found.update({tap + "_rx": 2070139, tap + "_rx_packets": 26701,
                              tap + "_rx_errors": 0, tap + "_rx_drop": 0,
                              tap + "_tx": 140208, tap + "_tx_packets": 662,
                              tap + "_tx_errors": 0, tap + "_tx_drop": 0})
            return found

    def get_console_output(self, instance: model.Instance) -> str:
        with self._lock:
            self._maybe_fail("get_console_output")
            return "".join(line + "\n" for line in self._guest(instance.uuid).console)

    def attach_volume(self, context: Any, instance: model.Instance,
                      connection_info: Mapping[str, Any], mountpoint: str) -> None:
        target = _target(mountpoint)
        with self._lock:
            self._maybe_fail("attach_volume")
            guest = self._volume_guest(instance, "attach_volume")
            if target in guest.volumes or target == guest.root_target:
                raise exception.DeviceIsBusy(device=mountpoint)
            guest.volumes[target] = dict(connection_info)
            if guest.state == power_state.RUNNING:
                guest.console.append("virtio_blk: [%s] attached" % target)

    def detach_volume(self, context: Any, instance: model.Instance,
                      connection_info: Mapping[str, Any], mountpoint: str) -> None:
        target = _target(mountpoint)
        with self._lock:
            self._maybe_fail("detach_volume")
            guest = self._volume_guest(instance, "detach_volume")
            if guest.volumes.pop(target, None) is None:
                raise exception.DiskNotFound(location=mountpoint)

    def attach_interface(self, context: Any, instance: model.Instance,
                         image_meta: model.ImageMeta, vif: model.VIF) -> None:
        with self._lock:
            self._maybe_fail("attach_interface")
            guest = self._volume_guest(instance, "attach_interface")
            if any(v.tap_name == vif.tap_name or v.mac == vif.mac
                   for v in guest.network_info):
                raise exception.DeviceIsBusy(device=vif.tap_name)
            guest.network_info += (vif,)
            if guest.state == power_state.RUNNING:
                guest.console.append("virtio_net: %s (%s) attached" % (vif.tap_name, vif.mac))

    def detach_interface(self, context: Any, instance: model.Instance,
                         vif: model.VIF) -> None:
        with self._lock:
            self._maybe_fail("detach_interface")
            guest = self._volume_guest(instance, "detach_interface")
            guest.network_info = tuple(v for v in guest.network_info
                                       if v.port_id != vif.port_id)

    def get_vifs(self, instance_uuid: str) -> list[model.VIF]:
        """The VIFs the guest has now (spawned with, then hot-plugged)."""
        with self._lock:
            return list(self._guest(instance_uuid).network_info)

    def get_vnc_console(self, instance: model.Instance) -> dict[str, Any]:
        with self._lock:
            self._maybe_fail("get_vnc_console")
            guest = self._guest(instance.uuid)
            if guest.state not in (power_state.RUNNING, power_state.PAUSED):
                raise exception.InstanceNotReady(instance_id=instance.uuid,
                                                 reason="it is %s" % guest.state.label)
            return {"host": "127.0.0.1", "port": 5900 + guest.domain_id}

    def get_host_uptime(self) -> str:
        """The uptime(1) line of a host up since the driver was made, no one logged
        in and no load."""
        with self._lock:
            self._maybe_fail("get_host_uptime")
        return uptime.format_line(time.localtime(), time.time() - self.started_at, 0,
                                  (0.0, 0.0, 0.0))

    def snapshot(self, context: Any, instance: model.Instance, image_id: str,
                 upload: driver.UploadCallback) -> None:
        with self._lock:
            self._maybe_fail("snapshot")
            guest = self._guest(instance.uuid)
            data = ("fake root disk of %s from image %s\n"
                    % (instance.uuid, guest.image_meta.id)).encode()
        # Outside the lock: the upload may be slow and must not stall the node.
        fd, path = tempfile.mkstemp(prefix="stratus-fake-snapshot-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            upload(path, "raw")
        finally:
            os.unlink(path)
        with self._lock:
            self.snapshots[image_id] = instance.uuid

    # -- cold migration and resize -----------------------------------------

    def migrate_disk_and_power_off(self, context: Any, instance: model.Instance,
                                   dest_host: str, flavor: Mapping[str, Any],
                                   network_info: model.NetworkInfo) -> dict[str, Any]:
        with self._lock:
            self._maybe_fail("migrate_disk_and_power_off")
            guest = self._guest(instance.uuid)
            if int(flavor.get("root_gb") or 0) < guest.instance.root_gb:
                raise exception.ResizeRefused(instance_id=instance.uuid,
                                              reason="unable to resize disk down")
            guest.state = power_state.SHUTDOWN
            guest.console.append("reboot: Power down")
            del self._guests[instance.uuid]
            self.resized[instance.uuid] = guest
            kept = self.config_drives.pop(instance.uuid, None)
            if kept is not None:
                self.resized_config_drives[instance.uuid] = kept
            return {"source_host": self.host, "dest_host": dest_host,
                    "image_id": guest.image_meta.id,
                    "disks": ["fake://%s/%s/disk" % (self.host, instance.uuid)]}

    def finish_migration(self, context: Any, migration: Mapping[str, Any],
                         instance: model.Instance, disk_info: Mapping[str, Any],
                         network_info: model.NetworkInfo, image_meta: model.ImageMeta,
                         resize_instance: bool,
                         block_device_info: model.BlockDeviceInfo | None = None,
                         power_on: bool = True,
                         config_drive: model.ConfigDrive | None = None) -> None:
        with self._lock:
            self._maybe_fail("finish_migration")
            if instance.uuid in self._guests:
                raise exception.InstanceExists(name=instance.name)
            # The drive that moved with the disks (same host) stays, as libvirt's.
            moved = self.resized_config_drives.get(instance.uuid)
            self._set_config_drive(instance.uuid,
                                   (moved or config_drive) if config_drive else None)
            guest = FakeGuest(instance=instance, image_meta=image_meta,
                              network_info=tuple(network_info),
                              block_device_info=block_device_info,
                              domain_id=self._next_domain_id, state=power_state.SHUTDOWN)
            self._next_domain_id += 1
            self._guests[instance.uuid] = guest
            if power_on:
                self._boot(guest)

    def confirm_migration(self, context: Any, migration: Mapping[str, Any],
                          instance: model.Instance, network_info: model.NetworkInfo) -> None:
        with self._lock:
            self._maybe_fail("confirm_migration")
            self.resized.pop(instance.uuid, None)
            self.resized_config_drives.pop(instance.uuid, None)

    def finish_revert_migration(self, context: Any, instance: model.Instance,
                                network_info: model.NetworkInfo,
                                migration: Mapping[str, Any],
                                block_device_info: model.BlockDeviceInfo | None = None,
                                power_on: bool = True) -> None:
        with self._lock:
            self._maybe_fail("finish_revert_migration")
            kept = self.resized.pop(instance.uuid, None)
            if kept is None:
                raise exception.InstanceNotFound(instance_id=instance.uuid)
            self._set_config_drive(instance.uuid,
                                   self.resized_config_drives.pop(instance.uuid, None))
            guest = dataclasses.replace(kept, instance=instance,
                                        network_info=tuple(network_info),
                                        block_device_info=block_device_info,
                                        domain_id=self._next_domain_id,
                                        state=power_state.SHUTDOWN)
            self._next_domain_id += 1
            self._guests[instance.uuid] = guest
            if power_on:
                self._boot(guest)

    # -- helpers (called with the lock held) --------------------------------

    def _volume_guest(self, instance: model.Instance, method: str) -> FakeGuest:
        guest = self._guest(instance.uuid)
        if guest.state == power_state.SUSPENDED:
            raise exception.InstanceInvalidState(instance_uuid=instance.uuid,
                                                 attr="power_state", state=guest.state.label,
                                                 method=method)
        return guest

    def _transition(self, instance: model.Instance, operation: str,
                    console_line: str | None = None) -> None:
        sources, target = _TRANSITIONS[operation]
        with self._lock:
            self._maybe_fail(operation)
            guest = self._guest(instance.uuid)
            if guest.state == target:
                return
            if guest.state not in sources:
                raise exception.InstanceInvalidState(
                    instance_uuid=instance.uuid, attr="power_state",
                    state=guest.state.label, method=operation)
            guest.state = target
            if console_line:
                guest.console.append(console_line)

    def _boot(self, guest: FakeGuest) -> None:
        instance = guest.instance
        guest.state = power_state.RUNNING
        guest.console.extend([
            "[    0.000000] Linux version 6.1.0-fake (stratus fake hypervisor)",
            "[    0.000000] Command line: %s" % (guest.image_meta.os_command_line
                                                 or "console=ttyS0"),
            "[    0.100000] Memory: %dK available, %d CPUs" % (instance.memory_mb * 1024,
                                                             instance.vcpus)])
        for vif in guest.network_info:
            address = vif.fixed_ips[0] if vif.fixed_ips else "no address"
            guest.console.append("fake-guest: %s (%s) got %s" % (vif.tap_name, vif.mac, address))
        guest.console.append("%s login: " % (instance.display_name or instance.name))


def _target(mountpoint: str) -> str:
    try:
        return model.disk_target(mountpoint)
    except ValueError:
        raise exception.InvalidDevicePath(path=mountpoint) from None
