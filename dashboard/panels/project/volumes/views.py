"""Volumes: the table (rows refresh while a volume changes), detail, delete and
detach. The forms are in :mod:`.actions`."""
from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard import cloud
from dashboard.panels.project.volumes import common, table
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables

NS = table.NS


def index(request: Any) -> HttpResponse:
    volumes = list(common.cinder(request).volumes())
    names = common.server_names(request, volumes)
    return tables.page(request, "Volumes", table.table(volumes, names))


def row(request: Any, volume_id: str) -> HttpResponse:
    volume = common.get_volume(request, volume_id)
    names = common.server_names(request, [volume])
    return tables.row_response(request, table.table([volume], names), volume)


def detail(request: Any, volume_id: str) -> HttpResponse:
    volume = common.get_volume(request, volume_id)
    storage = common.cinder(request)
    names = common.server_names(request, [volume])
    snapshots = list(storage.snapshots(volume_id=volume.id))
    attachments = [{"server_id": a.get("server_id"),
                    "server": names.get(a.get("server_id") or "") or a.get("server_id"),
                    "device": a.get("device"), "attached_at": a.get("attached_at")}
                   for a in common.attachments(volume)]
    return render(request, "project/volumes/detail.html", {
        "title": volume.name or volume.id, "volume": volume, "attachments": attachments,
        "metadata": dict(sorted((volume.metadata or {}).items())),
        "image_metadata": dict(sorted((volume.volume_image_metadata or {}).items())),
        "snapshots": snapshots,
        "actions": tables.links(table.actions(), volume)})


@require_POST
def delete(request: Any, volume_id: str) -> HttpResponse:
    def apply() -> str:
        volume = common.get_volume(request, volume_id)
        common.cinder(request).delete_volume(volume, ignore_missing=False)
        return "Deleting volume %s." % (volume.name or volume.id)

    return ui_forms.act(request, apply, reverse(NS + ":index"))


@require_POST
def detach(request: Any, volume_id: str) -> HttpResponse:
    """Detach the volume from its instance(s), through the compute API."""
    def apply() -> str:
        volume = common.get_volume(request, volume_id)
        servers = [str(a["server_id"]) for a in common.attachments(volume)
                   if a.get("server_id")]
        if not servers:
            return "Volume %s is not attached." % (volume.name or volume.id)
        compute = cloud.connection(request).compute
        for server in servers:
            compute.delete_volume_attachment(server, volume.id, ignore_missing=False)
        return "Detaching volume %s." % (volume.name or volume.id)

    return ui_forms.act(request, apply, reverse(NS + ":index"))
