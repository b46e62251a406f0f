"""Block storage errors; each carries its HTTP meaning (the API's fault filter
renders them in Cinder's format, ``{"badRequest": {"code": 400, "message": ...}}``).

Messages follow Cinder's wording where clients or Tempest look at them. Wrong
statuses answer 400 ``Invalid volume: ...`` as Cinder does (Tempest's negative
tests expect BadRequest), not 409: ``InvalidVolumeStatus`` and its siblings are
the errors the stores' compare-and-set updates raise.
"""
from __future__ import annotations

from common import exception

# -- the API layer ---------------------------------------------------------------


class InvalidAPIVersionString(exception.Invalid):
    msg_fmt = ("API Version String %(version)s is of invalid format. Must be of format "
               "MajorNum.MinorNum.")


class InvalidGlobalAPIVersion(exception.NotAcceptable):
    msg_fmt = ("Version %(req_ver)s is not supported by the API. Minimum is %(min_ver)s "
               "and maximum is %(max_ver)s.")


class VersionNotFoundForAPIMethod(exception.NotFound):
    msg_fmt = "API version %(version)s is not supported on this method."


class InvalidInput(exception.Invalid):
    msg_fmt = "Invalid input received: %(reason)s"


class InvalidParameterValue(exception.Invalid):
    msg_fmt = "%(err)s"


class InvalidSortKey(exception.Invalid):
    msg_fmt = "Sort key supplied is invalid: %(reason)s"


class MarkerNotFound(exception.NotFound):
    msg_fmt = "Marker %(marker)s could not be found."


class ProjectIdMismatch(exception.Invalid):
    msg_fmt = ("Malformed request URL: URL's project_id '%(project_id)s' doesn't match "
               "Context's project_id '%(context_project_id)s'")


class InvalidAvailabilityZone(exception.Invalid):
    msg_fmt = "Availability zone '%(az)s' is invalid."


# -- volumes ---------------------------------------------------------------------


class VolumeNotFound(exception.NotFound):
    msg_fmt = "Volume %(volume_id)s could not be found."


class InvalidVolume(exception.Invalid):
    msg_fmt = "Invalid volume: %(reason)s"


class InvalidVolumeStatus(InvalidVolume):
    """A volume is not in a status the operation accepts (compare-and-set miss)."""

    msg_fmt = ("Invalid volume: Volume %(volume_id)s status must be %(expected)s, "
               "but current status is: %(actual)s.")


class VolumeIsBusy(InvalidVolume):
    msg_fmt = "deleting volume %(volume_name)s that has snapshot"


class VolumeAttached(InvalidVolume):
    msg_fmt = "Volume %(volume_id)s is still attached, detach volume first."


class InvalidVolumeAttachMode(exception.Invalid):
    msg_fmt = "Invalid attaching mode '%(mode)s' for volume %(volume_id)s."


class VolumeMetadataNotFound(exception.NotFound):
    msg_fmt = "Volume %(volume_id)s has no metadata with key %(metadata_key)s."


class VolumeAdminMetadataNotFound(exception.NotFound):
    msg_fmt = "Volume %(volume_id)s has no administration metadata with key %(metadata_key)s."


class InvalidVolumeMetadata(exception.Invalid):
    msg_fmt = "Invalid metadata: %(reason)s"


class InvalidVolumeMetadataSize(exception.Invalid):
    msg_fmt = "Invalid metadata size: %(reason)s"


class MetadataLimitExceeded(exception.RequestEntityTooLarge):
    msg_fmt = "Maximum number of metadata items exceeds %(allowed)d"


class GlanceMetadataNotFound(exception.NotFound):
    msg_fmt = "Glance metadata for volume %(volume_id)s cannot be found."


# -- snapshots -------------------------------------------------------------------


class SnapshotNotFound(exception.NotFound):
    msg_fmt = "Snapshot %(snapshot_id)s could not be found."


class InvalidSnapshot(exception.Invalid):
    msg_fmt = "Invalid snapshot: %(reason)s"


class InvalidSnapshotStatus(InvalidSnapshot):
    msg_fmt = ("Invalid snapshot: Snapshot %(snapshot_id)s status must be %(expected)s, "
               "but current status is: %(actual)s.")


class SnapshotIsBusy(InvalidSnapshot):
    msg_fmt = "deleting snapshot %(snapshot_name)s that has dependent volumes"


class SnapshotMetadataNotFound(exception.NotFound):
    msg_fmt = "Snapshot %(snapshot_id)s has no metadata with key %(metadata_key)s."


# -- volume types ----------------------------------------------------------------


class VolumeTypeNotFound(exception.NotFound):
    msg_fmt = "Volume type with id %(volume_type_id)s could not be found."


class VolumeTypeNotFoundByName(VolumeTypeNotFound):
    msg_fmt = "Volume type with name %(volume_type_name)s could not be found."


class InvalidVolumeType(exception.Invalid):
    msg_fmt = "Invalid volume type: %(reason)s"


class VolumeTypeExists(exception.Conflict):
    msg_fmt = "Volume Type %(id)s already exists."


class VolumeTypeInUse(exception.Invalid):
    msg_fmt = ("Volume Type %(volume_type_id)s deletion is not allowed with volumes "
               "present with the type.")


class VolumeTypeDefaultDeletion(exception.Invalid):
    msg_fmt = "The volume type %(volume_type_id)s is the only default volume type and " \
              "cannot be deleted."


class VolumeTypeExtraSpecsNotFound(exception.NotFound):
    msg_fmt = "Volume Type %(volume_type_id)s has no extra specs with key %(extra_specs_key)s."


