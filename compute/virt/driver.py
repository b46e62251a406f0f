"""The virt driver interface the compute node manager calls.

Every operation is abstract, so a driver that misses one fails when it is
instantiated rather than when a user first needs it (STYLE.md: no
``NotImplementedError`` maze). The one optional hook is ``snapshot``: a driver
that cannot do it leaves ``supports_snapshot`` false and the API answers 501.

Power-state rules every implementation follows (the fake is the reference and
the contract tests in tests/unit/compute/ check them):

* ``spawn`` leaves the guest RUNNING; ``destroy`` is idempotent.
* ``power_off``, ``power_on``, ``pause``/``unpause``, ``suspend``/``resume``
  are no-ops when the guest is already in the target state, and raise
  ``InstanceInvalidState`` from a state they cannot leave.
* ``reboot`` always ends RUNNING: a SOFT reboot of a guest that is not running
  becomes a HARD one.
* Operations on an unknown instance raise ``InstanceNotFound``.
"""
from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, ClassVar

from compute.virt import exception
from compute.virt import model

# The driver writes the snapshot to a local file and hands its path and disk
# format to this callback (the manager uploads it to the image service); the
# file is deleted when the callback returns.
UploadCallback = Callable[[str, str], None]


class ComputeDriver(abc.ABC):
    """One hypervisor host (a compute node) and the guests on it."""

    #: Name reported as ``hypervisor_type`` and used by the driver loader.
    name: ClassVar[str] = "base"
    supports_snapshot: ClassVar[bool] = False

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
              block_device_info: model.BlockDeviceInfo | None = None) -> None:
        """Create the guest and start it; returns once it is RUNNING.

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

    def snapshot(self, context: Any, instance: model.Instance, image_id: str,
                 upload: UploadCallback) -> None:
        """Write the guest's root disk to a local file and call ``upload``.

        :raises: SnapshotNotSupported unless the driver overrides this.
        """
        raise exception.SnapshotNotSupported(driver=self.name)

    def instance_exists(self, instance: model.Instance) -> bool:
        """Whether the hypervisor knows the instance."""
        try:
            self.get_info(instance)
        except exception.InstanceNotFound:
            return False
        return True

    def cleanup_host(self, host: str) -> None:
        """Release what ``init_host`` acquired; called when the node stops."""
        return None
