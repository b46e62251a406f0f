"""Hypervisors: the cloud's capacity (vCPU, RAM, local disk: used of total) and
each compute node with the instances it runs."""
from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from dashboard import cloud
from dashboard.ui import charts
from dashboard.ui import format as fmt
from dashboard.ui import tables


def _num(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _show(num: int, unit: str) -> str:
    return fmt.size(num, unit) if unit else str(num)


def summary(hypervisors: list[Any]) -> list[dict[str, Any]]:
    """Charts of the sums over all hypervisors."""
    def total(attr: str) -> int:
        return sum(_num(getattr(h, attr, 0)) for h in hypervisors)

    return [charts.chart("vCPUs", total("vcpus_used"), total("vcpus")),
            charts.chart("RAM", total("memory_used"), total("memory_size"), "MiB"),
            charts.chart("Local Disk", total("local_disk_used"), total("local_disk_size"), "GiB")]


def _used_of(used: Any, size: Any, unit: str = "") -> str:
    return "%s / %s" % (_show(_num(used), unit), _show(_num(size), unit))


def index(request: Any) -> HttpResponse:
    found = list(cloud.connection(request).compute.hypervisors(details=True))
    table = tables.Table(
        name="hypervisors", title="Hypervisors",
        columns=[
            tables.Column("name", "Host Name",
                          link=lambda h: reverse("admin-hypervisors:detail", args=[h.id])),
            tables.Column("hypervisor_type", "Type"),
            tables.Column("vcpus", "vCPUs (used / total)",
                          display=lambda h: _used_of(h.vcpus_used, h.vcpus)),
            tables.Column("memory_size", "RAM (used / total)",
                          display=lambda h: _used_of(h.memory_used, h.memory_size, "MiB")),
            tables.Column("local_disk_size", "Local Disk (used / total)",
                          display=lambda h: _used_of(h.local_disk_used, h.local_disk_size,
                                                     "GiB")),
            tables.Column("running_vms", "Instances", display=lambda h: _num(h.running_vms)),
            tables.Column("state", "State", status=True),
            tables.Column("status", "Status", status=True)],
        rows=found, empty="No hypervisors have reported to the compute service.")
    return render(request, "admin/hypervisors/index.html",
                  {"title": "Hypervisors", "charts": summary(found), "table": table.context()})


def detail(request: Any, hypervisor_id: str) -> HttpResponse:
    conn: Any = cloud.connection(request)
    hyp = conn.compute.get_hypervisor(hypervisor_id)
    host = (hyp.service_details or {}).get("host") or hyp.name
    servers = [s for s in conn.compute.servers(details=True, all_projects=True, compute_host=host)
               if not s.hypervisor_hostname or s.hypervisor_hostname == hyp.name]
    flavors = {f.id: f.name for f in conn.compute.flavors()}
    projects = {p.id: p.name for p in conn.identity.projects()}

    def flavor(server: Any) -> Any:
        flavor_id = fmt.get(server, "flavor.id")
        return (fmt.get(server, "flavor.original_name") or flavors.get(flavor_id)
                or flavor_id)

    table = tables.Table(
        name="instances", title="Instances on %s" % hyp.name,
        columns=[tables.Column("name", "Name"), tables.Column("id", "ID"),
                 tables.Column("project_id", "Project",
                               display=lambda s: projects.get(s.project_id, s.project_id)),
                 tables.Column("flavor", "Flavor", display=flavor),
                 tables.Column("status", "Status", status=True)],
        rows=servers, changing=lambda s: False, empty="No instances run on this hypervisor.")
    return render(request, "admin/hypervisors/detail.html",
                  {"title": "Hypervisor %s" % hyp.name, "hyp": hyp, "host": host,
                   "charts": summary([hyp]), "table": table.context()})
