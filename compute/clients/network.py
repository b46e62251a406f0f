"""The network API (Neutron v2.0), as compute calls it: networks, subnets,
ports, security groups and floating IPs.

Credentials come from ``[neutron]`` (keystoneauth options, as Nova names the
group), the endpoint from the catalog (service type ``network``). Calls go as
the context's user plus the service token; ``admin=True`` (or ``ctxt=None``)
goes with the compute service's own credentials instead, still forwarding the
request id: port binding (``binding:host_id``, ``binding:profile``) is
admin-or-service only in the network service's policy
(``network/policies``), and so is seeing every project's ports.

Errors become compute exceptions: 404 the ``*NotFound`` types, 409 the
conflicts (``PortInUse``, ``FixedIpAlreadyInUse``, ``NoMoreFixedIps``,
``PortLimitExceeded``, else ``NetworkConflict``), 400 ``InvalidFixedIp`` or
``NetworkBadRequest``, 401/403 ``NetworkForbidden``, and an unreachable
service or a 5xx ``NetworkServiceUnavailable`` (503).
"""
from __future__ import annotations

import re
from typing import Any

from keystoneauth1 import adapter as ks_adapter
from oslo_config import cfg
from oslo_log import log as logging

from common.clients import base
from compute import clients
from compute import exception

LOG = logging.getLogger(__name__)
GROUP = "neutron"
SERVICE_TYPE = "network"
PREFIX = "/v2.0"
_IP_IN_MESSAGE = re.compile(r"IP address (\S+?)[ .,]")

Filters = dict[str, Any]


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register_opts(conf, GROUP)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return base.list_opts(GROUP)


def _api(conf: cfg.ConfigOpts, ctxt: Any, admin: bool) -> ks_adapter.Adapter:
    return clients.adapter(conf, ctxt, GROUP, SERVICE_TYPE,
                           exception.NetworkServiceUnavailable, admin=admin)


def _call(conf: cfg.ConfigOpts, ctxt: Any, admin: bool, method: str, url: str,
          hint: dict[str, str], **kwargs: Any) -> Any:
    api = _api(conf, ctxt, admin)
    try:
        resp = api.request(url, method, **kwargs)
    except clients.UNREACHABLE as err:
        raise exception.NetworkServiceUnavailable(reason=str(err)) from err
    if resp.status_code >= 400:
        raise _error(resp, hint)
    return resp


def _error(resp: Any, hint: dict[str, str]) -> Exception:
    """The compute exception for an error answer; ``hint`` names what the call was
    about (``kind``: network/port/subnet/security_group/floatingip, and ids)."""
    status = resp.status_code
    kind = clients.error_type(resp)
    message = clients.error_message(resp)
    LOG.debug("Network service answered %(status)s %(type)s: %(msg)s",
              {"status": status, "type": kind, "msg": message})
    net = hint.get("network_id", "")
    if status == 404:
        return _not_found(kind, hint, message)
    if status == 409:
        if kind == "PortInUse":
            return exception.PortInUse(port_id=hint.get("port_id", ""))
        if kind == "IpAddressInUse":
            return exception.FixedIpAlreadyInUse(address=_address(hint, message),
                                                 network_id=net)
        if kind == "IpAddressGenerationFailure":
            return exception.NoMoreFixedIps(net=net)
        if kind == "OverQuota" and hint.get("kind") == "port":
            return exception.PortLimitExceeded()
        if kind == "OverQuota" and hint.get("kind", "").startswith("security_group"):
            return exception.SecurityGroupLimitExceeded(reason=message)
        return exception.NetworkConflict(reason=message)
    if status == 400:
        if kind == "InvalidIpForSubnet" or (kind == "InvalidInput"
                                            and "not a valid IP" in message):
            return exception.InvalidFixedIp(address=_address(hint, message), network_id=net)
        return exception.NetworkBadRequest(reason=message)
    if status in (401, 403):
        return exception.NetworkForbidden(reason=message)
    if status < 500:
        return exception.NetworkBadRequest(reason=message)
    return exception.NetworkServiceUnavailable(reason="HTTP %s: %s" % (status, message))


_NOT_FOUND_KINDS = {"NetworkNotFound": "network", "PortNotFound": "port",
                    "SecurityGroupNotFound": "security_group",
                    "SecurityGroupRuleNotFound": "security_group_rule"}


def _not_found(kind: str, hint: dict[str, str], message: str) -> Exception:
    wanted = _NOT_FOUND_KINDS.get(kind, hint.get("kind", ""))
    if wanted == "network":
        return exception.NetworkNotFound(network_id=hint.get("network_id", ""))
    if wanted == "port":
        return exception.PortNotFound(port_id=hint.get("port_id", ""))
    if wanted == "security_group":
        return exception.SecurityGroupNotFound(
            security_group_id=hint.get("security_group_id", ""))
    if wanted == "security_group_rule":
        return exception.SecurityGroupRuleNotFound(rule_id=hint.get("rule_id", ""))
    return exception.NetworkBadRequest(reason=message)


