"""Compute errors; each carries its HTTP meaning (the fault filter renders
them in Nova's format, ``{"itemNotFound": {"code": 404, "message": ...}}``)."""
from __future__ import annotations

from common import exception


class InvalidAPIVersionString(exception.Invalid):
    msg_fmt = ("API Version String %(version)s is of invalid format. Must be of format "
               "MajorNum.MinorNum.")


class InvalidGlobalAPIVersion(exception.NotAcceptable):
    msg_fmt = ("Version %(req_ver)s is not supported by the API. Minimum is %(min_ver)s "
               "and maximum is %(max_ver)s.")


class ProjectIdMismatch(exception.Invalid):
    msg_fmt = ("Malformed request URL: URL's project_id '%(project_id)s' doesn't match "
               "Context's project_id '%(context_project_id)s'")


class FlavorNotFound(exception.NotFound):
    msg_fmt = "Flavor %(flavor_id)s could not be found."


class FlavorExtraSpecsNotFound(exception.NotFound):
    msg_fmt = "Flavor %(flavor_id)s has no extra specs with key %(extra_specs_key)s."


class FlavorAccessNotFound(exception.NotFound):
    msg_fmt = "Flavor access not found for %(flavor_id)s / %(project_id)s combination."


class FlavorAccessListForPublic(exception.NotFound):
    msg_fmt = "Access list not available for public flavors."


class FlavorExists(exception.Conflict):
    msg_fmt = "Flavor with name %(name)s already exists."


class FlavorIdExists(exception.Conflict):
    msg_fmt = "Flavor with ID %(flavor_id)s already exists."


class FlavorAccessExists(exception.Conflict):
    msg_fmt = ("Flavor access already exists for flavor %(flavor_id)s and project "
               "%(project_id)s combination.")


class FlavorAccessPublic(exception.Conflict):
    msg_fmt = "Can not add access to a public flavor."


class InvalidFilter(exception.Invalid):
    msg_fmt = "Invalid %(name)s filter [%(value)s]"


class MarkerNotFound(exception.Invalid):
    msg_fmt = "marker [%(marker)s] not found"


class KeypairNotFound(exception.NotFound):
    msg_fmt = "Keypair %(name)s not found for user %(user_id)s"


class KeyPairExists(exception.Conflict):
    msg_fmt = "Key pair '%(key_name)s' already exists."


class InvalidKeypair(exception.Invalid):
    msg_fmt = "Keypair data is invalid: %(reason)s"


class KeypairLimitExceeded(exception.OverQuota):
    msg_fmt = "Quota exceeded, too many key pairs."


# -- servers (compute/db/instances.py and the layers above it) ----------------


class InstanceNotFound(exception.NotFound):
    msg_fmt = "Instance %(instance_id)s could not be found."


class InstanceInvalidState(exception.Conflict):
    msg_fmt = ("Cannot '%(action)s' instance %(instance_uuid)s while it is in "
               "%(attr)s %(state)s")


class UnexpectedTaskStateError(exception.Conflict):
    msg_fmt = ("Conflict updating instance %(instance_uuid)s. Expected: %(expected)s. "
               "Actual: %(actual)s")


class UnexpectedVMStateError(exception.Conflict):
    msg_fmt = ("Conflict updating instance %(instance_uuid)s. Expected vm_state: "
               "%(expected)s. Actual: %(actual)s")


class InstanceIsLocked(exception.Conflict):
    msg_fmt = "Instance %(instance_uuid)s is locked"


class InstanceActionNotFound(exception.NotFound):
    msg_fmt = "Action for request_id %(request_id)s on instance %(instance_uuid)s not found"


class InstanceTagNotFound(exception.NotFound):
    msg_fmt = "Instance %(instance_id)s has no tag '%(tag)s'"


class InstanceMetadataNotFound(exception.NotFound):
    msg_fmt = "Metadata item was not found"


class ComputeHostNotFound(exception.NotFound):
    msg_fmt = "Compute host %(host)s could not be found."


class NoValidHost(exception.Error):
    code = 500
    msg_fmt = "No valid host was found. %(reason)s"


class TooManyInstances(exception.OverQuota):
    msg_fmt = ("Quota exceeded for %(overs)s: Requested %(req)s, but already used "
               "%(used)s of %(allowed)s %(overs)s")


class QuotaBelowUsage(exception.Invalid):
    msg_fmt = ("Quota limit %(limit)s for %(resource)s must be greater than or equal to "
               "already used and reserved %(used)s.")


class InvalidQuotaValue(exception.Invalid):
    msg_fmt = "Quota value %(value)s for %(resource)s is invalid: %(reason)s"


