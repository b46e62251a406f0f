"""An instance's ports, as Nova's network API manages them for the compute node.

:func:`validate_networks` checks a server create request's networks before the
API accepts it; :func:`allocate_for_instance` creates (or adopts) the ports and
binds them to the host; :func:`deallocate_for_instance` undoes that;
:func:`get_instance_nw_info` rebuilds the ``network_info`` from the ports, and
:func:`addresses` renders it as a server's ``addresses``.

``network_info`` is Nova's shape, JSON-serialisable: a list with one VIF dict
per port, in the order the networks were requested::

    {"id": port_id, "address": mac, "type": "bridge", "devname": "tap" + port_id[:11],
     "active": status == "ACTIVE", "preserve_on_delete": bool, "vnic_type": "normal",
     "tag": device tag (only when the request tagged the network or port, 2.32),
     "details": binding:vif_details, "profile": binding:profile, "meta": {},
     "network": {"id", "label": name, "bridge": "brq" + network_id[:11], "mtu",
                 "injected": False, "meta": {"tenant_id", "mtu"},
                 "subnets": [{"cidr", "version",
                              "gateway": {"address", "type": "gateway", "version", "meta"},
                              "dns": [{"address", "type": "dns", "version", "meta"}],
                              "routes": [{"cidr", "gateway": {...}, "interface": None,
                                          "meta": {}}],
                              "ips": [{"address", "type": "fixed", "version", "meta": {},
                                       "floating_ips": [{"address", "type": "floating",
                                                         "version", "meta": {}}]}],
                              "meta": {"dhcp_server": address}}]}}

Only the subnets the port has addresses on are listed; ``meta.dhcp_server`` is
there when the subnet has DHCP and a DHCP port. Ports are created and bound in
one request with the compute service's own credentials (``binding:*`` is
admin-or-service in the network policy) and the instance's ``project_id``, as
Nova does with its admin client, once the user's right to the network was
checked; a port with a requested fixed IP (or when the service may not create
it) is created as the user (plus the service token) and then bound.
network_info is built with the service's credentials.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from compute import exception
from compute.clients import network as neutron

LOG = logging.getLogger(__name__)
DEFAULT_AZ = "nova"
DEFAULT_VIF_TYPE = "bridge"
DEFAULT_SECGROUP = "default"
AUTO = "auto"
NONE = "none"

Requested = list[dict[str, Any]] | str | None
NetworkInfo = list[dict[str, Any]]


# -- requests ------------------------------------------------------------------------


def _normalize(requested: Requested) -> list[dict[str, Any]] | str:
    """``"auto"``, ``"none"`` or the list of ``{"uuid"} | {"port"} | {"uuid", "fixed_ip"}``.

    ``None`` and an empty list mean ``"auto"`` (what Nova does before 2.37).
    """
    if requested is None or requested == [] or requested == AUTO:
        return AUTO
    if requested == NONE:
        return NONE
    if isinstance(requested, str):
        raise exception.NetworkBadRequest(
            reason="networks must be a list, 'auto' or 'none', not %r" % requested)
    out = []
    for item in requested:
        if not isinstance(item, dict) or not (item.get("uuid") or item.get("port")):
            raise exception.NetworkBadRequest(
                reason="each requested network needs a network uuid or a port: %r" % (item,))
        out.append(dict(item))
    return out


def _project(ctxt: Any, instance: dict[str, Any] | None = None) -> str:
    project = (instance or {}).get("project_id") or getattr(ctxt, "project_id", None)
    return str(project or "")


def _available_networks(conf: cfg.ConfigOpts, ctxt: Any,
                        project_id: str) -> list[dict[str, Any]]:
    """The project's own networks and the shared ones (Nova's auto choice)."""
    own = neutron.list_networks(conf, ctxt, {"project_id": project_id, "shared": False})
    shared = neutron.list_networks(conf, ctxt, {"shared": True})
    found: dict[str, dict[str, Any]] = {}
    for net in own + shared:
        found.setdefault(net["id"], net)
    return list(found.values())


def _auto_network(conf: cfg.ConfigOpts, ctxt: Any, project_id: str) -> list[dict[str, Any]]:
    """The one usable network (or none); more than one is ambiguous (409)."""
    nets = _available_networks(conf, ctxt, project_id)
    if len(nets) > 1:
        raise exception.NetworkAmbiguous()
    return nets


def _requested_network(conf: cfg.ConfigOpts, ctxt: Any, network_id: str) -> dict[str, Any]:
    """A requested network the instance may have a port on (the user's view of it,
    kept a few seconds: the API's check and the node's allocation ask once).

    :raises: RequestedNetworkNotFound (400), NetworkRequiresSubnet (400),
        ExternalNetworkAttachForbidden (403).
    """
    try:
        net = neutron.get_network_cached(conf, ctxt, network_id)
    except exception.NetworkNotFound as err:
        raise exception.RequestedNetworkNotFound(network_id=network_id) from err
    if not net.get("subnets"):
        raise exception.NetworkRequiresSubnet(network_uuid=network_id)
    if net.get("router:external") and not net.get("shared") and \
            not getattr(ctxt, "is_admin", False):
        raise exception.ExternalNetworkAttachForbidden(network_uuid=network_id)
    return net


def _requested_port(conf: cfg.ConfigOpts, ctxt: Any, port_id: str,
                    instance_uuid: str | None = None) -> dict[str, Any]:
    """A requested port the instance may adopt.

    :raises: RequestedPortNotFound (400), PortInUse (409), PortRequiresFixedIP (400).
    """
    try:
        port = neutron.get_port(conf, ctxt, port_id)
    except exception.PortNotFound as err:
        raise exception.RequestedPortNotFound(port_id=port_id) from err
    if port.get("device_id") and port["device_id"] != instance_uuid:
        raise exception.PortInUse(port_id=port_id)
    if not port.get("fixed_ips"):
        raise exception.PortRequiresFixedIP(port_id=port_id)
    return port


def _check_fixed_ip(conf: cfg.ConfigOpts, ctxt: Any, network_id: str, address: str) -> None:
    """:raises: InvalidFixedIp (400) unless ``address`` is in one of the network's
    subnets; FixedIpAlreadyInUse (409) when a port (that ``ctxt`` sees) has it."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError as err:
        raise exception.InvalidFixedIp(address=address, network_id=network_id) from err
    subnets = neutron.list_subnets(conf, ctxt, {"network_id": network_id})
    if not any(ip in ipaddress.ip_network(sub["cidr"], strict=False) for sub in subnets
               if sub.get("cidr")):
        raise exception.InvalidFixedIp(address=address, network_id=network_id)
    if neutron.list_ports(conf, ctxt, {"network_id": network_id,
                                       "fixed_ips": "ip_address=%s" % ip}):
        raise exception.FixedIpAlreadyInUse(address=str(ip), network_id=network_id)