def _address(hint: dict[str, str], message: str) -> str:
    if hint.get("address"):
        return hint["address"]
    found = _IP_IN_MESSAGE.search(message)
    return found.group(1) if found else ""


def _params(filters: Filters | None) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    for key, value in (filters or {}).items():
        values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
        for item in values:
            if isinstance(item, bool):
                item = "true" if item else "false"
            params.append((key, str(item)))
    return params


def _list(conf: cfg.ConfigOpts, ctxt: Any, admin: bool, collection: str, key: str,
          filters: Filters | None, kind: str) -> list[dict[str, Any]]:
    """Every item of a collection matching ``filters``, following ``next`` links."""
    url: str | None = "%s/%s" % (PREFIX, collection)
    params: list[tuple[str, str]] | None = _params(filters)
    items: list[dict[str, Any]] = []
    while url:
        resp = _call(conf, ctxt, admin, "GET", url, {"kind": kind}, params=params)
        body = resp.json()
        items.extend(body.get(key, []))
        url = next((link["href"] for link in body.get(key + "_links", [])
                    if link.get("rel") == "next"), None)
        params = None  # the next link carries the query
    return items


def get_network(conf: cfg.ConfigOpts, ctxt: Any, network_id: str, *,
                admin: bool = False) -> dict[str, Any]:
    """:raises: NetworkNotFound, NetworkForbidden, NetworkServiceUnavailable."""
    resp = _call(conf, ctxt, admin, "GET", "%s/networks/%s" % (PREFIX, network_id),
                 {"kind": "network", "network_id": network_id})
    return dict(resp.json()["network"])


#: How long :func:`get_network_cached` keeps a network's record (seconds).
CACHE_SECONDS = 5.0
_CACHE = clients.RecordCache(CACHE_SECONDS)


def get_network_cached(conf: cfg.ConfigOpts, ctxt: Any, network_id: str) -> dict[str, Any]:
    """:func:`get_network` as the user, the answer kept :data:`CACHE_SECONDS` per
    caller (token and project) and network: the server creates of a burst, and a
    node's builds, ask once. Errors are never kept, nor a network without subnets
    (no server can use it yet: its owner is likely adding one).
    """
    found = _CACHE.get(ctxt, network_id)
    if found is None:
        found = get_network(conf, ctxt, network_id)
        if found.get("subnets"):
            _CACHE.put(ctxt, network_id, found)
    return found


def clear_network_cache() -> None:
    """Forget the records :func:`get_network_cached`, :func:`get_subnets` and
    :func:`list_dhcp_ports` kept (tests)."""
    _CACHE.clear()
    _SUBNET_CACHE.clear()
    _DHCP_CACHE.clear()


def list_networks(conf: cfg.ConfigOpts, ctxt: Any, filters: Filters | None = None, *,
                  admin: bool = False) -> list[dict[str, Any]]:
    """Networks matching ``filters`` (a list value matches any of its items)."""
    return _list(conf, ctxt, admin, "networks", "networks", filters, "network")


def list_subnets(conf: cfg.ConfigOpts, ctxt: Any, filters: Filters | None = None, *,
                 admin: bool = False) -> list[dict[str, Any]]:
    return _list(conf, ctxt, admin, "subnets", "subnets", filters, "subnet")


_SUBNET_CACHE = clients.RecordCache(CACHE_SECONDS, size=1024)


def _cached(cache: clients.RecordCache, ids: list[str]
            ) -> tuple[list[dict[str, Any]], list[str]]:
    """The records of ``ids`` that ``cache`` keeps, and the ids it does not."""
    hits: list[dict[str, Any]] = []
    missing: list[str] = []
    for record_id in ids:
        hit = cache.get(None, record_id)
        if hit is None:
            missing.append(record_id)
        else:
            hits.append(hit)
    return hits, missing


def get_subnets(conf: cfg.ConfigOpts, ctxt: Any, subnet_ids: list[str],
                cached: bool = False) -> list[dict[str, Any]]:
    """The subnets of these ids, with the service's credentials; an id the network
    service does not know is left out. ``cached``: each kept :data:`CACHE_SECONDS`
    as :func:`get_network_cached` keeps networks (a node's builds on one subnet
    ask once), the ones not kept asked for in one list request."""
    if not cached:
        return list_subnets(conf, ctxt, {"id": subnet_ids}, admin=True)
    hits, missing = _cached(_SUBNET_CACHE, subnet_ids)
    found = list(hits)
    if missing:
        for subnet in list_subnets(conf, ctxt, {"id": missing}, admin=True):
            _SUBNET_CACHE.put(None, str(subnet["id"]), subnet)
            found.append(subnet)
    return found


