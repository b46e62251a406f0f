"""Roles: list, create, delete (the built-in roles are refused before any
API call) and the role assignments page."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from dashboard.panels.admin.projects import keystone
from dashboard.panels.admin.projects.forms import choices, set_choices
from dashboard.panels.admin.users.views import assignments_table
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables

BUILT_IN = frozenset({"admin", "member", "reader"})


def _url(name: str, *args: str) -> str:
    return reverse("admin-roles:" + name, args=list(args))


class CreateForm(forms.Form):
    name = forms.RegexField(regex=r"^[A-Za-z0-9_.\-]+$", max_length=255,
                            help_text="Letters, digits, '_', '-' and '.'.")

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"])
        if name.lower() in BUILT_IN:
            raise forms.ValidationError("%s is a built-in role: it exists already." % name)
        return name


class FilterForm(forms.Form):
    project = forms.ChoiceField(required=False)
    user = forms.ChoiceField(required=False)

    def __init__(self, data: Any, projects: list[tuple[str, str]],
                 users: list[tuple[str, str]]) -> None:
        super().__init__(data)
        set_choices(self, "project", [("", "All projects")] + projects)
        set_choices(self, "user", [("", "All users")] + users)


def index(request: Any) -> HttpResponse:
    ks = keystone.v3(request)
    domains = {d.id: d.name for d in ks.domains()}
    table = tables.Table(
        name="roles", title="Roles",
        columns=[tables.Column("name", "Name"), tables.Column("id", "ID"),
                 tables.Column("domain", "Domain",
                               display=lambda r: domains.get(r.domain_id, r.domain_id))],
        rows=sorted(ks.roles(), key=lambda r: str(r.name).lower()),
        actions=[tables.Action("Delete", lambda r: _url("delete", r.id), danger=True,
                               confirm="Delete this role? Its assignments go with it.")],
        table_actions=[tables.Action("Create Role", _url("create"), "get"),
                       tables.Action("Role Assignments", _url("assignments"), "get")],
        empty="No roles.")
    return tables.page(request, "Roles", table)


def create(request: Any) -> HttpResponse:
    def apply(data: dict[str, Any]) -> str:
        role = keystone.v3(request).create_role(name=data["name"])
        return "Role %s created." % role.name

    return ui_forms.form_page(request, CreateForm(request.POST or None), apply, _url("index"),
                              "Create Role", "Create Role")


def delete(request: Any, role_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    ks = keystone.v3(request)
    role = ks.get_role(role_id)
    if str(role.name).lower() in BUILT_IN:
        messages.error(request, "%s is a built-in role: it cannot be deleted." % role.name)
        return HttpResponseRedirect(_url("index"))

    def apply() -> str:
        ks.delete_role(role_id, ignore_missing=False)
        return "Role %s deleted." % role.name

    return ui_forms.act(request, apply, _url("index"))


def assignments(request: Any) -> HttpResponse:
    ks = keystone.v3(request)
    form = FilterForm(request.GET or None, choices(ks.projects()),
                      choices(ks.users()))
    query: dict[str, Any] = {"include_names": True}
    if form.is_bound and form.is_valid():
        if form.cleaned_data["project"]:
            query["scope_project_id"] = form.cleaned_data["project"]
        if form.cleaned_data["user"]:
            query["user_id"] = form.cleaned_data["user"]
    table = assignments_table(ks.role_assignments(**query))
    return render(request, "admin/roles/assignments.html",
                  {"title": "Role Assignments", "form": form, "table": table.context()},
                  status=400 if form.errors else 200)
