"""Network topology: external networks, routers, networks and instances of the
project, drawn server-side as SVG (with a text list of the same), from one list
call per kind."""
from __future__ import annotations

import collections
import logging
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from dashboard import cloud, errors
from dashboard.panels.project.networks import common
from dashboard.panels.project.topology import layout

LOG = logging.getLogger(__name__)


def _servers(request: Any, conn: Any) -> tuple[list[Any], str]:
    if "compute" not in request.stratus_user.services:
        return [], ""
    try:
        return list(conn.compute.servers()), ""
    except errors.API_ERRORS as err:
        LOG.warning("topology without instances: %s", errors.message(err))
        return [], "Instances are not shown: %s" % errors.message(err)


def _network_nodes(nets: list[Any], subnets: dict[str, list[Any]]) -> dict[str, layout.Node]:
    nodes = {}
    for net in nets:
        kind = "external" if net.is_router_external else "network"
        lines = [common.subnet_label(s) for s in subnets.get(net.id, [])]
        if kind == "external" and not lines:
            lines = ["external network"]
        nodes[net.id] = layout.Node(kind, net.id, net.name or net.id,
                                    reverse("project-networks:detail", args=[net.id]), lines)
    return nodes


def build(request: Any) -> tuple[layout.Picture, dict[str, Any]]:
    """The picture and the same facts as lists (for the text view)."""
    conn = cloud.connection(request)
    nets = [n for n in conn.network.networks() if common.visible_network(n, request)]
    by_net: dict[str, list[Any]] = collections.defaultdict(list)
    for subnet in sorted(conn.network.subnets(), key=lambda s: s.cidr or ""):
        by_net[subnet.network_id].append(subnet)
    pid = request.stratus_user.project_id
    routers = [r for r in conn.network.routers(project_id=pid) if common.owned(r, request)]
    ports = [p for p in conn.network.ports(project_id=pid) if common.owned(p, request)]
    servers, problem = _servers(request, conn)

    net_nodes = _network_nodes(nets, by_net)
    router_nodes = {r.id: layout.Node("router", r.id, r.name or r.id,
                                      reverse("project-routers:detail", args=[r.id]),
                                      [str(r.status or "")]) for r in routers}
    server_nodes = {s.id: layout.Node("server", s.id, s.name or s.id,
                                      common.instance_url(s.id), [str(s.status or "")])
                    for s in servers}
    edges: list[layout.Edge] = []
    for router in routers:
        gw = (router.external_gateway_info or {})
        if gw.get("network_id") in net_nodes:
            gw_ips = [str(f.get("ip_address")) for f in gw.get("external_fixed_ips") or []]
            edges.append(layout.Edge("gateway", net_nodes[gw["network_id"]],
                                     router_nodes[router.id], ", ".join(gw_ips)))
    attached: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for port in ports:
        net_node = net_nodes.get(port.network_id)
        ips = ", ".join(common.fixed_ips(port))
        if net_node is None:
            continue
        if common.is_interface(port) and port.device_id in router_nodes:
            edges.append(layout.Edge("interface", router_nodes[port.device_id], net_node, ips))
        elif common.is_instance_port(port) and port.device_id in server_nodes:
            edges.append(layout.Edge("port", net_node, server_nodes[port.device_id], ips))
            attached[port.device_id].append((net_node.title, ips))
    nodes = [*net_nodes.values(), *router_nodes.values(), *server_nodes.values()]
    picture = layout.draw(nodes, edges)
    facts = {"networks": sorted(net_nodes.values(), key=lambda n: (n.kind, n.title)),
             "routers": [{"node": router_nodes[r.id],
                          "links": [e for e in edges if router_nodes[r.id] in (e.left, e.right)]}
                         for r in sorted(routers, key=lambda r: r.name or r.id)],
             "servers": [{"node": server_nodes[s.id], "addresses": attached.get(s.id, [])}
                         for s in sorted(servers, key=lambda s: s.name or s.id)],
             "problem": problem}
    return picture, facts


def index(request: Any) -> HttpResponse:
    picture, facts = build(request)
    return render(request, "project/topology/index.html",
                  {"title": "Network Topology", "picture": picture, **facts})