_DHCP_CACHE = clients.RecordCache(CACHE_SECONDS, size=1024)
DHCP_OWNER = "network:dhcp"


def list_dhcp_ports(conf: cfg.ConfigOpts, ctxt: Any, network_ids: list[str],
                    cached: bool = False) -> list[dict[str, Any]]:
    """The DHCP ports (``device_owner`` ``network:dhcp``) of these networks, with the
    service's credentials. ``cached``: kept :data:`CACHE_SECONDS` per network; a
    network with no DHCP port is never kept (its DHCP agent is likely adding one),
    nor an error.
    """
    if not cached:
        return list_ports(conf, ctxt, {"network_id": network_ids, "device_owner": DHCP_OWNER},
                          admin=True)
    hits, missing = _cached(_DHCP_CACHE, network_ids)
    found = [port for hit in hits for port in hit["ports"]]
    if missing:
        ports = list_ports(conf, ctxt, {"network_id": missing, "device_owner": DHCP_OWNER},
                           admin=True)
        for network_id in missing:
            mine = [p for p in ports if p.get("network_id") == network_id]
            if mine:
                _DHCP_CACHE.put(None, network_id, {"ports": mine})
        found.extend(ports)
    return found


def get_port(conf: cfg.ConfigOpts, ctxt: Any, port_id: str, *,
             admin: bool = False) -> dict[str, Any]:
    """:raises: PortNotFound, NetworkForbidden, NetworkServiceUnavailable."""
    resp = _call(conf, ctxt, admin, "GET", "%s/ports/%s" % (PREFIX, port_id),
                 {"kind": "port", "port_id": port_id})
    return dict(resp.json()["port"])


def list_ports(conf: cfg.ConfigOpts, ctxt: Any, filters: Filters | None = None, *,
               admin: bool = False) -> list[dict[str, Any]]:
    return _list(conf, ctxt, admin, "ports", "ports", filters, "port")


def _port_hint(body: dict[str, Any], port_id: str = "") -> dict[str, str]:
    ips = [str(f["ip_address"]) for f in body.get("fixed_ips") or []
           if isinstance(f, dict) and f.get("ip_address")]
    return {"kind": "port", "port_id": port_id, "network_id": str(body.get("network_id", "")),
            "address": ",".join(ips)}


def _unwrap(body: dict[str, Any]) -> dict[str, Any]:
    inner = body.get("port")
    return dict(inner) if isinstance(inner, dict) and len(body) == 1 else dict(body)


def create_port(conf: cfg.ConfigOpts, ctxt: Any, body: dict[str, Any], *,
                admin: bool = False) -> dict[str, Any]:
    """Create a port from ``body`` (the port's fields, or ``{"port": {...}}``).

    :raises: NetworkNotFound, SecurityGroupNotFound, FixedIpAlreadyInUse,
        InvalidFixedIp, NoMoreFixedIps, PortLimitExceeded, NetworkConflict,
        NetworkBadRequest, NetworkForbidden, NetworkServiceUnavailable.
    """
    fields = _unwrap(body)
    resp = _call(conf, ctxt, admin, "POST", "%s/ports" % PREFIX, _port_hint(fields),
                 json={"port": fields})
    return dict(resp.json()["port"])


def update_port(conf: cfg.ConfigOpts, ctxt: Any, port_id: str, body: dict[str, Any], *,
                admin: bool = False) -> dict[str, Any]:
    """Update a port. ``binding:*`` changes need ``admin=True``.

    :raises: PortNotFound, PortInUse, FixedIpAlreadyInUse, InvalidFixedIp,
        NetworkConflict, NetworkBadRequest, NetworkForbidden,
        NetworkServiceUnavailable.
    """
    fields = _unwrap(body)
    resp = _call(conf, ctxt, admin, "PUT", "%s/ports/%s" % (PREFIX, port_id),
                 _port_hint(fields, port_id), json={"port": fields})
    return dict(resp.json()["port"])


def delete_port(conf: cfg.ConfigOpts, ctxt: Any, port_id: str, *,
                admin: bool = False) -> None:
    """Delete a port; one that is already gone is not an error.

    :raises: PortInUse (e.g. a router interface), NetworkForbidden,
        NetworkServiceUnavailable.
    """
    try:
        _call(conf, ctxt, admin, "DELETE", "%s/ports/%s" % (PREFIX, port_id),
              {"kind": "port", "port_id": port_id})
    except exception.PortNotFound:
        LOG.debug("Port %s was already deleted", port_id)


