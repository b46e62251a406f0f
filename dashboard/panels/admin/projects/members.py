"""A project's members: the users with a role on it (one role-assignment call
with names), adding a user with a role, removing one of a user's roles."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse

from dashboard.panels.admin.projects import forms, keystone
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables


def _url(name: str, *args: str) -> str:
    return reverse("admin-projects:" + name, args=list(args))


def member_rows(assignments: Any) -> list[dict[str, Any]]:
    """One row per user: its id, name, domain and roles (id → name)."""
    users: dict[str, dict[str, Any]] = {}
    for item in assignments:
        user, role = item.user or {}, item.role or {}
        if not user.get("id") or not role.get("id"):
            continue          # a group's assignment: not a member row
        row = users.setdefault(user["id"], {
            "id": user["id"], "name": user.get("name") or user["id"],
            "domain": (user.get("domain") or {}).get("name", ""), "roles": {}})
        row["roles"][role["id"]] = role.get("name") or role["id"]
    return sorted(users.values(), key=lambda r: str(r["name"]).lower())


def _remove_action(project_id: str, role_id: str, role_name: str,
                   locked: str | None) -> tables.Action:
    """``locked``: the user whose roles stay (the admin, in its current project)."""
    return tables.Action("Remove %s" % role_name,
                         lambda r: _url("remove_member", project_id, r["id"], role_id),
                         danger=True, allowed=lambda r: role_id in r["roles"]
                         and r["id"] != locked,
                         confirm="Remove the role %s from this user?" % role_name)


def index(request: Any, project_id: str) -> HttpResponse:
    ks = keystone.v3(request)
    project = ks.get_project(project_id)
    rows = member_rows(ks.role_assignments(scope_project_id=project_id, include_names=True))
    me = request.stratus_user
    locked = me.user_id if project_id == me.project_id else None
    roles = sorted({(rid, name) for r in rows for rid, name in r["roles"].items()},
                   key=lambda x: x[1])
    table = tables.Table(
        name="members", title="Members of %s" % project.name,
        columns=[tables.Column("name", "User", link=lambda r: reverse(
                     "admin-users:detail", args=[r["id"]])),
                 tables.Column("domain", "Domain"),
                 tables.Column("roles", "Roles",
                               display=lambda r: ", ".join(sorted(r["roles"].values())))],
        rows=rows,
        actions=[_remove_action(project_id, rid, name, locked) for rid, name in roles],
        table_actions=[tables.Action("Add Member", _url("add_member", project_id), "get")],
        empty="Nobody has a role on this project.")
    return tables.page(request, "Manage Members of %s" % project.name, table)


def add(request: Any, project_id: str) -> HttpResponse:
    ks = keystone.v3(request)
    project = ks.get_project(project_id)
    users = forms.choices(ks.users())
    roles = forms.choices(ks.roles())
    form = forms.MemberForm(request.POST or None, users, roles)

    def apply(data: dict[str, Any]) -> str:
        ks.assign_project_role_to_user(project_id, data["user"], data["role"])
        return "%s now has the role %s on %s." % (dict(users)[data["user"]],
                                                  dict(roles)[data["role"]], project.name)

    return ui_forms.form_page(request, form, apply, _url("members", project_id),
                              "Add Member to %s" % project.name, "Add Member")


def remove(request: Any, project_id: str, user_id: str, role_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    back = _url("members", project_id)
    me = request.stratus_user
    if user_id == me.user_id and project_id == me.project_id:
        messages.error(request, "You are logged in to this project: your own roles on it "
                                "cannot be removed from here.")
        return HttpResponseRedirect(back)

    def apply() -> str:
        keystone.v3(request).unassign_project_role_from_user(
            project_id, user_id, role_id)
        return "Role removed."

    return ui_forms.act(request, apply, back)
