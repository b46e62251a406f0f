"""Security groups: list, create, edit, delete, and the detail page with the
group's rules (add, delete)."""
from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from dashboard import cloud
from dashboard.panels.project.networks import common
from dashboard.panels.project.security_groups import rules
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables

DEFAULT = "default"


def _url(name: str, *args: str) -> str:
    return reverse("project-security_groups:" + name, args=list(args))


class GroupForm(forms.Form):
    name = forms.CharField(max_length=255)
    description = forms.CharField(required=False, max_length=255,
                                  widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, data: Any = None, initial: dict[str, Any] | None = None,
                 is_default: bool = False) -> None:
        super().__init__(data, initial=initial)
        self.is_default = is_default
        if is_default:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "The default group keeps its name."

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if name == DEFAULT and not self.is_default:
            raise forms.ValidationError('"default" is the name of the project\'s own '
                                        "default group: choose another.")
        return name


def _groups(request: Any, conn: Any) -> list[Any]:
    pid = request.stratus_user.project_id
    return sorted((g for g in conn.network.security_groups(project_id=pid)
                   if common.owned(g, request)), key=lambda g: (g.name != DEFAULT, g.name))


def _own_group(request: Any, group_id: str) -> Any:
    group = cloud.connection(request).network.get_security_group(group_id)
    return common.require_owned(group, request)


def index(request: Any) -> HttpResponse:
    groups = _groups(request, cloud.connection(request))
    table = tables.Table(
        name="security_groups", title="Security Groups",
        columns=[tables.Column("name", "Name", link=lambda g: _url("detail", g.id)),
                 tables.Column("description", "Description"),
                 tables.Column("rules", "Rules",
                               display=lambda g: len(g.security_group_rules or []))],
        rows=groups,
        actions=[tables.Action("Manage Rules", lambda g: _url("detail", g.id), "get"),
                 tables.Action("Edit", lambda g: _url("edit", g.id), "get"),
                 tables.Action("Delete", lambda g: _url("delete", g.id), danger=True,
                               allowed=lambda g: g.name != DEFAULT,
                               confirm="Delete this security group?")],
        table_actions=[tables.Action("Create Security Group", _url("create"), "get")],
        empty="No security groups.")
    return tables.page(request, "Security Groups", table)


def create(request: Any) -> HttpResponse:
    created: dict[str, str] = {}

    def apply(data: dict[str, Any]) -> str:
        group = cloud.connection(request).network.create_security_group(
            name=data["name"], description=data["description"])
        created["id"] = group.id
        return "Security group %s created: add its rules." % group.name

    return ui_forms.form_page(request, GroupForm(request.POST or None), apply,
                              lambda: _url("detail", created["id"]), "Create Security Group",
                              "Create Security Group", cancel_url=_url("index"))


def edit(request: Any, group_id: str) -> HttpResponse:
    group = _own_group(request, group_id)
    is_default = group.name == DEFAULT

    def apply(data: dict[str, Any]) -> str:
        attrs = {"description": data["description"]}
        if not is_default:
            attrs["name"] = data["name"]
        cloud.connection(request).network.update_security_group(group.id, **attrs)
        return "Security group %s updated." % data["name"]

    form = GroupForm(request.POST or None, initial={"name": group.name,
                                                    "description": group.description},
                     is_default=is_default)
    return ui_forms.form_page(request, form, apply, _url("index"),
                              "Edit Security Group %s" % group.name, "Save")


def delete(request: Any, group_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)

    def apply() -> str:
        group = _own_group(request, group_id)
        if group.name == DEFAULT:
            raise Http404("The default group cannot be deleted.")
        cloud.connection(request).network.delete_security_group(group.id, ignore_missing=False)
        return "Security group %s deleted." % group.name

    return ui_forms.act(request, apply, _url("index"))


def detail(request: Any, group_id: str) -> HttpResponse:
    group = _own_group(request, group_id)
    names = {g.id: g.name for g in _groups(request, cloud.connection(request))}
    rows = sorted(group.security_group_rules or [],
                  key=lambda r: (r.get("direction") != "ingress", r.get("ethertype") or "",
                                 str(r.get("protocol") or ""), r.get("port_range_min") or 0))
    table = tables.Table(
        name="rules", title="Rules",
        columns=[tables.Column("direction", "Direction",
                               display=lambda r: str(r.get("direction", "")).capitalize()),
                 tables.Column("ethertype", "Ether type"),
                 tables.Column("protocol", "IP protocol",
                               display=lambda r: str(r["protocol"]).upper() if r.get("protocol")
                               else "Any"),
                 tables.Column("port_range", "Port range", display=rules.port_range),
                 tables.Column("remote", "Remote", display=lambda r: rules.remote(r, names)),
                 tables.Column("description", "Description")],
        rows=rows,
        actions=[tables.Action("Delete Rule", lambda r: _url("rule-delete", group.id, r["id"]),
                               danger=True, confirm="Delete this rule?")],
        table_actions=[tables.Action("Add Rule", _url("rule-add", group.id), "get")],
        empty="No rules: nothing is allowed in or out.")
    return render(request, "project/security_groups/detail.html",
                  {"title": group.name, "group": group, "rules": table.context()})


def rule_add(request: Any, group_id: str) -> HttpResponse:
    group = _own_group(request, group_id)
    conn = cloud.connection(request)

    def apply(data: dict[str, Any]) -> str:
        conn.network.create_security_group_rule(security_group_id=group.id, **data["body"])
        return "Rule added to %s." % group.name

    form = rules.RuleForm(request.POST or None, _groups(request, conn))
    return ui_forms.form_page(request, form, apply, _url("detail", group.id),
                              "Add Rule to %s" % group.name, "Add Rule",
                              template="project/security_groups/rule_form.html")


def rule_delete(request: Any, group_id: str, rule_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)

    def apply() -> str:
        group = _own_group(request, group_id)
        if not any(r.get("id") == rule_id for r in group.security_group_rules or []):
            raise Http404("No such rule in this group.")
        cloud.connection(request).network.delete_security_group_rule(rule_id,
                                                                     ignore_missing=False)
        return "Rule deleted from %s." % group.name

    return ui_forms.act(request, apply, _url("detail", group_id))
