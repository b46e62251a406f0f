"""Network errors, named as Neutron names them: the class name is the ``type``
of the ``NeutronError`` body the fault filter renders."""
from __future__ import annotations

from common import exception


class NeutronNotFound(exception.NotFound):
    msg_fmt = "The resource could not be found."


class BadRequest(exception.Invalid):
    msg_fmt = "Bad %(resource)s request: %(msg)s."


class InvalidInput(exception.Invalid):
    msg_fmt = "Invalid input for operation: %(error_message)s."


class InvalidIpForSubnet(exception.Invalid):
    msg_fmt = "IP address %(ip_address)s is not a valid IP for the specified subnet."


class InvalidAllocationPool(exception.Invalid):
    msg_fmt = "The allocation pool %(pool)s is not valid."


class OverlappingAllocationPools(exception.Conflict):
    msg_fmt = ("Found overlapping allocation pools: %(pool_1)s %(pool_2)s for subnet "
               "%(subnet_cidr)s.")


class GatewayConflictWithAllocationPools(exception.Conflict):
    msg_fmt = "Gateway ip %(ip_address)s conflicts with allocation pool %(pool)s."


class HTTPForbidden(exception.Forbidden):
    msg_fmt = "%(msg)s"


class NetworkNotFound(NeutronNotFound):
    msg_fmt = "Network %(net_id)s could not be found."


class SubnetNotFound(NeutronNotFound):
    msg_fmt = "Subnet %(subnet_id)s could not be found."


class SubnetPoolNotFound(NeutronNotFound):
    msg_fmt = "Subnet pool %(subnetpool_id)s could not be found."


class PortNotFound(NeutronNotFound):
    msg_fmt = "Port %(port_id)s could not be found."


class RouterNotFound(NeutronNotFound):
    msg_fmt = "Router %(router_id)s could not be found."


class FloatingIPNotFound(NeutronNotFound):
    msg_fmt = "Floating IP %(floatingip_id)s could not be found."


class SecurityGroupNotFound(NeutronNotFound):
    msg_fmt = "Security group %(id)s does not exist."


class SecurityGroupRuleNotFound(NeutronNotFound):
    msg_fmt = "Security group rule %(id)s does not exist."


class AgentNotFound(NeutronNotFound):
    msg_fmt = "Agent %(id)s could not be found."


class InvalidDHCPAgent(AgentNotFound):
    msg_fmt = "Agent %(id)s is not a valid DHCP Agent or has been disabled."


class InvalidL3Agent(AgentNotFound):
    msg_fmt = "Agent %(id)s is not a L3 Agent or has been disabled."


class ExtensionNotFound(NeutronNotFound):
    msg_fmt = "Extension with alias %(alias)s does not exist."


class RouterInterfaceNotFound(NeutronNotFound):
    msg_fmt = "Router %(router_id)s does not have an interface with id %(port_id)s."


class RouterInterfaceNotFoundForSubnet(NeutronNotFound):
    msg_fmt = "Router %(router_id)s has no interface on subnet %(subnet_id)s."


class ExternalGatewayForFloatingIPNotFound(NeutronNotFound):
    msg_fmt = ("External network %(external_network_id)s is not reachable from subnet "
               "%(subnet_id)s. Therefore, cannot associate Port %(port_id)s with a "
               "Floating IP.")


class NetworkInUse(exception.Conflict):
    msg_fmt = ("Unable to complete operation on network %(net_id)s. There are one or "
               "more ports still in use on the network.")


class SubnetInUse(exception.Conflict):
    msg_fmt = ("Unable to complete operation on subnet %(subnet_id)s: One or more ports "
               "have an IP allocation from this subnet.")


class SubnetPoolInUse(exception.Conflict):
    msg_fmt = "Unable to complete operation on subnet pool %(subnetpool_id)s: in use."


class PortInUse(exception.Conflict):
    msg_fmt = ("Unable to complete operation on port %(port_id)s for network %(net_id)s. "
               "Port already has an attached device %(device_id)s.")


class IpAddressInUse(exception.Conflict):
    msg_fmt = ("Unable to complete operation for network %(net_id)s. The IP address "
               "%(ip_address)s is in use.")


class MacAddressInUse(exception.Conflict):
    msg_fmt = ("Unable to complete operation for network %(net_id)s. The mac address "
               "%(mac)s is in use.")


class ResourceChanged(exception.Conflict):
    """A write found its row changed since it was read; ``retry_db`` runs the request
    again, and only a row changing under every attempt reaches the caller."""
    msg_fmt = ("The %(resource)s %(id)s was changed by other requests while this one "
               "ran; retry it.")


