"""Projects: list, create, edit, delete (never the admin's own current project)
and the detail page."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from dashboard.panels.admin.projects import forms, keystone
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables


def enabled_text(item: Any) -> str:
    return "enabled" if getattr(item, "is_enabled", True) else "disabled"


def _url(name: str, *args: str) -> str:
    return reverse("admin-projects:" + name, args=list(args))


def _table(request: Any) -> tables.Table:
    ks = keystone.v3(request)
    own = request.stratus_user.project_id
    domains = {d.id: d.name for d in ks.domains()}
    rows = sorted(ks.projects(), key=lambda p: str(p.name).lower())
    return tables.Table(
        name="projects", title="Projects",
        columns=[tables.Column("name", "Name", link=lambda p: _url("detail", p.id)),
                 tables.Column("description", "Description"),
                 tables.Column("domain", "Domain",
                               display=lambda p: domains.get(p.domain_id, p.domain_id)),
                 tables.Column("enabled", "Enabled", display=enabled_text, status=True)],
        rows=rows,
        actions=[tables.Action("Edit", lambda p: _url("edit", p.id), "get"),
                 tables.Action("Manage Members", lambda p: _url("members", p.id), "get"),
                 tables.Action("Modify Quotas", lambda p: _url("quotas", p.id), "get"),
                 tables.Action("Delete", lambda p: _url("delete", p.id), danger=True,
                               allowed=lambda p: p.id != own,
                               confirm="Delete this project? Its resources stay behind.")],
        table_actions=[tables.Action("Create Project", _url("create"), "get")],
        empty="No projects.")


def index(request: Any) -> HttpResponse:
    return tables.page(request, "Projects", _table(request))


def detail(request: Any, project_id: str) -> HttpResponse:
    ks = keystone.v3(request)
    project = ks.get_project(project_id)
    domain = ks.get_domain(project.domain_id) if project.domain_id else None
    return render(request, "admin/projects/detail.html",
                  {"title": project.name, "project": project,
                   "domain_name": domain.name if domain else "-",
                   "enabled": enabled_text(project),
                   "own": project.id == request.stratus_user.project_id})


def create(request: Any) -> HttpResponse:
    ks = keystone.v3(request)
    domains = forms.choices(ks.domains())
    default = next((i for i, n in domains if i == "default"), domains[0][0] if domains else "")
    form = forms.CreateForm(request.POST or None, domains, default)

    def apply(data: dict[str, Any]) -> str:
        project = ks.create_project(
            name=data["name"], description=data["description"], domain_id=data["domain"],
            is_enabled=data["enabled"])
        return "Project %s created." % project.name

    return ui_forms.form_page(request, form, apply, _url("index"), "Create Project",
                              "Create Project")


def edit(request: Any, project_id: str) -> HttpResponse:
    ks = keystone.v3(request)
    project = ks.get_project(project_id)
    form = forms.EditForm(request.POST or None,
                          initial={"name": project.name, "description": project.description,
                                   "enabled": bool(project.is_enabled)},
                          current=project_id == request.stratus_user.project_id)

    def apply(data: dict[str, Any]) -> str:
        ks.update_project(project_id, name=data["name"], description=data["description"],
                          is_enabled=data["enabled"])
        return "Project %s updated." % data["name"]

    return ui_forms.form_page(request, form, apply, _url("index"),
                              "Edit Project %s" % project.name)


def delete(request: Any, project_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    back = _url("index")
    if project_id == request.stratus_user.project_id:
        messages.error(request, "You are logged in to this project: it cannot be deleted "
                                "from inside it.")
        return HttpResponseRedirect(back)

    def apply() -> str:
        keystone.v3(request).delete_project(project_id, ignore_missing=False)
        return "Project deleted."

    return ui_forms.act(request, apply, back)
