"""The virt driver interface the compute node manager calls.

Every operation is abstract, so a driver that misses one fails when it is
instantiated rather than when a user first needs it (STYLE.md: no
``NotImplementedError`` maze). The one optional hook is ``snapshot``: a driver
that cannot do it leaves ``supports_snapshot`` false and the API answers 501.
The cold migration/resize hooks (``migrate_disk_and_power_off``,
``finish_migration``, ``confirm_migration``, ``finish_revert_migration``) are
optional the same way: ``supports_migration`` false makes the node refuse a
resize with a clear 409 before anything changes; the live migration hooks
(``check_can_live_migrate_*``, ``pre_live_migration``, ``live_migration``,
``post_live_migration*``, ``rollback_live_migration_at_destination``, abort and
force-complete) go with ``supports_live_migration``. Interface hot-plug
(``attach_interface``/``detach_interface``) is optional too: a driver that
cannot do it leaves ``supports_interface_hotplug`` false and the node answers
409 before it creates a port. So are ``rescue``/``unrescue``
(``supports_rescue``): the node fails a rescue with a fault when the driver
cannot do it. ``get_host_uptime`` (the host's uptime(1) line) is optional
too: the base answers HostUptimeNotSupported, which the API turns into a 501.

Power-state rules every implementation follows (the fake is the reference and
the contract tests in tests/unit/compute/ check them):

* ``spawn`` leaves the guest RUNNING; ``destroy`` is idempotent.
* ``power_off``, ``power_on``, ``pause``/``unpause``, ``suspend``/``resume``
  are no-ops when the guest is already in the target state, and raise
  ``InstanceInvalidState`` from a state they cannot leave.
* ``reboot`` always ends RUNNING: a SOFT reboot of a guest that is not running
  becomes a HARD one.
* Operations on an unknown instance raise ``InstanceNotFound``.
* ``spawn`` with ``wait_for_vifs`` creates the guest paused, calls it (the
  manager blocks there until the network service reports the ports plugged),
  then lets the guest run; when it raises, the guest is destroyed and the error
  propagates.
* Volumes attach to a guest in any state but SUSPENDED (``InstanceInvalidState``);
  a mountpoint in use is ``DeviceIsBusy``, detaching one that holds nothing is
  ``DiskNotFound``.
* Interfaces hot-plug into a guest in any state but SUSPENDED
  (``InstanceInvalidState``), live when it runs and in its definition; a VIF the
  guest already has (same tap or MAC) is ``DeviceIsBusy``; detaching one it does
  not have is a no-op (the port may be gone from the guest already).
"""
from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from compute.virt import exception
from compute.virt import model

# The driver writes the snapshot to a local file and hands its path and disk
# format to this callback (the manager uploads it to the image service); the
# file is deleted when the callback returns.
UploadCallback = Callable[[str, str], None]
# ``fetch_image(context, image_id, dest_path)`` writes an image's bytes to
# ``dest_path``: how the manager hands drivers that keep an image cache (the
# libvirt driver) the image service, so that no driver calls a REST API.
FetchImageCallback = Callable[[Any, str, str], None]
# Called by ``spawn`` while the new guest is paused; returns once its ports are
# plugged, raises when they are not in time.
WaitForVifsCallback = Callable[[], None]
# What a live migration's steps hand each other (JSON-ready: it travels by RPC).
LiveMigrateData = dict[str, Any]