def validate_networks(conf: cfg.ConfigOpts, ctxt: Any,
                      requested_networks: Requested) -> list[dict[str, Any]]:
    """Check a server create request's networks, as the API must before accepting it.

    :param requested_networks: ``"auto"``, ``"none"`` (or None/[] for auto), or a
        list of ``{"uuid": net_id}``, ``{"port": port_id}``,
        ``{"uuid": net_id, "fixed_ip": address}``.
    :returns: the requests resolved: ``"auto"`` becomes the one network (or
        nothing), a port request gains its network's ``uuid``.
    :raises: NetworkAmbiguous (409), RequestedNetworkNotFound (400, "Network
        <id> could not be found."), NetworkRequiresSubnet (400),
        ExternalNetworkAttachForbidden (403), RequestedPortNotFound (400),
        PortInUse (409, also a port requested twice), PortRequiresFixedIP (400),
        InvalidFixedIp (400), FixedIpAlreadyInUse (409), NetworkBadRequest
        (400, a malformed request), NetworkServiceUnavailable (503).
    """
    mode = _normalize(requested_networks)
    if mode == NONE:
        return []
    if mode == AUTO:
        return [{"uuid": net["id"]} for net in _auto_network(conf, ctxt, _project(ctxt))]
    assert isinstance(mode, list)
    out: list[dict[str, Any]] = []
    ports: set[str] = set()
    for req in mode:
        if req.get("port"):
            if req["port"] in ports:
                raise exception.PortInUse(port_id=req["port"])
            ports.add(req["port"])
            port = _requested_port(conf, ctxt, req["port"])
            out.append(dict(req, uuid=port["network_id"]))
            continue
        _requested_network(conf, ctxt, req["uuid"])
        if req.get("fixed_ip"):
            _check_fixed_ip(conf, ctxt, req["uuid"], str(req["fixed_ip"]))
        out.append(dict(req))
    return out


