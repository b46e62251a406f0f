"""A flavor's extra specs (list, set, remove) and, for private flavors, the
projects that may use it."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.urls import reverse

from dashboard import cloud
from dashboard.panels.admin.flavors import forms as f_forms
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables


def extra_specs(request: Any, flavor_id: str) -> HttpResponse:
    conn = cloud.connection(request)
    flavor = conn.compute.fetch_flavor_extra_specs(conn.compute.get_flavor(flavor_id))
    specs = sorted((flavor.extra_specs or {}).items())
    here = reverse("admin-flavors:extra_specs", args=[flavor_id])
    remove = reverse("admin-flavors:extra_spec_delete", args=[flavor_id])
    table = tables.Table(
        name="extra_specs", title="Extra Specs",
        columns=[tables.Column("key", "Key"), tables.Column("value", "Value")],
        rows=[{"key": k, "value": v} for k, v in specs], row_id=lambda r: r["key"],
        changing=lambda r: False,
        actions=[tables.Action("Delete", lambda r: remove + "?" + urlencode({"key": r["key"]}),
                               danger=True, confirm="Remove this extra spec?")],
        empty="This flavor has no extra specs.")

    def apply(data: dict[str, Any]) -> str:
        conn.compute.create_flavor_extra_specs(flavor_id, {data["key"]: data["value"]})
        return "Extra spec %s set on flavor %s." % (data["key"], flavor.name)

    return ui_forms.form_page(
        request, f_forms.ExtraSpecForm(request.POST or None), apply, here,
        "Extra Specs of Flavor %s" % flavor.name, "Set Extra Spec",
        template="admin/flavors/extras.html", cancel_url=reverse("admin-flavors:index"),
        extra={"table": table.context(), "flavor": flavor})


def extra_spec_delete(request: Any, flavor_id: str) -> HttpResponse:
    key = request.GET.get("key", "")
    if not key:
        raise Http404("no extra spec named")

    def apply() -> str:
        cloud.connection(request).compute.delete_flavor_extra_specs_property(
            flavor_id, key, ignore_missing=False)
        return "Extra spec %s removed." % key

    if request.method != "POST":
        return HttpResponse(status=405)
    return ui_forms.act(request, apply, reverse("admin-flavors:extra_specs", args=[flavor_id]))


def access(request: Any, flavor_id: str) -> HttpResponse:
    conn: Any = cloud.connection(request)
    flavor = conn.compute.get_flavor(flavor_id)
    here = reverse("admin-flavors:access", args=[flavor_id])
    projects = {p.id: p.name for p in conn.identity.projects()}
    granted = ([] if flavor.is_public
               else [a["tenant_id"] for a in conn.compute.get_flavor_access(flavor_id)])
    remove = reverse("admin-flavors:access_remove", args=[flavor_id])
    table = tables.Table(
        name="flavor_access", title="Projects with Access",
        columns=[tables.Column("name", "Project"), tables.Column("id", "Project ID")],
        rows=[{"id": pid, "name": projects.get(pid, pid)} for pid in granted],
        changing=lambda r: False,
        actions=[tables.Action("Remove", lambda r: remove + "?" + urlencode({"project": r["id"]}),
                               danger=True, confirm="Take this project's access away?")],
        empty=("This flavor is public: every project can use it." if flavor.is_public
               else "No project may use this private flavor yet."))
    choices = sorted(((pid, name) for pid, name in projects.items() if pid not in granted),
                     key=lambda c: c[1].lower())
    form = f_forms.AccessForm(request.POST or None, choices=choices)

    def apply(data: dict[str, Any]) -> str:
        conn.compute.flavor_add_tenant_access(flavor_id, data["project"])
        return "Project %s may now use flavor %s." % (projects[data["project"]], flavor.name)

    return ui_forms.form_page(
        request, form, apply, here, "Access to Flavor %s" % flavor.name, "Add Project",
        template="admin/flavors/extras.html", cancel_url=reverse("admin-flavors:index"),
        extra={"table": table.context(), "flavor": flavor, "hide_form": flavor.is_public})


def access_remove(request: Any, flavor_id: str) -> HttpResponse:
    project = request.GET.get("project", "")
    if not project:
        raise Http404("no project named")

    def apply() -> str:
        cloud.connection(request).compute.flavor_remove_tenant_access(flavor_id, project)
        return "Project %s may no longer use the flavor." % project

    if request.method != "POST":
        return HttpResponse(status=405)
    return ui_forms.act(request, apply, reverse("admin-flavors:access", args=[flavor_id]))
