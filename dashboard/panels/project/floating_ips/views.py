"""Floating IPs: list, allocate, associate (also from an instance), disassociate,
release."""
from __future__ import annotations

import ipaddress
import logging
from typing import Any

from django.http import Http404, HttpResponse
from django.urls import reverse

from dashboard import cloud, errors
from dashboard.panels.project.floating_ips import forms
from dashboard.panels.project.networks import common
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables

LOG = logging.getLogger(__name__)


def _url(name: str, *args: str) -> str:
    return reverse("project-floating_ips:" + name, args=list(args))


def _ip_key(fip: Any) -> tuple[int, int]:
    try:
        addr = ipaddress.ip_address(fip.floating_ip_address)
    except ValueError:
        return (9, 0)
    return (addr.version, int(addr))


def _own_ips(request: Any, conn: Any) -> list[Any]:
    pid = request.stratus_user.project_id
    return sorted((f for f in conn.network.ips(project_id=pid) if common.owned(f, request)),
                  key=_ip_key)


def _devices(request: Any, conn: Any, fips: list[Any]) -> dict[str, str]:
    """The device (server id) of each mapped port: from the floating IPs' port
    details when the API gives them, else from one ports list."""
    found: dict[str, str] = {}
    missing = False
    for fip in fips:
        details = fip.port_details or {}
        if fip.port_id and details.get("device_id"):
            found[fip.port_id] = details["device_id"]
        elif fip.port_id:
            missing = True
    if missing:
        pid = request.stratus_user.project_id
        found.update({p.id: p.device_id for p in conn.network.ports(project_id=pid)
                      if p.device_id})
    return found


def _table(request: Any) -> tables.Table:
    conn = cloud.connection(request)
    fips = _own_ips(request, conn)
    pools = {n.id: n.name or n.id for n in common.external_networks(conn)}
    devices = _devices(request, conn, fips)
    names = common.server_names(request, conn, force=bool(devices)) if devices else {}

    def server(fip: Any) -> str | None:
        return devices.get(fip.port_id) if fip.port_id else None

    def instance(fip: Any) -> str:
        sid = server(fip)
        return names.get(sid, sid) if sid else "-"

    def instance_link(fip: Any) -> str | None:
        sid = server(fip)
        return common.instance_url(sid) if sid and sid in names else None

    return tables.Table(
        name="floating_ips", title="Floating IPs",
        columns=[tables.Column("floating_ip_address", "IP address"),
                 tables.Column("fixed_ip_address", "Mapped fixed IP"),
                 tables.Column("instance", "Instance", display=instance, link=instance_link),
                 tables.Column("pool", "Pool", display=lambda f: pools.get(
                     f.floating_network_id, f.floating_network_id)),
                 tables.Column("status", "Status", status=True)],
        rows=fips,
        actions=[tables.Action("Associate", lambda f: _url("associate") + "?ip_id=" + f.id,
                               "get", allowed=lambda f: not f.port_id),
                 tables.Action("Disassociate", lambda f: _url("disassociate", f.id),
                               allowed=lambda f: bool(f.port_id),
                               confirm="Disassociate this floating IP?"),
                 tables.Action("Release", lambda f: _url("release", f.id), danger=True,
                               confirm="Release this floating IP? Its address goes back "
                                       "to the pool.")],
        table_actions=[tables.Action("Allocate IP", _url("allocate"), "get"),
                       tables.Action("Associate", _url("associate"), "get")],
        empty="No floating IPs: allocate one from a pool.")


def index(request: Any) -> HttpResponse:
    return tables.page(request, "Floating IPs", _table(request))


def allocate(request: Any) -> HttpResponse:
    conn = cloud.connection(request)

    def apply(data: dict[str, Any]) -> str:
        attrs = {"floating_network_id": data["pool"]}
        if data.get("description"):
            attrs["description"] = data["description"]
        fip = conn.network.create_ip(**attrs)
        return "Floating IP %s allocated." % fip.floating_ip_address

    form = forms.AllocateForm(request.POST or None, common.external_networks(conn))
    return ui_forms.form_page(request, form, apply, _url("index"), "Allocate Floating IP",
                              "Allocate IP")


def _targets(request: Any, conn: Any, instance_id: str,
             mapped: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """("port/address", "server: address") of the instance ports' IPv4 addresses
    that have no floating IP yet."""
    if instance_id:
        server = conn.compute.get_server(instance_id)
        if str(server.project_id or "") != request.stratus_user.project_id:
            raise Http404("This instance belongs to another project.")
        names = {server.id: server.name}
        ports = list(conn.network.ports(device_id=instance_id))
    else:
        pid = request.stratus_user.project_id
        ports = [p for p in conn.network.ports(project_id=pid)
                 if common.is_instance_port(p) and common.owned(p, request)]
        names = common.server_names(request, conn, ports)
    out = []
    for port in ports:
        for addr in common.fixed_ips(port):
            if (port.id, addr) in mapped or ":" in addr:
                continue
            out.append(("%s/%s" % (port.id, addr),
                        "%s: %s" % (names.get(port.device_id, port.device_id or port.id),
                                    addr)))
    return sorted(out, key=lambda t: t[1])


def associate(request: Any) -> HttpResponse:
    conn = cloud.connection(request)
    instance_id = request.GET.get("instance_id", "")
    fips = _own_ips(request, conn)
    free = [f for f in fips if not f.port_id]
    mapped = {(f.port_id, str(f.fixed_ip_address)) for f in fips if f.port_id}
    externals = common.external_networks(conn)
    targets = _targets(request, conn, instance_id, mapped)
    ip_id = request.GET.get("ip_id", "")
    initial = forms.IP_PREFIX + ip_id if any(f.id == ip_id for f in free) else ""

    def apply(data: dict[str, Any]) -> str:
        fip, made = None, False
        if data.get("pool_id"):
            fip, made = conn.network.create_ip(floating_network_id=data["pool_id"]), True
        try:
            fip = conn.network.update_ip(fip.id if fip else data["ip_id"],
                                         port_id=data["port_id"],
                                         fixed_ip_address=data["fixed_ip"])
        except errors.API_ERRORS:
            if made and fip is not None:
                # A new address that cannot be mapped is not kept.
                try:
                    conn.network.delete_ip(fip.id, ignore_missing=True)
                except errors.API_ERRORS as err:
                    LOG.warning("floating IP %s left behind: %s", fip.id,
                                errors.message(err))
            raise
        return "Floating IP %s associated with %s." % (fip.floating_ip_address,
                                                       data["fixed_ip"])

    form = forms.AssociateForm(request.POST or None, free, externals, targets, initial)
    back = reverse("project-instances:index") if instance_id else _url("index")
    return ui_forms.form_page(request, form, apply, back, "Associate Floating IP",
                              "Associate", cancel_url=back)


def _own_ip(request: Any, fip_id: str) -> Any:
    return common.require_owned(cloud.connection(request).network.get_ip(fip_id), request)


def disassociate(request: Any, fip_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)

    def apply() -> str:
        fip = _own_ip(request, fip_id)
        cloud.connection(request).network.update_ip(fip.id, port_id=None)
        return "Floating IP %s disassociated." % fip.floating_ip_address

    return ui_forms.act(request, apply, _url("index"))


def release(request: Any, fip_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)

    def apply() -> str:
        fip = _own_ip(request, fip_id)
        cloud.connection(request).network.delete_ip(fip.id, ignore_missing=False)
        return "Floating IP %s released." % fip.floating_ip_address

    return ui_forms.act(request, apply, _url("index"))