def _security_group_ids(conf: cfg.ConfigOpts, ctxt: Any, project_id: str,
                        names: list[str]) -> list[str]:
    """Security group names (or ids) of the project -> ids, as Nova resolves them.

    :raises: RequestedSecurityGroupNotFound (400), SecurityGroupNotUnique (409).
    """
    if not names:
        return []
    groups = neutron.list_security_groups(conf, ctxt, {"project_id": project_id})
    ids = []
    for wanted in names:
        by_name = [g["id"] for g in groups if g.get("name") == wanted]
        if len(by_name) > 1:
            raise exception.SecurityGroupNotUnique(name=wanted)
        if by_name:
            ids.append(by_name[0])
        elif any(g["id"] == wanted for g in groups):
            ids.append(wanted)
        else:
            raise exception.RequestedSecurityGroupNotFound(security_group_id=wanted)
    return list(dict.fromkeys(ids))


# -- allocation ----------------------------------------------------------------------


def _instance_uuid(instance: dict[str, Any]) -> str:
    return str(instance.get("uuid") or instance["id"])


def allocate_for_instance(conf: cfg.ConfigOpts, ctxt: Any, instance: dict[str, Any],
                          requested_networks: Requested, security_groups: list[str],
                          host: str) -> NetworkInfo:
    """Create or adopt the instance's ports, bind them to ``host``; its network_info.

    Created ports get ``device_id`` = the instance's uuid, ``device_owner`` =
    ``compute:<availability zone>`` (``compute:nova`` by default), the
    instance's project and the security groups (names or ids of the project;
    ``["default"]`` alone is left to the network service). Requested ports are
    adopted (``preserve_on_delete``). Binding (``binding:host_id``) uses the
    service's credentials. On any failure, what was done is undone.

    :param instance: ``uuid`` (or ``id``), ``project_id``, ``availability_zone``.
    :param requested_networks: as :func:`validate_networks` takes them.
    :param security_groups: security group names or ids, for created ports.
    :param host: the compute host the ports are bound to.
    :returns: the network_info (see the module docstring), in request order.
    :raises: what :func:`validate_networks` raises, and SecurityGroupCannotBeApplied,
        RequestedSecurityGroupNotFound, SecurityGroupNotUnique, NoMoreFixedIps,
        PortLimitExceeded, PortBindingFailed, NetworkConflict, NetworkForbidden,
        NetworkServiceUnavailable.
    """
    uuid = _instance_uuid(instance)
    project = _project(ctxt, instance)
    owner = "compute:%s" % (instance.get("availability_zone") or DEFAULT_AZ)
    mode = _normalize(requested_networks)
    if mode == NONE:
        return []
    networks: dict[str, dict[str, Any]] = {}
    if mode == AUTO:
        nets = _auto_network(conf, ctxt, project)
        networks = {net["id"]: net for net in nets}
        mode = [{"uuid": net["id"]} for net in nets]
    assert isinstance(mode, list)
    # Check everything before changing anything.
    plan: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    for req in mode:
        if req.get("port"):
            plan.append((req, _requested_port(conf, ctxt, req["port"], uuid)))
        else:
            if req["uuid"] not in networks:
                networks[req["uuid"]] = _requested_network(conf, ctxt, req["uuid"])
            plan.append((req, None))
    groups = [] if security_groups in ([DEFAULT_SECGROUP], None) else list(security_groups)
    group_ids: list[str] = []
    if groups and any(found is None for _, found in plan):
        group_ids = _security_group_ids(conf, ctxt, project, groups)
        for req, found in plan:
            if found is None and not networks[req["uuid"]].get("port_security_enabled", True):
                raise exception.SecurityGroupCannotBeApplied()
    created: list[str] = []
    adopted: list[str] = []
    ports: list[dict[str, Any]] = []
    try:
        for req, existing in plan:
            if existing is not None:
                adopted.append(existing["id"])
                port = neutron.update_port(conf, ctxt, existing["id"], {
                    "device_id": uuid, "device_owner": owner, "binding:host_id": host},
                    admin=True)
            else:
                port = _create_bound_port(conf, ctxt, req, uuid, owner, project, group_ids,
                                          host, created)
            if port.get("binding:vif_type") == "binding_failed":
                raise exception.PortBindingFailed(port_id=port["id"])
            ports.append(port)
        # A port created just now has no floating IP: only adopted ones are looked up.
        info = _build(conf, ctxt, ports, {port_id: True for port_id in adopted}, networks,
                      floating_for=adopted, cached=True)
        for vif, (req, _existing) in zip(info, plan, strict=True):
            if req.get("tag"):
                vif["tag"] = str(req["tag"])
    except Exception:
        LOG.warning("Allocating ports for instance %(uuid)s failed; rolling back "
                    "%(created)s created and %(adopted)s adopted ports",
                    {"uuid": uuid, "created": created, "adopted": adopted})
        _rollback(conf, ctxt, created, adopted)
        raise
    LOG.info("Instance %(uuid)s has ports %(ports)s on %(host)s",
             {"uuid": uuid, "ports": [p["id"] for p in ports], "host": host})
    return info


