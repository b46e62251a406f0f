"""Networks: list, create (with a subnet, undone when the subnet fails), edit,
delete, and the detail page with the network's subnets and ports."""
from __future__ import annotations

import collections
import logging
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from dashboard import cloud, errors
from dashboard.panels.project.networks import common, forms
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables

LOG = logging.getLogger(__name__)


def _url(name: str, *args: str) -> str:
    return reverse("project-networks:" + name, args=list(args))


def _subnets_text(subnets: list[Any]) -> str:
    return ", ".join(common.subnet_label(s) for s in subnets) or "-"


def _table(request: Any) -> tables.Table:
    conn = cloud.connection(request)
    nets = sorted((n for n in conn.network.networks() if common.visible_network(n, request)),
                  key=lambda n: (n.name or "", n.id))
    by_net: dict[str, list[Any]] = collections.defaultdict(list)
    for subnet in conn.network.subnets():
        by_net[subnet.network_id].append(subnet)

    def mine(net: Any) -> bool:
        return common.owned(net, request)

    return tables.Table(
        name="networks", title="Networks",
        columns=[tables.Column("name", "Name", link=lambda n: _url("detail", n.id),
                               display=lambda n: n.name or n.id),
                 tables.Column("subnets", "Subnets", display=lambda n: _subnets_text(
                     by_net.get(n.id, []))),
                 tables.Column("shared", "Shared", display=lambda n: common.yes_no(n.is_shared)),
                 tables.Column("external", "External",
                               display=lambda n: common.yes_no(n.is_router_external)),
                 tables.Column("status", "Status", status=True),
                 tables.Column("admin_state", "Admin state", status=True,
                               display=lambda n: common.up_down(n.is_admin_state_up))],
        rows=nets,
        actions=[tables.Action("Edit", lambda n: _url("edit", n.id), "get", allowed=mine),
                 tables.Action("Delete", lambda n: _url("delete", n.id), danger=True,
                               allowed=mine, confirm="Delete this network and its subnets?")],
        table_actions=[tables.Action("Create Network", _url("create"), "get")],
        empty="No networks: create one.")


def index(request: Any) -> HttpResponse:
    return tables.page(request, "Networks", _table(request))


def create(request: Any) -> HttpResponse:
    user = request.stratus_user

    def apply(data: dict[str, Any]) -> str:
        conn = cloud.connection(request)
        attrs: dict[str, Any] = {"name": data["name"],
                                 "is_admin_state_up": bool(data["admin_state_up"])}
        if data.get("shared"):
            attrs["is_shared"] = True
        net = conn.network.create_network(**attrs)
        if "subnet" not in data:
            return "Network %s created." % (net.name or net.id)
        try:
            subnet = conn.network.create_subnet(network_id=net.id, **data["subnet"])
        except errors.API_ERRORS:
            # Leave nothing half-made: the network goes again, the error is shown.
            try:
                conn.network.delete_network(net.id, ignore_missing=True)
            except errors.API_ERRORS as err:
                LOG.warning("network %s left behind: %s", net.id, errors.message(err))
            raise
        return "Network %s created with subnet %s." % (net.name or net.id, subnet.cidr)

    form = forms.NetworkCreateForm(request.POST or None, is_admin=user.is_admin)
    return ui_forms.form_page(request, form, apply, _url("index"), "Create Network",
                              "Create Network", template="project/networks/create.html")


def _own_network(request: Any, network_id: str) -> Any:
    net = cloud.connection(request).network.get_network(network_id)
    return common.require_owned(net, request)


def edit(request: Any, network_id: str) -> HttpResponse:
    net = _own_network(request, network_id)
    initial = {"name": net.name, "admin_state_up": bool(net.is_admin_state_up),
               "shared": bool(net.is_shared)}

    def apply(data: dict[str, Any]) -> str:
        attrs: dict[str, Any] = {"name": data["name"],
                                 "is_admin_state_up": bool(data["admin_state_up"])}
        if "shared" in data:
            attrs["is_shared"] = bool(data["shared"])
        cloud.connection(request).network.update_network(net.id, **attrs)
        return "Network %s updated." % (data["name"] or net.id)

    form = forms.NetworkEditForm(request.POST or None, initial=initial,
                                 is_admin=request.stratus_user.is_admin)
    return ui_forms.form_page(request, form, apply, _url("index"),
                              "Edit Network %s" % (net.name or net.id), "Save")