# -- the neighbours: image (Glance), network (Neutron), block storage (Cinder) --------
# Raised by compute/clients/* and compute/network_info.py. A ``Requested*`` class is
# the same error met while checking a server create request, where Nova answers 400.


class ImageNotFound(exception.NotFound):
    msg_fmt = "Image %(image_id)s could not be found."


class RequestedImageNotFound(ImageNotFound):
    msg_fmt = "Can not find requested image"
    code, title = 400, "Bad Request"


class ImageNotAuthorized(exception.Forbidden):
    msg_fmt = "Not authorized for image %(image_id)s."


class ImageNotActive(exception.Invalid):
    msg_fmt = "Image %(image_id)s is not active."


class ImageBadRequest(exception.Invalid):
    msg_fmt = "Request of image %(image_id)s got BadRequest response: %(response)s"


class ImageConflict(exception.Conflict):
    msg_fmt = "Image %(image_id)s cannot be changed now: %(reason)s"


class ImageQuotaExceeded(exception.OverQuota):
    msg_fmt = "Quota exceeded for image %(image_id)s: %(reason)s"


class ImageDownloadFailed(exception.Error):
    msg_fmt = "Failed to download image %(image_id)s: %(reason)s"


class ImageServiceUnavailable(exception.ServiceUnavailable):
    msg_fmt = "The image service is unavailable: %(reason)s"


class NetworkNotFound(exception.NotFound):
    msg_fmt = "Network %(network_id)s could not be found."


class RequestedNetworkNotFound(NetworkNotFound):
    code, title = 400, "Bad Request"


class PortNotFound(exception.NotFound):
    msg_fmt = "Port id %(port_id)s could not be found."


class RequestedPortNotFound(PortNotFound):
    code, title = 400, "Bad Request"


class SecurityGroupNotFound(exception.NotFound):
    msg_fmt = "Security group %(security_group_id)s not found."


class RequestedSecurityGroupNotFound(SecurityGroupNotFound):
    code, title = 400, "Bad Request"


class SecurityGroupNotUnique(exception.Conflict):
    msg_fmt = ("Multiple security groups found matching '%(name)s'. Use an ID to be more "
               "specific.")


class ServerHasNoPorts(SecurityGroupNotFound):
    msg_fmt = "Server %(instance_uuid)s is the device of no port: it has no security groups."


class SecurityGroupNotOnServer(SecurityGroupNotFound):
    msg_fmt = "Security group %(name)s is not associated with server %(instance_uuid)s."


class SecurityGroupRuleNotFound(exception.NotFound):
    msg_fmt = "Security group rule %(rule_id)s not found."


class SecurityGroupLimitExceeded(exception.OverQuota):
    msg_fmt = "Quota exceeded, too many security groups or rules: %(reason)s"


class InvalidSecurityGroupInput(exception.Invalid):
    msg_fmt = "Invalid input received: %(reason)s"


class InvalidIpProtocol(exception.Invalid):
    msg_fmt = "Invalid IP protocol %(protocol)s."


class InvalidPortRange(exception.Invalid):
    msg_fmt = "Invalid port range %(from_port)s:%(to_port)s. %(msg)s"


class InvalidCidr(exception.Invalid):
    msg_fmt = "%(cidr)s is not a valid IP network."


class SecurityGroupCannotBeApplied(exception.Invalid):
    msg_fmt = ("Network requires port_security_enabled and subnet associated in order to "
               "apply security groups.")


class NetworkAmbiguous(exception.Conflict):
    msg_fmt = "Multiple possible networks found, use a Network ID to be more specific."


class NetworkRequiresSubnet(exception.Invalid):
    msg_fmt = "Network %(network_uuid)s requires a subnet in order to boot instances on."


class ExternalNetworkAttachForbidden(exception.Forbidden):
    msg_fmt = "It is not allowed to create an interface on external network %(network_uuid)s"


class PortInUse(exception.Conflict):
    msg_fmt = "Port %(port_id)s is still in use."


class PortRequiresFixedIP(exception.Invalid):
    msg_fmt = "Port %(port_id)s requires a FixedIP in order to be used."


class PortBindingFailed(exception.Invalid):
    msg_fmt = ("Binding failed for port %(port_id)s, please check neutron logs for more "
               "information.")


class FixedIpAlreadyInUse(exception.Conflict):
    msg_fmt = "Fixed IP address %(address)s is already in use on network %(network_id)s."


class InvalidFixedIp(exception.Invalid):
    msg_fmt = "Fixed IP %(address)s is not a valid ip address for network %(network_id)s."


class NoMoreFixedIps(exception.Invalid):
    msg_fmt = "No fixed IP addresses available for network: %(net)s"


class PortLimitExceeded(exception.OverQuota):
    msg_fmt = "Maximum number of ports exceeded"


