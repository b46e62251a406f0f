"""Flavors: list, create, delete (extra specs and access are in :mod:`extras`)."""
from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse

from dashboard import cloud
from dashboard.panels.admin.flavors import forms as f_forms
from dashboard.ui import format as fmt
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables


def _url(view: str, flavor: Any) -> str:
    return reverse("admin-flavors:" + view, args=[flavor.id])


def index(request: Any) -> HttpResponse:
    flavors = sorted(cloud.connection(request).compute.flavors(details=True),
                     key=lambda f: (f.ram or 0, f.vcpus or 0, f.name or ""))
    table = tables.Table(
        name="flavors", title="Flavors",
        columns=[tables.Column("name", "Name"), tables.Column("id", "ID"),
                 tables.Column("vcpus", "vCPUs"),
                 tables.Column("ram", "RAM", display=lambda f: fmt.size(f.ram, "MiB")),
                 tables.Column("disk", "Root Disk", display=lambda f: fmt.size(f.disk, "GiB")),
                 tables.Column("ephemeral", "Ephemeral",
                               display=lambda f: fmt.size(f.ephemeral, "GiB")),
                 tables.Column("swap", "Swap",
                               display=lambda f: fmt.size(f.swap or 0, "MiB")),
                 tables.Column("rxtx_factor", "RX/TX Factor"),
                 tables.Column("is_public", "Public",
                               display=lambda f: "Yes" if f.is_public else "No")],
        rows=flavors, changing=lambda f: False,
        actions=[tables.Action("Extra Specs", lambda f: _url("extra_specs", f), "get"),
                 tables.Action("Access", lambda f: _url("access", f), "get",
                               allowed=lambda f: not f.is_public),
                 tables.Action("Delete", lambda f: _url("delete", f), danger=True,
                               confirm="Delete this flavor? Instances that use it keep "
                                       "running.")],
        table_actions=[tables.Action("Create Flavor", reverse("admin-flavors:create"), "get")],
        empty="No flavors: create one so that instances can be launched.")
    return tables.page(request, "Flavors", table)


def create(request: Any) -> HttpResponse:
    form = f_forms.CreateFlavorForm(request.POST or None)

    def apply(data: dict[str, Any]) -> str:
        flavor = cloud.connection(request).compute.create_flavor(**form.attrs())
        return "Flavor %s created (ID %s)." % (data["name"], flavor.id)

    return ui_forms.form_page(request, form, apply, reverse("admin-flavors:index"),
                              "Create Flavor", "Create Flavor")


def delete(request: Any, flavor_id: str) -> HttpResponse:
    def apply() -> str:
        cloud.connection(request).compute.delete_flavor(flavor_id, ignore_missing=False)
        return "Flavor %s deleted." % flavor_id

    if request.method != "POST":
        return HttpResponse(status=405)
    return ui_forms.act(request, apply, reverse("admin-flavors:index"))
