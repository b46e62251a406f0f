"""Users: list, detail (with role assignments), enable/disable and delete
(never the logged-in user)."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from dashboard.panels.admin.projects import keystone
from dashboard.panels.admin.projects.views import enabled_text
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables


def url(name: str, *args: str) -> str:
    return reverse("admin-users:" + name, args=list(args))


def _table(request: Any) -> tables.Table:
    ks = keystone.v3(request)
    me = request.stratus_user.user_id
    domains = {d.id: d.name for d in ks.domains()}
    projects = {p.id: p.name for p in ks.projects()}
    rows = sorted(ks.users(), key=lambda u: str(u.name).lower())

    def project_link(user: Any) -> str | None:
        if user.default_project_id in projects:
            return reverse("admin-projects:detail", args=[user.default_project_id])
        return None

    return tables.Table(
        name="users", title="Users",
        columns=[tables.Column("name", "Name", link=lambda u: url("detail", u.id)),
                 tables.Column("email", "Email"),
                 tables.Column("domain", "Domain",
                               display=lambda u: domains.get(u.domain_id, u.domain_id)),
                 tables.Column("project", "Primary project", link=project_link,
                               display=lambda u: projects.get(u.default_project_id,
                                                              u.default_project_id)),
                 tables.Column("enabled", "Enabled", display=enabled_text, status=True)],
        rows=rows,
        actions=[tables.Action("Edit", lambda u: url("edit", u.id), "get"),
                 tables.Action("Change Password", lambda u: url("password", u.id), "get"),
                 tables.Action("Disable", lambda u: url("disable", u.id),
                               allowed=lambda u: bool(u.is_enabled) and u.id != me),
                 tables.Action("Enable", lambda u: url("enable", u.id),
                               allowed=lambda u: not u.is_enabled and u.id != me),
                 tables.Action("Delete", lambda u: url("delete", u.id), danger=True,
                               allowed=lambda u: u.id != me, confirm="Delete this user?")],
        table_actions=[tables.Action("Create User", url("create"), "get")],
        empty="No users.")


def index(request: Any) -> HttpResponse:
    return tables.page(request, "Users", _table(request))


def scope_name(assignment: Any) -> str:
    scope = assignment.scope or {}
    if "project" in scope:
        return "project %s" % (scope["project"].get("name") or scope["project"].get("id"))
    if "domain" in scope:
        return "domain %s" % (scope["domain"].get("name") or scope["domain"].get("id"))
    if "system" in scope:
        return "system"
    return "-"


def assignments_table(assignments: Any, name: str = "role_assignments",
                      title: str = "Role Assignments") -> tables.Table:
    """Role assignments (listed with include_names) as a table: who, where, what."""
    def who(a: Any) -> str:
        if a.user:
            return str(a.user.get("name") or a.user.get("id"))
        return "group %s" % ((a.group or {}).get("name") or (a.group or {}).get("id"))

    def key(a: Any) -> str:
        return "-".join(str((part or {}).get("id", "")) for part in (
            a.user or a.group, (a.scope or {}).get("project") or (a.scope or {}).get("domain"),
            a.role))

    def who_link(a: Any) -> str | None:
        return url("detail", a.user["id"]) if a.user and a.user.get("id") else None

    def where_link(a: Any) -> str | None:
        project = (a.scope or {}).get("project")
        return reverse("admin-projects:detail", args=[project["id"]]) if project else None

    rows = sorted(assignments, key=lambda a: (who(a).lower(), scope_name(a)))
    return tables.Table(
        name=name, title=title,
        columns=[tables.Column("who", "User or group", display=who, link=who_link),
                 tables.Column("scope", "Project or domain", display=scope_name,
                               link=where_link),
                 tables.Column("role", "Role",
                               display=lambda a: (a.role or {}).get("name")
                               or (a.role or {}).get("id"))],
        rows=rows, row_id=key, empty="No role assignments.")


def detail(request: Any, user_id: str) -> HttpResponse:
    ks = keystone.v3(request)
    user = ks.get_user(user_id)
    names = {d.id: d.name for d in ks.domains()}
    project = None
    if user.default_project_id:
        project = next((p for p in ks.projects() if p.id == user.default_project_id),
                       None)
    table = assignments_table(ks.role_assignments(user_id=user_id, include_names=True))
    return render(request, "admin/users/detail.html",
                  {"title": user.name, "user": user, "table": table.context(),
                   "domain_name": names.get(user.domain_id, user.domain_id),
                   "project": project, "enabled": enabled_text(user),
                   "is_self": user.id == request.stratus_user.user_id})


def _refuse_self(request: Any, user_id: str, what: str) -> HttpResponse | None:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if user_id == request.stratus_user.user_id:
        messages.error(request, "You cannot %s yourself." % what)
        return HttpResponseRedirect(url("index"))
    return None


def _set_enabled(request: Any, user_id: str, enabled: bool) -> HttpResponse:
    refused = _refuse_self(request, user_id, "enable" if enabled else "disable")
    if refused is not None:
        return refused

    def apply() -> str:
        user = keystone.v3(request).update_user(user_id, is_enabled=enabled)
        return "User %s %s." % (user.name, "enabled" if enabled else "disabled")

    return ui_forms.act(request, apply, url("index"))


def enable(request: Any, user_id: str) -> HttpResponse:
    return _set_enabled(request, user_id, True)


def disable(request: Any, user_id: str) -> HttpResponse:
    return _set_enabled(request, user_id, False)


def delete(request: Any, user_id: str) -> HttpResponse:
    refused = _refuse_self(request, user_id, "delete")
    if refused is not None:
        return refused

    def apply() -> str:
        keystone.v3(request).delete_user(user_id, ignore_missing=False)
        return "User deleted."

    return ui_forms.act(request, apply, url("index"))
