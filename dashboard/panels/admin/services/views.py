"""System Information: compute services (enable/disable nova-compute), network
agents and volume services, each shown when its service is in the catalog; a
failing API shows its message in place of its table."""
from __future__ import annotations

from typing import Any, Callable

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from dashboard import cloud, errors
from dashboard.ui import format as fmt
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables

TOGGLEABLE = ("nova-compute",)


class DisableForm(forms.Form):
    reason = forms.CharField(max_length=255, required=False,
                             widget=forms.TextInput(attrs={"size": 60}),
                             help_text="Why the service is disabled (kept by the compute "
                                       "service, shown here).")


def _up_down(value: Any) -> str:
    return "up" if value else "down"


def _service_url(view: str, svc: Any) -> str:
    return reverse("admin-services:" + view, args=[svc.host, svc.binary])


def _compute(conn: Any) -> tables.Table:
    return tables.Table(
        name="compute_services", title="Compute Services",
        columns=[tables.Column("binary", "Binary"), tables.Column("host", "Host"),
                 tables.Column("availability_zone", "Zone"),
                 tables.Column("status", "Status", status=True),
                 tables.Column("state", "State", status=True),
                 tables.Column("updated_at", "Updated", display=lambda s: fmt.when(s.updated_at)),
                 tables.Column("disabled_reason", "Disabled Reason")],
        rows=list(conn.compute.services()),
        row_id=lambda s: "compute-%s-%s" % (s.host, s.binary), changing=lambda s: False,
        actions=[tables.Action("Disable", lambda s: _service_url("disable", s), "get",
                               allowed=lambda s: s.binary in TOGGLEABLE
                               and s.status == "enabled"),
                 tables.Action("Enable", lambda s: _service_url("enable", s),
                               allowed=lambda s: s.binary in TOGGLEABLE
                               and s.status == "disabled")],
        empty="No compute services.")


def _network(conn: Any) -> tables.Table:
    return tables.Table(
        name="network_agents", title="Network Agents",
        columns=[tables.Column("agent_type", "Type"), tables.Column("binary", "Binary"),
                 tables.Column("host", "Host"),
                 tables.Column("availability_zone", "Zone"),
                 tables.Column("is_alive", "Alive", status=True,
                               display=lambda a: _up_down(a.is_alive)),
                 tables.Column("is_admin_state_up", "Admin State", status=True,
                               display=lambda a: "UP" if a.is_admin_state_up else "DOWN"),
                 tables.Column("last_heartbeat_at", "Last Heartbeat",
                               display=lambda a: fmt.when(a.last_heartbeat_at))],
        rows=list(conn.network.agents()), changing=lambda a: False,
        empty="No network agents.")


def _volume(conn: Any) -> tables.Table:
    return tables.Table(
        name="volume_services", title="Block Storage Services",
        columns=[tables.Column("binary", "Binary"), tables.Column("host", "Host"),
                 tables.Column("availability_zone", "Zone"),
                 tables.Column("status", "Status", status=True),
                 tables.Column("state", "State", status=True),
                 tables.Column("updated_at", "Updated", display=lambda s: fmt.when(s.updated_at))],
        rows=list(conn.block_storage.services()),
        row_id=lambda s: "volume-%s-%s" % (s.host, s.binary), changing=lambda s: False,
        empty="No block storage services.")


_SECTIONS: list[tuple[str, str, str, Callable[[Any], tables.Table]]] = [
    ("compute", "compute_services", "Compute Services", _compute),
    ("network", "network_agents", "Network Agents", _network),
    ("block-storage", "volume_services", "Block Storage Services", _volume)]


def index(request: Any) -> HttpResponse:
    user = request.stratus_user
    conn = cloud.connection(request)
    sections = []
    for service, name, title, build in _SECTIONS:
        if service not in user.services:
            continue
        try:
            sections.append({"name": name, "title": title, "table": build(conn).context()})
        except errors.API_ERRORS as err:
            sections.append({"name": name, "title": title, "error": errors.message(err)})
    return render(request, "admin/services/index.html",
                  {"title": "System Information", "sections": sections})


def disable(request: Any, host: str, binary: str) -> HttpResponse:
    def apply(data: dict[str, Any]) -> str:
        cloud.connection(request).compute.disable_service(
            None, host=host, binary=binary, disabled_reason=data["reason"] or None)
        return "Service %s on %s disabled." % (binary, host)

    return ui_forms.form_page(request, DisableForm(request.POST or None), apply,
                              reverse("admin-services:index"),
                              "Disable %s on %s" % (binary, host), "Disable Service")


def enable(request: Any, host: str, binary: str) -> HttpResponse:
    def apply() -> str:
        cloud.connection(request).compute.enable_service(None, host=host, binary=binary)
        return "Service %s on %s enabled." % (binary, host)

    if request.method != "POST":
        return HttpResponse(status=405)
    return ui_forms.act(request, apply, reverse("admin-services:index"))