def list_security_groups(conf: cfg.ConfigOpts, ctxt: Any, filters: Filters | None = None,
                         *, admin: bool = False) -> list[dict[str, Any]]:
    return _list(conf, ctxt, admin, "security-groups", "security_groups", filters,
                 "security_group")


def find_security_group(conf: cfg.ConfigOpts, ctxt: Any, name_or_id: str,
                        project_id: str) -> dict[str, Any]:
    """The security group named ``name_or_id`` in ``project_id`` or, when no group
    there has that name, the one of that id the caller may see (a name wins over an
    id, as Nova finds groups).

    :raises: SecurityGroupNotFound (404), SecurityGroupNotUnique (409: two groups
        of the project have that name), NetworkForbidden, NetworkServiceUnavailable.
    """
    named = [g for g in list_security_groups(conf, ctxt, {"project_id": project_id,
                                                          "name": name_or_id})
             if g.get("name") == name_or_id]
    if len(named) > 1:
        raise exception.SecurityGroupNotUnique(name=name_or_id)
    if named:
        return named[0]
    for group in list_security_groups(conf, ctxt, {"id": name_or_id}):
        if group.get("id") == name_or_id:
            return group
    raise exception.SecurityGroupNotFound(security_group_id=name_or_id)


def get_security_group(conf: cfg.ConfigOpts, ctxt: Any, group_id: str) -> dict[str, Any]:
    """:raises: SecurityGroupNotFound, NetworkForbidden, NetworkServiceUnavailable."""
    return _security_group_call(conf, ctxt, "GET", group_id)


def create_security_group(conf: cfg.ConfigOpts, ctxt: Any,
                          fields: dict[str, Any]) -> dict[str, Any]:
    """:raises: SecurityGroupLimitExceeded, NetworkConflict, NetworkBadRequest,
        NetworkForbidden, NetworkServiceUnavailable."""
    return _security_group_call(conf, ctxt, "POST", "", fields)


def update_security_group(conf: cfg.ConfigOpts, ctxt: Any, group_id: str,
                          fields: dict[str, Any]) -> dict[str, Any]:
    """:raises: SecurityGroupNotFound, NetworkConflict, NetworkBadRequest,
        NetworkForbidden, NetworkServiceUnavailable."""
    return _security_group_call(conf, ctxt, "PUT", group_id, fields)


def delete_security_group(conf: cfg.ConfigOpts, ctxt: Any, group_id: str) -> None:
    """:raises: SecurityGroupNotFound, NetworkConflict (in use, or a project's
        default group), NetworkForbidden, NetworkServiceUnavailable."""
    _call(conf, ctxt, False, "DELETE", "%s/security-groups/%s" % (PREFIX, group_id),
          {"kind": "security_group", "security_group_id": group_id})


def _security_group_call(conf: cfg.ConfigOpts, ctxt: Any, method: str, group_id: str,
                         fields: dict[str, Any] | None = None) -> dict[str, Any]:
    url = "%s/security-groups" % PREFIX + ("/" + group_id if group_id else "")
    kwargs = {} if fields is None else {"json": {"security_group": fields}}
    resp = _call(conf, ctxt, False, method, url,
                 {"kind": "security_group", "security_group_id": group_id}, **kwargs)
    return dict(resp.json()["security_group"])


def create_security_group_rule(conf: cfg.ConfigOpts, ctxt: Any,
                               fields: dict[str, Any]) -> dict[str, Any]:
    """:raises: SecurityGroupNotFound, SecurityGroupLimitExceeded, NetworkConflict
        (e.g. the same rule exists), NetworkBadRequest, NetworkForbidden,
        NetworkServiceUnavailable."""
    resp = _call(conf, ctxt, False, "POST", "%s/security-group-rules" % PREFIX,
                 {"kind": "security_group_rule",
                  "security_group_id": str(fields.get("security_group_id", ""))},
                 json={"security_group_rule": fields})
    return dict(resp.json()["security_group_rule"])


def delete_security_group_rule(conf: cfg.ConfigOpts, ctxt: Any, rule_id: str) -> None:
    """:raises: SecurityGroupRuleNotFound, NetworkForbidden, NetworkServiceUnavailable."""
    _call(conf, ctxt, False, "DELETE", "%s/security-group-rules/%s" % (PREFIX, rule_id),
          {"kind": "security_group_rule", "rule_id": rule_id})


def list_floating_ips(conf: cfg.ConfigOpts, ctxt: Any, filters: Filters | None = None, *,
                      admin: bool = False) -> list[dict[str, Any]]:
    return _list(conf, ctxt, admin, "floatingips", "floatingips", filters, "floatingip")