def _create_port(conf: cfg.ConfigOpts, ctxt: Any, req: dict[str, Any], uuid: str, owner: str,
                 project: str, group_ids: list[str]) -> dict[str, Any]:
    return neutron.create_port(conf, ctxt, _port_body(req, uuid, owner, project, group_ids))


def _create_bound_port(conf: cfg.ConfigOpts, ctxt: Any, req: dict[str, Any], uuid: str,
                       owner: str, project: str, group_ids: list[str], host: str,
                       created: list[str]) -> dict[str, Any]:
    """A new port bound to ``host`` (its id appended to ``created``): in one request as
    the service (the user's right to the network was checked before); as the user
    then bound when a fixed IP is asked for (network-owner only) or on a 403."""
    if project and not req.get("fixed_ip"):
        body = _port_body(req, uuid, owner, project, group_ids)
        body["binding:host_id"] = host
        try:
            port = neutron.create_port(conf, ctxt, body, admin=True)
        except exception.NetworkForbidden as err:
            LOG.debug("Creating a bound port as the service was refused (%s); creating it "
                      "as the user", err)
        else:
            created.append(port["id"])
            return port
    port = _create_port(conf, ctxt, req, uuid, owner, project, group_ids)
    created.append(port["id"])
    return neutron.update_port(conf, ctxt, port["id"], {"binding:host_id": host}, admin=True)


def _port_body(req: dict[str, Any], uuid: str, owner: str, project: str,
               group_ids: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"network_id": req["uuid"], "admin_state_up": True,
                            "device_id": uuid, "device_owner": owner}
    if project:
        body["project_id"] = project
    if group_ids:
        body["security_groups"] = group_ids
    if req.get("fixed_ip"):
        body["fixed_ips"] = [{"ip_address": str(req["fixed_ip"])}]
    return body


def _rollback(conf: cfg.ConfigOpts, ctxt: Any, created: list[str], adopted: list[str]) -> None:
    for port_id, delete in [(p, True) for p in created] + [(p, False) for p in adopted]:
        try:
            if delete:
                neutron.delete_port(conf, ctxt, port_id, admin=True)
            else:
                _unbind(conf, ctxt, port_id)
        except Exception:  # keep undoing the rest; the caller re-raises the first error
            LOG.exception("Could not roll back port %s", port_id)


def _unbind(conf: cfg.ConfigOpts, ctxt: Any, port_id: str) -> None:
    try:
        neutron.update_port(conf, ctxt, port_id, {
            "device_id": "", "device_owner": "", "binding:host_id": None,
            "binding:profile": {}}, admin=True)
    except exception.PortNotFound:
        LOG.debug("Port %s is gone; nothing to unbind", port_id)