class IpAddressGenerationFailure(exception.Conflict):
    msg_fmt = "No more IP addresses available on network %(net_id)s."


class SubnetAllocationError(exception.Conflict):
    msg_fmt = "Failed to allocate subnet: %(reason)s."


class NoNetworkAvailable(exception.Error):
    msg_fmt = "Unable to create the network. No tenant network is available for allocation."
    code, title, safe = 503, "Service Unavailable", True


class SegmentationIdInUse(exception.Conflict):
    msg_fmt = ("Unable to create the network. The %(network_type)s segmentation id "
               "%(segmentation_id)s is in use.")


class OverQuota(exception.Conflict):
    msg_fmt = "Quota exceeded for resources: %(overs)s."


class SecurityGroupRuleExists(exception.Conflict):
    msg_fmt = "Security group rule already exists. Rule id is %(rule_id)s."


class SecurityGroupInUse(exception.Conflict):
    msg_fmt = "Security Group %(id)s %(reason)s."


class SecurityGroupCannotRemoveDefault(exception.Conflict):
    msg_fmt = "Insufficient rights for removing default security group."


class RouterInUse(exception.Conflict):
    msg_fmt = "Router %(router_id)s %(reason)s"


class RouterInterfaceInUseByFloatingIP(exception.Conflict):
    msg_fmt = ("Router interface for subnet %(subnet_id)s on router %(router_id)s cannot "
               "be deleted, as it is required by one or more floating IPs.")


class FloatingIPPortAlreadyAssociated(exception.Conflict):
    msg_fmt = ("Cannot associate floating IP %(floating_ip_address)s (%(fip_id)s) with "
               "port %(port_id)s using fixed IP %(fixed_ip)s, as that fixed IP already "
               "has a floating IP on external network %(net_id)s.")


class PreconditionFailed(exception.Error):
    msg_fmt = "Constraint not met: %(detail)s"
    code, title, safe = 412, "Precondition Failed", True


class HTTPNotImplemented(exception.NotImplementedYet):
    msg_fmt = "%(msg)s"


class SecurityGroupInvalidPortRange(exception.Invalid):
    msg_fmt = "For TCP/UDP protocols, port_range_min must be <= port_range_max"


class SecurityGroupInvalidPortValue(exception.Invalid):
    msg_fmt = "Invalid value for port %(port)s"


class SecurityGroupInvalidIcmpValue(exception.Invalid):
    msg_fmt = "Invalid value for ICMP %(field)s (%(attr)s) %(value)s. It must be 0 to 255."


class SecurityGroupMissingIcmpType(exception.Invalid):
    msg_fmt = "ICMP code (port-range-max) %(value)s is provided but ICMP type " \
              "(port-range-min) is missing."


class SecurityGroupProtocolRequiredWithPorts(exception.Invalid):
    msg_fmt = "Must also specify protocol if port range is given."


class SecurityGroupRuleInvalidProtocol(exception.Invalid):
    msg_fmt = "Security group rule protocol %(protocol)s not supported. Only protocol " \
              "values %(values)s and integer representations [0 to 255] are supported."


class SecurityGroupRemoteGroupAndRemoteIpPrefix(exception.Invalid):
    msg_fmt = "Only remote_ip_prefix or remote_group_id may be provided."


class SecurityGroupRuleParameterConflict(exception.Invalid):
    msg_fmt = "Conflicting value ethertype %(ethertype)s for CIDR %(cidr)s"


class SecurityGroupDefaultAlreadyExists(exception.Conflict):
    msg_fmt = "Default security group already exists."


class HTTPBadRequest(exception.Invalid):
    msg_fmt = "%(msg)s"


class NetworkHostedByDHCPAgent(exception.Conflict):
    msg_fmt = ("The network %(network_id)s has been already hosted by the DHCP Agent "
               "%(agent_id)s.")


class NetworkNotHostedByDhcpAgent(exception.Conflict):
    msg_fmt = "The network %(network_id)s is not hosted by the DHCP agent %(agent_id)s."


class RouterHostedByL3Agent(exception.Conflict):
    msg_fmt = ("The router %(router_id)s has been already hosted by the L3 Agent "
               "%(agent_id)s.")


class RouterNotHostedByL3Agent(exception.Conflict):
    msg_fmt = "The router %(router_id)s is not hosted by L3 agent %(agent_id)s."
