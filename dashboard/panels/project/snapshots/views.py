"""Volume snapshots: table (rows refresh while one changes), detail, edit, delete."""
from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlencode

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard.panels.project.volumes import common
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables

NS = "project-snapshots"


class EditForm(forms.Form):
    name = forms.CharField(max_length=255)
    description = forms.CharField(max_length=255, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))


def _url(name: str) -> Callable[[Any], str]:
    return lambda s: reverse("%s:%s" % (NS, name), args=[s.id])


def actions() -> list[tables.Action]:
    return [
        tables.Action("Create Volume", lambda s: reverse("project-volumes:create") + "?"
                      + urlencode({"snapshot": s.id}), "get", common.status_in(("available",))),
        tables.Action("Edit", _url("edit"), "get",
                      lambda s: s.status not in ("deleting", "error_deleting")),
        tables.Action("Delete", _url("delete"), allowed=common.status_in(
            common.SNAPSHOT_DELETABLE), danger=True, confirm="Delete this snapshot?"),
    ]


def table(rows: list[Any], volumes: dict[str, Any]) -> tables.Table:
    return tables.Table(
        name="snapshots", title="Volume Snapshots",
        columns=[
            tables.Column("name", "Name", link=_url("detail"), display=lambda s: s.name or s.id),
            tables.Column("description", "Description"),
            tables.Column("size", "Size", display=lambda s: common.size_gib(s.size)),
            tables.Column("status", "Status", status=True),
            common.volume_column(volumes),
        ],
        rows=rows, actions=actions(), row_url=_url("row"), changing=common.changing,
        empty="No volume snapshots: make one from a volume's Create Snapshot.")


def index(request: Any) -> HttpResponse:
    snapshots = list(common.cinder(request).snapshots())
    return tables.page(request, "Volume Snapshots", table(snapshots, common.volumes_by_id(request)))


def row(request: Any, snapshot_id: str) -> HttpResponse:
    snap = common.get_snapshot(request, snapshot_id)
    return tables.row_response(request, table([snap], common.volumes_by_id(request)), snap)


def detail(request: Any, snapshot_id: str) -> HttpResponse:
    snap = common.get_snapshot(request, snapshot_id)
    volume = None
    if snap.volume_id:
        volume = common.volumes_by_id(request).get(snap.volume_id)
    return render(request, "project/snapshots/detail.html", {
        "title": snap.name or snap.id, "snapshot": snap, "volume": volume,
        "metadata": dict(sorted((snap.metadata or {}).items())),
        "actions": tables.links(actions(), snap)})


def edit(request: Any, snapshot_id: str) -> HttpResponse:
    snap = common.get_snapshot(request, snapshot_id)
    form = EditForm(request.POST or None,
                    initial={"name": snap.name, "description": snap.description})

    def apply(data: dict[str, Any]) -> str:
        common.cinder(request).update_snapshot(
            snap, name=data["name"], description=data["description"])
        return "Snapshot %s updated." % data["name"]

    return ui_forms.form_page(request, form, apply, reverse(NS + ":index"),
                              "Edit Snapshot %s" % (snap.name or snap.id), "Save")


@require_POST
def delete(request: Any, snapshot_id: str) -> HttpResponse:
    def apply() -> str:
        snap = common.get_snapshot(request, snapshot_id)
        common.cinder(request).delete_snapshot(snap, ignore_missing=False)
        return "Deleting snapshot %s." % (snap.name or snap.id)

    return ui_forms.act(request, apply, reverse(NS + ":index"))