class VolumeTypeAccessNotFound(exception.NotFound):
    msg_fmt = ("Volume type access not found for %(volume_type_id)s / %(project_id)s "
               "combination.")


class VolumeTypeAccessExists(exception.Conflict):
    msg_fmt = ("Volume type access for %(volume_type_id)s / %(project_id)s combination "
               "already exists.")


# -- attachments -----------------------------------------------------------------


class VolumeAttachmentNotFound(exception.NotFound):
    msg_fmt = "Volume attachment %(attachment_id)s could not be found."


AttachmentNotFound = VolumeAttachmentNotFound


class InvalidAttachmentStatus(exception.Invalid):
    msg_fmt = ("Invalid attachment: Attachment %(attachment_id)s status must be "
               "%(expected)s, but current status is: %(actual)s.")


# -- backups ---------------------------------------------------------------------


class BackupNotFound(exception.NotFound):
    msg_fmt = "Backup %(backup_id)s could not be found."


class InvalidBackup(exception.Invalid):
    msg_fmt = "Invalid backup: %(reason)s"


class InvalidBackupStatus(InvalidBackup):
    msg_fmt = ("Invalid backup: Backup %(backup_id)s status must be %(expected)s, "
               "but current status is: %(actual)s.")


class BackupDriverException(exception.Error):
    msg_fmt = "Backup driver reported an error: %(reason)s"


class BackupFailedToGetVolumeBackend(exception.NotFound):
    msg_fmt = "Failed to identify volume backend."


# -- quotas ----------------------------------------------------------------------


class QuotaExceeded(exception.RequestEntityTooLarge):
    """Any quota over its limit: 413, as Cinder answers.

    The message starts with the class name (``VolumeLimitExceeded: Maximum
    number ...``) because that is what Cinder's fault middleware shows for these
    errors, and clients match on it.
    """

    msg_fmt = "Quota exceeded for resources: %(overs)s"

    def __init__(self, message: str | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)
        prefix = type(self).__name__ + ": "
        if not self.message.startswith(prefix):  # not yet prefixed (RPC rebuilds it)
            self.message = prefix + self.message
            self.args = (self.message,)


OverQuota = QuotaExceeded


class VolumeSizeExceedsAvailableQuota(QuotaExceeded):
    msg_fmt = ("Requested volume or snapshot exceeds allowed %(name)s quota. Requested "
               "%(requested)sG, quota is %(quota)sG and %(consumed)sG has been consumed.")


class VolumeSizeExceedsLimit(QuotaExceeded):
    msg_fmt = ("Requested volume size %(size)dG is larger than maximum allowed limit "
               "%(limit)dG.")


class VolumeBackupSizeExceedsAvailableQuota(QuotaExceeded):
    msg_fmt = ("Requested backup exceeds allowed Backup gigabytes quota. Requested "
               "%(requested)sG, quota is %(quota)sG and %(consumed)sG has been consumed.")


class VolumeLimitExceeded(QuotaExceeded):
    msg_fmt = "Maximum number of volumes allowed (%(allowed)d) exceeded for quota '%(name)s'."


class SnapshotLimitExceeded(QuotaExceeded):
    msg_fmt = "Maximum number of snapshots allowed (%(allowed)d) exceeded"


class BackupLimitExceeded(QuotaExceeded):
    msg_fmt = "Maximum number of backups allowed (%(allowed)d) exceeded"


class InvalidQuotaValue(exception.Invalid):
    msg_fmt = ("Change would make usage less than 0 for the following resources: "
               "%(unders)s")


class QuotaBelowUsage(exception.Invalid):
    msg_fmt = ("Quota %(resource)s limit must be equal or greater than existing "
               "resources. Current usage is %(used)s and the requested limit is "
               "%(limit)s.")


class QuotaResourceUnknown(exception.NotFound):
    msg_fmt = "Unknown quota resources %(unknown)s."


# -- services, scheduling and backends ---------------------------------------------


class ServiceNotFound(exception.NotFound):
    msg_fmt = "Service %(service_id)s could not be found."


class HostBinaryNotFound(exception.NotFound):
    msg_fmt = "Could not find binary %(binary)s on host %(host)s."


class ServiceUnavailable(exception.ServiceUnavailable):
    msg_fmt = "Service is unavailable at this time."


class NoValidBackend(exception.Error):
    msg_fmt = "No valid backend was found. %(reason)s"


class VolumeBackendAPIException(exception.Error):
    msg_fmt = "Bad or unexpected response from the storage volume backend API: %(data)s"


class VolumeDriverException(exception.Error):
    msg_fmt = "Volume driver reported an error: %(message)s"


class ExportFailure(exception.Error):
    msg_fmt = "Failed to export for volume: %(reason)s"


class ImageCopyFailure(exception.Error):
    msg_fmt = "Failed to copy image to volume: %(reason)s"


# -- the neighbours: image (Glance) and object store (Swift) -------------------------


class ImageNotFound(exception.NotFound):
    msg_fmt = "Image %(image_id)s could not be found."


class ImageNotAuthorized(exception.Forbidden):
    msg_fmt = "Not authorized for image %(image_id)s."


class ImageUnacceptable(exception.Invalid):
    msg_fmt = "Image %(image_id)s is unacceptable: %(reason)s"


class ImageServiceUnavailable(exception.ServiceUnavailable):
    msg_fmt = "The image service is unavailable: %(reason)s"


class ObjectStoreError(exception.Error):
    msg_fmt = "The object store failed: %(reason)s"


class HostNotFound(exception.NotFound):
    msg_fmt = "Host %(host)s could not be found."
