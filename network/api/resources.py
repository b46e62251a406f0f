"""The resource attribute map: what each collection accepts and shows."""
from __future__ import annotations

from network.api import attributes as a
from network.api.attributes import Attr

_NAME = Attr(True, True, "", validate=a.string(255))
_DESC = Attr(True, True, "", validate=a.string(255))
_ID = Attr(False, False, validate=a.uuid)
_PROJECT = Attr(True, False, validate=a.string(255), required_by_policy=True)
_RO = Attr(False, False)
_BOOL_TRUE = Attr(True, True, True, convert=a.to_boolean)
_TAGS = Attr(False, False, is_filter=True)

STANDARD: dict[str, Attr] = {
    "id": _ID, "project_id": _PROJECT, "tenant_id": _PROJECT, "description": _DESC,
    "created_at": _RO, "updated_at": _RO, "revision_number": _RO, "tags": _TAGS,
}

_FIXED_IP = a.dict_with({"subnet_id": a.uuid, "ip_address": a.ip_address})
_PAIR = a.dict_with({"ip_address": a.ip_or_cidr, "mac_address": a.mac_address},
                    required=("ip_address",))
_DHCP_OPT = a.dict_with({"opt_name": a.string(64), "opt_value": a.string_or_none(255),
                         "ip_version": a.values([4, 6, "4", "6"])},
                        required=("opt_name",))
_POOL = a.dict_with({"start": a.ip_address, "end": a.ip_address},
                    required=("start", "end"))
_ROUTE = a.dict_with({"destination": a.subnet_cidr, "nexthop": a.ip_address},
                     required=("destination", "nexthop"))
_GW_INFO = a.dict_with({"network_id": a.uuid, "enable_snat": a.boolean,
                        "external_fixed_ips": a.list_of(_FIXED_IP)},
                       required=("network_id",))
_IPV6_MODES = ["dhcpv6-stateful", "dhcpv6-stateless", "slaac"]