def deallocate_for_instance(conf: cfg.ConfigOpts, ctxt: Any, instance_uuid: str,
                            network_info: NetworkInfo | None) -> None:
    """Delete the ports compute created for the instance; unbind and release
    (``device_id`` cleared) the ones the user passed in (``preserve_on_delete``).

    Every port whose ``device_id`` is the instance is handled, not only those in
    ``network_info``; a port already gone or released is skipped, so calling it
    again is harmless.

    :raises: NetworkForbidden, NetworkServiceUnavailable (the rest is still tried
        first), PortInUse when the network service refuses a delete.
    """
    keep = {vif["id"] for vif in network_info or [] if vif.get("preserve_on_delete")}
    ports = neutron.list_ports(conf, ctxt, {"device_id": instance_uuid}, admin=True)
    failure: Exception | None = None
    for port in ports:
        try:
            if port["id"] in keep:
                _unbind(conf, ctxt, port["id"])
            else:
                neutron.delete_port(conf, ctxt, port["id"])
        except Exception as err:
            LOG.warning("Could not release port %(port)s of instance %(uuid)s: %(err)s",
                        {"port": port["id"], "uuid": instance_uuid, "err": err})
            failure = failure or err
    if failure is not None:
        raise failure


def get_instance_nw_info(conf: cfg.ConfigOpts, ctxt: Any, instance_uuid: str,
                         current: NetworkInfo | None = None) -> NetworkInfo:
    """The network_info rebuilt from the ports whose ``device_id`` is the instance.

    :param current: the network_info known so far (the cache): its order and
        ``preserve_on_delete`` flags are kept; new ports come last, oldest first,
        with ``preserve_on_delete`` False (as Nova does).
    :raises: NetworkForbidden, NetworkServiceUnavailable.
    """
    ports = neutron.list_ports(conf, ctxt, {"device_id": instance_uuid}, admin=True)
    order = {vif["id"]: index for index, vif in enumerate(current or [])}
    ports.sort(key=lambda p: (order.get(p["id"], len(order)), p.get("created_at") or "",
                              p["id"]))
    preserve = {vif["id"]: bool(vif.get("preserve_on_delete")) for vif in current or []}
    info = _build(conf, ctxt, ports, preserve, {})
    tags = {vif["id"]: vif["tag"] for vif in current or [] if vif.get("tag")}
    for vif in info:
        if vif["id"] in tags:
            vif["tag"] = tags[vif["id"]]
    return info


# -- the network_info model -------------------------------------------------------------


def _version(address: str) -> int:
    return ipaddress.ip_address(address).version


def _ip(address: str | None, kind: str, **extra: Any) -> dict[str, Any]:
    return {"address": address, "type": kind,
            "version": _version(address) if address else None, "meta": {}, **extra}


def _build(conf: cfg.ConfigOpts, ctxt: Any, ports: list[dict[str, Any]],
           preserve: dict[str, bool], networks: dict[str, dict[str, Any]],
           floating_for: list[str] | None = None, cached: bool = False) -> NetworkInfo:
    """VIF dicts for ``ports`` (with the service's credentials, as Nova's admin client).

    ``floating_for``: the ports whose floating IPs are looked up (default: all).
    ``cached``: subnets and DHCP ports may come from the client's short caches
    (a build: a node's builds on one network ask once a few seconds).
    """
    if not ports:
        return []
    net_ids = list(dict.fromkeys(p["network_id"] for p in ports))
    missing = [n for n in net_ids if n not in networks]
    networks = dict(networks)
    if missing:
        for net in neutron.list_networks(conf, ctxt, {"id": missing}, admin=True):
            networks[net["id"]] = net
    subnet_ids = list(dict.fromkeys(f["subnet_id"] for p in ports
                                    for f in p.get("fixed_ips") or []))
    subnets = {s["id"]: s for s in neutron.get_subnets(
        conf, ctxt, subnet_ids, cached=cached)} if subnet_ids else {}
    floating: dict[tuple[str, str], list[str]] = {}
    with_floating = [p["id"] for p in ports] if floating_for is None else floating_for
    for fip in neutron.list_floating_ips(conf, ctxt, {"port_id": with_floating},
                                         admin=True) if with_floating else []:
        key = (str(fip.get("port_id")), str(fip.get("fixed_ip_address")))
        floating.setdefault(key, []).append(fip["floating_ip_address"])
    dhcp: dict[str, str] = {}
    if any(s.get("enable_dhcp") for s in subnets.values()):
        for port in neutron.list_dhcp_ports(conf, ctxt, net_ids, cached=cached):
            for fixed in port.get("fixed_ips") or []:
                dhcp.setdefault(fixed["subnet_id"], fixed["ip_address"])
    return [_vif(p, preserve.get(p["id"], False), networks.get(p["network_id"]), subnets,
                 floating, dhcp) for p in ports]


