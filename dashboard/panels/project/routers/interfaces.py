"""A router's detail page and its interfaces (add, remove)."""
from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from dashboard import cloud, errors
from dashboard.panels.project.networks import common
from dashboard.panels.project.routers import forms
from dashboard.panels.project.routers.views import gateway_network, own_router, url
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables

LOG = logging.getLogger(__name__)


def _interfaces_table(router: Any, ports: list[Any], subnets: dict[str, Any],
                      net_names: dict[str, str]) -> tables.Table:
    def subnet_of(port: Any) -> str:
        ids = [f.get("subnet_id") for f in port.fixed_ips or []]
        return ", ".join(common.subnet_label(subnets[i]) if i in subnets else str(i)
                         for i in ids) or "-"

    return tables.Table(
        name="interfaces", title="Interfaces",
        columns=[tables.Column("subnet", "Subnet", display=subnet_of),
                 tables.Column("network", "Network", display=lambda p: net_names.get(
                     p.network_id, p.network_id),
                     link=lambda p: reverse("project-networks:detail", args=[p.network_id])),
                 tables.Column("fixed_ip", "Fixed IP",
                               display=lambda p: ", ".join(common.fixed_ips(p))),
                 tables.Column("status", "Status", status=True),
                 tables.Column("admin_state", "Admin state", status=True,
                               display=lambda p: common.up_down(p.is_admin_state_up))],
        rows=ports,
        actions=[tables.Action("Remove Interface",
                               lambda p: url("interface-remove", router.id, p.id), danger=True,
                               confirm="Remove this interface from the router?")],
        table_actions=[tables.Action("Add Interface", url("interface-add", router.id), "get")],
        empty="No interfaces: add one to route a subnet of yours.")


def detail(request: Any, router_id: str) -> HttpResponse:
    router = own_router(request, router_id)
    conn = cloud.connection(request)
    ports = [p for p in conn.network.ports(device_id=router.id) if common.is_interface(p)]
    subnets = {s.id: s for s in conn.network.subnets()}
    net_names = {n.id: n.name or n.id for n in conn.network.networks()}
    gw_id = gateway_network(router)
    gw_ips = [f.get("ip_address") for f in (router.external_gateway_info or {}).get(
        "external_fixed_ips") or []]
    return render(request, "project/routers/detail.html", {
        "title": router.name or router.id, "router": router,
        "gateway": {"id": gw_id, "name": net_names.get(gw_id or "", gw_id),
                    "ips": ", ".join(str(ip) for ip in gw_ips)} if gw_id else None,
        "interfaces": _interfaces_table(router, ports, subnets, net_names).context()})


def interface_add(request: Any, router_id: str) -> HttpResponse:
    router = own_router(request, router_id)
    conn = cloud.connection(request)
    networks = {n.id: n for n in conn.network.networks()}
    attached = {f.get("subnet_id") for p in conn.network.ports(device_id=router.id)
                for f in p.fixed_ips or []}
    choices = sorted((s for s in conn.network.subnets()
                      if common.owned(s, request) and s.id not in attached
                      and s.network_id in networks
                      and not networks[s.network_id].is_router_external),
                     key=lambda s: (networks[s.network_id].name or "", s.cidr))
    names = {i: n.name or i for i, n in networks.items()}

    def apply(data: dict[str, Any]) -> str:
        subnet = form.subnets[data["subnet"]]
        if not data["ip_address"]:
            conn.network.add_interface_to_router(router.id, subnet=subnet.id)
            return "Subnet %s attached to router %s." % (subnet.cidr, router.name or router.id)
        port = conn.network.create_port(network_id=subnet.network_id, fixed_ips=[
            {"subnet_id": subnet.id, "ip_address": data["ip_address"]}])
        try:
            conn.network.add_interface_to_router(router.id, port=port.id)
        except errors.API_ERRORS:
            try:
                conn.network.delete_port(port.id, ignore_missing=True)
            except errors.API_ERRORS as err:
                LOG.warning("port %s left behind: %s", port.id, errors.message(err))
            raise
        return "Subnet %s attached to router %s at %s." % (
            subnet.cidr, router.name or router.id, data["ip_address"])

    form = forms.InterfaceForm(request.POST or None, choices, names)
    if not choices:
        form.fields["subnet"].help_text = ("No subnet of yours is left to attach: create a "
                                           "network with a subnet first.")
    return ui_forms.form_page(request, form, apply, url("detail", router.id),
                              "Add Interface to %s" % (router.name or router.id),
                              "Add Interface")


def interface_remove(request: Any, router_id: str, port_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)

    def apply() -> str:
        router = own_router(request, router_id)
        conn = cloud.connection(request)
        port = conn.network.get_port(port_id)
        if port.device_id != router.id or not common.is_interface(port):
            raise Http404("This is not an interface of the router.")
        conn.network.remove_interface_from_router(router.id, port=port.id)
        return "Interface %s removed." % ", ".join(common.fixed_ips(port))

    return ui_forms.act(request, apply, url("detail", router_id))
