"""All projects' volumes and volume snapshots, with delete and reset-status."""
from __future__ import annotations

from typing import Any, Callable

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard import errors
from dashboard.panels.project.volumes import common
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables

NS = "admin-volumes"
ATTACH_STATUSES = (("", "Leave as it is"), ("attached", "attached"), ("detached", "detached"))


class ResetStatusForm(forms.Form):
    status = forms.ChoiceField(choices=[(s, s) for s in common.RESET_STATUSES])
    attach_status = forms.ChoiceField(label="Attach status", choices=ATTACH_STATUSES,
                                      required=False)


def _url(name: str) -> Callable[[Any], str]:
    return lambda item: reverse("%s:%s" % (NS, name), args=[item.id])


def _project_names(request: Any) -> dict[str, str]:
    try:
        return {p.id: p.name for p in common.keystone(request).projects()}
    except errors.API_ERRORS:
        return {}


def volume_table(rows: list[Any], projects: dict[str, str],
                 servers: dict[str, str]) -> tables.Table:
    return tables.Table(
        name="volumes", title="Volumes",
        columns=[
            tables.Column("project", "Project",
                          display=lambda v: projects.get(v.project_id) or v.project_id),
            tables.Column("host", "Host"),
            tables.Column("name", "Name", display=lambda v: v.name or v.id),
            tables.Column("size", "Size", display=lambda v: common.size_gib(v.size)),
            tables.Column("status", "Status", status=True),
            tables.Column("volume_type", "Type"),
            tables.Column("attached_to", "Attached to",
                          display=lambda v: common.attached_to(v, servers)),
        ],
        rows=rows,
        actions=[
            tables.Action("Reset Status", _url("reset_status"), "get"),
            tables.Action("Delete", _url("delete"), allowed=common.status_in(
                common.DELETABLE, lambda v: not common.attached(v)), danger=True,
                confirm="Delete this volume of another project? Its data is gone for good."),
        ],
        row_url=_url("row"), changing=common.changing, empty="No volumes in any project.")


def snapshot_table(rows: list[Any], projects: dict[str, str],
                   volumes: dict[str, Any]) -> tables.Table:
    def volume_name(snap: Any) -> str:
        vol = volumes.get(snap.volume_id)
        return str(vol.name or vol.id) if vol is not None else str(snap.volume_id or "")

    return tables.Table(
        name="snapshots", title="Volume Snapshots",
        columns=[
            tables.Column("project", "Project",
                          display=lambda s: projects.get(s.project_id) or s.project_id),
            tables.Column("name", "Name", display=lambda s: s.name or s.id),
            tables.Column("size", "Size", display=lambda s: common.size_gib(s.size)),
            tables.Column("status", "Status", status=True),
            tables.Column("volume", "Volume", display=volume_name),
        ],
        rows=rows,
        actions=[tables.Action("Delete", _url("snapshot_delete"), allowed=common.status_in(
            common.SNAPSHOT_DELETABLE), danger=True, confirm="Delete this snapshot?")],
        row_url=_url("snapshot_row"), changing=common.changing,
        empty="No volume snapshots in any project.")


def index(request: Any) -> HttpResponse:
    storage = common.cinder(request)
    volumes = list(storage.volumes(all_projects=True))
    snapshots = list(storage.snapshots(all_projects=True))
    projects = _project_names(request)
    servers = common.server_names(request, volumes, all_projects=True)
    return render(request, "admin/volumes/index.html", {
        "title": "All Volumes", "table": volume_table(volumes, projects, servers).context(),
        "snapshots": snapshot_table(snapshots, projects,
                                    {v.id: v for v in volumes}).context()})


def row(request: Any, volume_id: str) -> HttpResponse:
    volume = common.cinder(request).get_volume(volume_id)
    servers = common.server_names(request, [volume], all_projects=True)
    tbl = volume_table([volume], _project_names(request), servers)
    return tables.row_response(request, tbl, volume)


def snapshot_row(request: Any, snapshot_id: str) -> HttpResponse:
    storage = common.cinder(request)
    snap = storage.get_snapshot(snapshot_id)
    volumes = {}
    if snap.volume_id:
        try:
            volumes = {snap.volume_id: storage.get_volume(snap.volume_id)}
        except errors.API_ERRORS:
            volumes = {}
    tbl = snapshot_table([snap], _project_names(request), volumes)
    return tables.row_response(request, tbl, snap)


def reset_status(request: Any, volume_id: str) -> HttpResponse:
    storage = common.cinder(request)
    volume = storage.get_volume(volume_id)
    form = ResetStatusForm(request.POST or None, initial={"status": volume.status})

    def apply(data: dict[str, Any]) -> str:
        storage.reset_volume_status(volume.id, status=data["status"],
                                    attach_status=data["attach_status"] or None)
        return "Status of volume %s reset to %s." % (volume.name or volume.id, data["status"])

    return ui_forms.form_page(request, form, apply, reverse(NS + ":index"),
                              "Reset Status of Volume %s" % (volume.name or volume.id),
                              "Reset Status")


@require_POST
def delete(request: Any, volume_id: str) -> HttpResponse:
    def apply() -> str:
        common.cinder(request).delete_volume(volume_id, ignore_missing=False)
        return "Deleting volume %s." % volume_id

    return ui_forms.act(request, apply, reverse(NS + ":index"))


@require_POST
def snapshot_delete(request: Any, snapshot_id: str) -> HttpResponse:
    def apply() -> str:
        common.cinder(request).delete_snapshot(snapshot_id,
                                                                ignore_missing=False)
        return "Deleting snapshot %s." % snapshot_id

    return ui_forms.act(request, apply, reverse(NS + ":index"))
