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
