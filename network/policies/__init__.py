"""Network policy defaults, in code (Neutron's defaults: admin, owner, network
owner, shared and external networks; provider:* and binding:* are admin-only).

Visibility is enforced twice: the plugin only loads what a project may see,
and ``get_<resource>`` rules gate what is shown.
"""
from __future__ import annotations

from oslo_policy import policy

ADMIN = "rule:admin_required"
ADMIN_OR_SERVICE = "rule:admin_required or rule:service_role"
_MEMBER = "role:member"
_READER = "(role:reader or role:member)"
# Writes need the member role in the owning project, reads the reader role.
OWNER = "rule:admin_required or (%s and project_id:%%(project_id)s)" % _MEMBER
OWNER_READ = "rule:admin_required or (%s and project_id:%%(project_id)s)" % _READER
NET_OWNER = "rule:admin_required or (%s and project_id:%%(network.project_id)s)" % _MEMBER
NET_OWNER_READ = ("rule:admin_required or (%s and project_id:%%(network.project_id)s)"
                  % _READER)
OWNER_OR_NET_OWNER = OWNER + " or " + NET_OWNER
READ_OWNER_OR_NET_OWNER = OWNER_READ + " or " + NET_OWNER_READ
SHARED = "(%s and 'True':%%(shared)s)" % _READER
EXTERNAL = "(%s and 'True':%%(router:external)s)" % _READER
NET_SHARED = "(%s and 'True':%%(network.shared)s)" % _READER
MEMBER_ON_SHARED = "(%s and 'True':%%(network.shared)s)" % _MEMBER
ANY = "@"


def _rule(name: str, check: str, description: str, method: str,
          path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{"method": method, "path": path}])


def _crud(singular: str, path: str, create: str, get: str, update: str,
          delete: str) -> list[policy.RuleDefault]:
    return [
        _rule("create_" + singular, create, "Create a %s." % singular, "POST", path),
        _rule("get_" + singular, get, "Show or list %ss." % singular, "GET", path),
        _rule("update_" + singular, update, "Update a %s." % singular, "PUT",
              path + "/{id}"),
        _rule("delete_" + singular, delete, "Delete a %s." % singular, "DELETE",
              path + "/{id}"),
    ]


def _attrs(singular: str, path: str, names: dict[str, str],
           actions: tuple[str, ...] = ("create", "get", "update")) -> list[policy.RuleDefault]:
    method = {"create": "POST", "get": "GET", "update": "PUT"}
    return [_rule("%s_%s:%s" % (action, singular, name), check,
                  "%s the %s attribute of a %s." % (action.capitalize(), name, singular),
                  method[action], path)
            for name, check in names.items() for action in actions]


