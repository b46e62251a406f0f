"""Containers: list (with their public flag), create, make public or private, delete."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from dashboard import cloud, errors
from dashboard.panels.project.containers import forms as c_forms
from dashboard.panels.project.containers import swift
from dashboard.ui import format as fmt
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables

PAGE = 100


def browse_url(container: str, prefix: str = "") -> str:
    url = reverse("project-containers:browse", args=[container])
    return url + ("?" + urlencode({"prefix": prefix}) if prefix else "")


def _url(name: str, container: str) -> str:
    return reverse("project-containers:" + name, args=[container])


def index(request: Any) -> HttpResponse:
    marker = request.GET.get("marker", "")
    rows = swift.containers(cloud.connection(request), PAGE, marker)
    table = tables.Table(
        name="containers", title="Containers",
        columns=[tables.Column("name", "Name", link=lambda c: browse_url(c.name)),
                 tables.Column("count", "Objects"),
                 tables.Column("bytes", "Size", display=lambda c: fmt.size(c.bytes)),
                 tables.Column("public", "Public", status=True,
                               display=lambda c: "public" if c.public else "private")],
        rows=rows, row_id=lambda c: c.name,
        actions=[tables.Action("Make Public", lambda c: _url("make_public", c.name),
                               allowed=lambda c: not c.public,
                               confirm="Anyone will be able to read and list this container. "
                                       "Continue?"),
                 tables.Action("Make Private", lambda c: _url("make_private", c.name),
                               allowed=lambda c: c.public),
                 tables.Action("Delete", lambda c: _url("delete", c.name), danger=True,
                               confirm="Delete this container? It must be empty.")],
        table_actions=[tables.Action("Create Container",
                                     reverse("project-containers:create"), "get")],
        empty="No containers: create one to store objects.")
    more = ""
    if len(rows) == PAGE:
        more = reverse("project-containers:index") + "?" + urlencode({"marker": rows[-1].name})
    return render(request, "project/containers/index.html",
                  {"title": "Containers", "table": table.context(), "more_url": more})


def create(request: Any) -> HttpResponse:
    def apply(data: dict[str, Any]) -> str:
        swift.create_container(cloud.connection(request), data["name"], data["public"])
        return "Container %s created%s." % (data["name"], " (public)" if data["public"] else "")

    return ui_forms.form_page(request, c_forms.CreateContainerForm(request.POST or None), apply,
                              reverse("project-containers:index"), "Create Container",
                              "Create Container")


def _post_only(request: Any) -> HttpResponse | None:
    return None if request.method == "POST" else HttpResponse(status=405)


def make_public(request: Any, container: str) -> HttpResponse:
    def apply() -> str:
        swift.set_public(cloud.connection(request), container, True)
        return "Container %s is public: anyone can read its objects." % container

    return _post_only(request) or ui_forms.act(request, apply, reverse("project-containers:index"))


def make_private(request: Any, container: str) -> HttpResponse:
    def apply() -> str:
        swift.set_public(cloud.connection(request), container, False)
        return "Container %s is private." % container

    return _post_only(request) or ui_forms.act(request, apply, reverse("project-containers:index"))


def delete(request: Any, container: str) -> HttpResponse:
    def apply() -> str:
        try:
            swift.delete_container(cloud.connection(request), container)
        except errors.API_ERRORS as err:
            if errors.status(err) == 409:
                raise swift.NotEmpty("Container %s is not empty: delete its objects and folders "
                               "first." % container) from err
            raise
        return "Container %s deleted." % container

    return _post_only(request) or ui_forms.act(request, apply, reverse("project-containers:index"))