class NetworkBadRequest(exception.Invalid):
    msg_fmt = "Invalid input received: %(reason)s"


class NetworkConflict(exception.Conflict):
    msg_fmt = "The network service refused the change: %(reason)s"


class NetworkForbidden(exception.Forbidden):
    msg_fmt = "The network service refused the request: %(reason)s"


class NetworkServiceUnavailable(exception.ServiceUnavailable):
    msg_fmt = "The network service is unavailable: %(reason)s"


class VolumeNotFound(exception.NotFound):
    msg_fmt = "Volume %(volume_id)s could not be found."


class VolumeAttachmentNotFound(exception.NotFound):
    msg_fmt = "Volume attachment %(attachment_id)s could not be found."


class InvalidVolume(exception.Invalid):
    msg_fmt = "Invalid volume: %(reason)s"


class VolumeForbidden(exception.Forbidden):
    msg_fmt = "The block storage service refused the request: %(reason)s"


class VolumeServiceUnavailable(exception.ServiceUnavailable):
    msg_fmt = "The block storage service is unavailable: %(reason)s"


# -- conductor and scheduler (compute/conductor/, compute/scheduler/manager.py) --------


class MaxRetriesExceeded(NoValidHost):
    msg_fmt = "Exceeded maximum number of retries. %(reason)s"


class BDMNotFound(exception.NotFound):
    msg_fmt = "No Block Device Mapping with id %(id)s."


# -- the admin resources: aggregates, services, hypervisors, server groups, usage --


class AggregateNotFound(exception.NotFound):
    msg_fmt = "Aggregate %(aggregate_id)s could not be found."


class AggregateNameExists(exception.Conflict):
    msg_fmt = "Aggregate %(aggregate_name)s already exists."


class AggregateHostExists(exception.Conflict):
    msg_fmt = "Aggregate %(aggregate_id)s already has host %(host)s."


class AggregateHostNotFound(exception.NotFound):
    msg_fmt = "Aggregate %(aggregate_id)s has no host %(host)s."


class InvalidAggregateAction(exception.Invalid):
    msg_fmt = ("Cannot perform action '%(action)s' on aggregate %(aggregate_id)s. "
               "Reason: %(reason)s.")


class AggregateActionConflict(exception.Conflict):
    msg_fmt = ("Cannot perform action '%(action)s' on aggregate %(aggregate_id)s. "
               "Reason: %(reason)s.")


class HostBinaryNotFound(exception.NotFound):
    msg_fmt = "Compute host %(host)s with binary %(binary)s could not be found."


class ServiceDeleteConflict(exception.Conflict):
    msg_fmt = ("Unable to delete compute service that is hosting instances. Migrate or "
               "delete the instances first.")


class HypervisorNotFound(exception.NotFound):
    msg_fmt = "Hypervisor with ID '%(hypervisor_id)s' could not be found."


class HypervisorPatternNotFound(exception.NotFound):
    msg_fmt = "No hypervisor matching '%(pattern)s' could be found."


class InstanceGroupNotFound(exception.NotFound):
    msg_fmt = "Instance group %(group_uuid)s could not be found."


class ServerGroupLimitExceeded(exception.OverQuota):
    msg_fmt = "Quota exceeded, too many server groups."


class ServerGroupMemberLimitExceeded(exception.OverQuota):
    msg_fmt = "Quota exceeded, too many servers in group"


# -- the compute node (compute/node/) -------------------------------------------------


class ComputeResourcesUnavailable(exception.ServiceUnavailable):
    msg_fmt = "Insufficient compute resources: %(reason)s."


class RescheduledException(exception.Error):
    msg_fmt = "Build of instance %(instance_uuid)s was re-scheduled: %(reason)s"


class BuildAbortException(exception.Error):
    msg_fmt = "Build of instance %(instance_uuid)s aborted: %(reason)s"


class VirtualInterfaceCreateException(exception.Error):
    msg_fmt = "Virtual Interface creation failed"


class InterfaceHotplugNotSupported(exception.Conflict):
    msg_fmt = ("The %(driver)s compute driver cannot attach or detach interfaces of "
               "instance %(instance_uuid)s.")


class InterfaceAttachFailed(exception.Invalid):
    msg_fmt = "Failed to attach network adapter device to %(instance_uuid)s"


class InterfaceDetachFailed(exception.Invalid):
    msg_fmt = "Failed to detach network adapter device from %(instance_uuid)s"


class VolumeAttachNotSupported(exception.Conflict):
    msg_fmt = "Volumes cannot be attached to or detached from instance %(instance_uuid)s: " \
              "%(reason)s"