def delete(request: Any, network_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)

    def apply() -> str:
        net = _own_network(request, network_id)
        cloud.connection(request).network.delete_network(net.id, ignore_missing=False)
        return "Network %s deleted." % (net.name or net.id)

    return ui_forms.act(request, apply, _url("index"))


def _subnets_table(request: Any, net: Any, subnets: list[Any]) -> tables.Table:
    mine = common.owned(net, request)
    return tables.Table(
        name="subnets", title="Subnets",
        columns=[tables.Column("name", "Name", display=lambda s: s.name or s.id),
                 tables.Column("cidr", "Network address"),
                 tables.Column("ip_version", "IP version",
                               display=lambda s: "IPv%s" % s.ip_version),
                 tables.Column("gateway_ip", "Gateway IP"),
                 tables.Column("dhcp", "DHCP", display=lambda s: common.yes_no(
                     s.is_dhcp_enabled)),
                 tables.Column("pools", "Allocation pools", display=lambda s: ", ".join(
                     "%s-%s" % (p["start"], p["end"]) for p in s.allocation_pools or []))],
        rows=sorted(subnets, key=lambda s: (s.name or "", s.id)),
        actions=[tables.Action("Edit", lambda s: _url("subnet-edit", net.id, s.id), "get",
                               allowed=lambda s: mine),
                 tables.Action("Delete", lambda s: _url("subnet-delete", net.id, s.id),
                               danger=True, allowed=lambda s: mine,
                               confirm="Delete this subnet?")],
        table_actions=[tables.Action("Create Subnet", _url("subnet-create", net.id), "get")]
        if mine else [],
        empty="No subnets: instances on this network get no addresses.")


def _ports_table(request: Any, net: Any, ports: list[Any],
                 names: dict[str, str]) -> tables.Table:
    def deletable(port: Any) -> bool:
        return common.owned(port, request) and not str(port.device_owner or "").startswith(
            "network:")

    return tables.Table(
        name="ports", title="Ports",
        columns=[tables.Column("name", "Name", display=lambda p: p.name or p.id[:13]),
                 tables.Column("fixed_ips", "Fixed IPs",
                               display=lambda p: ", ".join(common.fixed_ips(p))),
                 tables.Column("device", "Attached device",
                               display=lambda p: common.device_text(p, names),
                               link=lambda p: common.device_url(p, names)),
                 tables.Column("status", "Status", status=True),
                 tables.Column("admin_state", "Admin state", status=True,
                               display=lambda p: common.up_down(p.is_admin_state_up))],
        rows=sorted(ports, key=lambda p: (common.fixed_ips(p) or [""])[0]),
        actions=[tables.Action("Delete", lambda p: _url("port-delete", net.id, p.id),
                               danger=True, allowed=deletable, confirm="Delete this port?")],
        table_actions=[tables.Action("Create Port", _url("port-create", net.id), "get")]
        if common.ports_allowed(net, request) else [],
        empty="No ports.")


def detail(request: Any, network_id: str) -> HttpResponse:
    conn = cloud.connection(request)
    net = common.require_visible_network(conn.network.get_network(network_id), request)
    subnets = list(conn.network.subnets(network_id=net.id))
    ports = list(conn.network.ports(network_id=net.id))
    if not common.owned(net, request):
        ports = [p for p in ports if common.owned(p, request)]
    names = {**common.server_names(request, conn, ports),
             **common.router_names(request, conn, ports)}
    return render(request, "project/networks/detail.html", {
        "title": net.name or net.id, "net": net, "owned": common.owned(net, request),
        "subnets": _subnets_table(request, net, subnets).context(),
        "ports": _ports_table(request, net, ports, names).context()})