RESOURCES: dict[str, dict[str, Attr]] = {
    "networks": {
        **STANDARD,
        "name": _NAME,
        "subnets": _RO,
        "admin_state_up": _BOOL_TRUE,
        "status": _RO,
        "shared": Attr(True, True, False, convert=a.to_boolean, enforce_policy=True),
        "router:external": Attr(True, True, False, convert=a.to_boolean,
                                enforce_policy=True),
        "mtu": Attr(True, True, 0, convert=a.to_int, validate=a.int_range(0, 65535)),
        "port_security_enabled": _BOOL_TRUE,
        "provider:network_type": Attr(True, False, None, validate=a.string_or_none(32),
                                      enforce_policy=True),
        "provider:physical_network": Attr(True, False, None,
                                          validate=a.string_or_none(64),
                                          enforce_policy=True),
        "provider:segmentation_id": Attr(True, False, None, convert=a.to_int_or_none,
                                         enforce_policy=True),
        "availability_zone_hints": Attr(True, False, [], validate=a.list_of(a.string(255))),
        "availability_zones": _RO,
        "ipv4_address_scope": _RO,
        "ipv6_address_scope": _RO,
    },
    "subnets": {
        **STANDARD,
        "name": _NAME,
        "network_id": Attr(True, False, validate=a.uuid, required_by_policy=True),
        "ip_version": Attr(True, False, convert=a.to_int, validate=a.values([4, 6])),
        "cidr": Attr(True, False, None, validate=a.subnet_cidr_or_none),
        "prefixlen": Attr(True, False, None, convert=a.to_int_or_none, is_visible=False),
        "subnetpool_id": Attr(True, False, None, validate=a.uuid_or_none),
        "use_default_subnetpool": Attr(True, False, False, convert=a.to_boolean,
                                       is_visible=False),
        "gateway_ip": Attr(True, True, a.OPTIONAL, validate=a.ip_address_or_none),
        "allocation_pools": Attr(True, True, None, validate=a.list_of(_POOL)),
        "dns_nameservers": Attr(True, True, None, convert=a.none_to_empty_list,
                                validate=a.unique_list_of(a.ip_address)),
        "host_routes": Attr(True, True, None, convert=a.none_to_empty_list,
                            validate=a.list_of(_ROUTE)),
        "enable_dhcp": _BOOL_TRUE,
        "ipv6_ra_mode": Attr(True, False, None, validate=a.values_or_none(_IPV6_MODES)),
        "ipv6_address_mode": Attr(True, False, None,
                                  validate=a.values_or_none(_IPV6_MODES)),
    },
    "subnetpools": {
        **STANDARD,
        "name": _NAME,
        "prefixes": Attr(True, True, validate=a.list_of(a.subnet_cidr)),
        "default_prefixlen": Attr(True, True, None, convert=a.to_int_or_none),
        "min_prefixlen": Attr(True, True, None, convert=a.to_int_or_none),
        "max_prefixlen": Attr(True, True, None, convert=a.to_int_or_none),
        "default_quota": Attr(True, True, None, convert=a.to_int_or_none),
        "ip_version": _RO,
        "shared": Attr(True, False, False, convert=a.to_boolean, enforce_policy=True),
        "is_default": Attr(True, True, False, convert=a.to_boolean, enforce_policy=True),
        "address_scope_id": Attr(True, True, None, validate=a.uuid_or_none),
    },
    "ports": {
        **STANDARD,
        "name": _NAME,
        "network_id": Attr(True, False, validate=a.uuid, required_by_policy=True),
        "admin_state_up": _BOOL_TRUE,
        "mac_address": Attr(True, True, None, validate=a.mac_address,
                            enforce_policy=True),
        "fixed_ips": Attr(True, True, None, convert=a.none_to_empty_list,
                          validate=a.list_of(_FIXED_IP), enforce_policy=True),
        "device_id": Attr(True, True, "", validate=a.string(255)),
        "device_owner": Attr(True, True, "", validate=a.string(255), enforce_policy=True),
        "status": _RO,
        "security_groups": Attr(True, True, None, convert=a.none_to_empty_list,
                                validate=a.uuid_list),
        "port_security_enabled": Attr(True, True, None, convert=a.to_boolean,
                                      enforce_policy=True),
        "allowed_address_pairs": Attr(True, True, None, convert=a.none_to_empty_list,
                                      validate=a.list_of(_PAIR)),
        "extra_dhcp_opts": Attr(True, True, None, convert=a.none_to_empty_list,
                                validate=a.list_of(_DHCP_OPT)),
        "binding:host_id": Attr(True, True, "", validate=a.string_or_none(255),
                                enforce_policy=True),
        "binding:vif_type": Attr(False, False, enforce_policy=True),
        "binding:vif_details": Attr(False, False, enforce_policy=True),
        "binding:profile": Attr(True, True, None, convert=a.none_to_empty_dict,
                                validate=a.any_dict, enforce_policy=True),
        "binding:vnic_type": Attr(True, True, "normal", enforce_policy=True,
                                  validate=a.values(["normal", "direct", "macvtap",
                                                     "baremetal", "direct-physical",
                                                     "virtio-forwarder", "smart-nic",
                                                     "remote-managed"])),
    },
    "security_groups": {
        **STANDARD,
        "name": Attr(True, True, "", validate=a.string(255)),
        "stateful": Attr(True, True, True, convert=a.to_boolean),
        "security_group_rules": _RO,
    },
    "security_group_rules": {
        **STANDARD,
        "description": Attr(True, False, "", validate=a.string(255)),
        # Neutron does not check these are UUIDs: an unknown id is a 404.
        "security_group_id": Attr(True, False, validate=a.string(255),
                                  required_by_policy=True),
        "remote_group_id": Attr(True, False, None, validate=a.string_or_none(255)),
        "direction": Attr(True, False, validate=a.values(["ingress", "egress"])),
        "protocol": Attr(True, False, None, convert=a.to_protocol),
        "port_range_min": Attr(True, False, None, convert=a.to_int_or_none),
        "port_range_max": Attr(True, False, None, convert=a.to_int_or_none),
        "ethertype": Attr(True, False, "IPv4", convert=a.to_upper_ethertype,
                          validate=a.values(["IPv4", "IPv6"])),
        "remote_ip_prefix": Attr(True, False, None, validate=a.ip_or_cidr_or_none),
    },
    "routers": {
        **STANDARD,
        "name": _NAME,
        "admin_state_up": _BOOL_TRUE,
        "status": _RO,
        "external_gateway_info": Attr(True, True, None, enforce_policy=True,
                                      validate=lambda v: None if v is None or v == {}
                                      else _GW_INFO(v)),
        "routes": Attr(False, True, None, convert=a.none_to_empty_list,
                       validate=a.list_of(_ROUTE)),
    },
    "floatingips": {
        **STANDARD,
        "floating_ip_address": Attr(True, False, None, validate=a.ip_address_or_none,
                                    enforce_policy=True),
        "subnet_id": Attr(True, False, None, validate=a.uuid_or_none, is_visible=False),
        "floating_network_id": Attr(True, False, validate=a.uuid),
        "router_id": _RO,
        "port_id": Attr(True, True, None, validate=a.uuid_or_none, required_by_policy=True),
        "fixed_ip_address": Attr(True, True, None, validate=a.ip_address_or_none),
        "status": _RO,
    },
}

# Singular names of the collections (the request/response body keys).
SINGULAR = {"networks": "network", "subnets": "subnet", "subnetpools": "subnetpool",
            "ports": "port", "security_groups": "security_group",
            "security_group_rules": "security_group_rule", "routers": "router",
            "floatingips": "floatingip"}
