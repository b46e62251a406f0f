"""Errors raised by virt drivers.

They subclass ``common.exception`` types so they keep their HTTP meaning when
they travel back through RPC to the API (the fault middleware maps ``code``).
"""
from __future__ import annotations

from common import exception


class InstanceNotFound(exception.NotFound):
    msg_fmt = "Instance %(instance_id)s could not be found."


class InstanceExists(exception.Conflict):
    msg_fmt = "Instance %(name)s already exists."


class InstanceInvalidState(exception.Conflict):
    msg_fmt = ("Instance %(instance_uuid)s in %(attr)s %(state)s. Cannot %(method)s while "
               "the instance is in this state.")


class InstanceDeployFailure(exception.Invalid):
    msg_fmt = "Failed to deploy instance: %(reason)s"


class InstancePowerOnFailure(exception.Invalid):
    msg_fmt = "Failed to power on instance: %(reason)s"


class InstancePowerOffFailure(exception.Invalid):
    msg_fmt = "Failed to power off instance: %(reason)s"


class InstanceRebootFailure(exception.Invalid):
    msg_fmt = "Failed to reboot instance: %(reason)s"


class InstanceSuspendFailure(exception.Invalid):
    msg_fmt = "Failed to suspend instance: %(reason)s"


class InstanceResumeFailure(exception.Invalid):
    msg_fmt = "Failed to resume instance: %(reason)s"


class InstancePauseFailure(exception.Invalid):
    msg_fmt = "Failed to pause instance: %(reason)s"


class InstanceUnpauseFailure(exception.Invalid):
    msg_fmt = "Failed to unpause instance: %(reason)s"


class InstanceTerminationFailure(exception.Invalid):
    msg_fmt = "Failed to terminate instance: %(reason)s"


class ImageUnacceptable(exception.Invalid):
    msg_fmt = "Image %(image_id)s is unacceptable: %(reason)s"


class ConsoleNotAvailable(exception.NotFound):
    msg_fmt = "Guest does not have a console available."


class ConsoleLogOutputException(exception.Error):
    msg_fmt = ("Console log output could not be retrieved for instance %(instance_id)s. "
               "Reason: %(reason)s")


class SnapshotNotSupported(exception.NotImplementedYet):
    msg_fmt = "The %(driver)s driver cannot snapshot instances."


class HostUptimeNotSupported(exception.NotImplementedYet):
    msg_fmt = "The %(driver)s driver does not report the host's uptime."


class HypervisorUnavailable(exception.ServiceUnavailable):
    msg_fmt = "Connection to the hypervisor is broken on host %(host)s."


class InstanceNotReady(exception.Conflict):
    msg_fmt = "Instance %(instance_id)s is not ready: %(reason)s"


class ConsoleTypeUnavailable(exception.Invalid):
    msg_fmt = "Unavailable console type %(console_type)s."


class InvalidDevicePath(exception.Invalid):
    msg_fmt = "The supplied device path (%(path)s) is invalid."


class DeviceIsBusy(exception.Conflict):
    msg_fmt = "The supplied device (%(device)s) is busy."


class DiskNotFound(exception.NotFound):
    msg_fmt = "No disk at %(location)s."


class VolumeDriverNotFound(exception.Invalid):
    msg_fmt = "Could not find a handler for %(driver_type)s volume."


class InvalidConnectionInfo(exception.Invalid):
    msg_fmt = "Invalid volume connection info: %(reason)s"


class VolumeAttachFailed(exception.Invalid):
    msg_fmt = "Volume %(volume_id)s could not be attached. Reason: %(reason)s"


class DeviceDetachFailed(exception.Invalid):
    msg_fmt = "Device detach failed for %(device)s: %(reason)s"


class SnapshotFailed(exception.Invalid):
    msg_fmt = "Snapshot of instance %(instance_id)s failed: %(reason)s"


class MigrationNotSupported(exception.Conflict):
    msg_fmt = "The %(driver)s driver cannot migrate or resize instances."


class ResizeRefused(exception.Invalid):
    msg_fmt = "Instance %(instance_id)s cannot be resized: %(reason)s"


class InterfaceHotplugNotSupported(exception.Conflict):
    msg_fmt = "The %(driver)s driver cannot attach or detach interfaces."


class InterfaceAttachFailed(exception.Invalid):
    msg_fmt = "Interface %(port_id)s could not be attached. Reason: %(reason)s"


# -- live migration ---------------------------------------------------------------


class LiveMigrationNotSupported(exception.Invalid):
    msg_fmt = "The %(driver)s driver cannot live-migrate instances."


class MigrationPreCheckError(exception.Invalid):
    msg_fmt = "Migration pre-check error: %(reason)s"


class LiveMigrationFailed(exception.Error):
    msg_fmt = "Live migration of instance %(instance_id)s failed: %(reason)s"


class LiveMigrationAborted(exception.Error):
    msg_fmt = "Live migration of instance %(instance_id)s was aborted."


# -- rescue -------------------------------------------------------------------------


class RescueNotSupported(exception.Invalid):
    msg_fmt = "The %(driver)s driver cannot rescue instances."


class InstanceRescueFailure(exception.Invalid):
    msg_fmt = "Failed to move instance %(instance_id)s to rescue mode: %(reason)s"


class InstanceUnrescueFailure(exception.Invalid):
    msg_fmt = "Failed to unrescue instance %(instance_id)s: %(reason)s"
