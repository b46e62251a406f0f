"""A network's subnets (create, edit, delete) and ports (create, delete)."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from dashboard import cloud
from dashboard.panels.project.networks import common, forms
from dashboard.ui import forms as ui_forms


def _detail_url(network_id: str) -> str:
    return reverse("project-networks:detail", args=[network_id])


def _own_network(request: Any, network_id: str) -> Any:
    net = cloud.connection(request).network.get_network(network_id)
    return common.require_owned(net, request)


def _subnet_of(request: Any, network_id: str, subnet_id: str) -> Any:
    subnet = cloud.connection(request).network.get_subnet(subnet_id)
    if subnet.network_id != network_id:
        raise Http404("No such subnet on this network.")
    return common.require_owned(subnet, request)


def subnet_create(request: Any, network_id: str) -> HttpResponse:
    net = _own_network(request, network_id)

    def apply(data: dict[str, Any]) -> str:
        subnet = cloud.connection(request).network.create_subnet(network_id=net.id,
                                                                 **data["subnet"])
        return "Subnet %s created." % subnet.cidr

    return ui_forms.form_page(request, forms.SubnetForm(request.POST or None), apply,
                              _detail_url(net.id), "Create Subnet on %s" % (net.name or net.id),
                              "Create Subnet")


def subnet_edit(request: Any, network_id: str, subnet_id: str) -> HttpResponse:
    subnet = _subnet_of(request, network_id, subnet_id)

    def apply(data: dict[str, Any]) -> str:
        cloud.connection(request).network.update_subnet(subnet.id, **data["subnet"])
        return "Subnet %s updated." % subnet.cidr

    form = forms.SubnetForm(request.POST or None, initial=forms.subnet_initial(subnet),
                            editing=True)
    return ui_forms.form_page(request, form, apply, _detail_url(network_id),
                              "Edit Subnet %s" % (subnet.name or subnet.cidr), "Save")


def subnet_delete(request: Any, network_id: str, subnet_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)

    def apply() -> str:
        subnet = _subnet_of(request, network_id, subnet_id)
        cloud.connection(request).network.delete_subnet(subnet.id, ignore_missing=False)
        return "Subnet %s deleted." % subnet.cidr

    return ui_forms.act(request, apply, _detail_url(network_id))


def port_create(request: Any, network_id: str) -> HttpResponse:
    conn = cloud.connection(request)
    net = common.require_visible_network(conn.network.get_network(network_id), request)
    if not common.ports_allowed(net, request):
        raise Http404("Ports on this network are made by the cloud, not by projects.")
    subnets = sorted(conn.network.subnets(network_id=net.id), key=lambda s: (s.name or "", s.id))

    def apply(data: dict[str, Any]) -> str:
        attrs: dict[str, Any] = {"network_id": net.id, "name": data["name"],
                                 "is_admin_state_up": bool(data["admin_state_up"])}
        if data.get("fixed_ips"):
            attrs["fixed_ips"] = data["fixed_ips"]
        port = conn.network.create_port(**attrs)
        return "Port %s created (%s)." % (port.name or port.id,
                                          ", ".join(common.fixed_ips(port)) or "no address")

    return ui_forms.form_page(request, forms.PortForm(request.POST or None, subnets), apply,
                              _detail_url(net.id), "Create Port on %s" % (net.name or net.id),
                              "Create Port")


def port_delete(request: Any, network_id: str, port_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    conn = cloud.connection(request)
    port = common.require_owned(conn.network.get_port(port_id), request)
    if port.network_id != network_id:
        raise Http404("No such port on this network.")
    if str(port.device_owner or "").startswith("network:"):
        messages.error(request, "This port belongs to the network itself (%s): it goes "
                                "with its router or DHCP service." % port.device_owner)
        return HttpResponseRedirect(_detail_url(network_id))

    def apply() -> str:
        conn.network.delete_port(port.id, ignore_missing=False)
        return "Port %s deleted." % (port.name or port.id)

    return ui_forms.act(request, apply, _detail_url(network_id))
