"""Routers: list, create, set and clear the gateway, delete."""
from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse

from dashboard import cloud
from dashboard.panels.project.networks import common
from dashboard.panels.project.routers import forms
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables


def url(name: str, *args: str) -> str:
    return reverse("project-routers:" + name, args=list(args))


def gateway_network(router: Any) -> str | None:
    info = router.external_gateway_info or {}
    return info.get("network_id") or None


def own_router(request: Any, router_id: str) -> Any:
    router = cloud.connection(request).network.get_router(router_id)
    return common.require_owned(router, request)


def _table(request: Any) -> tables.Table:
    conn = cloud.connection(request)
    pid = request.stratus_user.project_id
    routers = sorted((r for r in conn.network.routers(project_id=pid)
                      if common.owned(r, request)), key=lambda r: (r.name or "", r.id))
    names = {n.id: n.name or n.id for n in common.external_networks(conn)}

    def external(router: Any) -> str:
        net_id = gateway_network(router)
        return names.get(net_id, net_id) if net_id else "-"

    return tables.Table(
        name="routers", title="Routers",
        columns=[tables.Column("name", "Name", link=lambda r: url("detail", r.id),
                               display=lambda r: r.name or r.id),
                 tables.Column("status", "Status", status=True),
                 tables.Column("external_network", "External network", display=external),
                 tables.Column("admin_state", "Admin state", status=True,
                               display=lambda r: common.up_down(r.is_admin_state_up))],
        rows=routers,
        actions=[tables.Action("Set Gateway", lambda r: url("gateway", r.id), "get"),
                 tables.Action("Clear Gateway", lambda r: url("gateway-clear", r.id),
                               allowed=lambda r: bool(gateway_network(r)),
                               confirm="Clear the gateway of this router?"),
                 tables.Action("Delete", lambda r: url("delete", r.id), danger=True,
                               confirm="Delete this router?")],
        table_actions=[tables.Action("Create Router", url("create"), "get")],
        empty="No routers: create one to connect your networks to an external network.")


def index(request: Any) -> HttpResponse:
    return tables.page(request, "Routers", _table(request))


def create(request: Any) -> HttpResponse:
    conn = cloud.connection(request)
    externals = common.external_networks(conn)

    def apply(data: dict[str, Any]) -> str:
        attrs: dict[str, Any] = {"name": data["name"],
                                 "is_admin_state_up": bool(data["admin_state_up"])}
        if data.get("external_network"):
            attrs["external_gateway_info"] = {"network_id": data["external_network"]}
        router = conn.network.create_router(**attrs)
        return "Router %s created." % (router.name or router.id)

    return ui_forms.form_page(request, forms.RouterCreateForm(request.POST or None, externals),
                              apply, url("index"), "Create Router", "Create Router")


def gateway(request: Any, router_id: str) -> HttpResponse:
    router = own_router(request, router_id)
    conn = cloud.connection(request)
    externals = common.external_networks(conn)

    def apply(data: dict[str, Any]) -> str:
        conn.network.update_router(router.id, external_gateway_info={
            "network_id": data["external_network"]})
        names = {n.id: n.name or n.id for n in externals}
        return "Router %s now has its gateway on %s." % (
            router.name or router.id, names.get(data["external_network"]))

    form = forms.GatewayForm(request.POST or None, externals,
                             initial=gateway_network(router) or "")
    return ui_forms.form_page(request, form, apply, url("index"),
                              "Set Gateway of %s" % (router.name or router.id), "Set Gateway")


def gateway_clear(request: Any, router_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)

    def apply() -> str:
        router = own_router(request, router_id)
        cloud.connection(request).network.update_router(router.id, external_gateway_info={})
        return "Gateway of router %s cleared." % (router.name or router.id)

    return ui_forms.act(request, apply, url("index"))


def delete(request: Any, router_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)

    def apply() -> str:
        router = own_router(request, router_id)
        cloud.connection(request).network.delete_router(router.id, ignore_missing=False)
        return "Router %s deleted." % (router.name or router.id)

    return ui_forms.act(request, apply, url("index"))