class ComputeDriver(abc.ABC):
    """One hypervisor host (a compute node) and the guests on it."""

    #: Name reported as ``hypervisor_type`` and used by the driver loader.
    name: ClassVar[str] = "base"
    supports_snapshot: ClassVar[bool] = False
    supports_migration: ClassVar[bool] = False
    supports_interface_hotplug: ClassVar[bool] = False
    supports_live_migration: ClassVar[bool] = False
    supports_rescue: ClassVar[bool] = False

    @abc.abstractmethod
    def init_host(self, host: str) -> None:
        """Connect to the hypervisor and prepare the host; called once at start.

        :raises: HypervisorUnavailable when the hypervisor cannot be reached.
        """

    @abc.abstractmethod
    def get_available_resource(self) -> model.HostResources:
        """The host's size and what its guests use (every guest, running or not)."""

    @abc.abstractmethod
    def list_instances(self) -> list[str]:
        """Names of the guests the hypervisor knows, in any power state."""

    @abc.abstractmethod
    def list_instance_uuids(self) -> list[str]:
        """UUIDs of the guests the hypervisor knows, in any power state."""

    @abc.abstractmethod
    def spawn(self, context: Any, instance: model.Instance, image_meta: model.ImageMeta,
              network_info: model.NetworkInfo,
              block_device_info: model.BlockDeviceInfo | None = None,
              wait_for_vifs: WaitForVifsCallback | None = None,
              config_drive: model.ConfigDrive | None = None) -> None:
        """Create the guest and start it; returns once it is RUNNING.

        With ``config_drive`` the guest gets that config drive (written where
        the driver keeps the instance's disks, attached read-only; see
        :meth:`has_config_drive`); without, it has none.

        With ``wait_for_vifs`` the guest is created paused and resumed only once
        the callback returns (its virtual NICs exist then, so the network agent
        can plug them); if the callback raises, the guest is destroyed and the
        exception propagates.

        :raises: InstanceExists if the hypervisor already has it,
            InstanceDeployFailure or ImageUnacceptable when it cannot be built.
        """

    @abc.abstractmethod
    def destroy(self, context: Any, instance: model.Instance, network_info: model.NetworkInfo,
                block_device_info: model.BlockDeviceInfo | None = None,
                destroy_disks: bool = True) -> None:
        """Stop the guest and forget it (and its disks unless ``destroy_disks``
        is false). Does nothing for an unknown instance.

        :raises: InstanceTerminationFailure when the guest cannot be removed.
        """

    @abc.abstractmethod
    def reboot(self, instance: model.Instance, network_info: model.NetworkInfo,
               reboot_type: model.RebootType) -> None:
        """Restart the guest: SOFT asks it (ACPI), HARD resets it.

        :raises: InstanceRebootFailure.
        """

    @abc.abstractmethod
    def power_off(self, instance: model.Instance, timeout: int = 0,
                  retry_interval: int = 0) -> None:
        """Shut the guest down, cleanly within ``timeout`` seconds when it is
        positive (asking again every ``retry_interval``), then by force.

        :raises: InstancePowerOffFailure.
        """

    @abc.abstractmethod
    def power_on(self, instance: model.Instance, network_info: model.NetworkInfo = (),
                 block_device_info: model.BlockDeviceInfo | None = None) -> None:
        """Start a stopped (or crashed, or suspended) guest.

        :raises: InstancePowerOnFailure.
        """

    @abc.abstractmethod
    def pause(self, instance: model.Instance) -> None:
        """Freeze a RUNNING guest's vCPUs, memory stays resident."""

    @abc.abstractmethod
    def unpause(self, instance: model.Instance) -> None:
        """Let a PAUSED guest run again."""

    @abc.abstractmethod
    def suspend(self, instance: model.Instance) -> None:
        """Save a RUNNING or PAUSED guest's memory to disk and stop it.

        :raises: InstanceSuspendFailure.
        """

    @abc.abstractmethod
    def resume(self, instance: model.Instance) -> None:
        """Restore a SUSPENDED guest; it is RUNNING afterwards.

        :raises: InstanceResumeFailure.
        """

    @abc.abstractmethod
    def get_info(self, instance: model.Instance) -> model.InstanceInfo:
        """The guest's power state as the hypervisor reports it now."""

    @abc.abstractmethod
    def get_console_output(self, instance: model.Instance) -> str:
        """The guest's serial console log so far.

        :raises: ConsoleNotAvailable, ConsoleLogOutputException.
        """

    @abc.abstractmethod
    def attach_volume(self, context: Any, instance: model.Instance,
                      connection_info: Mapping[str, Any], mountpoint: str) -> None:
        """Attach a block storage volume at ``mountpoint`` (``/dev/vdb``): live
        when the guest runs, and in its definition for the next boots.

        ``connection_info`` is what block storage's initialize_connection returns:
        ``{"driver_volume_type": "file"|"local"|"block"|"iscsi", "data": {...}}``.

        :raises: InvalidDevicePath, DeviceIsBusy, VolumeDriverNotFound,
            InvalidConnectionInfo, InstanceInvalidState (a suspended guest),
            VolumeAttachFailed.
        """

    @abc.abstractmethod
    def detach_volume(self, context: Any, instance: model.Instance,
                      connection_info: Mapping[str, Any], mountpoint: str) -> None:
        """Detach the volume at ``mountpoint`` (live and from the definition).

        :raises: DiskNotFound when nothing is attached there, InstanceInvalidState
            (a suspended guest), DeviceDetachFailed when the guest does not let go.
        """

    def get_diagnostics(self, instance: model.Instance) -> dict[str, Any]:
        """Nova's free-form diagnostics of the guest (the API's shape before
        microversion 2.48): by default its state and size.

        :raises: InstanceNotFound.
        """
        return {"state": self.get_info(instance).state.label,
                "memory": instance.memory_mb * 1024, "vcpus": instance.vcpus}

    @abc.abstractmethod
    def get_vnc_console(self, instance: model.Instance) -> dict[str, Any]:
        """Where the guest's VNC server listens: ``{"host": str, "port": int}``
        (the console proxy connects there).

        :raises: InstanceNotReady when the guest is not running,
            ConsoleTypeUnavailable when it has no VNC display.
        """

    def snapshot(self, context: Any, instance: model.Instance, image_id: str,
                 upload: UploadCallback) -> None:
        """Write the guest's root disk to a local file and call ``upload``.

        :raises: SnapshotNotSupported unless the driver overrides this.
        """
        raise exception.SnapshotNotSupported(driver=self.name)

    # -- interface hot-plug (optional; see ``supports_interface_hotplug``) ----

    def attach_interface(self, context: Any, instance: model.Instance,
                         image_meta: model.ImageMeta, vif: model.VIF) -> None:
        """Plug a virtual NIC for ``vif`` into the guest: live when it runs, and in
        its definition for the next boots (its tap, ``vif.tap_name``, is left for
        the network agent to plug, as at spawn).

        :raises: InterfaceHotplugNotSupported unless the driver overrides this,
            InstanceNotFound, InstanceInvalidState (a suspended guest),
            DeviceIsBusy (the guest has that NIC), InterfaceAttachFailed.
        """
        raise exception.InterfaceHotplugNotSupported(driver=self.name)

    def detach_interface(self, context: Any, instance: model.Instance,
                         vif: model.VIF) -> None:
        """Unplug ``vif``'s NIC from the guest's definition and, when it runs,
        from the guest (waiting for it to let go). A NIC the guest does not have
        is not an error.

        :raises: InterfaceHotplugNotSupported unless the driver overrides this,
            InstanceNotFound, InstanceInvalidState (a suspended guest),
            DeviceDetachFailed when the guest does not let go.
        """
        raise exception.InterfaceHotplugNotSupported(driver=self.name)

    # -- cold migration and resize (optional; see ``supports_migration``) ----
    #
    # The source node calls migrate_disk_and_power_off, the destination
    # finish_migration; then either the source confirm_migration (the old
    # guest's leftovers go) or the destination destroy and the source
    # finish_revert_migration (the old guest comes back). The source and the
    # destination may be the same host. ``disk_info`` is JSON-ready: it travels
    # through the database between the two nodes.

    def migrate_disk_and_power_off(self, context: Any, instance: model.Instance,
                                   dest_host: str, flavor: Mapping[str, Any],
                                   network_info: model.NetworkInfo) -> dict[str, Any]:
        """Power the guest off and keep its disks for ``dest_host`` (and for a
        revert); the guest is no longer defined here afterwards.

        :param flavor: the new flavor (``memory_mb``, ``vcpus``, ``root_gb`` …);
            a root disk smaller than the current one is refused.
        :returns: what ``finish_migration`` needs to find the disks.
        :raises: MigrationNotSupported unless the driver overrides this,
            InstanceNotFound, ResizeRefused.
        """
        raise exception.MigrationNotSupported(driver=self.name)

    def finish_migration(self, context: Any, migration: Mapping[str, Any],
                         instance: model.Instance, disk_info: Mapping[str, Any],
                         network_info: model.NetworkInfo, image_meta: model.ImageMeta,
                         resize_instance: bool,
                         block_device_info: model.BlockDeviceInfo | None = None,
                         power_on: bool = True,
                         config_drive: model.ConfigDrive | None = None) -> None:
        """Define (and start when ``power_on``) the guest on this host from the
        disks ``disk_info`` describes; ``instance`` carries the new size and
        ``resize_instance`` says the disks must grow to it. With
        ``config_drive`` the guest keeps the config drive that moved with its
        disks (written from ``config_drive`` when none did); without, it has none.

        :raises: MigrationNotSupported unless the driver overrides this,
            InstanceExists, InstanceDeployFailure.
        """
        raise exception.MigrationNotSupported(driver=self.name)

    def confirm_migration(self, context: Any, migration: Mapping[str, Any],
                          instance: model.Instance, network_info: model.NetworkInfo) -> None:
        """On the source: drop what ``migrate_disk_and_power_off`` kept for a
        revert. Idempotent.

        :raises: MigrationNotSupported unless the driver overrides this.
        """
        raise exception.MigrationNotSupported(driver=self.name)

    def finish_revert_migration(self, context: Any, instance: model.Instance,
                                network_info: model.NetworkInfo,
                                migration: Mapping[str, Any],
                                block_device_info: model.BlockDeviceInfo | None = None,
                                power_on: bool = True) -> None:
        """On the source: bring the guest back from the disks kept by
        ``migrate_disk_and_power_off``, with ``instance``'s (old) size, started
        when ``power_on``.

        :raises: MigrationNotSupported unless the driver overrides this,
            InstanceNotFound when nothing was kept.
        """
        raise exception.MigrationNotSupported(driver=self.name)

    # -- live migration (optional; see ``supports_live_migration``) ----------
    #
    # The order (compute/node/live_migration.py): the destination's
    # check_can_live_migrate_destination, the source's
    # check_can_live_migrate_source, the destination's pre_live_migration, the
    # source's live_migration (blocking until the guest runs on the
    # destination), then the source's post_live_migration and the
    # destination's post_live_migration_at_destination; after a failure the
    # guest still runs on the source and the destination's
    # rollback_live_migration_at_destination undoes what it prepared.
    # ``migrate_data`` is JSON-ready (it travels between the nodes by RPC); each
    # step returns it extended with what the next steps need.

    def check_can_live_migrate_destination(self, context: Any, instance: model.Instance,
                                           block_migration: bool | None) -> LiveMigrateData:
        """On the destination: whether the guest may come here (``block_migration``
        None: decide from the storage). Leaves a shared-storage test file the
        source looks for (removed by pre_live_migration or the rollback).

        :returns: what the source's check needs (this host's addresses …).
        :raises: LiveMigrationNotSupported unless the driver overrides this,
            MigrationPreCheckError.
        """
        raise exception.LiveMigrationNotSupported(driver=self.name)

    def check_can_live_migrate_source(self, context: Any, instance: model.Instance,
                                      dest_check_data: LiveMigrateData) -> LiveMigrateData:
        """On the source: whether this guest can go to the checked destination;
        decides ``block_migration`` (``is_shared_instance_path`` tells why).

        :raises: LiveMigrationNotSupported unless the driver overrides this,
            InstanceNotFound, MigrationPreCheckError.
        """
        raise exception.LiveMigrationNotSupported(driver=self.name)

    def pre_live_migration(self, context: Any, instance: model.Instance,
                           network_info: model.NetworkInfo,
                           block_device_info: model.BlockDeviceInfo | None,
                           migrate_data: LiveMigrateData,
                           config_drive: model.ConfigDrive | None = None) -> LiveMigrateData:
        """On the destination: make ready for the incoming guest (its directory
        and, for a block migration, empty disks; the volumes of
        ``block_device_info`` connected to this host; its config drive written
        from ``config_drive`` where the source's is not on shared storage).

        :raises: LiveMigrationNotSupported unless the driver overrides this,
            InstanceExists, MigrationPreCheckError.
        """
        raise exception.LiveMigrationNotSupported(driver=self.name)

    def live_migration(self, context: Any, instance: model.Instance, dest: str,
                       migrate_data: LiveMigrateData) -> LiveMigrateData:
        """On the source: move the running (or paused) guest to ``dest``; returns
        once it runs there. When it raises, the guest still runs here.

        :raises: LiveMigrationNotSupported unless the driver overrides this,
            InstanceNotFound, LiveMigrationFailed, LiveMigrationAborted.
        """
        raise exception.LiveMigrationNotSupported(driver=self.name)

    def post_live_migration(self, context: Any, instance: model.Instance,
                            block_device_info: model.BlockDeviceInfo | None,
                            migrate_data: LiveMigrateData) -> None:
        """On the source after success: drop what is left of the guest here (its
        volume connections; its files unless the storage is shared). Idempotent.

        :raises: LiveMigrationNotSupported unless the driver overrides this.
        """
        raise exception.LiveMigrationNotSupported(driver=self.name)

    def post_live_migration_at_destination(self, context: Any, instance: model.Instance,
                                           network_info: model.NetworkInfo,
                                           block_device_info: model.BlockDeviceInfo | None,
                                           migrate_data: LiveMigrateData) -> None:
        """On the destination after success: the guest is this host's now (its
        persistent definition, a guest paused to force completion resumed when
        ``migrate_data["resume"]``).

        :raises: LiveMigrationNotSupported unless the driver overrides this,
            InstanceNotFound when the guest did not arrive.
        """
        raise exception.LiveMigrationNotSupported(driver=self.name)

    def rollback_live_migration_at_destination(
            self, context: Any, instance: model.Instance, network_info: model.NetworkInfo,
            block_device_info: model.BlockDeviceInfo | None,
            migrate_data: LiveMigrateData) -> None:
        """On the destination after a failure: undo the checks and
        pre_live_migration (a half-arrived guest, its files unless shared, volume
        connections). Idempotent.

        :raises: LiveMigrationNotSupported unless the driver overrides this.
        """
        raise exception.LiveMigrationNotSupported(driver=self.name)

    def live_migration_abort(self, instance: model.Instance) -> None:
        """Ask the running ``live_migration`` of the guest to stop (it then raises
        LiveMigrationAborted); nothing when none runs.

        :raises: LiveMigrationNotSupported unless the driver overrides this.
        """
        raise exception.LiveMigrationNotSupported(driver=self.name)

    def live_migration_force_complete(self, instance: model.Instance) -> None:
        """Make the running ``live_migration`` of the guest converge (pause the
        guest; the destination resumes it); nothing when none runs.

        :raises: LiveMigrationNotSupported unless the driver overrides this.
        """
        raise exception.LiveMigrationNotSupported(driver=self.name)

    # -- shared instance storage (evacuation clean-up, live migration checks) --

    def create_shared_storage_test_file(self) -> str | None:
        """Create a uniquely named file where this host keeps instance files;
        its name (None: this driver keeps no instance files)."""
        return None

    def check_shared_storage_test_file(self, name: str) -> bool:
        """Whether another host's test file ``name`` is visible here."""
        return False

    def cleanup_shared_storage_test_file(self, name: str) -> None:
        """Remove a test file this host created (idempotent)."""
        return None

    # -- rescue (optional; see ``supports_rescue``) -----------------------------
    #
    # The node powers the guest off first. While rescued, the hypervisor runs a
    # rescue guest under the instance's uuid and name; ``destroy`` removes it and
    # whatever the rescue kept, like any guest.

    def rescue(self, context: Any, instance: model.Instance, network_info: model.NetworkInfo,
               image_meta: model.ImageMeta, rescue_password: str | None,
               block_device_info: model.BlockDeviceInfo | None = None) -> None:
        """Boot the instance from ``image_meta`` (its first disk, and its kernel and
        ramdisk for a direct kernel boot) with the instance's own root disk
        attached second, keeping the instance's guest definition for
        ``unrescue``; the rescue guest is RUNNING afterwards. On failure the
        instance's own guest is put back (not running) before the error is raised.

        :raises: RescueNotSupported unless the driver overrides this,
            InstanceNotFound, InstanceRescueFailure.
        """
        raise exception.RescueNotSupported(driver=self.name)

    def unrescue(self, context: Any, instance: model.Instance,
                 network_info: model.NetworkInfo) -> None:
        """Drop the rescue guest and start the instance's own guest again (RUNNING).
        Idempotent: a guest that is not rescued is only started.

        :raises: RescueNotSupported unless the driver overrides this,
            InstanceNotFound, InstanceUnrescueFailure.
        """
        raise exception.RescueNotSupported(driver=self.name)

    def has_config_drive(self, instance: model.Instance) -> bool:
        """Whether the guest has a config drive now (what ``spawn`` or
        ``finish_migration`` was given; a rescue guest keeps the instance's).
        False for an unknown instance and for drivers that attach none."""
        return False

    def instance_exists(self, instance: model.Instance) -> bool:
        """Whether the hypervisor knows the instance."""
        try:
            self.get_info(instance)
        except exception.InstanceNotFound:
            return False
        return True

    def get_host_uptime(self) -> str:
        """The host's uptime as uptime(1) prints it (``" 17:01:02 up 3 days,  2:03,
        0 users,  load average: 0.10, 0.20, 0.30"``; see compute/virt/uptime.py).

        :raises: HostUptimeNotSupported unless the driver overrides this.
        """
        raise exception.HostUptimeNotSupported(driver=self.name)

    def cleanup_host(self, host: str) -> None:
        """Release what ``init_host`` acquired; called when the node stops."""
        return None