def _subnet(subnet: dict[str, Any], ips: list[dict[str, Any]],
            dhcp_server: str | None) -> dict[str, Any]:
    version = int(subnet.get("ip_version") or ipaddress.ip_network(subnet["cidr"]).version)
    return {
        "cidr": subnet["cidr"], "version": version,
        "gateway": _ip(subnet.get("gateway_ip") or None, "gateway"),
        "dns": [_ip(address, "dns") for address in subnet.get("dns_nameservers") or []],
        "routes": [{"cidr": route["destination"], "gateway": _ip(route["nexthop"], "gateway"),
                    "interface": None, "meta": {}}
                   for route in subnet.get("host_routes") or []],
        "ips": ips,
        "meta": {"dhcp_server": dhcp_server} if dhcp_server and subnet.get("enable_dhcp")
        else {},
    }


def _vif(port: dict[str, Any], preserve: bool, network: dict[str, Any] | None,
         subnets: dict[str, dict[str, Any]], floating: dict[tuple[str, str], list[str]],
         dhcp: dict[str, str]) -> dict[str, Any]:
    port_id = port["id"]
    net_id = port["network_id"]
    network = network or {"id": net_id, "name": "", "mtu": None}
    details = port.get("binding:vif_details") or {}
    vif_type = port.get("binding:vif_type")
    if vif_type in (None, "", "unbound", "binding_failed"):
        vif_type = DEFAULT_VIF_TYPE
    by_subnet: dict[str, list[dict[str, Any]]] = {}
    for fixed in port.get("fixed_ips") or []:
        address = fixed["ip_address"]
        fips = [_ip(f, "floating") for f in floating.get((port_id, address), [])]
        by_subnet.setdefault(fixed["subnet_id"], []).append(
            _ip(address, "fixed", floating_ips=fips))
    mtu = network.get("mtu") or None
    return {
        "id": port_id,
        "address": port.get("mac_address"),
        "type": vif_type,
        "devname": "tap" + port_id[:11],
        "active": port.get("status") == "ACTIVE",
        "preserve_on_delete": preserve,
        "vnic_type": port.get("binding:vnic_type") or "normal",
        "details": details,
        "profile": port.get("binding:profile") or {},
        "meta": {},
        "network": {
            "id": net_id,
            "label": network.get("name") or "",
            "bridge": details.get("bridge_name") or "brq" + net_id[:11],
            "mtu": mtu,
            "injected": False,
            "meta": {"tenant_id": network.get("project_id") or network.get("tenant_id"),
                     "mtu": mtu},
            "subnets": [_subnet(subnets[sid], ips, dhcp.get(sid))
                        for sid, ips in by_subnet.items() if sid in subnets],
        },
    }


def addresses(network_info: NetworkInfo | None) -> dict[str, list[dict[str, Any]]]:
    """The server's ``addresses``: per network label, the fixed addresses then the
    floating ones, each ``{"version", "addr", "OS-EXT-IPS:type",
    "OS-EXT-IPS-MAC:mac_addr"}``."""
    fixed: dict[str, list[dict[str, Any]]] = {}
    floating: dict[str, list[dict[str, Any]]] = {}
    for vif in network_info or []:
        label = vif["network"].get("label") or ""
        mac = vif.get("address")
        fixed.setdefault(label, [])
        floating.setdefault(label, [])
        for subnet in vif["network"].get("subnets") or []:
            for ip in subnet.get("ips") or []:
                fixed[label].append(_address_view(ip, "fixed", mac))
                for fip in ip.get("floating_ips") or []:
                    floating[label].append(_address_view(fip, "floating", mac))
    return {label: fixed[label] + floating[label] for label in fixed}


def _address_view(ip: dict[str, Any], kind: str, mac: str | None) -> dict[str, Any]:
    return {"version": ip.get("version") or _version(ip["address"]), "addr": ip["address"],
            "OS-EXT-IPS:type": kind, "OS-EXT-IPS-MAC:mac_addr": mac}