def list_rules() -> list[policy.RuleDefault]:
    provider = {"provider:network_type": ADMIN, "provider:physical_network": ADMIN,
                "provider:segmentation_id": ADMIN}
    binding = {"binding:host_id": ADMIN_OR_SERVICE, "binding:profile": ADMIN_OR_SERVICE,
               "binding:vif_type": ADMIN_OR_SERVICE, "binding:vif_details": ADMIN_OR_SERVICE,
               "binding:vnic_type": READ_OWNER_OR_NET_OWNER}
    rules: list[policy.RuleDefault] = [
        *_crud("network", "/v2.0/networks", OWNER,
               OWNER_READ + " or " + SHARED + " or " + EXTERNAL, OWNER, OWNER),
        *_attrs("network", "/v2.0/networks", provider),
        *_attrs("network", "/v2.0/networks", {"shared": ADMIN, "router:external": ADMIN},
                ("create", "update")),
        _rule("get_network:shared", ANY, "Show the shared attribute.", "GET",
              "/v2.0/networks"),
        _rule("get_network:router:external", ANY, "Show router:external.", "GET",
              "/v2.0/networks"),
        *_crud("subnet", "/v2.0/subnets", NET_OWNER,
               READ_OWNER_OR_NET_OWNER + " or " + NET_SHARED, OWNER_OR_NET_OWNER,
               OWNER_OR_NET_OWNER),
        *_crud("subnetpool", "/v2.0/subnetpools", OWNER, OWNER_READ + " or " + SHARED,
               OWNER, OWNER),
        *_attrs("subnetpool", "/v2.0/subnetpools", {"shared": ADMIN, "is_default": ADMIN},
                ("create", "update")),
        _rule("get_subnetpool:shared", ANY, "Show shared.", "GET", "/v2.0/subnetpools"),
        _rule("get_subnetpool:is_default", ANY, "Show is_default.", "GET",
              "/v2.0/subnetpools"),
        *_crud("port", "/v2.0/ports", OWNER_OR_NET_OWNER + " or " + MEMBER_ON_SHARED,
               READ_OWNER_OR_NET_OWNER, OWNER_OR_NET_OWNER, OWNER_OR_NET_OWNER),
        *_attrs("port", "/v2.0/ports", binding),
        *_attrs("port", "/v2.0/ports",
                {"mac_address": NET_OWNER, "fixed_ips:ip_address": NET_OWNER,
                 "device_owner:network": NET_OWNER,
                 "port_security_enabled": OWNER_OR_NET_OWNER},
                ("create", "update")),
        *_attrs("port", "/v2.0/ports",
                {"mac_address": ANY, "fixed_ips": ANY, "device_owner": ANY,
                 "port_security_enabled": ANY}, ("get",)),
        _rule("create_port:fixed_ips", ANY, "Set fixed IPs by subnet.", "POST",
              "/v2.0/ports"),
        _rule("update_port:fixed_ips", ANY, "Set fixed IPs by subnet.", "PUT",
              "/v2.0/ports/{id}"),
        _rule("create_port:device_owner", ANY, "Set device_owner.", "POST", "/v2.0/ports"),
        _rule("update_port:device_owner", ANY, "Set device_owner.", "PUT",
              "/v2.0/ports/{id}"),
        *_crud("security_group", "/v2.0/security-groups", OWNER, OWNER_READ, OWNER, OWNER),
        *_crud("security_group_rule", "/v2.0/security-group-rules", OWNER, OWNER_READ,
               OWNER, OWNER),
        *_crud("router", "/v2.0/routers", OWNER, OWNER_READ, OWNER, OWNER),
        *_attrs("router", "/v2.0/routers", {"external_gateway_info": OWNER}, ("create",
                                                                               "update")),
        _rule("get_router:external_gateway_info", OWNER_READ, "Show the gateway.", "GET",
              "/v2.0/routers"),
        *_attrs("router", "/v2.0/routers",
                {"external_gateway_info:enable_snat": ADMIN,
                 "external_gateway_info:external_fixed_ips": ADMIN},
                ("create", "update")),
        _rule("add_router_interface", OWNER, "Attach a subnet or port to a router.", "PUT",
              "/v2.0/routers/{id}/add_router_interface"),
        _rule("remove_router_interface", OWNER, "Detach a subnet or port from a router.",
              "PUT", "/v2.0/routers/{id}/remove_router_interface"),
        *_crud("floatingip", "/v2.0/floatingips", OWNER, OWNER_READ, OWNER, OWNER),
        *_attrs("floatingip", "/v2.0/floatingips", {"floating_ip_address": ADMIN},
                ("create",)),
        _rule("get_floatingip:floating_ip_address", ANY, "Show the address.", "GET",
              "/v2.0/floatingips"),
        *_crud("agent", "/v2.0/agents", ADMIN, ADMIN, ADMIN, ADMIN),
        _rule("get_dhcp-networks", ADMIN, "Networks hosted by a DHCP agent.", "GET",
              "/v2.0/agents/{id}/dhcp-networks"),
        _rule("get_l3-routers", ADMIN, "Routers hosted by an L3 agent.", "GET",
              "/v2.0/agents/{id}/l3-routers"),
        _rule("create_dhcp-network", ADMIN, "Add a network to a DHCP agent.", "POST",
              "/v2.0/agents/{id}/dhcp-networks"),
        _rule("delete_dhcp-network", ADMIN, "Remove a network from a DHCP agent.",
              "DELETE", "/v2.0/agents/{id}/dhcp-networks/{network_id}"),
        _rule("create_l3-router", ADMIN, "Add a router to an L3 agent.", "POST",
              "/v2.0/agents/{id}/l3-routers"),
        _rule("delete_l3-router", ADMIN, "Remove a router from an L3 agent.", "DELETE",
              "/v2.0/agents/{id}/l3-routers/{router_id}"),
        _rule("get_dhcp-agents", ADMIN, "DHCP agents hosting a network.", "GET",
              "/v2.0/networks/{id}/dhcp-agents"),
        _rule("get_l3-agents", ADMIN, "L3 agents hosting a router.", "GET",
              "/v2.0/routers/{id}/l3-agents"),
        _rule("get_quota", OWNER_READ, "Show a project's quotas.", "GET",
              "/v2.0/quotas/{project_id}"),
        _rule("get_quotas", ADMIN, "List projects with quotas.", "GET", "/v2.0/quotas"),
        _rule("update_quota", ADMIN, "Set a project's quotas.", "PUT",
              "/v2.0/quotas/{project_id}"),
        _rule("delete_quota", ADMIN, "Reset a project's quotas.", "DELETE",
              "/v2.0/quotas/{project_id}"),
        _rule("update_tags", OWNER, "Set the tags of a resource.", "PUT",
              "/v2.0/{resources}/{id}/tags"),
    ]
    return rules
