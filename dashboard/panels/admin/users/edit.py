"""Users: create (with a role on the primary project), edit, change password."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse

from dashboard import errors
from dashboard.panels.admin.projects import keystone
from dashboard.panels.admin.projects.forms import choices
from dashboard.panels.admin.users import forms
from dashboard.panels.admin.users.views import url
from dashboard.ui import forms as ui_forms


def create(request: Any) -> HttpResponse:
    ks = keystone.v3(request)
    projects = choices(ks.projects())
    roles = choices(ks.roles())
    form = forms.CreateForm(request.POST or None, choices(ks.domains()),
                            projects, roles)

    def apply(data: dict[str, Any]) -> str:
        attrs: dict[str, Any] = {"name": data["name"], "password": data["password"],
                                 "domain_id": data["domain"], "is_enabled": data["enabled"]}
        if data["email"]:
            attrs["email"] = data["email"]
        if data["description"]:
            attrs["description"] = data["description"]
        if data["project"]:
            attrs["default_project_id"] = data["project"]
        user = ks.create_user(**attrs)
        if not data["project"]:
            return "User %s created." % user.name
        project, role = dict(projects)[data["project"]], dict(roles)[data["role"]]
        try:
            ks.assign_project_role_to_user(data["project"], user.id, data["role"])
        except errors.API_ERRORS as err:
            messages.warning(request, "User %s was created, but the role %s on %s was refused: "
                                      "%s" % (user.name, role, project, errors.message(err)))
            return "User %s created." % user.name
        return "User %s created, with the role %s on %s." % (user.name, role, project)

    return ui_forms.form_page(request, form, apply, url("index"), "Create User", "Create User")


def edit(request: Any, user_id: str) -> HttpResponse:
    ks = keystone.v3(request)
    user = ks.get_user(user_id)
    form = forms.EditForm(
        request.POST or None, choices(ks.projects()),
        initial={"name": user.name, "email": user.email or "",
                 "project": user.default_project_id or "",
                 "description": user.description or "", "enabled": bool(user.is_enabled)},
        is_self=user.id == request.stratus_user.user_id)

    def apply(data: dict[str, Any]) -> str:
        ks.update_user(user_id, name=data["name"], email=data["email"] or None,
                       default_project_id=data["project"] or None,
                       description=data["description"], is_enabled=data["enabled"])
        return "User %s updated." % data["name"]

    return ui_forms.form_page(request, form, apply, url("index"), "Edit User %s" % user.name)


def password(request: Any, user_id: str) -> HttpResponse:
    ks = keystone.v3(request)
    user = ks.get_user(user_id)

    def apply(data: dict[str, Any]) -> str:
        ks.update_user(user_id, password=data["password"])
        return "The password of %s was changed." % user.name

    return ui_forms.form_page(request, forms.PasswordForm(request.POST or None), apply,
                              url("index"), "Change Password of %s" % user.name,
                              "Change Password")