class UnableToMigrateToSelf(exception.Invalid):
    msg_fmt = ("Unable to migrate instance (%(instance_id)s) to current host (%(host)s).")


class ResizeError(exception.Error):
    msg_fmt = "Resize error: %(reason)s."


class MigrationNotFound(exception.NotFound):
    msg_fmt = "Migration %(migration_id)s could not be found."


# -- servers (compute/servers.py, server_create.py, server_actions.py) ----------------


class InvalidFlavorRef(exception.Invalid):
    msg_fmt = "Invalid flavorRef provided."


class InvalidImageRef(exception.Invalid):
    msg_fmt = "Invalid imageRef provided."


class MissingImageRef(exception.Invalid):
    msg_fmt = "Missing imageRef attribute"


class InvalidKeyName(exception.Invalid):
    msg_fmt = "Invalid key_name provided."


class FlavorDiskSmallerThanImage(exception.Invalid):
    msg_fmt = ("Flavor's disk is too small for requested image. Flavor disk is "
               "%(flavor_size)i bytes, image is %(image_size)i bytes.")


class FlavorDiskSmallerThanMinDisk(exception.Invalid):
    msg_fmt = ("Flavor's disk is too small for requested image. Flavor disk is "
               "%(flavor_size)i bytes, minimum size is %(image_min_disk)i bytes.")


class FlavorMemoryTooSmall(exception.Invalid):
    msg_fmt = "Flavor's memory is too small for requested image."


class BootFromVolumeRequiredForZeroDiskFlavor(exception.Forbidden):
    msg_fmt = "Only volume-backed servers are allowed for flavors with zero disk."


class MetadataLimitExceeded(exception.OverQuota):
    msg_fmt = "Maximum number of metadata items exceeds %(allowed)d"


class OnsetFileLimitExceeded(exception.OverQuota):
    msg_fmt = "Personality file limit exceeded"


class OnsetFilePathLimitExceeded(exception.OverQuota):
    msg_fmt = "Personality file path exceeds maximum %(allowed)s"


class OnsetFileContentLimitExceeded(exception.OverQuota):
    msg_fmt = "Personality file content exceeds maximum %(allowed)s"


class InvalidBDM(exception.Invalid):
    msg_fmt = "Block Device Mapping is Invalid: %(details)s"


class InstanceNotReady(exception.Conflict):
    msg_fmt = "Instance %(instance_id)s is not ready"


class CannotResizeToSameFlavor(exception.Invalid):
    msg_fmt = "When resizing, instances must change flavor!"


class CannotResizeDisk(exception.Invalid):
    msg_fmt = "Server disk was unable to be resized because: %(reason)s"


class InstanceNotResized(exception.Invalid):
    msg_fmt = "Instance has not been resized."


class SetAdminPasswordNotSupported(exception.NotImplementedYet):
    msg_fmt = "Unable to set password on instance"


class ServerActionNotSupported(exception.Invalid):
    msg_fmt = "The '%(action)s' action is not supported by this cloud yet."


class ComputeServiceUnavailable(exception.ServiceUnavailable):
    msg_fmt = "Compute service of %(host)s is unavailable at this time."


class TooManyInstanceTags(exception.Invalid):
    msg_fmt = "The number of tags exceeded the per-server limit %(limit)d"


class ConsoleTypeInvalid(exception.Invalid):
    msg_fmt = "Invalid console type %(console_type)s"


class ConsoleProtocolInvalid(exception.Invalid):
    msg_fmt = "Invalid console protocol %(protocol)s"


class ConsoleTypeUnavailableForServer(exception.Invalid):
    msg_fmt = "Unavailable console type %(console_type)s."


# -- rescue and volumes made at boot (server_rescue.py, server_bdm.py, node/) --------


class InstanceNotRescuable(exception.Invalid):
    msg_fmt = "Instance %(instance_id)s cannot be rescued: %(reason)s"


class UnsupportedRescueImage(exception.Invalid):
    msg_fmt = "Requested rescue image '%(image)s' is not supported"


class VolumeSmallerThanMinDisk(exception.Invalid):
    msg_fmt = ("Volume is smaller than the minimum size specified in image metadata. "
               "Volume size is %(volume_size)i bytes, minimum size is "
               "%(image_min_disk)i bytes.")


class SnapshotNotFound(exception.NotFound):
    msg_fmt = "Snapshot %(snapshot_id)s could not be found."


class VolumeLimitExceeded(exception.OverQuota):
    msg_fmt = "Volume resource quota exceeded: %(reason)s"


class VolumeNotCreated(exception.Error):
    msg_fmt = ("Volume %(volume_id)s did not finish being created even after we waited "
               "%(seconds)s seconds or %(attempts)s attempts. And its status is "
               "%(volume_status)s.")
